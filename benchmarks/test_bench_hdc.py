"""Host HDC kernels: Hamming search and batch encoding, Numba vs NumPy vs TorchHD on the same data.

Search: Q query hypervectors against a memory of M rows, D = 2048 bits
(random bits, seeded; 2 x 256 KB of words, inside the L2 cache). Every
implementation gets the same packed words (or TorchHD's bool tensors of the
same bits) and is credited Q x M x D compared bits per call. The ceiling,
`popcount_loop`, is the tightest loop that still computes every pair's
distance: XOR, hardware popcount and a per-pair sum, pairs added up, nothing
stored or selected (its compiled loop must hold a popcount instruction:
`popcount_asm` records which). TorchHD and NumPy get a slice of the queries
(they are orders of magnitude slower); the rate, not the time, is compared.
Everything runs on one thread (Numba without `parallel`, torch limited to 1).

Encode: the demo's shape (F = 32 int8 features, D = 2048), a batch of 1000.

`search_cases()` / `encode_cases()` are the measured calls; the pytest-benchmark
tests below time each alone (`pytest benchmarks/test_bench_hdc.py
--benchmark-only`), and `benchmarks/hdc_search.py` times them round-robin in
one run so that every implementation sees the same machine load.
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
    """sum over (i, j) of popcount(a[i] XOR b[j]): the XOR, the popcount and the sums, nothing else.

    Each pair's sum starts at zero, as a distance does: carrying one running
    total through the vectorised word loop chains every pair's horizontal
    reduction onto the previous one (measured 4-5x slower, a latency limit
    rather than the CPU's popcount throughput).
    """
    total = np.uint64(0)
    for i in range(a.shape[0]):
        for j in range(b.shape[0]):
            d = np.uint64(0)
            for w in range(a.shape[1]):
                d += popcount64(a[i, w] ^ b[j, w])
            total += d
    return total


def popcount_asm() -> list[str]:
    """The popcount instructions in popcount_loop's compiled code (e.g. popcntq, vpopcntq)."""
    popcount_loop(Q64[:1], M64[:1])
    asm = "\n".join(popcount_loop.inspect_asm().values())
    return sorted(set(re.findall(r"\b(v?popcnt\w*)", asm)))


def _numpy_distances(q, m):
    return np.bitwise_count(q[:, None, :] ^ m[None, :, :]).sum(axis=2, dtype=np.int32)


def _torchhd_inputs():
    import torch
    import torchhd

    torch.set_num_threads(1)
    q = torchhd.BSCTensor(torch.from_numpy(unpack_bits(Q64[:SLOW_QUERIES]).astype(bool)))
    m = torchhd.BSCTensor(torch.from_numpy(unpack_bits(M64).astype(bool)))
    return torchhd.hamming_similarity, q, m


def search_cases() -> dict[str, tuple]:
    """impl -> (callable, args, compared bits per call); each checked against hamming_distances once."""
    hamming, q_t, m_t = _torchhd_inputs()
    slow = Q64[:SLOW_QUERIES]
    reference = hamming_distances(slow, M64)
    assert popcount_loop(slow, M64) == reference.sum()
    np.testing.assert_array_equal(_numpy_distances(slow, M64), reference)
    np.testing.assert_array_equal(DIM - hamming(q_t, m_t).numpy(), reference)  # similarity = matching bits
    for k in (1, 10):
        np.testing.assert_array_equal(hamming_topk(slow, M64, k)[1], np.sort(reference, axis=1)[:, :k])
    full, part = QUERIES * MEMORY * DIM, SLOW_QUERIES * MEMORY * DIM
    return {"popcount_limit": (popcount_loop, (Q64, M64), full),
            "edgehdc hamming_topk k=1": (hamming_topk, (Q64, M64, 1), full),
            "edgehdc hamming_topk k=10": (hamming_topk, (Q64, M64, 10), full),
            "edgehdc hamming_distances": (hamming_distances, (Q64, M64), full),
            "numpy bitwise_count": (_numpy_distances, (slow, M64), part),
            "torchhd hamming_similarity": (hamming, (q_t, m_t), part)}


# --- batch encoding --------------------------------------------------------------------------

ENCODE_BATCH, FEATURES = 1000, 32
X = _rng.integers(-128, 128, (ENCODE_BATCH, FEATURES)).astype(np.int8)
ENCODER = SignProjection(FEATURES, DIM, zero_point=-8)


def _numpy_encode(x, signs):
    """The same bits in NumPy: int32 matrix product with the +-1 projection."""
    acc = (x.astype(np.int32) + 8) @ signs.T
    return np.packbits(acc > 0, axis=1, bitorder="little").view("<u4")


def encode_cases() -> dict[str, tuple]:
    """impl -> (callable, args, samples per call)."""
    import torch
    import torchhd
    from torchhd import embeddings

    torch.set_num_threads(1)
    signs = unpack_bits(ENCODER.projection)[:, :FEATURES].astype(np.int32) * 2 - 1
    np.testing.assert_array_equal(_numpy_encode(X, signs), ENCODER.encode(X))
    torch.manual_seed(0)
    embed = embeddings.Projection(FEATURES, DIM)
    x = torch.from_numpy(X.astype(np.float32) + 8)

    def torchhd_encode():
        with torch.no_grad():
            return torchhd.normalize(embed(x))

    return {"edgehdc SignProjection": (ENCODER.encode, (X,), ENCODE_BATCH),
            "numpy int32 matmul": (_numpy_encode, (X, signs), ENCODE_BATCH),
            "torchhd Projection (MAP, float)": (torchhd_encode, (), ENCODE_BATCH)}


# --- pytest-benchmark ------------------------------------------------------------------------

_SEARCH = ["popcount_limit", "edgehdc hamming_topk k=1", "edgehdc hamming_topk k=10",
           "edgehdc hamming_distances", "numpy bitwise_count", "torchhd hamming_similarity"]
_ENCODE = ["edgehdc SignProjection", "numpy int32 matmul", "torchhd Projection (MAP, float)"]


def test_popcount_limit_uses_popcount_instruction():
    assert popcount_asm(), "no hardware popcount in the compiled loop"


@pytest.mark.parametrize("impl", _SEARCH)
def test_search(benchmark, impl):
    fn, args, bits = search_cases()[impl]
    benchmark.group = "search"
    benchmark.extra_info.update(impl=impl, bits=bits)
    benchmark(fn, *args)


@pytest.mark.parametrize("impl", _ENCODE)
def test_encode(benchmark, impl):
    fn, args, samples = encode_cases()[impl]
    benchmark.group = "encode"
    benchmark.extra_info.update(impl=impl, samples=samples)
    benchmark(fn, *args)
