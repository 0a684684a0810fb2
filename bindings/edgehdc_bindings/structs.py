"""ctypes mirrors of the firmware's public structs (firmware/include/ehd/*.h).

Field order and types follow the headers exactly; ctypes applies the same
alignment rules as the host C compiler.
"""

from __future__ import annotations

import ctypes as C
import enum

import numpy as np


class Status(enum.IntEnum):
    """ehd_status (ehd_types.h)."""

    OK = 0
    ERR_ARG = -1
    ERR_SHAPE = -2
    ERR_UNSUPPORTED = -3
    ERR_ARENA = -4


class Op(enum.IntEnum):
    """ehd_op (ehd_model.h)."""

    CONV_2D = 0
    DEPTHWISE_CONV_2D = 1
    FULLY_CONNECTED = 2
    AVERAGE_POOL_2D = 3
    MAX_POOL_2D = 4
    ADD = 5
    MEAN = 6
    PAD = 7
    SOFTMAX = 8
    RELU = 9
    RELU6 = 10
    QUANTIZE = 11
    DEQUANTIZE = 12


class FirmwareError(ValueError):
    """A firmware call returned a status other than EHD_OK."""

    def __init__(self, call: str, status: int):
        self.status = status
        name = Status(status).name if status in Status._value2member_map_ else str(status)
        super().__init__(f"{call} returned EHD_{name} ({status})")


def check(call: str, status: int) -> None:
    if status != Status.OK:
        raise FirmwareError(call, status)


class Dims(C.Structure):
    _fields_ = [("n", C.c_int32), ("h", C.c_int32), ("w", C.c_int32), ("c", C.c_int32)]

    @classmethod
    def of(cls, shape) -> "Dims":
        """NHWC dims of a 4-D shape, or {N, 1, 1, C} of a 2-D one."""
        shape = tuple(int(v) for v in shape)
        if len(shape) == 2:
            shape = (shape[0], 1, 1, shape[1])
        if len(shape) != 4:
            raise ValueError(f"expected a 2-D or 4-D shape, got {shape}")
        return cls(*shape)

    @classmethod
    def extended(cls, shape) -> "Dims":
        """Dims of a rank <= 4 shape with leading 1s (TFLite's ExtendedShape, NumPy broadcasting)."""
        shape = tuple(int(v) for v in shape)
        if len(shape) > 4:
            raise ValueError(f"firmware tensors have at most 4 dimensions, got {shape}")
        return cls(*((1,) * (4 - len(shape)) + shape))


class Offsets(C.Structure):
    _fields_ = [("input_offset", C.c_int32), ("output_offset", C.c_int32)]


class ConvParams(C.Structure):
    _fields_ = [
        ("weights", C.POINTER(C.c_int8)),
        ("bias", C.POINTER(C.c_int32)),
        ("multiplier", C.POINTER(C.c_int32)),
        ("shift", C.POINTER(C.c_int32)),
        ("filter", Dims),
        ("stride_h", C.c_int32), ("stride_w", C.c_int32),
        ("pad_h", C.c_int32), ("pad_w", C.c_int32),
        ("dilation_h", C.c_int32), ("dilation_w", C.c_int32),
        ("depth_multiplier", C.c_int32),
        ("act_min", C.c_int32), ("act_max", C.c_int32),
    ]


class FcParams(C.Structure):
    _fields_ = [
        ("weights", C.POINTER(C.c_int8)),
        ("bias", C.POINTER(C.c_int32)),
        ("multiplier", C.POINTER(C.c_int32)),  # [out] if per_channel, else [1]
        ("shift", C.POINTER(C.c_int32)),
        ("per_channel", C.c_int32),
        ("filter", Dims),  # {out, 1, 1, in}
        ("act_min", C.c_int32), ("act_max", C.c_int32),
    ]


