"""Kernel test images: firmware kernels run on host-generated vectors in QEMU.

An image is the firmware's kernels (built with one backend, for one core) plus
a generated table of cases (`ehd_kernel_cases.c`: inputs, parameters and the
outputs the portable kernels give on the host) plus
`firmware/kernel_image/main.c`, which runs every case once through its op's
wrapper, compares the output and reports over semihosting. It reuses the
emulated boards' code (firmware/boards: cortex_m startup, the mps board layer,
each machine's device header and linker script); the board's FPGAIO counter
times each case (instructions = ticks under QEMU's fixed icount).

    results = run_cases([KernelCase.conv2d(x, w, b, p)], core="cortex-m4", backend="dsp")
    assert all(r.ok for r in results)
"""

from __future__ import annotations

import configparser
import dataclasses
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgehdc.cmsis_nn import cmsis_nn_include, cmsis_nn_sources
from edgehdc.device.emulator import BACKENDS, ICOUNT_SHIFT, EmulatorError, ticks_to_instructions
from edgehdc.export.layer_params import c_array as _array, c_dims as _dims, layer_params
from edgehdc.quant.arith import AddParams, ConvParams, FullyConnectedParams, PoolParams, lower
from edgehdc.quant.ir import Graph, Op, OpKind

ROOT = Path(__file__).resolve().parents[3]
FIRMWARE = ROOT / "firmware"
IMAGE_DIR = FIRMWARE / "kernel_image"
BOARDS = FIRMWARE / "boards"


@dataclass(frozen=True)
class Core:
    machine: str  # qemu-system-arm -machine
    cpu: str  # -mcpu and qemu's -cpu
    float_flags: tuple[str, ...]
    counter_hz: int  # the board's FPGAIO counter clock (its device header's MPS_COUNTER_HZ)
    board: str  # firmware/boards folder: device header <board>.h and linker.ld


CORES = {
    "cortex-m4": Core("mps2-an386", "cortex-m4", ("-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"), 25_000_000,
                      "mps2_an386"),
    "cortex-m7": Core("mps2-an500", "cortex-m7", ("-mfpu=fpv5-d16", "-mfloat-abi=hard"), 25_000_000,
                      "mps2_an500"),
    "cortex-m55": Core("mps3-an547", "cortex-m55", ("-mfloat-abi=hard",), 20_000_000, "mps3_an547"),
}

_OPS = {"conv2d": "EHD_OP_CONV_2D", "depthwise_conv2d": "EHD_OP_DEPTHWISE_CONV_2D",
        "avg_pool2d": "EHD_OP_AVERAGE_POOL_2D", "max_pool2d": "EHD_OP_MAX_POOL_2D",
        "fully_connected": "EHD_OP_FULLY_CONNECTED", "add": "EHD_OP_ADD"}
_LAYER_OPS = {OpKind.CONV_2D: "conv2d", OpKind.DEPTHWISE_CONV_2D: "depthwise_conv2d",
              OpKind.AVERAGE_POOL_2D: "avg_pool2d", OpKind.MAX_POOL_2D: "max_pool2d",
              OpKind.FULLY_CONNECTED: "fully_connected", OpKind.ADD: "add"}
_LINE = re.compile(r"case (\d+) status (-?\d+) mismatches (\d+) first (-?\d+) ticks (\d+)")


