"""Host int8 kernels and whole models: the Numba mirror vs the plain NumPy reference.

Every case runs twice, `numba` and `numpy`, in one pytest-benchmark group so
they print side by side. Inputs are one sample (batch 1), as on the device.
Each benchmark calls its function once before timing, so Numba's JIT compile
(or cache load) is warm-up, never a timed round.

QUANTIZE, DEQUANTIZE and RESHAPE have no op case (the mirror does them in
NumPy too, or as a view), nor RELU/RELU6 (no MLPerf Tiny model has them);
whole models include every op they use. Whole-model cases whose graph the
importer cannot load are skipped with the reason.

Run with `python benchmarks/run.py` (writes benchmarks/results/), or
`pytest benchmarks --benchmark-only` (`make bench`).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import numpy_reference as ref
from edgehdc import kernels
from edgehdc.kernels import elementwise, interpreter, quantize, reduce, shape, softmax
from edgehdc.quant.arith import (
    AddParams,
    ConvParams,
    FullyConnectedParams,
    MeanParams,
    PadParams,
    PoolParams,
    SoftmaxParams,
    compute_padding,
    quantize_multiplier,
)
from edgehdc.quant.ir import Padding

MLPERF_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "models" / "mlperf_tiny"
MLPERF_MODELS = {
    "resnet8": "pretrainedResnet_quant.tflite",  # image classification, CIFAR-10 32x32x3
    "dscnn_kws": "kws_ref_model.tflite",  # keyword spotting, 49x10 MFCC
    "mobilenet_vww": "vww_96_int8.tflite",  # visual wake words, 96x96x3
    "fc_autoencoder": "ad01_int8.tflite",  # anomaly detection, 640 inputs
}
# The Numba kernels by name (the modules of the ops beyond conv/FC/pooling).
NUMBA_KERNELS = SimpleNamespace(**{
    name: getattr(module, name) for module in (kernels, elementwise, quantize, reduce, shape, softmax)
    for name in dir(module) if name.endswith(("_s8", "_f32")) and not name.startswith("_")
})
# Whole models run prepared (lowered once, as TFLM's Prepare/Invoke) on both sides.
IMPLS = {"numba": SimpleNamespace(module=NUMBA_KERNELS, prepare=interpreter.Interpreter),
         "numpy": SimpleNamespace(module=ref, prepare=ref.reference_interpreter)}


# -- single ops on MLPerf-Tiny-sized shapes --------------------------------------------


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(sum(map(ord, name)))


def _requant(rng, channels: int) -> dict:
    return dict(input_offset=int(rng.integers(-20, 21)), output_offset=int(rng.integers(-20, 21)),
                multiplier=rng.integers(1 << 30, 1 << 31, channels).astype(np.int32),
                shift=rng.integers(-10, -6, channels).astype(np.int32), act_min=-128, act_max=127)


def _conv(name, hwc, out_c, k, stride=1, depthwise=False):
    """(kernel name, args) for a SAME-padded conv on a [1, H, W, C] input."""
    rng = _rng(name)
    h, w, c = hwc
    (pad_h, out_h), (pad_w, out_w) = (compute_padding(s, k, stride, 1, Padding.SAME) for s in (h, w))
    p = ConvParams(**_requant(rng, out_c), stride_h=stride, stride_w=stride, pad_h=pad_h, pad_w=pad_w,
                   dilation_h=1, dilation_w=1, depth_multiplier=out_c // c if depthwise else 1,
                   out_h=out_h, out_w=out_w)
    w_shape = (1, k, k, out_c) if depthwise else (out_c, k, k, c)
    x = rng.integers(-128, 128, (1, *hwc)).astype(np.int8)
    weights = rng.integers(-127, 128, w_shape).astype(np.int8)
    bias = rng.integers(-5000, 5000, out_c).astype(np.int32)
    return ("depthwise_conv2d_s8" if depthwise else "conv2d_s8"), (x, weights, bias, p)


def _fc(name, in_n, out_n):
    rng = _rng(name)
    q = _requant(rng, 1)
    q["multiplier"], q["shift"] = int(q["multiplier"][0]), int(q["shift"][0])
    x = rng.integers(-128, 128, (1, in_n)).astype(np.int8)
    weights = rng.integers(-127, 128, (out_n, in_n)).astype(np.int8)
    return "fully_connected_s8", (x, weights, rng.integers(-5000, 5000, out_n).astype(np.int32),
                                  FullyConnectedParams(**q))


def _pool(name, hwc, k, stride, kernel):
    rng = _rng(name)
    h, w, _ = hwc
    (pad_h, out_h), (pad_w, out_w) = (compute_padding(s, k, stride, 1, Padding.VALID) for s in (h, w))
    p = PoolParams(k, k, stride, stride, pad_h, pad_w, -128, 127, out_h, out_w)
    return kernel, (rng.integers(-128, 128, (1, *hwc)).astype(np.int8), p)


def _add(name, hwc):
    rng = _rng(name)
    s1, s2, so = 0.05, 0.08, 0.1
    (m1, sh1), (m2, sh2) = quantize_multiplier(s1 / (2 * s2)), quantize_multiplier(0.5)
    mo, sho = quantize_multiplier(2 * s2 / ((1 << 20) * so))
    p = AddParams(-3, 5, -7, 20, m1, sh1, m2, sh2, mo, sho, -128, 127)
    return "add_s8", (*(rng.integers(-128, 128, (1, *hwc)).astype(np.int8) for _ in "ab"), p)


def _softmax(name, n):
    mult, left_shift = quantize_multiplier(0.0625 * (1 << 26))
    x = _rng(name).integers(-128, 128, (1, n)).astype(np.int8)
    return "softmax_s8", (x, SoftmaxParams(mult, left_shift, -((31 << 26) >> left_shift)))


def _mean(name, hwc):
    count = hwc[0] * hwc[1]
    mult, shift = quantize_multiplier(0.7 / count)
    x = _rng(name).integers(-128, 128, (1, *hwc)).astype(np.int8)
    return "mean_hw_s8", (x, MeanParams(-5, 3, count, mult, shift))


def _pad(name, hwc):
    x = _rng(name).integers(-128, 128, (1, *hwc)).astype(np.int8)
    return "pad_s8", (x, PadParams((0, 1, 1, 0), (0, 1, 1, 0), -128))


# name -> (what the shape stands for, builder); built lazily so collection stays fast.
OPS = {
    "conv3x3": ("CONV_2D 3x3, 32x32x16 -> 16 (ResNet-8 stage 1)", lambda: _conv("conv3x3", (32, 32, 16), 16, 3)),
    "conv3x3_s2": ("CONV_2D 3x3 /2, 32x32x16 -> 32 (ResNet-8 stage 2)",
                   lambda: _conv("conv3x3_s2", (32, 32, 16), 32, 3, stride=2)),
    "conv1x1": ("CONV_2D 1x1, 24x24x32 -> 32 (MobileNetV1-0.25 VWW)",
                lambda: _conv("conv1x1", (24, 24, 32), 32, 1)),
    "depthwise3x3": ("DEPTHWISE_CONV_2D 3x3, 25x5x64 (DS-CNN)",
                     lambda: _conv("depthwise3x3", (25, 5, 64), 64, 3, depthwise=True)),
    "depthwise3x3_vww": ("DEPTHWISE_CONV_2D 3x3, 48x48x16 (MobileNetV1-0.25 VWW)",
                         lambda: _conv("depthwise3x3_vww", (48, 48, 16), 16, 3, depthwise=True)),
    "fully_connected": ("FULLY_CONNECTED 640 -> 128 (FC autoencoder)", lambda: _fc("fully_connected", 640, 128)),
    "avg_pool": ("AVERAGE_POOL_2D 8x8 global, 8x8x64 (ResNet-8)",
                 lambda: _pool("avg_pool", (8, 8, 64), 8, 8, "avg_pool2d_s8")),
    "max_pool": ("MAX_POOL_2D 2x2 /2, 32x32x16", lambda: _pool("max_pool", (32, 32, 16), 2, 2, "max_pool2d_s8")),
    "add": ("ADD, 32x32x16 (ResNet-8 residual)", lambda: _add("add", (32, 32, 16))),
    "softmax": ("SOFTMAX, 12 classes (DS-CNN)", lambda: _softmax("softmax", 12)),
    "mean": ("MEAN over H, W, 8x8x64", lambda: _mean("mean", (8, 8, 64))),
    "pad": ("PAD 1 each side, 96x96x3 (VWW input)", lambda: _pad("pad", (96, 96, 3))),
}


@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("case", list(OPS))
def test_op(benchmark, case, impl):
    what, build = OPS[case]
    kernel, args = build()
    fn = getattr(IMPLS[impl].module, kernel)
    fn(*args)  # warm-up: JIT compile / cache load
    benchmark.group = f"op:{case}"
    benchmark.extra_info.update(impl=impl, what=what)
    benchmark(fn, *args)


# -- whole models ------------------------------------------------------------------------


def _tinycnn():
    torch = pytest.importorskip("torch")
    from edgehdc.models import create
    from edgehdc.quant.ptq import quantize

    torch.manual_seed(0)  # untrained weights: the arithmetic costs the same
    calib = np.random.default_rng(0).random((32, 16, 16, 1)).astype(np.float32)
    return quantize(create("tinycnn", num_classes=10), calib)


def _mlperf(name: str):
    from edgehdc.quant.tflite_io import from_tflite

    path = MLPERF_DIR / MLPERF_MODELS[name]
    if not path.is_file():
        pytest.skip(f"{path} not found (MLPerf Tiny models live in ../shared/models)")
    try:
        graph = from_tflite(path.read_bytes())
        x = _random_input(graph)
        ref.run_reference(graph, x)
    except ValueError as e:  # UnsupportedOpError is a ValueError
        pytest.skip(f"{path.name} does not run yet: {e}")
    return graph


def _random_input(graph) -> np.ndarray:
    shape = graph.tensors[graph.inputs[0]].shape
    return np.random.default_rng(0).integers(-128, 128, (1, *shape[1:])).astype(np.int8)


MODELS = {"tinycnn": ("edgehdc TinyCNN, digits 16x16x1", _tinycnn)} | {
    name: (f"MLPerf Tiny {name} ({file})", lambda name=name: _mlperf(name))
    for name, file in MLPERF_MODELS.items()
}
_graphs: dict = {}


@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("model", list(MODELS))
def test_model(benchmark, model, impl):
    what, build = MODELS[model]
    if model not in _graphs:
        _graphs[model] = build()
    graph = _graphs[model]
    prepared = IMPLS[impl].prepare(graph)
    x = _random_input(graph)
    prepared.run(x)  # warm-up: JIT compile / cache load of every kernel the graph uses
    benchmark.group = f"model:{model}"
    benchmark.extra_info.update(impl=impl, what=what, ops=len(graph.ops))
    benchmark(prepared.run, x)
