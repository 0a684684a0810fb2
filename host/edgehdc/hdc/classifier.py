"""Centroid classifier over binary hypervectors, mirroring the firmware's search and learning."""

from __future__ import annotations

import numpy as np

from edgehdc.kernels.hdc import ACC_MAX, bundle, hamming_distances, online_update


class Centroid:
    """One bit-packed prototype per class over integer accumulators (docs/hdc.md).

    Each class keeps an int16-range accumulator per bit (saturating at
    +-ACC_MAX); its prototype bit is 1 iff the accumulator is > 0. Bundling
    (`add`, `fit`) adds +1 / -1 per bit of each hypervector, so a prototype is
    the bitwise majority of its class (a tie gives 0). `add_online` and
    `retrain` make perceptron updates on mistakes. Prediction is the class at
    the smallest Hamming distance, ties to the lowest index; confidence is the
    second-smallest distance minus the smallest (0 with a single class).
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
        """Forget every sample: accumulators and prototypes go to zero."""
        self.accumulators = np.zeros((self.n_classes, self.dim), np.int32)
        self.prototypes = np.zeros((self.n_classes, self.dim // 32), np.uint32)
        self.class_sizes = np.zeros(self.n_classes, np.int64)

    def add(self, hv: np.ndarray, labels: np.ndarray) -> "Centroid":
        """Bundle more labelled hypervectors into their classes (incremental learning)."""
        hv, labels = self._check_hv(hv), self._check_labels(labels, len(hv))
        bundle(self.accumulators, self.prototypes, hv, labels)
        self.class_sizes += np.bincount(labels, minlength=self.n_classes)
        return self

    def add_online(self, hv: np.ndarray, labels: np.ndarray, margin: int = 0) -> int:
        """Perceptron updates, sample by sample, where the sample is misclassified (or within
        `margin` bits of it); returns the number of updates. See `edgehdc.kernels.hdc.online_update`."""
        hv, labels = self._check_hv(hv), self._check_labels(labels, len(hv))
        if margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        return online_update(self.accumulators, self.prototypes, hv, labels, margin)[0]

    def fit(self, hv: np.ndarray, labels: np.ndarray, epochs: int = 0, margin: int = 0) -> "Centroid":
        """Prototypes from scratch by bundling, then `retrain` for `epochs`; every class needs a sample."""
        self.reset()
        self.add(hv, labels)
        empty = np.flatnonzero(self.class_sizes == 0)
        if empty.size:
            raise ValueError(f"classes without training samples: {empty.tolist()}")
        self.retrain(hv, labels, epochs, margin)
        return self

    def retrain(self, hv: np.ndarray, labels: np.ndarray, epochs: int = 10, margin: int = 0) -> list[int]:
        """Up to `epochs` passes of `add_online` over the training set, stopping after a pass
        without updates; returns the updates per pass."""
        history = []
        for _ in range(epochs):
            history.append(self.add_online(hv, labels, margin))
            if history[-1] == 0:
                break
        return history

    def add_class(self) -> int:
        """A new, empty class (zero accumulator); returns its index."""
        self.accumulators = np.concatenate([self.accumulators, np.zeros((1, self.dim), np.int32)])
        self.prototypes = np.concatenate([self.prototypes, np.zeros((1, self.dim // 32), np.uint32)])
        self.class_sizes = np.append(self.class_sizes, 0)
        self.n_classes += 1
        return self.n_classes - 1

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
        return np.ascontiguousarray(hv)

    def _check_labels(self, labels: np.ndarray, n: int) -> np.ndarray:
        labels = np.asarray(labels)
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integers [{n}], got {labels.dtype} {labels.shape}")
        if labels.size and (labels.min() < 0 or labels.max() >= self.n_classes):
            raise ValueError(f"labels must lie in [0, {self.n_classes}), got {labels.min()}..{labels.max()}")
        return labels.astype(np.int64)


__all__ = ["ACC_MAX", "Centroid"]
