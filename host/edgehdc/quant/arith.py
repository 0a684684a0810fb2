"""Integer parameters derived from an int8 graph, exactly as TFLM's Prepare derives them.

`lower(graph, op)` turns one IR op into the integer parameters its kernel
needs. The Numba mirror (`edgehdc.kernels`) and the firmware export
(`edgehdc.export`) both read these, so the arithmetic is defined once.

Floating point follows TFLM to the bit: scales are float32 in the model and
are promoted to double before the multiplier is formed; activation clamps
quantize 0 and 6 in float32; every rounding is half away from zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edgehdc.quant.ir import (
    Activation,
    AddOptions,
    Conv2DOptions,
    DepthwiseConv2DOptions,
    FullyConnectedOptions,
    Graph,
    MeanOptions,
    Op,
    OpKind,
    Padding,
    Pool2DOptions,
    QuantParams,
    SoftmaxOptions,
    Tensor,
)

INT8_MIN, INT8_MAX = -128, 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
# A left shift above 30 makes TFLM compute `x * (1 << shift)` out of int32 range.
MAX_LEFT_SHIFT = 30


@dataclass(frozen=True)
class ConvParams:
    """CONV_2D / DEPTHWISE_CONV_2D. Offsets follow TFLM: input_offset = -input_zp."""

    input_offset: int
    output_offset: int
    multiplier: np.ndarray  # int32 [out_ch], Q31
    shift: np.ndarray  # int32 [out_ch], left shift when > 0
    stride_h: int
    stride_w: int
    pad_h: int  # top padding (bottom is implied)
    pad_w: int  # left padding
    dilation_h: int
    dilation_w: int
    depth_multiplier: int  # 1 for CONV_2D
    act_min: int
    act_max: int
    out_h: int
    out_w: int


@dataclass(frozen=True)
class FullyConnectedParams:
    """FULLY_CONNECTED. Per-tensor weights give int multiplier/shift; per-channel
    weights (TFLM supports them) give int32 [out] arrays (the firmware's
    `ehd_fc_params` holds either, flagged by `per_channel`)."""

    input_offset: int
    output_offset: int
    multiplier: int | np.ndarray
    shift: int | np.ndarray
    act_min: int
    act_max: int


@dataclass(frozen=True)
class PoolParams:
    filter_h: int
    filter_w: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    act_min: int
    act_max: int
    out_h: int
    out_w: int


@dataclass(frozen=True)
class AddParams:
    """ADD (TFLM `add.cc`): both inputs are shifted left by `left_shift` (20 for
    int8), scaled to a common scale by their own multipliers, summed, then scaled
    to the output. Offsets follow TFLM: input offsets are -zero_point."""

    input1_offset: int
    input2_offset: int
    output_offset: int
    left_shift: int
    input1_multiplier: int
    input1_shift: int  # <= 0: a right shift
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


@dataclass(frozen=True)
class SoftmaxParams:
    """SOFTMAX int8 -> int8 (TFLM `softmax_common.cc`, gemmlowp fixed point).
    Output scale is 1/256 and zero point -128."""

    input_multiplier: int
    input_left_shift: int
    diff_min: int


@dataclass(frozen=True)
class QuantizeParams:
    """QUANTIZE float32 -> int8: q = clamp(round(float32(x) / float32(scale)) + zero_point)."""

    scale: float
    zero_point: int


@dataclass(frozen=True)
class RequantizeParams:
    """QUANTIZE int8 -> int8: q = clamp(MBQM(x - input_zp, multiplier, shift) + output_zp)."""

    input_zero_point: int
    output_zero_point: int
    multiplier: int
    shift: int


@dataclass(frozen=True)
class DequantizeParams:
    """DEQUANTIZE int8 -> float32: float32(double(scale) * (q - zero_point))."""

    scale: float
    zero_point: int


@dataclass(frozen=True)
class ReshapeParams:
    """RESHAPE copies the values; only the per-sample output shape changes."""

    shape: tuple[int, ...]


@dataclass(frozen=True)
class PadParams:
    """PAD int8: `before`/`after` per dimension, new cells get `pad_value`
    (the output zero point); values are copied, never requantized (as TFLM)."""

    before: tuple[int, ...]
    after: tuple[int, ...]
    pad_value: int


@dataclass(frozen=True)
class MeanParams:
    """MEAN int8 over height and width of NHWC (TFLM `reduce_common.cc`): the
    multiplier folds input_scale / output_scale and 1 / count, count = H * W:
    y = clamp(MBQM(sum(x) - input_zp * count, multiplier, shift) + output_zp)."""

    input_zero_point: int
    output_zero_point: int
    count: int
    multiplier: int
    shift: int


@dataclass(frozen=True)
class ReluParams:
    """RELU / RELU6 int8 as TFLite defines them (`activations.cc`, ReluX), not as TFLM computes them:

        y = clamp(output_zp + MBQM(x - input_zp, multiplier, shift), act_min, act_max)

    The multiplier is float32(input_scale / output_scale); act_min is the output
    zero point, act_max 127 (RELU) or output_zp + round(6 / output_scale) (RELU6),
    both in the *output's* quantization. TFLM's RELU6 only clamps the raw input
    and its RELU forms the multiplier in double: docs/parity.md."""

    input_zero_point: int
    output_zero_point: int
    multiplier: int
    shift: int
    act_min: int
    act_max: int


def round_half_away(x: float) -> int:
    """TfLiteRound / std::round: nearest integer, halves away from zero."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier: real ~= multiplier * 2**(shift - 31), multiplier Q31.

    Returns (multiplier, shift) with multiplier in [2**30, 2**31) (or 0) and
    shift > 0 a left shift. Multipliers below ~2**-31 flush to (0, 0).
    """
    real = float(real)
    if not math.isfinite(real) or real < 0.0:
        raise ValueError(f"multiplier must be finite and non-negative, got {real!r}")
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def _quantize_float32(value: float, scale: float, zero_point: int) -> int:
    """TFLM's Quantize() helper: zero_point + round(float32(value) / float32(scale))."""
    with np.errstate(over="ignore", divide="ignore"):
        tmp = float(np.float32(value) / np.float32(scale))
    q = round_half_away(tmp) if math.isfinite(tmp) else tmp
    if not (INT32_MIN <= q <= INT32_MAX):
        raise ValueError(f"{value} / scale {scale} does not fit int32: scale too small")
    return int(zero_point) + int(q)


