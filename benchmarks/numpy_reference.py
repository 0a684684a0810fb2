"""Plain NumPy int8 kernels: the baseline the Numba mirror is benchmarked against.

Same names, signatures and int8 results as `edgehdc.kernels` (tests check it
bit for bit), written the way one writes NumPy: whole-array operations, no
Python loop over pixels or elements. Convolutions are im2col (a strided
window view) plus an int64 matrix product; requantization and SOFTMAX's
gemmlowp fixed point are integer arithmetic on int64 arrays. Argument checks
are the kernels' own, so bad input fails with the same ValueError.
`run_reference(graph, x)` interprets a whole IR graph.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from edgehdc.kernels import _checks
from edgehdc.kernels.interpreter import Interpreter
from edgehdc.kernels.quantize import quantize_f32_s8  # already plain NumPy
from edgehdc.quant.arith import (
    AddParams,
    ConvParams,
    DequantizeParams,
    FullyConnectedParams,
    MeanParams,
    PadParams,
    PoolParams,
    QuantizeParams,
    RequantizeParams,
    ReluParams,
    ReshapeParams,
    SoftmaxParams,
)
from edgehdc.quant.ir import Graph, OpKind

_INT32_MIN = -(1 << 31)
_INT32_MAX = (1 << 31) - 1


# -- fixed point (gemmlowp / TFLM), on int64 arrays holding int32 values ----------


def wrap_int32(v: np.ndarray) -> np.ndarray:
    """Two's complement wrap of int64 values to the int32 range (kept as int64)."""
    return ((np.asarray(v, np.int64) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def srdhm(a, b) -> np.ndarray:
    """SaturatingRoundingDoublingHighMul: round(a * b / 2**31), ties toward +inf (gemmlowp's nudge)."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    ab = a * b  # |a * b| <= 2**62: int64 holds it
    t = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    high = wrap_int32(np.where(t >= 0, t >> 31, -((-t) >> 31)))  # C division truncates
    return np.where((a == _INT32_MIN) & (b == _INT32_MIN), _INT32_MAX, high)


def rounding_divide_by_pot(x, exponent) -> np.ndarray:
    """RoundingDivideByPOT: x / 2**exponent, halves away from zero (exponent may be an array)."""
    x, exponent = np.asarray(x, np.int64), np.asarray(exponent, np.int64)
    mask = (np.int64(1) << exponent) - 1
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + ((x & mask) > threshold)


def multiply_by_quantized_multiplier(acc, mult, shift) -> np.ndarray:
    """TFLM MultiplyByQuantizedMultiplier on int64 arrays (acc int32-valued; mult, shift broadcast)."""
    acc, shift = np.asarray(acc, np.int64), np.asarray(shift, np.int64)
    x = wrap_int32(acc << np.maximum(shift, 0))
    return rounding_divide_by_pot(srdhm(x, mult), np.maximum(-shift, 0))


def requantize_s8(acc, mult, shift, output_offset: int, act_min: int, act_max: int) -> np.ndarray:
    """int64 accumulators (bias added) -> int8: wrap to int32, scale, offset, clamp."""
    y = multiply_by_quantized_multiplier(wrap_int32(acc), mult, shift)
    return np.clip(y + output_offset, act_min, act_max).astype(np.int8)


# -- convolution and fully connected ------------------------------------------


def conv2d_s8(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None, p: ConvParams) -> np.ndarray:
    """int8[N,H,W,C] * int8[O,KH,KW,C] (+ int32[O]) -> int8[N,OH,OW,O]; see edgehdc.kernels.conv."""
    x = _checks.int8_array(x, 4, "conv2d_s8 input")
    weights = _checks.int8_array(weights, 4, "conv2d_s8 weights")
    out_c, kh, kw, in_c = weights.shape
    if in_c != x.shape[3]:
        raise ValueError(f"conv2d_s8: weights {weights.shape} need {in_c} input channels, got {x.shape[3]}")
    bias, mult, shift = _conv_checks(x, bias, p, out_c, "conv2d_s8")
    cols = _windows(x, p, kh, kw)  # [N, OH, OW, C, KH, KW]
    cols = cols.transpose(0, 1, 2, 4, 5, 3).reshape(-1, kh * kw * in_c)
    acc = cols @ weights.reshape(out_c, -1).T.astype(np.int64) + bias
    y = requantize_s8(acc, mult, shift, p.output_offset, p.act_min, p.act_max)
    return y.reshape(x.shape[0], p.out_h, p.out_w, out_c)


def depthwise_conv2d_s8(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None, p: ConvParams) -> np.ndarray:
    """int8[N,H,W,C] * int8[1,KH,KW,C*M] (+ int32[C*M]) -> int8[N,OH,OW,C*M]; output o reads channel o // M."""
    x = _checks.int8_array(x, 4, "depthwise_conv2d_s8 input")
    weights = _checks.int8_array(weights, 4, "depthwise_conv2d_s8 weights")
    _checks.positive("depthwise_conv2d_s8", depth_multiplier=p.depth_multiplier)
    _, kh, kw, out_c = weights.shape
    if weights.shape[0] != 1 or out_c != x.shape[3] * p.depth_multiplier:
        raise ValueError(
            f"depthwise_conv2d_s8: weights {weights.shape} must be [1, KH, KW, "
            f"{x.shape[3]} * {p.depth_multiplier}]"
        )
    bias, mult, shift = _conv_checks(x, bias, p, out_c, "depthwise_conv2d_s8")
    cols = np.repeat(_windows(x, p, kh, kw), p.depth_multiplier, axis=3)  # [N, OH, OW, O, KH, KW]
    acc = np.einsum("nhwokl,klo->nhwo", cols, weights[0].astype(np.int64)) + bias
    return requantize_s8(acc, mult, shift, p.output_offset, p.act_min, p.act_max)


def fully_connected_s8(
    x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None, p: FullyConnectedParams
) -> np.ndarray:
    """int8[N,IN] x int8[OUT,IN]^T (+ int32[OUT]) -> int8[N,OUT]; see edgehdc.kernels.fully_connected."""
    x, weights, bias, mult, shift = _checks.fully_connected_args(x, weights, bias, p)
    acc = (x.astype(np.int64) + p.input_offset) @ weights.T.astype(np.int64) + bias
    return requantize_s8(acc, mult, shift, p.output_offset, p.act_min, p.act_max)


def _conv_checks(x, bias, p: ConvParams, out_c: int, what: str):
    _checks.not_empty(x, what)
    bias, mult, shift = _checks.conv_params(bias, p, out_c, what)
    return bias.astype(np.int64), mult, shift


def _windows(x: np.ndarray, p: ConvParams, kh: int, kw: int) -> np.ndarray:
    """Offset input patches int64 [N, OH, OW, C, KH, KW]; padding cells are 0, so they add nothing."""
    xo = _padded(x.astype(np.int64) + p.input_offset, 0, p.pad_h, p.pad_w,
                 (p.out_h - 1) * p.stride_h + (kh - 1) * p.dilation_h + 1,
                 (p.out_w - 1) * p.stride_w + (kw - 1) * p.dilation_w + 1)
    span_h, span_w = (kh - 1) * p.dilation_h + 1, (kw - 1) * p.dilation_w + 1
    win = sliding_window_view(xo, (span_h, span_w), axis=(1, 2))
    return win[:, : p.out_h * p.stride_h : p.stride_h, : p.out_w * p.stride_w : p.stride_w,
               :, :: p.dilation_h, :: p.dilation_w]


def _padded(x: np.ndarray, fill, pad_h: int, pad_w: int, need_h: int, need_w: int) -> np.ndarray:
    """`x` [N,H,W,C] with `pad_h`/`pad_w` cells of `fill` before and enough after to span need_h x need_w."""
    after_h = max(need_h - pad_h - x.shape[1], 0)
    after_w = max(need_w - pad_w - x.shape[2], 0)
    return np.pad(x, ((0, 0), (pad_h, after_h), (pad_w, after_w), (0, 0)), constant_values=fill)


# -- pooling --------------------------------------------------------------------


def avg_pool2d_s8(x: np.ndarray, p: PoolParams) -> np.ndarray:
    """int8[N,H,W,C] -> int8[N,OH,OW,C]: mean over the in-image cells, halves away from zero."""
    _checks.pool_params(p, "avg_pool2d_s8")
    x = _checks.pool_input(x, p, "avg_pool2d_s8")
    total = _pool_windows(x.astype(np.int64), 0, p).sum(axis=(4, 5))
    ones = np.ones((1, *x.shape[1:3], 1), np.int64)
    count = _pool_windows(ones, 0, p).sum(axis=(4, 5))
    half = count // 2
    mean = np.where(total > 0, (total + half) // count, -((-total + half) // count))
    return np.clip(mean, p.act_min, p.act_max).astype(np.int8)


def max_pool2d_s8(x: np.ndarray, p: PoolParams) -> np.ndarray:
    """int8[N,H,W,C] -> int8[N,OH,OW,C]: max over the in-image cells."""
    _checks.pool_params(p, "max_pool2d_s8")
    x = _checks.pool_input(x, p, "max_pool2d_s8")
    # int16 padding below every int8 value is never the max: each window touches the image.
    largest = _pool_windows(x.astype(np.int16), -129, p).max(axis=(4, 5))
    return np.clip(largest, p.act_min, p.act_max).astype(np.int8)


def _pool_windows(x: np.ndarray, fill, p: PoolParams) -> np.ndarray:
    """Windows [N, OH, OW, C, FH, FW] of `x` padded with `fill`."""
    xp = _padded(x, fill, p.pad_h, p.pad_w, (p.out_h - 1) * p.stride_h + p.filter_h,
                 (p.out_w - 1) * p.stride_w + p.filter_w)
    win = sliding_window_view(xp, (p.filter_h, p.filter_w), axis=(1, 2))
    return win[:, : p.out_h * p.stride_h : p.stride_h, : p.out_w * p.stride_w : p.stride_w]


# -- elementwise: ADD, RELU, RELU6 ---------------------------------------------------


def add_s8(a: np.ndarray, b: np.ndarray, p: AddParams) -> np.ndarray:
    """int8 a + int8 b (broadcast) -> int8, each input at its own scale; see edgehdc.kernels.elementwise."""
    for name, v in (("a", a), ("b", b)):
        if not isinstance(v, np.ndarray) or v.dtype != np.int8:
            raise ValueError(f"add_s8 input {name} must be an int8 array")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"add_s8: shapes {a.shape} and {b.shape} do not broadcast") from None
    _checks.act_range(p.act_min, p.act_max, "add_s8")
    if not 0 <= p.left_shift <= 20 or max(p.input1_shift, p.input2_shift, p.output_shift) > 0:
        raise ValueError(f"add_s8: left_shift must be in [0, 20] and the multipliers < 1, got {p}")
    a1 = multiply_by_quantized_multiplier(
        wrap_int32((a.astype(np.int64) + p.input1_offset) << p.left_shift), p.input1_multiplier, p.input1_shift)
    b1 = multiply_by_quantized_multiplier(
        wrap_int32((b.astype(np.int64) + p.input2_offset) << p.left_shift), p.input2_multiplier, p.input2_shift)
    return requantize_s8(a1 + b1, p.output_multiplier, p.output_shift, p.output_offset, p.act_min, p.act_max)


def relu_s8(x: np.ndarray, p: ReluParams) -> np.ndarray:
    """RELU or RELU6 on int8, any shape: rescaled to the output quantization, then clamped (TFLite)."""
    if not isinstance(x, np.ndarray) or x.dtype != np.int8:
        raise ValueError("relu_s8 input must be an int8 array")
    _checks.act_range(p.act_min, p.act_max, "relu_s8")
    v = p.output_zero_point + multiply_by_quantized_multiplier(
        x.astype(np.int64) - p.input_zero_point, p.multiplier, p.shift)
    return np.clip(v, p.act_min, p.act_max).astype(np.int8)


# -- SOFTMAX (gemmlowp fixed point, TFLM reference softmax.h) ----------------------------

# exp(-2**k) in Q0.31 for k = -2 .. 4: the barrel shifter of exp_on_negative_values.
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))
_ACCUMULATION_INTEGER_BITS = 12


