"""The dsp kernels on the MLPerf Tiny models' layers, each alone on the emulated cores.

    .venv/bin/python benchmarks/device_dsp_mlperf.py [--cores cortex-m7,cortex-m55] [--cmsis-cores cortex-m4,cortex-m55]

The runtime does not run these models yet, so every CONV_2D, DEPTHWISE_CONV_2D,
FULLY_CONNECTED, ADD and pooling layer of the four models in
../shared/models/mlperf_tiny runs alone in a kernel image
(edgehdc.device.kernel_image) with the model's own parameters (the firmware
export's) on the activations the Numba mirror computes for one seeded random
input; the image checks every output byte against the mirror. Instructions
come from the board counter under QEMU's fixed icount (exact). On the
Cortex-M4 both backends run (portable is the baseline of the same run); on the
other cores the dsp backend; the cmsis_nn backend (Arm's CMSIS-NN v7.0.0
through our adapters) runs the same layers on --cmsis-cores, the yardstick of
the same run. Model-level instr/MAC = the sum over the measured layers / the
model's MACs (RESHAPE and SOFTMAX, a few hundred instructions, are
not kernels here). The yardstick is TFLM + CMSIS-NN's measured instr/MAC on the
same emulated M4 (issue 13), which counts its whole interpreter.
Writes benchmarks/results/device_dsp_mlperf.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
from device_dsp import macs

from edgehdc.device.kernel_image import CORES, KernelCase, run_cases
from edgehdc.fileio import atomic_write_json, atomic_write_text
from edgehdc.kernels.interpreter import run as run_int8
from edgehdc.quant.ir import OpKind
from edgehdc.quant.tflite_io import from_tflite
from provenance import git_commit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MODELS_DIR = ROOT.parent / "shared" / "models" / "mlperf_tiny"
MODELS = {  # name: (file, TFLM + CMSIS-NN instr/MAC on qemu_m4, issue 13)
    "ResNet-8": ("pretrainedResnet_quant.tflite", 2.39),
    "DS-CNN": ("kws_ref_model.tflite", 2.90),
    "MobileNet VWW": ("vww_96_int8.tflite", 3.22),
    "AD autoencoder": ("ad01_int8.tflite", 2.21),
}
KERNEL_OPS = (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.FULLY_CONNECTED, OpKind.ADD,
              OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D)
SEED = 2026


def model_cases(graph) -> tuple[list[KernelCase], list[dict]]:
    """A kernel case per kernel layer, on the mirror's activations, and its table row."""
    shape = graph.tensors[graph.inputs[0]].shape
    x = np.random.default_rng(SEED).integers(-128, 128, shape).astype(np.int8)
    tensors = run_int8(graph, x, keep_all=True)
    cases, rows = [], []
    for i, op in enumerate(graph.ops):
        if op.kind not in KERNEL_OPS:
            continue
        case = KernelCase.from_layer(graph, op, tensors, f"{i} {op.kind.value}")
        cases.append(case)
        rows.append({"layer": case.name, "kind": op.kind.value, "variant": variant(graph, op),
                     "input": list(case.x.shape), "output": list(graph.tensors[op.outputs[0]].shape),
                     "macs": macs(graph, op), "elements": int(np.prod(graph.tensors[op.outputs[0]].shape))})
    return cases, rows


def variant(graph, op) -> str:
    """A short description of the layer's geometry (what picks the dsp variant)."""
    if op.kind in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D):
        _, kh, kw, _ = graph.tensors[op.inputs[1]].shape
        return f"{kh}x{kw}/s{op.options.stride[0]}"
    return ""


# Constant bytes (inputs, expected outputs, weights) one image may hold: the M55's ITCM is 512 KB.
IMAGE_BYTES = {"cortex-m55": 400_000}


def chunks(cases: list[KernelCase], budget: int | None) -> list[list[KernelCase]]:
    """The cases split into images of at most `budget` constant bytes (one image if None)."""
    out, size = [[]], 0
    for case in cases:
        nbytes = sum(a.nbytes for a in (case.x, case.x2, case.expected, case.weights, case.bias) if a is not None)
        if budget is not None and out[-1] and size + nbytes > budget:
            out.append([])
            size = 0
        out[-1].append(case)
        size += nbytes
    return out


