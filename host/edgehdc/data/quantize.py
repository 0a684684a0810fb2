"""Float -> int8 as TFLite's QUANTIZE op does it: round half away from zero, then clamp."""

from __future__ import annotations

import numpy as np


def round_half_away(x: np.ndarray) -> np.ndarray:
    """std::round on every element (halves go away from zero), exact for any float.

    `floor(|x| + 0.5)` would be wrong for the float just below 0.5, whose sum
    rounds up to 1.0; `|x| - floor(|x|)` is exact, so compare the fraction.
    """
    x = np.asarray(x)
    a = np.abs(x)
    whole = np.floor(a)
    return np.copysign(whole + (a - whole >= 0.5), x)


def quantize_input(x_float: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """q = clamp(round(x / scale) + zero_point, -128, 127) as int8, computed in float32.

    float32 matches TFLM's reference Quantize (`TfLiteRound(val / scale)`).
    """
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive finite number, got {scale}")
    if not -128 <= zero_point <= 127:
        raise ValueError(f"zero_point must lie in [-128, 127], got {zero_point}")
    x = np.asarray(x_float, dtype=np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError("x_float contains NaN or infinity")
    q = round_half_away(x / np.float32(scale)) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)
