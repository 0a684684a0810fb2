"""Every MLPerf Tiny model and the demo model x qemu_m4/m7/m55 x portable/dsp/cmsis_nn (issue 13's table).

    nice -n 5 .venv/bin/python benchmarks/device.py [--samples 10] [--boards ...] [--backends ...] [--models ...]
    make bench-device

Each run is one `edgehdc verify device` (edgehdc.verify_device): export the model as a plain int8
runtime with each layer's scratch planned into the arena for that backend and core, build it with
PlatformIO offline (link map kept), boot it in QEMU, compare every output tensor of `--samples`
seeded inputs with the Numba mirror bit for bit, then PROFILE the first input (instructions per
layer). Instructions are exact (QEMU -icount; emulated instructions are not cycles). Code size is
the .text + .rodata the linker kept from firmware/src/kernels and firmware/src/runtime (the model's
tables are generated elsewhere and not counted), plus the CMSIS-NN library for cmsis_nn.
Inputs are seeded: a re-run of the same tree gives the same numbers.
Writes benchmarks/results/device.{json,md}; exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from pathlib import Path

from device_dsp import macs
from device_portable import NAMES, TFLM_ARENA, demo_model

from edgehdc.device.profile import read_profile
from edgehdc.device.size import code_size_by_folder
from edgehdc.fileio import atomic_write_json, atomic_write_text
from edgehdc.quant.tflite_io import from_tflite
from edgehdc.verify_device import BOARDS, verify_device

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MLPERF = ROOT.parent / "shared" / "models" / "mlperf_tiny"
WORK = ROOT / "build" / "device_bench"
BACKENDS = ("portable", "dsp", "cmsis_nn")
MODELS = ("ad01_int8", "kws_ref_model", "pretrainedResnet_quant", "vww_96_int8", "demo")
# Object-file path fragments in the link map; the CMSIS-NN library is built into $BUILD_DIR/cmsis_nn.
CODE_FOLDERS = {"kernels": "/src/kernels/", "runtime": "/src/runtime/", "cmsis_nn_lib": "cmsis_nn.a("}
# External reference, not measured here: MLPerf Tiny v0.5 latencies on the Nucleo-L4R5ZI (ms).
MLPERF_V05_L4R5ZI_MS = {"pretrainedResnet_quant": {"TFLM": 704, "X-CUBE-AI": 222},
                        "kws_ref_model": {"TFLM": 182, "X-CUBE-AI": 73},
                        "vww_96_int8": {"TFLM": 601, "X-CUBE-AI": 221}}
# Issue 13's acceptance, on qemu_m4.
RESNET_DSP_MAX_INSTR_PER_MAC = 1.5
DSP_VS_CMSIS_MAX = {"kws_ref_model": 0.7, "vww_96_int8": 0.7}
RESNET_CODE_MAX_BYTES = 26_000
DEMO_DSP_MAX_INSTRUCTIONS = 740_000


def run_one(name: str, path: Path, board: str, backend: str, samples: int, n_macs: int) -> dict:
    """One verify-device run with its link map and per-layer profile."""
    link_map = WORK / f"{name}-{board}-{backend}.map"
    link_map.parent.mkdir(parents=True, exist_ok=True)
    os.environ["PLATFORMIO_BUILD_FLAGS"] = f"-Wl,-Map,{link_map}"
    r = verify_device(path, board, backend, samples, build_root=WORK, log=lambda m: print(m, file=sys.stderr),
                      profile=read_profile)
    print(f"{name} {board} {backend}: {r.summary()}", file=sys.stderr, flush=True)
    code = code_size_by_folder(link_map, CODE_FOLDERS)
    return {"model": name, "board": board, "backend": backend, "macs": n_macs, **vars(r),
            "instructions_per_mac": round(r.instructions / n_macs, 3), "code_bytes": code,
            "code_total": sum(code.values())}


def ratios(rows: list[dict]) -> dict:
    """dsp / cmsis_nn instructions per model and board, from this run's rows."""
    by = {(r["model"], r["board"], r["backend"]): r["instructions"] for r in rows}
    return {f"{m}/{b}": round(by[m, b, "dsp"] / by[m, b, "cmsis_nn"], 3)
            for (m, b, k) in by if k == "dsp" and (m, b, "cmsis_nn") in by}


