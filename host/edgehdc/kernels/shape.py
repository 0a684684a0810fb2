"""RESHAPE and PAD, int8: data movement only, values are never requantized (as TFLM).

Plain-Python contract of PAD for a rank-R input (R <= 4):
    y = full(input.shape + before + after, pad_value); y[before : before + input.shape] = x
RESHAPE: y = x.reshape(shape) (row-major, the order TFLM's memcpy keeps).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from edgehdc.kernels import _checks

from edgehdc.quant.arith import PadParams, ReshapeParams


def reshape(x: np.ndarray, p: ReshapeParams) -> np.ndarray:
    """x with the per-sample shape p.shape[1:], batch size kept from x."""
    return prepare_reshape(p)(x)


def prepare_reshape(p: ReshapeParams):
    """`reshape` with the target shape resolved once: returns x -> y."""
    sample = tuple(int(d) for d in p.shape[1:])
    size = int(np.prod(sample, dtype=np.int64))

    def run(x: np.ndarray) -> np.ndarray:
        if x.size != x.shape[0] * size:
            raise ValueError(f"reshape: cannot reshape {x.shape} into {(x.shape[0], *sample)}")
        return np.ascontiguousarray(x).reshape((x.shape[0], *sample))

    return run


def pad_s8(x: np.ndarray, p: PadParams) -> np.ndarray:
    """int8 rank <= 4, padded with p.pad_value; p.before/p.after per dimension."""
    _checks.pad_input(x, p)
    lead = 4 - x.ndim  # extend to 4-D like TFLM's RuntimeShape::ExtendedShape
    x4 = np.ascontiguousarray(x).reshape((1,) * lead + x.shape)
    before = np.array((0,) * lead + tuple(p.before), np.int64)
    after = np.array((0,) * lead + tuple(p.after), np.int64)
    y = _pad(x4, before, after, np.int8(p.pad_value))
    return y.reshape(y.shape[lead:])


@njit(cache=True)
def _pad(x, before, after, value):
    n, h, w, c = x.shape
    y = np.full((n + before[0] + after[0], h + before[1] + after[1], w + before[2] + after[2],
                 c + before[3] + after[3]), value, np.int8)
    for b in range(n):
        for i in range(h):
            # Whole rows of W*C values at a time: a copy the compiler turns into memmove.
            y[b + before[0], i + before[1], before[2]:before[2] + w, before[3]:before[3] + c] = x[b, i]
    return y
