"""Where Arm's CMSIS-NN v7.0.0 is found, for the `cmsis_nn` kernel backend.

CMSIS-NN is a dependency, never copied into the repository: by default the
pinned copy in `<project>/../shared/third_party/CMSIS-NN` (offline), or the
folder `EDGEHDC_CMSIS_NN` names (a checkout of the v7.0.0 tag). Every build of
the backend (PlatformIO's builder, kernel test images, the host bindings)
compiles its `Source/**/*.c` with `Include/` on the path; the linker keeps
the kernels the adapters call.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSION = "7.0.0"


class CmsisNnNotFound(FileNotFoundError):
    """No CMSIS-NN checkout where the build looks for it."""


def cmsis_nn_dir() -> Path:
    """The CMSIS-NN root (holding Include/arm_nnfunctions.h and Source/)."""
    path = Path(os.environ.get("EDGEHDC_CMSIS_NN") or ROOT.parent / "shared" / "third_party" / "CMSIS-NN")
    if not (path / "Include" / "arm_nnfunctions.h").is_file():
        raise CmsisNnNotFound(f"CMSIS-NN not found in {path}: set EDGEHDC_CMSIS_NN to a checkout of "
                              f"https://github.com/ARM-software/CMSIS-NN at tag v{VERSION}")
    return path


def cmsis_nn_sources() -> list[Path]:
    """Every C source of CMSIS-NN, in a stable order."""
    return sorted((cmsis_nn_dir() / "Source").rglob("*.c"))


def cmsis_nn_include() -> Path:
    return cmsis_nn_dir() / "Include"