def measure(cases, rows, work: Path, core: str, backend: str) -> None:
    """Runs the cases in as few images as fit; every output must match the mirror."""
    key = backend if core == "cortex-m4" else f"{backend} {core}"
    results = [r for i, part in enumerate(chunks(cases, IMAGE_BYTES.get(core)))
               for r in run_cases(part, work / f"{core}-{backend}-{i}", core=core, backend=backend)]
    for row, result in zip(rows, results):
        if not result.ok:
            raise SystemExit(f"{key}: layer {result.name} status {result.status}, "
                             f"{result.mismatches} outputs differ from the mirror")
        row[key] = round(result.instructions)


def kernel_text_bytes(core: str = "cortex-m4") -> dict[str, int]:
    """.text of each dsp kernel source compiled as the firmware compiles it for `core`."""
    from edgehdc.device.kernel_image import FIRMWARE, firmware_cflags

    spec = CORES[core]
    obj = ROOT / "build" / "device_dsp_mlperf" / "size.o"
    obj.parent.mkdir(parents=True, exist_ok=True)
    flags = [f"-mcpu={spec.cpu}", "-mthumb", *spec.float_flags, *firmware_cflags(), "-ffunction-sections",
             "-DEHD_KERNEL_BACKEND=EHD_BACKEND_DSP", f"-I{FIRMWARE / 'include'}", "-c", "-o", str(obj)]
    sizes = {}
    for src in sorted((FIRMWARE / "src" / "kernels").rglob("*.c")):
        subprocess.run(["arm-none-eabi-gcc", *flags, str(src)], check=True)
        out = subprocess.run(["arm-none-eabi-size", "-A", str(obj)], capture_output=True, text=True, check=True)
        text = sum(int(line.split()[1]) for line in out.stdout.splitlines() if line.startswith(".text"))
        sizes[str(src.relative_to(FIRMWARE / "src" / "kernels"))] = text
    return sizes


def cmsis_key(core: str) -> str:
    return "cmsis_nn" if core == "cortex-m4" else f"cmsis_nn {core}"


def dsp_key(core: str) -> str:
    return "dsp" if core == "cortex-m4" else f"dsp {core}"


def cmsis_lines(result: dict) -> list[str]:
    """dsp against the real CMSIS-NN v7.0.0 (the cmsis_nn backend) in the same run, per model and core."""
    cores = result.get("cmsis_cores", [])
    if not cores:
        return []
    lines = ["", "## dsp vs the cmsis_nn backend (Arm CMSIS-NN v7.0.0 through our adapters), same run, kernel sums", "",
             "| model | " + " | ".join(f"dsp {c} instr/MAC | cmsis_nn {c} instr/MAC | dsp / cmsis_nn {c}"
                                     for c in cores) + " |",
             "|---|" + "---:|---:|---:|" * len(cores)]
    for name, m in result["models"].items():
        t = m["totals"]
        cells = [f"{t[dsp_key(c)]['instr_per_mac']:.3f} | {t[cmsis_key(c)]['instr_per_mac']:.3f} | "
                 f"**{t[dsp_key(c)]['instructions'] / t[cmsis_key(c)]['instructions']:.3f}**" for c in cores]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def totals(rows: list[dict], keys: list[str], model_macs: int) -> dict:
    out = {}
    for key in keys:
        instructions = sum(r[key] for r in rows)
        out[key] = {"instructions": instructions, "instr_per_mac": instructions / model_macs}
    return out