@dataclass
class KernelCase:
    """One kernel call: `op` on int8 NHWC `x` (and `x2`, ADD's second input); `expected` is what
    the portable kernels return.

    A model's layer (`from_layer`) keeps its graph op: its C parameters are then
    the firmware export's own.
    """

    op: str  # a key of _OPS
    x: np.ndarray
    params: ConvParams | PoolParams | FullyConnectedParams | AddParams
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None
    expected: np.ndarray | None = None
    name: str = ""
    layer: tuple[Graph, Op] | None = None
    x2: np.ndarray | None = None

    @classmethod
    def from_layer(cls, graph: Graph, op: Op, tensors: dict, name: str = ""):
        """Layer `op` of `graph` on its input in `tensors` (the interpreter's keep_all=True run)."""
        if op.kind not in _LAYER_OPS:
            raise ValueError(f"{op.kind.value} cannot run in a kernel image")
        weights, bias = graph.weights_and_bias(op) if op.kind in (
            OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.FULLY_CONNECTED) else (None, None)
        x2 = _nhwc(graph, tensors, op.inputs[1]) if op.kind == OpKind.ADD else None
        return cls(_LAYER_OPS[op.kind], _nhwc(graph, tensors, op.inputs[0]), lower(graph, op), weights, bias,
                   np.ascontiguousarray(tensors[op.outputs[0]]).reshape(-1), name or op.kind.value,
                   (graph, op), x2)

    @classmethod
    def conv2d(cls, x, weights, bias, p, name=""):
        return cls("conv2d", x, p, weights, bias, name=name)

    @classmethod
    def depthwise_conv2d(cls, x, weights, bias, p, name=""):
        return cls("depthwise_conv2d", x, p, weights, bias, name=name)

    @classmethod
    def pool2d(cls, kind: str, x, p, name=""):
        return cls(f"{kind}_pool2d", x, p, name=name)

    @classmethod
    def fully_connected(cls, x, weights, bias, p, name=""):
        """x int8 [N, IN], weights [OUT, IN]."""
        return cls("fully_connected", x.reshape(x.shape[0], 1, 1, -1), p, weights, bias, name=name)

    @classmethod
    def add(cls, x, x2, p, name=""):
        """x, x2 int8 NHWC of the same shape."""
        return cls("add", x, p, name=name, x2=x2)

    def reference(self) -> np.ndarray:
        """The portable kernels' output through the host bindings."""
        import edgehdc_bindings as fw

        if self.op in ("conv2d", "depthwise_conv2d"):
            return getattr(fw, f"{self.op}_s8")(self.x, self.weights, self.bias, self.params)
        if self.op == "fully_connected":
            return fw.fully_connected_s8(self.x.reshape(self.x.shape[0], -1), self.weights, self.bias, self.params)
        if self.op == "add":
            return fw.add_s8(self.x, self.x2, self.params)
        return getattr(fw, f"{self.op}_s8")(self.x, self.params)


@dataclass(frozen=True)
class CaseResult:
    name: str
    status: int  # ehd_status of the call
    mismatches: int  # output bytes that differ from the expected ones
    first_mismatch: int  # flat index of the first, -1 if none
    instructions: float  # of the case's wrapper call, from the board counter

    @property
    def ok(self) -> bool:
        return self.status == 0 and self.mismatches == 0


def cmsis_core_dir() -> Path:
    """CMSIS-Core headers, found as the firmware build finds them (EDGEHDC_CMSIS_CORE)."""
    path = Path(os.environ.get("EDGEHDC_CMSIS_CORE")
                or ROOT.parent / "shared" / "third_party" / "CMSIS_6" / "CMSIS" / "Core" / "Include")
    if not (path / "core_cm4.h").is_file():
        raise EmulatorError(f"CMSIS-Core headers not found in {path}: set EDGEHDC_CMSIS_CORE")
    return path


