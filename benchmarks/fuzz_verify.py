"""Fuzz `edgehdc verify` with field-level mutants of the four MLPerf Tiny models.

    nice -n 10 .venv/bin/python benchmarks/fuzz_verify.py [--mutants 2000] [--oracle tflm] [--seed 0]
    make fuzz   # the same, niced

Every mutant (`edgehdc.quant.mutate`, one field changed) goes through
`edgehdc verify <oracle>` with 2 random inputs and one oracle process reused
across mutants (`edgehdc.fuzz`). Acceptance: 0 crashes, 0 hangs, 0
tracebacks; every mutant ends as match, mismatch or a clear refusal. Writes
benchmarks/results/fuzz_verify_<oracle>.{md,json}: counts per model and
outcome, the slowest mutants, and every outcome other than match or refused
with the mutation that caused it (mutant k of a model is reproducible from
the seed: `edgehdc.fuzz.mutant`).
"""

from __future__ import annotations

import argparse
import collections
import platform
import re
import sys
import time
from pathlib import Path

from rich.progress import track

from edgehdc import fuzz
from edgehdc.fileio import atomic_write_json, atomic_write_text

RESULTS = Path(__file__).resolve().parent / "results"
MLPERF = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf_tiny"
MODELS = ("pretrainedResnet_quant", "kws_ref_model", "vww_96_int8", "ad01_int8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=2000, help="mutants per model (default 2000)")
    parser.add_argument("--oracle", choices=("tflm", "tflite"), default="tflm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", type=int, default=2, help="random inputs per mutant (default 2)")
    parser.add_argument("--timeout", type=float, default=60.0, help="oracle time limit per step, seconds")
    args = parser.parse_args(argv)
    models = {name: (MLPERF / f"{name}.tflite").read_bytes() for name in MODELS}
    start = time.perf_counter()
    outcomes = fuzz.campaign(models, args.mutants, seed=args.seed, oracle=args.oracle, samples=args.samples,
                             timeout=args.timeout, progress=lambda jobs: track(jobs, description="mutants"))
    seconds = time.perf_counter() - start
    command = (f"nice -n 10 .venv/bin/python benchmarks/fuzz_verify.py --mutants {args.mutants} "
               f"--oracle {args.oracle} --seed {args.seed} --samples {args.samples} --timeout {args.timeout:g}")
    table = fuzz.counts(outcomes)
    notable = [o for o in outcomes if o.outcome not in ("match", "refused")]
    report = {"command": command, "seconds": round(seconds, 1), "machine": platform.machine(),
              "counts": table, "notable": [vars(o) for o in notable],
              "refusal_kinds": _refusal_kinds(outcomes)}
    name = f"fuzz_verify_{args.oracle}"
    atomic_write_json(RESULTS / f"{name}.json", report)
    atomic_write_text(RESULTS / f"{name}.md", _markdown(report, outcomes))
    print(_markdown(report, outcomes))
    bad = sum(table[m][k] for m in table for k in ("oracle crashed", "oracle hung", "traceback"))
    return 1 if bad else 0


def _refusal_kinds(outcomes) -> dict[str, int]:
    """Refusals grouped by their message with names and numbers blanked."""
    kinds = collections.Counter()
    for o in outcomes:
        if o.outcome in ("refused", "oracle refused"):
            message = re.sub(r"'[^']*'", "'…'", o.detail.removeprefix("error: "))
            kinds[re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "N", message)[:110]] += 1
    return dict(kinds.most_common(25))


def _markdown(report: dict, outcomes) -> str:
    table = report["counts"]
    lines = [f"# `verify` fuzzing: field-level mutants of the MLPerf Tiny models", "",
             f"Command: `{report['command']}` ({report['seconds']} s on a loaded 2-core machine).", "",
             "| model | " + " | ".join(fuzz.OUTCOMES) + " | total |",
             "|---|" + "---:|" * (len(fuzz.OUTCOMES) + 1)]
    for model, row in table.items():
        lines.append(f"| {model} | " + " | ".join(str(row[k]) for k in fuzz.OUTCOMES) + f" | {sum(row.values())} |")
    totals = {k: sum(row[k] for row in table.values()) for k in fuzz.OUTCOMES}
    lines.append("| **all** | " + " | ".join(f"**{totals[k]}**" for k in fuzz.OUTCOMES)
                 + f" | **{sum(totals.values())}** |")
    lines += ["", "## Most common refusals", ""]
    lines += [f"- {n} x `{kind}`" for kind, n in report["refusal_kinds"].items()]
    lines += ["", "## Slowest mutants", ""]
    for o in sorted(outcomes, key=lambda o: -o.seconds)[:5]:
        lines.append(f"- {o.seconds:.1f} s: {o.model} mutant {o.index} ({o.mutation}): {o.outcome}")
    lines += ["", "## Every outcome other than match or refused", ""]
    lines += [f"- {o['model']} mutant {o['index']} ({o['mutation']}): **{o['outcome']}**: {o['detail'][-200:]}"
              for o in report["notable"]] or ["- none"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
