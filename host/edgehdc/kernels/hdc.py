"""Numba mirror of the firmware's HDC (firmware/src/hdc), bit for bit.

Hypervectors are uint32 words: bit i lives in word i >> 5, bit i & 31
(docs/hdc.md). Each function's docstring gives its plain-Python contract.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _encode(features, zero_point, projection, out):
    n, f = features.shape
    d = projection.shape[0]
    for s in range(n):
        c = np.empty(f, np.int32)
        total = np.int32(0)
        for i in range(f):
            c[i] = np.int32(features[s, i]) - zero_point
            total += c[i]
        for j in range(d):
            plus = np.int32(0)
            for i in range(f):
                if (projection[j, i >> 5] >> np.uint32(i & 31)) & np.uint32(1):
                    plus += c[i]
            if 2 * plus - total > 0:
                out[s, j >> 5] |= np.uint32(1) << np.uint32(j & 31)


def hdc_encode(features: np.ndarray, zero_point: int, projection: np.ndarray) -> np.ndarray:
    """Sign random projection of int8 features [N, F] into hypervectors uint32 [N, D/32].

    Contract (int32 arithmetic), with P[j, i] = bit i of projection row j:
        c_i = x_i - zero_point;  acc_j = sum_i (+c_i if P[j, i] else -c_i)
        bit j of the result = acc_j > 0
    `projection` is uint32 [D, ceil(F/32)] with D a multiple of 32.
    """
    features = np.asarray(features)
    projection = np.asarray(projection)
    if features.dtype != np.int8 or features.ndim != 2:
        raise ValueError(f"features must be int8 [N, F], got {features.dtype} {features.shape}")
    if projection.dtype != np.uint32 or projection.ndim != 2:
        raise ValueError(f"projection must be uint32 [D, W], got {projection.dtype} {projection.shape}")
    d, w = projection.shape
    f = features.shape[1]
    if d == 0 or d % 32:
        raise ValueError(f"hypervector dimension must be a positive multiple of 32, got {d}")
    if f == 0 or w != (f + 31) // 32:
        raise ValueError(f"projection has {w} words per row, {f} features need {(f + 31) // 32}")
    if not -128 <= int(zero_point) <= 127:
        raise ValueError(f"zero point must be an int8 value, got {zero_point}")
    out = np.zeros((features.shape[0], d // 32), np.uint32)
    _encode(np.ascontiguousarray(features), np.int32(zero_point), np.ascontiguousarray(projection), out)
    return out


@numba.njit(cache=True)
def _popcount32(x):
    x = x - ((x >> np.uint32(1)) & np.uint32(0x55555555))
    x = (x & np.uint32(0x33333333)) + ((x >> np.uint32(2)) & np.uint32(0x33333333))
    x = (x + (x >> np.uint32(4))) & np.uint32(0x0F0F0F0F)
    return np.int32(((x * np.uint32(0x01010101)) & np.uint32(0xFFFFFFFF)) >> np.uint32(24))


@numba.njit(cache=True)
def _hamming(hv, prototypes, out):
    for s in range(hv.shape[0]):
        for k in range(prototypes.shape[0]):
            d = np.int32(0)
            for w in range(hv.shape[1]):
                d += _popcount32(hv[s, w] ^ prototypes[k, w])
            out[s, k] = d


def hamming_distances(hv: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """Hamming distances int32 [N, K] between hypervectors [N, W] and prototypes [K, W].

    Contract: out[n, k] = popcount(hv[n] XOR prototypes[k]) over all words.
    """
    hv, prototypes = _words(hv, "hv"), _words(prototypes, "prototypes")
    if hv.shape[1] != prototypes.shape[1]:
        raise ValueError(f"hv has {hv.shape[1]} words, prototypes have {prototypes.shape[1]}")
    out = np.empty((hv.shape[0], prototypes.shape[0]), np.int32)
    _hamming(hv, prototypes, out)
    return out


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
