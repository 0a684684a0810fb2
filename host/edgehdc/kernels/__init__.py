"""Numba int8 kernels that mirror the firmware (and TFLM's reference kernels) bit for bit.

One module per concern; each public kernel is a thin wrapper that checks
shapes and dtypes, then calls an `@njit` loop. `interpreter.run` executes a
whole IR graph with them.
"""

from edgehdc.kernels.conv import conv2d_s8, depthwise_conv2d_s8
from edgehdc.kernels.fully_connected import fully_connected_s8
from edgehdc.kernels.pooling import avg_pool2d_s8, max_pool2d_s8
from edgehdc.kernels.requantize import multiply_by_quantized_multiplier

__all__ = [
    "avg_pool2d_s8",
    "conv2d_s8",
    "depthwise_conv2d_s8",
    "fully_connected_s8",
    "max_pool2d_s8",
    "multiply_by_quantized_multiplier",
]