def firmware_cflags() -> list[str]:
    """The firmware sources' compiler flags, read from platformio.ini ([edgehdc] src_flags)."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(ROOT / "platformio.ini")
    return ini["edgehdc"]["src_flags"].split()


def case_source(cases: list[KernelCase]) -> str:
    """ehd_kernel_cases.c for `cases` (each with its `expected` output)."""
    parts = ['/* Generated by edgehdc.device.kernel_image: do not edit. */\n#include "ehd_kernel_image.h"\n']
    rows = []
    for i, case in enumerate(cases):
        if case.op not in _OPS:
            raise ValueError(f"case {i}: unknown op {case.op!r} ({', '.join(_OPS)})")
        if case.expected is None:
            raise ValueError(f"case {i} ({case.name}) has no expected output")
        name = f"case{i}"
        x, y = np.ascontiguousarray(case.x, np.int8), np.ascontiguousarray(case.expected, np.int8)
        parts += [_array("int8_t", f"{name}_input", x), _array("int8_t", f"{name}_expected", y),
                  f"static int8_t {name}_output[{y.size}];\n", _params(case, name)]
        offsets = ((case.params.input_offset, case.params.output_offset)
                   if isinstance(case.params, (ConvParams, FullyConnectedParams)) else (0, 0))
        out_shape = (case.layer[0].tensors[case.layer[1].outputs[0]].shape if case.layer is not None
                     else y.shape)
        input2 = ("NULL", "{0, 0, 0, 0}")
        if case.x2 is not None:
            x2 = np.ascontiguousarray(case.x2, np.int8)
            parts.append(_array("int8_t", f"{name}_input2", x2))
            input2 = (f"{name}_input2", _dims(x2.shape))
        rows.append(f"    {{{_OPS[case.op]}, &{name}_params, {{{offsets[0]}, {offsets[1]}}}, {_dims(x.shape)}, "
                    f"{name}_input, {_dims(out_shape)}, {name}_output, {name}_expected, {input2[1]}, "
                    f"{input2[0]}}},")
    parts.append("const ehd_kernel_case ehd_kernel_cases[] = {\n" + "\n".join(rows) + "\n};\n")
    parts.append(f"const uint32_t ehd_kernel_case_count = {len(cases)}u;\n")
    return "\n".join(parts)


def _params(case: KernelCase, name: str) -> str:
    if case.layer is not None:
        return layer_params(*case.layer, name)
    p = case.params
    if isinstance(p, AddParams):
        values = ", ".join(f".{f.name} = {int(getattr(p, f.name))}" for f in dataclasses.fields(p))
        return f"static const ehd_add_params {name}_params = {{{values}}};\n"
    if isinstance(p, FullyConnectedParams):
        mult, shift = np.reshape(p.multiplier, -1), np.reshape(p.shift, -1)
        return _weight_arrays(case, name, mult, shift) + (
            f"static const ehd_fc_params {name}_params = {{.weights = {name}_weights, .bias = {_bias(case, name)}, "
            f".multiplier = {name}_multiplier, .shift = {name}_shift, .per_channel = {int(mult.size > 1)}, "
            f".filter = {_dims((case.weights.shape[0], 1, 1, case.weights.shape[1]))}, "
            f".act_min = {p.act_min}, .act_max = {p.act_max}}};\n")
    if isinstance(p, PoolParams):
        return (f"static const ehd_pool_params {name}_params = {{.filter_h = {p.filter_h}, .filter_w = {p.filter_w}, "
                f".stride_h = {p.stride_h}, .stride_w = {p.stride_w}, .pad_h = {p.pad_h}, .pad_w = {p.pad_w}, "
                f".act_min = {p.act_min}, .act_max = {p.act_max}}};\n")
    out_c = case.weights.shape[3] if case.op == "depthwise_conv2d" else case.weights.shape[0]
    mult = np.broadcast_to(np.asarray(p.multiplier, np.int64), (out_c,))
    shift = np.broadcast_to(np.asarray(p.shift, np.int64), (out_c,))
    return _weight_arrays(case, name, mult, shift) + (
        f"static const ehd_conv_params {name}_params = {{.weights = {name}_weights, .bias = {_bias(case, name)}, "
        f".multiplier = {name}_multiplier, .shift = {name}_shift, .filter = {_dims(case.weights.shape)}, "
        f".stride_h = {p.stride_h}, .stride_w = {p.stride_w}, .pad_h = {p.pad_h}, .pad_w = {p.pad_w}, "
        f".dilation_h = {p.dilation_h}, .dilation_w = {p.dilation_w}, "
        f".depth_multiplier = {p.depth_multiplier}, .act_min = {p.act_min}, .act_max = {p.act_max}}};\n")


def _bias(case: KernelCase, name: str) -> str:
    return "NULL" if case.bias is None else f"{name}_bias"


def _weight_arrays(case: KernelCase, name: str, multiplier, shift) -> str:
    """The constant arrays a conv or FULLY_CONNECTED params struct points to."""
    return "".join([
        _array("int8_t", f"{name}_weights", case.weights),
        "" if case.bias is None else _array("int32_t", f"{name}_bias", case.bias),
        _array("int32_t", f"{name}_multiplier", multiplier), _array("int32_t", f"{name}_shift", shift),
    ])


def _nhwc(graph: Graph, tensors: dict, index: int) -> np.ndarray:
    """Tensor `index` of the interpreter's run (keep_all=True) as int8 NHWC."""
    x, shape = tensors[index], graph.tensors[index].shape
    return x.reshape((1,) * (4 - len(shape)) + tuple(shape)) if x.ndim != 4 else x


