"""Serial protocol (docs/protocol.md): Python codec, and the firmware's C codec against it."""

import ctypes
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgehdc.device import protocol as p

ROOT = Path(__file__).resolve().parents[1]
HEADER = ROOT / "firmware" / "include" / "ehd" / "ehd_protocol.h"

# (decoded, COBS-encoded without the 0x00): the classic examples of the COBS paper / Wikipedia.
_RUN = bytes(range(1, 255))
COBS_VECTORS = [
    (b"", b"\x01"),
    (b"\x00", b"\x01\x01"),
    (b"\x00\x00", b"\x01\x01\x01"),
    (b"\x00\x11\x00", b"\x01\x02\x11\x01"),
    (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
    (b"\x11\x22\x33\x44", b"\x05\x11\x22\x33\x44"),
    (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
    (_RUN, b"\xff" + _RUN),
    (b"\x00" + _RUN, b"\x01\xff" + _RUN),
    (_RUN + b"\xff", b"\xff" + _RUN + b"\x02\xff"),
    (bytes(range(2, 256)) + b"\x00", b"\xff" + bytes(range(2, 256)) + b"\x01\x01"),
    (bytes(range(3, 256)) + b"\x00\x01", b"\xfe" + bytes(range(3, 256)) + b"\x02\x01"),
]


def test_crc16_check_value():
    assert p.crc16(b"123456789") == 0x29B1
    assert p.crc16(b"") == 0xFFFF
    assert p.crc16(b"6789", p.crc16(b"12345")) == 0x29B1


@pytest.mark.parametrize("decoded,encoded", COBS_VECTORS)
def test_cobs_known_vectors(decoded, encoded):
    assert p.cobs_encode(decoded) == encoded
    assert p.cobs_decode(encoded) == decoded


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=1200))
def test_cobs_round_trip(data):
    enc = p.cobs_encode(data)
    assert 0 not in enc
    assert len(enc) <= len(data) + len(data) // 254 + 1
    assert p.cobs_decode(enc) == data


@pytest.mark.parametrize("frame", [b"", b"\x00", b"\x03\x11", b"\x02\x00", b"\x05\x11\x22\x00\x33"])
def test_cobs_rejects_malformed(frame):
    with pytest.raises(p.ProtocolError):
        p.cobs_decode(frame)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=600))
def test_packet_round_trip(type_, seq, body):
    wire = p.frame(p.encode_packet(type_, seq, body))
    assert wire.count(0) == 1 and wire.endswith(b"\x00")
    assert p.unframe(wire) == p.Packet(type_, seq, body)


def test_packet_layout():
    pkt = p.encode_packet(p.MsgType.INFO, 7)
    assert pkt[:3] == b"\x01\x01\x07"
    assert struct.unpack("<H", pkt[3:])[0] == p.crc16(b"\x01\x01\x07")


def test_bad_packets_raise():
    good = bytearray(p.encode_packet(p.MsgType.INFER, 3, b"\x10\x20"))
    bad_crc = bytes(good[:-1]) + bytes([good[-1] ^ 1])
    with pytest.raises(p.ProtocolError, match="CRC"):
        p.decode_packet(bad_crc)
    with pytest.raises(p.ProtocolError, match="shorter"):
        p.decode_packet(b"\x01\x01\x00\x00")
    with pytest.raises(p.ProtocolError, match="version"):
        p.decode_packet(p.encode_packet(1, 0, version=2))
    with pytest.raises(ValueError, match="exceeds"):
        p.encode_packet(p.MsgType.INFER, 0, bytes(p.MAX_BODY + 1))


def _info_body(name=b"qemu", n_classes=3, n_features=8, dim=64):
    head = struct.pack("<BB8s4HIHHHIIB", 1, 2, bytes(range(8)), 1, 4, 4, 2, 32, n_features, dim,
                       n_classes, 1024, 25_000_000, len(name))
    return head + name + struct.pack("<HBII", 1, 0, 0x1234, 0x5678)  # table format, integrity, CRCs


