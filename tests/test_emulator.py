"""The firmware on the emulated Cortex-M4 (QEMU mps2-an386), over the serial protocol.

One tiny exported model (CONV_2D + MAX_POOL_2D + HDC) is built with PlatformIO
and run once for the module; every reply is checked against the host mirror.
"""

import shutil
import struct

import numpy as np
import pytest

from edgehdc.device import EmulatedBoard, ErrorCode, MsgType, firmware_size, ticks_to_instructions
from edgehdc.device import protocol as p
from edgehdc.device.link import StaleModelError
from edgehdc.export.arena import plan_arena
from edgehdc.export.firmware import write_firmware_sources
from edgehdc.hdc import Centroid, SignProjection
from edgehdc.kernels.interpreter import run
from edgehdc.quant.ir import (
    Activation, Conv2DOptions, Graph, Op, OpKind, Padding, Pool2DOptions, QuantParams, Tensor,
)

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                       reason="needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh)"),
]

MODEL_ID = bytes.fromhex("0123456789abcdef")
IN_SHAPE = (1, 6, 6, 2)
DIM, N_CLASSES = 256, 4


def _graph(rng) -> Graph:
    g = Graph()
    x = g.add_tensor(Tensor("x", IN_SHAPE, "int8", QuantParams.per_tensor(0.05, -3)))
    w_scale = rng.uniform(0.002, 0.01, 4).astype(np.float32)
    w = g.add_tensor(Tensor("w", (4, 3, 3, 2), "int8", QuantParams(w_scale, np.zeros(4, np.int64), 0),
                            rng.integers(-127, 128, (4, 3, 3, 2)).astype(np.int8)))
    b = g.add_tensor(Tensor("b", (4,), "int32", QuantParams(w_scale * np.float32(0.05), np.zeros(4, np.int64), 0),
                            rng.integers(-2000, 2000, 4).astype(np.int32)))
    y = g.add_tensor(Tensor("y", (1, 6, 6, 4), "int8", QuantParams.per_tensor(0.02, -128)))
    f = g.add_tensor(Tensor("f", (1, 3, 3, 4), "int8", QuantParams.per_tensor(0.02, -128)))
    g.add_op(Op(OpKind.CONV_2D, [x, w, b], [y], Conv2DOptions((1, 1), Padding.SAME, Activation.RELU)))
    g.add_op(Op(OpKind.MAX_POOL_2D, [y], [f], Pool2DOptions((2, 2), (2, 2), Padding.VALID)))
    g.inputs, g.outputs = [x], [f]
    return g


@pytest.fixture(scope="module")
def device(tmp_path_factory):
    rng = np.random.default_rng(1234)
    graph = _graph(rng)
    train = rng.integers(-128, 128, (40, *IN_SHAPE[1:])).astype(np.int8)
    encoder = SignProjection(36, DIM, zero_point=-128)
    classifier = Centroid(N_CLASSES, DIM).fit(encoder.encode(run(graph, train)[0].reshape(40, -1)),
                                              np.arange(40) % N_CLASSES)
    model_dir = tmp_path_factory.mktemp("model")
    write_firmware_sources(graph, encoder, classifier, model_dir, MODEL_ID)
    board = EmulatedBoard("qemu_m4", model_dir=model_dir)
    board.build()
    link = board.start()
    try:
        yield board, link, graph, encoder, classifier
    finally:
        board.stop()


def _still_alive(link):
    assert link.info().model_id == MODEL_ID


def test_info(device):
    board, link, graph, encoder, _ = device
    info = link.expect_model(MODEL_ID)
    assert info.protocol_version == 1 and info.backend == p.Backend.PORTABLE
    assert info.input_shape == IN_SHAPE and info.input_bytes == 72
    assert (info.n_features, info.hv_dim, info.n_classes) == (36, DIM, N_CLASSES)
    assert info.arena_bytes == plan_arena(graph).size
    assert (info.counter_hz, info.board) == (25_000_000, "mps2-an386")
    with pytest.raises(StaleModelError, match="0123456789abcdef"):
        link.expect_model(bytes(8))


