"""Firmware memory footprint from the ELF."""

from __future__ import annotations

import re
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


# An input section in a GNU ld map: name, then (on the same or the next line) address, size, object.
_MAP_SECTION = re.compile(r"^ (\.(?:text|rodata)\S*)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)$", re.M)


def code_size_by_folder(map_file: str | Path, folders: dict[str, str]) -> dict[str, int]:
    """Bytes of code and constants (.text*, .rodata*) the linker kept, per named folder.

    `folders` maps a label to a path fragment of the object files, e.g.
    {"kernels": "/src/kernels/"}; reads the map of `-Wl,-Map,FILE` (what
    --gc-sections dropped is listed before the memory map and not counted).
    """
    text = Path(map_file).read_text()
    start = text.find("Linker script and memory map")
    if start < 0:
        raise ValueError(f"{map_file} is not a GNU ld map file")
    sizes = dict.fromkeys(folders, 0)
    for m in _MAP_SECTION.finditer(text[start:]):
        for label, fragment in folders.items():
            if fragment in m[3]:
                sizes[label] += int(m[2], 16)
    return sizes
