"""edgehdc's offline dev-platform: no packages, the toolchain and QEMU come from the system."""

from platformio.public import PlatformBase


class EdgehdcqemuPlatform(PlatformBase):
    pass
