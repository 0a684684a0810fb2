"""QUANTIZE and DEQUANTIZE (TFLM reference `quantize.h`, `requantize.h`, `dequantize.h`).

Plain-Python contracts:

    quantize (float32 -> int8):  q = clamp(round_half_away(float32(x) / float32(scale)) + zp, -128, 127)
    requantize (int8 -> int8):   q = clamp(MBQM(x - input_zp, multiplier, shift) + output_zp, -128, 127)
    dequantize (int8 -> float32): y = float32(float64(scale) * (q - zp))

The float paths are NumPy: IEEE float32 division and one float64 product
rounded to float32 are exactly what the C code computes. Values beyond
+-2**31 quantization steps, where C's float -> int cast is undefined, clamp.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from edgehdc.data.quantize import round_half_away
from edgehdc.kernels.requantize import requantize_s8 as _requantize_one
from edgehdc.quant.arith import DequantizeParams, QuantizeParams, RequantizeParams


def quantize_f32_s8(x: np.ndarray, p: QuantizeParams) -> np.ndarray:
    """float32 -> int8 with the output's scale and zero point."""
    if not isinstance(x, np.ndarray) or x.dtype != np.float32:
        raise ValueError("quantize_f32_s8 input must be a float32 array")
    if not np.isfinite(p.scale) or p.scale <= 0:
        raise ValueError(f"quantize_f32_s8: scale must be positive, got {p.scale}")
    with np.errstate(over="ignore", invalid="ignore"):
        q = round_half_away(x / np.float32(p.scale)).astype(np.float64)
    q = np.nan_to_num(q, nan=0.0) + p.zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def requantize_s8_s8(x: np.ndarray, p: RequantizeParams) -> np.ndarray:
    """int8 -> int8 from the input's scale and zero point to the output's."""
    if not isinstance(x, np.ndarray) or x.dtype != np.int8:
        raise ValueError("requantize_s8_s8 input must be an int8 array")
    if not -31 <= p.shift <= 30 or not 0 <= p.multiplier < 1 << 31:
        raise ValueError(f"requantize_s8_s8: bad multiplier/shift {p.multiplier}, {p.shift}")
    y = _requantize(np.ascontiguousarray(x).reshape(-1), p.input_zero_point, p.output_zero_point,
                    p.multiplier, p.shift)
    return y.reshape(x.shape)


def dequantize_s8_f32(x: np.ndarray, p: DequantizeParams) -> np.ndarray:
    """int8 -> float32 real values."""
    if not isinstance(x, np.ndarray) or x.dtype != np.int8:
        raise ValueError("dequantize_s8_f32 input must be an int8 array")
    return (np.float64(np.float32(p.scale)) * (x.astype(np.int64) - p.zero_point)).astype(np.float32)


@njit(cache=True)
def _requantize(x, in_zp, out_zp, mult, shift):
    y = np.empty(x.size, np.int8)
    for i in range(x.size):
        y[i] = _requantize_one(np.int64(x[i]) - in_zp, mult, shift, out_zp, -128, 127)
    return y
