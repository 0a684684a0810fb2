"""PROFILE: the ticks of every layer and of the HDC stage for one inference.

On the host the service runs with a fake counter (+TICK per read), so every
count is known exactly. On the emulated Cortex-M4 under `-icount shift=7` the
counter advances 3.2 ticks per instruction, so each difference of two readings
converts to an exact instruction count: there the layers plus the fixed tail
(leaving the invoke, one counter read) equal the model stage INFER reports.
"""

import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from edgehdc.device import DeviceError, EmulatedBoard, ErrorCode, MsgType
from edgehdc.device import protocol as p
from edgehdc.device.profile import Profile, op_names, print_profile, read_profile

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
import tiny_device as tiny  # noqa: E402

OPS = ["CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED"]
EXACT_SHIFT = 7  # 128 ns per instruction: 3.2 ticks of the 25 MHz counter, reading error < 0.5 instruction
MAX_TAIL_INSTRUCTIONS = 32


def test_op_names_come_from_the_firmware_header():
    names = op_names()
    assert names[0] == "CONV_2D" and names[4] == "MAX_POOL_2D"
    assert len(set(names.values())) == len(names)


def test_reply_parses_and_rejects_a_wrong_length():
    body = struct.pack("<IIH", 100, 40, 2) + struct.pack("<BI", 0, 60) + struct.pack("<BI", 4, 30)
    prof = Profile.from_body(body, 1000)
    assert prof.ops == (0, 4) and list(prof.layer_ticks) == [60, 30]
    assert (prof.ticks_model, prof.ticks_hdc, prof.tail_ticks) == (100, 40, 10)
    with pytest.raises(p.ProtocolError, match="2 layers"):
        Profile.from_body(body[:-1], 1000)


@pytest.fixture(scope="module")
def host_service(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("profile")
    tiny.export(tmp / "model")
    return tiny.service(tmp / "model", tmp)


def _profile(send, x: bytes) -> Profile:
    reply = tiny.request(send, MsgType.PROFILE, x)
    assert reply.type == MsgType.PROFILE | p.REPLY
    return Profile.from_body(reply.body, 1000)


def test_host_profile_stamps_every_layer(host_service):
    send = host_service
    info = p.InfoReply.from_body(tiny.request(send, MsgType.INFO).body)
    x = np.random.default_rng(4).integers(-128, 128, info.input_bytes).astype(np.int8).tobytes()
    prof = _profile(send, x)
    infer = p.InferReply.from_body(tiny.request(send, MsgType.INFER, x).body, info)
    # Reads: before the invoke, after each of the 3 layers, after the invoke, after the HDC stage.
    assert [prof.op_name(i) for i in range(3)] == OPS
    assert list(prof.layer_ticks) == [tiny.TICK] * 3
    assert (prof.ticks_model, prof.tail_ticks, prof.ticks_hdc) == (4 * tiny.TICK, tiny.TICK, tiny.TICK)
    assert (infer.ticks_model, infer.ticks_hdc) == (prof.ticks_model, prof.ticks_hdc)
    again = _profile(send, b"")  # empty body: the input INFER left in the arena
    assert list(again.layer_ticks) == list(prof.layer_ticks) and again.ticks_model == prof.ticks_model


def test_host_profile_bad_length(host_service):
    err = DeviceError.from_packet(tiny.request(host_service, MsgType.PROFILE, bytes(3)))
    assert (err.code, err.detail) == (ErrorCode.BAD_LENGTH, 3)


@pytest.mark.emulator
@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                    reason="needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh)")
def test_layers_sum_to_the_inference_on_the_emulator(tmp_path):
    tiny.export(tmp_path)
    x = np.random.default_rng(8).integers(-128, 128, (2, *tiny.IN_SHAPE[1:])).astype(np.int8)
    with EmulatedBoard("qemu_m4", model_dir=tmp_path, icount_shift=EXACT_SHIFT) as board:
        link = board.link
        assert link.expect_model(tiny.MODEL_ID).intact
        tails = []
        for xi in x:
            prof = read_profile(link, xi)
            infer = link.infer(xi)
            instr = prof.as_dict(EXACT_SHIFT)
            layers = [row["instructions"] for row in instr["layers"]]
            tail = prof.instructions(prof.tail_ticks, EXACT_SHIFT)
            assert [row["op"] for row in instr["layers"]] == OPS
            assert min(layers) > 0 and layers[0] == max(layers)  # the convolution does most MACs
            assert sum(layers) + tail == instr["instructions_model"]
            # PROFILE runs what INFER runs: the same instructions in both stages.
            assert instr["instructions_model"] == prof.instructions(infer.ticks_model, EXACT_SHIFT)
            assert instr["instructions_hdc"] == prof.instructions(infer.ticks_hdc, EXACT_SHIFT) > 0
            tails.append(tail)
        assert tails[0] == tails[1] and 0 < tails[0] <= MAX_TAIL_INSTRUCTIONS  # a fixed tail
        console = Console(record=True, width=100)
        printed = print_profile(link, x[-1], EXACT_SHIFT, console)  # verify device --profile's hook
        assert printed.as_dict(EXACT_SHIFT)["instructions_model"] == prof.as_dict(EXACT_SHIFT)["instructions_model"]
        text = console.export_text()
        assert "FULLY_CONNECTED" in text and "HDC encode + search" in text and "instructions" in text
        assert f"{sum(layers) + tails[0] + instr['instructions_hdc']:,}" in text  # the whole inference


def test_table_of_a_plain_model_has_no_hdc_row():
    from edgehdc.device.profile import profile_table

    prof = Profile.from_body(struct.pack("<IIH", 10, 0, 1) + struct.pack("<BI", 2, 9), 1000)
    console = Console(record=True, width=100)
    console.print(profile_table(prof.as_dict()))
    text = console.export_text()
    assert "FULLY_CONNECTED" in text and "HDC" not in text and "ticks" in text
    assert "(invoke return) │     1 │  10.0%" in text
