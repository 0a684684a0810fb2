"""Build with the system arm-none-eabi-gcc; `upload` starts the board in QEMU.

Sources: the project's src filter (firmware/src, firmware/app, the board
folder) plus the generated model directory, EDGEHDC_MODEL_DIR (default
<project>/build/model), compiled with the same project flags. CMSIS-Core
headers come from EDGEHDC_CMSIS_CORE (default
<project>/../shared/third_party/CMSIS_6/CMSIS/Core/Include).

Kernel backend: EDGEHDC_BACKEND, else the environment's `custom_backend`
option, else portable; it becomes EHD_KERNEL_BACKEND (the kernels) and
EHD_BACKEND_ID (what INFO reports), both EHD_BACKEND_<NAME>.

Upload environment: EDGEHDC_QEMU_PORT (required, the loopback TCP port the
board's UART0 listens on; QEMU waits for the host to connect) and
EDGEHDC_QEMU_ICOUNT_SHIFT (default 6).
"""

import os
import subprocess
import sys
from os.path import isfile, join

from SCons.Script import COMMAND_LINE_TARGETS, AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()
project_dir = env.subst("$PROJECT_DIR")
firmware_dir = join(project_dir, "firmware")
board_dir = join(firmware_dir, "boards", board.get("build.board_dir"))


def fail(message):
    sys.stderr.write("Error: %s\n" % message)
    env.Exit(1)


def model_dir():
    path = os.path.abspath(os.environ.get("EDGEHDC_MODEL_DIR") or join(project_dir, "build", "model"))
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
    path = os.path.abspath(path)
    if not isfile(join(path, "core_cm4.h")):
        fail("CMSIS-Core headers not found in %s: set EDGEHDC_CMSIS_CORE to CMSIS_6/CMSIS/Core/Include" % path)
    return path


BACKENDS = ("portable", "dsp")


def kernel_backend():
    name = os.environ.get("EDGEHDC_BACKEND") or env.GetProjectOption("custom_backend", "portable")
    if name not in BACKENDS:
        fail("unknown kernel backend %r (EDGEHDC_BACKEND or custom_backend): choose one of %s"
             % (name, ", ".join(BACKENDS)))
    return "EHD_BACKEND_%s" % name.upper()


cpu_flags = [
    "-mcpu=%s" % board.get("build.cpu"),
    "-mthumb",
    "-mfpu=%s" % board.get("build.fpu"),
    "-mfloat-abi=%s" % board.get("build.float_abi"),
]
env.Replace(
    AR="arm-none-eabi-gcc-ar",
    AS="arm-none-eabi-as",
    CC="arm-none-eabi-gcc",
    CXX="arm-none-eabi-g++",
    GDB="arm-none-eabi-gdb",
    OBJCOPY="arm-none-eabi-objcopy",
    RANLIB="arm-none-eabi-gcc-ranlib",
    SIZETOOL="arm-none-eabi-size",
    SIZEPROGREGEXP=r"^(?:\.text|\.data|\.rodata|\.ARM\.exidx)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
    PROGNAME="firmware",
    PROGSUFFIX=".elf",
    LDSCRIPT_PATH=join(board_dir, board.get("build.ldscript")),
)
env.Append(
    ASFLAGS=cpu_flags,
    CCFLAGS=cpu_flags + ["-ffunction-sections", "-fdata-sections"],
    LINKFLAGS=cpu_flags + ["-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections"],
    LIBS=["c_nano", "m", "gcc"],
    CPPPATH=[join(firmware_dir, "include"), board_dir, cmsis_core_dir()],
    CPPDEFINES=[("EHD_KERNEL_BACKEND", kernel_backend()), ("EHD_BACKEND_ID", kernel_backend())],
)

if not any(t in ("clean", "size", "envdump", "idedata") for t in COMMAND_LINE_TARGETS):
    model = model_dir()
    env.Append(CPPPATH=[model])
    # The generated sources are ours too: same flags as the project's src.
    model_env = env.Clone()
    model_env.ProcessFlags(env.get("BUILD_FLAGS"))
    model_env.ProcessFlags(env.get("SRC_BUILD_FLAGS"))
    model_env.BuildSources(join("$BUILD_DIR", "model"), model, "+<*.c>")

target_elf = env.BuildProgram()
Default(target_elf)



def upload(target, source, env):
    """Runs the board in QEMU until it exits (semihosting) or is killed."""
    port = os.environ.get("EDGEHDC_QEMU_PORT", "")
    if not port.isdigit():
        sys.stderr.write("Error: set EDGEHDC_QEMU_PORT to the loopback TCP port for the board's UART0\n")
        return 1
    shift = os.environ.get("EDGEHDC_QEMU_ICOUNT_SHIFT", "6")
    cmd = [
        "qemu-system-arm",
        "-machine", board.get("build.qemu_machine"),
        "-cpu", board.get("build.cpu"),
        "-display", "none",
        "-monitor", "none",
        "-semihosting-config", "enable=on,target=native",
        "-icount", "shift=%s" % shift,
        "-serial", "tcp:127.0.0.1:%s,server=on,wait=on" % port,
        "-kernel", str(source[0]),
    ]
    print(" ".join(cmd))
    sys.stdout.flush()
    return subprocess.call(cmd)


AlwaysBuild(env.Alias("upload", target_elf, env.VerboseAction(upload, "Starting the board in QEMU")))