def test_info_and_infer_replies_parse():
    info = p.InfoReply.from_body(_info_body())
    assert (info.backend, info.input_shape, info.input_bytes, info.board) == (2, (1, 4, 4, 2), 32, "qemu")
    assert (info.n_features, info.hv_dim, info.n_classes, info.counter_hz) == (8, 64, 3, 25_000_000)
    rng = np.random.default_rng(0)
    dist = rng.integers(0, 64, 3).astype(np.uint16)
    feats = rng.integers(-128, 128, 8).astype(np.int8)
    hv = rng.integers(0, 2**32, 2, dtype=np.uint64).astype(np.uint32)
    body = struct.pack("<HHII", 2, 5, 1000, 77) + dist.astype("<u2").tobytes() + feats.tobytes()
    body += hv.astype("<u4").tobytes()
    r = p.InferReply.from_body(body, info)
    assert (r.label, r.confidence, r.ticks_model, r.ticks_hdc) == (2, 5, 1000, 77)
    np.testing.assert_array_equal(r.distances, dist)
    np.testing.assert_array_equal(r.features, feats)
    np.testing.assert_array_equal(r.hv, hv)
    with pytest.raises(p.ProtocolError):
        p.InferReply.from_body(body[:-1], info)
    with pytest.raises(p.ProtocolError):
        p.InfoReply.from_body(_info_body()[:-1])


def test_device_error_names_code():
    pkt = p.Packet(p.MsgType.ERROR, 0, struct.pack("<Bi", 1, 0x1234))
    err = p.DeviceError.from_packet(pkt)
    assert err.code is p.ErrorCode.BAD_CRC and err.detail == 0x1234 and "BAD_CRC" in str(err)


def _header_defines():
    return {m[1]: int(m[2], 0) for m in re.finditer(r"#define (EHD_\w+) (0x[0-9A-Fa-f]+|\d+)u?\b", HEADER.read_text())}


def test_python_constants_match_firmware_header():
    d = _header_defines()
    assert d["EHD_PROTO_VERSION"] == p.PROTOCOL_VERSION
    assert d["EHD_PROTO_MAX_BODY"] == p.MAX_BODY
    assert d["EHD_PROTO_REPLY"] == p.REPLY
    hdc_types = {k for k, v in d.items() if k.startswith("EHD_PROTO_") and 0x10 <= v <= 0x30
                 and not k.startswith("EHD_PROTO_ERR_")}  # HDC (ehd_learn.c), runtime messages, PROFILE
    assert {t.name: t.value for t in p.MsgType} == {k[10:]: v for k, v in d.items()
                                                    if k in {"EHD_PROTO_INFO", "EHD_PROTO_INFER", "EHD_PROTO_ERROR"}
                                                    | hdc_types}
    assert {e.name: e.value for e in p.ErrorCode} == {k[14:]: v for k, v in d.items() if k.startswith("EHD_PROTO_ERR_")}
    assert {b.name: b.value for b in p.Backend} == {k[12:]: v for k, v in d.items() if k.startswith("EHD_BACKEND_")}


# --- the firmware's C protocol code, compiled for this machine ---------------------------------

_SHIM = r"""
#include <string.h>
#include "ehd/ehd_protocol.h"

static ehd_proto_rx rx;
static uint8_t *sink;
static size_t sink_len, sink_cap;

static void to_sink(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len && sink_len < sink_cap; i++) sink[sink_len++] = data[i];
}

size_t shim_send(const uint8_t *packet, size_t len, uint8_t *out, size_t cap)
{
    sink = out; sink_len = 0; sink_cap = cap;
    ehd_proto_send(packet, len, to_sink, 0);
    return sink_len;
}

void shim_reset(void) { ehd_proto_rx_init(&rx); }

/* Feeds n bytes; per event writes {kind, error, detail, type, seq, body_len, body offset}. */
int shim_feed(const uint8_t *data, size_t n, int32_t *events, int max_events, uint8_t *bodies)
{
    int count = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        ehd_rx_event ev = ehd_proto_feed(&rx, data[i]);
        if (ev == EHD_RX_NONE || count >= max_events) continue;
        int32_t *e = events + 7 * count++;
        e[0] = ev; e[1] = rx.error; e[2] = rx.detail; e[3] = rx.packet.type; e[4] = rx.packet.seq;
        e[5] = ev == EHD_RX_PACKET ? (int32_t)rx.packet.body_len : 0; e[6] = (int32_t)at;
        if (ev == EHD_RX_PACKET) { memcpy(bodies + at, rx.packet.body, rx.packet.body_len); at += rx.packet.body_len; }
    }
    return count;
}
"""


