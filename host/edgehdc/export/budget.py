"""Does a model fit its board? Flash and RAM needed vs available, refused with the numbers.

The board's memories are the FLASH and RAM regions of the linker script its
platformio.ini environment links with (the dev-platform's board manifest for
the emulated boards, `board_build.ldscript` for the Nucleos): the numbers the
linker itself enforces, read rather than copied.

Two checks:
- before the build (`check_sources`, at export): the generated tables
  (constants in flash) and the arena plus the HDC RAM. The firmware's code
  and buffers come on top, so this is a lower bound: what it refuses can never fit.
- after linking (`check_link_output`): GNU ld's "region `X' overflowed by N
  bytes" gives the exact need, LENGTH + N, for a model the estimate let through.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from edgehdc.export.csource import constants, ram_arrays

ROOT = Path(__file__).resolve().parents[3]
POINTER_BYTES = 4  # every supported core is 32-bit
_MEMORY = re.compile(r"(\w+)\s*\([^)]*\)\s*:\s*ORIGIN\s*=\s*\w+\s*,\s*LENGTH\s*=\s*(0[xX][0-9a-fA-F]+|\d+)\s*([KM]?)")
_ARENA = re.compile(r"#define EHD_GENERATED_ARENA_SIZE (\d+)u")
_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")
_SCALE = {"": 1, "K": 1024, "M": 1024 * 1024}


class ModelTooBigError(ValueError):
    """The model (tables, arena or code) does not fit the board's flash or RAM."""


@dataclass(frozen=True)
class BoardMemory:
    env: str
    linker_script: Path
    flash: int
    ram: int


@dataclass(frozen=True)
class Footprint:
    """What a model needs: `flash` and `ram` bytes, and what they are made of (for the message)."""

    flash: int
    ram: int
    flash_what: str
    ram_what: str


def linker_script(env: str) -> Path:
    """The linker script of a platformio.ini environment."""
    from platformio.project.config import ProjectConfig

    config = ProjectConfig(str(ROOT / "platformio.ini"))
    if env not in config.envs():
        raise ValueError(f"unknown board {env!r}: platformio.ini has {', '.join(config.envs())}")
    script = config.get(f"env:{env}", "board_build.ldscript", None)
    if script:
        return ROOT / script
    board = config.get(f"env:{env}", "board")
    manifest = json.loads((ROOT / "firmware" / "pio-platform" / "boards" / f"{board}.json").read_text())
    return ROOT / "firmware" / "boards" / manifest["build"]["board_dir"] / manifest["build"]["ldscript"]


def board_memory(env: str) -> BoardMemory:
    """FLASH and RAM lengths of the board behind `env`, from its linker script's MEMORY block."""
    script = linker_script(env)
    regions = memory_regions(script.read_text())
    if not {"FLASH", "RAM"} <= regions.keys():
        raise ValueError(f"{script} has no FLASH and RAM regions (found {', '.join(regions) or 'none'})")
    return BoardMemory(env, script, regions["FLASH"], regions["RAM"])


def memory_regions(script: str) -> dict[str, int]:
    """{region: LENGTH in bytes} of a linker script's MEMORY block (decimal or 0x hex, K/M suffix)."""
    return {name: (int(n, 16) if n[:2] in ("0x", "0X") else int(n)) * _SCALE[unit]
            for name, n, unit in _MEMORY.findall(script)}


def footprint(header: str, source: str) -> Footprint:
    """The lower bound of a generated model (ehd_generated.h, ehd_generated.c text)."""
    arena = _ARENA.search(header)
    if arena is None:
        raise ValueError("not a generated model header: no EHD_GENERATED_ARENA_SIZE")
    found = constants(source)
    tables = sum(len(c.data) + POINTER_BYTES * c.pointers for c in found)
    hdc_ram = sum(ram_arrays(source).values())
    return Footprint(tables, int(arena[1]) + hdc_ram, f"tables {tables:,}",
                     f"arena {int(arena[1]):,} + HDC {hdc_ram:,}")


def check_sources(header: str, source: str, env: str) -> Footprint:
    """ModelTooBigError naming needed and available bytes per region if the model cannot fit `env`."""
    need = footprint(header, source)
    mem = board_memory(env)
    rows = [("flash", need.flash, mem.flash, need.flash_what), ("RAM", need.ram, mem.ram, need.ram_what)]
    if any(needed > available for _, needed, available, _ in rows):
        lines = [f"  {name}: needs at least {needed:,} bytes ({what}), {available:,} available"
                 f"{'  <- too big' if needed > available else ''}" for name, needed, available, what in rows]
        raise ModelTooBigError(f"the model does not fit {env} ({mem.linker_script.relative_to(ROOT)}):\n"
                               + "\n".join(lines))
    return need


def check_model_dir(model_dir: str | Path, env: str) -> Footprint:
    """`check_sources` on an exported model folder (ehd_generated.h/.c)."""
    model_dir = Path(model_dir)
    return check_sources((model_dir / "ehd_generated.h").read_text(), (model_dir / "ehd_generated.c").read_text(),
                         env)


def check_link_output(output: str, env: str) -> None:
    """ModelTooBigError with the exact numbers if the linker reports a region overflow in `output`."""
    overflows = dict.fromkeys(_OVERFLOW.findall(output))
    if not overflows:
        return
    mem = board_memory(env)
    length = {"FLASH": mem.flash, "RAM": mem.ram}
    lines = [f"  {region.lower() if region == 'FLASH' else region}: needs {length[region] + int(n):,} bytes, "
             f"{length[region]:,} available  <- too big" for region, n in overflows if region in length]
    raise ModelTooBigError(f"the firmware does not fit {env} (linker, "
                           f"{mem.linker_script.relative_to(ROOT)}):\n" + "\n".join(lines))