def activation_range(activation: Activation, scale: float, zero_point: int) -> tuple[int, int]:
    """TFLite CalculateActivationRangeQuantized for int8 outputs: (act_min, act_max)."""
    if not scale > 0:
        raise ValueError(f"output scale must be positive, got {scale!r}")
    activation = Activation(activation)
    act_min, act_max = INT8_MIN, INT8_MAX
    if activation in (Activation.RELU, Activation.RELU6):
        act_min = max(act_min, _quantize_float32(0.0, scale, zero_point))
    if activation is Activation.RELU6:
        act_max = min(act_max, _quantize_float32(6.0, scale, zero_point))
    return act_min, act_max


def compute_padding(
    in_size: int, filter: int, stride: int, dilation: int, padding: Padding
) -> tuple[int, int]:
    """TFLite ComputeOutSize + ComputePadding: returns (pad_before, out_size)."""
    if min(in_size, filter, stride, dilation) < 1:
        raise ValueError(
            f"sizes must be >= 1: in={in_size} filter={filter} stride={stride} dilation={dilation}"
        )
    effective = (filter - 1) * dilation + 1
    padding = Padding(padding)
    if padding is Padding.SAME:
        out_size = (in_size + stride - 1) // stride
    else:
        out_size = (in_size + stride - effective) // stride
    if out_size < 1:
        raise ValueError(f"VALID window {effective} is larger than the input {in_size}")
    pad = ((out_size - 1) * stride + effective - in_size) // 2
    return max(pad, 0), out_size


def lower(graph: Graph, op: Op):
    """Integer kernel parameters for `op`, computed as TFLM's Prepare computes them.

    Returns the op's `*Params` (ConvParams, FullyConnectedParams, PoolParams,
    AddParams, ...). Raises ValueError naming the problem for anything TFLM
    would reject or our kernels do not implement (dtypes, shapes,
    quantization, options).
    """
    try:
        kind = OpKind(op.kind)
    except ValueError:
        raise ValueError(f"unknown op kind {op.kind!r}") from None
    return _LOWERINGS[kind](graph, op, kind)


