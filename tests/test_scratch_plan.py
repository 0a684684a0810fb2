"""The arena planner reserves exactly the scratch each layer's C wrapper asks for.

`edgehdc.export.arena.scratch_bytes` (the host mirror in edgehdc.export.scratch)
must equal `ehd_<op>_wrapper_s8_get_buffer_size` of the library built with
that backend: the dsp sizes are the same on every core (checked through the
host build of the dsp kernels), the cmsis_nn ones are CMSIS-NN's per core
(the host build answers for "host"; tests/test_cmsis_nn_scratch.py and the
emulator images check the DSP/MVE cores). A wrapper given less than it asks
for returns EHD_ERR_ARG: no silent fallback.
"""

import ctypes as C
from pathlib import Path

import numpy as np
import pytest

import edgehdc_bindings as fw
from edgehdc.export.arena import Layer, plan_arena, scratch_bytes
from edgehdc.quant.arith import lower
from edgehdc.quant.ir import OpKind
from edgehdc.quant.tflite_io import from_tflite
from edgehdc_bindings import kernels
from edgehdc_bindings.build import build_library
from edgehdc_bindings.structs import Context, declare

MLPERF = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf_tiny"
MODELS = ["ad01_int8", "kws_ref_model", "pretrainedResnet_quant", "vww_96_int8"]
SCRATCH_OPS = {OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.FULLY_CONNECTED, OpKind.AVERAGE_POOL_2D,
               OpKind.ADD}
_LIBS: dict[str, C.CDLL] = {}


def library(backend: str) -> C.CDLL:
    if backend not in _LIBS:
        _LIBS[backend] = declare(build_library(backend=backend))
    return _LIBS[backend]


def _zeros(graph, index, rank=4):
    shape = tuple(int(v) for v in graph.tensors[index].shape)
    return np.zeros((1,) * (rank - len(shape)) + shape if rank else shape, np.int8)


