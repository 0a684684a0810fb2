"""SOFTMAX int8 -> int8 (TFLM reference `softmax.h`, gemmlowp fixed point).

Plain-Python contract, per row r (last axis) with p = SoftmaxParams:

    d_c = x[r, c] - max(x[r])                       # <= 0
    live_c = d_c >= p.diff_min
    e_c = exp_on_negative_values(Q5.26: SRDHM(d_c << p.input_left_shift, p.input_multiplier))  # Q0.31
    sum = sum over live c of RoundingDivideByPOT(e_c, 12)                                     # Q12.19
    (scale, bits) = GetReciprocal(sum, 12)
    y_c = clamp(RoundingDivideByPOT(SRDHM(scale, e_c), bits + 23) - 128, -128, 127) if live_c else -128
"""

from __future__ import annotations

import numpy as np
from numba import njit

from edgehdc.kernels.fixedpoint import exp_on_negative_values_q5, reciprocal
from edgehdc.kernels.requantize import (
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
    wrap_int32,
)
from edgehdc.quant.arith import SoftmaxParams

_ACCUMULATION_INTEGER_BITS = 12


def softmax_s8(x: np.ndarray, p: SoftmaxParams) -> np.ndarray:
    """int8[..., D] -> int8[..., D], softmax over the last axis (scale 1/256, zero point -128)."""
    if not isinstance(x, np.ndarray) or x.dtype != np.int8 or x.ndim < 1 or x.shape[-1] < 1:
        raise ValueError("softmax_s8 input must be a non-empty int8 array")
    if not 0 <= p.input_left_shift <= 31 or not 0 <= p.input_multiplier < 1 << 31 or p.diff_min > 0:
        raise ValueError(f"softmax_s8: bad parameters {p}")
    rows = np.ascontiguousarray(x).reshape(-1, x.shape[-1])
    y = _softmax(rows, np.int64(p.input_multiplier), np.int64(p.input_left_shift), np.int64(p.diff_min))
    return y.reshape(x.shape)


@njit(cache=True)
def _exp_of_diff(diff, multiplier, left_shift):
    scaled = saturating_rounding_doubling_high_mul(wrap_int32(diff << left_shift), multiplier)
    return exp_on_negative_values_q5(scaled)


@njit(cache=True)
def _softmax(x, multiplier, left_shift, diff_min):
    n_rows, depth = x.shape
    y = np.empty((n_rows, depth), np.int8)
    exps = np.empty(depth, np.int64)
    for r in range(n_rows):
        row_max = np.int64(-128)
        for c in range(depth):
            row_max = max(row_max, np.int64(x[r, c]))
        total = np.int64(0)
        for c in range(depth):
            diff = np.int64(x[r, c]) - row_max
            if diff >= diff_min:
                exps[c] = _exp_of_diff(diff, multiplier, left_shift)
                total = wrap_int32(total + rounding_divide_by_pot(exps[c], _ACCUMULATION_INTEGER_BITS))
        scale, bits = reciprocal(total, _ACCUMULATION_INTEGER_BITS)
        for c in range(depth):
            if np.int64(x[r, c]) - row_max >= diff_min:
                v = rounding_divide_by_pot(saturating_rounding_doubling_high_mul(scale, exps[c]), bits + 31 - 8)
                y[r, c] = min(max(v - 128, -128), 127)
            else:
                y[r, c] = -128
    return y
