"""Argument checks shared by the kernel wrappers: clear ValueErrors before any Numba call."""

from __future__ import annotations

import numpy as np

from edgehdc.kernels.requantize import check_multipliers


def int8_array(x, ndim: int, what: str) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.dtype != np.int8 or x.ndim != ndim:
        got = f"{x.dtype}[{x.ndim}-D]" if isinstance(x, np.ndarray) else type(x).__name__
        raise ValueError(f"{what} must be an int8 array with {ndim} dims, got {got}")
    return np.ascontiguousarray(x)


def bias_array(bias, channels: int, what: str) -> np.ndarray:
    """int32 [channels]; None means zero bias (same result as TFLM without a bias)."""
    if bias is None:
        return np.zeros(channels, np.int32)
    if not isinstance(bias, np.ndarray) or bias.dtype != np.int32 or bias.shape != (channels,):
        raise ValueError(f"{what} bias must be int32[{channels}] or None")
    return np.ascontiguousarray(bias)


def act_range(act_min: int, act_max: int, what: str) -> None:
    if not -128 <= act_min <= act_max <= 127:
        raise ValueError(f"{what}: activation range [{act_min}, {act_max}] is not within int8")


def positive(what: str, **values: int) -> None:
    for name, v in values.items():
        if v < 1:
            raise ValueError(f"{what}: {name} must be >= 1, got {v}")


def non_negative(what: str, **values: int) -> None:
    for name, v in values.items():
        if v < 0:
            raise ValueError(f"{what}: {name} must be >= 0, got {v}")


def conv_params(bias, p, out_c: int, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checks a ConvParams for `out_c` output channels; returns (bias int32, multiplier, shift)."""
    positive(what, stride_h=p.stride_h, stride_w=p.stride_w, dilation_h=p.dilation_h,
             dilation_w=p.dilation_w, out_h=p.out_h, out_w=p.out_w)
    non_negative(what, pad_h=p.pad_h, pad_w=p.pad_w)
    act_range(p.act_min, p.act_max, what)
    mult, shift = check_multipliers(p.multiplier, p.shift, out_c, what)
    return bias_array(bias, out_c, what), mult, shift


def input_offset(offset: int, what: str) -> None:
    """The negated zero point of an int8 input, so x + offset never leaves [-255, 255]."""
    if not -127 <= offset <= 128:
        raise ValueError(f"{what}: input_offset {offset} is not minus an int8 zero point ([-127, 128])")


def not_empty(x: np.ndarray, what: str) -> None:
    if min(x.shape[1:]) < 1:
        raise ValueError(f"{what}: empty input {x.shape}")


def fully_connected_args(x, weights, bias, p, what: str = "fully_connected_s8") -> tuple:
    """Checks FULLY_CONNECTED operands; returns (x, weights, bias int32, multiplier, shift)."""
    weights, bias, mult, shift = fully_connected_constants(weights, bias, p, what)
    return fully_connected_input(x, weights, what), weights, bias, mult, shift


def fully_connected_constants(weights, bias, p, what: str = "fully_connected_s8") -> tuple:
    """Checks FULLY_CONNECTED weights and parameters; returns (weights, bias int32, multiplier, shift)."""
    weights = int8_array(weights, 2, f"{what} weights")
    out_n, in_n = weights.shape
    if in_n < 1:
        raise ValueError(f"{what}: weights {weights.shape} have no inputs")
    act_range(p.act_min, p.act_max, what)
    mult, shift = check_multipliers(p.multiplier, p.shift, out_n, what)
    return weights, bias_array(bias, out_n, what), mult, shift


def fully_connected_input(x, weights, what: str = "fully_connected_s8") -> np.ndarray:
    x = int8_array(x, 2, f"{what} input")
    if x.shape[1] != weights.shape[1]:
        raise ValueError(f"{what}: input {x.shape} does not match weights {weights.shape}")
    return x


def pool_params(p, what: str) -> None:
    positive(what, filter_h=p.filter_h, filter_w=p.filter_w, stride_h=p.stride_h,
             stride_w=p.stride_w, out_h=p.out_h, out_w=p.out_w)
    non_negative(what, pad_h=p.pad_h, pad_w=p.pad_w)
    act_range(p.act_min, p.act_max, what)


def pool_input(x, p, what: str) -> np.ndarray:
    """Checks a pooling input against its (checked) PoolParams; every window must touch the
    image (an empty window has no average, and TFLM refuses it)."""
    x = int8_array(x, 4, f"{what} input")
    for size, out, stride, pad, filt, axis in (
        (x.shape[1], p.out_h, p.stride_h, p.pad_h, p.filter_h, "height"),
        (x.shape[2], p.out_w, p.stride_w, p.pad_w, p.filter_w, "width"),
    ):
        if pad >= filt or (out - 1) * stride - pad >= size:
            raise ValueError(f"{what}: a window along {axis} lies entirely outside the input")
    return x


def pad_input(x, p) -> np.ndarray:
    """Checks a PAD input (int8, rank 1..4) against its PadParams."""
    if not isinstance(x, np.ndarray) or x.dtype != np.int8 or not 1 <= x.ndim <= 4:
        raise ValueError("pad_s8 input must be an int8 array of rank 1..4")
    if len(p.before) != x.ndim or len(p.after) != x.ndim or min(*p.before, *p.after) < 0:
        raise ValueError(f"pad_s8: paddings {p.before}/{p.after} do not fit rank {x.ndim}")
    if not -128 <= p.pad_value <= 127:
        raise ValueError(f"pad_s8: pad value {p.pad_value} is not int8")
    return x
