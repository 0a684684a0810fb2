"""Fuzzing `edgehdc verify`: seeded field-level mutants of real models, each with a classified outcome.

`campaign(models, mutants)` makes `mutants` mutants of each model
(`edgehdc.quant.mutate`, mutant k of model m drawn from the seed
[seed, m, k], so any one can be made again with `mutant`), runs each through
`edgehdc verify tflm|tflite` (the CLI's own `run_cli`, its output captured)
with one oracle process reused across mutants and restarted after a crash,
and sorts the result into one of `OUTCOMES`:

- match / mismatch: the comparison ran (exit 0 / 1);
- refused: the importer refused the model with a message (exit 2);
- oracle refused: the importer accepted it, the oracle refused it (exit 2);
- oracle crashed / oracle hung: reported as one line (exit 3);
- traceback: anything else escaped: a bug.

The test suite runs a few dozen mutants; `benchmarks/fuzz_verify.py` the large run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from edgehdc import verify
from edgehdc.quant.mutate import mutate
from edgehdc.quant.oracle import ORACLE_NAMES, IsolatedOracle

OUTCOMES = ("match", "mismatch", "refused", "oracle refused", "oracle crashed", "oracle hung", "traceback")
_EXIT_OUTCOMES = {verify.EXIT_MATCH: "match", verify.EXIT_MISMATCH: "mismatch"}


@dataclass(frozen=True)
class Outcome:
    model: str
    index: int  # mutant number k
    mutation: str  # what `mutate` changed
    outcome: str  # one of OUTCOMES
    detail: str  # the CLI's last line (or the traceback)
    seconds: float


def mutant(model_bytes: bytes, seed: int, model_index: int, k: int) -> tuple[bytes, str]:
    """Mutant k of model `model_index` in a campaign with `seed`: the same bytes every time."""
    return mutate(model_bytes, np.random.default_rng([seed, model_index, k]))


def campaign(models: dict[str, bytes], mutants: int, seed: int = 0, oracle: str = "tflm", samples: int = 2,
             timeout: float = 60.0, progress: Callable[[Iterable], Iterable] | None = None) -> list[Outcome]:
    """`mutants` mutants of each model through `verify <oracle>`; one Outcome each, in order."""
    jobs = [(m, name, k) for m, name in enumerate(models) for k in range(mutants)]
    outcomes = []
    with IsolatedOracle(timeout) as process:
        for m, name, k in (progress(jobs) if progress is not None else jobs):
            data, mutation = mutant(models[name], seed, m, k)
            start = time.perf_counter()
            outcome, detail = run_one(data, f"{name} mutant {k}", oracle, samples, seed, process)
            outcomes.append(Outcome(name, k, mutation, outcome, detail, time.perf_counter() - start))
    return outcomes


def run_one(data: bytes, name: str, oracle: str, samples: int, seed: int,
            process: IsolatedOracle) -> tuple[str, str]:
    """(outcome, detail) of one model through `verify <oracle>`, via the CLI's `run_cli`."""
    args = argparse.Namespace(model=_Named(name, data), verify_target=oracle, samples=samples, seed=seed,
                              digits=False, oracle_timeout=process.timeout)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            code = verify.run_cli(args, process)
    except Exception:
        return "traceback", traceback.format_exc()
    lines = out.getvalue().strip().splitlines()
    detail = lines[-1] if lines else ""
    if code in _EXIT_OUTCOMES:
        return _EXIT_OUTCOMES[code], detail
    if code == verify.EXIT_ORACLE_FAILED:
        return ("oracle hung" if " did not finish " in detail else "oracle crashed"), detail
    if code == verify.EXIT_REFUSED:
        by_oracle = detail.startswith(tuple(f"error: {n}" for n in ORACLE_NAMES.values()))
        return ("oracle refused" if by_oracle else "refused"), detail
    return "traceback", f"unexpected exit code {code}: {detail}"


class _Named:
    """A path stand-in for `run_cli`: its name for messages, its bytes from `read_bytes`."""

    def __init__(self, name: str, data: bytes):
        self.name, self._data = name, data

    def read_bytes(self) -> bytes:
        return self._data

    def __str__(self) -> str:
        return self.name


def counts(outcomes: list[Outcome]) -> dict[str, dict[str, int]]:
    """{model: {outcome: count}} over OUTCOMES, every outcome listed."""
    table: dict[str, dict[str, int]] = {}
    for o in outcomes:
        table.setdefault(o.model, dict.fromkeys(OUTCOMES, 0))[o.outcome] += 1
    return table
