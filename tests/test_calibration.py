import numpy as np
import pytest
import torch

from edgehdc import models
from edgehdc.data import load_digits, quantize_input, round_half_away
from edgehdc.finetune import evaluate, fit
from edgehdc.quant import calibration
from edgehdc.quant.accuracy import int8_accuracy, int8_logits
from edgehdc.quant.arith import lower
from edgehdc.quant.calibration import Histogram, choose_quant_params, quantization_mse
from edgehdc.quant.ir import OpKind
from edgehdc.quant.ptq import calibrate, quantize


def _raw_mse(v: np.ndarray, lo: float, hi: float) -> float:
    """Quantization MSE of the raw values (not the histogram) on the int8 grid of [lo, hi]."""
    q = choose_quant_params(lo, hi)
    s, z = float(q.scale[0]), int(q.zero_point[0])
    vq = (np.clip(round_half_away(v / s) + z, -128, 127) - z) * s
    return float(np.mean((vq - v) ** 2))


# -- histogram ---------------------------------------------------------------


def test_histogram_keeps_exact_extremes_and_adds():
    v = np.random.default_rng(0).normal(0, 1, 10_000)
    h = Histogram.of(v, bins=100)
    assert h.total == v.size and h.edges[0] == v.min() and h.edges[-1] == v.max()
    assert calibration.minmax(h) == (v.min(), v.max())
    h2 = Histogram.of(v[:10], bins=100, value_range=(v.min(), v.max()))
    assert (h + h2).total == v.size + 10
    with pytest.raises(ValueError, match="same edges"):
        h + Histogram.of(v[:10], bins=100)
    with pytest.raises(ValueError, match="outside the range"):
        Histogram.of(v, value_range=(0.0, 1.0))
    with pytest.raises(ValueError, match="finite"):
        Histogram.of(np.array([1.0, np.nan]))


def test_constant_tensor_gives_its_value_for_every_method():
    h = Histogram.of(np.full(50, 2.5))
    for method in calibration.METHODS:
        assert calibration.choose_range(method, h) == (2.5, 2.5)


# -- percentile --------------------------------------------------------------


def test_percentile_ignores_outliers_and_matches_numpy():
    rng = np.random.default_rng(1)
    v = np.concatenate([rng.normal(0, 1, 200_000), [-1000.0, 1000.0, 800.0]])
    h = Histogram.of(v)
    width = h.edges[1] - h.edges[0]
    lo, hi = calibration.percentile(h, 99.9)
    assert abs(lo - np.percentile(v, 0.1)) <= width and abs(hi - np.percentile(v, 99.9)) <= width
    assert -4 < lo < -3 and 3 < hi < 4, "about the normal's 0.1% quantiles (+-3.09), not +-1000"
    # Finer bins: as close to numpy as the bins allow.
    lo, hi = calibration.percentile(Histogram.of(v, bins=1 << 20), 99.9)
    assert np.allclose([lo, hi], np.percentile(v, [0.1, 99.9]), rtol=0, atol=0.005)
    assert calibration.percentile(h, 100.0) == (-1000.0, 1000.0)
    for bad in (50.0, 100.5):
        with pytest.raises(ValueError, match="percentile"):
            calibration.percentile(h, bad)


# -- mse ---------------------------------------------------------------------


def test_mse_picks_the_least_error_candidate_for_heavy_tailed_data():
    v = np.random.default_rng(2).laplace(0, 1, 100_000)
    h = Histogram.of(v)
    lo, hi = calibration.mse(h, grid=32)
    assert v.min() < lo < 0 < hi < v.max(), "the tails are clipped"
    # Brute force over the same candidates, on the raw values: the histogram finds the optimum.
    fr = np.arange(1, 33) / 32
    best = min(_raw_mse(v, a * v.min(), b * v.max()) for a in fr for b in fr)
    assert _raw_mse(v, lo, hi) <= best * 1.01
    assert _raw_mse(v, lo, hi) < 0.9 * _raw_mse(v, v.min(), v.max())
    assert quantization_mse(h, lo, hi) == pytest.approx(_raw_mse(v, lo, hi), rel=0.05)


