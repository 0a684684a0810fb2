"""Numba mirror of the firmware's HDC (firmware/src/hdc), bit for bit, plus batch search kernels.

Hypervectors are uint32 words: bit i lives in word i >> 5, bit i & 31
(docs/hdc.md); the search kernels also take the same bytes as uint64 words.
Each function's docstring gives its plain-Python contract.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.core import types
from numba.extending import intrinsic

ACC_MAX = 32767  # class accumulators saturate at +-ACC_MAX (int16, like the firmware's)
MAX_SCALE = 15  # EHD_HDC_MAX_SCALE


@intrinsic
def popcount64(typingctx, x):
    """The hardware population count (LLVM ctpop: popcnt / vpopcntq on x86-64)."""

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return types.uint64(types.uint64), codegen


# --- centring and scaling -------------------------------------------------------------------


def check_features(features: np.ndarray, n_features: int | None = None) -> np.ndarray:
    """`features` as C-contiguous int8 [N, F]; ValueError naming the problem otherwise."""
    features = np.asarray(features)
    if features.dtype != np.int8 or features.ndim != 2:
        raise ValueError(f"features must be int8 [N, F], got {features.dtype} {features.shape}")
    if n_features is not None and features.shape[1] != n_features:
        raise ValueError(f"features must be [N, {n_features}], got {features.shape}")
    return np.ascontiguousarray(features)


def norm_tables(n_features: int, zero_point: int, centre=None, scale=None) -> tuple[np.ndarray, np.ndarray]:
    """(centre int32 [F], scale int32 [F]) of c_i = (x_i - centre_i) * scale_i, checked.

    Defaults: every feature centred on `zero_point`, scale 1. Centres are int8
    values, scales 0..MAX_SCALE (so eight centred features sum to an int16).
    """
    if not -128 <= int(zero_point) <= 127:
        raise ValueError(f"zero point must be an int8 value, got {zero_point}")
    c = np.full(n_features, int(zero_point), np.int32) if centre is None else np.asarray(centre)
    s = np.ones(n_features, np.int32) if scale is None else np.asarray(scale)
    if c.shape != (n_features,) or c.min() < -128 or c.max() > 127:
        raise ValueError(f"centre must be {n_features} int8 values, got {c.dtype} {c.shape}")
    if s.shape != (n_features,) or s.min() < 0 or s.max() > MAX_SCALE:
        raise ValueError(f"scale must be {n_features} integers in 0..{MAX_SCALE}, got {s.dtype} {s.shape}")
    return c.astype(np.int32), s.astype(np.int32)


# --- sign random projection -----------------------------------------------------------------


@numba.njit(cache=True)
def _byte_tables(c, t):
    """t[g, b] = -sum_{k<8} (bit k of b ? +c[8g+k] : -c[8g+k]), the firmware's fast-path tables."""
    for g in range(t.shape[0]):
        total = np.int32(0)
        for k in range(8):
            total += c[8 * g + k]
        t[g, 0] = total
        for k in range(8):
            half = 1 << k
            step = -2 * c[8 * g + k]
            for b in range(half):
                t[g, half + b] = t[g, b] + step


@numba.njit(cache=True)
def _sign_projection(features, centre, scale, projection, out):
    n, f = features.shape
    d, w = projection.shape
    c = np.zeros(32 * w, np.int32)
    t = np.empty((4 * w, 256), np.int32)
    for s in range(n):
        for i in range(f):
            c[i] = (np.int32(features[s, i]) - centre[i]) * scale[i]
        _byte_tables(c, t)
        for j in range(d):
            neg_acc = np.int32(0)
            for k in range(w):
                r = projection[j, k]
                for g in range(4):
                    neg_acc += t[4 * k + g, (r >> np.uint32(8 * g)) & np.uint32(0xFF)]
            if neg_acc < 0:
                out[s, j >> 5] |= np.uint32(1) << np.uint32(j & 31)


