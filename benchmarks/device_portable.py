"""Every MLPerf Tiny model and the demo model on the three emulated cores, portable kernels.

    .venv/bin/python benchmarks/device_portable.py [--samples 10] [--boards qemu-m4 qemu-m7 qemu-m55]

For each model and core, `edgehdc verify device` (edgehdc.verify_device): export as a plain int8
runtime, build with PlatformIO offline, boot in QEMU, compare every output tensor of `--samples`
seeded inputs with the Numba mirror exactly; instructions per inference from the board's counter
under QEMU's fixed icount; flash and RAM from the ELF; our planned arena next to the arena TFLM +
CMSIS-NN needs for the same model (measured outside this repo, issue 12).
Writes benchmarks/results/device_portable.{json,md}; exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
from pathlib import Path

from device_dsp import macs

from edgehdc.fileio import atomic_write_json, atomic_write_text
from edgehdc.quant.tflite_io import from_tflite
from edgehdc.verify_device import BOARDS, verify_device

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MLPERF = ROOT.parent / "shared" / "models" / "mlperf_tiny"
WORK = ROOT / "build" / "device_portable"
# TFLM + CMSIS-NN arena (bytes) for the same models, as measured for issue 12.
TFLM_ARENA = {"ad01_int8": 3_000, "kws_ref_model": 22_800, "pretrainedResnet_quant": 55_000,
              "vww_96_int8": 100_700}
NAMES = {"ad01_int8": "AD autoencoder", "kws_ref_model": "DS-CNN (KWS)",
         "pretrainedResnet_quant": "ResNet-8", "vww_96_int8": "MobileNetV1 VWW", "demo": "demo CNN (digits)"}


def demo_model(epochs: int) -> Path:
    """The demo's int8 model (`make demo`'s configuration), trained and written once."""
    from edgehdc.pipeline import DemoConfig, build_host_artifacts

    path = WORK / "demo.tflite"
    if not path.is_file():
        art = build_host_artifacts(DemoConfig(out_dir=WORK / "demo", epochs=epochs), log=lambda m: print(m, file=sys.stderr))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(art.tflite)
    return path


def model_macs(path: Path) -> int:
    graph = from_tflite(path.read_bytes())
    return sum(macs(graph, op) for op in graph.ops)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--boards", nargs="+", choices=sorted(BOARDS), default=["qemu-m4", "qemu-m7", "qemu-m55"])
    parser.add_argument("--epochs", type=int, default=60, help="training epochs of the demo model")
    args = parser.parse_args()
    models = {p.stem: p for p in sorted(MLPERF.glob("*.tflite"))} | {"demo": demo_model(args.epochs)}
    rows = []
    for name, path in models.items():
        n_macs = model_macs(path)
        for board in args.boards:
            r = verify_device(path, board, "portable", args.samples, build_root=WORK,
                              log=lambda m: print(m, file=sys.stderr))
            print(f"{name} {board}: {r.summary()}", file=sys.stderr, flush=True)
            rows.append({"model": name, "board": board, "macs": n_macs, **vars(r),
                         "instructions_per_mac": round(r.instructions / n_macs, 2),
                         "tflm_arena": TFLM_ARENA.get(name)})
    command = "python benchmarks/device_portable.py " + " ".join(sys.argv[1:])
    meta = {"command": command.strip(), "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "host": platform.node(), "samples": args.samples, "backend": "portable"}
    atomic_write_json(RESULTS / "device_portable.json", {"meta": meta, "rows": rows})
    atomic_write_text(RESULTS / "device_portable.md", markdown(meta, rows))
    return 0 if all(r["mismatches"] == 0 for r in rows) else 1


def markdown(meta: dict, rows: list[dict]) -> str:
    lines = [
        "# Every model on the emulated cores, portable kernels",
        "",
        f"`{meta['command']}` ({meta['date']}). Each row is one `edgehdc verify device` run: "
        f"{meta['samples']} seeded inputs, every output tensor compared with the Numba mirror bit for bit. "
        "Instructions per inference are exact (QEMU -icount, the board's counter); flash and RAM come from "
        "the ELF (RAM includes the protocol buffers and the stack); the arena is the planned activation "
        "arena (RESHAPE aliases, in-place ADD, greedy placement), next to what TFLM + CMSIS-NN needs for "
        "the same model.",
        "",
        "| model | core | mismatches | compared | instructions | instr/MAC | flash | RAM | arena | TFLM arena | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        tflm = r["tflm_arena"]
        ratio = f"{r['arena'] / tflm:.2f}x" if tflm else "-"
        lines.append(f"| {NAMES.get(r['model'], r['model'])} | {r['board']} | {r['mismatches']} | {r['compared']:,} | "
                     f"{r['instructions']:,} | {r['instructions_per_mac']} | {r['flash']:,} | {r['ram']:,} | "
                     f"{r['arena']:,} | {f'{tflm:,}' if tflm else '-'} | {ratio} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