# -- helpers ---------------------------------------------------------------


def _tensor(graph: Graph, index: int, what: str) -> Tensor:
    if not 0 <= index < len(graph.tensors):
        raise ValueError(f"{what}: tensor index {index} out of range")
    return graph.tensors[index]


def _activation_quant(t: Tensor, what: str) -> tuple[float, int]:
    """(float32 scale, zero point) of a per-tensor int8 activation."""
    if t.dtype != "int8":
        raise ValueError(f"{what} {t.name!r} must be int8, got {t.dtype}")
    if t.quant is None or t.quant.per_channel:
        raise ValueError(f"{what} {t.name!r} needs per-tensor quantization")
    scale = float(np.float32(t.quant.scale[0]))
    zp = int(t.quant.zero_point[0])
    if not scale > 0 or not INT8_MIN <= zp <= INT8_MAX:
        raise ValueError(f"{what} {t.name!r}: bad scale {scale} or zero point {zp}")
    return scale, zp


def _weight_scales(w: Tensor, channels: int, axis: int, what: str) -> np.ndarray:
    """Float32 weight scales broadcast to `channels` (TFLM broadcasts per-tensor)."""
    if w.dtype != "int8" or w.data is None or w.data.dtype != np.int8:
        raise ValueError(f"{what} weights {w.name!r} must be constant int8")
    if tuple(w.data.shape) != tuple(w.shape):
        raise ValueError(f"{what} weights {w.name!r}: data shape {w.data.shape} != {w.shape}")
    q: QuantParams | None = w.quant
    if q is None:
        raise ValueError(f"{what} weights {w.name!r} have no quantization")
    if np.any(np.asarray(q.zero_point) != 0):
        raise ValueError(f"{what} weights {w.name!r} must be symmetric (zero point 0)")
    scales = np.asarray(q.scale, np.float32).reshape(-1)
    if q.per_channel:
        if q.axis != axis or scales.size != channels:
            raise ValueError(
                f"{what} weights {w.name!r}: {scales.size} scales on axis {q.axis}, "
                f"expected {channels} on axis {axis}"
            )
    else:
        scales = np.repeat(scales, channels)
    if not np.all(scales > 0):
        raise ValueError(f"{what} weights {w.name!r}: scales must be positive")
    return scales


def _check_bias(graph: Graph, op: Op, channels: int, what: str) -> Tensor | None:
    if len(op.inputs) < 3 or op.inputs[2] < 0:
        return None
    b = _tensor(graph, op.inputs[2], what)
    if b.dtype != "int32" or b.data is None or b.data.dtype != np.int32:
        raise ValueError(f"{what} bias {b.name!r} must be constant int32")
    if tuple(b.data.shape) != (channels,):
        raise ValueError(f"{what} bias {b.name!r} has shape {b.data.shape}, expected ({channels},)")
    return b


