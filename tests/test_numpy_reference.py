"""The NumPy benchmark baseline (benchmarks/numpy_reference.py) equals the Numba kernels bit for bit.

Each op runs on random shapes and random integer parameters (multipliers,
shifts over their whole range, offsets, padding, strides, dilation); whole
graphs run through both interpreters. Equality is exact: the baseline is only
an honest yardstick if it computes the very same int8 values.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from edgehdc import kernels
from edgehdc.kernels import elementwise, fixedpoint, interpreter, reduce, softmax
from edgehdc.kernels import quantize as quantize_kernels
from edgehdc.kernels import shape as shape_kernels
from edgehdc.kernels.requantize import multiply_by_quantized_multiplier
from edgehdc.quant.arith import (
    AddParams,
    ConvParams,
    DequantizeParams,
    FullyConnectedParams,
    MeanParams,
    PadParams,
    PoolParams,
    QuantizeParams,
    ReluParams,
    RequantizeParams,
    ReshapeParams,
    SoftmaxParams,
    quantize_multiplier,
)
from edgehdc.quant.ir import AddOptions, Graph, MeanOptions, Op, OpKind, QuantParams, SoftmaxOptions, Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import numpy_reference as ref  # noqa: E402

SEEDS = range(6)
MLPERF_DIR = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf_tiny"
MLPERF_MODELS = ["pretrainedResnet_quant.tflite", "kws_ref_model.tflite", "vww_96_int8.tflite", "ad01_int8.tflite"]


def _multipliers(rng, n: int, left_shifts: bool) -> tuple[np.ndarray, np.ndarray]:
    mult = rng.integers(1 << 30, 1 << 31, n).astype(np.int32)
    mult[rng.random(n) < 0.1] = 0  # flushed-to-zero multipliers exist too
    shift = rng.integers(-31, 31 if left_shifts else 1, n).astype(np.int32)
    return mult, shift


def _act_range(rng) -> tuple[int, int]:
    lo, hi = sorted(rng.integers(-128, 128, 2))
    return (-128, 127) if rng.random() < 0.5 else (int(lo), int(hi))


def _out_size(size: int, k: int, stride: int, dilation: int, pad: int) -> int:
    return max((size + 2 * pad - (k - 1) * dilation - 1) // stride + 1, 1)


def _conv_case(rng, depthwise: bool):
    n, h, w, c = 2, int(rng.integers(1, 12)), int(rng.integers(1, 12)), int(rng.integers(1, 9))
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    sh, sw, dh, dw = (int(v) for v in rng.integers(1, 3, 4))
    ph, pw = int(rng.integers(0, kh)), int(rng.integers(0, kw))
    m = int(rng.integers(1, 3)) if depthwise else 1
    out_c = c * m if depthwise else int(rng.integers(1, 17))
    mult, shift = _multipliers(rng, out_c, left_shifts=rng.random() < 0.5)
    act_min, act_max = _act_range(rng)
    p = ConvParams(
        input_offset=int(rng.integers(-127, 129)), output_offset=int(rng.integers(-128, 128)),
        multiplier=mult, shift=shift, stride_h=sh, stride_w=sw, pad_h=ph, pad_w=pw,
        dilation_h=dh, dilation_w=dw, depth_multiplier=m, act_min=act_min, act_max=act_max,
        out_h=_out_size(h, kh, sh, dh, ph), out_w=_out_size(w, kw, sw, dw, pw),
    )
    x = rng.integers(-128, 128, (n, h, w, c)).astype(np.int8)
    w_shape = (1, kh, kw, out_c) if depthwise else (out_c, kh, kw, c)
    weights = rng.integers(-127, 128, w_shape).astype(np.int8)
    bias = rng.integers(-(1 << 20), 1 << 20, out_c).astype(np.int32) if rng.random() < 0.8 else None
    return x, weights, bias, p


@pytest.mark.parametrize("seed", SEEDS)
def test_requantize_matches_numba(seed):
    rng = np.random.default_rng(seed)
    acc = rng.integers(-(1 << 31), 1 << 31, 2000)
    acc[:6] = [-(1 << 31), (1 << 31) - 1, 0, -1, 1, 1 << 30]
    mult, shift = _multipliers(rng, acc.size, left_shifts=True)
    mult[:2] = (1 << 31) - 1
    got = ref.multiply_by_quantized_multiplier(acc, mult, shift)
    want = [multiply_by_quantized_multiplier(int(a), int(m), int(s)) for a, m, s in zip(acc, mult, shift)]
    np.testing.assert_array_equal(got, np.array(want, np.int64))


@pytest.mark.parametrize("seed", SEEDS)
def test_conv2d_matches_numba(seed):
    args = _conv_case(np.random.default_rng(seed), depthwise=False)
    np.testing.assert_array_equal(ref.conv2d_s8(*args), kernels.conv2d_s8(*args))


@pytest.mark.parametrize("seed", SEEDS)
def test_depthwise_conv2d_matches_numba(seed):
    args = _conv_case(np.random.default_rng(100 + seed), depthwise=True)
    np.testing.assert_array_equal(ref.depthwise_conv2d_s8(*args), kernels.depthwise_conv2d_s8(*args))


@pytest.mark.parametrize("seed", SEEDS)
def test_fully_connected_matches_numba(seed):
    rng = np.random.default_rng(200 + seed)
    rows, in_n, out_n = int(rng.integers(1, 4)), int(rng.integers(1, 300)), int(rng.integers(1, 40))
    per_channel = seed % 2 == 0
    mult, shift = _multipliers(rng, out_n if per_channel else 1, left_shifts=seed % 3 == 0)
    if not per_channel:
        mult, shift = int(mult[0]), int(shift[0])
    act_min, act_max = _act_range(rng)
    p = FullyConnectedParams(int(rng.integers(-127, 129)), int(rng.integers(-128, 128)),
                             mult, shift, act_min, act_max)
    x = rng.integers(-128, 128, (rows, in_n)).astype(np.int8)
    w = rng.integers(-127, 128, (out_n, in_n)).astype(np.int8)
    bias = rng.integers(-(1 << 24), 1 << 24, out_n).astype(np.int32)
    np.testing.assert_array_equal(ref.fully_connected_s8(x, w, bias, p), kernels.fully_connected_s8(x, w, bias, p))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("op", ["avg_pool2d_s8", "max_pool2d_s8"])
def test_pooling_matches_numba(op, seed):
    rng = np.random.default_rng(300 + seed)
    h, w, c = int(rng.integers(1, 13)), int(rng.integers(1, 13)), int(rng.integers(1, 6))
    fh, fw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    sh, sw = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    ph, pw = int(rng.integers(0, fh)), int(rng.integers(0, fw))
    # Largest output such that every window still touches the image.
    out_h = min(_out_size(h, fh, sh, 1, ph), (h + ph - 1) // sh + 1)
    out_w = min(_out_size(w, fw, sw, 1, pw), (w + pw - 1) // sw + 1)
    p = PoolParams(fh, fw, sh, sw, ph, pw, *_act_range(rng), out_h, out_w)
    x = rng.integers(-128, 128, (2, h, w, c)).astype(np.int8)
    np.testing.assert_array_equal(getattr(ref, op)(x, p), getattr(kernels, op)(x, p))


def test_bad_input_is_refused_like_numba():
    rng = np.random.default_rng(7)
    x, w, b, p = _conv_case(rng, depthwise=False)
    for bad in (x.astype(np.int16), x[0]):
        with pytest.raises(ValueError, match="conv2d_s8 input"):
            ref.conv2d_s8(bad, w, b, p)
    with pytest.raises(ValueError, match="bias"):
        ref.conv2d_s8(x, w, np.zeros(w.shape[0] + 1, np.int32), p)


def _int8(rng, shape) -> np.ndarray:
    return rng.integers(-128, 128, shape).astype(np.int8)


@pytest.mark.parametrize("seed", SEEDS)
def test_add_matches_numba(seed):
    rng = np.random.default_rng(400 + seed)
    s1, s2, so = 10 ** rng.uniform(-2, 0, 3)
    twice_max = 2 * max(s1, s2)
    (m1, sh1), (m2, sh2) = quantize_multiplier(s1 / twice_max), quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << 20) * so))
    p = AddParams(*(int(v) for v in rng.integers(-128, 128, 3)), 20, m1, sh1, m2, sh2, mo, sho, *_act_range(rng))
    a = _int8(rng, (2, 5, 4, 3))
    b = _int8(rng, (2, 5, 4, 3) if seed % 2 else (1, 1, 4, 3))  # same shape, or broadcast
    np.testing.assert_array_equal(ref.add_s8(a, b, p), elementwise.add_s8(a, b, p))


@pytest.mark.parametrize("seed", SEEDS)
def test_relu_matches_numba(seed):
    rng = np.random.default_rng(500 + seed)
    in_zp, out_zp = (int(v) for v in rng.integers(-128, 128, 2))
    mult, shift = quantize_multiplier(10 ** rng.uniform(-1, 1))
    act_max = 127 if seed % 2 else int(rng.integers(out_zp, 128))  # RELU, or RELU6's upper bound
    p = ReluParams(in_zp, out_zp, mult, shift, max(-128, out_zp), act_max)
    x = _int8(rng, (3, 7, 2))
    np.testing.assert_array_equal(ref.relu_s8(x, p), elementwise.relu_s8(x, p))


def test_softmax_fixed_point_helpers_match_numba():
    """exp and reciprocal at full 32-bit precision: the int8 output hides small errors in them."""
    rng = np.random.default_rng(599)
    a = -rng.integers(0, 32 << 26, 3000)
    a[:3] = [0, -1, -(1 << 26)]
    want = [fixedpoint.exp_on_negative_values_q5(int(v)) for v in a]
    np.testing.assert_array_equal(ref._exp_on_negative_values_q5(a), want)
    sums = rng.integers(1 << 19, 1 << 31, 3000)
    scale, bits = ref._reciprocal(sums, 12)
    want_scale, want_bits = zip(*(fixedpoint.reciprocal(int(v), 12) for v in sums))
    np.testing.assert_array_equal(scale, want_scale)
    np.testing.assert_array_equal(bits, want_bits)


@pytest.mark.parametrize("seed", range(12))
def test_softmax_matches_numba(seed):
    rng = np.random.default_rng(600 + seed)
    # Parameters as SOFTMAX's lowering makes them, over input scales 1e-3 .. 3.
    mult, left_shift = quantize_multiplier(10 ** rng.uniform(-3, 0.5) * (1 << 26))
    diff_min = -((31 << 26) >> left_shift)
    x = _int8(rng, (4, int(rng.integers(1, 40))))
    x[0] = x[0, 0]  # a flat row: every exp is 1
    p = SoftmaxParams(mult, left_shift, diff_min)
    np.testing.assert_array_equal(ref.softmax_s8(x, p), softmax.softmax_s8(x, p))


@pytest.mark.parametrize("seed", SEEDS)
def test_quantize_and_dequantize_match_numba(seed):
    rng = np.random.default_rng(700 + seed)
    scale, zp = float(10 ** rng.uniform(-3, 0)), int(rng.integers(-128, 128))
    xf = (rng.normal(0, 200 * scale, 500)).astype(np.float32)
    xf[:3] = [np.float32(0.5) * np.float32(scale), np.nextafter(np.float32(0.5), 0) * np.float32(scale), 0.0]
    p = QuantizeParams(scale, zp)
    np.testing.assert_array_equal(ref.quantize_f32_s8(xf, p), quantize_kernels.quantize_f32_s8(xf, p))
    x = _int8(rng, (4, 9))
    mult, shift = quantize_multiplier(10 ** rng.uniform(-2, 1.5))
    rp = RequantizeParams(zp, int(rng.integers(-128, 128)), mult, shift)
    np.testing.assert_array_equal(ref.requantize_s8_s8(x, rp), quantize_kernels.requantize_s8_s8(x, rp))
    dp = DequantizeParams(scale, zp)
    np.testing.assert_array_equal(ref.dequantize_s8_f32(x, dp), quantize_kernels.dequantize_s8_f32(x, dp))


@pytest.mark.parametrize("seed", SEEDS)
def test_mean_matches_numba(seed):
    rng = np.random.default_rng(800 + seed)
    x = _int8(rng, (2, *rng.integers(1, 9, 2), 5))
    count = x.shape[1] * x.shape[2]
    mult, shift = quantize_multiplier(10 ** rng.uniform(-1, 1) / count)
    p = MeanParams(*(int(v) for v in rng.integers(-128, 128, 2)), count, mult, shift)
    np.testing.assert_array_equal(ref.mean_hw_s8(x, p), reduce.mean_hw_s8(x, p))


@pytest.mark.parametrize("seed", SEEDS)
def test_pad_and_reshape_match_numba(seed):
    rng = np.random.default_rng(900 + seed)
    rank = int(rng.integers(1, 5))
    x = _int8(rng, tuple(rng.integers(1, 5, rank)))
    before, after = (tuple(int(v) for v in rng.integers(0, 3, rank)) for _ in range(2))
    p = PadParams((0, *before[1:]), after, int(rng.integers(-128, 128)))
    np.testing.assert_array_equal(ref.pad_s8(x, p), shape_kernels.pad_s8(x, p))
    rp = ReshapeParams((1, x[0].size))
    np.testing.assert_array_equal(ref.reshape(x, rp), shape_kernels.reshape(x, rp))


def test_small_graph_of_the_other_ops_matches_numba():
    """float32 -> QUANTIZE -> ADD(x, x) -> MEAN -> RESHAPE -> SOFTMAX -> DEQUANTIZE, run by both interpreters."""
    g = Graph()
    q = [QuantParams.per_tensor(s, z) for s, z in ((0.02, 3), (0.03, -5), (0.01, 7), (0.01, 7), (1 / 256, -128))]
    xf = g.add_tensor(Tensor("x", (1, 4, 4, 6), "float32"))
    x8 = g.add_tensor(Tensor("x8", (1, 4, 4, 6), "int8", q[0]))
    s = g.add_tensor(Tensor("sum", (1, 4, 4, 6), "int8", q[1]))
    axes = g.add_tensor(Tensor("axes", (2,), "int32", None, np.array([1, 2], np.int32)))
    m = g.add_tensor(Tensor("mean", (1, 1, 1, 6), "int8", q[2]))
    r = g.add_tensor(Tensor("flat", (1, 6), "int8", q[3]))
    sm = g.add_tensor(Tensor("probs", (1, 6), "int8", q[4]))
    out = g.add_tensor(Tensor("probs_f", (1, 6), "float32"))
    g.add_op(Op(OpKind.QUANTIZE, [xf], [x8]))
    g.add_op(Op(OpKind.ADD, [x8, x8], [s], AddOptions()))
    g.add_op(Op(OpKind.MEAN, [s, axes], [m], MeanOptions()))
    g.add_op(Op(OpKind.RESHAPE, [m], [r]))
    g.add_op(Op(OpKind.SOFTMAX, [r], [sm], SoftmaxOptions()))
    g.add_op(Op(OpKind.DEQUANTIZE, [sm], [out]))
    g.inputs, g.outputs = [xf], [m, sm, out]
    x = np.random.default_rng(3).normal(0, 1, (5, 4, 4, 6)).astype(np.float32)
    for got, want in zip(ref.run_reference(g, x), interpreter.run(g, x), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", MLPERF_MODELS)
def test_mlperf_models_match_numba(name):
    from edgehdc.quant.tflite_io import from_tflite

    path = MLPERF_DIR / name
    if not path.is_file():
        pytest.skip(f"{path} not found")
    graph = from_tflite(path.read_bytes())
    in_shape = graph.tensors[graph.inputs[0]].shape
    x = np.random.default_rng(4).integers(-128, 128, (2, *in_shape[1:])).astype(np.int8)
    for got, want in zip(ref.run_reference(graph, x), interpreter.run(graph, x), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.fixture(scope="module")
def tinycnn_graph():
    torch = pytest.importorskip("torch")
    from edgehdc.models import create
    from edgehdc.quant.ptq import quantize

    torch.manual_seed(0)
    calib = np.random.default_rng(0).random((32, 16, 16, 1)).astype(np.float32)
    return quantize(create("tinycnn", num_classes=10), calib)


def test_tinycnn_graph_matches_numba(tinycnn_graph):
    x = np.random.default_rng(1).integers(-128, 128, (8, 16, 16, 1)).astype(np.int8)
    got, want = ref.run_reference(tinycnn_graph, x), interpreter.run(tinycnn_graph, x)
    assert len(got) == len(want) == 2
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    single = ref.run_reference(tinycnn_graph, x[0])  # one sample, no batch dim
    np.testing.assert_array_equal(single[1], want[1][0])