def acceptance(rows: list[dict]) -> dict:
    """Issue 13's checks on qemu_m4, each with its measured value (None where not measured)."""
    m4 = {(r["model"], r["backend"]): r for r in rows if r["board"] == "qemu-m4"}

    def get(model, backend, key):
        return m4[model, backend][key] if (model, backend) in m4 else None

    checks = {}
    v = get("pretrainedResnet_quant", "dsp", "instructions_per_mac")
    checks["ResNet-8 dsp instr/MAC <= 1.5"] = (v, v is not None and v <= RESNET_DSP_MAX_INSTR_PER_MAC)
    for model in MODELS:
        d, c = get(model, "dsp", "instructions"), get(model, "cmsis_nn", "instructions")
        ratio = None if d is None or c is None else round(d / c, 3)
        limit = DSP_VS_CMSIS_MAX.get(model, 1.0)
        op = "<=" if model in DSP_VS_CMSIS_MAX else "<"
        ok = ratio is not None and (ratio <= limit if model in DSP_VS_CMSIS_MAX else ratio < limit)
        checks[f"{NAMES[model]} dsp/cmsis_nn {op} {limit}"] = (ratio, ok)
    v = get("pretrainedResnet_quant", "dsp", "code_total")
    checks["ResNet-8 dsp kernel+runtime code <= 26 kB"] = (v, v is not None and v <= RESNET_CODE_MAX_BYTES)
    v = get("demo", "dsp", "instructions")
    checks["demo CNN dsp <= 0.74 M instructions"] = (v, v is not None and v <= DEMO_DSP_MAX_INSTRUCTIONS)
    return {k: {"value": value, "met": met} for k, (value, met) in checks.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10, help="seeded inputs per run (>= 10 for acceptance)")
    parser.add_argument("--boards", nargs="+", choices=sorted(BOARDS), default=["qemu-m4", "qemu-m7", "qemu-m55"])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--epochs", type=int, default=60, help="training epochs of the demo model")
    args = parser.parse_args()
    paths = {m: demo_model(args.epochs) if m == "demo" else MLPERF / f"{m}.tflite" for m in args.models}
    n_macs = {m: sum(macs(g, op) for op in g.ops) for m, g in ((m, from_tflite(p.read_bytes())) for m, p in paths.items())}
    command = "python benchmarks/device.py " + " ".join(sys.argv[1:])
    meta = {"command": command.strip(), "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "host": platform.node(), "samples": args.samples}
    rows = []
    for board in args.boards:  # the first board (qemu_m4: the acceptance) complete first
        for name, path in paths.items():
            for backend in args.backends:
                rows.append(run_one(name, path, board, backend, args.samples, n_macs[name]))
                write(meta, rows)  # after every run: an interrupted benchmark keeps what it measured
    return 0 if all(r["mismatches"] == 0 for r in rows) else 1


def write(meta: dict, rows: list[dict]) -> None:
    result = {"meta": meta, "rows": rows, "dsp_over_cmsis_nn": ratios(rows), "acceptance_qemu_m4": acceptance(rows),
              "external_reference_mlperf_v05_nucleo_l4r5zi_ms": MLPERF_V05_L4R5ZI_MS}
    atomic_write_json(RESULTS / "device.json", result)
    atomic_write_text(RESULTS / "device.md", markdown(result))


def markdown(result: dict) -> str:
    meta, rows = result["meta"], result["rows"]
    lines = [
        "# Every model x core x kernel backend on the emulated boards",
        "",
        f"`{meta['command']}` ({meta['date']}). Each row is one `edgehdc verify device` run: {meta['samples']} "
        "seeded inputs, every output tensor compared with the Numba mirror bit for bit. Instructions per "
        "inference are exact executed instructions (QEMU -icount, the board's counter), not cycles. Flash and "
        "RAM come from the ELF; the arena includes each layer's planned kernel scratch; code is the .text + "
        ".rodata the linker kept from firmware/src/kernels + firmware/src/runtime (+ the CMSIS-NN library for "
        "cmsis_nn), without the model's tables.",
        "",
        "| model | core | backend | mismatches | compared | instructions | instr/MAC | dsp/cmsis_nn | flash | RAM "
        "| arena | TFLM arena | code |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    ratio = result["dsp_over_cmsis_nn"]
    for r in rows:
        tflm = TFLM_ARENA.get(r["model"])
        rel = ratio.get(f"{r['model']}/{r['board']}") if r["backend"] == "dsp" else None
        lines.append(
            f"| {NAMES[r['model']]} | {r['board']} | {r['backend']} | {r['mismatches']} | {r['compared']:,} | "
            f"{r['instructions']:,} | {r['instructions_per_mac']} | {rel if rel is not None else '-'} | "
            f"{r['flash']:,} | {r['ram']:,} | {r['arena']:,} | {f'{tflm:,}' if tflm else '-'} | {r['code_total']:,} |")
    lines += ["", "## Acceptance (issue 13, qemu_m4, this run)", "", "| check | measured | met |", "|---|---|---|"]
    for name, c in result["acceptance_qemu_m4"].items():
        lines.append(f"| {name} | {c['value'] if c['value'] is not None else 'not run'} | {'yes' if c['met'] else 'NO'} |")
    lines += ["", "## External reference (not measured here)", "",
              "MLPerf Tiny v0.5 published latencies on the Nucleo-L4R5ZI (Cortex-M4 at 120 MHz), milliseconds per "
              "inference. Emulated instructions are not cycles: these rows are context, not a comparison.", "",
              "| model | TFLM (ms) | X-CUBE-AI (ms) |", "|---|---|---|"]
    for model, ms in result["external_reference_mlperf_v05_nucleo_l4r5zi_ms"].items():
        lines.append(f"| {NAMES[model]} | {ms['TFLM']} | {ms['X-CUBE-AI']} |")
    lines += ["", "## Per-layer instructions on qemu_m4 (PROFILE of the first input)", ""]
    for r in rows:
        if r["board"] != "qemu-m4" or not r.get("profile"):
            continue
        layers = r["profile"]["layers"]
        lines += [f"### {NAMES[r['model']]}, {r['backend']}", "",
                  "| layer | op | instructions |", "|---|---|---|"]
        lines += [f"| {x['layer']} | {x['op']} | {x['instructions']:,} |" for x in layers]
        lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
