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
    weights (TFLM supports them) give int32 [out] arrays, which the firmware's
    `ehd_fc_params` cannot hold: its exporter must refuse them."""

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


def lower(graph: Graph, op: Op) -> ConvParams | FullyConnectedParams | PoolParams:
    """Integer kernel parameters for `op`, computed as TFLM's Prepare computes them.

    Raises ValueError naming the problem for anything TFLM would reject or
    our kernels do not implement (dtypes, shapes, quantization, options).
    """
    kind = OpKind(op.kind)
    if kind in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D):
        return _lower_conv(graph, op, kind)
    if kind is OpKind.FULLY_CONNECTED:
        return _lower_fully_connected(graph, op)
    return _lower_pool(graph, op, kind)


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


def _lower_fully_connected(graph: Graph, op: Op) -> FullyConnectedParams:
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
    if bias is not None and bias.quant is not None and not w.quant.per_channel:
        # TFLM's GetQuantizedConvolutionMultipler refuses a bias off the input*weight scale.
        bias_scale = float(np.float32(bias.quant.scale[0]))
        if abs(in_scale * float(w_scales[0]) - bias_scale) / out_scale > 0.02:
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
