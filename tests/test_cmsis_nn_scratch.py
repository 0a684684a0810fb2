"""edgehdc.export.scratch == CMSIS-NN's own arm_*_get_buffer_size, for every core.

The host build of CMSIS-NN holds the generic functions (what the host bindings
use) and the `_dsp` / `_mve` variants (what the Cortex-M4/M7 and the M55
builds return from the plain function); tests/test_cmsis_nn_device.py also
prints the real values from images built for each core.
"""

from pathlib import Path

import numpy as np
import pytest
from test_bindings_ops import fc_case
from test_dsp_kernels import _conv, random_conv, random_depthwise, random_pool

from edgehdc.export import scratch
from edgehdc.quant.arith import lower
from edgehdc.quant.tflite_io import from_tflite
from edgehdc_bindings import cmsis_nn as cm

MLPERF = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf_tiny"
FLAVOURS = {"host": "", "cortex-m4": "_dsp", "cortex-m7": "_dsp", "cortex-m55": "_mve"}


def conv_layers():
    layers = [random_conv(seed) for seed in range(40)]
    rng = np.random.default_rng(5)
    for shape in [dict(in_c=8, out_c=7, kh=1, kw=3, size=(1, 11)), dict(in_c=4, out_c=3, kh=1, kw=5, size=(1, 12)),
                  dict(in_c=12, out_c=3, kh=1, kw=4, size=(1, 17), stride=(1, 3)),
                  dict(in_c=4, out_c=3, kh=1, kw=5, size=(1, 12), pad=(0, 2)),
                  dict(in_c=16, out_c=8, kh=1, kw=1, size=(4, 4), pad=(0, 0)),
                  dict(in_c=16, out_c=8, kh=1, kw=1, size=(5, 5), pad=(0, 0), stride=(2, 2)),
                  dict(in_c=3, out_c=8, kh=3, kw=3, size=(9, 9))]:
        for _ in range(4):
            layers.append(_conv(rng, **shape))
    return layers


def depthwise_layers():
    layers = [random_depthwise(1000 + seed) for seed in range(30)]
    layers += [random_depthwise(2000 + seed, kernel=(3, 3), dilation=(1, 1)) for seed in range(20)]
    rng = np.random.default_rng(6)
    for c, out_c in [(1, 1), (1, 2), (1, 9), (3, 6), (16, 16)]:
        layers.append(_conv(rng, in_c=c, out_c=out_c, kh=3, kw=3, depthwise=True, size=(1, 8)))
        layers.append(_conv(rng, in_c=c, out_c=out_c, kh=1, kw=5, depthwise=True, size=(1, 9)))
    return layers


@pytest.mark.parametrize("core", FLAVOURS)
def test_conv_scratch_matches_cmsis_nn(core):
    for x, w, _, p in conv_layers():
        got = scratch.conv_bytes(x.shape, w.shape, p, core)
        assert got == cm.arm_buffer_size("conv2d", FLAVOURS[core], x_shape=x.shape, weights_shape=w.shape, p=p), \
            (x.shape, w.shape, p)


@pytest.mark.parametrize("core", FLAVOURS)
def test_depthwise_scratch_matches_cmsis_nn(core):
    for x, w, _, p in depthwise_layers():
        got = scratch.depthwise_bytes(x.shape, w.shape, p, core)
        assert got == cm.arm_buffer_size("depthwise_conv2d", FLAVOURS[core], x_shape=x.shape,
                                         weights_shape=w.shape, p=p), (x.shape, w.shape, p)


@pytest.mark.parametrize("core", FLAVOURS)
def test_fully_connected_and_pool_scratch_match_cmsis_nn(core):
    for seed in range(10):
        _, _, x, w, _ = fc_case(np.random.default_rng(seed), seed % 2 == 0)
        assert scratch.fully_connected_bytes(w.shape, core) == cm.arm_buffer_size(
            "fully_connected", FLAVOURS[core], x_shape=x.shape, weights_shape=w.shape)
        x, p = random_pool(seed)
        assert scratch.avgpool_bytes(x.shape, p, core) == cm.arm_buffer_size(
            "avg_pool2d", FLAVOURS[core], x_shape=x.shape, p=p)


def test_the_adapters_ask_for_what_the_host_function_says():
    # The host build's adapters request CMSIS-NN's generic sizes: the ones scratch.py gives for "host".
    lib = cm.library()
    for x, w, b, p in conv_layers()[:10]:
        from edgehdc_bindings.kernels import conv_call_args

        _, args, _alive = conv_call_args(x, w, b, p, w.shape[0])
        need = scratch.conv_bytes(x.shape, w.shape, p, "host")
        assert lib.ehd_convolve_s8_cmsis_nn_get_buffer_size(args[0], args[2], args[4]) == need
        # The wrapper asks for the adapter's exact need (the arena planner reserves that much).
        assert lib.ehd_convolve_wrapper_s8_get_buffer_size(args[0], args[2], args[4]) == need


@pytest.mark.parametrize("name", ["ad01_int8", "kws_ref_model", "pretrainedResnet_quant", "vww_96_int8"])
def test_mlperf_layers_ask_for_bounded_scratch_on_every_core(name):
    graph = from_tflite((MLPERF / f"{name}.tflite").read_bytes())
    for core in FLAVOURS:
        need = scratch.model_scratch_bytes(graph, "cmsis_nn", core)
        assert 0 <= need <= 6144, (core, need)  # the largest MLPerf layer (M55 depthwise) takes 4,464 B
    assert scratch.model_scratch_bytes(graph, "portable", "cortex-m4") == 0


def test_scratch_bytes_of_graph_layers_and_bad_names():
    graph = from_tflite((MLPERF / "kws_ref_model.tflite").read_bytes())
    conv = next(op for op in graph.ops if op.kind.value == "CONV_2D")
    x, (w, _) = graph.tensors[conv.inputs[0]].shape, graph.weights_and_bias(conv)
    assert scratch.scratch_bytes(graph, conv, "cmsis_nn", "cortex-m4") == \
        scratch.conv_bytes(x, w.shape, lower(graph, conv), "cortex-m4") == 2 * 40 * 2  # 10x4 kernel, 1 channel
    with pytest.raises(ValueError, match="unknown core"):
        scratch.scratch_bytes(graph, conv, "cmsis_nn", "cortex-m3")
    with pytest.raises(ValueError, match="unknown kernel backend"):
        scratch.scratch_bytes(graph, conv, "fast", "cortex-m4")