def test_mse_clips_a_rare_far_outlier():
    # 10^8 values uniform in [0, 1] and one at 100: the int8 step of [0, 100] costs every
    # value ~(100/255)^2/12, clipping costs the outlier ~99^2: clipping at ~1 wins.
    v = np.concatenate([np.random.default_rng(4).uniform(0, 1, 100_000), [100.0]])
    h = Histogram.of(v)
    counts = h.counts * 1000
    counts[-1] = 1
    lo, hi = calibration.mse(Histogram(counts, h.edges), grid=256)
    assert lo == v.min() and 0.95 <= hi <= 1.2


def test_mse_keeps_the_full_range_of_uniform_data_and_zero_of_relu_outputs():
    rng = np.random.default_rng(3)
    u = rng.uniform(0, 1, 100_000)
    assert calibration.mse(Histogram.of(u)) == (u.min(), u.max())
    relu = np.maximum(rng.standard_t(3, 100_000), 0)
    lo, hi = calibration.mse(Histogram.of(relu))
    assert lo == 0.0 and hi < relu.max()


def test_choose_range_rejects_unknown_methods_and_options():
    h = Histogram.of(np.arange(10.0))
    with pytest.raises(ValueError, match="unknown calibration method 'kl'"):
        calibration.choose_range("kl", h)
    with pytest.raises(ValueError, match="grid"):
        calibration.choose_range("percentile", h, grid=8)
    with pytest.raises(ValueError, match="grid must be"):
        calibration.choose_range("mse", h, grid=0)
    assert calibration.choose_range("percentile", h, percentile=100.0) == (0.0, 9.0)


# -- quantize() with each method on a trained model ---------------------------


@pytest.fixture(scope="module")
def trained():
    split = load_digits()
    torch.manual_seed(0)
    net = models.create("tinycnn", num_classes=split.num_classes)
    fit(net, split, epochs=12, seed=0, progress=False)
    return split, net


@pytest.mark.slow
@pytest.mark.parametrize("method", calibration.METHODS)
def test_each_method_gives_a_valid_graph_near_float_accuracy(trained, method):
    split, net = trained
    acc_float = evaluate(net, split.x_test, split.y_test)
    assert acc_float >= 0.95
    g = quantize(net, split.x_train, method)
    for op in g.ops:
        lower(g, op)
    acc = int8_accuracy(g, split.x_test, split.y_test)
    assert acc >= acc_float - 0.015, (method, acc_float, acc)


@pytest.mark.slow
def test_clipping_methods_narrow_the_ranges_and_given_ranges_are_used(trained):
    split, net = trained
    x = split.x_train[:300]
    full = calibrate(net, x, "minmax")
    for method in ("percentile", "mse"):
        ranges = calibrate(net, x, method)
        assert all(f[0] <= r[0] <= r[1] <= f[1] for f, r in zip(full, ranges))
        assert any(r[1] < 0.95 * f[1] for f, r in zip(full, ranges)), method
    shrunk = [(lo / 2, hi / 2) for lo, hi in full]
    g = quantize(net, x, ranges=shrunk)
    for op, r in zip(g.ops, shrunk):  # one range per op; the pool keeps its input's
        if op.kind != OpKind.AVERAGE_POOL_2D:
            q, out = choose_quant_params(*r), g.tensors[op.outputs[0]].quant
            assert (out.scale[0], out.zero_point[0]) == (q.scale[0], q.zero_point[0])
    with pytest.raises(ValueError, match="ranges"):
        quantize(net, x, ranges=full[:3])
    with pytest.raises(ValueError, match="percentile"):
        quantize(net, x, "percentile", percentile=20.0)


@pytest.mark.slow
def test_per_tensor_weights_are_bit_exact_with_tflm(trained):
    from edgehdc.quant.tflite_io import to_tflite
    from edgehdc.quant.tflm import TflmOracle

    split, net = trained
    g = quantize(net, split.x_train[:300], "mse", per_channel=False)
    for op in g.ops:
        if op.kind in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D):
            assert g.tensors[op.inputs[1]].quant.scale.size == 1
    x = split.x_test[:20]
    oracle = TflmOracle(to_tflite(g))
    xq = quantize_input(x, 1 / 255, -128)
    expected = np.concatenate([oracle.run(xq[i:i + 1])[-1].reshape(1, -1) for i in range(len(xq))])
    np.testing.assert_array_equal(int8_logits(g, x), expected)
    assert int8_accuracy(g, split.x_test, split.y_test) >= evaluate(net, split.x_test, split.y_test) - 0.015
