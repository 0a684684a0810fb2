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
    x = _checks.pool_input(x, p, "avg_pool2d_s8")
    return _pool(x, p.filter_h, p.filter_w, p.stride_h, p.stride_w, p.pad_h, p.pad_w,
                 p.act_min, p.act_max, p.out_h, p.out_w, False)


def max_pool2d_s8(x: np.ndarray, p: PoolParams) -> np.ndarray:
    """int8[N,H,W,C] -> int8[N,OH,OW,C], max of each window."""
    x = _checks.pool_input(x, p, "max_pool2d_s8")
    return _pool(x, p.filter_h, p.filter_w, p.stride_h, p.stride_w, p.pad_h, p.pad_w,
                 p.act_min, p.act_max, p.out_h, p.out_w, True)


@njit(cache=True)
def _pool(x, fh, fw, sh, sw, ph, pw, act_min, act_max, out_h, out_w, is_max):
    n_b, in_h, in_w, n_c = x.shape
    y = np.empty((n_b, out_h, out_w, n_c), np.int8)
    for b in range(n_b):
        for oy in range(out_h):
            y0 = oy * sh - ph
            ky0, ky1 = max(0, -y0), min(fh, in_h - y0)
            for ox in range(out_w):
                x0 = ox * sw - pw
                kx0, kx1 = max(0, -x0), min(fw, in_w - x0)
                count = (ky1 - ky0) * (kx1 - kx0)
                for c in range(n_c):
                    acc = np.int64(-128) if is_max else np.int64(0)
                    for ky in range(ky0, ky1):
                        for kx in range(kx0, kx1):
                            v = np.int64(x[b, y0 + ky, x0 + kx, c])
                            if is_max:
                                acc = max(acc, v)
                            else:
                                acc += v
                    if not is_max:
                        half = count // 2
                        acc = (acc + half) // count if acc > 0 else -((-acc + half) // count)
                    y[b, oy, ox, c] = min(max(acc, act_min), act_max)
    return y
