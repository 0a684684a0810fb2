"""Encoders from the int8 embedding to binary hypervectors (docs/hdc.md).

Every encoder first centres and scales the features in integers,
c_i = (x_i - centre_i) * scale_i: by default every feature is centred on the
embedding's zero point with scale 1; `calibrate` fits per-feature centres and
scales on calibration features (the "HDC compatibility" step). The
firmware (`firmware/src/hdc`) computes the same bits.
"""

from __future__ import annotations

import numpy as np

from edgehdc.data.quantize import round_half_away
from edgehdc.hdc.random import DEFAULT_SEED, xorshift32
from edgehdc.kernels.hdc import (
    MAX_SCALE,
    check_features,
    id_level_encode,
    norm_tables,
    pack_bits,
    sign_projection_encode,
)


def _check_dims(n_features: int, dim: int) -> None:
    if not 0 < n_features <= 0xFFFF:
        raise ValueError(f"n_features must be in 1..65535, got {n_features}")
    if not 0 < dim <= 0xFFE0 or dim % 32:
        raise ValueError(f"dim must be a positive multiple of 32 (at most 65504), got {dim}")


def projection_matrix(n_features: int, dim: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """The packed sign projection uint32 [dim, ceil(n_features/32)] drawn from xorshift32(seed).

    Rows are filled in order from successive generator outputs; bits at
    positions >= n_features in a row's last word are cleared.
    """
    _check_dims(n_features, dim)
    words = (n_features + 31) // 32
    projection = xorshift32(seed, dim * words).reshape(dim, words)
    tail = n_features - 32 * (words - 1)  # features in the last word, 1..32
    projection[:, -1] &= np.uint32((1 << tail) - 1)
    return projection


def fit_normalization(features: np.ndarray, scale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature (centre int8 [F], scale uint8 [F]) fitted on calibration features int8 [N, F].

    centre_i = round(mean_i); scale_i = round(MAX_SCALE * min_std / std_i) (halves away from zero),
    clipped to 1..MAX_SCALE, so every feature contributes with about the same
    spread (a constant feature gets scale 0: it carries nothing). `scale=False`
    keeps every scale at 1.
    """
    x = check_features(features).astype(np.float64)
    if len(x) < 2:
        raise ValueError(f"calibration needs at least 2 feature vectors, got {len(x)}")
    centre = np.clip(round_half_away(x.mean(axis=0)), -128, 127).astype(np.int8)
    if not scale:
        return centre, np.ones(x.shape[1], np.uint8)
    std = x.std(axis=0)
    live = std > 0
    out = np.zeros(x.shape[1], np.uint8)
    if live.any():
        out[live] = np.clip(round_half_away(MAX_SCALE * std[live].min() / std[live]), 1, MAX_SCALE)
    return centre, out


class Encoder:
    """What every encoder shares: sizes, the generator seed and the feature normalization."""

    def __init__(self, n_features: int, dim: int, seed: int, zero_point: int):
        _check_dims(n_features, dim)
        if not -128 <= zero_point <= 127:
            raise ValueError(f"zero_point must be an int8 value, got {zero_point}")
        if not 0 < int(seed) <= 0xFFFFFFFF:
            raise ValueError(f"seed must be a nonzero 32-bit value, got {seed:#x}")
        self.n_features = n_features
        self.dim = dim
        self.seed = int(seed)
        self.zero_point = zero_point
        self.centre: np.ndarray | None = None  # int8 [F]; None: the zero point
        self.scale: np.ndarray | None = None  # uint8 [F] in 0..MAX_SCALE; None: all 1

    def calibrate(self, features: np.ndarray, scale: bool = True) -> "Encoder":
        """Fits the per-feature centres (and scales) on calibration features int8 [N, F]."""
        self.centre, self.scale = fit_normalization(check_features(features, self.n_features), scale)
        return self

    def centred(self, features: np.ndarray) -> np.ndarray:
        """c = (x - centre) * scale, int32 [N, F]: what the encoding sees."""
        centre, scale = self._norm()
        return (check_features(features, self.n_features).astype(np.int32) - centre) * scale

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Hypervectors uint32 [N, dim/32] of int8 features [N, n_features] (or one vector [n_features])."""
        x = np.asarray(x)
        if x.dtype != np.int8:
            raise ValueError(f"features must be int8, got {x.dtype}")
        single = x.ndim == 1
        hv = self._encode(check_features(x[None] if single else x, self.n_features))
        return hv[0] if single else hv

    __call__ = encode

    def tables(self) -> dict[str, np.ndarray]:
        """The random uint32 tables that define the encoding, by name (what hdc.npz stores)."""
        raise NotImplementedError

    def _norm(self) -> tuple[np.ndarray, np.ndarray]:
        return norm_tables(self.n_features, self.zero_point, self.centre, self.scale)

    def _encode(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class SignProjection(Encoder):
    """Sign random projection: bit j = (sum_i ±c_i > 0), the signs from row j of the projection.

    The projection is drawn from xorshift32(seed); `stored=False` tells the
    firmware export to regenerate it on the device instead of storing it in
    flash (same bits, more instructions per inference).
    """

    kind = "sign_projection"

    def __init__(self, n_features: int, dim: int = 2048, seed: int = DEFAULT_SEED, zero_point: int = 0,
                 stored: bool = True):
        super().__init__(n_features, dim, seed, zero_point)
        self.stored = stored
        self.projection = projection_matrix(n_features, dim, seed)

    def tables(self) -> dict[str, np.ndarray]:
        return {"projection": self.projection}

    def _encode(self, x: np.ndarray) -> np.ndarray:
        return sign_projection_encode(x, self.projection, *self._norm())

    def __repr__(self) -> str:
        return (f"SignProjection(n_features={self.n_features}, dim={self.dim}, seed={self.seed:#x}, "
                f"zero_point={self.zero_point}, calibrated={self.centre is not None}, stored={self.stored})")


def level_hypervectors(dim: int, n_levels: int, seed: int) -> np.ndarray:
    """uint32 [n_levels, dim/32]: level 0 is random, level l flips the bits whose threshold is < l.

    From xorshift32(seed): dim/32 words of level 0, then one output u_j per
    bit j, threshold t_j = ((u_j >> 16) * 2 (L - 1)) >> 16, uniform in
    [0, 2 (L - 1)). The last level differs from the first in about half the
    bits, neighbours in about dim / (2 (L - 1)).
    """
    if n_levels < 2:
        raise ValueError(f"n_levels must be >= 2, got {n_levels}")
    words = dim // 32
    raw = xorshift32(seed, words + dim)
    base = raw[:words]
    threshold = ((raw[words:].astype(np.uint64) >> 16) * (2 * (n_levels - 1))) >> 16
    flips = np.stack([pack_bits((threshold < level)[None])[0] for level in range(n_levels)])
    return flips ^ base


class IdLevel(Encoder):
    """ID-level: bit j = majority over features of item_i XOR level(c_i), ties from a tie-break vector.

    Item memory: F + 1 random hypervectors (row F breaks ties when F is even)
    from xorshift32(seed); levels from xorshift32(seed + 1)
    (`level_hypervectors`). c_i is quantized to a level over [lo, hi]: by
    default the whole range c can take; `calibrate` fits it to the 1st..99th
    percentile of the calibration features.
    """

    kind = "id_level"

    def __init__(self, n_features: int, dim: int = 2048, n_levels: int = 16, seed: int = DEFAULT_SEED,
                 zero_point: int = 0):
        super().__init__(n_features, dim, seed, zero_point)
        if not 2 <= n_levels <= 0x7FFF:
            raise ValueError(f"n_levels must be in 2..32767, got {n_levels}")
        self.n_levels = n_levels
        self.items = xorshift32(seed, (n_features + 1) * dim // 32).reshape(n_features + 1, dim // 32)
        self.levels = level_hypervectors(dim, n_levels, (seed + 1) & 0xFFFFFFFF or 1)
        self.lo, self.hi = -128 - zero_point, 127 - zero_point

    def calibrate(self, features: np.ndarray, scale: bool = True, percentile: float = 1.0) -> "IdLevel":
        super().calibrate(features, scale)
        c = self.centred(features)
        self.lo, self.hi = (int(v) for v in np.percentile(c, [percentile, 100 - percentile], method="nearest"))
        self.hi = max(self.hi, self.lo)
        return self

    def tables(self) -> dict[str, np.ndarray]:
        return {"items": self.items, "levels": self.levels}

    def _encode(self, x: np.ndarray) -> np.ndarray:
        return id_level_encode(x, *self._norm(), self.lo, self.hi, self.items, self.levels)

    def __repr__(self) -> str:
        return (f"IdLevel(n_features={self.n_features}, dim={self.dim}, n_levels={self.n_levels}, "
                f"seed={self.seed:#x}, zero_point={self.zero_point}, range=[{self.lo}, {self.hi}])")