def test_infer_matches_host_mirror(device):
    _, link, graph, encoder, classifier = device
    x = np.random.default_rng(7).integers(-128, 128, (3, *IN_SHAPE[1:])).astype(np.int8)
    features = run(graph, x)[0].reshape(3, -1)
    hv = encoder.encode(features)
    labels, confidence, distances = classifier.classify(hv)
    for i in range(3):
        r = link.infer(x[i])
        np.testing.assert_array_equal(r.features, features[i])
        np.testing.assert_array_equal(r.hv, hv[i])
        np.testing.assert_array_equal(r.distances, distances[i])
        assert (r.label, r.confidence) == (labels[i], confidence[i])
        assert r.ticks_model > 0 and r.ticks_hdc > 0


def test_host_refuses_bad_input_before_sending(device):
    _, link, *_ = device
    with pytest.raises(ValueError, match="int8"):
        link.infer(np.zeros(72, np.float32))
    with pytest.raises(ValueError, match="72"):
        link.infer(np.zeros(71, np.int8))


def _error(link, wire) -> p.DeviceError:
    reply = link.send_raw(wire)
    assert reply.type == MsgType.ERROR
    return p.DeviceError.from_packet(reply)


def test_bad_crc(device):
    _, link, *_ = device
    packet = bytearray(p.encode_packet(MsgType.INFO, 42))
    packet[-2] ^= 0x5A
    err = _error(link, p.frame(bytes(packet)))
    assert (err.code, err.detail, err.seq) == (ErrorCode.BAD_CRC, struct.unpack("<H", packet[-2:])[0], 0)
    _still_alive(link)


@pytest.mark.parametrize(
    "type_,seq,body,version,code,detail",
    [
        (0x33, 17, b"", 1, ErrorCode.UNKNOWN_TYPE, 0x33),
        (0x81, 18, b"", 1, ErrorCode.UNKNOWN_TYPE, 0x81),  # a reply type is no request
        (MsgType.INFER, 19, bytes(71), 1, ErrorCode.BAD_LENGTH, 71),
        (MsgType.INFER, 20, bytes(73), 1, ErrorCode.BAD_LENGTH, 73),
        (MsgType.INFO, 21, b"\x01", 1, ErrorCode.BAD_LENGTH, 1),
        (MsgType.INFO, 22, b"", 9, ErrorCode.BAD_VERSION, 9),
    ],
)
def test_bad_requests(device, type_, seq, body, version, code, detail):
    _, link, *_ = device
    err = _error(link, p.frame(p.encode_packet(type_, seq, body, version=version)))
    assert (err.code, err.detail, err.seq) == (code, detail, seq)
    _still_alive(link)


@pytest.mark.parametrize(
    "wire,code",
    [
        (b"\xfe\x13\x37\x00", ErrorCode.BAD_FRAME),  # a COBS block running past the frame
        (b"\x03\x01\x02\x00", ErrorCode.BAD_FRAME),  # shorter than a packet
        (bytes(range(1, 256)) * 2 + b"\x00", ErrorCode.BAD_CRC),
        (b"\x01" * (p.MAX_PACKET + 200) + b"\x00", ErrorCode.FRAME_TOO_LONG),
    ],
)
def test_garbage(device, wire, code):
    _, link, *_ = device
    err = _error(link, wire)
    assert err.code == code and err.seq == 0
    _still_alive(link)


def test_size_and_ticks(device):
    board, *_ = device
    flash, ram = firmware_size(board.elf_path)
    assert 1000 < flash < 4 << 20 and 1000 < ram < 4 << 20
    assert ticks_to_instructions(16, 25_000_000) == pytest.approx(10.0)  # shift 6: 1.6 ticks per instruction
