"""`edgehdc verify device MODEL.tflite --board qemu-m4 --samples N`: the firmware on an emulated
Cortex-M against the Numba mirror, every output tensor, bit for bit.

Generates the firmware for the model (a plain int8 runtime: no HDC head), builds it with
PlatformIO offline, boots it in QEMU, sends N seeded inputs and compares each output tensor
with `edgehdc.kernels.interpreter` exactly (float32 outputs by their bits). The last line is

    mismatches=<int> compared=<int> instructions=<int> flash=<bytes> ram=<bytes> arena=<bytes>

with `instructions` the mean per inference (the board's counter under QEMU's fixed icount).
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from edgehdc.quant.ir import Graph, OpKind

ROOT = Path(__file__).resolve().parents[2]
BOARDS = {"qemu-m4": "qemu_m4", "qemu-m7": "qemu_m7", "qemu-m55": "qemu_m55"}
EXIT_MATCH, EXIT_MISMATCH, EXIT_REFUSED, EXIT_DEVICE_FAILED = 0, 1, 2, 3


@dataclass
class DeviceVerification:
    mismatches: int
    compared: int
    instructions: int  # mean per inference
    flash: int
    ram: int
    arena: int
    samples: int
    first: str | None = None  # where the first mismatch is
    profile: dict | None = None  # per-layer profile of the first input (edgehdc.device.profile), when asked

    def summary(self) -> str:
        return (f"mismatches={self.mismatches} compared={self.compared} instructions={self.instructions} "
                f"flash={self.flash} ram={self.ram} arena={self.arena}")


def seeded_inputs(graph: Graph, n: int, seed: int = 0) -> np.ndarray:
    """`n` inputs of the graph's input shape: uniform int8, or for a float32 input uniform floats
    over the range its QUANTIZE can represent (a little beyond, so clamping is exercised)."""
    rng = np.random.default_rng(seed)
    t = graph.tensors[graph.inputs[0]]
    shape = (n, *t.shape[1:]) if len(t.shape) > 1 else (n,)
    if t.dtype == "int8":
        return rng.integers(-128, 128, shape).astype(np.int8)
    q = next((graph.tensors[op.outputs[0]].quant for op in graph.ops
              if op.kind is OpKind.QUANTIZE and op.inputs[0] == graph.inputs[0]), None)
    lo, hi = (-1.0, 1.0) if q is None else ((-130 - q.zero_point[0]) * q.scale[0], (129 - q.zero_point[0]) * q.scale[0])
    return rng.uniform(lo, hi, shape).astype(np.float32)


def verify_device(model: Path, board: str = "qemu-m4", backend: str = "portable", samples: int = 10,
                  seed: int = 0, build_root: Path | None = None, log: Callable[[str], None] = print,
                  progress: Callable[[Iterable, str], Iterable] = lambda it, description="": it,
                  profile: Callable | None = None) -> DeviceVerification:
    """Runs the whole check; raises ValueError (bad model or arguments) or EmulatorError/DeviceTimeout."""
    from edgehdc.device import EmulatedBoard, firmware_size, ticks_to_instructions
    from edgehdc.export.arena import plan_arena
    from edgehdc.export.firmware import write_firmware_sources
    from edgehdc.export.scratch import board_core
    from edgehdc.kernels.interpreter import Interpreter
    from edgehdc.quant.tflite_io import from_tflite

    if board not in BOARDS:
        raise ValueError(f"unknown board {board!r}: choose one of {', '.join(BOARDS)}")
    if samples < 1:
        raise ValueError(f"--samples must be at least 1, got {samples}")
    data = Path(model).read_bytes()
    graph = from_tflite(data)
    model_id = hashlib.sha256(data).digest()[:8]
    env = BOARDS[board]
    model_dir = (build_root or ROOT / "build" / "verify_device") / f"{Path(model).stem}-{env}-{backend}"
    # Refuses what cannot run; plans each layer's scratch for this backend on this board's core.
    write_firmware_sources(graph, None, None, model_dir, model_id, backend=backend, board=env)
    arena = plan_arena(graph, backend, board_core(env)).size
    emulated = EmulatedBoard(env, model_dir=model_dir, backend=backend, link_timeout=60.0)
    log(f"building the firmware for {env} ({backend}) ...")
    flash, ram = firmware_size(emulated.build())
    mirror, xs = Interpreter(graph), seeded_inputs(graph, samples, seed)
    mismatches = compared = 0
    first, ticks = None, []
    with emulated.start() as link:
        info = link.expect_model(model_id)
        for n, x in enumerate(progress(xs, description=f"{Path(model).name} on {env}")):
            x = x.reshape(graph.tensors[graph.inputs[0]].shape)
            t, outputs, _ = link.run(x)
            ticks.append(t)
            for k, bad, size in compare_outputs(outputs, mirror.run(x)):
                mismatches += int(bad.size)
                compared += size
                if bad.size and first is None:
                    first = f"sample {n} output {k} element {int(bad[0])}"
        if profile is not None:  # a hook returning a Profile (print_profile, read_profile) is kept
            prof = profile(link, xs[0].reshape(graph.tensors[graph.inputs[0]].shape))
            prof = prof.as_dict(emulated.icount_shift) if hasattr(prof, "as_dict") else None
    instructions = round(ticks_to_instructions(float(np.mean(ticks)), info.counter_hz, emulated.icount_shift))
    return DeviceVerification(mismatches, compared, instructions, flash, ram, arena, samples, first,
                              prof if profile is not None else None)


def compare_outputs(got: list[np.ndarray], expected: list[np.ndarray]) -> list[tuple[int, np.ndarray, int]]:
    """(output index, indices of its mismatching elements, elements compared) for every output the
    mirror has; an output the device lacks (or one of another size) mismatches in every element."""
    if len(got) > len(expected):
        raise ValueError(f"the device returned {len(got)} outputs, the model has {len(expected)}")
    result = []
    for k, e in enumerate(map(_bits, expected)):
        a = _bits(got[k]) if k < len(got) else np.empty(0, e.dtype)
        bad = np.flatnonzero(a != e) if a.size == e.size else np.arange(max(a.size, e.size))
        result.append((k, bad, int(e.size)))
    return result


def _bits(a: np.ndarray) -> np.ndarray:
    """An array's elements as unsigned integers of the same width: float32 compared by its bits."""
    a = np.ascontiguousarray(a).reshape(-1)
    return a.view(np.uint32) if a.dtype == np.float32 else a.view(np.uint8)


