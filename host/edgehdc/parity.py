"""Exact comparison bookkeeping for the parity ladder.

Every comparison is element by element with no tolerance; the first
mismatch of each rung is kept so a report can name where it diverged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Rung:
    compared: int = 0
    mismatches: int = 0
    first_mismatch: str | None = None


@dataclass
class Parity:
    rungs: dict[str, Rung] = field(default_factory=dict)

    def compare(self, rung: str, what: str, sample: int, got, want) -> int:
        got, want = np.asarray(got).reshape(-1), np.asarray(want).reshape(-1)
        r = self.rungs.setdefault(rung, Rung())
        if got.shape != want.shape:
            bad = max(got.size, want.size)
            detail = f"{what} of sample {sample}: shape {got.shape} != {want.shape}"
        else:
            diff = np.flatnonzero(got.astype(np.int64) != want.astype(np.int64))
            bad = int(diff.size)
            detail = f"{what}[{diff[0]}] of sample {sample}: {got[diff[0]]} != {want[diff[0]]}" if bad else None
        r.compared += max(got.size, want.size)
        r.mismatches += bad
        if bad and r.first_mismatch is None:
            r.first_mismatch = detail
        return bad

    @property
    def compared(self) -> int:
        return sum(r.compared for r in self.rungs.values())

    @property
    def mismatches(self) -> int:
        return sum(r.mismatches for r in self.rungs.values())

    def as_dict(self) -> dict:
        return {
            "compared": self.compared,
            "mismatches": self.mismatches,
            "rungs": {name: vars(r) for name, r in self.rungs.items()},
        }
