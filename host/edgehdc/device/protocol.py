"""Serial protocol version 1 (docs/protocol.md): COBS framing, CRC-16, typed messages.

    wire   = COBS(packet) 0x00
    packet = version:u8 type:u8 seq:u8 body crc:u16le   (CRC-16/CCITT-FALSE)

Pure functions and dataclasses, no I/O: `edgehdc.device.link` moves the bytes.
The constants mirror `firmware/include/ehd/ehd_protocol.h` (a test checks them).
"""

from __future__ import annotations

import enum
import math
import struct
from dataclasses import dataclass

import numpy as np

PROTOCOL_VERSION = 1
HEADER_BYTES = 3
CRC_BYTES = 2
MAX_BODY = 4096  # EHD_PROTO_MAX_BODY
MAX_PACKET = MAX_BODY + HEADER_BYTES + CRC_BYTES  # EHD_PROTO_MAX_PACKET
REPLY = 0x80


class MsgType(enum.IntEnum):
    INFO = 0x01
    INFER = 0x02
    # HDC messages, 0x10-0x1F (firmware/src/app/ehd_learn.c)
    HDC_CLASSIFY = 0x10
    LEARN_ADD = 0x11
    LEARN_NEW_CLASS = 0x12
    LEARN_RESET = 0x13
    PROTO_WRITE = 0x14
    PROTO_READ = 0x15
    LEARN_INFO = 0x16
    # runtime messages, 0x20-0x2F (firmware/src/app/ehd_runtime_msgs.c)
    MODEL_INFO = 0x20
    INPUT_WRITE = 0x21
    INVOKE = 0x22
    OUTPUT_READ = 0x23
    PROFILE = 0x30  # one inference, ticks per layer (edgehdc.device.profile)
    ERROR = 0x7F


class ErrorCode(enum.IntEnum):
    BAD_CRC = 1
    BAD_FRAME = 2
    BAD_VERSION = 3
    UNKNOWN_TYPE = 4
    BAD_LENGTH = 5
    FRAME_TOO_LONG = 6
    RUNTIME = 7
    # HDC errors, 16-23
    LEARN_DISABLED = 16
    CLASS_OUT_OF_RANGE = 17
    CLASS_TABLE_FULL = 18
    BAD_LEARN_MODE = 19
    # runtime errors, 32-39
    OUT_OF_RANGE = 32
    INTEGRITY = 24  # detail: InfoReply.integrity flags; the device runs nothing until reflashed


class Backend(enum.IntEnum):
    PORTABLE = 0
    DSP = 1
    CMSIS_NN = 2


class ProtocolError(Exception):
    """A frame or reply that does not follow the protocol (bad COBS, CRC, length, type)."""


class DeviceError(Exception):
    """The device answered with an ERROR reply."""

    def __init__(self, code: int, detail: int, seq: int = 0):
        self.code = ErrorCode(code) if code in ErrorCode._value2member_map_ else code
        self.detail = detail
        self.seq = seq
        name = self.code.name if isinstance(self.code, ErrorCode) else f"code {code}"
        super().__init__(f"device error {name} (detail {detail})")

    @property
    def name(self) -> str:
        return self.code.name if isinstance(self.code, ErrorCode) else f"UNKNOWN_{self.code}"

    @classmethod
    def from_packet(cls, packet: "Packet") -> "DeviceError":
        if packet.type != MsgType.ERROR:
            raise ProtocolError(f"packet type 0x{packet.type:02x} is not an ERROR reply")
        if len(packet.body) != 5:
            raise ProtocolError(f"ERROR reply body has {len(packet.body)} bytes, expected 5")
        code, detail = struct.unpack("<Bi", packet.body)
        return cls(code, detail, packet.seq)


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor)."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def cobs_encode(data: bytes) -> bytes:
    """COBS without the trailing 0x00; a final full block gets no extra code byte."""
    out = bytearray()
    block = bytearray()
    for i, byte in enumerate(data):
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
            continue
        block.append(byte)
        if len(block) == 254 and i + 1 < len(data):
            out.append(0xFF)
            out += block
            block.clear()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(frame: bytes) -> bytes:
    """Inverse of `cobs_encode` for one frame without its 0x00; ProtocolError if malformed."""
    if not frame:
        raise ProtocolError("empty COBS frame")
    out = bytearray()
    i = 0
    while i < len(frame):
        code = frame[i]
        block = frame[i + 1 : i + code]
        if code == 0 or len(block) != code - 1 or 0 in block:
            raise ProtocolError(f"malformed COBS block at byte {i}")
        out += block
        i += code
        if code != 0xFF and i < len(frame):
            out.append(0)
    return bytes(out)


