"""Per-layer profile of one inference on the device (PROFILE, docs/protocol.md).

    with EmulatedBoard("qemu_m4", model_dir=out) as board:
        prof = print_profile(board.link, x)          # reads and prints the per-layer table
        prof.as_dict(board.icount_shift)             # what report.json keeps

The device runs one inference exactly as INFER does and reads its counter
after every layer: layer i took `stamps[i] - stamps[i-1]` ticks, layer 0
counts from the reading taken just before the invoke. The layers therefore sum
to the model stage minus a fixed tail (`tail_ticks`: leaving the invoke and
reading the counter once more), and the HDC stage (encode + Hamming search) is
reported apart, as INFER reports it.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .protocol import MsgType, ProtocolError

MODEL_HEADER = Path(__file__).resolve().parents[3] / "firmware" / "include" / "ehd" / "ehd_model.h"
_HEAD = struct.Struct("<IIH")  # ticks_model, ticks_hdc, n_layers
_LAYER = struct.Struct("<BI")  # op, ticks


@lru_cache(maxsize=None)
def op_names() -> dict[int, str]:
    """EHD_OP_* codes of the firmware's layer table, read from ehd_model.h (not copied)."""
    return {int(v): name for name, v in re.findall(r"EHD_OP_(\w+) = (\d+)", MODEL_HEADER.read_text())}


@dataclass(frozen=True)
class Profile:
    """Ticks of one inference: every layer, the model stage, the HDC stage."""

    ops: tuple[int, ...]  # EHD_OP_* of each layer, in execution order
    layer_ticks: np.ndarray  # uint32 [n_layers]
    ticks_model: int
    ticks_hdc: int
    counter_hz: int

    @classmethod
    def from_body(cls, body: bytes, counter_hz: int) -> "Profile":
        if len(body) < _HEAD.size:
            raise ProtocolError(f"PROFILE reply of {len(body)} bytes, expected >= {_HEAD.size}")
        ticks_model, ticks_hdc, n = _HEAD.unpack_from(body)
        if len(body) != _HEAD.size + n * _LAYER.size:
            raise ProtocolError(f"PROFILE reply of {len(body)} bytes for {n} layers, "
                                f"expected {_HEAD.size + n * _LAYER.size}")
        layers = [_LAYER.unpack_from(body, _HEAD.size + i * _LAYER.size) for i in range(n)]
        return cls(tuple(op for op, _ in layers), np.array([t for _, t in layers], np.uint32),
                   ticks_model, ticks_hdc, counter_hz)

    @property
    def tail_ticks(self) -> int:
        """Model stage minus the layers: the return from the invoke and one counter read."""
        return self.ticks_model - int(self.layer_ticks.sum(dtype=np.int64))

    def op_name(self, i: int) -> str:
        return op_names().get(self.ops[i], f"op {self.ops[i]}")

    def as_dict(self, icount_shift: int | None = None) -> dict:
        """For report.json: ticks, and instructions too when the counter ran under QEMU icount."""
        rows = [{"layer": i, "op": self.op_name(i), "ticks": int(t)} for i, t in enumerate(self.layer_ticks)]
        out = {"counter_hz": self.counter_hz, "ticks_model": self.ticks_model, "ticks_hdc": self.ticks_hdc,
               "tail_ticks": self.tail_ticks, "layers": rows}
        if icount_shift is not None:
            for row in rows:
                row["instructions"] = self.instructions(row["ticks"], icount_shift)
            out.update(icount_shift=icount_shift,
                       instructions_model=self.instructions(self.ticks_model, icount_shift),
                       instructions_hdc=self.instructions(self.ticks_hdc, icount_shift))
        return out

    def instructions(self, ticks: int, icount_shift: int) -> int:
        from .emulator import ticks_to_instructions

        return round(ticks_to_instructions(ticks, self.counter_hz, icount_shift))


def read_profile(link, x: np.ndarray) -> Profile:
    """PROFILE on one input (int8 or float32 as the model's) over a DeviceLink. An input larger
    than a frame is written first (INPUT_WRITE) and PROFILE runs on it with an empty body."""
    from .protocol import MAX_BODY

    data = link.input_bytes(x)
    if len(data) > MAX_BODY:
        link.write_input(data)
        data = b""
    reply = link.request(MsgType.PROFILE, data)
    return Profile.from_body(reply.body, (link._info or link.info()).counter_hz)


def profile_table(profile: dict, title: str = "per-layer profile (one inference on the device)"):
    """A rich Table of `Profile.as_dict()` (what report.json keeps): one row per layer, the invoke's
    tail, the HDC stage and the whole inference, in instructions when known, else ticks."""
    from rich.table import Table

    unit = "instructions" if "icount_shift" in profile else "ticks"
    rows = [(str(r["layer"]), r["op"], r[unit]) for r in profile["layers"]]
    model, hdc = (profile["instructions_model"], profile["instructions_hdc"]) if unit == "instructions" else (
        profile["ticks_model"], profile["ticks_hdc"])
    rows.append(("", "(invoke return)", model - sum(r[2] for r in rows)))
    if hdc:  # a plain int8 model has no HDC stage
        rows.append(("", "HDC encode + search", hdc))
    rows.append(("", "inference", model + hdc))
    table = Table(title=title)
    for col, justify in (("#", "right"), ("op", "left"), (unit, "right"), ("share", "right")):
        table.add_column(col, justify=justify)
    for label, op, count in rows:
        table.add_row(label, op, f"{count:,}", f"{100 * count / max(model + hdc, 1):.1f}%")
    return table


def print_profile(link, x: np.ndarray, icount_shift: int | None = None, console=None) -> Profile:
    """PROFILE on one input over a DeviceLink, printed as the per-layer table; returns the profile.

    The `--profile` hook of `edgehdc verify device`. Counts are instructions on an
    emulated board (under `icount_shift`, default the emulator's), ticks of the
    board's counter (DWT cycles on a Nucleo) otherwise.
    """
    from rich.console import Console

    from .emulator import ICOUNT_SHIFT, board_spec, emulated_envs

    prof = read_profile(link, x)
    if icount_shift is None and link.info().board in {board_spec(env).machine for env in emulated_envs()}:
        icount_shift = ICOUNT_SHIFT
    (console or Console()).print(profile_table(prof.as_dict(icount_shift)))
    return prof
