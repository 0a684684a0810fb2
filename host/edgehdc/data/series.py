"""Multichannel time series as a `Split` of [N, 1, T, C] samples (a 1-D conv input is NHWC with H = 1).

`load_aeon(name)` reads one of the classification sets bundled inside the
PyPI `aeon` wheel (no network). Series of unequal length are resampled
linearly to one length; each channel is scaled to [0, 1] by the minimum and
maximum of the training split (test values outside that range are clipped),
so the int8 input quantization of images (scale 1/255) serves series too.
`series_split` does the same for the user's own arrays.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgehdc.data.split import Split


def bundled_aeon_sets() -> list[str]:
    """Names of the classification sets (a `@classLabel true` header) shipped inside the installed aeon."""
    names = []
    for p in _aeon_data_dir().iterdir():
        ts = p / f"{p.name}_TRAIN.ts"
        if p.name != "UnitTest" and ts.is_file() and "@classlabel true" in _header(ts):
            names.append(p.name)
    return sorted(names)


def _header(ts: Path) -> str:
    with ts.open(errors="replace") as f:
        return "".join(line for line, _ in zip(f, range(200)) if line.startswith("@")).lower()


def _aeon_data_dir() -> Path:
    import aeon.datasets

    return Path(aeon.datasets.__file__).parent / "data"


def load_aeon(name: str, length: int | None = None) -> Split:
    """aeon's bundled set `name` with its own train/test split, as [N, 1, length, C] in [0, 1].

    `length` defaults to the longest series rounded up to a multiple of 8.
    Class names are aeon's labels in sorted order. Never downloads: a set that
    is not bundled is a ValueError listing the ones that are.
    """
    from aeon.datasets import load_classification

    bundled = bundled_aeon_sets()
    if name not in bundled:
        raise ValueError(f"{name!r} is not a time-series set bundled with aeon; bundled: {', '.join(bundled)}")
    parts = {s: load_classification(name, split=s, extract_path=str(_aeon_data_dir())) for s in ("train", "test")}
    (x_tr, y_tr), (x_te, y_te) = parts["train"], parts["test"]
    return series_split(list(x_tr), y_tr, list(x_te), y_te, length=length)


def series_split(x_train: list[np.ndarray], y_train, x_test: list[np.ndarray], y_test,
                 length: int | None = None, channels: int | None = None) -> Split:
    """A `Split` from series given as [C, T_i] arrays (T_i may differ) and labels of any type.

    Every series must have the same channel count (`channels`, when given,
    must match). Labels are mapped to 0..K-1 in sorted order of the training
    labels; a test label never seen in training is an error naming it.
    """
    if len(x_train) == 0 or len(x_test) == 0:
        raise ValueError("both splits need at least one series")
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ValueError(f"need one label per series: {len(x_train)}/{len(y_train)} train, "
                         f"{len(x_test)}/{len(y_test)} test")
    want = channels if channels is not None else np.asarray(x_train[0]).shape[0]
    for part, xs in (("train", x_train), ("test", x_test)):
        for i, s in enumerate(xs):
            s = np.asarray(s)
            if s.ndim != 2 or s.shape[1] < 2:
                raise ValueError(f"{part} series {i}: expected [channels, time >= 2], got shape {s.shape}")
            if s.shape[0] != want:
                raise ValueError(f"{part} series {i} has {s.shape[0]} channels, expected {want}")
            if not np.all(np.isfinite(s)):
                raise ValueError(f"{part} series {i} contains NaN or infinity")
    if length is None:
        longest = max(np.asarray(s).shape[1] for s in [*x_train, *x_test])
        length = -(-longest // 8) * 8
    if length < 2:
        raise ValueError(f"length must be >= 2, got {length}")
    tr = np.stack([resample(np.asarray(s, np.float64), length) for s in x_train])  # [N, C, T]
    te = np.stack([resample(np.asarray(s, np.float64), length) for s in x_test])
    lo = tr.min(axis=(0, 2), keepdims=True)
    span = np.maximum(tr.max(axis=(0, 2), keepdims=True) - lo, 1e-12)
    names = sorted({str(v) for v in np.asarray(y_train)}, key=_natural)
    index = {n: i for i, n in enumerate(names)}
    unseen = sorted({str(v) for v in np.asarray(y_test)} - set(names))
    if unseen:
        raise ValueError(f"test labels never seen in training: {unseen}")

    def to_split(x: np.ndarray) -> np.ndarray:
        x = np.clip((x - lo) / span, 0.0, 1.0)
        return np.ascontiguousarray(x.transpose(0, 2, 1)[:, None], dtype=np.float32)  # [N, 1, T, C]

    def labels(y) -> np.ndarray:
        return np.array([index[str(v)] for v in np.asarray(y)], np.int64)

    return Split(to_split(tr), labels(y_train), to_split(te), labels(y_test), tuple(names))


def resample(series: np.ndarray, length: int) -> np.ndarray:
    """[C, T] -> [C, length] by linear interpolation; the first and last samples are kept."""
    t = series.shape[1]
    if t == length:
        return series
    pos = np.linspace(0.0, t - 1, length)
    return np.stack([np.interp(pos, np.arange(t), ch) for ch in series])


def _natural(label: str):
    """Sort '2' before '10' when every label is an integer, else alphabetically."""
    return (0, int(label), "") if label.lstrip("-").isdigit() else (1, 0, label)
