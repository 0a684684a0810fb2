"""Base task -> target task, and few-shot target splits with a validation part.

The offline story of fine-tuning: pretrain a backbone on the base classes of
a dataset, then adapt it to the target classes from K labelled samples each.
`subset` keeps some classes of a `Split` (relabelled 0..k-1), `few_shot`
draws the K-shot training set and a validation set from the training part,
leaving the test part untouched for the final measurement only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgehdc.data.split import Split


@dataclass(frozen=True)
class FewShot:
    """A K-shot task: `train` (K per class) and `val` drawn from one pool, `test` held out."""

    train: Split  # x_train/y_train: the shots; x_test/y_test: the held-out test samples
    x_val: np.ndarray
    y_val: np.ndarray
    shots: int
    seed: int

    @property
    def num_classes(self) -> int:
        return self.train.num_classes


def subset(split: Split, classes: list[str] | tuple[str, ...]) -> Split:
    """The samples of `classes` (names from `split.class_names`), relabelled 0..len(classes)-1 in that order.

    A class that is unknown, repeated, or without any training sample is a
    ValueError naming it.
    """
    classes = [str(c) for c in classes]
    if not classes:
        raise ValueError("need at least one class")
    unknown = [c for c in classes if c not in split.class_names]
    if unknown:
        raise ValueError(f"unknown classes {unknown}; the dataset has {list(split.class_names)}")
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes repeat: {classes}")
    old = [split.class_names.index(c) for c in classes]
    remap = np.full(split.num_classes, -1, np.int64)
    remap[old] = np.arange(len(old))
    empty = [c for c, k in zip(classes, old) if not np.any(split.y_train == k)]
    if empty:
        raise ValueError(f"class {empty[0]!r} has no training samples")
    tr, te = remap[split.y_train] >= 0, remap[split.y_test] >= 0
    return Split(split.x_train[tr], remap[split.y_train[tr]], split.x_test[te], remap[split.y_test[te]],
                 tuple(classes))


def base_target(split: Split, base: list[str], target: list[str]) -> tuple[Split, Split]:
    """(base task, target task) over disjoint class sets.

    The base task pools the train and test samples of its classes (the target's
    test samples are never seen by pretraining); the target task keeps the
    split's own train/test parts.
    """
    overlap = sorted(set(map(str, base)) & set(map(str, target)))
    if overlap:
        raise ValueError(f"base and target classes overlap: {overlap}")
    return pooled(subset(split, base)), subset(split, target)


def pooled(split: Split) -> Split:
    """Every sample of `split` as training samples (a base task trains on all it has); test part kept."""
    return Split(np.concatenate([split.x_train, split.x_test]), np.concatenate([split.y_train, split.y_test]),
                 split.x_test, split.y_test, split.class_names)


def merge_tasks(a: Split, b: Split) -> Split:
    """One task of a's classes followed by b's (b's labels shifted); class names must differ, shapes match."""
    overlap = sorted(set(a.class_names) & set(b.class_names))
    if overlap:
        raise ValueError(f"the two tasks share class names {overlap}")
    if a.sample_shape != b.sample_shape:
        raise ValueError(f"sample shapes differ: {a.sample_shape} vs {b.sample_shape}")
    k = a.num_classes
    return Split(np.concatenate([a.x_train, b.x_train]), np.concatenate([a.y_train, b.y_train + k]),
                 np.concatenate([a.x_test, b.x_test]), np.concatenate([a.y_test, b.y_test + k]),
                 a.class_names + b.class_names)


def few_shot(split: Split, shots: int, seed: int = 0, val_per_class: int = 10) -> FewShot:
    """K = `shots` training samples per class and up to `val_per_class` validation samples,
    drawn without overlap from `split`'s training part by `seed`; the test part is kept whole.

    A class with fewer than `shots` + 1 training samples is a ValueError naming it
    (validation needs at least one sample per class).
    """
    if shots < 1 or val_per_class < 1:
        raise ValueError(f"need shots >= 1 and val_per_class >= 1, got {shots} and {val_per_class}")
    rng = np.random.default_rng(seed)
    train_idx, val_idx = [], []
    for k, name in enumerate(split.class_names):
        idx = np.flatnonzero(split.y_train == k)
        if len(idx) < shots + 1:
            raise ValueError(f"class {name!r} has {len(idx)} training samples; "
                             f"{shots} shots + 1 validation sample need {shots + 1}")
        idx = rng.permutation(idx)
        train_idx.append(idx[:shots])
        val_idx.append(idx[shots:shots + val_per_class])
    tr, va = np.concatenate(train_idx), np.concatenate(val_idx)
    train = Split(split.x_train[tr], split.y_train[tr], split.x_test, split.y_test, split.class_names)
    return FewShot(train, split.x_train[va], split.y_train[va], shots, seed)