@pytest.fixture(scope="module")
def clib(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    tmp = tmp_path_factory.mktemp("proto")
    (tmp / "shim.c").write_text(_SHIM)
    sources = sorted(str(s) for s in (ROOT / "firmware" / "src" / "protocol").glob("*.c"))
    lib = tmp / "libproto.so"
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-O1", "-shared", "-fPIC",
                    f"-I{ROOT / 'firmware' / 'include'}", *sources, str(tmp / "shim.c"), "-o", str(lib)],
                   check=True, capture_output=True)
    c = ctypes.CDLL(str(lib))
    c.ehd_crc16.restype = ctypes.c_uint16
    c.ehd_crc16.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    c.ehd_cobs_encode.restype = ctypes.c_size_t
    c.ehd_cobs_encode.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    c.ehd_cobs_decode.restype = ctypes.c_int32
    c.ehd_cobs_decode.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    c.shim_send.restype = ctypes.c_size_t
    c.shim_send.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    c.shim_feed.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p]
    return c


def _c_encode(c, data, cap=None):
    cap = len(data) + len(data) // 254 + 1 if cap is None else cap
    out = ctypes.create_string_buffer(max(cap, 1))
    n = c.ehd_cobs_encode(data, len(data), out, cap)
    return out.raw[:n]


def _c_decode(c, frame, cap=8192):
    out = ctypes.create_string_buffer(cap)
    n = c.ehd_cobs_decode(frame, len(frame), out, cap)
    return None if n < 0 else out.raw[:n]


def _c_feed(c, wire, max_events=64):
    events = np.zeros((max_events, 7), np.int32)
    bodies = ctypes.create_string_buffer(len(wire) + 1)
    n = c.shim_feed(wire, len(wire), events.ctypes.data, max_events, bodies)
    out = []
    for kind, err, detail, type_, seq, blen, at in events[:n].tolist():
        if kind == 1:
            out.append(p.Packet(type_, seq, bodies.raw[at : at + blen]))
        else:
            out.append((p.ErrorCode(err), detail, seq))
    return out


