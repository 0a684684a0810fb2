"""A model too big for its board is refused at export (estimate) or at link time (exact), with the
numbers: needed vs available, per region."""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from platformio.project.config import ProjectConfig

from edgehdc.device import EmulatedBoard
from edgehdc.export import budget
from edgehdc.export.budget import ModelTooBigError, board_memory, check_link_output
from edgehdc.export.firmware import HEADER_NAME, SOURCE_NAME, write_firmware_sources
from edgehdc.hdc import Centroid, SignProjection
from edgehdc.quant.ir import (
    Activation, FullyConnectedOptions, Graph, Op, OpKind, Padding, Pool2DOptions, QuantParams, Tensor,
)

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
import tiny_device as tiny  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENVS = ProjectConfig(str(ROOT / "platformio.ini")).envs()


def _fc_model(n_in: int, n_out: int, rng):
    """One FULLY_CONNECTED layer of n_in x n_out int8 weights, with an HDC head on its output."""
    g = Graph()
    x = g.add_tensor(Tensor("x", (1, n_in), "int8", QuantParams.per_tensor(0.05, 0)))
    w = g.add_tensor(Tensor("w", (n_out, n_in), "int8", QuantParams.per_tensor(0.001, 0),
                            rng.integers(-127, 128, (n_out, n_in)).astype(np.int8)))
    y = g.add_tensor(Tensor("y", (1, n_out), "int8", QuantParams.per_tensor(0.1, 0)))
    g.add_op(Op(OpKind.FULLY_CONNECTED, [x, w, -1], [y], FullyConnectedOptions(Activation.NONE)))
    g.inputs, g.outputs = [x], [y]
    encoder = SignProjection(n_out, 64, zero_point=0)
    classifier = Centroid(2, 64).fit(encoder.encode(rng.integers(-128, 128, (4, n_out)).astype(np.int8)),
                                     np.arange(4) % 2)
    return g, encoder, classifier


@pytest.mark.parametrize("env", ENVS)
def test_every_board_memory_comes_from_its_linker_script(env):
    mem = board_memory(env)
    text = mem.linker_script.read_text()
    assert "MEMORY" in text and mem.flash > 0 and mem.ram > 0
    # The other places that state a board's sizes agree with the linker script.
    config = ProjectConfig(str(ROOT / "platformio.ini"))
    board = config.get(f"env:{env}", "board")
    manifest = ROOT / "firmware" / "pio-platform" / "boards" / f"{board}.json"
    if manifest.is_file():
        upload = json.loads(manifest.read_text())["upload"]
        assert (upload["maximum_size"], upload["maximum_ram_size"]) == (mem.flash, mem.ram)
    else:
        assert (int(config.get(f"env:{env}", "board_upload.maximum_size")),
                int(config.get(f"env:{env}", "board_upload.maximum_ram_size"))) == (mem.flash, mem.ram)


def test_unknown_board_is_named():
    with pytest.raises(ValueError, match="unknown board 'qemu_m9'.*qemu_m4"):
        board_memory("qemu_m9")


