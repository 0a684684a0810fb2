"""edgehdc.quant.arith and the requantize helper: TFLite's integer arithmetic, checked
against hand-derived values, an independent big-integer reference and the TFLM oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgehdc.kernels import interpreter
from edgehdc.kernels.requantize import multiply_by_quantized_multiplier, scale_split
from edgehdc.quant.arith import (
    FullyConnectedParams,
    activation_range,
    compute_padding,
    lower,
    quantize_multiplier,
)
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

# -- quantize_multiplier ---------------------------------------------------------


@pytest.mark.parametrize(
    "real, expected",
    [
        (0.0, (0, 0)),
        (0.5, (1 << 30, 0)),
        (1.0, (1 << 30, 1)),
        (0.75, (3 << 29, 0)),
        (3.0, (3 << 29, 2)),
        (2.0**-31, (1 << 30, -30)),
        (2.0**-32, (1 << 30, -31)),  # smallest shift kept
        (2.0**-33, (0, 0)),  # shift < -31 flushes to zero
        (1.0 - 2.0**-40, (1 << 30, 1)),  # q rounds up to 2**31: halve, shift + 1
        (0.5 + 2.0**-32, ((1 << 30) + 1, 0)),  # q * 2**31 = 2**30 + 0.5: half away from zero
        (0.5 + 2.0**-33, (1 << 30, 0)),  # 2**30 + 0.25 rounds down
    ],
)
def test_quantize_multiplier_edge_cases(real, expected):
    assert quantize_multiplier(real) == expected


def test_quantize_multiplier_reconstructs_the_real_value():
    rng = np.random.default_rng(0)
    for real in 10 ** rng.uniform(-9, 3, 500):
        m, s = quantize_multiplier(real)
        assert (1 << 30) <= m < (1 << 31)
        assert abs(m * 2.0 ** (s - 31) - real) <= real * 2.0**-31


@pytest.mark.parametrize("bad", [-0.5, math.nan, math.inf])
def test_quantize_multiplier_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="multiplier"):
        quantize_multiplier(bad)


# -- multiply_by_quantized_multiplier vs an independent big-integer reference -----


def reference_requantize(acc: int, mult: int, shift: int) -> int:
    """gemmlowp double rounding, written with Python integers:
    1. round(acc * 2**left * mult / 2**31), ties toward +infinity (SaturatingRoundingDoublingHighMul);
    2. round(that / 2**right), ties away from zero (RoundingDivideByPOT)."""
    left, right = max(shift, 0), max(-shift, 0)
    high = ((acc << left) * mult * 2 + (1 << 31)) // (1 << 32)
    if right == 0:
        return high
    magnitude = (abs(high) + (1 << (right - 1))) >> right
    return magnitude if high >= 0 else -magnitude


def _scale_split(acc: int, mult: int, shift: int) -> int:
    return scale_split(acc, mult, max(shift, 0), max(-shift, 0))


REQUANTIZERS = [multiply_by_quantized_multiplier, _scale_split]


@pytest.mark.parametrize("requantize", REQUANTIZERS, ids=["branches", "selects"])
def test_requantize_matches_big_integer_reference(requantize):
    rng = np.random.default_rng(1)
    mults = rng.integers(1 << 30, 1 << 31, 60)
    shifts = rng.integers(-31, 5, 60)
    for mult, shift in zip(mults, shifts):
        bound = (1 << 31) >> max(int(shift), 0)  # keep acc * 2**left inside int32
        accs = np.concatenate([rng.integers(-bound, bound, 40), [0, 1, -1, bound - 1, -bound]])
        for acc in accs:
            got = requantize(int(acc), int(mult), int(shift))
            assert got == reference_requantize(int(acc), int(mult), int(shift)), (acc, mult, shift)


@pytest.mark.parametrize("requantize", REQUANTIZERS, ids=["branches", "selects"])
def test_requantize_ties(requantize):
    # mult = 2**30 (0.5): 3 * 0.5 = 1.5 -> 2, -3 * 0.5 = -1.5 -> -1 (first rounding: ties up)
    assert requantize(3, 1 << 30, 0) == 2
    assert requantize(-3, 1 << 30, 0) == -1
    # second rounding (shift -1), ties away from zero: 6 -> 3 -> 1.5 -> 2 and -6 -> -3 -> -1.5 -> -2
    assert requantize(6, 1 << 30, -1) == 2
    assert requantize(-6, 1 << 30, -1) == -2


def test_requantize_saturates():
    # INT32_MIN * INT32_MIN: outside scale_split's multiplier range, only the branch form handles it
    assert multiply_by_quantized_multiplier(-(1 << 31), -(1 << 31), 0) == (1 << 31) - 1


@pytest.mark.parametrize("out_scale", [0.25, 0.5, 1.0, 8.0])
def test_requantize_ties_match_tflm(out_scale):
    # Multipliers 2.5, 1.25, 0.625, 0.078125 are exact: odd accumulators land on halves,
    # so both roundings (and their asymmetric tie rules) are exercised against TFLM.
    g = fc_graph(0.625, 1.0, out_scale)
    x = np.arange(-50, 51, dtype=np.int8).reshape(-1, 1)
    expected = TflmOracle(to_tflite(g)).run(x)[0]
    np.testing.assert_array_equal(interpreter.run(g, x)[0], expected)
    p = lower(g, g.ops[0])
    reference = [reference_requantize(int(v), p.multiplier, p.shift) for v in x[:, 0]]
    np.testing.assert_array_equal(expected[:, 0], np.clip(reference, -128, 127))


# -- activation_range --------------------------------------------------------------


def test_activation_range_values():
    assert activation_range(Activation.NONE, 0.1, -5) == (-128, 127)
    assert activation_range(Activation.RELU, 0.1, -5) == (-5, 127)
    assert activation_range(Activation.RELU6, 0.1, -5) == (-5, 55)
    assert activation_range(Activation.RELU6, 4.0, -3) == (-3, -1)  # 6 / 4 = 1.5 rounds to 2
    assert activation_range(Activation.RELU6, 0.01, 100) == (100, 127)  # clamped to int8
    assert activation_range(Activation.RELU, 0.1, -128) == (-128, 127)
    # 6 / s is 53.5 in float32 but 53.49999... in double: TFLM divides in float32.
    assert activation_range(Activation.RELU6, 0.11214953660964966, -100) == (-100, -46)


def test_activation_range_rejects_bad_scale():
    with pytest.raises(ValueError, match="scale"):
        activation_range(Activation.RELU6, 0.0, 0)
    with pytest.raises(ValueError, match="int32"):
        activation_range(Activation.RELU6, 1e-30, 0)


def clamp_graph(scale: float, zp: int, act: Activation) -> Graph:
    """A 1x1 MAX_POOL_2D: its output is the input clamped to the activation range."""
    g = Graph()
    q = QuantParams.per_tensor(scale, zp)
    x = g.add_tensor(Tensor("x", (1, 16, 16, 1), "int8", q))
    y = g.add_tensor(Tensor("y", (1, 16, 16, 1), "int8", q))
    g.add_op(Op(OpKind.MAX_POOL_2D, [x], [y], Pool2DOptions((1, 1), (1, 1), Padding.VALID, act)))
    g.inputs, g.outputs = [x], [y]
    return g


@pytest.mark.parametrize(
    "scale, zp",
    [(0.11214953660964966, -100), (0.04528301954269409, -128), (0.07361963391304016, 20), (0.02, -128), (4.0, -3)],
)
def test_activation_range_matches_tflm(scale, zp):
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, 16, 16, 1)
    for act in Activation:
        g = clamp_graph(scale, zp, act)
        y = TflmOracle(to_tflite(g)).run(x)[0]
        assert (int(y.min()), int(y.max())) == activation_range(act, scale, zp)
        np.testing.assert_array_equal(interpreter.run(g, x)[0], y)


# -- compute_padding ---------------------------------------------------------------


@pytest.mark.parametrize(
    "args, expected",
    [
        ((5, 3, 2, 1, Padding.SAME), (1, 3)),
        ((5, 3, 2, 1, Padding.VALID), (0, 2)),
        ((7, 3, 1, 2, Padding.VALID), (0, 3)),  # dilated: effective filter 5
        ((7, 3, 1, 2, Padding.SAME), (2, 7)),
        ((4, 2, 1, 1, Padding.SAME), (0, 4)),  # even filter: the extra row goes below
        ((6, 4, 1, 1, Padding.SAME), (1, 6)),
        ((1, 1, 1, 1, Padding.VALID), (0, 1)),
        ((3, 5, 1, 1, Padding.SAME), (2, 3)),
    ],
)
def test_compute_padding(args, expected):
    assert compute_padding(*args) == expected


def test_compute_padding_rejects_bad_sizes():
    with pytest.raises(ValueError, match="larger than the input"):
        compute_padding(3, 5, 1, 1, Padding.VALID)
    with pytest.raises(ValueError, match=">= 1"):
        compute_padding(5, 3, 0, 1, Padding.SAME)


# -- lower -------------------------------------------------------------------------


def fc_graph(in_s, w_s, out_s, bias_value=0, bias_scale=None, per_channel=False) -> Graph:
    g = Graph()
    n = 2 if per_channel else 1
    x = g.add_tensor(Tensor("x", (1, 1), "int8", QuantParams.per_tensor(in_s, 0)))
    w_q = QuantParams(np.full(n, w_s, np.float32), np.zeros(n, np.int64))
    w = g.add_tensor(Tensor("w", (2, 1), "int8", w_q, np.ones((2, 1), np.int8)))
    b_q = QuantParams.per_tensor(in_s * w_s if bias_scale is None else bias_scale, 0)
    b = g.add_tensor(Tensor("b", (2,), "int32", b_q, np.full(2, bias_value, np.int32)))
    y = g.add_tensor(Tensor("y", (1, 2), "int8", QuantParams.per_tensor(out_s, 0)))
    g.add_op(Op(OpKind.FULLY_CONNECTED, [x, w, b], [y], FullyConnectedOptions()))
    g.inputs, g.outputs = [x], [y]
    return g


def test_lower_fully_connected_multiplier_is_formed_in_double_like_tflm():
    # Scales where double(in) * double(w) and the float32 product in*w give different
    # multipliers, and an accumulator that the difference flips (found by search).
    g = fc_graph(0.010559497401118279, 0.07960262894630432, 712.017822265625, bias_value=-15670828)
    p = lower(g, g.ops[0])
    assert isinstance(p, FullyConnectedParams) and (p.multiplier, p.shift) == (1329167083, -19)
    x = np.array([[1]], np.int8)
    expected = TflmOracle(to_tflite(g)).run(x)[0]
    np.testing.assert_array_equal(expected, [[-19, -19]])
    np.testing.assert_array_equal(interpreter.run(g, x)[0], expected)


def test_lower_fully_connected_per_channel_gives_arrays():
    p = lower(*_first(fc_graph(0.5, 0.25, 0.125, per_channel=True)))
    np.testing.assert_array_equal(p.multiplier, [1 << 30, 1 << 30])
    np.testing.assert_array_equal(p.shift, [1, 1])


def test_lower_rejects_fc_bias_with_wrong_scale():
    with pytest.raises(ValueError, match="bias scale"):
        lower(*_first(fc_graph(0.1, 0.1, 0.01, bias_scale=5.0)))


def _first(g: Graph):
    return g, g.ops[0]


def conv_graph(**change) -> Graph:
    spec = dict(x_shape=(1, 6, 6, 3), w_shape=(4, 3, 3, 3), y_shape=(1, 6, 6, 4), x_dtype="int8",
                n_scales=4, axis=0, kind=OpKind.CONV_2D, options=Conv2DOptions())
    spec.update(change)
    g = Graph()
    x = g.add_tensor(Tensor("x", spec["x_shape"], spec["x_dtype"], QuantParams.per_tensor(0.1, 0)))
    w_q = QuantParams(np.full(spec["n_scales"], 0.01, np.float32), np.zeros(spec["n_scales"], np.int64), spec["axis"])
    w = g.add_tensor(Tensor("w", spec["w_shape"], "int8", w_q, np.ones(spec["w_shape"], np.int8)))
    y = g.add_tensor(Tensor("y", spec["y_shape"], "int8", QuantParams.per_tensor(0.2, 1)))
    g.add_op(Op(spec["kind"], [x, w], [y], spec["options"]))
    g.inputs, g.outputs = [x], [y]
    return g


def test_lower_conv_params():
    g = conv_graph(options=Conv2DOptions((2, 2), Padding.SAME, Activation.RELU), y_shape=(1, 3, 3, 4))
    p = lower(g, g.ops[0])
    assert (p.input_offset, p.output_offset, p.act_min, p.act_max) == (0, 1, 1, 127)
    assert (p.pad_h, p.pad_w, p.out_h, p.out_w, p.stride_h, p.depth_multiplier) == (0, 0, 3, 3, 2, 1)
    f32 = [float(np.float32(v)) for v in (0.1, 0.01, 0.2)]  # the model stores float32 scales
    np.testing.assert_array_equal(p.multiplier, quantize_multiplier(f32[0] * f32[1] / f32[2])[0])


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(x_dtype="float32"), "must be int8"),
        (dict(y_shape=(1, 5, 5, 4)), "output shape"),
        (dict(n_scales=3), "scales on axis"),
        (dict(axis=3), "scales on axis"),
        (dict(w_shape=(4, 3, 3, 2)), "input channels"),
        (dict(options=FullyConnectedOptions()), "Conv2DOptions"),
        (dict(options=DepthwiseConv2DOptions()), "Conv2DOptions"),
        (dict(kind=OpKind.DEPTHWISE_CONV_2D, options=DepthwiseConv2DOptions(depth_multiplier=2),
              w_shape=(1, 3, 3, 4), y_shape=(1, 6, 6, 4), axis=3), "multiplier"),
        (dict(options=Conv2DOptions(padding=Padding.VALID), x_shape=(1, 2, 2, 3), y_shape=(1, 1, 1, 4)),
         "larger than the input"),
    ],
)
def test_lower_rejects_invalid_conv(change, message):
    g = conv_graph(**change)
    with pytest.raises(ValueError, match=message):
        lower(g, g.ops[0])


def test_lower_rejects_pool_that_requantizes():
    g = clamp_graph(0.1, 0, Activation.NONE)
    g.tensors[1] = Tensor("y", (1, 16, 16, 1), "int8", QuantParams.per_tensor(0.2, 0))
    with pytest.raises(ValueError, match="differs from output"):
        lower(g, g.ops[0])


def test_lower_rejects_huge_multiplier():
    g = fc_graph(1.0, 1.0, 1e-12)
    with pytest.raises(ValueError, match="too large"):
        lower(g, g.ops[0])
