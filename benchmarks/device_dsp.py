"""The dsp kernel backend against portable on the emulated Cortex-M4, same model, same run.

    .venv/bin/python benchmarks/device_dsp.py [--samples 20] [--epochs 60]

Trains and exports the demo model (`make demo`'s configuration), then for each
backend:
- builds the firmware (PlatformIO, link map kept), checks every reply of
  `--samples` test images against the host mirror, and takes the CNN's
  instructions per inference from INFER's counter (QEMU -icount, exact);
- runs each layer alone in a kernel image (edgehdc.device.kernel_image) on the
  first test image's tensors: instructions per layer and per MAC;
- reads flash and RAM (arm-none-eabi-size) and the runtime + kernel code the
  linker kept (the map).
Writes benchmarks/results/device_dsp.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

from edgehdc.device import EmulatedBoard, firmware_size, ticks_to_instructions
from edgehdc.device.kernel_image import KernelCase, run_cases
from edgehdc.device.size import code_size_by_folder
from edgehdc.export.firmware import write_firmware_sources
from edgehdc.export.manifest import model_id
from edgehdc.fileio import atomic_write_json, atomic_write_text
from edgehdc.kernels.interpreter import run as run_int8
from edgehdc.parity import Parity
from edgehdc.pipeline import DemoConfig, build_host_artifacts, check_device_reply, write_artifacts
from edgehdc.quant.ir import OpKind
from provenance import git_commit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BACKENDS = ("portable", "dsp")
CODE_FOLDERS = {"kernels": "/src/kernels/", "runtime": "/src/runtime/"}
# External reference (issue 13): TFLM + CMSIS-NN on the same model and emulated core.
TFLM_CMSIS_NN = 740_000


def macs(graph, op) -> int:
    """Multiply-accumulates of a layer (0 for pooling)."""
    out = graph.tensors[op.outputs[0]].shape
    if op.kind == OpKind.CONV_2D:
        o, kh, kw, i = graph.tensors[op.inputs[1]].shape
        return int(np.prod(out[:-1])) * o * kh * kw * i
    if op.kind == OpKind.DEPTHWISE_CONV_2D:
        _, kh, kw, c = graph.tensors[op.inputs[1]].shape
        return int(np.prod(out[:-1])) * c * kh * kw
    if op.kind == OpKind.FULLY_CONNECTED:
        return int(np.prod(graph.tensors[op.inputs[1]].shape)) * int(np.prod(out[:-1]))
    return 0


def device_run(cfg, art, model_dir: Path, backend: str, n: int, work: Path) -> dict:
    """Whole-model numbers of one backend; every reply checked exactly."""
    link_map = work / f"firmware-{backend}.map"
    os.environ["PLATFORMIO_BUILD_FLAGS"] = f"-Wl,-Map,{link_map}"
    # The arena holds each layer's scratch for this backend (planned per backend and core).
    write_firmware_sources(art.graph, art.encoder, art.classifier, model_dir, model_id(art.model_sha),
                           backend=backend, board="qemu_m4")
    board = EmulatedBoard("qemu_m4", model_dir=model_dir, backend=backend)
    board.build()
    flash, ram = firmware_size(board.elf_path)
    parity, ticks = Parity(), []
    with board.start() as link:
        info = link.expect_model(model_id(art.model_sha))
        for i in range(n):
            reply = link.infer(art.x_test_q[i])
            check_device_reply(art, parity, "device_vs_numba", i, reply)
            ticks.append(reply.ticks_model)
    if parity.as_dict()["mismatches"]:
        raise SystemExit(f"{backend}: the device disagrees with the host mirror: {parity.as_dict()}")
    return {
        "instructions_cnn": round(ticks_to_instructions(float(np.mean(ticks)), info.counter_hz, board.icount_shift)),
        "flash_bytes": flash, "ram_bytes": ram,
        "code_bytes": code_size_by_folder(link_map, CODE_FOLDERS),
        "compared": parity.as_dict()["compared"],
    }


def layer_runs(graph, x, work: Path) -> list[dict]:
    """Each layer alone in a kernel image, per backend: instructions, exact outputs."""
    tensors = run_int8(graph, x, keep_all=True)
    cases = [KernelCase.from_layer(graph, op, tensors, f"{i} {op.kind.value}") for i, op in enumerate(graph.ops)]
    rows = [{"layer": c.name, "shape": list(graph.tensors[op.outputs[0]].shape), "macs": macs(graph, op)}
            for c, op in zip(cases, graph.ops)]
    for backend in BACKENDS:
        for row, result in zip(rows, run_cases(cases, work / f"layers-{backend}", core="cortex-m4", backend=backend)):
            if not result.ok:
                raise SystemExit(f"{backend}: layer {result.name} status {result.status}, "
                                 f"{result.mismatches} wrong outputs")
            row[backend] = round(result.instructions)
    return rows


def markdown(result: dict) -> str:
    dev, layers = result["device"], result["layers"]
    p, d = dev["portable"], dev["dsp"]
    lines = [
        "# dsp kernel backend vs portable: demo model on the emulated Cortex-M4",
        "",
        f"Command: `{result['command']}`  ",
        f"Run {result['date']}, commit {result['git_commit']}, QEMU mps2-an386 with -icount shift=6 "
        "(instruction counts are exact and do not depend on the machine's load).",
        "",
        f"## Whole CNN per inference (mean of {result['samples']} test images, every output checked: "
        f"{p['compared'] + d['compared']} values, 0 mismatches)",
        "",
        "| | instructions | instr/MAC | flash B | RAM B | kernels code B | runtime code B |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in BACKENDS:
        r = dev[name]
        lines.append(f"| {name} | {r['instructions_cnn']:,} | {r['instructions_cnn'] / result['macs']:.2f} | "
                     f"{r['flash_bytes']:,} | {r['ram_bytes']:,} | {r['code_bytes']['kernels']:,} | "
                     f"{r['code_bytes']['runtime']:,} |")
    lines += [
        f"| TFLM + CMSIS-NN (external, issue 13) | {TFLM_CMSIS_NN:,} | {TFLM_CMSIS_NN / result['macs']:.2f} | | | | |",
        "",
        f"dsp / portable: {d['instructions_cnn'] / p['instructions_cnn']:.3f} "
        f"({p['instructions_cnn'] / d['instructions_cnn']:.2f}x fewer instructions); "
        f"dsp / TFLM + CMSIS-NN: {d['instructions_cnn'] / TFLM_CMSIS_NN:.3f}. "
        f"{result['macs']:,} MACs per inference.",
        "",
        "## Per layer (each layer alone in a kernel image, first test image's tensors, outputs checked)",
        "",
        "| layer | output | MACs | portable | dsp | portable instr/MAC | dsp instr/MAC | speedup |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in layers:
        per_mac = [f"{row[b] / row['macs']:.2f}" if row["macs"] else "-" for b in BACKENDS]
        lines.append(f"| {row['layer']} | {'x'.join(map(str, row['shape']))} | {row['macs']:,} | "
                     f"{row['portable']:,} | {row['dsp']:,} | {per_mac[0]} | {per_mac[1]} | "
                     f"{row['portable'] / row['dsp']:.2f}x |")
    lines += [
        "",
        "Kernel and runtime code: .text and .rodata of firmware/src/kernels and firmware/src/runtime "
        "that the linker kept (link map).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20, help="test images sent to the device per backend")
    parser.add_argument("--epochs", type=int, default=DemoConfig.epochs, help="training epochs of the demo model")
    args = parser.parse_args(argv)
    work = ROOT / "build" / "device_dsp"
    cfg = DemoConfig(out_dir=work, epochs=args.epochs, device_samples=args.samples)
    art = build_host_artifacts(cfg, log=lambda m: print(m, file=sys.stderr))
    model_dir = write_artifacts(cfg, art)
    graph = art.graph
    result = {
        "command": " ".join(["python benchmarks/device_dsp.py", *argv]),
        "date": datetime.date.today().isoformat(),
        "git_commit": git_commit(),
        "host": platform.machine(),
        "samples": args.samples,
        "macs": sum(macs(graph, op) for op in graph.ops),
        "device": {b: device_run(cfg, art, model_dir, b, args.samples, work) for b in BACKENDS},
        "layers": layer_runs(graph, art.x_test_q[:1], work),
        "tflm_cmsis_nn_reference": TFLM_CMSIS_NN,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_json(RESULTS / "device_dsp.json", result)
    atomic_write_text(RESULTS / "device_dsp.md", markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
