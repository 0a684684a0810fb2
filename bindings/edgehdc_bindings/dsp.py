"""The `dsp` backend's kernel variants, each called on its own.

The wrappers (`edgehdc_bindings.kernels`, built with `backend="dsp"`) pick
among these by shape; calling them one by one tests every variant on the
shapes it accepts. Every library holds them (on the host their intrinsics are
plain C). A variant that needs scratch gets exactly the bytes its
`*_get_buffer_size()` asks for, followed by guard bytes that must come back
untouched.
"""

from __future__ import annotations

import ctypes as C

import numpy as np

from edgehdc_bindings.kernels import (  # noqa: F401  (ScratchOverrunError: re-exported for the tests)
    ScratchOverrunError, _array, _lib, add_call_args, conv_call_args, fc_call_args, pool_call_args,
    wrapper_buffer_size, with_scratch,
)
from edgehdc_bindings.structs import AddParams, Context, ConvParams, Dims, FcParams, Offsets, PoolParams, check

_P = C.POINTER

_CONV_ARGS = (_P(ConvParams), _P(Offsets), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8))
_POOL_ARGS = (_P(PoolParams), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8))
_FC_ARGS = (_P(FcParams), _P(Offsets), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8))
_ADD_ARGS = (_P(AddParams), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8), _P(Dims), _P(C.c_int8))
_SIGNATURES = {
    "ehd_convolve_s8_dsp": ((_P(Context), *_CONV_ARGS), C.c_int),
    "ehd_convolve_1x1_s8_dsp": ((_P(Context), *_CONV_ARGS), C.c_int),
    "ehd_depthwise_conv_s8_dsp": (_CONV_ARGS, C.c_int),
    "ehd_depthwise_conv_3x3_s8_dsp": ((_P(Context), *_CONV_ARGS), C.c_int),
    "ehd_depthwise_conv_3x3_s8_dsp_get_buffer_size": ((_P(ConvParams), _P(Dims)), C.c_int32),
    "ehd_avgpool_s8_dsp": (_POOL_ARGS, C.c_int),
    "ehd_maxpool_s8_dsp": (_POOL_ARGS, C.c_int),
    "ehd_fully_connected_s8_dsp": ((_P(Context), *_FC_ARGS), C.c_int),
    "ehd_fully_connected_s8_dsp_get_buffer_size": ((_P(FcParams),), C.c_int32),
    "ehd_add_s8_dsp": ((_P(Context), *_ADD_ARGS), C.c_int),
    "ehd_add_s8_dsp_get_buffer_size": ((), C.c_int32),
    "ehd_convolve_s8_dsp_get_buffer_size": ((_P(ConvParams), _P(Dims)), C.c_int32),
    "ehd_convolve_1x1_s8_dsp_get_buffer_size": ((_P(Dims),), C.c_int32),
}

CONV_VARIANTS = {"general": "ehd_convolve_s8_dsp", "1x1": "ehd_convolve_1x1_s8_dsp"}
DEPTHWISE_VARIANTS = {"general": "ehd_depthwise_conv_s8_dsp", "3x3": "ehd_depthwise_conv_3x3_s8_dsp"}


def _declared(lib: C.CDLL | None) -> C.CDLL:
    lib = _lib(lib)
    for name, (args, restype) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = list(args), restype
    return lib


def conv2d_s8_dsp(x, weights, bias, p, *, variant: str = "general", lib=None) -> np.ndarray:
    """CONV_2D through one dsp variant ("general" or "1x1"); same contract as `conv2d_s8`."""
    lib = _declared(lib)
    if variant not in CONV_VARIANTS:
        raise ValueError(f"unknown CONV_2D variant {variant!r}: {', '.join(CONV_VARIANTS)}")
    x = _array(x, np.int8, 4, "input")
    weights = _array(weights, np.int8, 4, "weights")
    out, args, _alive = conv_call_args(x, weights, bias, p, weights.shape[0])
    size = (lib.ehd_convolve_1x1_s8_dsp_get_buffer_size(args[2]) if variant == "1x1"
            else lib.ehd_convolve_s8_dsp_get_buffer_size(args[0], args[2]))
    with_scratch(lib, CONV_VARIANTS[variant], size, args)
    return out


