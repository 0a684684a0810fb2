import numpy as np
import pytest
import torch
import torch.nn.functional as F

from edgehdc.data import Split, load_digits, load_glyphs, quantize_input, round_half_away
from edgehdc.data.digits import bilinear_matrix


def test_digits_split_is_deterministic_and_well_formed():
    a, b = load_digits(), load_digits()
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.x_train.shape[1:] == (16, 16, 1) and a.x_train.dtype == np.float32
    assert len(a.x_train) + len(a.x_test) == 1797 and len(a.x_test) == 450
    assert 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0 and a.x_train.max() > 0.9
    assert a.class_names == tuple(str(i) for i in range(10)) and a.num_classes == 10
    other = load_digits(seed=1)
    assert not np.array_equal(a.y_test, other.y_test)


def test_digits_split_is_stratified():
    s = load_digits(test_size=0.25)
    total = np.bincount(s.y_train, minlength=10) + np.bincount(s.y_test, minlength=10)
    test = np.bincount(s.y_test, minlength=10)
    assert np.all(np.abs(test - 0.25 * total) <= 1)


def test_digits_size_follows_argument():
    s = load_digits(size=8)
    assert s.sample_shape == (8, 8, 1)
    # At the native size bilinear resizing is the identity: values are k/16.
    np.testing.assert_allclose(s.x_train * 16, np.round(s.x_train * 16), atol=1e-5)


@pytest.mark.parametrize("n_in,n_out", [(8, 16), (8, 12), (8, 5), (3, 3)])
def test_bilinear_matrix_matches_pytorch(n_in, n_out):
    img = np.random.default_rng(0).random((2, n_in, n_in))
    r = bilinear_matrix(n_in, n_out)
    ref = F.interpolate(torch.from_numpy(img)[:, None], size=(n_out, n_out), mode="bilinear",
                        align_corners=False)[:, 0].numpy()
    np.testing.assert_allclose(r @ img @ r.T, ref, atol=1e-12)


def test_round_half_away_from_zero():
    x = np.array([2.5, -2.5, 0.5, -0.5, 1.4999, np.nextafter(np.float32(0.5), np.float32(0))], np.float64)
    np.testing.assert_array_equal(round_half_away(x), [3, -3, 1, -1, 1, 0])


def test_quantize_input_matches_tflite_rule():
    q = quantize_input(np.array([0.0, 1.0, 2 / 255, -1.0, 2.0], np.float32), 1 / 255, -128)
    assert q.dtype == np.int8
    np.testing.assert_array_equal(q, [-128, 127, -126, -128, 127])  # out of range clamps
    # Exact halves (scale 0.25 is exact in float32) round away from zero.
    np.testing.assert_array_equal(quantize_input(np.array([0.125, -0.125, 0.375]), 0.25, 3), [4, 2, 5])
    # The division is float32, as in TFLM: 0.5 / float32(1/255) = 127.49999 -> 127, not 128.
    assert quantize_input(np.array([0.5]), 1 / 255, -128)[0] == -1


@pytest.mark.parametrize("scale,zp", [(0.0, 0), (-1.0, 0), (float("nan"), 0), (0.1, 128), (0.1, -129)])
def test_quantize_input_rejects_bad_params(scale, zp):
    with pytest.raises(ValueError):
        quantize_input(np.zeros(3, np.float32), scale, zp)


def test_split_rejects_malformed_arrays():
    x = np.zeros((4, 2, 2, 1), np.float32)
    y = np.zeros(4, np.int64)
    Split(x, y, x, y, ("a",))
    with pytest.raises(ValueError, match="float32"):
        Split(x.astype(np.float64), y, x, y, ("a",))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Split(x + 2, y, x, y, ("a",))
    with pytest.raises(ValueError, match="labels"):
        Split(x, y + 1, x, y, ("a",))
    with pytest.raises(ValueError, match="int64"):
        Split(x, y[:3], x, y, ("a",))