def _multipliers(
    in_scale: float, w_scales: np.ndarray, out_scale: float, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """PopulateConvolutionQuantizationParams: double(in) * double(w[c]) / double(out)."""
    mult, shift = [], []
    for ws in w_scales:
        m, s = quantize_multiplier(in_scale * float(ws) / out_scale)
        if s > MAX_LEFT_SHIFT:
            raise ValueError(f"{what}: effective scale too large (left shift {s})")
        mult.append(m)
        shift.append(s)
    return np.array(mult, np.int32), np.array(shift, np.int32)


def _io(graph: Graph, op: Op, n_in: tuple[int, ...], what: str) -> tuple[Tensor, Tensor]:
    if len(op.inputs) not in n_in or len(op.outputs) != 1:
        raise ValueError(f"{what}: expected {n_in} inputs and 1 output, got {op.inputs} -> {op.outputs}")
    return _tensor(graph, op.inputs[0], what), _tensor(graph, op.outputs[0], what)


def _lower_conv(graph: Graph, op: Op, kind: OpKind) -> ConvParams:
    what = kind.value
    depthwise = kind is OpKind.DEPTHWISE_CONV_2D
    opts = op.options
    expected = DepthwiseConv2DOptions if depthwise else Conv2DOptions
    if not isinstance(opts, expected) or (not depthwise and isinstance(opts, DepthwiseConv2DOptions)):
        raise ValueError(f"{what} needs {expected.__name__}, got {type(opts).__name__}")
    x, y = _io(graph, op, (2, 3), what)
    w = _tensor(graph, op.inputs[1], what)
    in_scale, in_zp = _activation_quant(x, f"{what} input")
    out_scale, out_zp = _activation_quant(y, f"{what} output")
    if len(x.shape) != 4 or len(y.shape) != 4 or len(w.shape) != 4:
        raise ValueError(f"{what}: input, weights and output must be 4-D")
    _, in_h, in_w, in_c = x.shape
    if depthwise:
        mult = opts.depth_multiplier
        if mult < 1 or w.shape[0] != 1 or w.shape[3] != in_c * mult:
            raise ValueError(
                f"{what}: weights {w.shape} do not match input channels {in_c} x multiplier {mult}"
            )
        out_c, kh, kw, axis = w.shape[3], w.shape[1], w.shape[2], 3
    else:
        mult = 1
        if w.shape[3] != in_c:
            raise ValueError(f"{what}: weights {w.shape} need {in_c} input channels (no groups)")
        out_c, kh, kw, axis = w.shape[0], w.shape[1], w.shape[2], 0
    w_scales = _weight_scales(w, out_c, axis, what)
    _check_bias(graph, op, out_c, what)
    pad_h, out_h = compute_padding(in_h, kh, opts.stride[0], opts.dilation[0], opts.padding)
    pad_w, out_w = compute_padding(in_w, kw, opts.stride[1], opts.dilation[1], opts.padding)
    if tuple(y.shape) != (x.shape[0], out_h, out_w, out_c):
        raise ValueError(f"{what}: output shape {y.shape}, expected {(x.shape[0], out_h, out_w, out_c)}")
    multiplier, shift = _multipliers(in_scale, w_scales, out_scale, what)
    act_min, act_max = activation_range(opts.activation, out_scale, out_zp)
    return ConvParams(
        input_offset=-in_zp, output_offset=out_zp, multiplier=multiplier, shift=shift,
        stride_h=opts.stride[0], stride_w=opts.stride[1], pad_h=pad_h, pad_w=pad_w,
        dilation_h=opts.dilation[0], dilation_w=opts.dilation[1], depth_multiplier=mult,
        act_min=act_min, act_max=act_max, out_h=out_h, out_w=out_w,
    )


def _lower_fully_connected(graph: Graph, op: Op, kind: OpKind) -> FullyConnectedParams:
    what = "FULLY_CONNECTED"
    opts = op.options if op.options is not None else FullyConnectedOptions()
    if not isinstance(opts, FullyConnectedOptions):
        raise ValueError(f"{what} needs FullyConnectedOptions, got {type(opts).__name__}")
    x, y = _io(graph, op, (2, 3), what)
    w = _tensor(graph, op.inputs[1], what)
    in_scale, in_zp = _activation_quant(x, f"{what} input")
    out_scale, out_zp = _activation_quant(y, f"{what} output")
    if len(w.shape) != 2:
        raise ValueError(f"{what}: weights must be [out, in], got {w.shape}")
    out_n, in_n = w.shape
    w_scales = _weight_scales(w, out_n, 0, what)
    bias = _check_bias(graph, op, out_n, what)
    rows, rem = divmod(int(np.prod(x.shape)), in_n)
    if rem or y.shape[-1] != out_n or int(np.prod(y.shape)) != rows * out_n:
        raise ValueError(f"{what}: input {x.shape}, weights {w.shape} and output {y.shape} disagree")
    if bias is not None and not w.quant.per_channel:
        # TFLM's GetQuantizedConvolutionMultipler refuses a bias off the input*weight scale
        # (a bias without quantization has scale 0 there; NaN fails the test too).
        bias_scale = float(np.float32(bias.quant.scale[0])) if bias.quant is not None else 0.0
        if not abs(in_scale * float(w_scales[0]) - bias_scale) / out_scale <= 0.02:
            raise ValueError(f"{what}: bias scale {bias_scale} is not input_scale * weight_scale")
    # The pip TFLM forms double(in) * double(w) / double(out) for per-tensor FC too
    # (checked against it: TFLite's older float32 product gives other multipliers).
    multiplier, shift = _multipliers(in_scale, w_scales, out_scale, what)
    if not w.quant.per_channel:
        multiplier, shift = int(multiplier[0]), int(shift[0])
    act_min, act_max = activation_range(opts.activation, out_scale, out_zp)
    return FullyConnectedParams(
        input_offset=-in_zp, output_offset=out_zp, multiplier=multiplier, shift=shift,
        act_min=act_min, act_max=act_max,
    )


def _lower_pool(graph: Graph, op: Op, kind: OpKind) -> PoolParams:
    what = kind.value
    opts = op.options
    if not isinstance(opts, Pool2DOptions):
        raise ValueError(f"{what} needs Pool2DOptions, got {type(opts).__name__}")
    x, y = _io(graph, op, (1,), what)
    in_q = _activation_quant(x, f"{what} input")
    out_scale, out_zp = _activation_quant(y, f"{what} output")
    if in_q != (out_scale, out_zp):
        raise ValueError(f"{what}: input quantization {in_q} differs from output {(out_scale, out_zp)}")
    if len(x.shape) != 4:
        raise ValueError(f"{what}: input must be 4-D NHWC, got {x.shape}")
    n, in_h, in_w, c = x.shape
    pad_h, out_h = compute_padding(in_h, opts.filter[0], opts.stride[0], 1, opts.padding)
    pad_w, out_w = compute_padding(in_w, opts.filter[1], opts.stride[1], 1, opts.padding)
    if tuple(y.shape) != (n, out_h, out_w, c):
        raise ValueError(f"{what}: output shape {y.shape}, expected {(n, out_h, out_w, c)}")
    act_min, act_max = activation_range(opts.activation, out_scale, out_zp)
    return PoolParams(
        filter_h=opts.filter[0], filter_w=opts.filter[1], stride_h=opts.stride[0],
        stride_w=opts.stride[1], pad_h=pad_h, pad_w=pad_w, act_min=act_min, act_max=act_max,
        out_h=out_h, out_w=out_w,
    )


def _lower_add(graph: Graph, op: Op, kind: OpKind) -> AddParams:
    what = "ADD"
    opts = _options(op, AddOptions, what)
    if len(op.inputs) != 2 or len(op.outputs) != 1:
        raise ValueError(f"{what}: expected 2 inputs and 1 output, got {op.inputs} -> {op.outputs}")
    a, b = _tensor(graph, op.inputs[0], what), _tensor(graph, op.inputs[1], what)
    y = _tensor(graph, op.outputs[0], what)
    s1, z1 = _activation_quant(a, f"{what} input 1")
    s2, z2 = _activation_quant(b, f"{what} input 2")
    so, zo = _activation_quant(y, f"{what} output")
    try:
        shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        shape = None
    if shape != tuple(y.shape):
        raise ValueError(f"{what}: inputs {a.shape} and {b.shape} do not broadcast to the output {y.shape}")
    left_shift = 20  # int8; TFLM uses 15 for int16
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * so))
    if sho > 0:
        # TFLM's QuantizeMultiplierSmallerThanOneExp aborts on such a scale.
        raise ValueError(f"{what}: output scale {so} is too small for input scales {s1}, {s2}")
    act_min, act_max = activation_range(opts.activation, so, zo)
    return AddParams(-z1, -z2, zo, left_shift, m1, sh1, m2, sh2, mo, sho, act_min, act_max)


