"""Argument checks shared by the kernel wrappers: clear ValueErrors before any Numba call."""

from __future__ import annotations

import numpy as np


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