def test_oversize_weights_refused_at_export_with_both_numbers(tmp_path):
    g, enc, clf = _fc_model(1024, 600, np.random.default_rng(0))  # 614,400 bytes of weights
    flash = board_memory("qemu_m55").flash
    with pytest.raises(ModelTooBigError) as exc:
        write_firmware_sources(g, enc, clf, tmp_path, bytes(8), board="qemu_m55")
    message = str(exc.value)
    tables = 1024 * 600 + 64 * 4 * -(-600 // 32) + 2 * 64 // 8  # weights, projection, prototypes ...
    needed = int(message.split("flash: needs at least ")[1].split(" ")[0].replace(",", ""))
    assert tables <= needed < tables + 200  # ... and the small params and shift tables
    assert f"{flash:,} available  <- too big" in message and "mps3_an547/linker.ld" in message
    assert "RAM: needs at least" in message and message.count("too big") == 1
    assert not list(tmp_path.iterdir())  # nothing written
    # The same model fits the 4 MB emulated Cortex-M4.
    write_firmware_sources(g, enc, clf, tmp_path, bytes(8), board="qemu_m4")
    assert budget.check_model_dir(tmp_path, "qemu_m4").flash == needed


def test_oversize_arena_refused_at_export_with_both_numbers(tmp_path):
    # A 160x160x16 input (409,600 bytes in the arena) max-pooled 16x16 into 1,600 features.
    g = Graph()
    x = g.add_tensor(Tensor("x", (1, 160, 160, 16), "int8", QuantParams.per_tensor(0.05, 0)))
    y = g.add_tensor(Tensor("y", (1, 10, 10, 16), "int8", QuantParams.per_tensor(0.05, 0)))
    g.add_op(Op(OpKind.MAX_POOL_2D, [x], [y], Pool2DOptions((16, 16), (16, 16), Padding.VALID)))
    g.inputs, g.outputs = [x], [y]
    enc = SignProjection(1600, 64, zero_point=0)
    clf = Centroid(2, 64).fit(enc.encode(np.random.default_rng(1).integers(-128, 128, (4, 1600)).astype(np.int8)),
                              np.arange(4) % 2)
    ram = board_memory("nucleo_f746zg").ram
    scratch = 2 * 1024 * (1600 // 32)  # the sign projection's int16 partial sums, in RAM
    arena = 160 * 160 * 16 + 1600
    with pytest.raises(ModelTooBigError, match=rf"RAM: needs at least {arena + scratch:,} bytes \(arena {arena:,} "
                                               rf"\+ HDC {scratch:,}\), {ram:,} available  <- too big") as exc:
        write_firmware_sources(g, enc, clf, tmp_path, bytes(8), board="nucleo_f746zg")
    assert "flash: needs at least" in str(exc.value) and str(exc.value).count("too big") == 1


def test_linker_overflow_gives_the_exact_numbers():
    mem = board_memory("nucleo_l4r5zi")
    out = ("/usr/bin/arm-none-eabi-ld: firmware.elf section `.text' will not fit in region `FLASH'\n"
           "/usr/bin/arm-none-eabi-ld: region `FLASH' overflowed by 1234 bytes\n")
    with pytest.raises(ModelTooBigError, match=rf"flash: needs {mem.flash + 1234:,} bytes, {mem.flash:,} available"):
        check_link_output(out, "nucleo_l4r5zi")
    check_link_output("undefined reference to `foo'", "nucleo_l4r5zi")  # other failures are not this error


@pytest.mark.emulator
@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                    reason="needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh)")
def test_code_pushing_tables_over_flash_is_refused_after_linking(tmp_path):
    """Tables just under the M55's 512 KiB flash pass the estimate; the firmware's code does not fit."""
    flash = board_memory("qemu_m55").flash
    g, enc, clf = _fc_model(1000, (flash - 8192) // 1000, np.random.default_rng(2))
    write_firmware_sources(g, enc, clf, tmp_path, bytes(8), board="qemu_m55")  # the estimate lets it through
    assert budget.check_model_dir(tmp_path, "qemu_m55").flash < flash
    with pytest.raises(ModelTooBigError) as exc:
        EmulatedBoard("qemu_m55", model_dir=tmp_path).build()
    needed = int(str(exc.value).split("flash: needs ")[1].split(" ")[0].replace(",", ""))
    assert needed > flash and f"{flash:,} available" in str(exc.value)
    assert (tmp_path / HEADER_NAME).is_file() and (tmp_path / SOURCE_NAME).is_file()


def test_tiny_model_footprint_counts_its_tables_and_ram(tmp_path):
    tiny.export(tmp_path)
    need = budget.check_model_dir(tmp_path, "qemu_m55")
    weights = 4 * 3 * 3 * 2 + tiny.N_FEATURES * 36
    hdc = 4 * tiny.DIM + tiny.N_CLASSES * tiny.DIM // 8  # one projection word per bit, the prototypes
    assert weights + hdc < need.flash < weights + hdc + 512  # + biases, multipliers, shifts, params
    scratch = 2 * 1024 * ((tiny.N_FEATURES + 31) // 32)  # the sign projection's int16 partial sums
    assert need.ram == 216 + scratch  # the arena of the tiny model, and the HDC scratch


def test_linker_lengths_in_hex_are_read_whole():
    script = "MEMORY {\n  FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 0x00100000\n  RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 320K\n}"
    assert budget.memory_regions(script) == {"FLASH": 1 << 20, "RAM": 320 * 1024}  # not 0 (the "0" of "0x")
