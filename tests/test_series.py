"""Time series through the data layer, and a 1-D conv model through PTQ and TFLM."""

import numpy as np
import pytest
import torch

from edgehdc import models
from edgehdc.data import (Split, base_target, bundled_aeon_sets, default_classes, few_shot, load_dataset,
                          quantize_input, series_split, subset)
from edgehdc.data.augment import ImageAugment, SeriesAugment, random_shift, time_warp
from edgehdc.data.series import resample
from edgehdc.finetune import fit
from edgehdc.quant.ptq import quantize
from edgehdc.quant.tflite_io import to_tflite
from edgehdc.verify import verify_tflm


@pytest.fixture(scope="module")
def vowels():
    return load_dataset("JapaneseVowels")


def test_bundled_sets_are_the_classification_ones():
    names = bundled_aeon_sets()
    assert {"BasicMotions", "JapaneseVowels", "PickupGestureWiimoteZ", "GunPoint"} <= set(names)
    assert "Airline" not in names  # a forecasting series, no class labels
    with pytest.raises(ValueError, match="not a time-series set bundled"):
        load_dataset("Epilepsy")  # an aeon set that would need a download


def test_unequal_length_series_become_fixed_length_nhwc(vowels):
    s = vowels
    assert s.sample_shape == (1, 32, 12)  # lengths 7..29 resampled to 32 (multiple of 8), 12 LPC channels
    assert (len(s.x_train), len(s.x_test)) == (270, 370)
    assert s.class_names == tuple(str(i) for i in range(1, 10))
    assert s.x_train.min() == 0.0 and s.x_train.max() == 1.0  # per-channel min/max of the training split
    assert 0.0 <= s.x_test.min() and s.x_test.max() <= 1.0
    for c in range(12):
        assert s.x_train[..., c].min() == 0.0 and s.x_train[..., c].max() == 1.0


def test_resample_keeps_endpoints_and_lines():
    x = np.array([[0.0, 1.0, 2.0, 3.0], [5.0, 5.0, 5.0, 5.0]])
    np.testing.assert_allclose(resample(x, 7), [np.linspace(0, 3, 7), np.full(7, 5.0)])
    np.testing.assert_array_equal(resample(x, 4), x)


def test_series_split_rejects_bad_input():
    good = [np.zeros((3, 10)), np.ones((3, 12))]
    s = series_split(good, ["b", "a"], good, ["a", "b"], length=16)
    assert s.sample_shape == (1, 16, 3) and s.class_names == ("a", "b")
    np.testing.assert_array_equal(s.y_train, [1, 0])
    with pytest.raises(ValueError, match="test series 1 has 2 channels, expected 3"):
        series_split(good, ["a", "b"], [np.zeros((3, 9)), np.zeros((2, 9))], ["a", "b"])
    with pytest.raises(ValueError, match="train series 0 has 3 channels, expected 6"):
        series_split(good, ["a", "b"], good, ["a", "b"], channels=6)
    with pytest.raises(ValueError, match=r"never seen in training: \['c'\]"):
        series_split(good, ["a", "b"], good, ["a", "c"])
    with pytest.raises(ValueError, match="NaN"):
        series_split([np.full((3, 5), np.nan)], ["a"], good[:1], ["a"])


def test_base_target_and_few_shot(vowels):
    base, target = base_target(vowels, *default_classes(vowels))
    assert base.class_names == ("1", "2", "3", "4", "5") and target.class_names == ("6", "7", "8", "9")
    assert len(base.x_train) == np.isin(vowels.y_train, range(5)).sum() + np.isin(vowels.y_test, range(5)).sum()
    task = few_shot(target, 5, seed=3, val_per_class=4)
    assert np.bincount(task.train.y_train).tolist() == [5] * 4 and np.bincount(task.y_val).tolist() == [4] * 4
    # shots and validation come from the training part and never overlap; the test part is untouched
    shots = {a.tobytes() for a in task.train.x_train}
    assert not shots & {a.tobytes() for a in task.x_val}
    np.testing.assert_array_equal(task.train.x_test, target.x_test)
    again = few_shot(target, 5, seed=3, val_per_class=4)
    np.testing.assert_array_equal(again.train.x_train, task.train.x_train)
    assert not np.array_equal(few_shot(target, 5, seed=4).train.x_train, task.train.x_train)


def test_class_errors_name_the_class(vowels):
    with pytest.raises(ValueError, match="overlap"):
        base_target(vowels, ["1", "2"], ["2", "3"])
    with pytest.raises(ValueError, match=r"unknown classes \['42'\]"):
        subset(vowels, ["1", "42"])
    two = subset(vowels, ["1", "2"])
    y = np.where(two.y_train == 1, 0, two.y_train)  # class "2" keeps its test samples but no training sample
    no_train = Split(two.x_train, y, two.x_test, two.y_test, two.class_names)
    with pytest.raises(ValueError, match="class '2' has no training samples"):
        subset(no_train, ["2"])
    three = Split(two.x_train[:3], np.zeros(3, np.int64), two.x_test, np.zeros(len(two.x_test), np.int64), ("6",))
    with pytest.raises(ValueError, match="class '6' has 3 training samples"):
        few_shot(three, 3)


def test_augmentation_is_seeded_bounded_and_shape_preserving():
    x = torch.rand(6, 4, 1, 20)
    for aug in (SeriesAugment(), SeriesAugment(jitter=0, scaling=0, warp=0.3)):
        a = aug(x, torch.Generator().manual_seed(1))
        b = aug(x, torch.Generator().manual_seed(1))
        assert torch.equal(a, b) and a.shape == x.shape and 0 <= a.min() and a.max() <= 1
        assert not torch.equal(a, x)
    warped = time_warp(x, 0.3, torch.Generator().manual_seed(0))
    torch.testing.assert_close(warped[..., [0, -1]], x[..., [0, -1]])  # the ends stay in place
    img = torch.rand(5, 1, 8, 8)
    a = ImageAugment(shift=1, brightness=0.2, contrast=0.2, noise=0.05)(img, torch.Generator().manual_seed(0))
    assert a.shape == img.shape and 0 <= a.min() and a.max() <= 1
    # shift only draws exactly what the demo's loop always drew
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(ImageAugment()(img, g1), random_shift(img, 1, g2))


def test_tinycnn1d_is_a_height_one_conv_net():
    net = models.create("tinycnn1d", num_classes=4, in_chans=12).eval()
    conv = net.features[0].conv
    assert conv.kernel_size == (1, 5) and conv.in_channels == 12
    x = torch.rand(3, 12, 1, 32)
    assert net.forward_map(x).shape == (3, 64, 1, 8) and net(x).shape == (3, 4)


def test_quantized_1d_model_is_bit_exact_between_tflm_and_numba(vowels):
    torch.manual_seed(0)
    net = models.create("tinycnn1d", num_classes=9, in_chans=12)
    fit(net, vowels, epochs=3, max_shift=0, progress=False)
    graph = quantize(net, vowels.x_train)
    assert graph.tensors[graph.inputs[0]].shape == (1, 1, 32, 12)
    q = graph.tensors[graph.inputs[0]].quant
    real = quantize_input(vowels.x_test[:60], float(q.scale[0]), int(q.zero_point[0]))
    result = verify_tflm(to_tflite(graph), samples=20, data=real)
    assert result.tensors == 8 and result.compared > 0
    assert result.mismatches == 0, result.first
