"""Talking to a device: the serial protocol, the link, the emulated board, the firmware size."""

from .emulator import (
    EmulatedBoard,
    EmulatedBoardSpec,
    EmulatorError,
    board_spec,
    emulated_envs,
    pio_env,
    ticks_to_instructions,
)
from .link import DeviceLink, DeviceTimeout, StaleModelError
from .profile import Profile, print_profile, read_profile
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
    "Backend", "DeviceError", "DeviceLink", "DeviceTimeout", "EmulatedBoard", "EmulatedBoardSpec", "EmulatorError",
    "ErrorCode", "InferReply", "InfoReply", "MsgType", "Packet", "Profile", "ProtocolError", "StaleModelError",
    "board_spec", "emulated_envs", "firmware_size", "pio_env", "print_profile", "read_profile",
    "ticks_to_instructions",
]
