"""Requantization: the one definition of int32 -> int8 rounding used by every kernel.

Contract (TFLM reference `MultiplyByQuantizedMultiplier`, gemmlowp double rounding):

    x = int32_wrap(acc * 2**max(shift, 0))
    y = SaturatingRoundingDoublingHighMul(x, mult)   # floor(x * mult / 2**31 + 1/2): ties up
    return RoundingDivideByPOT(y, max(-shift, 0))    # y / 2**e, ties away from zero

`int32_wrap` is two's complement, as the C code behaves on every target we run.
`multiply_by_quantized_multiplier_single` is TFLite's single rounding, which
only LiteRT's reference FULLY_CONNECTED uses (a second oracle, never the device).
`scale_split` is the same contract written as selects for hot loops (valid for
multipliers in [0, 2**31)); tests hold both to one big-integer reference.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_INT32_MIN = -(1 << 31)
_INT32_MAX = (1 << 31) - 1


@njit(cache=True, inline="always")
def wrap_int32(v):
    """Two's complement wrap of an integer to int32, returned as int64."""
    v = np.int64(v) & np.int64(0xFFFFFFFF)
    if v > _INT32_MAX:
        v -= np.int64(1) << 32
    return v


@njit(cache=True, inline="always")
def saturating_rounding_doubling_high_mul(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul for int32 a, b (as int64).

    The nudge 1 - 2**30 for negative products makes ties round toward +infinity
    (-1.5 -> -1), exactly as TFLM and CMSIS-NN do; do not "fix" it to be symmetric."""
    if a == _INT32_MIN and b == _INT32_MIN:
        return np.int64(_INT32_MAX)
    ab = np.int64(a) * np.int64(b)
    nudge = np.int64(1 << 30) if ab >= 0 else np.int64(1 - (1 << 30))
    t = ab + nudge
    # C integer division truncates toward zero.
    q = t >> 31 if t >= 0 else -((-t) >> 31)
    return wrap_int32(q)


@njit(cache=True, inline="always")
def rounding_divide_by_pot(x, exponent):
    """gemmlowp RoundingDivideByPOT: x / 2**exponent, halves away from zero."""
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


@njit(cache=True, inline="always")
def multiply_by_quantized_multiplier(acc, mult, shift):
    """Scale int32 `acc` by the Q31 `mult` and power of two `shift` (left if > 0)."""
    left = shift if shift > 0 else 0
    right = -shift if shift < 0 else 0
    x = wrap_int32(np.int64(acc) << left)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, mult), right)


@njit(cache=True, inline="always")
def multiply_by_quantized_multiplier_single(acc, mult, shift):
    """TFLite's single-rounding MultiplyByQuantizedMultiplier: acc * mult * 2**(shift - 31)
    rounded once, ties toward +infinity: (acc * mult + 2**(30 - shift)) >> (31 - shift).

    What LiteRT's reference int8 FULLY_CONNECTED computes (checked against it,
    tests/test_litert.py); TFLM, CMSIS-NN and the firmware round twice."""
    total = np.int64(31 - shift)
    return (np.int64(wrap_int32(acc)) * np.int64(mult) + (np.int64(1) << (total - 1))) >> total


def _channels(v, channels: int) -> np.ndarray:
    a = np.asarray(v, np.int64).reshape(-1)
    return np.full(channels, a[0], np.int64) if a.size == 1 else a


def check_multipliers(mult, shift, channels: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast scalar or per-channel (mult, shift) to int32 [channels]; ValueError if invalid."""
    m, s = _channels(mult, channels), _channels(shift, channels)
    if m.shape != (channels,) or s.shape != (channels,):
        raise ValueError(f"{what}: multiplier/shift must be scalars or [{channels}] arrays")
    if np.any(m < 0) or np.any(m > _INT32_MAX):
        raise ValueError(f"{what}: multipliers must be in [0, 2**31)")
    if np.any(s < -31) or np.any(s > 30):
        raise ValueError(f"{what}: shifts must be in [-31, 30]")
    return m.astype(np.int32), s.astype(np.int32)


@njit(cache=True, inline="always")
def requantize_s8(acc, mult, shift, output_offset, act_min, act_max):
    """TFLM's int8 epilogue: int32 acc (bias already added) -> scaled, offset, clamped int8."""
    v = multiply_by_quantized_multiplier(wrap_int32(acc), mult, shift) + output_offset
    return np.int8(min(max(v, act_min), act_max))



@njit(cache=True, inline="always")
def scale_split(acc, mult, left, right):
    """`multiply_by_quantized_multiplier` for hot loops, written as selects so loops vectorise.

    The shift comes split, left = max(shift, 0) and right = max(-shift, 0), and
    mult must lie in [0, 2**31) (`check_multipliers` ensures it), which keeps
    SaturatingRoundingDoublingHighMul out of its one saturating case."""
    x = np.int64(np.int32(np.int64(acc) << left))  # int32 wrap
    ab = x * np.int64(mult)
    t = ab + (np.int64(1 << 30) if ab >= 0 else np.int64(1 - (1 << 30)))
    high = (t >> 31) if t >= 0 else -((-t) >> 31)  # C division truncates
    mask = (np.int64(1) << right) - 1
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    return (high >> right) + (1 if (high & mask) > threshold else 0)


@njit(cache=True, inline="always")
def requantize_split(acc, mult, left, right, output_offset, act_min, act_max):
    """`requantize_s8` with `scale_split`'s arguments: int32 acc -> clamped int8."""
    v = scale_split(acc, mult, left, right) + output_offset
    return np.int8(min(max(v, act_min), act_max))