def register(targets) -> argparse.ArgumentParser:
    """Add `device MODEL --board B [--backend portable] --samples N [--seed S] [--profile]` to the
    `verify` targets."""
    from edgehdc.device.emulator import BACKENDS

    p = targets.add_parser("device", help="every output tensor on an emulated Cortex-M vs the Numba mirror")
    p.add_argument("model", type=Path, help=".tflite model")
    p.add_argument("--board", choices=sorted(BOARDS), default="qemu-m4", help="emulated board (default qemu-m4)")
    p.add_argument("--backend", choices=BACKENDS, default="portable", help="firmware kernel backend (default portable)")
    p.add_argument("--samples", type=int, default=10, help="seeded random inputs (default 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the inputs (default 0)")
    p.add_argument("--profile", action="store_true", help="print the per-layer instruction table of one inference")
    p.set_defaults(handler=run_cli)
    return p


def profile_hook():
    """The per-layer profile printer (the PROFILE message, edgehdc.device.profile), or None while
    the firmware has no PROFILE message."""
    try:
        from edgehdc.device import profile
    except ImportError:
        return None
    return getattr(profile, "print_profile", None)


def run_cli(args) -> int:
    from rich.console import Console
    from rich.progress import track

    from edgehdc.device import EmulatorError
    from edgehdc.device.link import DeviceTimeout
    from edgehdc.device.protocol import DeviceError, ProtocolError

    console = Console(stderr=True)
    hook = profile_hook() if args.profile else None
    if args.profile and hook is None:
        print("note: --profile needs the PROFILE message, which this firmware does not have yet")
    try:
        result = verify_device(args.model, args.board, args.backend, args.samples, args.seed,
                               log=lambda line: console.print(f"[bold cyan]>[/] {line}"),
                               progress=lambda it, description="": track(it, description=description, console=console),
                               profile=hook)
    except (EmulatorError, DeviceTimeout, DeviceError, ProtocolError) as e:  # before OSError: a timeout is one
        print(f"error: the device failed: {e}")
        return EXIT_DEVICE_FAILED
    except (OSError, ValueError) as e:
        print(f"error: {e}")
        return EXIT_REFUSED
    print(f"model: {args.model}")
    print(f"board: {BOARDS[args.board]} backend: {args.backend} inputs: {result.samples} (seed {args.seed})")
    if result.first is not None:
        print(f"first mismatch: {result.first}")
    print(result.summary())
    return EXIT_MATCH if result.mismatches == 0 else EXIT_MISMATCH
