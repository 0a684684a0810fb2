"""Host mirror of the firmware's on-device learning (`ehd_hdc_learner`, firmware/src/hdc/ehd_hdc_learn.c).

A `Learner` holds exactly the device's state, a table of `capacity` class
slots over int16-range accumulators, so the host predicts the device's
prototypes bit for bit after every update. It is also what the firmware
export writes when learning is enabled: the flashed accumulators and
prototypes of the trained classes plus the free slots.
"""

from __future__ import annotations

import numpy as np

from edgehdc.hdc.classifier import ACC_MAX, Centroid
from edgehdc.kernels.hdc import _binarize_row, bundle, hamming_distances, online_update, unpack_bits

NO_CLASS = 0xFFFF  # the distance a free slot reports


class Learner:
    """The device's learning state, starting from a trained `Centroid` with `capacity` class slots.

    Slots 0..n_active-1 are classes; a search never picks a free slot (its
    distance is NO_CLASS). RAM on the device: `ram_bytes`.
    """

    def __init__(self, classifier: Centroid, capacity: int | None = None):
        capacity = classifier.n_classes if capacity is None else capacity
        if not classifier.n_classes <= capacity <= 0xFFFE:
            raise ValueError(f"capacity must be in {classifier.n_classes}..65534, got {capacity}")
        self.dim = classifier.dim
        self.capacity = capacity
        self.n_flashed = classifier.n_classes
        self.flash_accumulators = np.clip(classifier.accumulators, -ACC_MAX, ACC_MAX).astype(np.int16)
        self.flash_prototypes = np.zeros((capacity, self.dim // 32), np.uint32)
        self.flash_prototypes[: self.n_flashed] = classifier.prototypes
        self.reset()

    @property
    def ram_bytes(self) -> int:
        """Accumulators (2 bytes per bit) and prototypes of every slot."""
        return self.capacity * self.dim * 2 + self.capacity * self.dim // 8

    def reset(self) -> None:
        """Back to the flashed state (LEARN_RESET)."""
        self.accumulators = np.zeros((self.capacity, self.dim), np.int32)
        self.accumulators[: self.n_flashed] = self.flash_accumulators
        self.prototypes = self.flash_prototypes.copy()
        self.n_active = self.n_flashed

    def add(self, hv: np.ndarray, label: int) -> int:
        """Bundles hypervectors [k, D/32] into class `label`; returns the saturated entries."""
        hv = self._check(hv, label)
        return bundle(self.accumulators, self.prototypes, hv, np.full(len(hv), label, np.int64))

    def add_online(self, hv: np.ndarray, label: int, margin: int = 0) -> tuple[int, int]:
        """Perceptron updates among the active classes; returns (updated examples, saturated entries)."""
        hv = self._check(hv, label)
        n = self.n_active
        acc, protos = self.accumulators[:n], self.prototypes[:n]  # views: updated in place
        return online_update(acc, protos, hv, np.full(len(hv), label, np.int64), margin)

    def new_class(self) -> int:
        """Activates the next free slot (zero accumulators); returns its index."""
        if self.n_active >= self.capacity:
            raise ValueError(f"the class table is full ({self.capacity} slots)")
        label = self.n_active
        self.accumulators[label] = 0
        self.prototypes[label] = 0
        self.n_active += 1
        return label

    def write(self, label: int, bits: np.ndarray, weight: int = 1) -> None:
        """Replaces slot `label` (active, or the next free one): accumulators = bit ? +weight : -weight."""
        if not 0 <= label <= self.n_active or label >= self.capacity:
            raise ValueError(f"class {label} is neither active nor the next free slot ({self.n_active})")
        w = min(int(weight), ACC_MAX)
        bits = np.ascontiguousarray(bits, dtype=np.uint32).reshape(1, -1)
        self.accumulators[label] = np.where(unpack_bits(bits)[0] > 0, w, -w)
        _binarize_row(self.accumulators, self.prototypes, label)
        self.n_active = max(self.n_active, label + 1)

    def classify(self, hv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(labels, confidence, distances [N, capacity]) as the device's search gives them."""
        hv = np.asarray(hv, dtype=np.uint32)
        d = hamming_distances(hv, self.prototypes[: self.n_active])
        labels = np.argmin(d, axis=1)
        two = np.sort(d, axis=1)[:, :2]
        confidence = (two[:, 1] - two[:, 0]) if self.n_active > 1 else np.zeros(len(hv), np.int64)
        full = np.full((len(hv), self.capacity), NO_CLASS, np.int32)
        full[:, : self.n_active] = d
        return labels, confidence.astype(np.int32), full

    def _check(self, hv: np.ndarray, label: int) -> np.ndarray:
        hv = np.ascontiguousarray(hv, dtype=np.uint32)
        if hv.ndim != 2 or hv.shape[1] != self.dim // 32:
            raise ValueError(f"hypervectors must be uint32 [k, {self.dim // 32}], got {hv.shape}")
        if not 0 <= label < self.n_active:
            raise ValueError(f"class {label} is not active (0..{self.n_active - 1})")
        return hv
