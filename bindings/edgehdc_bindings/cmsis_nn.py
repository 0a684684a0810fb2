"""The `cmsis_nn` backend's adapters (firmware/src/kernels/cmsis_nn), each called on its own.

They live in the library built with `backend="cmsis_nn"` (CMSIS-NN's generic C
paths on the host), whose wrappers call them and fall back to the portable
kernel where an adapter answers EHD_ERR_UNSUPPORTED. Calling an adapter
directly proves CMSIS-NN computed the result. An adapter that takes scratch
gets exactly the bytes its `*_get_buffer_size()` asks for, then guard bytes
that must come back untouched. `arm_buffer_size` calls CMSIS-NN's own
`arm_*_get_buffer_size{,_dsp,_mve}` functions, which host/edgehdc/export/scratch.py
must reproduce.
"""

from __future__ import annotations

import ctypes as C

import numpy as np

from edgehdc_bindings.build import build_library
from edgehdc_bindings.kernels import (
    _any_int8, _lib, add_call_args, conv_call_args, fc_call_args, pool_call_args,
)
from edgehdc_bindings.kernels import with_scratch as _with_scratch
from edgehdc_bindings.structs import (
    AddParams, Context, ConvParams, Dims, FcParams, Offsets, PadParams, PoolParams, SoftmaxParams, check, declare, ptr,
)

_P = C.POINTER
_CONV_ARGS = (_P(Context), _P(ConvParams), _P(Offsets), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8))
_UNARY = (_P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8))
_SIGNATURES = {
    "ehd_convolve_s8_cmsis_nn": _CONV_ARGS,
    "ehd_depthwise_conv_s8_cmsis_nn": _CONV_ARGS,
    "ehd_fully_connected_s8_cmsis_nn": (_P(Context), _P(FcParams), _P(Offsets), *_UNARY),
    "ehd_avgpool_s8_cmsis_nn": (_P(Context), _P(PoolParams), *_UNARY),
    "ehd_maxpool_s8_cmsis_nn": (_P(PoolParams), *_UNARY),
    "ehd_add_s8_cmsis_nn": (_P(AddParams), _P(Dims), _P(C.c_int8), *_UNARY),
    "ehd_softmax_s8_cmsis_nn": (_P(SoftmaxParams), *_UNARY),
    "ehd_pad_s8_cmsis_nn": (_P(PadParams), *_UNARY),
}
_SIZES = {
    "ehd_convolve_s8_cmsis_nn_get_buffer_size": (_P(ConvParams), _P(Dims), _P(Dims)),
    "ehd_depthwise_conv_s8_cmsis_nn_get_buffer_size": (_P(ConvParams), _P(Dims), _P(Dims)),
    "ehd_fully_connected_s8_cmsis_nn_get_buffer_size": (_P(FcParams),),
    "ehd_avgpool_s8_cmsis_nn_get_buffer_size": (_P(Dims), _P(Dims)),
}


class CmsisConvParams(C.Structure):
    """cmsis_nn_conv_params (arm_nn_types.h); tiles are {w, h}."""

    _fields_ = [("input_offset", C.c_int32), ("output_offset", C.c_int32), ("stride", C.c_int32 * 2),
                ("padding", C.c_int32 * 2), ("dilation", C.c_int32 * 2), ("activation", C.c_int32 * 2)]


class CmsisDwConvParams(C.Structure):
    """cmsis_nn_dw_conv_params."""

    _fields_ = [("input_offset", C.c_int32), ("output_offset", C.c_int32), ("ch_mult", C.c_int32),
                ("stride", C.c_int32 * 2), ("padding", C.c_int32 * 2), ("dilation", C.c_int32 * 2),
                ("activation", C.c_int32 * 2)]