def _saturating_shift_left(x: np.ndarray, exponent: int) -> np.ndarray:
    """x * 2**exponent (exponent > 0), saturated to int32."""
    limit = (1 << (31 - exponent)) - 1
    return np.where(x > limit, _INT32_MAX, np.where(x < -limit, _INT32_MIN, x << exponent))


def _exp_on_quarter_interval(a: np.ndarray) -> np.ndarray:
    """exp(a) for Q0.31 a in [-1/4, 0): Taylor series around -1/8."""
    constant_term, one_third = 1895147668, 715827883  # exp(-1/8), 1/3 in Q0.31
    x = wrap_int32(a + (1 << 28))
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4_over_4 = rounding_divide_by_pot(srdhm(x2, x2), 2)
    tail = rounding_divide_by_pot(wrap_int32(srdhm(wrap_int32(x4_over_4 + x3), one_third) + x2), 1)
    return wrap_int32(constant_term + srdhm(constant_term, wrap_int32(x + tail)))


def _exp_on_negative_values_q5(a: np.ndarray) -> np.ndarray:
    """gemmlowp exp_on_negative_values: Q5.26 input <= 0 -> Q0.31."""
    one_quarter = 1 << 24
    a_mod = wrap_int32((a & (one_quarter - 1)) - one_quarter)
    result = _exp_on_quarter_interval(_saturating_shift_left(a_mod, 5))
    remainder = wrap_int32(a_mod - a)
    for k, multiplier in _EXP_BARREL:
        result = np.where(remainder & (1 << (26 + k)), srdhm(result, multiplier), result)
    return np.where(a == 0, _INT32_MAX, result)


