"""CMSIS-NN (the cmsis_nn backend) vs our portable and dsp kernels, demo model, emulated cores, same run.

    .venv/bin/python benchmarks/device_cmsis_nn.py [--samples 10] [--epochs 60] [--boards qemu_m4,...]

Trains and exports the demo model (`make demo`'s configuration), then for each
board and backend: builds the firmware (PlatformIO), checks every reply of
`--samples` test images against the host mirror (features, hypervector,
label, distances: exact) and takes the CNN's instructions per inference from
INFER's counter (QEMU -icount, exact). On qemu_m4 it also runs each layer
alone in a kernel image per backend (instructions per layer, outputs checked).
Writes benchmarks/results/device_cmsis_nn.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import numpy as np
from device_dsp import TFLM_CMSIS_NN, macs

from edgehdc.device import EmulatedBoard, firmware_size, ticks_to_instructions
from edgehdc.device.kernel_image import KernelCase, run_cases
from edgehdc.export.firmware import write_firmware_sources
from edgehdc.export.manifest import model_id
from edgehdc.export.scratch import model_scratch_bytes
from edgehdc.fileio import atomic_write_json, atomic_write_text
from edgehdc.kernels.interpreter import run as run_int8
from edgehdc.parity import Parity
from edgehdc.pipeline import DemoConfig, build_host_artifacts, check_device_reply, write_artifacts
from provenance import git_commit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BACKENDS = ("portable", "dsp", "cmsis_nn")
CORE = {"qemu_m4": "cortex-m4", "qemu_m7": "cortex-m7", "qemu_m55": "cortex-m55"}


def device_run(art, model_dir: Path, board_env: str, backend: str, n: int) -> dict:
    """Whole-CNN instructions per inference of one board and backend; every reply checked exactly."""
    # The arena holds each layer's scratch for this backend on this board's core.
    write_firmware_sources(art.graph, art.encoder, art.classifier, model_dir, model_id(art.model_sha),
                           backend=backend, board=board_env)
    board = EmulatedBoard(board_env, model_dir=model_dir, backend=backend)
    board.build()
    flash, ram = firmware_size(board.elf_path)
    parity, ticks = Parity(), []
    with board.start() as link:
        info = link.expect_model(model_id(art.model_sha))
        if info.backend != BACKENDS.index(backend):
            raise SystemExit(f"{board_env}: INFO reports backend {info.backend}, built with {backend}")
        for i in range(n):
            reply = link.infer(art.x_test_q[i])
            check_device_reply(art, parity, "device_vs_numba", i, reply)
            ticks.append(reply.ticks_model)
    counts = parity.as_dict()
    if counts["mismatches"]:
        raise SystemExit(f"{board_env} {backend}: the device disagrees with the host mirror: {counts}")
    return {"instructions_cnn": round(ticks_to_instructions(float(np.mean(ticks)), info.counter_hz,
                                                             board.icount_shift)),
            "flash_bytes": flash, "ram_bytes": ram, "compared": counts["compared"], "mismatches": 0}


def layer_runs(graph, x, work: Path) -> list[dict]:
    """Each layer alone in a kernel image on the Cortex-M4, per backend; outputs checked exactly."""
    tensors = run_int8(graph, x, keep_all=True)
    cases = [KernelCase.from_layer(graph, op, tensors, f"{i} {op.kind.value}") for i, op in enumerate(graph.ops)]
    rows = [{"layer": c.name, "shape": list(graph.tensors[op.outputs[0]].shape), "macs": macs(graph, op)}
            for c, op in zip(cases, graph.ops)]
    need = model_scratch_bytes(graph, "cmsis_nn", "cortex-m4")
    for backend in BACKENDS:
        results = run_cases(cases, work / f"layers-{backend}", core="cortex-m4", backend=backend,
                            scratch_bytes=max(need, 6144))
        for row, result in zip(rows, results):
            if not result.ok:
                raise SystemExit(f"{backend}: layer {result.name} status {result.status}, "
                                 f"{result.mismatches} wrong outputs")
            row[backend] = round(result.instructions)
    return rows


def markdown(result: dict) -> str:
    total_macs = result["macs"]
    lines = [
        "# cmsis_nn (Arm CMSIS-NN v7.0.0) vs portable and dsp: demo model on the emulated cores",
        "",
        f"Command: `{result['command']}`  ",
        f"Run {result['date']}, commit {result['git_commit']}; QEMU with -icount shift=6 (instruction counts "
        "are exact and do not depend on the machine's load). Emulated instructions are not cycles.",
        "",
        f"## Whole CNN per inference (mean of {result['samples']} test images per run, every reply "
        "checked against the host mirror: 0 mismatches)",
        "",
        "| board | backend | instructions | instr/MAC | vs cmsis_nn | flash B | RAM B | compared |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for board, runs in result["device"].items():
        ref = runs["cmsis_nn"]["instructions_cnn"]
        for backend, r in runs.items():
            lines.append(f"| {board} | {backend} | {r['instructions_cnn']:,} | "
                         f"{r['instructions_cnn'] / total_macs:.2f} | {r['instructions_cnn'] / ref:.3f} | "
                         f"{r['flash_bytes']:,} | {r['ram_bytes']:,} | {r['compared']:,} |")
    lines += [f"| qemu_m4 | TFLM + CMSIS-NN (external, issue 13) | {TFLM_CMSIS_NN:,} | "
              f"{TFLM_CMSIS_NN / total_macs:.2f} | | | | |", "",
              f"{total_macs:,} MACs per inference. Scratch the cmsis_nn backend plans "
              f"(edgehdc.export.scratch, largest layer): {result['scratch']}.", "",
              "## Per layer on qemu_m4 (each layer alone in a kernel image, first test image's tensors, "
              "outputs checked)", "",
              "| layer | output | MACs | " + " | ".join(BACKENDS) + " | cmsis_nn instr/MAC |",
              "|---|---|---:|" + "---:|" * (len(BACKENDS) + 1)]
    for row in result["layers"]:
        per_mac = f"{row['cmsis_nn'] / row['macs']:.2f}" if row["macs"] else "-"
        lines.append(f"| {row['layer']} | {'x'.join(map(str, row['shape']))} | {row['macs']:,} | "
                     + " | ".join(f"{row[b]:,}" for b in BACKENDS) + f" | {per_mac} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10, help="test images sent to each device run")
    parser.add_argument("--epochs", type=int, default=DemoConfig.epochs, help="training epochs of the demo model")
    parser.add_argument("--boards", default="qemu_m4,qemu_m7,qemu_m55")
    args = parser.parse_args(argv)
    boards = args.boards.split(",")
    work = ROOT / "build" / "device_cmsis_nn"
    cfg = DemoConfig(out_dir=work, epochs=args.epochs, device_samples=args.samples)
    art = build_host_artifacts(cfg, log=lambda m: print(m, file=sys.stderr))
    model_dir = write_artifacts(cfg, art)
    graph = art.graph
    result = {
        "command": " ".join(["python benchmarks/device_cmsis_nn.py", *argv]),
        "date": datetime.date.today().isoformat(),
        "git_commit": git_commit(),
        "samples": args.samples,
        "macs": sum(macs(graph, op) for op in graph.ops),
        "scratch": {CORE[b]: model_scratch_bytes(graph, "cmsis_nn", CORE[b]) for b in boards},
        "device": {b: {backend: device_run(art, model_dir, b, backend, args.samples) for backend in BACKENDS}
                   for b in boards},
        "layers": layer_runs(graph, art.x_test_q[:1], work) if "qemu_m4" in boards else [],
        "tflm_cmsis_nn_reference": TFLM_CMSIS_NN,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_json(RESULTS / "device_cmsis_nn.json", result)
    atomic_write_text(RESULTS / "device_cmsis_nn.md", markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