def sign_projection_encode(features, projection, centre, scale) -> np.ndarray:
    """Sign random projection of int8 features [N, F] into hypervectors uint32 [N, D/32].

    Contract (int32), with P[j, i] = bit i of projection row j:
        c_i = (x_i - centre_i) * scale_i;  acc_j = sum_i (+c_i if P[j, i] else -c_i)
        bit j of the result = acc_j > 0
    `projection` is uint32 [D, ceil(F/32)] with D a multiple of 32; `centre`
    and `scale` come from `norm_tables`.
    """
    features = check_features(features)
    projection = np.asarray(projection)
    if projection.dtype != np.uint32 or projection.ndim != 2:
        raise ValueError(f"projection must be uint32 [D, W], got {projection.dtype} {projection.shape}")
    d, w = projection.shape
    f = features.shape[1]
    if d == 0 or d % 32:
        raise ValueError(f"hypervector dimension must be a positive multiple of 32, got {d}")
    if f == 0 or w != (f + 31) // 32:
        raise ValueError(f"projection has {w} words per row, {f} features need {(f + 31) // 32}")
    out = np.zeros((features.shape[0], d // 32), np.uint32)
    _sign_projection(features, centre, scale, np.ascontiguousarray(projection), out)
    return out


def hdc_encode(features: np.ndarray, zero_point: int, projection: np.ndarray, *, centre=None,
               scale=None) -> np.ndarray:
    """`sign_projection_encode` with c_i = (x_i - zero_point) (or the given centre/scale tables)."""
    features = check_features(features)
    centre, scale = norm_tables(features.shape[1], zero_point, centre, scale)
    return sign_projection_encode(features, projection, centre, scale)


# --- ID-level -------------------------------------------------------------------------------


@numba.njit(cache=True)
def _id_level(features, centre, scale, lo, hi, items, levels, out):
    n, f = features.shape
    words = items.shape[1]
    n_levels = levels.shape[0]
    q = np.empty(f, np.int64)
    count = np.empty(32 * words, np.int32)
    for s in range(n):
        for i in range(f):
            c = (np.int32(features[s, i]) - centre[i]) * scale[i]
            c = min(max(c, lo), hi)
            q[i] = ((c - lo) * n_levels) // (hi - lo + 1)
        count[:] = 0
        for i in range(f):
            for w in range(words):
                v = items[i, w] ^ levels[q[i], w]
                for b in range(32):
                    count[32 * w + b] += (v >> np.uint32(b)) & np.uint32(1)
        for j in range(32 * words):
            bit = 2 * count[j] > f
            if 2 * count[j] == f:
                bit = (items[f, j >> 5] >> np.uint32(j & 31)) & np.uint32(1) == 1
            if bit:
                out[s, j >> 5] |= np.uint32(1) << np.uint32(j & 31)


def id_level_encode(features, centre, scale, lo: int, hi: int, items, levels) -> np.ndarray:
    """ID-level encoding of int8 features [N, F] into hypervectors uint32 [N, D/32].

    Contract (int32): c_i = (x_i - centre_i) * scale_i;
        q_i = (clamp(c_i, lo, hi) - lo) * L // (hi - lo + 1)      (L = len(levels))
        count_j = #{i : bit j of items[i] XOR levels[q_i]}
        bit j = 2 count_j > F, or bit j of items[F] when 2 count_j == F
    `items` is uint32 [F + 1, D/32], `levels` uint32 [L, D/32].
    """
    features = check_features(features)
    f = features.shape[1]
    items, levels = np.asarray(items), np.asarray(levels)
    if items.dtype != np.uint32 or items.ndim != 2 or items.shape[0] != f + 1:
        raise ValueError(f"items must be uint32 [{f + 1}, D/32], got {items.dtype} {items.shape}")
    if levels.dtype != np.uint32 or levels.ndim != 2 or levels.shape[1] != items.shape[1] or len(levels) < 2:
        raise ValueError(f"levels must be uint32 [L >= 2, {items.shape[1]}], got {levels.dtype} {levels.shape}")
    if not lo <= hi:
        raise ValueError(f"level range needs lo <= hi, got {lo}, {hi}")
    out = np.zeros((features.shape[0], items.shape[1]), np.uint32)
    _id_level(features, centre, scale, np.int32(lo), np.int32(hi), np.ascontiguousarray(items),
              np.ascontiguousarray(levels), out)
    return out


# --- Hamming search -------------------------------------------------------------------------


@numba.njit(cache=True)
def _hamming(hv, prototypes, out):
    for s in range(hv.shape[0]):
        for k in range(prototypes.shape[0]):
            d = np.uint64(0)
            for w in range(hv.shape[1]):
                d += popcount64(hv[s, w] ^ prototypes[k, w])
            out[s, k] = d


def hamming_distances(hv: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """Hamming distances int32 [N, K] between hypervectors [N, W] and prototypes [K, W].

    Contract: out[n, k] = popcount(hv[n] XOR prototypes[k]) over all words.
    uint32 or uint64 words (the same bytes give the same distances).
    """
    hv, prototypes = as_words64(hv, "hv"), as_words64(prototypes, "prototypes")
    if hv.shape[1] != prototypes.shape[1]:
        raise ValueError(f"hv has {hv.shape[1]} 64-bit words, prototypes have {prototypes.shape[1]}")
    out = np.empty((hv.shape[0], prototypes.shape[0]), np.int32)
    _hamming(hv, prototypes, out)
    return out


@numba.njit(cache=True)
def _topk(queries, database, k, idx, dist):
    n_db, words = database.shape
    for s in range(queries.shape[0]):
        filled = 0
        worst = np.int64(1) << 62  # the k-th distance so far, kept in a register
        for r in range(n_db):
            acc = np.uint64(0)  # a fresh sum per row: the vectorised popcount loop of one row
            for w in range(words):
                acc += popcount64(queries[s, w] ^ database[r, w])
            d = np.int64(acc)
            if d >= worst:
                continue  # strict: an equal distance keeps the lower index already there
            pos = filled if filled < k else k - 1
            while pos > 0 and dist[s, pos - 1] > d:
                dist[s, pos] = dist[s, pos - 1]
                idx[s, pos] = idx[s, pos - 1]
                pos -= 1
            dist[s, pos] = d
            idx[s, pos] = r
            if filled < k:
                filled += 1
            if filled == k:
                worst = np.int64(dist[s, k - 1])


def hamming_topk(queries: np.ndarray, database: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest database rows of each query: (indices int64 [N, k], distances int32 [N, k]).

    Contract: rows sorted by (distance, index) ascending, the first k kept;
    distance = popcount(query XOR row). k <= number of database rows.
    """
    queries, database = as_words64(queries, "queries"), as_words64(database, "database")
    if queries.shape[1] != database.shape[1]:
        raise ValueError(f"queries have {queries.shape[1]} 64-bit words, database rows {database.shape[1]}")
    if not 1 <= k <= database.shape[0]:
        raise ValueError(f"k must be in 1..{database.shape[0]}, got {k}")
    idx = np.empty((queries.shape[0], k), np.int64)
    dist = np.empty((queries.shape[0], k), np.int32)
    _topk(queries, database, k, idx, dist)
    return idx, dist


# --- bit packing ----------------------------------------------------------------------------


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """Pack 0/1 bits [N, D] (D a multiple of 32) into uint32 words [N, D/32].

    Contract: bit i of row n goes to word i >> 5, bit i & 31.
    """
    bits = np.asarray(bits)
    if bits.ndim != 2 or bits.shape[1] % 32:
        raise ValueError(f"bits must be [N, D] with D a multiple of 32, got {bits.shape}")
    as_bytes = np.packbits(bits.astype(bool), axis=1, bitorder="little")
    return np.ascontiguousarray(as_bytes).view("<u4").astype(np.uint32)


def unpack_bits(words: np.ndarray) -> np.ndarray:
    """Unpack words [N, W] (uint32, or uint64 as two uint32) into 0/1 uint8 bits [N, D]; the inverse of pack_bits."""
    words = _words(words, "words")
    as_bytes = words.astype("<u4").view(np.uint8)
    return np.unpackbits(as_bytes, axis=1, bitorder="little")


def _words(a: np.ndarray, name: str) -> np.ndarray:
    """`a` as C-contiguous uint32 words; 64-bit words are viewed as pairs (same bit order)."""
    a = np.asarray(a)
    if a.dtype == np.uint64 and a.ndim == 2:
        a = np.ascontiguousarray(a).astype("<u8").view("<u4").astype(np.uint32)
    if a.dtype != np.uint32 or a.ndim != 2:
        raise ValueError(f"{name} must be uint32 [rows, words], got {a.dtype} {a.shape}")
    return np.ascontiguousarray(a)


def as_words64(a: np.ndarray, name: str) -> np.ndarray:
    """`a` (uint32 or uint64 words [rows, words]) as C-contiguous uint64 words, zero-padded to an even count."""
    a = np.asarray(a)
    if a.dtype == np.uint64 and a.ndim == 2:
        return np.ascontiguousarray(a)
    a = _words(a, name)
    if a.shape[1] % 2:
        a = np.concatenate([a, np.zeros((a.shape[0], 1), np.uint32)], axis=1)
    return a.view("<u8").astype(np.uint64)


# --- class accumulators (training and on-device learning) -----------------------------------


@numba.njit(cache=True)
def _binarize_row(acc, prototypes, k):
    for w in range(prototypes.shape[1]):
        word = np.uint32(0)
        for b in range(32):
            if acc[k, 32 * w + b] > 0:
                word |= np.uint32(1) << np.uint32(b)
        prototypes[k, w] = word


@numba.njit(cache=True)
def _accumulate(acc, k, hv, sign):
    saturated = 0
    for j in range(acc.shape[1]):
        v = acc[k, j] + (sign if (hv[j >> 5] >> np.uint32(j & 31)) & np.uint32(1) else -sign)
        if v > ACC_MAX or v < -ACC_MAX:
            v = ACC_MAX if v > 0 else -ACC_MAX
            saturated += 1
        acc[k, j] = v
    return saturated


@numba.njit(cache=True)
def _bundle(acc, prototypes, hv, labels):
    saturated = 0
    for s in range(hv.shape[0]):
        saturated += _accumulate(acc, labels[s], hv[s], 1)
    for k in range(acc.shape[0]):
        _binarize_row(acc, prototypes, k)
    return saturated


@numba.njit(cache=True)
def _online(acc, prototypes, hv, labels, margin):
    n_classes, words = prototypes.shape
    updates, saturated = 0, 0
    for s in range(hv.shape[0]):
        t = labels[s]
        d_t = 0
        for w in range(words):
            d_t += popcount64(np.uint64(hv[s, w] ^ prototypes[t, w]))
        other, d_o = -1, 0
        for k in range(n_classes):
            if k == t:
                continue
            d = 0
            for w in range(words):
                d += popcount64(np.uint64(hv[s, w] ^ prototypes[k, w]))
            if other < 0 or d < d_o:
                other, d_o = k, d
        if other < 0:
            continue
        if d_t + margin > d_o or (d_t + margin == d_o and other < t):
            saturated += _accumulate(acc, t, hv[s], 1)
            saturated += _accumulate(acc, other, hv[s], -1)
            _binarize_row(acc, prototypes, t)
            _binarize_row(acc, prototypes, other)
            updates += 1
    return updates, saturated


def bundle(acc: np.ndarray, prototypes: np.ndarray, hv: np.ndarray, labels: np.ndarray) -> int:
    """Adds each hypervector to its class accumulator, then re-binarizes every prototype (in place).

    Contract, sample by sample: acc[label, j] = clamp(acc[label, j] + (bit j ? +1 : -1),
    -ACC_MAX, ACC_MAX); afterwards prototype bit j of class k = acc[k, j] > 0.
    Returns how many accumulator entries were held at the bound.
    """
    return int(_bundle(acc, prototypes, hv, labels))


def online_update(acc: np.ndarray, prototypes: np.ndarray, hv: np.ndarray, labels: np.ndarray,
                  margin: int = 0) -> tuple[int, int]:
    """Perceptron updates on mistakes, sample by sample (in place); returns (samples that updated,
    accumulator entries held at the bound).

    Contract: with t the label, o the nearest other class (lowest index on
    ties) and d the Hamming distances to the current prototypes, the sample
    updates when d_t + margin > d_o, or d_t + margin == d_o and o < t (it
    would be misclassified were the true class `margin` bits further away):
    acc[t] += bipolar(hv), acc[o] -= bipolar(hv), both saturating at
    +-ACC_MAX, and prototypes t and o are re-binarized at once.
    """
    updates, saturated = _online(acc, prototypes, hv, labels, np.int64(margin))
    return int(updates), int(saturated)
