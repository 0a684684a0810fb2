"""Numba int8 kernels vs the TFLM reference interpreter, bit for bit.

Each case builds a single-op IR graph with random shapes, scales, zero points
and weights (fixed seeds), writes it with `to_tflite`, runs TFLM and the Numba
interpreter on the same random batch, and compares the int8 outputs exactly.
"""

from __future__ import annotations

import copy

import flatbuffers
import numpy as np
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from edgehdc.kernels import (
    avg_pool2d_s8,
    conv2d_s8,
    depthwise_conv2d_s8,
    fully_connected_s8,
    interpreter,
    max_pool2d_s8,
)
from edgehdc.quant.arith import ConvParams, FullyConnectedParams, PoolParams
from edgehdc.quant.ir import (
    Activation,
    Conv2DOptions,
    DepthwiseConv2DOptions,
    FullyConnectedOptions,
    Graph,
    Op,
    OpKind,
    Padding,
    Pool2DOptions,
    QuantParams,
    Tensor,
)
from edgehdc.quant.tflite_io import to_tflite
from edgehdc.quant.tflm import TflmOracle

SAME, VALID = Padding.SAME, Padding.VALID
NONE, RELU, RELU6 = Activation.NONE, Activation.RELU, Activation.RELU6
BATCH = 3


# -- random graph builders ---------------------------------------------------


def act_quant(rng, scale_range=(-3.0, 0.0)) -> QuantParams:
    return QuantParams.per_tensor(10 ** rng.uniform(*scale_range), int(rng.integers(-128, 128)))


def weight_quant(rng, channels: int, axis: int, per_channel: bool = True) -> QuantParams:
    # Per-channel scales spread over a decade, so multipliers differ per channel.
    n = channels if per_channel else 1
    return QuantParams((10 ** rng.uniform(-3.0, -2.0, n)).astype(np.float32), np.zeros(n, np.int64), axis)


def output_quant(rng, in_q: QuantParams, w_q: QuantParams, fan_in: int, gain: float) -> QuantParams:
    """Output scale near the accumulator's spread times `gain` (gain >> 1 gives
    tiny multipliers: long right shifts). gain < 0 asks for the multiplier -gain."""
    product = float(in_q.scale[0]) * float(np.median(w_q.scale))
    scale = product / -gain if gain < 0 else product * 64 * np.sqrt(fan_in) * gain
    return QuantParams.per_tensor(scale, int(rng.integers(-64, 65)))


def weighted_graph(rng, kind, x_shape, w_shape, y_shape, options, axis, gain, per_channel=True, bias=True):
    """One CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED op with random constants.

    gain < 0 builds a left-shift case: multiplier -gain > 1, weights in [-3, 3]
    and a small bias, so that the (near zero point) input does not saturate."""
    g = Graph()
    in_q = act_quant(rng)
    out_c = w_shape[axis]
    w_q = weight_quant(rng, out_c, axis, per_channel)
    fan_in = int(np.prod(w_shape)) // out_c
    x = g.add_tensor(Tensor("x", x_shape, "int8", in_q))
    w_max = 3 if gain < 0 else 127
    w_data = rng.integers(-w_max, w_max + 1, w_shape).astype(np.int8)
    w = g.add_tensor(Tensor("w", w_shape, "int8", w_q, w_data))
    inputs = [x, w]
    if bias:
        b_scale = (in_q.scale[0] * np.broadcast_to(w_q.scale, (out_c,))).astype(np.float32)
        b_q = QuantParams(b_scale, np.zeros(out_c, np.int64), 0)
        b_max = 16 if gain < 0 else 1 << 12
        b_data = rng.integers(-b_max, b_max, out_c).astype(np.int32)
        inputs.append(g.add_tensor(Tensor("b", (out_c,), "int32", b_q, b_data)))
    y = g.add_tensor(Tensor("y", y_shape, "int8", output_quant(rng, in_q, w_q, fan_in, gain)))
    g.add_op(Op(kind, inputs, [y], options))
    g.inputs, g.outputs = [x], [y]
    return g


