"""Centroid classifier over binary hypervectors, mirroring the firmware's `ehd_hdc_classify`."""

from __future__ import annotations

import numpy as np

from edgehdc.kernels.hdc import hamming_distances, pack_bits, unpack_bits


class Centroid:
    """One bit-packed prototype per class, the bitwise majority of its training hypervectors.

    A prototype bit is 1 iff more than half of the class's hypervectors have it
    set (a tie gives 0). Prediction is the class at the smallest Hamming
    distance, ties to the lowest index; confidence is the second-smallest
    distance minus the smallest (0 with a single class).
    """

    def __init__(self, n_classes: int, dim: int):
        if n_classes <= 0:
            raise ValueError(f"n_classes must be positive, got {n_classes}")
        if dim <= 0 or dim % 32:
            raise ValueError(f"dim must be a positive multiple of 32, got {dim}")
        self.n_classes = n_classes
        self.dim = dim
        self.reset()

    def reset(self) -> None:
        """Forget every sample: per-bit counts and class sizes go to zero."""
        self.bit_counts = np.zeros((self.n_classes, self.dim), np.int64)
        self.class_sizes = np.zeros(self.n_classes, np.int64)
        self.prototypes = np.zeros((self.n_classes, self.dim // 32), np.uint32)

    def add(self, hv: np.ndarray, labels: np.ndarray) -> "Centroid":
        """Bundle more labelled hypervectors into the prototypes (incremental learning)."""
        hv = self._check_hv(hv)
        labels = np.asarray(labels)
        if labels.shape != (hv.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integers [{hv.shape[0]}], got {labels.dtype} {labels.shape}")
        if labels.size and (labels.min() < 0 or labels.max() >= self.n_classes):
            raise ValueError(f"labels must lie in [0, {self.n_classes}), got {labels.min()}..{labels.max()}")
        np.add.at(self.bit_counts, labels, unpack_bits(hv).astype(np.int64))
        self.class_sizes += np.bincount(labels, minlength=self.n_classes)
        self.prototypes = pack_bits(2 * self.bit_counts > self.class_sizes[:, None])
        return self

    def fit(self, hv: np.ndarray, labels: np.ndarray) -> "Centroid":
        """Prototypes from scratch; every class needs at least one sample."""
        self.reset()
        self.add(hv, labels)
        empty = np.flatnonzero(self.class_sizes == 0)
        if empty.size:
            raise ValueError(f"classes without training samples: {empty.tolist()}")
        return self

    def distances(self, hv: np.ndarray) -> np.ndarray:
        """Hamming distances int32 [N, n_classes]."""
        return hamming_distances(self._check_hv(hv), self.prototypes)

    def classify(self, hv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(labels int64 [N], confidence int32 [N], distances int32 [N, n_classes])."""
        d = self.distances(hv)
        labels = np.argmin(d, axis=1)  # first minimum: ties go to the lowest class index
        if self.n_classes == 1:
            return labels, np.zeros(d.shape[0], np.int32), d
        two = np.sort(d, axis=1)[:, :2]
        return labels, (two[:, 1] - two[:, 0]).astype(np.int32), d

    def predict(self, hv: np.ndarray) -> np.ndarray:
        """Labels int64 [N]."""
        return self.classify(hv)[0]

    def _check_hv(self, hv: np.ndarray) -> np.ndarray:
        hv = np.asarray(hv)
        if hv.dtype != np.uint32 or hv.ndim != 2 or hv.shape[1] != self.dim // 32:
            raise ValueError(f"hypervectors must be uint32 [N, {self.dim // 32}], got {hv.dtype} {hv.shape}")
        return hv