def conv2d_buffer_size(x_shape, weights, p, *, lib=None) -> int:
    """Scratch bytes `ehd_convolve_wrapper_s8` of `lib`'s backend needs for this layer."""
    lib = _declared(lib)
    x = np.zeros(x_shape, np.int8)
    _, args, _alive = conv_call_args(x, weights, None, p, weights.shape[0])
    return wrapper_buffer_size(lib, "ehd_convolve_wrapper_s8", args)


def depthwise_conv2d_s8_dsp(x, weights, bias, p, *, variant: str = "general", scratch: bool = True,
                            lib=None) -> np.ndarray:
    """DEPTHWISE_CONV_2D through one dsp variant ("general" or "3x3"); same contract as
    `depthwise_conv2d_s8`. The 3x3 variant's scratch is optional: `scratch=False` passes none."""
    lib = _declared(lib)
    if variant not in DEPTHWISE_VARIANTS:
        raise ValueError(f"unknown DEPTHWISE_CONV_2D variant {variant!r}: {', '.join(DEPTHWISE_VARIANTS)}")
    x = _array(x, np.int8, 4, "input")
    weights = _array(weights, np.int8, 4, "weights")
    out, args, _alive = conv_call_args(x, weights, bias, p, weights.shape[3])
    fn_name = DEPTHWISE_VARIANTS[variant]
    if variant != "3x3":
        check(fn_name, getattr(lib, fn_name)(*args))
    elif scratch:
        with_scratch(lib, fn_name, lib.ehd_depthwise_conv_3x3_s8_dsp_get_buffer_size(args[0], args[4]), args)
    else:
        check(fn_name, getattr(lib, fn_name)(None, *args))
    return out


def avg_pool2d_s8_dsp(x, p, *, lib=None) -> np.ndarray:
    """AVERAGE_POOL_2D through the dsp kernel; same contract as `avg_pool2d_s8`."""
    lib = _declared(lib)
    out, args, _alive = pool_call_args(x, p)
    check("ehd_avgpool_s8_dsp", lib.ehd_avgpool_s8_dsp(*args))
    return out


def max_pool2d_s8_dsp(x, p, *, lib=None) -> np.ndarray:
    """MAX_POOL_2D through the dsp kernel; same contract as `max_pool2d_s8`."""
    lib = _declared(lib)
    out, args, _alive = pool_call_args(x, p)
    check("ehd_maxpool_s8_dsp", lib.ehd_maxpool_s8_dsp(*args))
    return out


def fully_connected_s8_dsp(x, weights, bias, p, *, lib=None) -> np.ndarray:
    """FULLY_CONNECTED through the dsp kernel; same contract as `fully_connected_s8`."""
    lib = _declared(lib)
    out, args, _alive = fc_call_args(x, weights, bias, p)
    with_scratch(lib, "ehd_fully_connected_s8_dsp", lib.ehd_fully_connected_s8_dsp_get_buffer_size(args[0]), args)
    return out


def add_s8_dsp(a, b, p, *, out=None, lib=None) -> np.ndarray:
    """ADD of two same-shape inputs through the dsp kernel; same contract as `add_s8`.
    `out` may be `a` or `b` itself (in place)."""
    lib = _declared(lib)
    result, args, _alive = add_call_args(a, b, p)
    if out is not None:  # the caller's buffer (e.g. an input: in place) instead of a fresh one
        if out.shape != result.shape or out.dtype != np.int8 or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous int8 array of shape {result.shape}")
        args, result = (*args[:-1], out.ctypes.data_as(_P(C.c_int8))), out
    with_scratch(lib, "ehd_add_s8_dsp", lib.ehd_add_s8_dsp_get_buffer_size(), args)
    return result