def markdown(result: dict) -> str:
    lines = [
        "# dsp kernels on the MLPerf Tiny models' layers (emulated cores)",
        "",
        f"Command: `{result['command']}`  ",
        f"Run {result['date']}, commit {result['git_commit']}; QEMU -icount shift=6, instruction counts exact. "
        "Each CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / ADD / pooling layer runs alone in a kernel image "
        "with the model's parameters on the Numba mirror's activations for one seeded random input; every "
        "output byte was checked against the mirror (0 mismatches on every core and backend).",
        "",
        "## Per model (sum over the kernel layers / the model's MACs)",
        "",
        "| model | MACs | portable M4 | dsp M4 | dsp M4 instr/MAC | TFLM + CMSIS-NN M4 instr/MAC (issue 13) "
        "| dsp / CMSIS-NN | dsp / portable | " + " | ".join(f"dsp {c} instr/MAC" for c in result["other_cores"]) + " |",
        "|---|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(result["other_cores"]),
    ]
    for name, m in result["models"].items():
        t = m["totals"]
        others = " | ".join(f"{t[f'dsp {c}']['instr_per_mac']:.2f}" for c in result["other_cores"])
        lines.append(
            f"| {name} | {m['macs']:,} | {t['portable']['instructions']:,} | {t['dsp']['instructions']:,} | "
            f"**{t['dsp']['instr_per_mac']:.2f}** | {m['cmsis_nn_instr_per_mac']:.2f} | "
            f"{t['dsp']['instr_per_mac'] / m['cmsis_nn_instr_per_mac']:.2f} | "
            f"{t['dsp']['instructions'] / t['portable']['instructions']:.3f} |" + (f" {others} |" if others else ""))
    lines += cmsis_lines(result)
    extra = [f"dsp {c}" for c in result["other_cores"]] + list(map(cmsis_key, result.get("cmsis_cores", [])))
    for name, m in result["models"].items():
        lines += ["", f"## {name}", "",
                  "| layer | geometry | input | output | MACs | portable M4 | dsp M4 | dsp instr/MAC (/elem) | "
                  "speedup | " + " | ".join(extra) + " |",
                  "|---|---|---|---|---:|---:|---:|---:|---:|" + "---:|" * len(extra)]
        for r in m["layers"]:
            per = (f"{r['dsp'] / r['macs']:.2f}" if r["macs"] else f"{r['dsp'] / r['elements']:.2f} /elem")
            others = " | ".join(f"{r[k]:,}" for k in extra)
            lines.append(f"| {r['layer']} | {r['variant']} | {'x'.join(map(str, r['input']))} | "
                         f"{'x'.join(map(str, r['output']))} | {r['macs']:,} | {r['portable']:,} | {r['dsp']:,} | "
                         f"{per} | {r['portable'] / r['dsp']:.2f}x |" + (f" {others} |" if others else ""))
    sizes = result["kernel_text_bytes"]
    dsp_files = {k: v for k, v in sizes.items() if "_dsp" in k or k == "ehd_dsp.c"}
    lines += ["", "## Code size (.text, Cortex-M4, -O2, firmware flags, backend dsp)", "",
              "| source | .text B |", "|---|---:|"]
    lines += [f"| {k} | {v:,} |" for k, v in dsp_files.items()]
    lines += [f"| all dsp kernel sources | {sum(dsp_files.values()):,} |",
              f"| all kernel sources (portable + dsp, every op) | {sum(sizes.values()):,} |", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", default="cortex-m7,cortex-m55",
                        help="cores besides the Cortex-M4 to run the dsp backend on (comma-separated, or '')")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated model names")
    parser.add_argument("--cmsis-cores", default="cortex-m4,cortex-m55",
                        help="cores to run the cmsis_nn backend on as well, the yardstick of the same run (or '')")
    args = parser.parse_args(argv)
    other_cores = [c for c in args.cores.split(",") if c]
    cmsis_cores = [c for c in args.cmsis_cores.split(",") if c]
    work = ROOT / "build" / "device_dsp_mlperf"
    result = {
        "command": " ".join(["python benchmarks/device_dsp_mlperf.py", *argv]),
        "date": datetime.date.today().isoformat(),
        "git_commit": git_commit(),
        "host": platform.machine(), "seed": SEED, "other_cores": other_cores, "cmsis_cores": cmsis_cores,
        "models": {},
    }
    for name in args.models.split(","):
        file, cmsis = MODELS[name]
        graph = from_tflite((MODELS_DIR / file).read_bytes())
        cases, rows = model_cases(graph)
        runs = [("cortex-m4", "portable"), ("cortex-m4", "dsp"), *((c, "dsp") for c in other_cores),
                *((c, "cmsis_nn") for c in cmsis_cores)]
        for core, backend in runs:
            print(f"{name}: {len(cases)} layers on {core} ({backend})", file=sys.stderr)
            measure(cases, rows, work / name.replace(" ", "_"), core, backend)
        model_macs = sum(macs(graph, op) for op in graph.ops)
        keys = ["portable", "dsp", *(f"dsp {c}" for c in other_cores), *map(cmsis_key, cmsis_cores)]
        result["models"][name] = {"file": file, "macs": model_macs, "cmsis_nn_instr_per_mac": cmsis,
                                  "layers": rows, "totals": totals(rows, keys, model_macs)}
    result["kernel_text_bytes"] = kernel_text_bytes()
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_json(RESULTS / "device_dsp_mlperf.json", result)
    atomic_write_text(RESULTS / "device_dsp_mlperf.md", markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
