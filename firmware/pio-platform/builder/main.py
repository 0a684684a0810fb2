"""Build with the system arm-none-eabi-gcc; `upload` starts the board in QEMU.

Sources: the project's src filter (firmware/src, firmware/app, the board
folders) plus the generated model; edgehdc_project.py adds the CPU flags,
CMSIS-Core and the model (EDGEHDC_MODEL_DIR), exactly as it does for the real
boards on `ststm32`.

The kernel backend (EDGEHDC_BACKEND or `custom_backend`) is chosen there too.

Upload environment: EDGEHDC_QEMU_PORT (required, the loopback TCP port the
board's UART0 listens on; QEMU waits for the host to connect) and
EDGEHDC_QEMU_ICOUNT_SHIFT (default 6).
"""

import os
import subprocess
import sys
from os.path import join

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()
board_dir = join(env.subst("$PROJECT_DIR"), "firmware", "boards", board.get("build.board_dir"))

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
env.Append(LIBS=["c_nano", "m", "gcc"])
env.SConscript("edgehdc_project.py", exports="env")

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