def build_image(cases: list[KernelCase], out_dir: str | os.PathLike, *, core: str = "cortex-m4",
                backend: str = "dsp", scratch_bytes: int | None = None, main: Path = IMAGE_DIR / "main.c") -> Path:
    """Writes the case table into out_dir and links image.elf there; returns its path.

    `scratch_bytes` sizes the kernels' static scratch (EHD_KERNEL_SCRATCH_BYTES); `main` is the
    image's program (default: run and compare every case)."""
    if core not in CORES:
        raise ValueError(f"unknown core {core!r}: choose one of {', '.join(CORES)}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown kernel backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        raise EmulatorError("arm-none-eabi-gcc not found: run scripts/setup.sh")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for case in cases:
        if case.expected is None:
            case.expected = case.reference()
    (out / "ehd_kernel_cases.c").write_text(case_source(cases))
    spec = CORES[core]
    cpu = [f"-mcpu={spec.cpu}", "-mthumb", *spec.float_flags]
    defines = [f"-DEHD_KERNEL_BACKEND=EHD_BACKEND_{backend.upper()}", f'-DCMSIS_device_header="{spec.board}.h"']
    board_code = [BOARDS / "cortex_m" / "startup.c",
                  *(BOARDS / "mps" / f for f in ("mps_board.c", "cmsdk_uart.c", "semihosting_exit.c"))]
    sources = [*sorted((FIRMWARE / "src" / "kernels").rglob("*.c")), main,
               out / "ehd_kernel_cases.c", *board_code]
    includes = [FIRMWARE / "include", IMAGE_DIR, BOARDS / "cortex_m", BOARDS / "mps", BOARDS / spec.board,
                cmsis_core_dir()]
    if backend == "cmsis_nn":  # Arm's library beside our adapters, found as the firmware build finds it
        sources += cmsis_nn_sources()
        includes.append(cmsis_nn_include())
    if scratch_bytes is not None:
        defines.append(f"-DEHD_KERNEL_SCRATCH_BYTES={int(scratch_bytes)}")
    elf = out / "image.elf"
    command = [gcc, *cpu, *firmware_cflags(), "-ffunction-sections", "-fdata-sections", *defines,
               *(f"-I{d}" for d in includes), *map(str, sources),
               "-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections", f"-L{BOARDS / 'cortex_m'}", f"-T{BOARDS / spec.board / 'linker.ld'}",
               "-o", str(elf), "-lc_nano", "-lm", "-lgcc"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise EmulatorError(f"building the kernel image failed:\n{done.stdout[-4000:]}{done.stderr[-4000:]}")
    return elf


def run_image(elf: str | os.PathLike, names: list[str], *, core: str = "cortex-m4",
              icount_shift: int = ICOUNT_SHIFT, timeout: float = 300.0) -> list[CaseResult]:
    """Runs a built image in QEMU; one result per case, in order."""
    spec = CORES[core]
    command = ["qemu-system-arm", "-machine", spec.machine, "-cpu", spec.cpu, "-display", "none",
               "-monitor", "none", "-semihosting-config", "enable=on,target=native",
               "-icount", f"shift={icount_shift}", "-kernel", str(elf)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise EmulatorError(f"the kernel image did not finish in {timeout} s (a fault parks the core)") from exc
    console = done.stdout + done.stderr  # QEMU 7.2 writes semihosting output to stderr
    lines = [m for m in map(_LINE.fullmatch, console.splitlines()) if m]
    if len(lines) != len(names) or "done" not in console.splitlines():
        raise EmulatorError(f"the kernel image reported {len(lines)} of {len(names)} cases "
                            f"(exit {done.returncode}):\n{console[-4000:]}")
    return [CaseResult(name, int(m[2]), int(m[3]), int(m[4]),
                       ticks_to_instructions(int(m[5]), spec.counter_hz, icount_shift))
            for name, m in zip(names, lines)]


def run_cases(cases: list[KernelCase], out_dir: str | os.PathLike, *, core: str = "cortex-m4",
              backend: str = "dsp", icount_shift: int = ICOUNT_SHIFT,
              scratch_bytes: int | None = None) -> list[CaseResult]:
    """Builds the image for `cases` in out_dir and runs it; one result per case."""
    elf = build_image(cases, out_dir, core=core, backend=backend, scratch_bytes=scratch_bytes)
    return run_image(elf, [c.name or f"case{i}" for i, c in enumerate(cases)], core=core,
                     icount_shift=icount_shift)
