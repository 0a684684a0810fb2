"""A labelled train/test split, the one data form every later stage reads.

Samples are float32 NHWC in [0, 1]: images are [N, H, W, C], 1-D
multichannel series are [N, 1, T, C]. So a second domain is a new loader
that returns a `Split`, never a change downstream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    """x_* float32 [N, H, W, C] in [0, 1]; y_* int64 [N] in [0, len(class_names))."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        for part in ("train", "test"):
            x, y = getattr(self, f"x_{part}"), getattr(self, f"y_{part}")
            if x.dtype != np.float32 or x.ndim != 4:
                raise ValueError(f"x_{part} must be float32 NHWC, got {x.dtype} {x.shape}")
            if x.size and (x.min() < 0.0 or x.max() > 1.0):
                raise ValueError(f"x_{part} values must lie in [0, 1]")
            if y.dtype != np.int64 or y.shape != (x.shape[0],):
                raise ValueError(f"y_{part} must be int64 [{x.shape[0]}], got {y.dtype} {y.shape}")
            if y.size and (y.min() < 0 or y.max() >= len(self.class_names)):
                raise ValueError(f"y_{part} labels must lie in [0, {len(self.class_names)})")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(f"train and test sample shapes differ: "
                             f"{self.x_train.shape[1:]} vs {self.x_test.shape[1:]}")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        """(H, W, C) of one sample."""
        return tuple(self.x_train.shape[1:])
