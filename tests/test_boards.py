"""The boards of platformio.ini (docs/boards.md).

- Emulated (qemu_m4, qemu_m7, qemu_m55): each board layer's counter against a
  busy loop of known length, so instruction counts from INFER ticks are right;
  the demo-sized model bit-exact against the Numba mirror on the Cortex-M7 and
  on the Cortex-M55 built at -O3 (auto-vectorised MVE code in the image).
- Real (nucleo_*): the whole firmware, board layer included, compiled and linked
  with arm-none-eabi-gcc exactly as platformio.ini describes the environment.
"""

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from platformio.project.config import ProjectConfig

from edgehdc import cli
from edgehdc.device import (
    EmulatedBoard,
    EmulatorError,
    board_spec,
    emulated_envs,
    firmware_size,
    ticks_to_instructions,
)
from edgehdc.export.firmware import write_firmware_sources
from edgehdc.export.manifest import model_id
from edgehdc.hdc import Centroid, SignProjection
from edgehdc.parity import Parity
from edgehdc.pipeline import DemoConfig, build_host_artifacts, check_device_reply, write_artifacts
from edgehdc.quant.ir import Activation, Conv2DOptions, Graph, Op, OpKind, Padding, QuantParams, Tensor

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                       reason="needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh)"),
]

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "firmware"
CMSIS_CORE = ROOT.parent / "shared" / "third_party" / "CMSIS_6" / "CMSIS" / "Core" / "Include"
CONFIG = ProjectConfig(str(ROOT / "platformio.ini"))
REAL_ENVS = [env for env in CONFIG.envs() if CONFIG.get(f"env:{env}", "platform") == "ststm32"]
BUSY_LOOP_INSTRUCTIONS = 2_000_000  # tests/boards/busy_loop.c


def _option(env, name, default=""):
    return CONFIG.get(f"env:{env}", name, default)


def _board(env) -> dict:
    """The build/upload manifest keys of `env`: the dev-platform's JSON, or platformio.ini's overrides."""
    if env in emulated_envs():
        manifest = json.loads((FIRMWARE / "pio-platform" / "boards" / f"{_option(env, 'board')}.json").read_text())
        board_dir = FIRMWARE / "boards" / manifest["build"]["board_dir"]
        return {**manifest["build"], **manifest["upload"], "ldscript": board_dir / manifest["build"]["ldscript"]}
    keys = ("cpu", "fpu", "float_abi", "ldscript", "maximum_size", "maximum_ram_size")
    opts = {k: _option(env, f"board_build.{k}") or _option(env, f"board_upload.{k}") for k in keys}
    return {**opts, "ldscript": ROOT / opts["ldscript"]}


def _source_dirs(env) -> list:
    """The folders of the env's build_src_filter, which is `-<*>` then `+<folder/>`s."""
    rules = re.findall(r"([+-])<([^>]*)>", " ".join(_option(env, "build_src_filter")))
    assert rules[0] == ("-", "*") and all(sign == "+" and path.endswith("/") for sign, path in rules[1:]), rules
    return [FIRMWARE / path for _, path in rules[1:]]


def _link(env, tmp_path, sources, extra_includes=()) -> Path:
    """Compiles and links `sources` for `env` with the env's flags, CPU and linker script."""
    board = _board(env)
    cpu = [f"-mcpu={board['cpu']}", "-mthumb", f"-mfpu={board['fpu']}", f"-mfloat-abi={board['float_abi']}"]
    flags = shlex.split(" ".join(_option(env, "build_flags"))) + shlex.split(" ".join(_option(env, "build_src_flags")))
    elf = tmp_path / f"{env}.elf"
    cmd = ["arm-none-eabi-gcc", *cpu, *flags, "-ffunction-sections", "-fdata-sections", f"-I{CMSIS_CORE}",
           *(f"-I{p}" for p in extra_includes), *map(str, sources), "-nostartfiles", "--specs=nano.specs",
           "-Wl,--gc-sections", f"-L{FIRMWARE / 'boards' / 'cortex_m'}", "-T", str(board["ldscript"]),
           "-lm", "-o", str(elf)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-4000:]
    return elf


def _symbols(elf) -> dict:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    return {name: int(addr, 16) for addr, _, name in (line.split() for line in out.splitlines() if len(line.split()) == 3)}


def _vectors(elf, tmp_path) -> tuple[int, int]:
    """(initial stack pointer, reset vector): the first two words of the image."""
    image = tmp_path / "text.bin"
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", "-j", ".text", str(elf), str(image)], check=True)
    head = image.read_bytes()[:8]
    return int.from_bytes(head[:4], "little"), int.from_bytes(head[4:], "little")


def test_emulated_envs_come_from_platformio_ini():
    assert emulated_envs() == ["qemu_m4", "qemu_m7", "qemu_m55"]
    spec = board_spec("qemu_m55")
    assert (spec.machine, spec.cpu, spec.flash_bytes, spec.ram_bytes) == ("mps3-an547", "cortex-m55", 512 << 10, 512 << 10)


@pytest.mark.parametrize("env", ["qemu_m99", "nucleo_l4r5zi"])
def test_a_board_qemu_cannot_run_is_refused(env, capsys):
    with pytest.raises(EmulatorError, match="emulated: qemu_m4, qemu_m7, qemu_m55"):
        EmulatedBoard(env)
    assert cli.main(["demo", "--board", env, "--out", "/nonexistent"]) == 2  # before any training
    assert "not an emulated environment" in capsys.readouterr().out


