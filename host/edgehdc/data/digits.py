"""scikit-learn's bundled digits (8x8, 10 classes, 1797 samples) as an image `Split`."""

from __future__ import annotations

import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split

from edgehdc.data.split import Split


def bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """[n_out, n_in] weights of 1-D bilinear resizing with half-pixel centres.

    Same sampling as PyTorch `interpolate(mode="bilinear", align_corners=False)`
    and TF `resize(..., method="bilinear")`: output i reads input position
    (i + 0.5) * n_in / n_out - 0.5, clamped to the edge. Rows sum to 1, so
    values in [0, 1] stay in [0, 1].
    """
    pos = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = pos - lo
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), lo), 1 - frac)
    np.add.at(m, (np.arange(n_out), hi), frac)
    return m


def to_input(images: np.ndarray, size: int) -> np.ndarray:
    """[N, 8, 8] counts 0..16 -> float32 [N, size, size, 1] in [0, 1], scaled then resized bilinearly."""
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    r = bilinear_matrix(images.shape[1], size)
    images = np.clip(r @ (images / 16.0) @ r.T, 0.0, 1.0)  # clip only float rounding
    return images[..., None].astype(np.float32)


def load_digits(size: int = 16, test_size: float = 0.25, seed: int = 0) -> Split:
    """Digits scaled from 0..16 to [0, 1], resized bilinearly to size x size, one channel.

    The split is stratified by class and fixed by `seed`.
    """
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must lie in (0, 1), got {test_size}")
    bunch = datasets.load_digits()
    x = to_input(bunch.images, size)
    y = bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=seed)
    names = tuple(str(c) for c in bunch.target_names)
    return Split(x_tr, y_tr, x_te, y_te, names)