def test_glyphs_are_deterministic_per_seed_and_in_digits_format():
    from sklearn import datasets

    from edgehdc.data.glyphs import GLYPH_CLASSES, render_glyphs

    a, ya = render_glyphs(3, seed=0)
    b, yb = render_glyphs(3, seed=0)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a, render_glyphs(3, seed=1)[0])
    # load_digits' raw format: [N, 8, 8] whole counts 0..16, every class drawn per_class times
    digits = datasets.load_digits().images
    assert a.shape == (3 * len(GLYPH_CLASSES), 8, 8) == (len(a),) + digits.shape[1:]
    assert a.min() == 0 and a.max() == 16 and np.issubdtype(a.dtype, np.integer)
    np.testing.assert_array_equal(np.bincount(ya), np.full(len(GLYPH_CLASSES), 3))
    # inked like the digits: similar share of empty and full blocks
    for level in (0, 16):
        assert abs(np.mean(a == level) - np.mean(digits == level)) < 0.1
    s = load_glyphs(per_class=4, seed=0)
    assert s.sample_shape == (16, 16, 1) and s.x_train.dtype == np.float32 and s.class_names == GLYPH_CLASSES
    assert len(s.x_train) + len(s.x_test) == 4 * len(GLYPH_CLASSES)
    # the same input path as the digits: at 8x8 the values are the counts / 16
    s8 = load_glyphs(size=8, per_class=4, seed=0)
    np.testing.assert_allclose(s8.x_train * 16, np.round(s8.x_train * 16), atol=1e-5)
    raw = np.sort(render_glyphs(4, seed=0)[0].reshape(len(s8.y_train) + len(s8.y_test), -1), axis=0)
    got = np.sort(np.concatenate([s8.x_train, s8.x_test]).reshape(len(raw), -1) * 16, axis=0)
    np.testing.assert_allclose(got, raw, atol=1e-5)


def test_glyphs_are_learnable_letters_and_never_a_digit():
    from sklearn.linear_model import LogisticRegression

    from edgehdc.data import task_pair
    from edgehdc.data.glyphs import GLYPH_CLASSES

    assert all(ch.isalpha() and ch.isascii() for c in GLYPH_CLASSES for ch in c)
    assert not set("0123456789") & set("".join(GLYPH_CLASSES))
    s = load_glyphs(size=8, per_class=30, seed=0)
    acc = LogisticRegression(max_iter=2000).fit(s.x_train.reshape(len(s.x_train), -1), s.y_train).score(
        s.x_test.reshape(len(s.x_test), -1), s.y_test)
    assert acc > 0.5  # 43 classes: chance is 0.023; the classes are shapes, not noise
    base, target = task_pair("digits", base_dataset="glyphs")
    assert base.class_names == GLYPH_CLASSES and target.class_names == tuple("56789")
    assert not set(base.class_names) & set(target.class_names)
    both, target2 = task_pair("digits", base_dataset="glyphs", keep_own_base=True)
    assert both.class_names == GLYPH_CLASSES + tuple("01234") and target2.class_names == target.class_names
    np.testing.assert_array_equal(target2.x_test, target.x_test)
    assert len(both.x_train) == len(base.x_train) + len(task_pair("digits")[0].x_train)


def test_task_pair_refuses_a_base_set_holding_a_target_class(monkeypatch):
    import edgehdc.data as data

    fake = Split(np.zeros((2, 16, 16, 1), np.float32), np.array([0, 1]), np.zeros((2, 16, 16, 1), np.float32),
                 np.array([0, 1]), ("A", "7"))
    monkeypatch.setattr(data, "load_glyphs", lambda **kw: fake)
    with pytest.raises(ValueError, match=r"holds target classes \['7'\]"):
        data.task_pair("digits", base_dataset="glyphs")
    with pytest.raises(ValueError, match=r"shape \(16, 16, 1\), JapaneseVowels has \(1, 32, 12\)"):
        data.task_pair("JapaneseVowels", base_dataset="glyphs")
    with pytest.raises(ValueError, match="unknown base dataset"):
        data.task_pair("digits", base_dataset="letters")
    with pytest.raises(ValueError, match="share class names"):
        data.merge_tasks(fake, fake)