def test_c_crc_and_cobs_vectors(clib):
    assert clib.ehd_crc16(b"123456789", 9) == 0x29B1
    for decoded, encoded in COBS_VECTORS:
        assert _c_encode(clib, decoded) == encoded
        assert _c_decode(clib, encoded) == decoded
    assert _c_encode(clib, b"\x11\x22\x33", cap=3) == b""  # does not fit: 0, nothing overrun
    for bad in [b"", b"\x00", b"\x03\x11", b"\x02\x00"]:
        assert _c_decode(clib, bad) is None
    assert _c_decode(clib, b"\x05\x11\x22\x33\x44", cap=3) is None


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=1100))
def test_c_matches_python(clib, data):
    assert clib.ehd_crc16(data, len(data)) == p.crc16(data)
    assert _c_encode(clib, data) == p.cobs_encode(data)
    assert _c_decode(clib, p.cobs_encode(data)) == data
    out = ctypes.create_string_buffer(len(data) + len(data) // 254 + 2)
    n = clib.shim_send(data, len(data), out, len(out))
    assert out.raw[:n] == p.frame(data)


def test_c_receiver_packets_and_errors(clib):
    clib.shim_reset()
    good = p.frame(p.encode_packet(p.MsgType.INFER, 9, b"\x00\x01\x02"))
    packet = bytearray(p.encode_packet(p.MsgType.INFO, 4))
    packet[-1] ^= 0xFF
    crc = struct.unpack("<H", packet[-2:])[0]
    wire = (b"\x00\x00" + good + p.frame(bytes(packet)) + b"\x07\x01\x00"  # COBS block overruns
            + p.frame(b"\x01\x02") + p.frame(p.encode_packet(1, 5, version=3))
            + bytes([1] * (p.MAX_PACKET + 300)) + b"\x00" + good)
    assert _c_feed(clib, wire) == [
        p.Packet(p.MsgType.INFER, 9, b"\x00\x01\x02"),
        (p.ErrorCode.BAD_CRC, crc, 0),
        (p.ErrorCode.BAD_FRAME, 0, 0),
        (p.ErrorCode.BAD_FRAME, 0, 0),  # shorter than 5 bytes
        (p.ErrorCode.BAD_VERSION, 3, 5),
        (p.ErrorCode.FRAME_TOO_LONG, 0, 0),
        p.Packet(p.MsgType.INFER, 9, b"\x00\x01\x02"),
    ]


def test_c_receiver_max_packet_and_one_more(clib):
    clib.shim_reset()
    body = bytes(range(256)) * (p.MAX_BODY // 256)
    biggest = p.frame(p.encode_packet(p.MsgType.INFER, 1, body))
    packet = p.encode_packet(p.MsgType.INFER, 1, body[:-1]) + b"\x00\x00"  # MAX_PACKET + 1 decoded bytes
    assert _c_feed(clib, biggest) == [p.Packet(p.MsgType.INFER, 1, body)]
    assert _c_feed(clib, p.frame(packet)) == [(p.ErrorCode.FRAME_TOO_LONG, 0, 0)]


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=3000))
def test_c_receiver_survives_garbage(clib, garbage):
    clib.shim_reset()
    good = p.encode_packet(p.MsgType.INFO, 200)
    events = _c_feed(clib, garbage + b"\x00" + p.frame(good), max_events=4096)
    assert events[-1] == p.Packet(p.MsgType.INFO, 200, b"")


# --- the link, without a device -----------------------------------------------------------------

def test_link_times_out_naming_the_port():
    import socket

    from edgehdc.device import DeviceLink, DeviceTimeout

    with socket.socket() as server:  # accepts the connection, never answers
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        url = f"socket://127.0.0.1:{server.getsockname()[1]}"
        with DeviceLink(url, timeout=0.2) as link:
            with pytest.raises(DeviceTimeout, match=url.replace(".", r"\.")):
                link.info()


def test_link_rejects_a_reply_that_answers_nothing():
    from edgehdc.device import DeviceLink

    with DeviceLink("loop://", timeout=0.5) as link:  # the "device" echoes the request itself
        with pytest.raises(p.ProtocolError, match="does not answer"):
            link.info()
        link._serial.reset_input_buffer()
        with pytest.raises(p.ProtocolError, match="CRC"):
            link.send_raw(p.cobs_encode(b"\x01\x81\x00\x00\x00") + b"\x00")


# --- the firmware's request handler (ehd_service), compiled for this machine --------------------

_SERVICE_SHIM = r"""
#include "ehd/ehd_service.h"
#include "ehd_generated.h"

static uint32_t arena[(EHD_GENERATED_ARENA_SIZE + 3u) / 4u];
static ehd_service svc;
static uint8_t out[65536];
static size_t out_len;
static uint32_t clock;

static uint32_t ticks(void) { return clock += 7u; }
static void to_out(void *ctx, const uint8_t *d, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n && out_len < sizeof(out); i++) out[out_len++] = d[i];
}

int shim_init(void)
{
    const ehd_service_board board = {"host", EHD_BACKEND_PORTABLE, ticks, 1000u};
    return ehd_service_init(&svc, &ehd_generated_model, &ehd_generated_hdc, (int8_t *)arena,
                            sizeof(arena), &board, to_out, 0);
}

size_t shim_feed(const uint8_t *data, size_t n, uint8_t *reply, size_t cap)
{
    out_len = 0;
    for (size_t i = 0; i < n; i++) ehd_service_feed(&svc, data[i]);
    for (size_t i = 0; i < out_len && i < cap; i++) reply[i] = out[i];
    return out_len;
}
"""


