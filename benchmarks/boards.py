"""The demo model on every emulated core: flash, RAM and instructions per inference.

    .venv/bin/python benchmarks/boards.py [--samples 20] [--epochs 60]

writes benchmarks/results/boards.{json,md}. The same firmware (same sources,
-O2, the portable kernels) and the same model are built for each emulated
environment of platformio.ini and run in QEMU in one go; qemu_m4 is the
baseline the others are compared with. One more row builds the M55 at -O3,
where GCC vectorises loops with MVE. Every reply is checked bit for bit
against the Numba mirror (the mismatches column must read 0).

Instructions come from the board's counter under QEMU's -icount shift=6 (an
instruction count, exact to a counter tick, not cycles: the M7 dual-issues,
the M55 executes MVE beats; QEMU models no pipeline).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from edgehdc.device import EmulatedBoard, board_spec, emulated_envs, firmware_size, ticks_to_instructions
from edgehdc.export.manifest import model_id
from edgehdc.fileio import atomic_write_text
from edgehdc.parity import Parity
from edgehdc.pipeline import DemoConfig, build_host_artifacts, check_device_reply, write_artifacts

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
COMMAND = ".venv/bin/python benchmarks/boards.py"
BASELINE = "qemu_m4"


def sections(elf: Path) -> dict[str, int]:
    """text, data and bss bytes of the image (arm-none-eabi-size, Berkeley format; bss includes the stack)."""
    out = subprocess.run(["arm-none-eabi-size", "-B", "-d", str(elf)], capture_output=True, text=True, check=True)
    text, data, bss = (int(v) for v in out.stdout.splitlines()[1].split()[:3])
    return {"text": text, "data": data, "bss": bss}


def run_board(env: str, src_flags: str, art, model_dir: Path, samples: int) -> dict:
    board = EmulatedBoard(env, model_dir=model_dir, src_flags=src_flags)
    board.build()
    flash, ram = firmware_size(board.elf_path)
    parity, model, hdc = Parity(), [], []
    with board.start() as link:
        info = link.expect_model(model_id(art.model_sha))
        for i in range(samples):
            reply = link.infer(art.x_test_q[i])
            check_device_reply(art, parity, env, i, reply)
            model.append(ticks_to_instructions(reply.ticks_model, info.counter_hz, board.icount_shift))
            hdc.append(ticks_to_instructions(reply.ticks_hdc, info.counter_hz, board.icount_shift))
    total = np.add(model, hdc)
    return {
        "env": env, "board": info.board, "cpu": board.spec.cpu, "src_flags": src_flags or "-O2",
        "counter_hz": info.counter_hz, "samples": samples, **parity.as_dict()["rungs"][env],
        "flash_bytes": flash, "ram_bytes": ram, "flash_limit": board.spec.flash_bytes,
        "ram_limit": board.spec.ram_bytes, **sections(board.elf_path),
        "instructions": round(float(total.mean())), "instructions_min": round(float(total.min())),
        "instructions_max": round(float(total.max())), "instructions_model": round(float(np.mean(model))),
        "instructions_hdc": round(float(np.mean(hdc))),
    }


def markdown(rows: list[dict], meta: dict) -> str:
    base = next(r for r in rows if r["env"] == BASELINE and r["src_flags"] == "-O2")
    lines = [
        "# The demo model on the emulated cores", "",
        f"Command: `{meta['command']}`", "",
        f"- Model: the demo's tinycnn ({meta['epochs']} epochs) + {meta['hdc_dim']}-bit HDC head, "
        f"{meta['samples']} test images per core; sha256 {meta['model_sha256'][:16]}",
        f"- {meta['machine']}; QEMU {meta['qemu']}; {meta['gcc']}; run {meta['date']}",
        "- Instructions per inference from the board counter under `-icount shift=6` (deterministic: the "
        "machine's load does not change them). They count instructions, not cycles.",
        f"- Baseline: {BASELINE} (same sources, same flags, same model, same run); ratio = core / baseline.",
        "",
        "| env | board | cpu | flags | instructions / inference | model | HDC | vs M4 | flash (text+data) "
        "| RAM (data+bss+stack) | compared | mismatches |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        spread = "" if r["instructions_min"] == r["instructions_max"] else \
            f" ({r['instructions_min']:,}-{r['instructions_max']:,})"
        lines.append(
            f"| {r['env']} | {r['board']} | {r['cpu']} | {r['src_flags']} | {r['instructions']:,}{spread} "
            f"| {r['instructions_model']:,} | {r['instructions_hdc']:,} | {r['instructions'] / base['instructions']:.3f} "
            f"| {r['flash_bytes']:,} of {r['flash_limit']:,} | {r['ram_bytes']:,} of {r['ram_limit']:,} "
            f"| {r['compared']:,} | {r['mismatches']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20, help="test images per core (default 20)")
    parser.add_argument("--epochs", type=int, default=DemoConfig.epochs, help="demo training epochs")
    args = parser.parse_args(argv)
    cfg = DemoConfig(out_dir=ROOT / "build" / "bench_boards", epochs=args.epochs)
    print(f"training the demo model ({args.epochs} epochs)")
    art = build_host_artifacts(cfg, log=lambda _: None)
    model_dir = write_artifacts(cfg, art)
    samples = min(args.samples, len(art.x_test_q))
    runs = [(env, "") for env in emulated_envs()] + [("qemu_m55", "-O3")]
    rows = []
    for env, flags in runs:
        print(f"{env} {flags or '-O2'}: {board_spec(env).title}")
        rows.append(run_board(env, flags, art, model_dir, samples))
    meta = {
        "command": " ".join([COMMAND, *argv]), "epochs": args.epochs, "hdc_dim": cfg.hdc_dim, "samples": samples,
        "model_sha256": art.model_sha, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores",
        "qemu": subprocess.run(["qemu-system-arm", "--version"], capture_output=True, text=True).stdout.split()[3],
        "gcc": subprocess.run(["arm-none-eabi-gcc", "--version"], capture_output=True, text=True).stdout.splitlines()[0],
    }
    atomic_write_text(RESULTS / "boards.json", json.dumps({**meta, "results": rows}, indent=1) + "\n")
    atomic_write_text(RESULTS / "boards.md", markdown(rows, meta))
    print(markdown(rows, meta))
    return 0 if all(r["mismatches"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
