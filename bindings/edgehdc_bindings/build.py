"""Compile the firmware C library for the host and load it with ctypes.

Every `firmware/src/**/*.c` is compiled (board files under `firmware/boards`
are not), plus the caller's extra sources, into
`build/bindings/<hash>/libedgehdc_fw.so`. The hash covers the compiler, the
flags, every source and every header that can be included, so an edit
rebuilds and an unchanged tree loads the cached library.

`backend` picks the kernel backend the wrappers dispatch to
(EHD_KERNEL_BACKEND). The portable and dsp kernels are compiled either way; on
the host the dsp kernels use the plain-C forms of their intrinsics. `cmsis_nn`
adds Arm's CMSIS-NN (edgehdc.cmsis_nn: its generic C paths on the host) and
the adapters in firmware/src/kernels/cmsis_nn.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable

from edgehdc.cmsis_nn import cmsis_nn_include, cmsis_nn_sources
from edgehdc.device.emulator import BACKENDS

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
BINDINGS = ROOT / "bindings"
HOST_MODEL_SOURCE = BINDINGS / "ehd_host_model.c"
GENERATED_HEADER = "ehd_generated.h"
CFLAGS = ("-std=c99", "-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror")
LIB_NAME = "libedgehdc_fw.so"

_loaded: dict[Path, ctypes.CDLL] = {}


class BuildError(RuntimeError):
    """The host compiler rejected the firmware sources; the message holds its output."""


def firmware_sources() -> list[Path]:
    """Every C file of the firmware library, in a stable order."""
    return sorted((FIRMWARE / "src").rglob("*.c"))


def build_library(extra_sources: Iterable[str | os.PathLike] = (),
                  extra_include_dirs: Iterable[str | os.PathLike] = (),
                  backend: str = "portable") -> ctypes.CDLL:
    """Build (or reuse) the firmware as a shared library and load it.

    A generated model (a source whose folder, or one of `extra_include_dirs`,
    holds `ehd_generated.h`) also gets `bindings/ehd_host_model.c`, the
    accessor that `FirmwareModel` calls.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown kernel backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    extra = [_existing(p, "extra source") for p in extra_sources]
    includes = [FIRMWARE / "include"] + [_existing(p, "include dir") for p in extra_include_dirs]
    if extra:
        includes += [p.parent for p in extra if p.parent not in includes]
    sources = firmware_sources() + extra
    if backend == "cmsis_nn":
        includes.append(cmsis_nn_include())
        sources += cmsis_nn_sources()
    if any((d / GENERATED_HEADER).is_file() for d in includes):
        sources.append(HOST_MODEL_SOURCE)
        includes.append(BINDINGS)
    compiler = os.environ.get("CC", "cc")
    command = [compiler, *CFLAGS, f"-DEHD_KERNEL_BACKEND=EHD_BACKEND_{backend.upper()}",
               *(f"-I{d}" for d in includes), *map(str, sources)]
    out_dir = ROOT / "build" / "bindings" / _digest(command, sources, includes)
    library = out_dir / LIB_NAME
    if not library.is_file():
        _compile(command, library)
    if library not in _loaded:
        _loaded[library] = ctypes.CDLL(str(library))
    return _loaded[library]


def _existing(path: str | os.PathLike, what: str) -> Path:
    p = Path(path).resolve()
    if not p.exists():
        raise FileNotFoundError(f"{what} {p} does not exist")
    return p


def _digest(command: list[str], sources: list[Path], includes: list[Path]) -> str:
    h = hashlib.sha256("\0".join(command).encode())
    # The firmware's own trees recursively; a caller's folders only at their top level.
    headers = set((FIRMWARE / "include").rglob("*.h")) | set((FIRMWARE / "src").rglob("*.h"))
    headers |= {hdr for d in includes for hdr in d.glob("*.h")}
    for f in [*sources, *sorted(headers)]:
        h.update(str(f).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def _compile(command: list[str], library: Path) -> None:
    library.parent.mkdir(parents=True, exist_ok=True)
    # Build under a temporary name and rename: concurrent builds never see a partial file.
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=library.parent)
    os.close(fd)
    try:
        result = subprocess.run([*command, "-o", tmp], capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError(f"building the firmware library failed:\n$ {shlex.join(command)}\n"
                             f"{result.stdout}{result.stderr}")
        os.replace(tmp, library)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
