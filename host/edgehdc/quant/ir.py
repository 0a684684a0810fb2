"""The project's int8 model form: a TFLite-shaped graph, independent of any runtime.

Layouts follow TFLite exactly so import/export is a field-for-field copy:
activations NHWC; CONV_2D weights OHWI; DEPTHWISE_CONV_2D weights 1HW(C*M);
FULLY_CONNECTED weights [out, in]; biases int32 [out] with scale
input_scale * weight_scale and zero point 0. Weights are symmetric int8 in
[-127, 127] (per output channel for convolutions, `axis` names the channel
dimension); activations are asymmetric int8 per tensor.

Ops beyond convolution, FC and pooling keep TFLite's operands too: ADD [a, b],
RESHAPE [x] or [x, shape], PAD [x, paddings], MEAN [x, axis], SOFTMAX,
QUANTIZE, DEQUANTIZE, RELU, RELU6 [x]. QUANTIZE reads float32 (or int8, to
requantize) and DEQUANTIZE writes float32: the only non-int8 activations.

Ops are stored in execution order. Derived integer parameters (multipliers,
shifts, activation clamps, padding) are not stored: `edgehdc.quant.arith`
computes them from the scales exactly as TFLM does at Prepare time, so the
Numba mirror, the firmware export and the .tflite file cannot disagree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np


class OpKind(str, enum.Enum):
    CONV_2D = "CONV_2D"
    DEPTHWISE_CONV_2D = "DEPTHWISE_CONV_2D"
    FULLY_CONNECTED = "FULLY_CONNECTED"
    AVERAGE_POOL_2D = "AVERAGE_POOL_2D"
    MAX_POOL_2D = "MAX_POOL_2D"
    ADD = "ADD"
    RESHAPE = "RESHAPE"
    SOFTMAX = "SOFTMAX"
    QUANTIZE = "QUANTIZE"
    DEQUANTIZE = "DEQUANTIZE"
    PAD = "PAD"
    MEAN = "MEAN"
    RELU = "RELU"
    RELU6 = "RELU6"


class Activation(str, enum.Enum):
    NONE = "NONE"
    RELU = "RELU"
    RELU6 = "RELU6"


class Padding(str, enum.Enum):
    SAME = "SAME"
    VALID = "VALID"


@dataclass(frozen=True)
class QuantParams:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per `axis`."""

    scale: np.ndarray  # float32, shape [1] or [channels]
    zero_point: np.ndarray  # int64, same shape as scale
    axis: int = 0

    @staticmethod
    def per_tensor(scale: float, zero_point: int) -> "QuantParams":
        return QuantParams(np.array([scale], np.float32), np.array([zero_point], np.int64))

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str  # "int8" | "int32" | "float32"
    quant: QuantParams | None = None
    data: np.ndarray | None = None  # constants (weights, biases); None for activations

    @property
    def is_constant(self) -> bool:
        return self.data is not None


@dataclass(frozen=True)
class Conv2DOptions:
    stride: tuple[int, int] = (1, 1)
    padding: Padding = Padding.SAME
    activation: Activation = Activation.NONE
    dilation: tuple[int, int] = (1, 1)


@dataclass(frozen=True)
class DepthwiseConv2DOptions(Conv2DOptions):
    depth_multiplier: int = 1


@dataclass(frozen=True)
class FullyConnectedOptions:
    activation: Activation = Activation.NONE


@dataclass(frozen=True)
class Pool2DOptions:
    filter: tuple[int, int] = (2, 2)
    stride: tuple[int, int] = (2, 2)
    padding: Padding = Padding.VALID
    activation: Activation = Activation.NONE


@dataclass(frozen=True)
class AddOptions:
    activation: Activation = Activation.NONE


@dataclass(frozen=True)
class SoftmaxOptions:
    beta: float = 1.0


@dataclass(frozen=True)
class MeanOptions:
    keep_dims: bool = True


@dataclass
class Op:
    kind: OpKind
    inputs: list[int]  # tensor indices; conv/FC: [input, weights, bias]
    outputs: list[int]
    options: object = None


@dataclass
class Graph:
    tensors: list[Tensor] = field(default_factory=list)
    ops: list[Op] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)

    def add_tensor(self, tensor: Tensor) -> int:
        self.tensors.append(tensor)
        return len(self.tensors) - 1

    def add_op(self, op: Op) -> Op:
        self.ops.append(op)
        return op

    def weights_and_bias(self, op: Op) -> tuple[np.ndarray, np.ndarray | None]:
        """Constant weights and bias (None when absent) of a conv or FULLY_CONNECTED op."""
        has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
        return self.tensors[op.inputs[1]].data, self.tensors[op.inputs[2]].data if has_bias else None

    def tensor_index(self, name: str) -> int:
        for i, t in enumerate(self.tensors):
            if t.name == name:
                return i
        raise KeyError(f"no tensor named {name!r}")