def compile_service(cc, folder):
    """The service with the generated model in `folder` and the shim above, loaded and initialised."""
    (folder / "shim.c").write_text(_SERVICE_SHIM)
    sources = sorted(str(s) for s in (ROOT / "firmware" / "src").rglob("*.c"))
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-O1", "-shared", "-fPIC",
                    f"-I{ROOT / 'firmware' / 'include'}", f"-I{folder}", *sources, str(folder / "ehd_generated.c"),
                    str(folder / "shim.c"), "-o", str(folder / "libsvc.so")], check=True, capture_output=True)
    c = ctypes.CDLL(str(folder / "libsvc.so"))
    c.shim_feed.restype = ctypes.c_size_t
    c.shim_feed.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    assert c.shim_init() == 0
    return c


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from edgehdc.export.firmware import write_firmware_sources
    from edgehdc.hdc import Centroid, SignProjection
    from edgehdc.kernels.interpreter import run
    from edgehdc.quant.ir import Activation, FullyConnectedOptions, Graph, Op, OpKind, QuantParams, Tensor

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    rng = np.random.default_rng(5)
    g = Graph()
    x = g.add_tensor(Tensor("x", (1, 1, 1, 20), "int8", QuantParams.per_tensor(0.1, 4)))
    w = g.add_tensor(Tensor("w", (12, 20), "int8", QuantParams.per_tensor(0.01, 0),
                            rng.integers(-127, 128, (12, 20)).astype(np.int8)))
    b = g.add_tensor(Tensor("b", (12,), "int32", QuantParams.per_tensor(0.001, 0),
                            rng.integers(-500, 500, 12).astype(np.int32)))
    y = g.add_tensor(Tensor("y", (1, 1, 1, 12), "int8", QuantParams.per_tensor(0.05, -10)))
    g.add_op(Op(OpKind.FULLY_CONNECTED, [x, w, b], [y], FullyConnectedOptions(Activation.NONE)))
    g.inputs, g.outputs = [x], [y]
    encoder = SignProjection(12, 96, zero_point=-10)
    train = rng.integers(-128, 128, (30, 1, 1, 20)).astype(np.int8)
    classifier = Centroid(3, 96).fit(encoder.encode(run(g, train)[0].reshape(30, -1)), np.arange(30) % 3)

    tmp = tmp_path_factory.mktemp("service")
    write_firmware_sources(g, encoder, classifier, tmp, bytes(range(8)))
    c = compile_service(cc, tmp)

    def send(wire: bytes) -> list[p.Packet]:
        buf = ctypes.create_string_buffer(65536)
        n = c.shim_feed(wire, len(wire), buf, len(buf))
        return [p.unframe(f) for f in buf.raw[:n].split(b"\x00")[:-1]]

    return send, g, encoder, classifier


def test_service_info_and_infer(service):
    from edgehdc.kernels.interpreter import run

    send, graph, encoder, classifier = service
    (reply,) = send(p.frame(p.encode_packet(p.MsgType.INFO, 3)))
    assert (reply.type, reply.seq) == (0x81, 3)
    info = p.InfoReply.from_body(reply.body)
    assert (info.input_bytes, info.n_features, info.hv_dim, info.n_classes) == (20, 12, 96, 3)
    assert (info.board, info.counter_hz, info.model_id) == ("host", 1000, bytes(range(8)))
    x = np.random.default_rng(9).integers(-128, 128, (1, 1, 1, 20)).astype(np.int8)
    (reply,) = send(p.frame(p.encode_packet(p.MsgType.INFER, 4, x.tobytes())))
    r = p.InferReply.from_body(reply.body, info)
    run_features = run(graph, x)[0].reshape(1, -1)
    labels, confidence, distances = classifier.classify(encoder.encode(run_features))
    np.testing.assert_array_equal(r.features, run_features[0])
    np.testing.assert_array_equal(r.hv, encoder.encode(run_features)[0])
    np.testing.assert_array_equal(r.distances, distances[0])
    # The fake clock advances 7 per read: the model stage spans the stamp after its one layer.
    assert (r.label, r.confidence, r.ticks_model, r.ticks_hdc) == (labels[0], confidence[0], 14, 7)


