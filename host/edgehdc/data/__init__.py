"""Datasets as float32 NHWC `Split`s in [0, 1], and their int8 input quantization."""

from edgehdc.data.digits import load_digits
from edgehdc.data.quantize import quantize_input, round_half_away
from edgehdc.data.split import Split

__all__ = ["Split", "load_digits", "quantize_input", "round_half_away"]
