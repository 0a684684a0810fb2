"""Host HDC kernels: Hamming search and batch encoding, Numba vs NumPy vs TorchHD on the same data.

Search: Q query hypervectors against a memory of M rows, D = 2048 bits
(random bits, seeded). Every implementation gets the same packed words (or
TorchHD's bool tensors of the same bits) and is credited Q x M x D compared
bits per call. `popcount_limit` is the plain Numba XOR + popcount loop over
uint64 words, the CPU's ceiling for this data (its compiled loop must hold a
hardware popcount instruction: `popcount_asm` records which). TorchHD and
NumPy get a slice of the queries (they are orders of magnitude slower); the
rate, not the time, is compared.

Encode: the demo's shape (F = 32 int8 features, D = 2048), a batch of 1000.

Run with `python benchmarks/hdc_search.py` (writes benchmarks/results/), or
`pytest benchmarks/test_bench_hdc.py --benchmark-only`.
"""

from __future__ import annotations

import re

import numba
import numpy as np
import pytest

from edgehdc.hdc import SignProjection
from edgehdc.kernels.hdc import hamming_distances, hamming_topk, popcount64, unpack_bits

DIM, QUERIES, MEMORY = 2048, 1000, 1000
SLOW_QUERIES = 20  # TorchHD and NumPy
_rng = np.random.default_rng(0)
Q64 = _rng.integers(0, 2**64, (QUERIES, DIM // 64), dtype=np.uint64)
M64 = _rng.integers(0, 2**64, (MEMORY, DIM // 64), dtype=np.uint64)


@numba.njit  # not cached: inspect_asm needs the compiled code
def popcount_loop(a, b):
    """sum over (i, j) of popcount(a[i] XOR b[j]): nothing but the XOR, the popcount and the sum."""
    total = np.uint64(0)
    for i in range(a.shape[0]):
        for j in range(b.shape[0]):
            for w in range(a.shape[1]):
                total += popcount64(a[i, w] ^ b[j, w])
    return total


def popcount_asm() -> list[str]:
    """The popcount instructions in popcount_loop's compiled code (e.g. popcntq, vpopcntq)."""
    popcount_loop(Q64[:1], M64[:1])
    asm = "\n".join(popcount_loop.inspect_asm().values())
    return sorted(set(re.findall(r"\b(v?popcnt\w*)", asm)))


def _numpy_distances(q, m):
    return np.bitwise_count(q[:, None, :] ^ m[None, :, :]).sum(axis=2, dtype=np.int32)


def _bits_info(benchmark, impl, queries):
    benchmark.group = "search"
    benchmark.extra_info.update(impl=impl, bits=int(queries) * MEMORY * DIM)


def test_popcount_limit(benchmark):
    assert popcount_loop(Q64[:3], M64[:4]) == hamming_distances(Q64[:3], M64[:4]).sum()
    found = popcount_asm()
    assert found, "no hardware popcount in the compiled loop"
    _bits_info(benchmark, "popcount_limit", QUERIES)
    benchmark.extra_info["asm"] = found
    benchmark(popcount_loop, Q64, M64)


@pytest.mark.parametrize("k", [1, 10])
def test_edgehdc_topk(benchmark, k):
    idx, dist = hamming_topk(Q64[:5], M64, k)
    d = hamming_distances(Q64[:5], M64)
    np.testing.assert_array_equal(dist, np.sort(d, axis=1)[:, :k])
    _bits_info(benchmark, f"edgehdc hamming_topk k={k}", QUERIES)
    benchmark(hamming_topk, Q64, M64, k)


def test_edgehdc_distances(benchmark):
    _bits_info(benchmark, "edgehdc hamming_distances", QUERIES)
    benchmark(hamming_distances, Q64, M64)


def test_numpy_bitwise_count(benchmark):
    q = Q64[:SLOW_QUERIES]
    np.testing.assert_array_equal(_numpy_distances(q, M64), hamming_distances(q, M64))
    _bits_info(benchmark, "numpy bitwise_count", SLOW_QUERIES)
    benchmark(_numpy_distances, q, M64)


def test_torchhd_hamming_similarity(benchmark):
    import torch
    import torchhd

    q = torchhd.BSCTensor(torch.from_numpy(unpack_bits(Q64[:SLOW_QUERIES]).astype(bool)))
    m = torchhd.BSCTensor(torch.from_numpy(unpack_bits(M64).astype(bool)))
    similarity = torchhd.hamming_similarity(q, m).numpy()  # matching bits = D - distance
    np.testing.assert_array_equal(DIM - similarity, hamming_distances(Q64[:SLOW_QUERIES], M64))
    _bits_info(benchmark, "torchhd hamming_similarity", SLOW_QUERIES)
    benchmark(torchhd.hamming_similarity, q, m)


# --- batch encoding --------------------------------------------------------------------------

ENCODE_BATCH, FEATURES = 1000, 32
X = _rng.integers(-128, 128, (ENCODE_BATCH, FEATURES)).astype(np.int8)
ENCODER = SignProjection(FEATURES, DIM, zero_point=-8)


def _numpy_encode(x, signs):
    """The same bits in NumPy: int32 matrix product with the +-1 projection."""
    acc = (x.astype(np.int32) + 8) @ signs.T
    return np.packbits(acc > 0, axis=1, bitorder="little").view("<u4")


def _encode_info(benchmark, impl):
    benchmark.group = "encode"
    benchmark.extra_info.update(impl=impl, samples=ENCODE_BATCH)


def test_edgehdc_encode(benchmark):
    _encode_info(benchmark, "edgehdc SignProjection")
    benchmark(ENCODER.encode, X)


def test_numpy_encode(benchmark):
    signs = unpack_bits(ENCODER.projection)[:, :FEATURES].astype(np.int32) * 2 - 1
    np.testing.assert_array_equal(_numpy_encode(X, signs), ENCODER.encode(X))
    _encode_info(benchmark, "numpy int32 matmul")
    benchmark(_numpy_encode, X, signs)


def test_torchhd_projection_encode(benchmark):
    import torch
    import torchhd
    from torchhd import embeddings

    torch.manual_seed(0)
    embed = embeddings.Projection(FEATURES, DIM)
    x = torch.from_numpy(X.astype(np.float32) + 8)

    def encode():
        with torch.no_grad():
            return torchhd.normalize(embed(x))

    _encode_info(benchmark, "torchhd Projection (MAP, float)")
    benchmark(encode)