def wrapper_call(graph, op):
    """(wrapper name, its C arguments, objects to keep alive) for layer `op` on zero data."""
    kind, p = OpKind(op.kind), lower(graph, op)
    if kind in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D):
        w, b = graph.weights_and_bias(op)
        out_c = w.shape[0] if kind is OpKind.CONV_2D else w.shape[3]
        name = "ehd_convolve_wrapper_s8" if kind is OpKind.CONV_2D else "ehd_depthwise_conv_wrapper_s8"
        out, args, alive = kernels.conv_call_args(_zeros(graph, op.inputs[0]), np.ascontiguousarray(w), b, p, out_c)
    elif kind is OpKind.FULLY_CONNECTED:
        w, b = graph.weights_and_bias(op)
        x = np.zeros((int(np.prod(graph.tensors[op.inputs[0]].shape)) // w.shape[1], w.shape[1]), np.int8)
        name, (out, args, alive) = "ehd_fully_connected_wrapper_s8", kernels.fc_call_args(x, np.ascontiguousarray(w), b, p)
    elif kind is OpKind.AVERAGE_POOL_2D:
        name, (out, args, alive) = "ehd_avgpool_wrapper_s8", kernels.pool_call_args(_zeros(graph, op.inputs[0]), p)
    else:  # ADD
        a, b = (_zeros(graph, i, 0) for i in op.inputs[:2])
        name, (out, args, alive) = "ehd_add_wrapper_s8", kernels.add_call_args(a, b, p)
    return name, args, [out, *alive]


@pytest.mark.parametrize("backend", ["dsp", "cmsis_nn"])
@pytest.mark.parametrize("name", MODELS)
def test_planned_scratch_is_the_wrappers_own_need(name, backend):
    graph = from_tflite((MLPERF / f"{name}.tflite").read_bytes())
    core = "host" if backend == "cmsis_nn" else "cortex-m4"
    lib, plan = library(backend), plan_arena(graph, backend, core)
    checked = 0
    for n, op in enumerate(graph.ops):
        if OpKind(op.kind) not in SCRATCH_OPS:
            assert scratch_bytes(Layer(graph, n), backend, core) == 0
            continue
        fn, args, _alive = wrapper_call(graph, op)
        need = kernels.wrapper_buffer_size(lib, fn, args)
        assert scratch_bytes(Layer(graph, n), backend, core) == need, (n, op.kind)
        assert plan.scratch.get(n, (0, 0))[1] == (need + 3) // 4 * 4  # the arena holds it, aligned
        checked += need > 0
    # Layers that take scratch: every model on dsp; on the host's generic CMSIS-NN all but AD's FCs.
    assert checked > 0 or (name, backend) == ("ad01_int8", "cmsis_nn")


def test_dsp_needs_the_same_on_every_core():
    graph = from_tflite((MLPERF / "vww_96_int8.tflite").read_bytes())
    for n in range(len(graph.ops)):
        sizes = {scratch_bytes(Layer(graph, n), "dsp", core) for core in ("cortex-m4", "cortex-m7", "cortex-m55")}
        assert len(sizes) == 1


def test_vww_48x48_depthwise_gets_its_plane():
    graph = from_tflite((MLPERF / "vww_96_int8.tflite").read_bytes())
    plan = plan_arena(graph, "dsp", "cortex-m4")
    big = [n for n, op in enumerate(graph.ops) if op.kind is OpKind.DEPTHWISE_CONV_2D
           and tuple(graph.tensors[op.outputs[0]].shape[1:3]) == (48, 48)]
    assert big and all(plan.scratch[n][1] == 4 * 50 * 50 for n in big)  # padded 50x50 plane of 4 channels


@pytest.mark.parametrize("backend", ["dsp", "cmsis_nn"])
def test_a_layer_short_of_its_scratch_fails_with_a_status(backend):
    graph = from_tflite((MLPERF / "pretrainedResnet_quant.tflite").read_bytes())
    lib = library(backend)
    op = next(op for op in graph.ops if op.kind is OpKind.CONV_2D)
    fn, args, _alive = wrapper_call(graph, op)
    need = kernels.wrapper_buffer_size(lib, fn, args)
    assert need > 0
    buf = np.zeros(need // 4 + 1, np.uint32)
    for ctx in (Context(buf.ctypes.data, need - 4), Context(None, 0)):
        assert getattr(lib, fn)(C.byref(ctx), *args) == fw.Status.ERR_ARG
    assert getattr(lib, fn)(None, *args) == fw.Status.ERR_ARG
    kernels.with_scratch(lib, fn, need, args)  # exactly the need: EHD_OK, nothing written past it


def test_a_model_planned_for_another_backend_fails_with_a_status(tmp_path):
    # The runtime hands each layer the scratch planned for it: a dsp build of a model planned for
    # portable (no scratch) refuses the first layer that needs some, it never falls back.
    from edgehdc.export.firmware import write_firmware_sources
    from edgehdc_bindings import FirmwareModel

    graph = from_tflite((MLPERF / "ad01_int8.tflite").read_bytes())
    x = np.random.default_rng(3).integers(-128, 128, tuple(graph.tensors[graph.inputs[0]].shape)).astype(np.int8)
    outputs = {}
    for planned in ("portable", "dsp"):
        model_dir = tmp_path / planned
        write_firmware_sources(graph, None, None, model_dir, bytes(8), backend=planned)
        lib = build_library(extra_sources=[model_dir / "ehd_generated.c"], extra_include_dirs=[model_dir],
                            backend="dsp")
        if planned == "portable":
            with pytest.raises(fw.FirmwareError, match="EHD_ERR_ARG"):
                FirmwareModel(lib).run(x)
        else:
            outputs[planned] = FirmwareModel(lib).run(x)
    from edgehdc.kernels.interpreter import Interpreter

    np.testing.assert_array_equal(outputs["dsp"][0].reshape(-1), Interpreter(graph).run(x)[0].reshape(-1))