def _one_over_one_plus_x(a: np.ndarray) -> np.ndarray:
    """1 / (1 + a) for Q0.31 a in [0, 1): Newton-Raphson in Q2.29 -> Q0.31."""
    s = a + _INT32_MAX  # rounding half sum of a and 1.0
    s = s + np.where(s >= 0, 1, -1)
    half_denominator = np.where(s >= 0, s // 2, -((-s) // 2))
    x = wrap_int32(1515870810 + srdhm(half_denominator, -1010580540))  # 48/17 - 32/17 d
    for _ in range(3):
        one_minus = wrap_int32((1 << 29) - srdhm(half_denominator, x))
        x = wrap_int32(x + _saturating_shift_left(srdhm(x, one_minus), 2))
    return _saturating_shift_left(x, 1)


def _reciprocal(x: np.ndarray, integer_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLite GetReciprocal on positive int32 values: (Q0.31 scale, num_bits_over_unit)."""
    bit_length = np.frexp(x.astype(np.float64))[1]  # exact: x < 2**32
    headroom_plus_one = 32 - bit_length
    shifted = ((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31)
    return _one_over_one_plus_x(wrap_int32(shifted)), integer_bits - headroom_plus_one


def softmax_s8(x: np.ndarray, p: SoftmaxParams) -> np.ndarray:
    """int8[..., D] -> int8[..., D], softmax over the last axis (scale 1/256, zero point -128)."""
    if not isinstance(x, np.ndarray) or x.dtype != np.int8 or x.ndim < 1 or x.shape[-1] < 1:
        raise ValueError("softmax_s8 input must be a non-empty int8 array")
    if not 0 <= p.input_left_shift <= 31 or not 0 <= p.input_multiplier < 1 << 31 or p.diff_min > 0:
        raise ValueError(f"softmax_s8: bad parameters {p}")
    rows = x.reshape(-1, x.shape[-1]).astype(np.int64)
    diff = rows - rows.max(axis=1, keepdims=True)
    live = diff >= p.diff_min
    exps = _exp_on_negative_values_q5(srdhm(wrap_int32(diff << p.input_left_shift), p.input_multiplier))
    total = wrap_int32(np.where(live, rounding_divide_by_pot(exps, _ACCUMULATION_INTEGER_BITS), 0).sum(axis=1))
    scale, bits = _reciprocal(total, _ACCUMULATION_INTEGER_BITS)
    y = rounding_divide_by_pot(srdhm(scale[:, None], exps), bits[:, None] + 31 - 8) - 128
    return np.where(live, np.clip(y, -128, 127), -128).astype(np.int8).reshape(x.shape)


# -- QUANTIZE, DEQUANTIZE, MEAN, RESHAPE, PAD ------------------------------------------------


def requantize_s8_s8(x: np.ndarray, p: RequantizeParams) -> np.ndarray:
    """int8 -> int8 from the input's scale and zero point to the output's."""
    if not isinstance(x, np.ndarray) or x.dtype != np.int8:
        raise ValueError("requantize_s8_s8 input must be an int8 array")
    if not -31 <= p.shift <= 30 or not 0 <= p.multiplier < 1 << 31:
        raise ValueError(f"requantize_s8_s8: bad multiplier/shift {p.multiplier}, {p.shift}")
    return requantize_s8(x.astype(np.int64) - p.input_zero_point, p.multiplier, p.shift,
                         p.output_zero_point, -128, 127)


def dequantize_s8_f32(x: np.ndarray, p: DequantizeParams) -> np.ndarray:
    """int8 -> float32: float32(double(scale) * (q - zero_point))."""
    if not isinstance(x, np.ndarray) or x.dtype != np.int8:
        raise ValueError("dequantize_s8_f32 input must be an int8 array")
    return (np.float64(np.float32(p.scale)) * (x.astype(np.int64) - p.zero_point)).astype(np.float32)


def mean_hw_s8(x: np.ndarray, p: MeanParams) -> np.ndarray:
    """int8[N,H,W,C] -> int8[N,1,1,C]: MBQM(channel sum - input_zp * H * W) + output_zp, clamped.

    p.multiplier already folds input_scale / output_scale / (H * W), as TFLM does.
    """
    x = _checks.int8_array(x, 4, "mean_hw_s8 input")
    if x.shape[1] * x.shape[2] != p.count or p.count < 1:
        raise ValueError(f"mean_hw_s8: input {x.shape} does not have {p.count} cells per channel")
    if not -31 <= p.shift <= 30 or not 0 <= p.multiplier < 1 << 31:
        raise ValueError(f"mean_hw_s8: bad multiplier/shift {p.multiplier}, {p.shift}")
    acc = x.astype(np.int64).sum(axis=(1, 2), keepdims=True) - p.input_zero_point * p.count
    return requantize_s8(acc, p.multiplier, p.shift, p.output_zero_point, -128, 127)


def reshape(x: np.ndarray, p: ReshapeParams) -> np.ndarray:
    """x with the per-sample shape p.shape[1:], batch size kept from x."""
    shape = (x.shape[0], *p.shape[1:])
    if int(np.prod(shape, dtype=np.int64)) != x.size:
        raise ValueError(f"reshape: cannot reshape {x.shape} into {shape}")
    return x.reshape(shape)


def pad_s8(x: np.ndarray, p: PadParams) -> np.ndarray:
    """int8 rank <= 4, padded with p.pad_value; p.before/p.after per dimension."""
    _checks.pad_input(x, p)
    return np.pad(x, list(zip(p.before, p.after)), constant_values=np.int8(p.pad_value))


# -- whole graph -------------------------------------------------------------------


def run_reference(graph: Graph, x: np.ndarray) -> list[np.ndarray]:
    """Outputs of `graph` for input `x`, computed with the NumPy kernels.

    The project's interpreter walks the graph; only the kernels differ.
    """
    return reference_interpreter(graph).run(x)


def reference_interpreter(graph: Graph) -> Interpreter:
    """A prepared interpreter whose every op runs on the NumPy kernels."""
    return Interpreter(graph, runners=_RUNNERS)


def _conv(graph, op, p, x):
    conv = conv2d_s8 if OpKind(op.kind) is OpKind.CONV_2D else depthwise_conv2d_s8
    return conv(x, *graph.weights_and_bias(op), p)


def _fully_connected(graph, op, p, x):
    weights, bias = graph.weights_and_bias(op)
    # TFLM flattens the input to rows of weights.shape[1] values.
    y = fully_connected_s8(x.reshape(-1, weights.shape[1]), weights, bias, p)
    return y.reshape(x.shape[0], *graph.tensors[op.outputs[0]].shape[1:])


# One runner per op kind: (graph, op, lowered params, data operands) -> output.
_RUNNERS = {
    OpKind.CONV_2D: _conv,
    OpKind.DEPTHWISE_CONV_2D: _conv,
    OpKind.FULLY_CONNECTED: _fully_connected,
    OpKind.AVERAGE_POOL_2D: lambda graph, op, p, x: avg_pool2d_s8(x, p),
    OpKind.MAX_POOL_2D: lambda graph, op, p, x: max_pool2d_s8(x, p),
    OpKind.ADD: lambda graph, op, p, a, b: add_s8(a, b, p),
    OpKind.RESHAPE: lambda graph, op, p, x: reshape(x, p),
    OpKind.SOFTMAX: lambda graph, op, p, x: softmax_s8(x, p),
    OpKind.QUANTIZE: lambda graph, op, p, x: (
        quantize_f32_s8(x, p) if isinstance(p, QuantizeParams) else requantize_s8_s8(x, p)),
    OpKind.DEQUANTIZE: lambda graph, op, p, x: dequantize_s8_f32(x, p),
    OpKind.PAD: lambda graph, op, p, x: pad_s8(x, p),
    OpKind.MEAN: lambda graph, op, p, x: mean_hw_s8(x, p),
    OpKind.RELU: lambda graph, op, p, x: relu_s8(x, p),
    OpKind.RELU6: lambda graph, op, p, x: relu_s8(x, p),
}
# Activation operands per op; the rest (weights, shapes, paddings, axes) are constants.
