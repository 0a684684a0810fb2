"""Run the kernel benchmark suite and write benchmarks/results/kernels.{json,md}.

    .venv/bin/python benchmarks/run.py            # the whole suite (about 2 minutes)
    .venv/bin/python benchmarks/run.py -k model   # extra arguments go to pytest

kernels.json is pytest-benchmark's own record (statistics per benchmark, the
raw per-round times dropped); kernels.md is the summary for
people: the command, the machine, and per group the Numba and NumPy medians
with the speedup (NumPy median / Numba median).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path("benchmarks/results")
SUITE = "benchmarks/test_bench_kernels.py"
TARGET = ("model:resnet8", 20.0)  # acceptance: whole-model speedup on ResNet-8


def pytest_command(extra: list[str]) -> list[str]:
    # --benchmark-only overrides the --benchmark-skip in the project's addopts.
    return [sys.executable, "-m", "pytest", SUITE, "-q", "-rs", "--benchmark-only",
            f"--benchmark-json={RESULTS / 'kernels.json'}", *extra]


def main(argv: list[str]) -> int:
    cmd = pytest_command(argv)
    load = os.getloadavg()[0]  # a loaded (shared) machine makes every median noisier
    (ROOT / RESULTS).mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(cmd, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    print(proc.stdout, end="")
    if proc.returncode != 0:
        print(f"benchmarks failed (exit {proc.returncode}); {RESULTS / 'kernels.md'} not written", file=sys.stderr)
        return proc.returncode
    report = _without_raw_rounds(ROOT / RESULTS / "kernels.json")
    skipped = [line for line in proc.stdout.splitlines() if line.startswith("SKIPPED")]
    shown = ["python", "benchmarks/run.py", *argv]
    (ROOT / RESULTS / "kernels.md").write_text(markdown(report, shown, cmd, skipped, load))
    print(f"wrote {RESULTS / 'kernels.json'} and {RESULTS / 'kernels.md'}")
    return 0


def _without_raw_rounds(path: Path) -> dict:
    """Rewrite pytest-benchmark's JSON without every round's time (megabytes); statistics stay."""
    report = json.loads(path.read_text())
    for b in report["benchmarks"]:
        b["stats"].pop("data", None)
    path.write_text(json.dumps(report, indent=1) + "\n")
    return report


def markdown(report: dict, shown: list[str], cmd: list[str], skipped: list[str], load: float) -> str:
    """The summary: command, machine, one table per section with a row per benchmark group."""
    m, cpu = report["machine_info"], report["machine_info"].get("cpu", {})
    lines = [
        "# Host int8 kernels: Numba mirror vs NumPy reference",
        "",
        f"Command: `{' '.join(shown)}`  ",
        f"(runs `pytest {' '.join(cmd[3:])}`)",
        "",
        f"- Machine: {cpu.get('brand_raw', m.get('processor', '?'))}, {cpu.get('count', '?')} logical cores, "
        f"{m.get('system', '')} {m.get('release', '')}; load average {load:.1f} at the start",
        f"- Python {m.get('python_version', '?')}, NumPy {version('numpy')}, Numba {version('numba')}; "
        f"run {report.get('datetime', '?')}",
        "- One sample per call (batch 1); median over the rounds; speedup = NumPy median / Numba median.",
        "- min speedup = NumPy fastest round / Numba fastest round: what the code can do when nothing",
        "  else runs on the (shared) machine; the median is the verdict.",
        "",
    ]
    groups = _groups(report["benchmarks"])
    for prefix, title in (("op:", "Kernels"), ("model:", "Whole models (interpreter, every op)")):
        rows = {g: v for g, v in groups.items() if g.startswith(prefix)}
        if not rows:
            continue
        lines += [f"## {title}", "", "| case | what | Numba | NumPy | speedup | min speedup |",
                  "|---|---|---:|---:|---:|---:|"]
        for group, impls in rows.items():
            numba, numpy = impls.get("numba"), impls.get("numpy")
            speedup, fastest = (f"{numpy[k] / numba[k]:.1f}x" if numba and numpy else "-" for k in ("median", "min"))
            what = (numba or numpy)["extra_info"].get("what", "")
            lines.append(f"| {group[len(prefix):]} | {what} | {_time(numba)} | {_time(numpy)} | {speedup} | {fastest} |")
        lines.append("")
    lines += _acceptance(groups)
    if skipped:
        lines += ["## Skipped", ""] + [f"- {s}" for s in skipped] + [""]
    return "\n".join(lines)


def _groups(benchmarks: list[dict]) -> dict[str, dict[str, dict]]:
    """{group: {impl: {"median": seconds, "min": seconds, "extra_info": ...}}} in run order."""
    groups: dict[str, dict[str, dict]] = {}
    for b in benchmarks:
        groups.setdefault(b["group"], {})[b["extra_info"]["impl"]] = {
            "median": b["stats"]["median"], "min": b["stats"]["min"], "extra_info": b["extra_info"]}
    return groups


def _time(entry: dict | None) -> str:
    if entry is None:
        return "-"
    s = entry["median"]
    return f"{s * 1e3:.2f} ms" if s >= 1e-3 else f"{s * 1e6:.1f} us"


def _acceptance(groups: dict) -> list[str]:
    group, target = TARGET
    impls = groups.get(group, {})
    if "numba" not in impls or "numpy" not in impls:
        return [f"Acceptance ({group} >= {target:.0f}x): not measured in this run.", ""]
    speedup, fastest = (impls["numpy"][k] / impls["numba"][k] for k in ("median", "min"))
    verdict = "met" if speedup >= target else "NOT met"
    return [f"Acceptance ({group}, Numba >= {target:.0f}x faster than NumPy, medians): {speedup:.1f}x, "
            f"{verdict} (minima: {fastest:.1f}x).", ""]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
