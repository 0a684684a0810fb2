"""Request/reply link to a device over pyserial (a COM port or socket://HOST:PORT)."""

from __future__ import annotations

import struct

import numpy as np
import serial

from .protocol import (
    MAX_BODY,
    MAX_PACKET,
    OUTPUT_READ,
    ModelInfo,
    OutputsReply,
    input_write_bodies,
    ClassifyReply,
    LearnInfo,
    LearnMode,
    LearnReply,
    LearnSource,
    DeviceError,
    InferReply,
    InfoReply,
    MsgType,
    Packet,
    ProtocolError,
    encode_packet,
    frame,
    learn_add_body,
    unframe,
)

# The longest reply frame, with its COBS overhead and 0x00.
_MAX_WIRE = MAX_PACKET + MAX_PACKET // 254 + 2


class DeviceTimeout(TimeoutError):
    """The device did not answer within the link's timeout."""


class StaleModelError(RuntimeError):
    """The device runs another model than the host artifacts describe."""


class DeviceLink:
    """One device, one request at a time: every request gets exactly one reply.

    `port` is anything `serial.serial_for_url` accepts: "/dev/ttyACM0",
    "socket://127.0.0.1:4321" (the emulated board), "loop://" ...
    """

    def __init__(self, port: str, timeout: float = 5.0, baudrate: int = 115200, on_close=None):
        self.port = port
        self.timeout = timeout
        self._serial = serial.serial_for_url(port, baudrate=baudrate, timeout=timeout)
        self._seq = 0
        self._info: InfoReply | None = None
        self._model_info: ModelInfo | None = None
        self._on_close = on_close

    def close(self) -> None:
        """Closes the port; a link from `EmulatedBoard.start()` also stops the emulator."""
        self._serial.close()
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    def __enter__(self) -> "DeviceLink":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send_raw(self, data: bytes) -> Packet:
        """Writes `data` as is and returns the next reply packet (ERROR replies included)."""
        self._serial.write(data)
        self._serial.flush()
        return self._read_packet()

    def request(self, type: int, body: bytes = b"") -> Packet:
        """Sends one request; returns its reply, raises DeviceError for an ERROR reply."""
        self._seq = (self._seq + 1) & 0xFF
        # A leading 0x00 ends whatever partial frame the device may hold (an empty frame is ignored).
        reply = self.send_raw(b"\x00" + frame(encode_packet(type, self._seq, body)))
        if reply.type == MsgType.ERROR:
            raise DeviceError.from_packet(reply)
        if reply.type != type | 0x80 or reply.seq != self._seq:
            raise ProtocolError(
                f"reply type 0x{reply.type:02x} seq {reply.seq} does not answer "
                f"type 0x{type:02x} seq {self._seq}"
            )
        return reply

    def info(self) -> InfoReply:
        self._info = InfoReply.from_body(self.request(MsgType.INFO).body)
        return self._info

    def expect_model(self, model_id: bytes) -> InfoReply:
        """INFO, then StaleModelError unless the device runs the model `model_id` (8 bytes)."""
        info = self.info()
        if info.model_id != bytes(model_id):
            raise StaleModelError(
                f"{self.port} runs model {info.model_id.hex()}, expected {bytes(model_id).hex()}: reflash it"
            )
        return info

    def infer(self, x: np.ndarray) -> InferReply:
        """Runs the model and the HDC classifier on one int8 input (NHWC, any shape of the right size)."""
        info = self._info or self.info()
        x = np.asarray(x)
        if x.dtype != np.int8:
            raise ValueError(f"input must be int8, got {x.dtype}")
        if x.size != info.input_bytes:
            raise ValueError(
                f"input has {x.size} values, the device model takes {info.input_bytes} "
                f"(NHWC {info.input_shape})"
            )
        reply = self.request(MsgType.INFER, np.ascontiguousarray(x).tobytes())
        return InferReply.from_body(reply.body, info)

    # --- HDC messages (docs/protocol.md, docs/hdc.md) --------------------------------------

    def hdc_classify(self, features: np.ndarray) -> ClassifyReply:
        """Encodes and classifies one int8 feature vector on the device (encode/search ticks apart)."""
        info = self._info or self.info()
        features = np.asarray(features)
        if features.dtype != np.int8 or features.size != info.n_features:
            raise ValueError(f"features must be {info.n_features} int8 values, got {features.dtype} {features.shape}")
        reply = self.request(MsgType.HDC_CLASSIFY, np.ascontiguousarray(features).tobytes())
        return ClassifyReply.from_body(reply.body, info)

    def learn_add(self, label: int, examples: np.ndarray, mode: int = LearnMode.BUNDLE,
                  source: int = LearnSource.FEATURES, margin: int = 0) -> LearnReply:
        """Teaches class `label` with int8 examples [k, n_features] (or [k, ...input] with
        source=INPUT): bundled, or online updates within `margin` bits of a mistake."""
        body = learn_add_body(label, examples, mode, source, margin)
        return LearnReply.from_body(self.request(MsgType.LEARN_ADD, body).body)

    def learn_new_class(self) -> tuple[int, LearnInfo]:
        """Activates the next free class slot; returns (its index, the learner state)."""
        body = self.request(MsgType.LEARN_NEW_CLASS).body
        if len(body) != 12:
            raise ProtocolError(f"LEARN_NEW_CLASS reply of {len(body)} bytes, expected 12")
        return int.from_bytes(body[:2], "little"), LearnInfo.from_body(body[2:])

    def learn_reset(self) -> LearnInfo:
        """Back to the flashed prototypes and accumulators."""
        return LearnInfo.from_body(self.request(MsgType.LEARN_RESET).body)

    def learn_info(self) -> LearnInfo:
        return LearnInfo.from_body(self.request(MsgType.LEARN_INFO).body)

    def prototype(self, label: int) -> tuple[bool, np.ndarray]:
        """(active, prototype uint32 [hv_dim / 32]) of class slot `label`."""
        info = self._info or self.info()
        body = self.request(MsgType.PROTO_READ, label.to_bytes(2, "little")).body
        if len(body) != 3 + info.hv_dim // 8:
            raise ProtocolError(f"PROTO_READ reply of {len(body)} bytes, expected {3 + info.hv_dim // 8}")
        return bool(body[2]), np.frombuffer(body, "<u4", info.hv_dim // 32, 3).astype(np.uint32)

    def write_prototype(self, label: int, bits: np.ndarray, weight: int = 1) -> int:
        """Replaces class slot `label` (active, or the next free one) by `bits` (uint32 words);
        its accumulators become +-weight. Returns the number of active classes."""
        words = np.ascontiguousarray(bits, dtype="<u4").reshape(-1)
        body = self.request(MsgType.PROTO_WRITE, struct.pack("<HH", label, weight) + words.tobytes()).body
        return int.from_bytes(body[2:4], "little")

    # --- runtime messages (docs/protocol.md): any model, its output tensors -------------------

    def model_info(self) -> ModelInfo:
        self._model_info = ModelInfo.from_body(self.request(MsgType.MODEL_INFO).body)
        return self._model_info

    def run(self, x: np.ndarray) -> tuple[int, list[np.ndarray], InferReply | None]:
        """Runs the model on one input (int8 or float32 as the model's): (ticks_model, every output
        tensor NHWC, the HDC reply or None for a plain model). An input larger than a frame goes in
        INPUT_WRITE chunks, then INVOKE."""
        model = self._model_info or self.model_info()
        data = self.input_bytes(x)
        if len(data) <= MAX_BODY:
            reply = self.request(MsgType.INFER, data)
        else:
            self.write_input(data)
            reply = self.request(MsgType.INVOKE)
        if model.feature is None:
            out = OutputsReply.from_body(reply.body, model)
            return out.ticks_model, out.outputs, None
        hdc = InferReply.from_body(reply.body, self._info or self.info())
        return hdc.ticks_model, [self.read_output(k) for k in range(len(model.outputs))], hdc

    def input_bytes(self, x: np.ndarray) -> bytes:
        """One input (int8 or float32 as the model's) as the bytes the device's input tensor holds."""
        model = self._model_info or self.model_info()
        x = np.asarray(x)
        if x.dtype != model.input.dtype.newbyteorder("=") or x.nbytes != model.input.bytes:
            raise ValueError(f"input must be {model.input.dtype} with shape {model.input.shape}, got {x.dtype} {x.shape}")
        return np.ascontiguousarray(x, model.input.dtype).tobytes()

    def write_input(self, data: bytes) -> None:
        """Writes an input larger than a frame into the device's input tensor (INPUT_WRITE chunks)."""
        for body in input_write_bodies(data):
            self.request(MsgType.INPUT_WRITE, body)

    def read_output(self, index: int) -> np.ndarray:
        """Output tensor `index` as the last run left it (OUTPUT_READ, frame by frame)."""
        model = self._model_info or self.model_info()
        d = model.outputs[index]
        data = b"".join(self.request(MsgType.OUTPUT_READ, OUTPUT_READ.pack(index, at, min(MAX_BODY, d.bytes - at))).body
                        for at in range(0, d.bytes, MAX_BODY))
        return np.frombuffer(data, d.dtype).reshape(d.shape).copy()

    def _read_packet(self) -> Packet:
        while True:
            wire = self._serial.read_until(b"\x00", _MAX_WIRE)
            if not wire.endswith(b"\x00"):
                if len(wire) >= _MAX_WIRE:
                    raise ProtocolError(f"reply from {self.port} longer than {_MAX_WIRE} bytes")
                raise DeviceTimeout(
                    f"no reply from {self.port} within {self.timeout} s "
                    f"({len(wire)} bytes of a frame received)"
                )
            if wire != b"\x00":  # empty frames are ignored, as on the device
                return unframe(wire)