# gemmlowp's softmax works on input differences in Q5.26.
SOFTMAX_DIFF_INTEGER_BITS = 5


def _lower_softmax(graph: Graph, op: Op, kind: OpKind) -> SoftmaxParams:
    what = "SOFTMAX"
    opts = _options(op, SoftmaxOptions, what)
    x, y = _io(graph, op, (1,), what)
    in_scale, _ = _activation_quant(x, f"{what} input")
    out_scale, out_zp = _activation_quant(y, f"{what} output")
    if out_zp != INT8_MIN or np.float32(out_scale) != np.float32(1.0 / 256):
        raise ValueError(f"{what} output {y.name!r} must have scale 1/256 and zero point -128, "
                         f"got {out_scale} and {out_zp}")
    if tuple(x.shape) != tuple(y.shape) or len(x.shape) < 1:
        raise ValueError(f"{what}: input {x.shape} and output {y.shape} must have the same shape")
    beta = float(np.float32(opts.beta))
    # PreprocessSoftmaxScaling: a Q(5).(26) multiplier, capped below 2**31.
    real = min(beta * in_scale * (1 << (31 - SOFTMAX_DIFF_INTEGER_BITS)), (1 << 31) - 1.0)
    if not real > 1.0:
        raise ValueError(f"{what}: beta * input scale {beta * in_scale} is too small")
    multiplier, left_shift = quantize_multiplier(real)
    # CalculateInputRadius: the largest difference whose rescaled value fits int32.
    radius = math.floor(((1 << SOFTMAX_DIFF_INTEGER_BITS) - 1)
                        * float(1 << (31 - SOFTMAX_DIFF_INTEGER_BITS)) / float(1 << left_shift))
    return SoftmaxParams(multiplier, left_shift, -radius)


