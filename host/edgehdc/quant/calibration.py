"""Calibration: the real range [lo, hi] an int8 activation tensor is quantized over.

The observed values of one tensor are summarised in a `Histogram` (its edges
span exactly the observed [min, max]); each method turns that histogram into
a range, which `choose_quant_params` turns into an
asymmetric int8 scale and zero point (widened to include 0, zero point
nudged):

- `minmax`: the observed [min, max]. Nothing is clipped; one outlier
  stretches the step for every other value.
- `percentile`: the [100 - p, p] percentiles (p = 99.99 by default), so the
  rarest values are clipped.
- `mse`: the candidate range whose int8 grid (as `choose_quant_params` builds
  it) gives the least mean squared quantization error over the histogram.
  Candidates are [a * min, b * max] for a, b on the grid 1/n, 2/n, ..., 1.

`choose_range(method, hist, **options)` dispatches by name.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

from edgehdc.data.quantize import round_half_away
from edgehdc.quant.ir import QuantParams

QMIN, QMAX = -128, 127
METHODS = ("minmax", "percentile", "mse")
DEFAULT_BINS = 2048


@dataclass(frozen=True)
class Histogram:
    """Counts of observed values in equal bins; edges[0] and edges[-1] are the exact min and max."""

    counts: np.ndarray  # int64 [bins]
    edges: np.ndarray  # float64 [bins + 1]

    @staticmethod
    def of(values: np.ndarray, bins: int = DEFAULT_BINS,
           value_range: tuple[float, float] | None = None) -> "Histogram":
        """Histogram of `values` over `value_range` (default: their min and max).

        Values outside `value_range` are an error: the range is meant to come
        from a first min/max pass over the same data.
        """
        v = np.asarray(values, np.float64).reshape(-1)
        if v.size == 0 or not np.all(np.isfinite(v)):
            raise ValueError("values must be non-empty and finite")
        if bins < 1:
            raise ValueError(f"bins must be >= 1, got {bins}")
        lo, hi = (float(v.min()), float(v.max())) if value_range is None else map(float, value_range)
        if not lo <= v.min() or not v.max() <= hi:
            raise ValueError(f"values [{v.min()}, {v.max()}] lie outside the range [{lo}, {hi}]")
        if lo == hi:  # a constant tensor: one bin of zero width
            return Histogram(np.array([v.size], np.int64), np.array([lo, hi]))
        counts, edges = np.histogram(v, bins=bins, range=(lo, hi))
        edges[0], edges[-1] = lo, hi  # keep the observed extremes exact
        return Histogram(counts.astype(np.int64), edges)

    def __add__(self, other: "Histogram") -> "Histogram":
        if not np.array_equal(self.edges, other.edges):
            raise ValueError("only histograms with the same edges can be added")
        return Histogram(self.counts + other.counts, self.edges)

    @property
    def centres(self) -> np.ndarray:
        return (self.edges[:-1] + self.edges[1:]) / 2

    @property
    def total(self) -> int:
        return int(self.counts.sum())


def minmax(hist: Histogram) -> tuple[float, float]:
    """The observed [min, max]."""
    return float(hist.edges[0]), float(hist.edges[-1])


def percentile(hist: Histogram, percentile: float = 99.99) -> tuple[float, float]:
    """[P(100 - percentile), P(percentile)] of the observed values.

    Interpolated linearly inside a bin (values are taken as uniform within
    it), so the error is at most one bin width. percentile = 100 is `minmax`.
    """
    if not 50.0 < percentile <= 100.0:
        raise ValueError(f"percentile must lie in (50, 100], got {percentile}")
    if percentile == 100.0:
        return minmax(hist)
    cdf = np.concatenate([[0.0], np.cumsum(hist.counts)]) / hist.total
    lo = float(np.interp(1.0 - percentile / 100.0, cdf, hist.edges))
    hi = float(np.interp(percentile / 100.0, cdf, hist.edges))
    return lo, hi


def quantization_mse(hist: Histogram, lo: float, hi: float) -> float:
    """Mean squared error of quantizing the histogram's values on the int8 grid of [lo, hi].

    The grid is `choose_quant_params(lo, hi)`: the multiples of its scale
    between the values of q = -128 and 127; beyond them values are clamped, as
    the int8 kernels clamp. Values are taken as spread uniformly within each
    bin and the error is integrated exactly, so bins wider than the step
    still count the step's rounding error.
    """
    q = choose_quant_params(lo, hi)
    scale, zp = float(q.scale[0]), int(q.zero_point[0])
    gmin, gmax = (QMIN - zp) * scale, (QMAX - zp) * scale
    width = np.diff(hist.edges)
    if np.all(width > 0):
        mean_sq = np.diff(_error_integral(hist.edges, scale, gmin, gmax)) / width
    else:  # a constant tensor: its one value, quantized
        x = hist.centres
        mean_sq = (np.clip(round_half_away(x / scale), QMIN - zp, QMAX - zp) * scale - x) ** 2
    return float(np.dot(hist.counts, mean_sq) / hist.total)


def _error_integral(x: np.ndarray, scale: float, gmin: float, gmax: float) -> np.ndarray:
    """Integral from 0 to x of (Q(u) - u)^2, Q rounding to the grid scale * Z clamped to [gmin, gmax]."""
    t = np.clip(x, gmin, gmax)
    a = np.abs(t)
    n = np.floor(a / scale)
    r = a - n * scale  # position inside the current step; rounding flips at scale / 2
    d = np.minimum(r, scale - r)  # distance to the nearest grid point
    # Over [0, r]: r^3/3 up to the flip, then one half step (s^3/24) plus the way back.
    inside = np.where(r <= scale / 2, d * d * d, scale**3 / 4 - d * d * d) / 3
    over, under = np.maximum(x - gmax, 0), np.minimum(x - gmin, 0)
    return np.copysign(n * scale**3 / 12 + inside, t) + (over * over * over + under * under * under) / 3


def mse(hist: Histogram, grid: int = 64) -> tuple[float, float]:
    """The range [a * min, b * max], a, b in {1/grid, ..., 1}, of least `quantization_mse`.

    Ties go to the widest range (larger b, then larger a). A side that is 0
    (e.g. the lower end of a ReLU output) stays 0.
    """
    if grid < 1:
        raise ValueError(f"grid must be >= 1, got {grid}")
    vmin, vmax = minmax(hist)
    if vmin == vmax:
        return vmin, vmax
    fractions = np.arange(grid, 0, -1) / grid  # widest first, so ties keep it
    los = np.unique(vmin * fractions) if vmin < 0 else np.array([vmin])
    his = np.unique(vmax * fractions) if vmax > 0 else np.array([vmax])
    best, best_err = (vmin, vmax), np.inf
    for hi in his[::-1]:
        for lo in los:
            err = quantization_mse(hist, float(lo), float(hi))
            if err < best_err:
                best, best_err = (float(lo), float(hi)), err
    return best


def choose_quant_params(rmin: float, rmax: float) -> QuantParams:
    """Asymmetric int8 params for [rmin, rmax], widened to include 0; zero point nudged.

    As TensorFlow's ChooseQuantizationParams: scale = (rmax - rmin) / 255, the
    zero point is taken from whichever end gives the smaller error, rounded
    half away from zero and clamped, so real 0 is exactly representable.
    """
    if not (np.isfinite(rmin) and np.isfinite(rmax)) or rmin > rmax:
        raise ValueError(f"invalid calibration range [{rmin}, {rmax}]")
    rmin, rmax = min(rmin, 0.0), max(rmax, 0.0)
    if rmin == rmax:  # an all-zero tensor: any scale represents it
        return QuantParams.per_tensor(1.0, 0)
    scale = float(np.float32((rmax - rmin) / (QMAX - QMIN)))
    zp_from_min, zp_from_max = QMIN - rmin / scale, QMAX - rmax / scale
    err_min, err_max = abs(QMIN) + abs(rmin / scale), abs(QMAX) + abs(rmax / scale)
    zp = zp_from_min if err_min < err_max else zp_from_max
    return QuantParams.per_tensor(scale, int(np.clip(round_half_away(zp), QMIN, QMAX)))


_METHODS = {"minmax": minmax, "percentile": percentile, "mse": mse}


def choose_range(method: str, hist: Histogram, **options) -> tuple[float, float]:
    """Range of `hist` by calibration `method` ("minmax" | "percentile" | "mse") and its options."""
    check_method(method, options)
    return _METHODS[method](hist, **options)


def check_method(method: str, options: dict) -> None:
    """ValueError unless `method` is known and takes every option in `options`."""
    if method not in _METHODS:
        raise ValueError(f"unknown calibration method {method!r}; supported: {', '.join(METHODS)}")
    accepted = list(inspect.signature(_METHODS[method]).parameters)[1:]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"calibration method {method!r} takes {accepted or 'no options'}, got {unknown}")
