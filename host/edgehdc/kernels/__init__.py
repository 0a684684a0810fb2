"""Numba int8 kernels that mirror the firmware (and TFLM's reference kernels) bit for bit.

One module per op family; each public kernel is a thin wrapper that checks
shapes and dtypes, then calls an `@njit` loop, and states its plain-Python
contract in its module docstring. `interpreter.run` executes a whole IR
graph with them.
"""

from edgehdc.kernels.conv import conv2d_s8, depthwise_conv2d_s8
from edgehdc.kernels.elementwise import add_s8, relu_s8
from edgehdc.kernels.fully_connected import fully_connected_s8
from edgehdc.kernels.pooling import avg_pool2d_s8, max_pool2d_s8
from edgehdc.kernels.quantize import dequantize_s8_f32, quantize_f32_s8, requantize_s8_s8
from edgehdc.kernels.reduce import mean_hw_s8
from edgehdc.kernels.requantize import multiply_by_quantized_multiplier
from edgehdc.kernels.shape import pad_s8, reshape
from edgehdc.kernels.softmax import softmax_s8

__all__ = [
    "add_s8",
    "avg_pool2d_s8",
    "conv2d_s8",
    "depthwise_conv2d_s8",
    "dequantize_s8_f32",
    "fully_connected_s8",
    "max_pool2d_s8",
    "mean_hw_s8",
    "multiply_by_quantized_multiplier",
    "pad_s8",
    "quantize_f32_s8",
    "relu_s8",
    "requantize_s8_s8",
    "reshape",
    "softmax_s8",
]
