"""Talking to a device: the serial protocol, the link, the emulated board, the firmware size."""

from .emulator import EmulatedBoard, EmulatorError, pio_env, ticks_to_instructions
from .link import DeviceLink, DeviceTimeout, StaleModelError
from .protocol import (
    Backend,
    DeviceError,
    ErrorCode,
    InferReply,
    InfoReply,
    MsgType,
    Packet,
    ProtocolError,
)
from .size import firmware_size

__all__ = [
    "Backend", "DeviceError", "DeviceLink", "DeviceTimeout", "EmulatedBoard", "EmulatorError",
    "ErrorCode", "InferReply", "InfoReply", "MsgType", "Packet", "ProtocolError", "StaleModelError",
    "firmware_size", "pio_env", "ticks_to_instructions",
]
