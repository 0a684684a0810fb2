"""MEAN over height and width, int8 (TFLM reference `reduce.h`, QuantizedMeanOrSum).

Plain-Python contract, for every batch b and channel c, with p = MeanParams
(p.multiplier already holds input_scale / output_scale / (H * W)):

    acc = sum over (h, w) of x[b, h, w, c] - p.input_zero_point * H * W   # int32
    y[b, 0, 0, c] = clamp(MBQM(acc, p.multiplier, p.shift) + p.output_zero_point, -128, 127)
"""

from __future__ import annotations

import numpy as np
from numba import njit

from edgehdc.kernels import _checks
from edgehdc.kernels.requantize import multiply_by_quantized_multiplier as mbqm
from edgehdc.kernels.requantize import wrap_int32
from edgehdc.quant.arith import MeanParams


def mean_hw_s8(x: np.ndarray, p: MeanParams) -> np.ndarray:
    """int8[N,H,W,C] -> int8[N,1,1,C], the requantized mean of each channel."""
    x = _checks.int8_array(x, 4, "mean_hw_s8 input")
    if x.shape[1] * x.shape[2] != p.count or p.count < 1:
        raise ValueError(f"mean_hw_s8: input {x.shape} does not have {p.count} cells per channel")
    if not -31 <= p.shift <= 30 or not 0 <= p.multiplier < 1 << 31:
        raise ValueError(f"mean_hw_s8: bad multiplier/shift {p.multiplier}, {p.shift}")
    return _mean(x, p.input_zero_point, p.output_zero_point, p.multiplier, p.shift)


@njit(cache=True)
def _mean(x, in_zp, out_zp, mult, shift):
    n_b, h, w, n_c = x.shape
    y = np.empty((n_b, 1, 1, n_c), np.int8)
    for b in range(n_b):
        for c in range(n_c):
            acc = np.int64(0)
            for i in range(h):
                for j in range(w):
                    acc += x[b, i, j, c]
            acc = wrap_int32(acc - in_zp * h * w)
            y[b, 0, 0, c] = min(max(mbqm(acc, mult, shift) + out_zp, -128), 127)
    return y
