"""Run the HDC host benchmark (benchmarks/test_bench_hdc.py) and write benchmarks/results/hdc_search.{json,md}.

    .venv/bin/python benchmarks/hdc_search.py

The summary gives, per implementation, compared bits per second (search) or
encoded samples per second (encode) from the minimum and the median round,
next to the popcount-loop ceiling measured in the same run, and the two
acceptance ratios of issue 16: edgehdc's search >= 50% of the popcount loop
and >= 100x TorchHD's `hamming_similarity`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SUITE = "benchmarks/test_bench_hdc.py"
COMMAND = ".venv/bin/python benchmarks/hdc_search.py"


def main() -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    raw = RESULTS / "hdc_search.json"
    load = os.getloadavg()[0]
    cmd = [sys.executable, "-m", "pytest", SUITE, "-q", "--benchmark-only", f"--benchmark-json={raw}",
           "--benchmark-min-rounds=10"]
    proc = subprocess.run(cmd, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    print(proc.stdout[-3000:], end="")
    if proc.returncode != 0:
        return proc.returncode
    report = json.loads(raw.read_text())
    for b in report["benchmarks"]:
        b["stats"].pop("data", None)
    raw.write_text(json.dumps(report, indent=1) + "\n")
    (RESULTS / "hdc_search.md").write_text(markdown(report, load))
    print(markdown(report, load))
    return 0


def _rates(b: dict, per: str) -> tuple[float, float]:
    work = b["extra_info"][per]
    return work / b["stats"]["min"], work / b["stats"]["median"]


def markdown(report: dict, load: float) -> str:
    m = report["machine_info"]
    cpu = m.get("cpu", {}).get("brand_raw", m.get("processor", "?"))
    lines = ["# HDC on the host: Hamming search and batch encoding", "",
             f"`{COMMAND}` ({report['datetime'][:10]}, commit {report['commit_info'].get('id', '?')[:7]}, "
             f"{cpu}, one core, load average {load:.1f} at the start: the machine is shared, so medians are "
             "noisy and the minimum round is the better estimate of what the CPU does).", ""]
    search = {b["extra_info"]["impl"]: b for b in report["benchmarks"] if b["group"] == "search"}
    limit = search.pop("popcount_limit")
    lim_min, lim_med = _rates(limit, "bits")
    lines += ["## Search: 1000 queries x 1000 memory rows x 2048 bits",
              f"Popcount ceiling (plain Numba XOR + popcount loop over uint64 words; compiled loop holds "
              f"`{', '.join(limit['extra_info']['asm'])}`): {lim_min / 1e9:.0f} Gbit/s (min round), "
              f"{lim_med / 1e9:.0f} Gbit/s (median).", "",
              "| implementation | Gbit/s (min) | Gbit/s (median) | of the ceiling (min / median) |",
              "|---|---|---|---|"]
    for impl, b in search.items():
        r_min, r_med = _rates(b, "bits")
        lines.append(f"| {impl} | {r_min / 1e9:.3g} | {r_med / 1e9:.3g} | "
                     f"{100 * r_min / lim_min:.0f}% / {100 * r_med / lim_med:.0f}% |")
    ours = _rates(search["edgehdc hamming_topk k=1"], "bits")
    torchhd = _rates(search["torchhd hamming_similarity"], "bits")
    lines += ["", f"Acceptance: edgehdc `hamming_topk` (k=1) reaches {100 * ours[0] / lim_min:.0f}% (min) / "
              f"{100 * ours[1] / lim_med:.0f}% (median) of the popcount ceiling (>= 50% asked) and "
              f"{ours[0] / torchhd[0]:.0f}x / {ours[1] / torchhd[1]:.0f}x TorchHD (>= 100x asked).", ""]
    lines += ["## Encode: 1000 samples, 32 int8 features -> 2048 bits", "",
              "| implementation | samples/s (min) | samples/s (median) |", "|---|---|---|"]
    for b in (b for b in report["benchmarks"] if b["group"] == "encode"):
        r_min, r_med = _rates(b, "samples")
        lines.append(f"| {b['extra_info']['impl']} | {r_min:,.0f} | {r_med:,.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