@dataclass(frozen=True)
class Packet:
    type: int
    seq: int
    body: bytes = b""
    version: int = PROTOCOL_VERSION


def encode_packet(type: int, seq: int, body: bytes = b"", version: int = PROTOCOL_VERSION) -> bytes:
    """version type seq body crc (not framed). Any version may be built, for tests."""
    if not (0 <= type <= 0xFF and 0 <= seq <= 0xFF and 0 <= version <= 0xFF):
        raise ValueError(f"type, seq and version must be bytes, got {type}, {seq}, {version}")
    if len(body) > MAX_BODY:
        raise ValueError(f"body of {len(body)} bytes exceeds the protocol maximum {MAX_BODY}")
    head = bytes((version, type, seq)) + bytes(body)
    return head + struct.pack("<H", crc16(head))


def decode_packet(packet: bytes) -> Packet:
    """Checks length, CRC and version; ProtocolError otherwise."""
    if len(packet) < HEADER_BYTES + CRC_BYTES:
        raise ProtocolError(f"packet of {len(packet)} bytes is shorter than 5")
    (received,) = struct.unpack("<H", packet[-2:])
    computed = crc16(packet[:-2])
    if received != computed:
        raise ProtocolError(f"bad CRC: received 0x{received:04x}, computed 0x{computed:04x}")
    if packet[0] != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {packet[0]}, expected {PROTOCOL_VERSION}")
    return Packet(type=packet[1], seq=packet[2], body=bytes(packet[3:-2]), version=packet[0])


def frame(packet: bytes) -> bytes:
    """The bytes on the wire for one packet: COBS(packet) 0x00."""
    return cobs_encode(packet) + b"\x00"


def unframe(wire: bytes) -> Packet:
    """Decodes one wire frame (with or without its 0x00) into a checked Packet."""
    if wire.endswith(b"\x00"):
        wire = wire[:-1]
    return decode_packet(cobs_decode(wire))


_INFO_HEAD = struct.Struct("<BB8s4HIHHHIIB")  # 37 bytes, the board name follows
_INFO_INTEGRITY = struct.Struct("<HBII")  # after the board name: table format, flags, CRCs computed at boot


class Integrity(enum.IntFlag):
    """INFO's `integrity` flags (firmware/include/ehd/ehd_integrity.h); 0: every table intact."""

    MODEL_CORRUPT = 1
    HDC_CORRUPT = 2
    BAD_FORMAT = 4


@dataclass(frozen=True)
class InfoReply:
    protocol_version: int
    backend: int
    model_id: bytes
    input_shape: tuple[int, int, int, int]  # NHWC
    input_bytes: int
    n_features: int
    hv_dim: int
    n_classes: int
    arena_bytes: int
    counter_hz: int
    board: str
    table_format: int = 0  # format version of the flashed tables
    integrity: Integrity = Integrity(0)
    model_crc: int = 0  # CRC-32 of the model table, computed by the device at boot
    hdc_crc: int = 0

    @property
    def intact(self) -> bool:
        return self.integrity == 0

    @classmethod
    def from_body(cls, body: bytes) -> "InfoReply":
        if len(body) < _INFO_HEAD.size:
            raise ProtocolError(f"INFO reply of {len(body)} bytes, expected >= {_INFO_HEAD.size}")
        f = _INFO_HEAD.unpack_from(body)
        name_end = _INFO_HEAD.size + f[-1]
        if len(body) != name_end + _INFO_INTEGRITY.size:
            raise ProtocolError(f"INFO reply of {len(body)} bytes, board name says {name_end + _INFO_INTEGRITY.size}")
        table_format, flags, model_crc, hdc_crc = _INFO_INTEGRITY.unpack_from(body, name_end)
        return cls(
            protocol_version=f[0], backend=f[1], model_id=f[2], input_shape=tuple(f[3:7]),
            input_bytes=f[7], n_features=f[8], hv_dim=f[9], n_classes=f[10],
            arena_bytes=f[11], counter_hz=f[12],
            board=body[_INFO_HEAD.size : name_end].decode("ascii", errors="replace"),
            table_format=table_format, integrity=Integrity(flags), model_crc=model_crc, hdc_crc=hdc_crc,
        )

    def infer_reply_bytes(self) -> int:
        return 12 + 2 * self.n_classes + self.n_features + self.hv_dim // 8


