"""Firmware memory footprint from the ELF."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def firmware_size(elf: str | Path, size_tool: str = "arm-none-eabi-size") -> tuple[int, int]:
    """(flash_bytes, ram_bytes) of an ELF: flash = text + data, ram = data + bss (stack included).

    Uses `arm-none-eabi-size` in Berkeley format, as PlatformIO does.
    """
    elf = Path(elf)
    if not elf.is_file():
        raise FileNotFoundError(f"no firmware ELF at {elf}: build it first")
    tool = shutil.which(size_tool)
    if tool is None:
        raise FileNotFoundError(f"{size_tool} not found: run scripts/setup.sh")
    out = subprocess.run([tool, "-B", "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    lines = out.strip().splitlines()
    if len(lines) < 2:
        raise ValueError(f"unexpected {size_tool} output for {elf}: {out!r}")
    text, data, bss = (int(v) for v in lines[1].split()[:3])
    return text + data, data + bss
