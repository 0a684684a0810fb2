"""The emulated board: build the firmware with PlatformIO (offline) and run it in QEMU.

`pio run -e ENV -t upload` starts `qemu-system-arm` with the board's UART0
listening on a loopback TCP port (firmware/pio-platform/builder/main.py);
QEMU holds the guest until pyserial connects, so no byte is lost. The
emulated environments are those of platformio.ini whose board has a manifest
in the in-repo dev-platform (firmware/pio-platform/boards/): qemu_m4, qemu_m7,
qemu_m55 (docs/boards.md). The QEMU machine, CPU and memory sizes come from
that manifest; the counter frequency from the firmware's INFO reply. The kernel
backend reaches the build through EDGEHDC_BACKEND.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .link import DeviceLink, DeviceTimeout

ROOT = Path(__file__).resolve().parents[3]
BOARD_MANIFESTS = ROOT / "firmware" / "pio-platform" / "boards"
ICOUNT_SHIFT = 6  # -icount shift=6: one instruction every 64 ns of virtual time
# Kernel backends the firmware builds with today (EHD_KERNEL_BACKEND; protocol.Backend names them all).
BACKENDS = ("portable", "dsp", "cmsis_nn")


class EmulatorError(RuntimeError):
    """The firmware build failed or QEMU could not be started."""


@dataclass(frozen=True)
class EmulatedBoardSpec:
    """One emulated environment of platformio.ini and its board manifest."""

    env: str  # platformio.ini environment, e.g. "qemu_m55"
    board: str  # board id, e.g. "mps3_an547"
    title: str  # the manifest's name
    machine: str  # QEMU -machine
    cpu: str  # QEMU -cpu and gcc -mcpu
    flash_bytes: int  # upload.maximum_size
    ram_bytes: int  # upload.maximum_ram_size


def _project_boards() -> dict[str, str]:
    from platformio.project.config import ProjectConfig

    config = ProjectConfig(str(ROOT / "platformio.ini"))
    return {env: config.get(f"env:{env}", "board", "") for env in config.envs()}


def emulated_envs() -> list[str]:
    """The platformio.ini environments that run in QEMU, in file order."""
    return [env for env, board in _project_boards().items() if (BOARD_MANIFESTS / f"{board}.json").is_file()]


def board_spec(env: str) -> EmulatedBoardSpec:
    """The emulated board behind `env`; EmulatorError naming the emulated envs if there is none."""
    boards = _project_boards()
    manifest = BOARD_MANIFESTS / f"{boards.get(env, '')}.json"
    if env not in boards or not manifest.is_file():
        raise EmulatorError(f"{env!r} is not an emulated environment of platformio.ini; "
                            f"emulated: {', '.join(emulated_envs())}")
    m = json.loads(manifest.read_text())
    return EmulatedBoardSpec(env, boards[env], m["name"], m["build"]["qemu_machine"], m["build"]["cpu"],
                             int(m["upload"]["maximum_size"]), int(m["upload"]["maximum_ram_size"]))


def pio_env(**extra: str) -> dict[str, str]:
    """The environment PlatformIO needs to run offline from this checkout."""
    env = dict(os.environ)
    env.setdefault("PLATFORMIO_CORE_DIR", str(ROOT / ".pio-core"))
    env.update(
        PLATFORMIO_SETTING_ENABLE_TELEMETRY="no",
        PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL="3650",
        PLATFORMIO_SETTING_CHECK_PRUNE_SYSTEM_THRESHOLD="0",
        PLATFORMIO_NO_ANSI="true",
        PLATFORMIO_DISABLE_PROGRESSBAR="true",
    )
    env.update(extra)
    return env


def pio_executable() -> str:
    """`pio` next to the running Python (the venv), else the one on PATH."""
    local = Path(sys.executable).with_name("pio")
    found = str(local) if local.exists() else shutil.which("pio")
    if not found:
        raise EmulatorError("PlatformIO (`pio`) not found: run scripts/setup.sh")
    return found


def ticks_to_instructions(ticks: float, hz: int, shift: int = ICOUNT_SHIFT) -> float:
    """Guest instructions behind `ticks` of a `hz` counter under `-icount shift=N`.

    `hz` is the board's counter frequency, as its INFO reply reports it.
    Each instruction advances virtual time by 2**shift ns, so
    instructions = ticks * 1e9 / (2**shift * hz).
    """
    return ticks * 1e9 / (2**shift * hz)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmulatedBoard:
    """Firmware for `env` (qemu_m4, qemu_m7, qemu_m55) with the model in `model_dir` and the kernels
    of `backend`, run in QEMU.

    with EmulatedBoard("qemu_m55", model_dir=out, backend="dsp") as board:   # builds, starts, connects
        board.link.info()

    `src_flags` are appended to the firmware's compiler flags for this build
    (e.g. "-O3"), through PlatformIO's PLATFORMIO_BUILD_SRC_FLAGS.
    """

    def __init__(self, env: str = "qemu_m4", model_dir: str | os.PathLike | None = None,
                 build_timeout: float = 300.0, start_timeout: float = 60.0,
                 link_timeout: float = 10.0, icount_shift: int = ICOUNT_SHIFT, src_flags: str = "",
                 backend: str = "portable"):
        if backend not in BACKENDS:
            raise ValueError(f"unknown kernel backend {backend!r}: choose one of {', '.join(BACKENDS)}")
        self.spec = board_spec(env)
        self.env = env
        self.src_flags = src_flags
        self.backend = backend
        self.model_dir = Path(model_dir or ROOT / "build" / "model").resolve()
        self.build_timeout = build_timeout
        self.start_timeout = start_timeout
        self.link_timeout = link_timeout
        self.icount_shift = icount_shift
        self.port: int | None = None
        self.link: DeviceLink | None = None
        self._proc: subprocess.Popen | None = None
        self._log: Path | None = None

    @property
    def elf_path(self) -> Path:
        # PlatformIO builds into PLATFORMIO_BUILD_DIR when it is set (e.g. to run two builds at once).
        build_dir = Path(os.environ.get("PLATFORMIO_BUILD_DIR") or ROOT / ".pio" / "build")
        return build_dir / self.env / "firmware.elf"

    def _env(self, **extra: str) -> dict[str, str]:
        if self.src_flags:  # for `upload` too, or PlatformIO would rebuild without them
            extra["PLATFORMIO_BUILD_SRC_FLAGS"] = self.src_flags
        return pio_env(EDGEHDC_MODEL_DIR=str(self.model_dir), EDGEHDC_BACKEND=self.backend,
                       **extra)

    def build(self) -> Path:
        """Runs `pio run -e ENV`; returns the ELF. EmulatorError with PlatformIO's output on failure,
        ModelTooBigError (edgehdc.export.budget) with the numbers for a model the board cannot hold."""
        from edgehdc.export.budget import check_link_output, check_model_dir

        if (self.model_dir / "ehd_generated.c").exists():  # else the build itself says what is missing
            check_model_dir(self.model_dir, self.env)
        cmd = [pio_executable(), "run", "-e", self.env]
        try:
            done = subprocess.run(cmd, cwd=ROOT, env=self._env(), capture_output=True, text=True,
                                  timeout=self.build_timeout)
        except subprocess.TimeoutExpired as exc:
            raise EmulatorError(f"`{' '.join(cmd)}` took longer than {self.build_timeout} s") from exc
        if done.returncode != 0:
            check_link_output(done.stdout + done.stderr, self.env)
            raise EmulatorError(f"firmware build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
        return self.elf_path

    def start(self) -> DeviceLink:
        """Starts QEMU through `pio run -t upload` and connects; returns the link.

        Closing the link (or leaving `with board.start() as link:`) stops QEMU too.
        """
        if self._proc is not None:
            raise EmulatorError("the emulated board is already running")
        self.port = _free_port()
        self._log = self.elf_path.with_name(f"qemu-{self.port}.log")
        self._log.parent.mkdir(parents=True, exist_ok=True)
        env = self._env(EDGEHDC_QEMU_PORT=str(self.port), EDGEHDC_QEMU_ICOUNT_SHIFT=str(self.icount_shift))
        with open(self._log, "wb") as log:
            self._proc = subprocess.Popen(
                [pio_executable(), "run", "-e", self.env, "-t", "upload"], cwd=ROOT, env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        try:
            self.link = self._connect(f"socket://127.0.0.1:{self.port}")
        except BaseException:
            self.stop()
            raise
        return self.link

    def _connect(self, url: str) -> DeviceLink:
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._proc.poll() is not None:
                raise EmulatorError(f"QEMU exited with {self._proc.returncode} before connecting:\n{self.log()}")
            try:
                return DeviceLink(url, timeout=self.link_timeout, on_close=self.stop)
            except Exception as exc:  # pyserial raises SerialException until QEMU listens
                if time.monotonic() > deadline:
                    raise DeviceTimeout(f"no emulated board on {url} after {self.start_timeout} s:\n{self.log()}") from exc
                time.sleep(0.05)

    def log(self) -> str:
        """What PlatformIO and QEMU printed (tail)."""
        return self._log.read_text(errors="replace")[-4000:] if self._log and self._log.exists() else ""

    def stop(self) -> None:
        """Closes the link and kills PlatformIO and QEMU (the whole process group)."""
        proc, self._proc = self._proc, None
        link, self.link = self.link, None
        if link is not None:
            link.close()  # calls stop() again through on_close: nothing left to do there
        if proc is None:
            return
        try:
            self._kill(proc)
        finally:
            if self._log is not None:
                self._log.unlink(missing_ok=True)

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> "EmulatedBoard":
        self.build()
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
