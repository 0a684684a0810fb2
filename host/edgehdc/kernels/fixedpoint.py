"""gemmlowp fixed-point helpers for int32 raw values (held in int64), as TFLM uses them.

A `FixedPoint<int32, I>` value is raw / 2**(31 - I). Sums wrap like int32;
products are SaturatingRoundingDoublingHighMul (`requantize`). Only what
SOFTMAX needs lives here: exp on negative values and the reciprocal.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from edgehdc.kernels.requantize import (
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul as mul,
    wrap_int32,
)

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
# exp(-2**k) in Q0.31 for k = -2 .. 4: the barrel shifter of exp_on_negative_values.
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


@njit(cache=True, inline="always")
def saturating_shift_left(x, exponent):
    """SaturatingRoundingMultiplyByPOT<exponent > 0>: x * 2**exponent, saturated to int32."""
    threshold = (np.int64(1) << (31 - exponent)) - 1
    if x > threshold:
        return np.int64(INT32_MAX)
    if x < -threshold:
        return np.int64(INT32_MIN)
    return np.int64(x) << exponent


@njit(cache=True, inline="always")
def rounding_half_sum(a, b):
    """(a + b) / 2 rounded half away from zero (C division truncates)."""
    s = np.int64(a) + np.int64(b)
    s += 1 if s >= 0 else -1
    return s // 2 if s >= 0 else -((-s) // 2)


@njit(cache=True)
def _exp_on_quarter_interval(a):
    """exp(a) for Q0.31 a in [-1/4, 0): Taylor series around -1/8."""
    constant_term = np.int64(1895147668)  # exp(-1/8)
    one_third = np.int64(715827883)
    x = wrap_int32(a + (1 << 28))  # a + 1/8
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    tail = rounding_divide_by_pot(wrap_int32(mul(wrap_int32(x4_over_4 + x3), one_third) + x2), 1)
    return wrap_int32(constant_term + mul(constant_term, wrap_int32(x + tail)))


@njit(cache=True)
def exp_on_negative_values_q5(a):
    """gemmlowp exp_on_negative_values for a Q5.26 input <= 0; returns Q0.31."""
    frac_bits = 26
    one_quarter = np.int64(1) << (frac_bits - 2)
    a_mod = wrap_int32((a & (one_quarter - 1)) - one_quarter)
    result = _exp_on_quarter_interval(saturating_shift_left(a_mod, 5))
    remainder = wrap_int32(a_mod - a)
    for k, multiplier in _EXP_BARREL:
        if remainder & (np.int64(1) << (frac_bits + k)):
            result = mul(result, np.int64(multiplier))
    if a == 0:
        result = np.int64(INT32_MAX)
    return result


@njit(cache=True)
def _one_over_one_plus_x(a):
    """1 / (1 + a) for Q0.31 a in [0, 1), Newton-Raphson in Q2.29; returns Q0.31."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = wrap_int32(np.int64(1515870810) + mul(half_denominator, np.int64(-1010580540)))  # 48/17 - 32/17 d
    for _ in range(3):
        one_minus = wrap_int32((np.int64(1) << 29) - mul(half_denominator, x))
        x = wrap_int32(x + saturating_shift_left(mul(x, one_minus), 2))
    return saturating_shift_left(x, 1)


@njit(cache=True)
def count_leading_zeros32(x):
    x = np.int64(x) & np.int64(0xFFFFFFFF)
    n = 0
    while n < 32 and not (x & (np.int64(1) << (31 - n))):
        n += 1
    return n


@njit(cache=True)
def reciprocal(x, integer_bits):
    """TFLite GetReciprocal: (Q0.31 scale, num_bits_over_unit) with 1/x ~ scale * 2**-bits."""
    headroom_plus_one = count_leading_zeros32(x)
    num_bits_over_unit = integer_bits - headroom_plus_one
    shifted = ((np.int64(x) << headroom_plus_one) & np.int64(0xFFFFFFFF)) - (np.int64(1) << 31)
    return _one_over_one_plus_x(wrap_int32(shifted)), num_bits_over_unit