def _lower_quantize(graph: Graph, op: Op, kind: OpKind) -> QuantizeParams | RequantizeParams:
    what = "QUANTIZE"
    x, y = _io(graph, op, (1,), what)
    out_scale, out_zp = _activation_quant(y, f"{what} output")
    _same_shape(x, y, what)
    if x.dtype == "float32":
        return QuantizeParams(out_scale, out_zp)
    in_scale, in_zp = _activation_quant(x, f"{what} input")
    multiplier, shift = quantize_multiplier(in_scale / out_scale)
    if shift > MAX_LEFT_SHIFT:
        raise ValueError(f"{what}: input/output scale ratio too large (left shift {shift})")
    return RequantizeParams(in_zp, out_zp, multiplier, shift)


def _lower_dequantize(graph: Graph, op: Op, kind: OpKind) -> DequantizeParams:
    what = "DEQUANTIZE"
    x, y = _io(graph, op, (1,), what)
    scale, zp = _activation_quant(x, f"{what} input")
    if y.dtype != "float32":
        raise ValueError(f"{what} output {y.name!r} must be float32, got {y.dtype}")
    _same_shape(x, y, what)
    return DequantizeParams(scale, zp)


def _lower_reshape(graph: Graph, op: Op, kind: OpKind) -> ReshapeParams:
    what = "RESHAPE"
    x, y = _io(graph, op, (1, 2), what)
    if x.dtype != y.dtype:
        raise ValueError(f"{what}: input is {x.dtype} but output {y.name!r} is {y.dtype}")
    size = int(np.prod(x.shape, dtype=np.int64))
    if size != int(np.prod(y.shape, dtype=np.int64)):
        raise ValueError(f"{what}: cannot reshape {x.shape} ({size} values) into {y.shape}")
    if len(op.inputs) == 2:
        shape_t = _tensor(graph, op.inputs[1], what)
        if shape_t.data is not None:
            wanted = [int(v) for v in np.asarray(shape_t.data).reshape(-1)]
            if wanted.count(-1) == 1:
                known = int(np.prod([v for v in wanted if v != -1], dtype=np.int64))
                wanted[wanted.index(-1)] = size // known if known else 0
            if tuple(wanted) != tuple(y.shape):
                raise ValueError(f"{what}: shape tensor {shape_t.name!r} says {tuple(wanted)}, output is {y.shape}")
    if not y.shape or not x.shape or y.shape[0] != x.shape[0]:
        raise ValueError(f"{what}: the batch dimension must stay first: {x.shape} -> {y.shape}")
    return ReshapeParams(tuple(int(d) for d in y.shape))


def _lower_pad(graph: Graph, op: Op, kind: OpKind) -> PadParams:
    what = "PAD"
    x, y = _io(graph, op, (2,), what)
    _activation_quant(x, f"{what} input")
    _, out_zp = _activation_quant(y, f"{what} output")
    pads = _constant_int32(graph, op.inputs[1], what, "paddings")
    if pads.shape != (len(x.shape), 2) or np.any(pads < 0):
        raise ValueError(f"{what}: paddings must be non-negative [{len(x.shape)}, 2], got {pads.tolist()}")
    if not 1 <= len(x.shape) <= 4:
        raise ValueError(f"{what}: input rank {len(x.shape)} is not in 1..4")
    if pads[0].any():
        raise ValueError(f"{what}: padding the batch dimension is not supported")
    expected = tuple(int(d + a + b) for d, (a, b) in zip(x.shape, pads))
    if tuple(y.shape) != expected:
        raise ValueError(f"{what}: output shape {y.shape}, expected {expected}")
    return PadParams(tuple(int(v) for v in pads[:, 0]), tuple(int(v) for v in pads[:, 1]), out_zp)


