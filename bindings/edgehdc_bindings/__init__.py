"""The edgehdc firmware C library compiled for the host and called through ctypes.

Tests use it to run the very firmware code on x86: every kernel has the same
signature as its Numba mirror in `edgehdc.kernels`, and `FirmwareModel` runs a
generated model end to end (CNN, HDC encoding, Hamming search).
"""

from edgehdc_bindings.build import BACKENDS, BuildError, build_library, firmware_sources
from edgehdc_bindings.kernels import (
    add_s8,
    avg_pool2d_s8,
    conv2d_s8,
    default_library,
    depthwise_conv2d_s8,
    dequantize_s8_f32,
    fully_connected_s8,
    hdc_classify,
    hdc_encode,
    max_pool2d_s8,
    mean_hw_s8,
    pad_s8,
    quantize_f32_s8,
    relu_s8,
    requantize_s8_s8,
    softmax_s8,
)
from edgehdc_bindings.model import FirmwareModel, Inference
from edgehdc_bindings.structs import FirmwareError, Status

__all__ = [
    "BuildError", "FirmwareError", "FirmwareModel", "Inference", "Status",
    "add_s8", "avg_pool2d_s8", "build_library", "conv2d_s8", "default_library",
    "depthwise_conv2d_s8", "dequantize_s8_f32", "firmware_sources", "fully_connected_s8",
    "hdc_classify", "hdc_encode", "max_pool2d_s8", "mean_hw_s8", "pad_s8", "quantize_f32_s8",
    "relu_s8", "requantize_s8_s8", "softmax_s8",
    "BACKENDS",
]