_ARM_SIZES = {  # CMSIS-NN's get_buffer_size functions; "" is the build's own core, _dsp/_mve the others
    f"{name}{flavour}": args
    for name, args in {
        "arm_convolve_wrapper_s8_get_buffer_size": (_P(CmsisConvParams), _P(Dims), _P(Dims), _P(Dims)),
        "arm_depthwise_conv_wrapper_s8_get_buffer_size": (_P(CmsisDwConvParams), _P(Dims), _P(Dims), _P(Dims)),
        "arm_fully_connected_s8_get_buffer_size": (_P(Dims),),
        "arm_avgpool_s8_get_buffer_size": (C.c_int, C.c_int),
    }.items()
    for flavour in ("", "_dsp", "_mve")
}

_library: C.CDLL | None = None


def library() -> C.CDLL:
    """The firmware library built with the cmsis_nn backend, once per process."""
    global _library
    if _library is None:
        _library = _declared(build_library(backend="cmsis_nn"))
    return _library


def _declared(lib: C.CDLL) -> C.CDLL:
    declare(lib)
    for table, restype in ((_SIGNATURES, C.c_int), (_SIZES, C.c_int32), (_ARM_SIZES, C.c_int32)):
        for name, args in table.items():
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = list(args), restype
    return lib


def _lib_or_default(lib):
    return library() if lib is None else _declared(_lib(lib))


def conv2d_s8_cmsis_nn(x, weights, bias, p, *, lib=None) -> np.ndarray:
    """CONV_2D through arm_convolve_wrapper_s8; same contract as `conv2d_s8`."""
    lib = _lib_or_default(lib)
    out, args, _alive = conv_call_args(x, weights, bias, p, weights.shape[0])
    size = lib.ehd_convolve_s8_cmsis_nn_get_buffer_size(args[0], args[2], args[4])
    _with_scratch(lib, "ehd_convolve_s8_cmsis_nn", size, args)
    return out


def depthwise_conv2d_s8_cmsis_nn(x, weights, bias, p, *, lib=None) -> np.ndarray:
    """DEPTHWISE_CONV_2D through arm_depthwise_conv_wrapper_s8; same contract as `depthwise_conv2d_s8`."""
    lib = _lib_or_default(lib)
    out, args, _alive = conv_call_args(x, weights, bias, p, weights.shape[3])
    size = lib.ehd_depthwise_conv_s8_cmsis_nn_get_buffer_size(args[0], args[2], args[4])
    _with_scratch(lib, "ehd_depthwise_conv_s8_cmsis_nn", size, args)
    return out


def fully_connected_s8_cmsis_nn(x, weights, bias, p, *, lib=None) -> np.ndarray:
    """FULLY_CONNECTED through arm_fully_connected_wrapper_s8; same contract as `fully_connected_s8`."""
    lib = _lib_or_default(lib)
    out, args, _alive = fc_call_args(x, weights, bias, p)
    size = lib.ehd_fully_connected_s8_cmsis_nn_get_buffer_size(args[0])
    _with_scratch(lib, "ehd_fully_connected_s8_cmsis_nn", size, args)
    return out


def avg_pool2d_s8_cmsis_nn(x, p, *, lib=None) -> np.ndarray:
    """AVERAGE_POOL_2D through arm_avgpool_s8; same contract as `avg_pool2d_s8`."""
    lib = _lib_or_default(lib)
    out, args, _alive = pool_call_args(x, p)
    size = lib.ehd_avgpool_s8_cmsis_nn_get_buffer_size(args[1], args[3])
    _with_scratch(lib, "ehd_avgpool_s8_cmsis_nn", size, args)
    return out


def max_pool2d_s8_cmsis_nn(x, p, *, lib=None) -> np.ndarray:
    """MAX_POOL_2D through arm_max_pool_s8; same contract as `max_pool2d_s8`."""
    lib = _lib_or_default(lib)
    out, args, _alive = pool_call_args(x, p)
    check("ehd_maxpool_s8_cmsis_nn", lib.ehd_maxpool_s8_cmsis_nn(*args))
    return out


