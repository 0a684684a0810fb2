"""The device's request handler (ehd_service, compiled for this machine) runs a plain int8 model:
MODEL_INFO describes its tensors, INFER returns every output, an input larger than a frame goes in
INPUT_WRITE chunks then INVOKE, OUTPUT_READ reads any output; the host link drives it all."""

import ctypes
import shutil

import numpy as np
import pytest

from edgehdc.device import protocol as p
from edgehdc.device.link import DeviceLink
from edgehdc.export.firmware import write_firmware_sources
from edgehdc.kernels.interpreter import Interpreter
from edgehdc.quant.ir import Activation, OpKind, Padding, QuantParams
from test_protocol import compile_service
from test_runtime_model import Builder


class ShimSerial:
    """A serial port whose other end is the service compiled into `lib`."""

    def __init__(self, lib):
        self.lib, self.pending = lib, b""

    def write(self, data: bytes) -> None:
        buf = ctypes.create_string_buffer(1 << 17)
        n = self.lib.shim_feed(data, len(data), buf, len(buf))
        self.pending += buf.raw[:n]

    def flush(self) -> None:
        pass

    def read_until(self, terminator=b"\x00", size=None) -> bytes:
        end = self.pending.find(terminator)
        end = len(self.pending) if end < 0 else end + 1
        out, self.pending = self.pending[:end], self.pending[end:]
        return out

    def close(self) -> None:
        pass


def service_link(g, folder, encoder=None, classifier=None) -> DeviceLink:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    write_firmware_sources(g, encoder, classifier, folder, bytes(range(8)))
    lib = compile_service(cc, folder)
    link = DeviceLink("loop://")
    link._serial = ShimSerial(lib)
    return link


def big_float_model(rng):
    """float32 [1, 24, 24, 2] (4608 bytes, more than a frame) -> conv -> FC: [float32 out, int8 logits]."""
    b = Builder(rng, (1, 24, 24, 2), "float32")
    x8 = b.op(OpKind.QUANTIZE, [b.x], (1, 24, 24, 2), quant=QuantParams.per_tensor(0.03, 4))
    h = b.conv(x8, 3, 3, 4, Padding.SAME, Activation.RELU)
    logits = b.fc(h, 6)
    out = b.op(OpKind.DEQUANTIZE, [logits], (1, 6), dtype="float32")
    b.g.outputs = [out, logits]
    return b.g


def test_plain_model_over_the_protocol(tmp_path):
    g = big_float_model(np.random.default_rng(1))
    link = service_link(g, tmp_path)
    info, model = link.info(), link.model_info()
    assert (info.input_bytes, info.n_classes, info.hv_dim) == (4608, 0, 0)
    assert model.revision == p.RUNTIME_REVISION and model.feature is None
    assert model.input == p.TensorDesc(np.dtype("<f4"), (1, 24, 24, 2), 4608)
    assert [(d.dtype, d.shape) for d in model.outputs] == [(np.dtype("<f4"), (1, 1, 1, 6)), (np.dtype(np.int8), (1, 1, 1, 6))]
    mirror, rng = Interpreter(g), np.random.default_rng(2)
    for _ in range(3):
        x = rng.uniform(-3, 3, (1, 24, 24, 2)).astype(np.float32)
        ticks, outputs, hdc = link.run(x)
        # the shim's counter advances 7 per read: before the invoke, after each layer (PROFILE's stamps), after
        assert hdc is None and ticks == 7 * (1 + sum(op.kind is not OpKind.RESHAPE for op in g.ops))
        for got, expected in zip(outputs, mirror.run(x)):
            np.testing.assert_array_equal(got.reshape(-1).view(np.uint8), expected.reshape(-1).view(np.uint8))
        # OUTPUT_READ gives the same bytes as the INFER reply.
        np.testing.assert_array_equal(link.read_output(1), outputs[1])


def test_runtime_messages_refuse_bad_requests(tmp_path):
    link = service_link(big_float_model(np.random.default_rng(3)), tmp_path)
    for msg, body, name in [
        (p.MsgType.INPUT_WRITE, b"\x00\x00", "BAD_LENGTH"),
        (p.MsgType.INPUT_WRITE, (4600).to_bytes(4, "little") + bytes(9), "OUT_OF_RANGE"),
        (p.MsgType.INVOKE, b"\x01", "BAD_LENGTH"),
        (p.MsgType.OUTPUT_READ, p.OUTPUT_READ.pack(2, 0, 1), "OUT_OF_RANGE"),
        (p.MsgType.OUTPUT_READ, p.OUTPUT_READ.pack(1, 4, 3), "OUT_OF_RANGE"),
        (p.MsgType.OUTPUT_READ, b"\x00", "BAD_LENGTH"),
        (p.MsgType.MODEL_INFO, b"\x00", "BAD_LENGTH"),
        (p.MsgType.INFER, bytes(4096), "BAD_LENGTH"),  # the input does not fit a frame
    ]:
        with pytest.raises(p.DeviceError) as e:
            link.request(msg, body)
        assert e.value.name == name, (msg, body)
    assert link.info().n_classes == 0  # still answering


