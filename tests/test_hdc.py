"""Host HDC (edgehdc.hdc, edgehdc.kernels.hdc) against docs/hdc.md, written out in plain Python."""

import numpy as np
import pytest

from edgehdc.hdc import (
    ACC_MAX,
    DEFAULT_SEED,
    Centroid,
    IdLevel,
    SignProjection,
    fit_normalization,
    level_hypervectors,
    projection_matrix,
    xorshift32,
)
from edgehdc.kernels.hdc import hamming_distances, hamming_topk, hdc_encode, pack_bits, unpack_bits


def ref_xorshift32(seed, n):
    """docs/hdc.md's generator with numpy uint32 arithmetic (wraps mod 2**32 by itself)."""
    s = np.array([seed], np.uint32)
    out = []
    for _ in range(n):
        s ^= s << np.uint32(13)
        s ^= s >> np.uint32(17)
        s ^= s << np.uint32(5)
        out.append(int(s[0]))
    return out


def ref_encode(x, zp, projection, n_features, centre=None, scale=None):
    """docs/hdc.md's sign projection, one bit at a time, packed by hand."""
    d = projection.shape[0]
    words = [0] * (d // 32)
    for j in range(d):
        acc = 0
        for i in range(n_features):
            c = (int(x[i]) - (zp if centre is None else int(centre[i]))) * (1 if scale is None else int(scale[i]))
            acc += c if (int(projection[j, i // 32]) >> (i % 32)) & 1 else -c
        if acc > 0:
            words[j // 32] |= 1 << (j % 32)
    return np.array(words, np.uint32)


def test_xorshift32_known_values():
    # Marsaglia's xorshift32 (13, 17, 5) from state 1.
    assert xorshift32(1, 3).tolist() == [270369, 67634689, 2647435461]
    assert xorshift32(DEFAULT_SEED, 1000).tolist() == ref_xorshift32(DEFAULT_SEED, 1000)
    assert DEFAULT_SEED == 0x5EED1234


@pytest.mark.parametrize("seed", [0, 1 << 32, -1])
def test_xorshift32_rejects_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        xorshift32(seed, 4)


@pytest.mark.parametrize("n_features", [1, 31, 32, 33, 50, 64])
def test_projection_fill_order_and_cleared_tail(n_features):
    dim, w = 64, (n_features + 31) // 32
    p = projection_matrix(n_features, dim, seed=7)
    assert p.shape == (dim, w) and p.dtype == np.uint32
    raw = np.array(ref_xorshift32(7, dim * w), np.uint32).reshape(dim, w)
    tail = n_features - 32 * (w - 1)
    mask = np.full(w, 0xFFFFFFFF, np.uint32)
    mask[-1] = (1 << tail) - 1 if tail < 32 else 0xFFFFFFFF
    np.testing.assert_array_equal(p, raw & mask)


@pytest.mark.parametrize("n_features,dim,zp", [(1, 32, 0), (33, 64, -5), (50, 96, 17), (64, 256, -128)])
def test_encoder_matches_plain_python_reference(n_features, dim, zp):
    rng = np.random.default_rng(n_features)
    x = rng.integers(-128, 128, (6, n_features)).astype(np.int8)
    enc = SignProjection(n_features, dim=dim, seed=0xC0FFEE, zero_point=zp)
    hv = enc.encode(x)
    assert hv.shape == (6, dim // 32) and hv.dtype == np.uint32
    for row, h in zip(x, hv):
        np.testing.assert_array_equal(h, ref_encode(row, zp, enc.projection, n_features))
    np.testing.assert_array_equal(enc.encode(x[0]), hv[0])


def test_encoder_zero_sum_gives_zero_bits():
    # acc_j = 0 for every row when all features sit on the zero point: "> 0" gives bit 0.
    enc = SignProjection(40, dim=128, zero_point=9)
    assert not enc.encode(np.full((2, 40), 9, np.int8)).any()


def test_encoder_rejects_bad_input():
    enc = SignProjection(16, dim=64)
    with pytest.raises(ValueError, match="int8"):
        enc.encode(np.zeros((1, 16), np.int16))
    with pytest.raises(ValueError, match=r"\[N, 16\]"):
        enc.encode(np.zeros((1, 15), np.int8))
    with pytest.raises(ValueError, match="multiple of 32"):
        SignProjection(16, dim=100)
    with pytest.raises(ValueError, match="words per row"):
        hdc_encode(np.zeros((1, 40), np.int8), 0, np.zeros((32, 1), np.uint32))


def test_bit_layout():
    bits = np.zeros((1, 128), np.uint8)
    for i in (0, 5, 31, 32, 63, 100, 127):
        bits[0, i] = 1
    words = pack_bits(bits)
    expected = [0, 0, 0, 0]
    for i in (0, 5, 31, 32, 63, 100, 127):
        expected[i >> 5] |= 1 << (i & 31)
    assert words.tolist() == [expected]
    np.testing.assert_array_equal(unpack_bits(words), bits)
    # The same bytes viewed as 64-bit words carry the same bits in the same order.
    np.testing.assert_array_equal(unpack_bits(words.view(np.uint64)), bits)


def test_hamming_distances_match_popcount():
    rng = np.random.default_rng(3)
    hv = rng.integers(0, 2**32, (5, 8), dtype=np.uint32)
    protos = rng.integers(0, 2**32, (3, 8), dtype=np.uint32)
    d = hamming_distances(hv, protos)
    for n in range(5):
        for k in range(3):
            assert d[n, k] == sum(bin(int(a ^ b)).count("1") for a, b in zip(hv[n], protos[k]))


def test_majority_bundling_tie_gives_zero():
    bits = np.zeros((5, 32), np.uint8)
    bits[0, 0] = bits[1, 0] = 1  # class 0: 2 of 2 -> 1
    bits[0, 1] = 1  # class 0: 1 of 2, a tie -> 0
    bits[2, 2] = bits[3, 2] = 1  # class 1: 2 of 3 -> 1
    bits[4, 3] = 1  # class 1: 1 of 3 -> 0
    model = Centroid(2, 32).fit(pack_bits(bits), np.array([0, 0, 1, 1, 1]))
    assert model.prototypes.tolist() == [[0b1], [0b100]]


def test_add_is_incremental_fit():
    rng = np.random.default_rng(4)
    hv = rng.integers(0, 2**32, (30, 4), dtype=np.uint32)
    labels = rng.integers(0, 3, 30)
    labels[:3] = [0, 1, 2]
    whole = Centroid(3, 128).fit(hv, labels)
    parts = Centroid(3, 128).add(hv[:11], labels[:11]).add(hv[11:], labels[11:])
    np.testing.assert_array_equal(whole.prototypes, parts.prototypes)


def test_classify_ties_and_confidence():
    model = Centroid(3, 32)
    model.prototypes = np.array([[0b11], [0b101], [0b0]], np.uint32)
    hv = np.array([[0b1], [0b111], [0b100]], np.uint32)
    labels, confidence, d = model.classify(hv)
    assert d.tolist() == [[1, 1, 1], [1, 1, 3], [3, 1, 1]]
    assert labels.tolist() == [0, 0, 1]  # ties go to the lowest class index
    assert confidence.tolist() == [0, 0, 0]
    labels, confidence, _ = model.classify(np.array([[0b11]], np.uint32))
    assert labels.tolist() == [0] and confidence.tolist() == [2]  # distances 0, 2, 2
    single = Centroid(1, 32)
    assert single.classify(hv)[1].tolist() == [0, 0, 0]


def test_classifier_rejects_bad_input():
    model = Centroid(3, 64)
    hv = np.zeros((2, 2), np.uint32)
    with pytest.raises(ValueError, match="labels"):
        model.fit(hv, np.array([0, 3]))
    with pytest.raises(ValueError, match="without training samples"):
        model.fit(hv, np.array([0, 1]))
    with pytest.raises(ValueError, match="uint32"):
        model.predict(np.zeros((2, 3), np.uint32))


def test_digits_end_to_end():
    from sklearn.datasets import load_digits

    pixels, y = load_digits(return_X_y=True)
    x = (pixels * 8 - 64).astype(np.int8)  # 0..16 -> -64..64
    enc = SignProjection(64, dim=2048)
    hv = enc.encode(x)
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[:1200], order[1200:]
    model = Centroid(10, 2048).fit(hv[train], y[train])
    labels, confidence, d = model.classify(hv[test])
    np.testing.assert_array_equal(labels, d.argmin(axis=1))
    assert (confidence >= 0).all()
    assert (labels == y[test]).mean() > 0.85


@pytest.mark.parametrize("n_features,dim", [(5, 64), (32, 128), (40, 96)])
def test_calibrated_sign_projection_matches_reference(n_features, dim):
    rng = np.random.default_rng(dim)
    calib = (rng.normal(0, 1, (200, n_features)) * rng.uniform(5, 40, n_features)
             + rng.uniform(-30, 30, n_features)).clip(-128, 127).astype(np.int8)
    enc = SignProjection(n_features, dim=dim, seed=99, zero_point=-3).calibrate(calib)
    assert enc.scale.max() == 15 and enc.scale.min() >= 1
    np.testing.assert_array_equal(enc.centre, np.floor(calib.mean(0) + 0.5).astype(np.int8))
    x = rng.integers(-128, 128, (4, n_features)).astype(np.int8)
    for row, h in zip(x, enc.encode(x)):
        np.testing.assert_array_equal(h, ref_encode(row, 0, enc.projection, n_features, enc.centre, enc.scale))


def test_fit_normalization_scales_and_dead_features():
    x = np.stack([np.arange(-50, 50), np.arange(-50, 50) // 4, np.full(100, 7)], axis=1).astype(np.int8)
    centre, scale = fit_normalization(x)
    assert centre.tolist() == [-1, -1, 7]  # means -0.5, -0.5: halves away from zero
    assert scale.tolist() == [4, 15, 0]  # std ratio 4:1; a constant feature carries nothing
    assert fit_normalization(x, scale=False)[1].tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="at least 2"):
        fit_normalization(x[:1])


def ref_id_level(x, enc):
    """docs/hdc.md's ID-level encoding, bit by bit."""
    f, words = enc.n_features, enc.dim // 32
    c = enc.centred(x[None])[0]
    q = [(min(max(int(v), enc.lo), enc.hi) - enc.lo) * enc.n_levels // (enc.hi - enc.lo + 1) for v in c]
    out = [0] * words
    for j in range(enc.dim):
        count = sum((int(enc.items[i, j // 32] ^ enc.levels[q[i], j // 32]) >> (j % 32)) & 1 for i in range(f))
        bit = 2 * count > f or (2 * count == f and (int(enc.items[f, j // 32]) >> (j % 32)) & 1)
        out[j // 32] |= int(bit) << (j % 32)
    return np.array(out, np.uint32)


@pytest.mark.parametrize("n_features,n_levels", [(7, 4), (8, 16), (33, 3)])
def test_id_level_matches_reference(n_features, n_levels):
    rng = np.random.default_rng(n_features)
    enc = IdLevel(n_features, dim=64, n_levels=n_levels, seed=5, zero_point=2)
    x = rng.integers(-128, 128, (5, n_features)).astype(np.int8)
    for row, h in zip(x, enc.encode(x)):
        np.testing.assert_array_equal(h, ref_id_level(row, enc))
    enc.calibrate(x[:4] // 2)
    assert enc.lo < enc.hi
    for row, h in zip(x, enc.encode(x)):
        np.testing.assert_array_equal(h, ref_id_level(row, enc))


def test_level_hypervectors_spread():
    levels = level_hypervectors(2048, 9, seed=3)
    assert levels.shape == (9, 64)
    d = hamming_distances(levels, levels)
    assert np.all(np.diff(d[0]) >= 0)  # thermometer-like: further levels are further away
    assert 900 < d[0, -1] < 1150  # the extremes differ in about half the bits
    np.testing.assert_array_equal(levels[0], xorshift32(3, 64))
    with pytest.raises(ValueError, match="n_levels"):
        level_hypervectors(64, 1, 3)


def test_hamming_topk_order_and_ties():
    rng = np.random.default_rng(8)
    db = rng.integers(0, 2**32, (50, 6), dtype=np.uint32)
    db[7] = db[3]  # equal distances: the lower index comes first
    q = rng.integers(0, 2**32, (9, 6), dtype=np.uint32)
    q[0] = db[3]
    idx, dist = hamming_topk(q, db, 5)
    d = hamming_distances(q, db)
    order = np.lexsort((np.broadcast_to(np.arange(50), d.shape), d), axis=1)[:, :5]
    np.testing.assert_array_equal(idx, order)
    np.testing.assert_array_equal(dist, np.take_along_axis(d, order, 1))
    assert idx[0, :2].tolist() == [3, 7] and dist[0, :2].tolist() == [0, 0]
    np.testing.assert_array_equal(hamming_topk(q.view(np.uint64), db.view(np.uint64), 5)[0], idx)
    with pytest.raises(ValueError, match="k must be"):
        hamming_topk(q, db, 51)


def test_online_updates_follow_the_margin_rule():
    # Two classes; the sample is nearer class 1 than its own class 0: one perceptron update.
    model = Centroid(2, 32)
    model.accumulators[0, :] = -1
    model.accumulators[1, :4] = 1  # prototype 1 = 0b1111, prototype 0 = 0
    model.accumulators[1, 4:] = -1
    model.prototypes = np.array([[0], [0b1111]], np.uint32)
    hv = np.array([[0b111]], np.uint32)
    assert model.add_online(hv, np.array([0])) == 1
    bip = np.where(unpack_bits(hv)[0] > 0, 1, -1)
    np.testing.assert_array_equal(model.accumulators[0], -1 + bip)
    np.testing.assert_array_equal(model.accumulators[1][:8], [0, 0, 0, 2, 0, 0, 0, 0])
    assert model.prototypes.tolist() == [[0], [0b1000]]
    # Now distances are 3 (class 0) and 4 (class 1): correct; a margin of 1 ties (class 0 wins), 2 updates.
    assert model.add_online(hv, np.array([0])) == 0
    assert model.add_online(hv, np.array([0]), margin=1) == 0
    assert model.add_online(hv, np.array([0]), margin=2) == 1


def test_accumulators_saturate():
    model = Centroid(1, 32)
    hv = np.full((ACC_MAX + 5, 1), 0xFFFFFFFF, np.uint32)
    model.add(hv, np.zeros(len(hv), np.int64))
    assert (model.accumulators == ACC_MAX).all()
    model.add(hv[:1] * 0, np.zeros(1, np.int64))
    assert (model.accumulators == ACC_MAX - 1).all()


def test_retraining_improves_training_fit():
    from sklearn.datasets import load_digits

    pixels, y = load_digits(return_X_y=True)
    x = (pixels * 8 - 64).astype(np.int8)
    enc = SignProjection(64, dim=1024).calibrate(x[:1000])
    hv = enc.encode(x)
    once = Centroid(10, 1024).fit(hv[:1000], y[:1000])
    retrained = Centroid(10, 1024).fit(hv[:1000], y[:1000], epochs=5, margin=32)
    fit_once = (once.predict(hv[:1000]) == y[:1000]).mean()
    assert (retrained.predict(hv[:1000]) == y[:1000]).mean() > fit_once + 0.02
    assert (retrained.predict(hv[1000:]) == y[1000:]).mean() > 0.9
    grown = Centroid(10, 1024).fit(hv[:1000], y[:1000])
    assert grown.add_class() == 10 and grown.prototypes.shape == (11, 32)
    assert not grown.prototypes[10].any()