def add_s8_cmsis_nn(a, b, p, *, lib=None) -> np.ndarray:
    """ADD of two inputs of the same shape through arm_elementwise_add_s8; same contract as `add_s8`."""
    lib = _lib_or_default(lib)
    out, args, _alive = add_call_args(a, b, p)
    check("ehd_add_s8_cmsis_nn", lib.ehd_add_s8_cmsis_nn(*args))
    return out


def _unary(fn_name: str, lib, params, x: np.ndarray, out: np.ndarray) -> np.ndarray:
    check(fn_name, getattr(lib, fn_name)(C.byref(params), C.byref(Dims.extended(x.shape)), ptr(x, C.c_int8),
                                         C.byref(Dims.extended(out.shape)), ptr(out, C.c_int8)))
    return out


def softmax_s8_cmsis_nn(x, p, *, lib=None) -> np.ndarray:
    """SOFTMAX through arm_softmax_s8; same contract as `softmax_s8`."""
    x = _any_int8(x)
    params = SoftmaxParams(*(int(getattr(p, name)) for name, _ in SoftmaxParams._fields_))
    return _unary("ehd_softmax_s8_cmsis_nn", _lib_or_default(lib), params, x, np.empty_like(x))


def pad_s8_cmsis_nn(x, p, *, lib=None) -> np.ndarray:
    """PAD through arm_pad_s8; same contract as `pad_s8`."""
    from edgehdc.export.layer_params import pad_fields

    x = _any_int8(x)
    before, after, value = pad_fields(p)
    params = PadParams((C.c_int32 * 4)(*before), (C.c_int32 * 4)(*after), int(value))
    out = np.empty(tuple(d + a + b for d, a, b in zip(x.shape, p.before, p.after)), np.int8)
    return _unary("ehd_pad_s8_cmsis_nn", _lib_or_default(lib), params, x, out)


def arm_buffer_size(kind: str, flavour: str, *, x_shape, weights_shape=None, p=None, lib=None) -> int:
    """CMSIS-NN's own arm_*_get_buffer_size{flavour} for a layer ("" the host build, "_dsp", "_mve").

    kind: "conv2d" (weights OHWI), "depthwise_conv2d" (weights 1HW(C*M)), "fully_connected"
    (weights [OUT, IN]) or "avg_pool2d"; p the layer's ConvParams / PoolParams (output size)."""
    lib = _lib_or_default(lib)
    fn = getattr(lib, {"conv2d": "arm_convolve_wrapper_s8_get_buffer_size",
                       "depthwise_conv2d": "arm_depthwise_conv_wrapper_s8_get_buffer_size",
                       "fully_connected": "arm_fully_connected_s8_get_buffer_size",
                       "avg_pool2d": "arm_avgpool_s8_get_buffer_size"}[kind] + flavour)
    if kind == "avg_pool2d":
        return int(fn(p.out_w, x_shape[3]))
    if kind == "fully_connected":
        return int(fn(C.byref(Dims(weights_shape[1], 1, 1, weights_shape[0]))))
    out_c = weights_shape[0] if kind == "conv2d" else weights_shape[3]
    tiles = dict(stride=(p.stride_w, p.stride_h), padding=(p.pad_w, p.pad_h),
                 dilation=(p.dilation_w, p.dilation_h), activation=(p.act_min, p.act_max))
    params = (CmsisConvParams(0, 0, **{k: (C.c_int32 * 2)(*v) for k, v in tiles.items()}) if kind == "conv2d"
              else CmsisDwConvParams(0, 0, p.depth_multiplier,
                                     **{k: (C.c_int32 * 2)(*v) for k, v in tiles.items()}))
    return int(fn(C.byref(params), C.byref(Dims.of(x_shape)), C.byref(Dims.of(weights_shape)),
                  C.byref(Dims(x_shape[0], p.out_h, p.out_w, out_c))))