def test_hdc_model_keeps_its_infer_reply_and_reads_every_output(tmp_path):
    from edgehdc.hdc import Centroid, SignProjection

    rng = np.random.default_rng(4)
    b = Builder(rng, (1, 6, 6, 2))
    h = b.conv(b.x, 4, 3, 2, Padding.SAME, Activation.RELU)
    emb = b.fc(h, 16)
    logits = b.fc(emb, 3)
    b.g.outputs = [emb, logits]
    mirror = Interpreter(b.g)
    train = rng.integers(-128, 128, (12, 1, 6, 6, 2)).astype(np.int8)
    feats = np.stack([mirror.run(x)[0].reshape(-1) for x in train])
    zp = int(b.g.tensors[emb].quant.zero_point[0])
    encoder = SignProjection(16, 64, zero_point=zp)
    classifier = Centroid(3, 64).fit(encoder.encode(feats), np.arange(12) % 3)
    link = service_link(b.g, tmp_path, encoder, classifier)
    assert link.model_info().feature == 0
    x = rng.integers(-128, 128, (1, 6, 6, 2)).astype(np.int8)
    ticks, outputs, hdc = link.run(x)
    expected = mirror.run(x)
    np.testing.assert_array_equal(hdc.features, expected[0].reshape(-1))
    np.testing.assert_array_equal(hdc.hv, encoder.encode(expected[0].reshape(1, -1))[0])
    for got, e in zip(outputs, expected):
        np.testing.assert_array_equal(got.reshape(-1), e.reshape(-1))


class HandService:
    """ehd_service bound to a hand-built plain model table (ctypes): init status, then requests."""

    def __init__(self, tensors, outputs, arena_size):
        import ctypes as C

        import edgehdc_bindings as fw
        from edgehdc_bindings import structs as S

        class Board(C.Structure):  # ehd_service_board
            _fields_ = [("name", C.c_char_p), ("backend", C.c_uint8), ("ticks", C.c_void_p), ("ticks_hz", C.c_uint32)]

        self.lib, self.wire = fw.default_library(), b""
        self.tensors = (S.Tensor * len(tensors))(*(S.Tensor(0, S.Dims(*shape), 0) for shape in tensors))
        self.outputs = (C.c_uint16 * len(outputs))(*outputs)
        self.model = S.Model(None, 0, self.tensors, len(tensors), 0, S.NO_TENSOR, arena_size, (C.c_uint8 * 8)(),
                             self.outputs, len(outputs))
        self.ticks = C.CFUNCTYPE(C.c_uint32)(lambda: 0)
        self.write = C.CFUNCTYPE(None, C.c_void_p, C.POINTER(C.c_uint8), C.c_size_t)(self._written)
        self.board = Board(None, 0, C.cast(self.ticks, C.c_void_p), 1)
        self.svc, self.hdc, self.arena = (C.c_uint8 * (1 << 16))(), (C.c_uint8 * 256)(), np.zeros(arena_size, np.int8)
        self.status = self.lib.ehd_service_init(self.svc, C.byref(self.model), self.hdc, S.ptr(self.arena, C.c_int8),
                                                C.c_uint32(arena_size), C.byref(self.board), self.write, None)

    def _written(self, _ctx, data, n):
        import ctypes as C

        self.wire += C.string_at(data, n)

    def request(self, msg, body=b""):
        for byte in p.frame(p.encode_packet(msg, 1, body)):
            self.lib.ehd_service_feed(self.svc, byte)
        reply, self.wire = p.unframe(self.wire), b""
        return reply


def test_init_refuses_outputs_whose_sizes_wrap_32_bits():
    """65535 outputs of 65537 bytes plus the 4 bytes of ticks sum to 3 mod 2^32: the INFER reply must be refused."""
    from edgehdc_bindings import structs as S

    assert HandService([(1, 1, 1, 65537)], [0] * 65535, 65537).status == S.Status.ERR_ARG


def test_model_info_refuses_what_its_fields_cannot_hold():
    """256 outputs do not fit MODEL_INFO's n_outputs:u8, a dimension of 70,000 not a u16: RUNTIME, not
    a description with truncated numbers."""
    for tensors, outputs in [([(1, 1, 1, 1)], [0] * 256), ([(1, 1, 1, 70_000), (1, 1, 1, 1)], [1])]:
        svc = HandService(tensors, outputs, 70_000)
        assert svc.status == 0 and svc.request(p.MsgType.INFO).type == p.MsgType.INFO | p.REPLY
        reply = svc.request(p.MsgType.MODEL_INFO)
        assert reply.type == p.MsgType.ERROR and reply.body[0] == p.ErrorCode.RUNTIME, reply
    svc = HandService([(1, 1, 1, 65_535), (1, 1, 1, 1)], [1] * 255, 70_000)  # the largest it can describe
    info = p.ModelInfo.from_body(svc.request(p.MsgType.MODEL_INFO).body)
    assert info.input.shape == (1, 1, 1, 65_535) and len(info.outputs) == 255
