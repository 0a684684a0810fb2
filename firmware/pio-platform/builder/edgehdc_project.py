"""What every edgehdc environment adds to a PlatformIO build.

Run by this dev-platform's builder/main.py for the emulated boards, and as
`extra_scripts = pre:firmware/pio-platform/builder/edgehdc_project.py` on the
standard `ststm32` platform for the real boards:

- CPU flags from the board manifest (build.cpu, build.fpu, build.float_abi;
  `board_build.fpu = ...` in platformio.ini sets them for a registry board),
  for compiling, assembling and linking alike;
- bare-metal linking: our startup instead of the C runtime's, newlib-nano,
  unused sections dropped, firmware/boards/cortex_m on the linker path for the
  shared sections.ld;
- CMSIS-Core headers: EDGEHDC_CMSIS_CORE, default
  <project>/../shared/third_party/CMSIS_6/CMSIS/Core/Include;
- the generated model: EDGEHDC_MODEL_DIR (default <project>/build/model),
  on the include path, its .c files built into the program;
- the kernel backend: EDGEHDC_BACKEND, else the environment's
  `custom_backend` option, else portable; it becomes EHD_KERNEL_BACKEND (the
  kernels) and EHD_BACKEND_ID (what INFO reports), both EHD_BACKEND_<NAME>;
- for the `cmsis_nn` backend, Arm's CMSIS-NN v7.0.0 as a library: EDGEHDC_CMSIS_NN,
  default <project>/../shared/third_party/CMSIS-NN (offline), its Include/ on
  the path and its Source/ built at -O2 into a static library the linker
  takes what the adapters (firmware/src/kernels/cmsis_nn) call from.
The kernels' scratch is no build setting: the host plans each layer's into the
arena (host/edgehdc/export/arena.py), for the backend and core built here.
"""

import os
import sys
from os.path import abspath, isfile, join

from SCons.Script import COMMAND_LINE_TARGETS, Import

Import("env")

board = env.BoardConfig()
project_dir = env.subst("$PROJECT_DIR")
firmware_dir = join(project_dir, "firmware")


def fail(message):
    sys.stderr.write("Error: %s\n" % message)
    env.Exit(1)


def cpu_flags():
    flags = ["-mcpu=%s" % board.get("build.cpu"), "-mthumb"]
    if board.get("build.fpu", ""):
        flags.append("-mfpu=%s" % board.get("build.fpu"))
    if board.get("build.float_abi", ""):
        flags.append("-mfloat-abi=%s" % board.get("build.float_abi"))
    return flags


def model_dir():
    path = abspath(os.environ.get("EDGEHDC_MODEL_DIR") or join(project_dir, "build", "model"))
    if not isfile(join(path, "ehd_generated.h")) or not isfile(join(path, "ehd_generated.c")):
        fail(
            "no generated model in %s (ehd_generated.h/.c missing). Export a model first "
            "(edgehdc.export.firmware.write_firmware_sources, or the `edgehdc` CLI) and set "
            "EDGEHDC_MODEL_DIR to its output folder." % path
        )
    return path


def cmsis_core_dir():
    path = os.environ.get("EDGEHDC_CMSIS_CORE") or join(
        project_dir, "..", "shared", "third_party", "CMSIS_6", "CMSIS", "Core", "Include"
    )
    path = abspath(path)
    if not isfile(join(path, "core_cm4.h")):
        fail("CMSIS-Core headers not found in %s: set EDGEHDC_CMSIS_CORE to CMSIS_6/CMSIS/Core/Include" % path)
    return path


BACKENDS = ("portable", "dsp", "cmsis_nn")


def kernel_backend():
    name = os.environ.get("EDGEHDC_BACKEND") or env.GetProjectOption("custom_backend", "portable")
    if name not in BACKENDS:
        fail("unknown kernel backend %r (EDGEHDC_BACKEND or custom_backend): choose one of %s"
             % (name, ", ".join(BACKENDS)))
    return "EHD_BACKEND_%s" % name.upper()


def cmsis_nn_dir():
    path = abspath(os.environ.get("EDGEHDC_CMSIS_NN") or join(project_dir, "..", "shared", "third_party", "CMSIS-NN"))
    if not isfile(join(path, "Include", "arm_nnfunctions.h")):
        fail("CMSIS-NN not found in %s: set EDGEHDC_CMSIS_NN to a checkout of "
             "https://github.com/ARM-software/CMSIS-NN at tag v7.0.0" % path)
    return path


def link_cmsis_nn():
    """CMSIS-NN as a static library built with the firmware's CPU flags, at -O2 like our sources."""
    path = cmsis_nn_dir()
    env.AppendUnique(CPPPATH=[join(path, "Include")])
    lib_env = env.Clone()
    lib_env.Append(CCFLAGS=["-O2", "-std=c99"])
    env.Prepend(LIBS=[lib_env.BuildLibrary(join("$BUILD_DIR", "cmsis_nn"), join(path, "Source"), "+<*.c> +<*/*.c>")])


env.AppendUnique(
    ASFLAGS=cpu_flags(),
    CCFLAGS=cpu_flags() + ["-ffunction-sections", "-fdata-sections"],
    LINKFLAGS=cpu_flags() + ["-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections"],
    LIBPATH=[join(firmware_dir, "boards", "cortex_m")],
    CPPPATH=[join(firmware_dir, "include"), cmsis_core_dir()],
    CPPDEFINES=[("EHD_KERNEL_BACKEND", kernel_backend()), ("EHD_BACKEND_ID", kernel_backend())],
)

if kernel_backend() == "EHD_BACKEND_CMSIS_NN":
    link_cmsis_nn()

if not any(t in ("clean", "size", "envdump", "idedata") for t in COMMAND_LINE_TARGETS):
    model = model_dir()
    env.AppendUnique(CPPPATH=[model])
    # The runtime dispatches only the model's ops (EHD_GENERATED_OPS): unused kernels are not linked.
    env.Append(CPPDEFINES=["EHD_MODEL_OPS_FROM_GENERATED"])
    env.BuildSources(join("$BUILD_DIR", "model"), model, "+<*.c>")