@dataclass(frozen=True)
class InferReply:
    label: int
    confidence: int
    ticks_model: int
    ticks_hdc: int
    distances: np.ndarray  # uint16 [n_classes]
    features: np.ndarray  # int8 [n_features]
    hv: np.ndarray  # uint32 [hv_dim / 32], bit i in word i >> 5, bit i & 31

    @classmethod
    def from_body(cls, body: bytes, info: InfoReply) -> "InferReply":
        """Parses an INFER reply; its layout depends on the sizes the device gave in INFO."""
        if len(body) != info.infer_reply_bytes():
            raise ProtocolError(f"INFER reply of {len(body)} bytes, expected {info.infer_reply_bytes()}")
        label, confidence, ticks_model, ticks_hdc = struct.unpack_from("<HHII", body)
        at = 12
        distances = np.frombuffer(body, "<u2", info.n_classes, at).astype(np.uint16)
        at += 2 * info.n_classes
        features = np.frombuffer(body, np.int8, info.n_features, at).copy()
        at += info.n_features
        hv = np.frombuffer(body, "<u4", info.hv_dim // 32, at).astype(np.uint32)
        return cls(label, confidence, ticks_model, ticks_hdc, distances, features, hv)


# --- HDC messages (0x10-0x1F) -----------------------------------------------------------------


@dataclass(frozen=True)
class ClassifyReply:
    """HDC_CLASSIFY: the device's encoding and search of one feature vector."""

    label: int
    confidence: int
    ticks_encode: int
    ticks_search: int
    distances: np.ndarray  # uint16 [n_classes]; 0xFFFF for a free class slot
    hv: np.ndarray  # uint32 [hv_dim / 32]

    @classmethod
    def from_body(cls, body: bytes, info: InfoReply) -> "ClassifyReply":
        size = 12 + 2 * info.n_classes + info.hv_dim // 8
        if len(body) != size:
            raise ProtocolError(f"HDC_CLASSIFY reply of {len(body)} bytes, expected {size}")
        label, confidence, t_enc, t_search = struct.unpack_from("<HHII", body)
        distances = np.frombuffer(body, "<u2", info.n_classes, 12).astype(np.uint16)
        hv = np.frombuffer(body, "<u4", info.hv_dim // 32, 12 + 2 * info.n_classes).astype(np.uint32)
        return cls(label, confidence, t_enc, t_search, distances, hv)


class LearnMode(enum.IntEnum):
    BUNDLE = 0  # accumulators += bipolar(hv)
    ONLINE = 1  # perceptron update when (within the margin of) a mistake


class LearnSource(enum.IntEnum):
    FEATURES = 0  # examples are int8 feature vectors (n_features bytes)
    INPUT = 1  # examples are model inputs (input_bytes): the device runs its CNN


LEARN_HEADER = struct.Struct("<HBBHH")  # class, mode, source, margin, count


def learn_add_body(label: int, examples: np.ndarray, mode: int = LearnMode.BUNDLE,
                   source: int = LearnSource.FEATURES, margin: int = 0) -> bytes:
    """LEARN_ADD request: header then the int8 examples, row after row."""
    examples = np.ascontiguousarray(examples, dtype=np.int8).reshape(len(examples), -1)
    return LEARN_HEADER.pack(label, mode, source, margin, len(examples)) + examples.tobytes()


@dataclass(frozen=True)
class LearnReply:
    label: int
    count: int
    updated: int  # examples that changed the accumulators (all of them when bundling)
    saturated: int  # accumulator entries held at +-32767
    ticks: int

    @classmethod
    def from_body(cls, body: bytes) -> "LearnReply":
        if len(body) != 14:
            raise ProtocolError(f"LEARN_ADD reply of {len(body)} bytes, expected 14")
        return cls(*struct.unpack("<HHHII", body))


@dataclass(frozen=True)
class LearnInfo:
    """LEARN_INFO / LEARN_RESET / LEARN_NEW_CLASS reply (the latter prefixed by the new class)."""

    capacity: int
    n_flashed: int
    n_active: int
    ram_bytes: int

    @classmethod
    def from_body(cls, body: bytes) -> "LearnInfo":
        if len(body) != 10:
            raise ProtocolError(f"learner state of {len(body)} bytes, expected 10")
        return cls(*struct.unpack("<HHHI", body))


# --- runtime messages (0x20-0x2F) -------------------------------------------------------------

RUNTIME_REVISION = 1
_TENSOR_DESC = struct.Struct("<B4HI")  # dtype, n, h, w, c, bytes
OUTPUT_READ = struct.Struct("<HIH")  # index, offset, length
NO_OUTPUT = 0xFF
DTYPES = {0: np.dtype(np.int8), 1: np.dtype("<f4")}  # ehd_dtype


@dataclass(frozen=True)
class TensorDesc:
    dtype: np.dtype
    shape: tuple[int, int, int, int]  # NHWC
    bytes: int


@dataclass(frozen=True)
class ModelInfo:
    """MODEL_INFO: the model's input and output tensors, and which output feeds the HDC head."""

    revision: int
    input: TensorDesc
    outputs: tuple[TensorDesc, ...]
    feature: int | None  # index into `outputs`, None for a plain int8 model

    @classmethod
    def from_body(cls, body: bytes) -> "ModelInfo":
        if len(body) < 3:
            raise ProtocolError(f"MODEL_INFO reply of {len(body)} bytes, expected >= 3")
        revision, n_outputs, feature = body[:3]
        size = 3 + _TENSOR_DESC.size * (1 + n_outputs)
        if len(body) != size:
            raise ProtocolError(f"MODEL_INFO reply of {len(body)} bytes, expected {size}")
        descs = []
        for k in range(1 + n_outputs):
            dtype, *shape, nbytes = _TENSOR_DESC.unpack_from(body, 3 + k * _TENSOR_DESC.size)
            if dtype not in DTYPES:
                raise ProtocolError(f"MODEL_INFO tensor {k} has unknown dtype {dtype}")
            if nbytes != math.prod(shape) * DTYPES[dtype].itemsize:
                raise ProtocolError(f"MODEL_INFO tensor {k}: {nbytes} bytes for shape {tuple(shape)}")
            descs.append(TensorDesc(DTYPES[dtype], tuple(shape), nbytes))
        if feature != NO_OUTPUT and feature >= n_outputs:
            raise ProtocolError(f"MODEL_INFO names output {feature} as the feature, of {n_outputs} outputs")
        return cls(revision, descs[0], tuple(descs[1:]), None if feature == NO_OUTPUT else feature)

    def infer_reply_bytes(self) -> int:
        """INFER reply of a plain model: ticks_model:u32 then every output."""
        return 4 + sum(d.bytes for d in self.outputs)


@dataclass(frozen=True)
class OutputsReply:
    """INFER / INVOKE reply of a plain int8 model (no HDC head)."""

    ticks_model: int
    outputs: list[np.ndarray]  # NHWC, int8 or float32

    @classmethod
    def from_body(cls, body: bytes, model: ModelInfo) -> "OutputsReply":
        if len(body) != model.infer_reply_bytes():
            raise ProtocolError(f"INFER reply of {len(body)} bytes, expected {model.infer_reply_bytes()}")
        (ticks,) = struct.unpack_from("<I", body)
        outputs, at = [], 4
        for d in model.outputs:
            outputs.append(np.frombuffer(body, d.dtype, d.bytes // d.dtype.itemsize, at).reshape(d.shape).copy())
            at += d.bytes
        return cls(ticks, outputs)


def input_write_bodies(data: bytes, chunk: int = MAX_BODY - 4) -> list[bytes]:
    """INPUT_WRITE requests (offset:u32 then bytes) that write `data` into the input tensor."""
    return [struct.pack("<I", at) + data[at : at + chunk] for at in range(0, len(data), chunk)] or [b"\0" * 4]
