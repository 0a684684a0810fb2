"""Per-layer instructions of an exported model on every emulated core (the PROFILE message).

    .venv/bin/python -m edgehdc demo                      # exports build/demo/model (once)
    .venv/bin/python benchmarks/device_profile.py [--model-dir build/demo/model] [--samples 3]

writes benchmarks/results/device_profile.{json,md}. The same firmware (-O2,
portable kernels) is built for each emulated environment and run in QEMU under
`-icount shift=7`, where the 25 MHz (M55: 20 MHz) counter advances 2.5-3.2
ticks per instruction, so every per-layer count is an exact instruction count.
Each sample is profiled and then run through INFER: the check column says that
the layers plus the fixed tail equal the model stage INFER reports, and that
both stages match INFER to the instruction.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from edgehdc.device import EmulatedBoard, emulated_envs, read_profile
from edgehdc.fileio import atomic_write_text
from provenance import git_commit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
COMMAND = ".venv/bin/python benchmarks/device_profile.py"
SHIFT = 7


def run_board(env: str, model_dir: Path, samples: int) -> dict:
    board = EmulatedBoard(env, model_dir=model_dir, icount_shift=SHIFT)
    board.build()
    runs = []
    with board.start() as link:
        info = link.info()
        x = np.random.default_rng(0).integers(-128, 128, (samples, info.input_bytes)).astype(np.int8)
        for xi in x:
            prof = read_profile(link, xi)
            infer = link.infer(xi)
            d = prof.as_dict(SHIFT)
            layers = [row["instructions"] for row in d["layers"]]
            tail = prof.instructions(prof.tail_ticks, SHIFT)
            d["tail_instructions"] = tail
            d["exact"] = (sum(layers) + tail == d["instructions_model"]
                          == prof.instructions(infer.ticks_model, SHIFT)
                          and d["instructions_hdc"] == prof.instructions(infer.ticks_hdc, SHIFT))
            runs.append(d)
    return {"board": info.board, "intact": info.intact, "runs": runs}


def markdown(result: dict) -> str:
    envs = list(result["boards"])
    first = {env: result["boards"][env]["runs"][0] for env in envs}
    lines = [f"# Per-layer profile on the emulated cores ({result['date']}, commit {result['git_commit']})", "",
             f"Command: `{result['command']}`; model `{result['model_dir']}`; QEMU -icount shift={SHIFT} "
             "(exact instruction counts); first of the seeded random inputs.", "",
             "| # | op | " + " | ".join(envs) + " |", "|---|---|" + "---:|" * len(envs)]
    for i, row in enumerate(first[envs[0]]["layers"]):
        lines.append(f"| {i} | {row['op']} | " + " | ".join(f"{first[e]['layers'][i]['instructions']:,}" for e in envs)
                     + " |")
    for label, key in (("(invoke return)", "tail_instructions"), ("model stage", "instructions_model"),
                       ("HDC encode + search", "instructions_hdc")):
        lines.append(f"|  | {label} | " + " | ".join(f"{first[e][key]:,}" for e in envs) + " |")
    exact = {e: all(r["exact"] for r in result["boards"][e]["runs"]) for e in envs}
    lines += ["", "Layers + tail == INFER's model stage and HDC stage == INFER's, to the instruction, on every "
              f"sample: {', '.join(f'{e} {exact[e]}' for e in envs)}.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=ROOT / "build" / "demo" / "model")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--boards", nargs="+", default=None, help="emulated envs (default: all)")
    args = parser.parse_args()
    commit = git_commit()
    result = {"command": COMMAND, "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "git_commit": commit,
              "model_dir": str(args.model_dir.relative_to(ROOT) if args.model_dir.is_relative_to(ROOT)
                               else args.model_dir),
              "boards": {env: run_board(env, args.model_dir, args.samples) for env in args.boards or emulated_envs()}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RESULTS / "device_profile.json", json.dumps(result, indent=1) + "\n")
    atomic_write_text(RESULTS / "device_profile.md", markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