class PoolParams(C.Structure):
    _fields_ = [
        ("filter_h", C.c_int32), ("filter_w", C.c_int32),
        ("stride_h", C.c_int32), ("stride_w", C.c_int32),
        ("pad_h", C.c_int32), ("pad_w", C.c_int32),
        ("act_min", C.c_int32), ("act_max", C.c_int32),
    ]


class AddParams(C.Structure):
    _fields_ = [(name, C.c_int32) for name in (
        "input1_offset", "input2_offset", "output_offset", "left_shift",
        "input1_multiplier", "input1_shift", "input2_multiplier", "input2_shift",
        "output_multiplier", "output_shift", "act_min", "act_max")]


class RescaleParams(C.Structure):
    """RELU, RELU6 and int8 -> int8 QUANTIZE."""

    _fields_ = [(name, C.c_int32) for name in (
        "input_zero_point", "output_zero_point", "multiplier", "shift", "act_min", "act_max")]


class MeanParams(C.Structure):
    _fields_ = [(name, C.c_int32) for name in (
        "input_zero_point", "output_zero_point", "multiplier", "shift")]


class PadParams(C.Structure):
    _fields_ = [("before", C.c_int32 * 4), ("after", C.c_int32 * 4), ("pad_value", C.c_int32)]


class SoftmaxParams(C.Structure):
    _fields_ = [(name, C.c_int32) for name in ("input_multiplier", "input_left_shift", "diff_min")]


class QuantizeParams(C.Structure):
    """QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32."""

    _fields_ = [("scale", C.c_float), ("zero_point", C.c_int32)]


MAX_LAYER_INPUTS = 2
MAX_LAYER_OUTPUTS = 1
MODEL_ID_BYTES = 8
UNUSED_INPUT = NO_TENSOR = 0xFFFF


class Dtype(enum.IntEnum):
    """ehd_dtype (ehd_model.h)."""

    INT8 = 0
    FLOAT32 = 1


class Tensor(C.Structure):
    _fields_ = [("offset", C.c_uint32), ("dims", Dims), ("zero_point", C.c_int32),
                ("dtype", C.c_uint8), ("data", C.c_void_p)]


class Layer(C.Structure):
    _fields_ = [
        ("op", C.c_int),
        ("inputs", C.c_uint16 * MAX_LAYER_INPUTS),
        ("outputs", C.c_uint16 * MAX_LAYER_OUTPUTS),
        ("params", C.c_void_p),
        ("scratch_offset", C.c_uint32), ("scratch_bytes", C.c_uint32),
    ]


class Model(C.Structure):
    _fields_ = [
        ("layers", C.POINTER(Layer)), ("n_layers", C.c_uint16),
        ("tensors", C.POINTER(Tensor)), ("n_tensors", C.c_uint16),
        ("input", C.c_uint16), ("feature", C.c_uint16),
        ("arena_size", C.c_uint32),
        ("model_id", C.c_uint8 * MODEL_ID_BYTES),
        ("outputs", C.POINTER(C.c_uint16)), ("n_outputs", C.c_uint16),
    ]


class HdcEncoder(enum.IntEnum):
    """ehd_hdc_encoder (ehd_hdc.h)."""

    SIGN_PROJECTION = 0
    ID_LEVEL = 1


class HdcLearner(C.Structure):
    _fields_ = [
        ("accumulators", C.POINTER(C.c_int16)),
        ("prototypes", C.POINTER(C.c_uint32)),
        ("flash_accumulators", C.POINTER(C.c_int16)),
        ("capacity", C.c_uint16), ("n_flashed", C.c_uint16), ("n_active", C.c_uint16),
        ("ready", C.c_uint8),
    ]


class HdcModel(C.Structure):
    _fields_ = [
        ("encoder", C.c_int),
        ("dim", C.c_uint16), ("n_features", C.c_uint16),
        ("feature_zero_point", C.c_int32),
        ("centre", C.POINTER(C.c_int8)),
        ("scale", C.POINTER(C.c_uint8)),
        ("projection", C.POINTER(C.c_uint32)),
        ("seed", C.c_uint32),
        ("scratch", C.POINTER(C.c_int16)),
        ("items", C.POINTER(C.c_uint32)),
        ("levels", C.POINTER(C.c_uint32)),
        ("n_levels", C.c_uint16),
        ("level_lo", C.c_int32), ("level_hi", C.c_int32),
        ("n_classes", C.c_uint16),
        ("prototypes", C.POINTER(C.c_uint32)),
        ("learner", C.POINTER(HdcLearner)),
    ]


