"""The seeded generator every HDC random vector comes from (docs/hdc.md).

xorshift32 is a few integer operations, so the firmware can regenerate the
same words instead of storing them.
"""

from __future__ import annotations

import numpy as np

DEFAULT_SEED = 0x5EED1234
_MASK = 0xFFFFFFFF


def xorshift32(seed: int, n: int) -> np.ndarray:
    """The first `n` outputs of xorshift32 started from `seed`, as uint32.

    Contract, in plain integer arithmetic (mod 2**32):
        state = seed
        repeat n times: state ^= state << 13; state ^= state >> 17;
                        state ^= state << 5; emit state
    """
    seed = int(seed)
    if not 0 < seed <= _MASK:
        raise ValueError(f"xorshift32 seed must be a nonzero 32-bit value, got {seed:#x}")
    if n < 0:
        raise ValueError(f"number of outputs must be >= 0, got {n}")
    out = np.empty(n, np.uint32)
    state = seed
    for k in range(n):
        state ^= (state << 13) & _MASK
        state ^= state >> 17
        state ^= (state << 5) & _MASK
        out[k] = state
    return out