def _lower_mean(graph: Graph, op: Op, kind: OpKind) -> MeanParams:
    what = "MEAN"
    opts = _options(op, MeanOptions, what)
    x, y = _io(graph, op, (2,), what)
    in_scale, in_zp = _activation_quant(x, f"{what} input")
    out_scale, out_zp = _activation_quant(y, f"{what} output")
    axes = _constant_int32(graph, op.inputs[1], what, "axis").reshape(-1)
    if len(x.shape) != 4 or sorted({int(a) % 4 for a in axes}) != [1, 2] or len(axes) != 2:
        raise ValueError(f"{what}: only the mean over height and width of a 4-D input is supported, "
                         f"got axes {axes.tolist()} on {x.shape}")
    n, h, w, c = x.shape
    expected = (n, 1, 1, c) if opts.keep_dims else (n, c)
    if tuple(y.shape) != expected:
        raise ValueError(f"{what}: output shape {y.shape}, expected {expected}")
    multiplier, shift = quantize_multiplier(in_scale / out_scale)
    if shift > MAX_LEFT_SHIFT:
        raise ValueError(f"{what}: input/output scale ratio too large (left shift {shift})")
    # Fold 1/count into the multiplier as TFLM does: as many bits as count has,
    # at most 32 and never a total right shift beyond 31.
    count = h * w
    bits = min(count.bit_length() - 1, 32, 31 + shift)
    return MeanParams(in_zp, out_zp, count, (multiplier << bits) // count, shift - bits)


def _lower_relu(graph: Graph, op: Op, kind: OpKind) -> ReluParams:
    what = kind.value
    x, y = _io(graph, op, (1,), what)
    in_scale, in_zp = _activation_quant(x, f"{what} input")
    out_scale, out_zp = _activation_quant(y, f"{what} output")
    _same_shape(x, y, what)
    # TFLite's ReluPrepare divides the float32 scales in float32, then widens.
    multiplier, shift = quantize_multiplier(float(np.float32(in_scale) / np.float32(out_scale)))
    if shift > MAX_LEFT_SHIFT:
        raise ValueError(f"{what}: input/output scale ratio too large (left shift {shift})")
    act = Activation.RELU if kind is OpKind.RELU else Activation.RELU6
    act_min, act_max = activation_range(act, out_scale, out_zp)
    return ReluParams(in_zp, out_zp, multiplier, shift, act_min, act_max)


def _options(op: Op, cls, what: str):
    opts = op.options if op.options is not None else cls()
    if not isinstance(opts, cls):
        raise ValueError(f"{what} needs {cls.__name__}, got {type(opts).__name__}")
    return opts


def _same_shape(x: Tensor, y: Tensor, what: str) -> None:
    if tuple(x.shape) != tuple(y.shape):
        raise ValueError(f"{what}: input {x.shape} and output {y.shape} must have the same shape")


def _constant_int32(graph: Graph, index: int, what: str, role: str) -> np.ndarray:
    t = _tensor(graph, index, what)
    if t.dtype != "int32" or t.data is None:
        raise ValueError(f"{what} {role} {t.name!r} must be a constant int32 tensor")
    return np.asarray(t.data, np.int64)


_LOWERINGS = {
    OpKind.CONV_2D: _lower_conv,
    OpKind.DEPTHWISE_CONV_2D: _lower_conv,
    OpKind.FULLY_CONNECTED: _lower_fully_connected,
    OpKind.AVERAGE_POOL_2D: _lower_pool,
    OpKind.MAX_POOL_2D: _lower_pool,
    OpKind.ADD: _lower_add,
    OpKind.SOFTMAX: _lower_softmax,
    OpKind.QUANTIZE: _lower_quantize,
    OpKind.DEQUANTIZE: _lower_dequantize,
    OpKind.RESHAPE: _lower_reshape,
    OpKind.PAD: _lower_pad,
    OpKind.MEAN: _lower_mean,
    OpKind.RELU: _lower_relu,
    OpKind.RELU6: _lower_relu,
}
