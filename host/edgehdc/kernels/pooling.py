"""AVERAGE_POOL_2D and MAX_POOL_2D, int8 (TFLM reference `integer_ops/pooling.h`).

Input and output share scale and zero point, so no requantization. Plain-Python
contract, for every batch b, output pixel (oy, ox) and channel c, over the window
cells (iy, ix) = (oy * stride_h - pad_h + ky, ox * stride_w - pad_w + kx) that lie
inside the image (padding cells are left out, not counted):

    average: s = sum of x, n = number of cells,
             y = (s + n // 2) // n if s > 0 else -((-s + n // 2) // n)   (halves away from 0)
    max:     y = max of x
    then y = clamp(y, act_min, act_max)
"""

from __future__ import annotations

import numpy as np
from numba import njit

from edgehdc.kernels import _checks
from edgehdc.quant.arith import PoolParams


def avg_pool2d_s8(x: np.ndarray, p: PoolParams) -> np.ndarray:
    """int8[N,H,W,C] -> int8[N,OH,OW,C], mean of each window, rounded half away from zero."""
    return prepare_pool2d_s8(p, is_max=False)(x)


def max_pool2d_s8(x: np.ndarray, p: PoolParams) -> np.ndarray:
    """int8[N,H,W,C] -> int8[N,OH,OW,C], max of each window."""
    return prepare_pool2d_s8(p, is_max=True)(x)


def prepare_pool2d_s8(p: PoolParams, is_max: bool):
    """MAX_POOL_2D (`is_max`) or AVERAGE_POOL_2D with the parameters checked once: returns x -> y."""
    what = "max_pool2d_s8" if is_max else "avg_pool2d_s8"
    _checks.pool_params(p, what)
    args = (p.filter_h, p.filter_w, p.stride_h, p.stride_w, p.pad_h, p.pad_w,
            p.act_min, p.act_max, p.out_h, p.out_w, is_max)

    def run(x: np.ndarray) -> np.ndarray:
        return _pool(_checks.pool_input(x, p, what), *args)

    return run


@njit(cache=True)
def _pool(x, fh, fw, sh, sw, ph, pw, act_min, act_max, out_h, out_w, is_max):
    n_b, in_h, in_w, n_c = x.shape
    y = np.empty((n_b, out_h, out_w, n_c), np.int8)
    acc = np.empty(n_c, np.int32)
    for b in range(n_b):
        for oy in range(out_h):
            y0 = oy * sh - ph
            ky0, ky1 = max(0, -y0), min(fh, in_h - y0)
            for ox in range(out_w):
                x0 = ox * sw - pw
                kx0, kx1 = max(0, -x0), min(fw, in_w - x0)
                count = (ky1 - ky0) * (kx1 - kx0)
                acc[:] = -128 if is_max else 0
                for ky in range(ky0, ky1):
                    for kx in range(kx0, kx1):
                        for c in range(n_c):  # channels innermost: contiguous, vectorises
                            v = np.int32(x[b, y0 + ky, x0 + kx, c])
                            acc[c] = max(acc[c], v) if is_max else acc[c] + v
                half = count // 2
                for c in range(n_c):
                    v = acc[c]
                    if not is_max:
                        v = (v + half) // count if v > 0 else -((-v + half) // count)
                    y[b, oy, ox, c] = min(max(v, act_min), act_max)
    return y
