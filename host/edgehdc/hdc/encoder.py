"""Encoders from the int8 embedding to binary hypervectors (docs/hdc.md)."""

from __future__ import annotations

import numpy as np

from edgehdc.hdc.random import DEFAULT_SEED, xorshift32
from edgehdc.kernels.hdc import hdc_encode


def projection_matrix(n_features: int, dim: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """The packed sign projection uint32 [dim, ceil(n_features/32)] drawn from xorshift32(seed).

    Rows are filled in order from successive generator outputs; bits at
    positions >= n_features in a row's last word are cleared.
    """
    if n_features <= 0:
        raise ValueError(f"n_features must be positive, got {n_features}")
    if dim <= 0 or dim % 32:
        raise ValueError(f"dim must be a positive multiple of 32, got {dim}")
    words = (n_features + 31) // 32
    projection = xorshift32(seed, dim * words).reshape(dim, words)
    tail = n_features - 32 * (words - 1)  # features in the last word, 1..32
    projection[:, -1] &= np.uint32((1 << tail) - 1)
    return projection


class SignProjection:
    """Sign random projection: bit j = (sum_i ±(x_i - zero_point) > 0), signs from row j.

    Mirrors the firmware's `ehd_hdc_encode`; the projection is regenerated
    from `seed`, so only (n_features, dim, seed, zero_point) define it.
    """

    def __init__(self, n_features: int, dim: int = 2048, seed: int = DEFAULT_SEED, zero_point: int = 0):
        if not -128 <= zero_point <= 127:
            raise ValueError(f"zero_point must be an int8 value, got {zero_point}")
        self.n_features = n_features
        self.dim = dim
        self.seed = seed
        self.zero_point = zero_point
        self.projection = projection_matrix(n_features, dim, seed)

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Hypervectors uint32 [N, dim/32] of int8 features [N, n_features] (or one vector [n_features])."""
        x = np.asarray(x)
        if x.dtype != np.int8:
            raise ValueError(f"features must be int8, got {x.dtype}")
        single = x.ndim == 1
        x2 = x[None] if single else x
        if x2.ndim != 2 or x2.shape[1] != self.n_features:
            raise ValueError(f"features must be [N, {self.n_features}], got {x.shape}")
        hv = hdc_encode(x2, self.zero_point, self.projection)
        return hv[0] if single else hv

    __call__ = encode

    def __repr__(self) -> str:
        return (f"SignProjection(n_features={self.n_features}, dim={self.dim}, "
                f"seed={self.seed:#x}, zero_point={self.zero_point})")