@pytest.mark.parametrize("env", emulated_envs())
def test_counter_counts_what_the_board_reports(env, tmp_path):
    """ticks over a 2M-instruction loop, converted with the board's own Hz, give 2M instructions."""
    layer = [c for d in _source_dirs(env) if "boards" in d.parts for c in sorted(d.glob("*.c"))]
    elf = _link(env, tmp_path, [*layer, ROOT / "tests" / "boards" / "busy_loop.c"])
    spec = board_spec(env)
    done = subprocess.run(
        ["qemu-system-arm", "-machine", spec.machine, "-cpu", spec.cpu, "-display", "none", "-monitor", "none",
         "-semihosting-config", "enable=on,target=native", "-icount", "shift=6", "-serial", "stdio",
         "-kernel", str(elf)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr  # the semihosting exit, with the code the image passed
    ticks, hz = map(int, re.fullmatch(r"ticks=(\d+) hz=(\d+)\n", done.stdout).groups())
    assert ticks_to_instructions(ticks, hz, 6) == pytest.approx(BUSY_LOOP_INSTRUCTIONS, abs=10)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's model and HDC head (one training epoch: parity does not need accuracy)."""
    cfg = DemoConfig(out_dir=tmp_path_factory.mktemp("demo"), epochs=1)
    art = build_host_artifacts(cfg, log=lambda _: None)
    return cfg, art, write_artifacts(cfg, art)


@pytest.mark.slow
@pytest.mark.parametrize("env,src_flags", [("qemu_m7", ""), ("qemu_m55", "-O3")])
def test_demo_model_bit_exact(demo, env, src_flags):
    cfg, art, model_dir = demo
    board = EmulatedBoard(env, model_dir=model_dir, src_flags=src_flags)
    board.build()
    flash, ram = firmware_size(board.elf_path)
    assert flash <= board.spec.flash_bytes and ram <= board.spec.ram_bytes
    if env == "qemu_m55":  # -O3 vectorised something with MVE (q registers): the parity below covers it
        code = subprocess.run(["arm-none-eabi-objdump", "-d", str(board.elf_path)], capture_output=True,
                              text=True, check=True).stdout
        assert re.search(r"\tv\w+(\.\w+)?\s+q\d", code)
    parity, n = Parity(), 3
    with board.start() as link:
        info = link.expect_model(model_id(art.model_sha))
        assert info.board == board.spec.machine
        for i in range(n):
            reply = link.infer(art.x_test_q[i])
            check_device_reply(art, parity, env, i, reply)
            assert ticks_to_instructions(reply.ticks_model, info.counter_hz) > 100_000
    rung = parity.as_dict()["rungs"][env]
    assert rung["mismatches"] == 0, rung["first_mismatch"]
    assert rung["compared"] == n * (cfg.embedding_dim + cfg.hdc_dim + art.hdc[2].shape[1] + 2)


@pytest.mark.parametrize("env", REAL_ENVS)
def test_real_board_firmware_links(env, tmp_path):
    """The firmware with a generated model builds for the board, fits it, and boots from its flash."""
    art_dir = tmp_path / "model"
    _write_tiny_model(art_dir)
    sources = [c for d in _source_dirs(env) for c in sorted(d.rglob("*.c"))] + [art_dir / "ehd_generated.c"]
    elf = _link(env, tmp_path, sources, extra_includes=[art_dir])
    board, sym = _board(env), _symbols(elf)
    flash, ram = firmware_size(elf)
    assert flash <= int(board["maximum_size"]) and ram <= int(board["maximum_ram_size"])
    sp, reset = _vectors(elf, tmp_path)
    assert sp == sym["__stack_top__"] and reset == sym["Reset_Handler"] | 1  # Thumb bit set
    assert 0x0800_0000 <= sym["Reset_Handler"] < 0x0800_0000 + int(board["maximum_size"])
    ram_origin = 0x2400_0000 if env == "nucleo_h743zi" else 0x2000_0000
    assert ram_origin < sp <= ram_origin + int(board["maximum_ram_size"])


def _write_tiny_model(out):
    """A one-conv model with an HDC head, exported as the firmware's generated sources."""
    rng = np.random.default_rng(0)
    g = Graph()
    w_scale = np.full(2, 0.01, np.float32)
    x = g.add_tensor(Tensor("x", (1, 4, 4, 1), "int8", QuantParams.per_tensor(0.05, 0)))
    w = g.add_tensor(Tensor("w", (2, 3, 3, 1), "int8", QuantParams(w_scale, np.zeros(2, np.int64), 0),
                            rng.integers(-127, 128, (2, 3, 3, 1)).astype(np.int8)))
    b = g.add_tensor(Tensor("b", (2,), "int32", QuantParams(w_scale * np.float32(0.05), np.zeros(2, np.int64), 0),
                            np.zeros(2, np.int32)))
    y = g.add_tensor(Tensor("y", (1, 4, 4, 2), "int8", QuantParams.per_tensor(0.02, 0)))
    g.add_op(Op(OpKind.CONV_2D, [x, w, b], [y], Conv2DOptions((1, 1), Padding.SAME, Activation.NONE)))
    g.inputs, g.outputs = [x], [y]
    encoder = SignProjection(32, 64)
    classifier = Centroid(2, 64).fit(encoder.encode(rng.integers(-128, 128, (4, 32)).astype(np.int8)), np.arange(4) % 2)
    write_firmware_sources(g, encoder, classifier, out, bytes(8))
