"""Record an `edgehdc hdc learn-demo` run -> benchmarks/results/hdc_learn_demo.{json,md}.

    .venv/bin/edgehdc hdc learn-demo                      # writes build/learn/report.json
    .venv/bin/python benchmarks/hdc_learn_demo.py         # records it, with the commit and date
    .venv/bin/python benchmarks/hdc_learn_demo.py --every-digit   # + each digit held out, on the host mirror

The report is copied as it is (plus command, date, commit); the markdown
gives per-class test accuracy before and after each k and the acceptance
figures of issue 16 next to what they ask. `--every-digit` adds the same
recipe with each digit held out in turn (`edgehdc.hdc.learn_demo.host_learning`:
the host mirror, which the device matches bit for bit, without the board).
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def markdown(r: dict) -> str:
    digits = r["class_order"]
    lines = ["# On-device learning: a digit the extractor never saw (`edgehdc hdc learn-demo`)", "",
             f"{r['date']}, commit {r['git_commit']}. Emulated Cortex-M4 (qemu_m4), D = 2048, "
             f"{r['capacity']} class slots ({r['ram_bytes']:,} bytes of RAM). The CNN was trained and calibrated on "
             f"the {r['extractor_classes']} other digits only (float accuracy on them "
             f"{100 * r['extractor_float_accuracy_known']:.2f}%); the HDC encoder reads its last feature map before "
             f"the pool (4 x 4 x 64 int8 values). Digit {r['held_out_digit']} is taught over serial "
             f"with k training images, the device running its own CNN on them: bundled, then online passes over "
             f"the same images with a {r['online_margin']}-bit margin until one updates nothing (passes that updated: "
             + " / ".join(map(str, r["online_passes"])) + " for k = " + " / ".join(map(str, r["shots"]))
             + f"). {r['samples']} test images, classified by the device after every k.", "",
             "| digit | " + " | ".join(str(d) for d in digits) + " | known digits | new digit |",
             "|---|" + "---|" * (len(digits) + 2)]

    def row(name: str, per_class: list[float], old: float, new: float) -> str:
        return (f"| {name} | " + " | ".join(f"{100 * a:.0f}" for a in per_class)
                + f" | {100 * old:.2f}% | {100 * new:.1f}% |")

    lines.append(row("before", r["per_class_before"], r["old_classes_accuracy_before"], r["per_class_before"][-1]))
    for i, k in enumerate(r["shots"]):
        lines.append(row(f"k = {k}", r["per_class_after"][str(k)], r["old_classes_accuracy_after"][i],
                         r["new_class_accuracy"][i]))
    drop = 100 * (r["old_classes_accuracy_before"] - r["old_classes_accuracy_after"][-1])
    lines += ["", f"Prototype mismatches (device vs host mirror, every slot after every update): "
              f"{r['prototype_mismatches']}; labels the device and the mirror disagree on: {r['label_mismatches']}; "
              f"online passes whose update count differs: {r['update_count_mismatches']}.",
              "", f"Acceptance (issue 16): new digit {100 * r['new_class_accuracy'][-1]:.1f}% with "
              f"{r['shots'][-1]} shots (>= 90% asked: {'met' if r['new_class_accuracy'][-1] >= 0.9 else 'NOT met'}); "
              f"known digits lose {drop:.2f} points (<= 2 asked); prototype mismatches {r['prototype_mismatches']} "
              "(0 asked). What was tried to raise the new digit: docs/hdc.md, \"The learn demo\"."]
    if "every_digit" in r:
        lines += ["", "## Each digit held out (host mirror, same recipe and seed)", "",
                  "| held-out digit | " + " | ".join(f"new @{k}" for k in r["shots"]) + " | known before | known after |",
                  "|---|" + "---|" * (len(r["shots"]) + 2)]
        for e in r["every_digit"]:
            lines.append(f"| {e['held_out_digit']} | " + " | ".join(f"{100 * a:.1f}%" for a in e["new_class_accuracy"])
                         + f" | {100 * e['old_classes_accuracy_before']:.2f}% | "
                         f"{100 * e['old_classes_accuracy_after'][-1]:.2f}% |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    from edgehdc.fileio import atomic_write_json, atomic_write_text

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path, nargs="?", default=ROOT / "build" / "learn" / "report.json")
    ap.add_argument("--every-digit", action="store_true", help="also hold out each digit in turn (host mirror)")
    args = ap.parse_args(argv)
    report = json.loads(args.report.read_text())
    # the last commit that changed what the run executes (a later docs commit does not date it)
    commit = subprocess.run(["git", "log", "-1", "--format=%h", "--", "host", "firmware"], cwd=ROOT, text=True,
                            capture_output=True).stdout.strip()
    report = {"command": "edgehdc hdc learn-demo", "date": datetime.date.today().isoformat(), "git_commit": commit,
              **report}
    if args.every_digit:
        from edgehdc.hdc.learn_demo import host_learning
        from edgehdc.pipeline import DemoConfig

        report["every_digit"] = [host_learning(DemoConfig(), d, tuple(report["shots"]), log=lambda _: None)
                                 for d in range(10)]
    atomic_write_json(RESULTS / "hdc_learn_demo.json", report)
    atomic_write_text(RESULTS / "hdc_learn_demo.md", markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