def out_size(size, k, stride, dilation, padding):
    eff = (k - 1) * dilation + 1
    return -(-size // stride) if padding is SAME else (size - eff) // stride + 1


def random_batch(rng, shape, near: int | None = None) -> np.ndarray:
    """Random int8 batch; `near` draws values within 3 of it (left-shift cases)."""
    lo, hi = (-128, 128) if near is None else (max(near - 3, -128), min(near + 4, 128))
    x = rng.integers(lo, hi, (BATCH, *shape[1:])).astype(np.int8)
    x[0].flat[::7] = 127  # extremes exercise saturation and clamping
    x[-1].flat[::5] = -128
    return x


def near_zero_point(g: Graph, gain: float) -> int | None:
    """Left-shift cases feed inputs close to the input zero point."""
    return int(g.tensors[g.inputs[0]].quant.zero_point[0]) if gain < 0 else None


def assert_matches_tflm(g: Graph, rng, near: int | None = None) -> np.ndarray:
    x = random_batch(rng, g.tensors[g.inputs[0]].shape, near)
    expected = TflmOracle(to_tflite(g)).run(x)
    got = interpreter.run(g, x)
    assert len(got) == len(expected)
    for e, a in zip(expected, got):
        assert a.dtype == np.int8 and a.shape == e.shape
        np.testing.assert_array_equal(a, e)
    return expected[0]


# -- CONV_2D -----------------------------------------------------------------

# (H, W, C, O, KH, KW, stride, padding, dilation, activation, gain)
CONV_CASES = [
    (8, 8, 3, 4, 3, 3, 1, SAME, 1, NONE, 1.0),
    (8, 8, 3, 4, 3, 3, 2, SAME, 1, RELU, 1.0),
    (9, 7, 2, 5, 3, 3, 2, VALID, 1, RELU6, 0.3),
    (6, 6, 8, 16, 1, 1, 1, VALID, 1, NONE, 1.0),  # pointwise
    (7, 7, 8, 6, 1, 1, 2, SAME, 1, RELU, 3.0),  # strided pointwise
    (10, 10, 3, 4, 3, 3, 1, SAME, 2, NONE, 1.0),  # dilated
    (11, 9, 2, 3, 3, 2, 1, VALID, 2, RELU6, 1.0),
    (5, 5, 4, 4, 5, 5, 1, SAME, 1, NONE, -3.0),  # multiplier > 1: left shifts
    (6, 8, 3, 2, 2, 4, 2, SAME, 1, NONE, 1.0),  # even, non-square filter
    (4, 4, 1, 3, 3, 3, 1, SAME, 1, RELU, 50.0),  # long right shifts
    (12, 12, 1, 8, 3, 3, 2, VALID, 1, RELU6, 1.0),
    (3, 3, 5, 7, 3, 3, 3, SAME, 1, NONE, 1.0),
    (16, 16, 1, 4, 3, 3, 1, SAME, 1, RELU, 1.0),  # the product's input size
    (3, 70, 16, 6, 3, 3, 1, SAME, 1, NONE, 1.0),  # rows wider than one im2col chunk, 8-channel words
    (11, 13, 24, 9, 3, 3, 2, SAME, 2, RELU, 1.0),  # strided and dilated, 8-channel words
]


@pytest.mark.parametrize("case", CONV_CASES, ids=[f"conv{i}" for i in range(len(CONV_CASES))])
def test_conv2d_matches_tflm(case):
    h, w, c, o, kh, kw, stride, padding, dil, act, gain = case
    rng = np.random.default_rng(1000 + CONV_CASES.index(case))
    oh, ow = out_size(h, kh, stride, dil, padding), out_size(w, kw, stride, dil, padding)
    opts = Conv2DOptions((stride, stride), padding, act, (dil, dil))
    g = weighted_graph(rng, OpKind.CONV_2D, (1, h, w, c), (o, kh, kw, c), (1, oh, ow, o), opts, 0, gain)
    y = assert_matches_tflm(g, rng, near_zero_point(g, gain))
    assert len(np.unique(y)) > 2, "degenerate case: output is (almost) constant"


def test_conv2d_without_bias_and_per_tensor_weights_matches_tflm():
    rng = np.random.default_rng(7)
    opts = Conv2DOptions((1, 1), SAME, RELU)
    g = weighted_graph(rng, OpKind.CONV_2D, (1, 6, 6, 3), (5, 3, 3, 3), (1, 6, 6, 5), opts, 0, 1.0,
                       per_channel=False, bias=False)
    assert_matches_tflm(g, rng)


# -- DEPTHWISE_CONV_2D ---------------------------------------------------------

# (H, W, C, M, KH, KW, stride, padding, dilation, activation, gain)
DW_CASES = [
    (8, 8, 4, 1, 3, 3, 1, SAME, 1, NONE, 1.0),
    (8, 8, 4, 2, 3, 3, 1, SAME, 1, RELU, 1.0),
    (9, 9, 3, 1, 3, 3, 2, SAME, 1, RELU6, 1.0),
    (9, 9, 3, 2, 3, 3, 2, VALID, 1, NONE, 0.5),
    (10, 10, 2, 1, 3, 3, 1, SAME, 2, NONE, 1.0),  # dilated
    (11, 8, 2, 2, 3, 2, 1, VALID, 2, RELU, 1.0),
    (6, 6, 5, 1, 1, 1, 1, VALID, 1, NONE, 1.0),
    (5, 7, 3, 2, 5, 5, 1, SAME, 1, RELU6, -1.7),  # multiplier > 1: left shifts
    (4, 4, 8, 1, 3, 3, 2, SAME, 1, NONE, 30.0),  # long right shifts
    (7, 7, 1, 2, 3, 3, 1, SAME, 1, RELU, 1.0),
    (12, 6, 4, 1, 4, 2, 2, SAME, 1, NONE, 1.0),
]


@pytest.mark.parametrize("case", DW_CASES, ids=[f"dw{i}" for i in range(len(DW_CASES))])
def test_depthwise_conv2d_matches_tflm(case):
    h, w, c, m, kh, kw, stride, padding, dil, act, gain = case
    rng = np.random.default_rng(2000 + DW_CASES.index(case))
    oh, ow = out_size(h, kh, stride, dil, padding), out_size(w, kw, stride, dil, padding)
    opts = DepthwiseConv2DOptions((stride, stride), padding, act, (dil, dil), depth_multiplier=m)
    g = weighted_graph(rng, OpKind.DEPTHWISE_CONV_2D, (1, h, w, c), (1, kh, kw, c * m), (1, oh, ow, c * m), opts, 3, gain)
    y = assert_matches_tflm(g, rng, near_zero_point(g, gain))
    assert len(np.unique(y)) > 2


def test_bias_less_depthwise_is_written_without_a_bias_slot_and_equals_zero_bias():
    # tflite-micro 0.dev20261023 segfaults loading a DEPTHWISE_CONV_2D whose bias is -1 (absent);
    # with two inputs it runs. The writer uses two; a -1 from another writer is refused first.
    g = weighted_graph(np.random.default_rng(7), OpKind.DEPTHWISE_CONV_2D, (1, 5, 5, 4), (1, 3, 3, 4),
                       (1, 5, 5, 4), DepthwiseConv2DOptions(), 3, 1.0, bias=False)
    data = to_tflite(g)
    model = fb.ModelT.InitFromObj(fb.Model.GetRootAs(data, 0))
    assert list(model.subgraphs[0].operators[0].inputs) == g.ops[0].inputs
    model.subgraphs[0].operators[0].inputs = [*g.ops[0].inputs, -1]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    with pytest.raises(ValueError, match=r"DEPTHWISE_CONV_2D with an absent bias \(-1, operator 0\)"):
        TflmOracle(bytes(builder.Output()))
    with_zero = copy.deepcopy(g)
    x_q, w_q = (with_zero.tensors[i].quant for i in with_zero.ops[0].inputs[:2])
    b_q = QuantParams((x_q.scale[0] * w_q.scale).astype(np.float32), np.zeros(4, np.int64), 0)
    with_zero.ops[0].inputs.append(with_zero.add_tensor(Tensor("b", (4,), "int32", b_q, np.zeros(4, np.int32))))
    x = random_batch(np.random.default_rng(1), (4, 5, 5, 4))
    np.testing.assert_array_equal(interpreter.run(g, x)[0], TflmOracle(to_tflite(with_zero)).run(x)[0])
    np.testing.assert_array_equal(interpreter.run(g, x)[0], TflmOracle(data).run(x)[0])


# -- FULLY_CONNECTED -------------------------------------------------------------

# (input shape, OUT, activation, gain, per-channel weights, bias)
FC_CASES = [
    ((1, 16), 10, NONE, 1.0, False, True),
    ((1, 64), 8, RELU, 1.0, False, True),
    ((1, 7), 3, RELU6, 0.3, False, True),
    ((1, 2, 2, 3), 5, NONE, 1.0, False, True),  # TFLM flattens a 4-D input
    ((1, 32), 12, NONE, -2.5, False, True),  # multiplier > 1: left shifts
    ((1, 24), 6, RELU, 40.0, False, False),  # long right shifts, no bias
    ((1, 100), 4, NONE, 1.0, True, True),  # per-channel FC (TFLM supports it)
    ((1, 10), 10, RELU6, 1.0, True, False),
    ((1, 1), 4, NONE, 1.0, False, True),
    ((1, 3, 3, 4), 2, RELU, 1.0, False, True),
]


@pytest.mark.parametrize("case", FC_CASES, ids=[f"fc{i}" for i in range(len(FC_CASES))])
def test_fully_connected_matches_tflm(case):
    x_shape, out_n, act, gain, per_channel, bias = case
    rng = np.random.default_rng(3000 + FC_CASES.index(case))
    in_n = int(np.prod(x_shape[1:]))
    g = weighted_graph(rng, OpKind.FULLY_CONNECTED, x_shape, (out_n, in_n), (1, out_n),
                       FullyConnectedOptions(act), 0, gain, per_channel, bias)
    y = assert_matches_tflm(g, rng, near_zero_point(g, gain))
    assert len(np.unique(y)) > 1


# -- pooling --------------------------------------------------------------------

# (H, W, C, filter, stride, padding, activation)
POOL_CASES = [
    (8, 8, 3, (2, 2), (2, 2), VALID, NONE),
    (9, 9, 2, (3, 3), (2, 2), SAME, NONE),  # partial windows at the border
    (7, 5, 4, (3, 2), (1, 1), SAME, RELU),
    (6, 6, 1, (6, 6), (1, 1), VALID, NONE),  # global pool
    (5, 5, 3, (4, 4), (3, 3), SAME, RELU6),
    (10, 6, 2, (2, 3), (2, 3), VALID, NONE),
    (4, 4, 5, (3, 3), (1, 1), SAME, NONE),
    (8, 8, 2, (5, 5), (2, 2), SAME, RELU),
]


def pool_graph(rng, kind, case) -> Graph:
    h, w, c, filt, stride, padding, act = case
    q = act_quant(rng, (-2.0, -0.5))  # pools keep the input's scale and zero point
    oh, ow = out_size(h, filt[0], stride[0], 1, padding), out_size(w, filt[1], stride[1], 1, padding)
    g = Graph()
    x = g.add_tensor(Tensor("x", (1, h, w, c), "int8", q))
    y = g.add_tensor(Tensor("y", (1, oh, ow, c), "int8", q))
    g.add_op(Op(kind, [x], [y], Pool2DOptions(filt, stride, padding, act)))
    g.inputs, g.outputs = [x], [y]
    return g


@pytest.mark.parametrize("kind", [OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D])
@pytest.mark.parametrize("case", POOL_CASES, ids=[f"pool{i}" for i in range(len(POOL_CASES))])
def test_pooling_matches_tflm(kind, case):
    rng = np.random.default_rng(4000 + POOL_CASES.index(case))
    assert_matches_tflm(pool_graph(rng, kind, case), rng)


def test_average_pool_rounds_halves_away_from_zero():
    g = pool_graph(np.random.default_rng(0), OpKind.AVERAGE_POOL_2D, (2, 2, 1, (1, 2), (1, 2), VALID, NONE))
    x = np.array([[[[1], [2]], [[-1], [-2]]]], np.int8)  # means 1.5 and -1.5
    expected = TflmOracle(to_tflite(g)).run(x)[0]
    np.testing.assert_array_equal(expected.reshape(-1), [2, -2])
    np.testing.assert_array_equal(interpreter.run(g, x)[0], expected)


# -- chained graph -----------------------------------------------------------------


def chained_graph(rng) -> Graph:
    """CONV_2D -> DEPTHWISE_CONV_2D(M=2) -> AVERAGE_POOL_2D -> FULLY_CONNECTED."""
    g = Graph()

    def act(name, shape, q=None):
        return g.add_tensor(Tensor(name, shape, "int8", q or act_quant(rng, (-2.0, -1.0))))

    def const(name, shape, axis, x_q):
        out_c = shape[axis]
        w_q = weight_quant(rng, out_c, axis)
        w = g.add_tensor(Tensor(name, shape, "int8", w_q, rng.integers(-127, 128, shape).astype(np.int8)))
        b_q = QuantParams((x_q.scale[0] * w_q.scale).astype(np.float32), np.zeros(out_c, np.int64), 0)
        b = g.add_tensor(Tensor(name + "_b", (out_c,), "int32", b_q, rng.integers(-999, 999, out_c).astype(np.int32)))
        return w, b

    x = act("x", (1, 10, 10, 2))
    t1, t2 = act("conv", (1, 10, 10, 4)), act("dw", (1, 5, 5, 8))
    t3 = act("pool", (1, 2, 2, 8), g.tensors[t2].quant)
    y = act("fc", (1, 6))
    w1, b1 = const("w1", (4, 3, 3, 2), 0, g.tensors[x].quant)
    w2, b2 = const("w2", (1, 3, 3, 8), 3, g.tensors[t1].quant)
    g.tensors[y] = Tensor("fc", (1, 6), "int8", QuantParams.per_tensor(0.2, 3))
    w3_q = QuantParams.per_tensor(0.01, 0)
    w3 = g.add_tensor(Tensor("w3", (6, 32), "int8", w3_q, rng.integers(-127, 128, (6, 32)).astype(np.int8)))
    g.add_op(Op(OpKind.CONV_2D, [x, w1, b1], [t1], Conv2DOptions((1, 1), SAME, RELU)))
    g.add_op(Op(OpKind.DEPTHWISE_CONV_2D, [t1, w2, b2], [t2], DepthwiseConv2DOptions((2, 2), SAME, RELU6, depth_multiplier=2)))
    g.add_op(Op(OpKind.AVERAGE_POOL_2D, [t2], [t3], Pool2DOptions((2, 2), (2, 2), VALID)))
    g.add_op(Op(OpKind.FULLY_CONNECTED, [t3, w3], [y], FullyConnectedOptions()))
    g.inputs, g.outputs = [x], [y]
    return g


def test_chained_graph_matches_tflm_on_every_tensor():
    rng = np.random.default_rng(5)
    g = chained_graph(rng)
    x = random_batch(rng, g.tensors[g.inputs[0]].shape)
    oracle = TflmOracle(to_tflite(g)).run_all(x)
    mirror = interpreter.run(g, x, keep_all=True)
    assert sorted(mirror) == [i for i, t in enumerate(g.tensors) if t.data is None]
    for index, value in mirror.items():
        np.testing.assert_array_equal(value, oracle[index], err_msg=g.tensors[index].name)
    for i, t in enumerate(g.tensors):  # constants come back as stored
        if t.data is not None:
            np.testing.assert_array_equal(oracle[i], t.data)


def test_single_sample_without_batch_dim():
    rng = np.random.default_rng(6)
    g = chained_graph(rng)
    x = random_batch(rng, g.tensors[g.inputs[0]].shape)
    batched = interpreter.run(g, x)[0]
    single = interpreter.run(g, x[1])[0]
    assert single.shape == batched.shape[1:]
    np.testing.assert_array_equal(single, batched[1])


# -- argument checks -----------------------------------------------------------------


def conv_params(**change) -> ConvParams:
    p = dict(input_offset=0, output_offset=0, multiplier=np.full(2, 1 << 30, np.int32), shift=np.zeros(2, np.int32),
             stride_h=1, stride_w=1, pad_h=0, pad_w=0, dilation_h=1, dilation_w=1, depth_multiplier=1,
             act_min=-128, act_max=127, out_h=2, out_w=2)
    p.update(change)
    return ConvParams(**p)


X = np.zeros((1, 4, 4, 2), np.int8)
W = np.zeros((2, 3, 3, 2), np.int8)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: conv2d_s8(X.astype(np.float32), W, None, conv_params()), "int8"),
        (lambda: conv2d_s8(X[0], W, None, conv_params()), "4 dims"),
        (lambda: conv2d_s8(X, W[..., :1], None, conv_params()), "input channels"),
        (lambda: conv2d_s8(X, W, np.zeros(3, np.int32), conv_params()), "bias"),
        (lambda: conv2d_s8(X, W, None, conv_params(shift=np.full(2, 31, np.int32))), "shifts"),
        (lambda: conv2d_s8(X, W, None, conv_params(multiplier=np.ones(3, np.int32))), "multiplier"),
        (lambda: conv2d_s8(X, W, None, conv_params(stride_h=0)), "stride_h"),
        (lambda: conv2d_s8(X, W, None, conv_params(input_offset=129)), "input_offset"),
        (lambda: conv2d_s8(X, W, None, conv_params(act_min=5, act_max=4)), "activation range"),
        (lambda: depthwise_conv2d_s8(X, np.zeros((1, 3, 3, 3), np.int8), None, conv_params()), "depthwise"),
        (lambda: fully_connected_s8(np.zeros((2, 5), np.int8), np.zeros((3, 4), np.int8), None,
                                    FullyConnectedParams(0, 0, 1 << 30, 0, -128, 127)), "does not match"),
        (lambda: max_pool2d_s8(X, PoolParams(2, 2, 2, 2, 2, 0, -128, 127, 2, 2)), "outside the input"),
        (lambda: avg_pool2d_s8(X, PoolParams(2, 2, 2, 2, 0, 0, -128, 127, 4, 2)), "outside the input"),
    ],
)
def test_kernels_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_interpreter_rejects_wrong_input():
    g = chained_graph(np.random.default_rng(0))
    with pytest.raises(ValueError, match="int8"):
        interpreter.run(g, np.zeros((1, 10, 10, 2), np.float32))
    with pytest.raises(ValueError, match="does not match"):
        interpreter.run(g, np.zeros((1, 10, 9, 2), np.int8))