class Context(C.Structure):
    """ehd_context (ehd_kernels.h): a kernel's scratch buffer."""

    _fields_ = [("buf", C.c_void_p), ("size", C.c_int32)]


class HdcResult(C.Structure):
    _fields_ = [("label", C.c_uint16), ("confidence", C.c_uint16)]


def ptr(a: np.ndarray | None, ctype):
    """A typed pointer to a C-contiguous array's data (NULL for None); keep `a` alive during the call."""
    if a is None:
        return C.POINTER(ctype)()
    assert a.flags.c_contiguous
    return a.ctypes.data_as(C.POINTER(ctype))


_P = C.POINTER
_SIGNATURES = {
    "ehd_convolve_wrapper_s8": (_P(Context), _P(ConvParams), _P(Offsets), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8)),
    "ehd_depthwise_conv_wrapper_s8": (_P(Context), _P(ConvParams), _P(Offsets), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8)),
    "ehd_fully_connected_wrapper_s8": (_P(Context), _P(FcParams), _P(Offsets), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8)),
    "ehd_avgpool_wrapper_s8": (_P(Context), _P(PoolParams), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8)),
    "ehd_maxpool_wrapper_s8": (_P(PoolParams), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8)),
    "ehd_add_wrapper_s8": (_P(Context), _P(AddParams), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8)),
    "ehd_relu_wrapper_s8": (_P(RescaleParams), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8)),
    "ehd_quantize_wrapper_s8_s8": (_P(RescaleParams), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8)),
    "ehd_mean_wrapper_s8": (_P(MeanParams), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8)),
    "ehd_pad_wrapper_s8": (_P(PadParams), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8)),
    "ehd_softmax_wrapper_s8": (_P(SoftmaxParams), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8)),
    "ehd_quantize_wrapper_f32_s8": (_P(QuantizeParams), _P(Dims), _P(C.c_float), _P(Dims), _P(C.c_int8)),
    "ehd_dequantize_wrapper_s8_f32": (_P(QuantizeParams), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_float)),
    "ehd_model_invoke": (_P(Model), _P(C.c_int8)),
    "ehd_hdc_encode": (_P(HdcModel), _P(C.c_int8), _P(C.c_uint32)),
    "ehd_hdc_classify": (_P(HdcModel), _P(C.c_uint32), _P(C.c_uint16), _P(HdcResult)),
}


# The wrappers' scratch sizes (ehd_<op>_wrapper_s8_get_buffer_size) for the library's backend.
BUFFER_SIZES = {
    "ehd_convolve_wrapper_s8": (_P(ConvParams), _P(Dims), _P(Dims)),
    "ehd_depthwise_conv_wrapper_s8": (_P(ConvParams), _P(Dims), _P(Dims)),
    "ehd_fully_connected_wrapper_s8": (_P(FcParams),),
    "ehd_avgpool_wrapper_s8": (_P(Dims), _P(Dims)),
    "ehd_add_wrapper_s8": (_P(Dims), _P(Dims), _P(Dims)),
}


def declare(lib: C.CDLL) -> C.CDLL:
    """Set argtypes/restype of the firmware functions on `lib` (idempotent)."""
    for name, args in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = list(args), C.c_int
    for name, args in BUFFER_SIZES.items():
        fn = getattr(lib, name + "_get_buffer_size")
        fn.argtypes, fn.restype = list(args), C.c_int32
    lib.ehd_model_tensor.argtypes = [_P(Model), _P(C.c_int8), C.c_uint16]
    lib.ehd_model_tensor.restype = C.c_void_p
    return lib