def test_service_answers_every_bad_frame_once(service):
    send, *_ = service
    bad_crc = bytearray(p.encode_packet(p.MsgType.INFO, 1))
    bad_crc[-1] ^= 1
    wire = (p.frame(bytes(bad_crc)) + p.frame(p.encode_packet(0x55, 2)) + b"\x00\x00"
            + p.frame(p.encode_packet(p.MsgType.INFER, 3, bytes(19))) + b"\x09\x09\x00"
            + b"\x01" * 5000 + b"\x00" + p.frame(p.encode_packet(p.MsgType.INFO, 4, version=0))
            + p.frame(p.encode_packet(p.MsgType.INFO, 5)))
    replies = send(wire)
    errors = [(p.DeviceError.from_packet(r).name, r.seq) for r in replies[:-1]]
    assert errors == [("BAD_CRC", 0), ("UNKNOWN_TYPE", 2), ("BAD_LENGTH", 3), ("BAD_FRAME", 0),
                      ("FRAME_TOO_LONG", 0), ("BAD_VERSION", 4)]
    assert (replies[-1].type, replies[-1].seq) == (0x81, 5)


def test_service_hdc_messages_without_a_learner(service):
    send, graph, encoder, classifier = service
    features = np.random.default_rng(4).integers(-128, 128, 12).astype(np.int8)
    (reply,) = send(p.frame(p.encode_packet(p.MsgType.HDC_CLASSIFY, 6, features.tobytes())))
    info = p.InfoReply.from_body(send(p.frame(p.encode_packet(p.MsgType.INFO, 7)))[0].body)
    r = p.ClassifyReply.from_body(reply.body, info)
    labels, confidence, distances = classifier.classify(encoder.encode(features[None]))
    np.testing.assert_array_equal(r.hv, encoder.encode(features))
    np.testing.assert_array_equal(r.distances, distances[0])
    assert (r.label, r.confidence, r.ticks_encode, r.ticks_search) == (labels[0], confidence[0], 7, 7)
    for msg in (p.MsgType.LEARN_INFO, p.MsgType.LEARN_RESET, p.MsgType.LEARN_ADD):
        (reply,) = send(p.frame(p.encode_packet(msg, 8)))
        assert p.DeviceError.from_packet(reply).name == "LEARN_DISABLED"
    (reply,) = send(p.frame(p.encode_packet(0x1F, 9)))  # reserved for HDC, not used yet
    assert p.DeviceError.from_packet(reply).name == "UNKNOWN_TYPE"


def test_model_info_reply_that_contradicts_itself_is_a_protocol_error():
    desc = p._TENSOR_DESC
    good = bytes([1, 1, 0]) + desc.pack(0, 1, 2, 2, 3, 12) + desc.pack(1, 1, 1, 1, 4, 16)
    info = p.ModelInfo.from_body(good)
    assert info.feature == 0 and info.outputs[0].shape == (1, 1, 1, 4) and info.outputs[0].bytes == 16
    with pytest.raises(p.ProtocolError, match="feature"):  # output 1 of 1
        p.ModelInfo.from_body(bytes([1, 1, 1]) + good[3:])
    with pytest.raises(p.ProtocolError, match="13 bytes for shape"):  # not 2 x 2 x 3 int8
        p.ModelInfo.from_body(bytes([1, 1, 0]) + desc.pack(0, 1, 2, 2, 3, 13) + good[3 + desc.size:])
