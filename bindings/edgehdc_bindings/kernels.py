"""numpy-friendly calls into the firmware's int8 kernels and HDC, same signatures as the Numba mirror.

Each function checks dtypes and shapes here (the C code trusts its buffer
sizes), builds the C param structs and raises `FirmwareError` on a status
other than EHD_OK. `lib` defaults to the plain firmware library.
"""

from __future__ import annotations

import ctypes as C

import numpy as np

from edgehdc.export.layer_params import pad_fields, rescale_fields
from edgehdc_bindings.build import build_library
from edgehdc_bindings.structs import (
    AddParams, Context, ConvParams, Dims, FcParams, HdcEncoder, HdcModel, HdcResult, MeanParams, Offsets,
    PadParams, PoolParams, QuantizeParams, RescaleParams, SoftmaxParams, check, declare, ptr,
)

_GUARD = 64  # bytes after the scratch a kernel must not write
_GUARD_BYTE = 0xA5


class ScratchOverrunError(AssertionError):
    """A kernel wrote past the scratch size its get_buffer_size() reported."""


def with_scratch(lib: C.CDLL, fn_name: str, size: int, args: tuple) -> None:
    """Calls fn(ctx, *args) with exactly `size` bytes of scratch (what the runtime plans into the
    arena) and checks the guard bytes behind them."""
    if size < 0:
        raise ValueError(f"{fn_name}: negative scratch size {size}")
    words = np.full((size + _GUARD + 3) // 4, _GUARD_BYTE * 0x01010101, np.uint32)
    ctx = Context(words.ctypes.data, size)
    check(fn_name, getattr(lib, fn_name)(C.byref(ctx), *args))
    if np.any(words.view(np.uint8)[size:] != _GUARD_BYTE):
        raise ScratchOverrunError(f"{fn_name} wrote past the {size} scratch bytes it asked for")


def wrapper_buffer_size(lib: C.CDLL, fn_name: str, args: tuple) -> int:
    """ehd_<op>_wrapper_s8_get_buffer_size for a wrapper call's arguments (the backend's own need)."""
    size_args = {"ehd_convolve_wrapper_s8": (0, 2, 4), "ehd_depthwise_conv_wrapper_s8": (0, 2, 4),
                 "ehd_fully_connected_wrapper_s8": (0,), "ehd_avgpool_wrapper_s8": (1, 3),
                 "ehd_add_wrapper_s8": (1, 3, 5)}[fn_name]
    return int(getattr(lib, fn_name + "_get_buffer_size")(*(args[i] for i in size_args)))


def _call_wrapper(fn_name: str, args: tuple, lib) -> None:
    lib = _lib(lib)
    with_scratch(lib, fn_name, wrapper_buffer_size(lib, fn_name, args), args)

_default: C.CDLL | None = None


def default_library() -> C.CDLL:
    """The firmware library without a model, built once per process."""
    global _default
    if _default is None:
        _default = declare(build_library())
    return _default


def _lib(lib: C.CDLL | None) -> C.CDLL:
    return default_library() if lib is None else declare(lib)


def _array(x, dtype, ndim: int, what: str) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.dtype != dtype or x.ndim != ndim:
        got = f"{x.dtype} {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
        raise ValueError(f"{what} must be a {np.dtype(dtype).name} array with {ndim} dims, got {got}")
    return np.ascontiguousarray(x)


def _bias(bias, channels: int) -> np.ndarray | None:
    if bias is None:
        return None
    if not isinstance(bias, np.ndarray) or bias.dtype != np.int32 or bias.shape != (channels,):
        raise ValueError(f"bias must be int32[{channels}] or None")
    return np.ascontiguousarray(bias)


def _per_channel(v, channels: int, what: str) -> np.ndarray:
    a = np.asarray(v, np.int64).reshape(-1)
    if a.size == 1:
        a = np.full(channels, a[0])
    if a.shape != (channels,) or a.min() < -(1 << 31) or a.max() >= 1 << 31:
        raise ValueError(f"{what} must be a scalar or int32[{channels}]")
    return a.astype(np.int32)


def _out_shape(n: int, out_h: int, out_w: int, c: int) -> tuple[int, int, int, int]:
    if out_h < 1 or out_w < 1:
        raise ValueError(f"output size must be positive, got {out_h}x{out_w}")
    return (n, out_h, out_w, c)


def conv_call_args(x, weights, bias, p, out_c: int) -> tuple[np.ndarray, tuple, list]:
    """(output array, C arguments of a convolution call, arrays to keep alive during the call)."""
    out = np.empty(_out_shape(x.shape[0], p.out_h, p.out_w, out_c), np.int8)
    bias = _bias(bias, out_c)
    mult = _per_channel(p.multiplier, out_c, "multiplier")
    shift = _per_channel(p.shift, out_c, "shift")
    params = ConvParams(
        ptr(weights, C.c_int8), ptr(bias, C.c_int32), ptr(mult, C.c_int32), ptr(shift, C.c_int32),
        Dims.of(weights.shape), *(int(v) for v in (
            p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dilation_h, p.dilation_w,
            p.depth_multiplier, p.act_min, p.act_max)))
    offsets = Offsets(int(p.input_offset), int(p.output_offset))
    args = (C.byref(params), C.byref(offsets), C.byref(Dims.of(x.shape)), ptr(x, C.c_int8),
            C.byref(Dims.of(out.shape)), ptr(out, C.c_int8))
    return out, args, [bias, mult, shift, params, offsets]


def _conv(fn_name: str, x, weights, bias, p, out_c: int, lib) -> np.ndarray:
    out, args, _alive = conv_call_args(x, weights, bias, p, out_c)
    _call_wrapper(fn_name, args, lib)
    return out


def conv2d_s8(x, weights, bias, p, *, lib=None) -> np.ndarray:
    """CONV_2D: x int8 [N,H,W,C], weights int8 [O,KH,KW,C], bias int32 [O] or None,
    p `edgehdc.quant.arith.ConvParams` -> int8 [N,OH,OW,O]."""
    x = _array(x, np.int8, 4, "input")
    weights = _array(weights, np.int8, 4, "weights")
    return _conv("ehd_convolve_wrapper_s8", x, weights, bias, p, weights.shape[0], lib)


def depthwise_conv2d_s8(x, weights, bias, p, *, lib=None) -> np.ndarray:
    """DEPTHWISE_CONV_2D: x int8 [N,H,W,C], weights int8 [1,KH,KW,C*M], bias int32 [C*M] or None
    -> int8 [N,OH,OW,C*M]."""
    x = _array(x, np.int8, 4, "input")
    weights = _array(weights, np.int8, 4, "weights")
    return _conv("ehd_depthwise_conv_wrapper_s8", x, weights, bias, p, weights.shape[3], lib)


def fully_connected_s8(x, weights, bias, p, *, lib=None) -> np.ndarray:
    """FULLY_CONNECTED: x int8 [N,IN], weights int8 [OUT,IN], bias int32 [OUT] or None,
    p `FullyConnectedParams` (per-tensor or per-channel multiplier/shift) -> int8 [N,OUT]."""
    out, args, _alive = fc_call_args(x, weights, bias, p)
    _call_wrapper("ehd_fully_connected_wrapper_s8", args, lib)
    return out


def fc_call_args(x, weights, bias, p) -> tuple[np.ndarray, tuple, list]:
    """(output array, C arguments of a FULLY_CONNECTED call, objects to keep alive during the call)."""
    x = _array(x, np.int8, 2, "input")
    weights = _array(weights, np.int8, 2, "weights")
    if weights.shape[1] != x.shape[1]:
        raise ValueError(f"weights take {weights.shape[1]} inputs, input has {x.shape[1]}")
    out_n = weights.shape[0]
    out = np.empty((x.shape[0], out_n), np.int8)
    bias = _bias(bias, out_n)
    per_channel = np.size(p.multiplier) > 1 or np.size(p.shift) > 1
    channels = out_n if per_channel else 1
    mult = _per_channel(p.multiplier, channels, "multiplier")
    shift = _per_channel(p.shift, channels, "shift")
    params = FcParams(ptr(weights, C.c_int8), ptr(bias, C.c_int32), ptr(mult, C.c_int32),
                      ptr(shift, C.c_int32), int(per_channel), Dims(out_n, 1, 1, weights.shape[1]),
                      int(p.act_min), int(p.act_max))
    offsets = Offsets(int(p.input_offset), int(p.output_offset))
    args = (C.byref(params), C.byref(offsets), C.byref(Dims.of(x.shape)), ptr(x, C.c_int8),
            C.byref(Dims.of(out.shape)), ptr(out, C.c_int8))
    return out, args, [x, weights, bias, mult, shift, params, offsets]


def pool_call_args(x, p) -> tuple[np.ndarray, tuple, list]:
    """(output array, C arguments of a pooling call, objects to keep alive during the call)."""
    x = _array(x, np.int8, 4, "input")
    out = np.empty(_out_shape(x.shape[0], p.out_h, p.out_w, x.shape[3]), np.int8)
    params = PoolParams(*(int(v) for v in (p.filter_h, p.filter_w, p.stride_h, p.stride_w,
                                           p.pad_h, p.pad_w, p.act_min, p.act_max)))
    args = (C.byref(params), C.byref(Dims.of(x.shape)), ptr(x, C.c_int8), C.byref(Dims.of(out.shape)),
            ptr(out, C.c_int8))
    return out, args, [x, params]


def _pool(fn_name: str, x, p, lib) -> np.ndarray:
    out, args, _alive = pool_call_args(x, p)
    if fn_name == "ehd_avgpool_wrapper_s8":
        _call_wrapper(fn_name, args, lib)
    else:
        check(fn_name, getattr(_lib(lib), fn_name)(*args))
    return out


def avg_pool2d_s8(x, p, *, lib=None) -> np.ndarray:
    """AVERAGE_POOL_2D: x int8 [N,H,W,C], p `PoolParams` -> int8 [N,OH,OW,C]."""
    return _pool("ehd_avgpool_wrapper_s8", x, p, lib)


def max_pool2d_s8(x, p, *, lib=None) -> np.ndarray:
    """MAX_POOL_2D: x int8 [N,H,W,C], p `PoolParams` -> int8 [N,OH,OW,C]."""
    return _pool("ehd_maxpool_wrapper_s8", x, p, lib)


def _any_int8(x, what: str = "input", min_rank: int = 1) -> np.ndarray:
    """A C-contiguous int8 array of rank min_rank..4 (the firmware's NHWC tensors)."""
    if not isinstance(x, np.ndarray) or x.dtype != np.int8 or not min_rank <= x.ndim <= 4 or x.size == 0:
        got = f"{x.dtype} {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
        raise ValueError(f"{what} must be a non-empty int8 array of rank {min_rank}..4, got {got}")
    return np.ascontiguousarray(x)


def _unary(fn_name: str, params, x: np.ndarray, out: np.ndarray, in_type, out_type, lib) -> np.ndarray:
    """Calls an op of signature (params, input dims, input, output dims, output)."""
    status = getattr(_lib(lib), fn_name)(
        C.byref(params), C.byref(Dims.extended(x.shape)), ptr(x, in_type),
        C.byref(Dims.extended(out.shape)), ptr(out, out_type))
    check(fn_name, status)
    return out


def add_s8(a, b, p, *, lib=None) -> np.ndarray:
    """ADD: int8 a + int8 b (rank <= 4, broadcast NumPy-style), p `AddParams` -> int8."""
    out, args, _alive = add_call_args(a, b, p)
    _call_wrapper("ehd_add_wrapper_s8", args, lib)
    return out


def add_call_args(a, b, p) -> tuple[np.ndarray, tuple, list]:
    """(output array, C arguments of an ADD call, objects to keep alive during the call)."""
    a, b = _any_int8(a, "input a", 0), _any_int8(b, "input b", 0)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"add_s8: shapes {a.shape} and {b.shape} do not broadcast") from None
    out = np.empty(shape, np.int8)
    params = AddParams(*(int(getattr(p, name)) for name, _ in AddParams._fields_))
    args = (C.byref(params), C.byref(Dims.extended(a.shape)), ptr(a, C.c_int8),
            C.byref(Dims.extended(b.shape)), ptr(b, C.c_int8), C.byref(Dims.extended(shape)),
            ptr(out, C.c_int8))
    return out, args, [a, b, params]


def relu_s8(x, p, *, lib=None) -> np.ndarray:
    """RELU / RELU6: int8 any shape (rank <= 4), p `ReluParams` -> int8, rescaled then clamped."""
    x = _any_int8(x)
    params = RescaleParams(*(int(v) for v in rescale_fields(p)))
    return _unary("ehd_relu_wrapper_s8", params, x, np.empty_like(x), C.c_int8, C.c_int8, lib)


def requantize_s8_s8(x, p, *, lib=None) -> np.ndarray:
    """QUANTIZE int8 -> int8: p `RequantizeParams`."""
    x = _any_int8(x)
    params = RescaleParams(*(int(v) for v in rescale_fields(p)))
    return _unary("ehd_quantize_wrapper_s8_s8", params, x, np.empty_like(x), C.c_int8, C.c_int8, lib)


def mean_hw_s8(x, p, *, lib=None) -> np.ndarray:
    """MEAN over height and width: int8 [N,H,W,C], p `MeanParams` -> int8 [N,1,1,C]."""
    x = _array(x, np.int8, 4, "input")
    if x.shape[1] * x.shape[2] != p.count:
        raise ValueError(f"mean_hw_s8: input {x.shape} does not have {p.count} cells per channel")
    params = MeanParams(*(int(getattr(p, name)) for name, _ in MeanParams._fields_))
    out = np.empty((x.shape[0], 1, 1, x.shape[3]), np.int8)
    return _unary("ehd_mean_wrapper_s8", params, x, out, C.c_int8, C.c_int8, lib)


def pad_s8(x, p, *, lib=None) -> np.ndarray:
    """PAD: int8 rank <= 4, p `PadParams` (before/after per dimension, pad_value) -> int8."""
    x = _any_int8(x)
    if len(p.before) != x.ndim or len(p.after) != x.ndim or min(*p.before, *p.after) < 0:
        raise ValueError(f"pad_s8: paddings {p.before}/{p.after} do not fit rank {x.ndim}")
    before, after, value = pad_fields(p)
    params = PadParams((C.c_int32 * 4)(*before), (C.c_int32 * 4)(*after), int(value))
    out = np.empty(tuple(d + a + b for d, a, b in zip(x.shape, p.before, p.after)), np.int8)
    return _unary("ehd_pad_wrapper_s8", params, x, out, C.c_int8, C.c_int8, lib)


def softmax_s8(x, p, *, lib=None) -> np.ndarray:
    """SOFTMAX over the last axis: int8 rank <= 4, p `SoftmaxParams` -> int8 (scale 1/256, zp -128)."""
    x = _any_int8(x)
    params = SoftmaxParams(*(int(getattr(p, name)) for name, _ in SoftmaxParams._fields_))
    return _unary("ehd_softmax_wrapper_s8", params, x, np.empty_like(x), C.c_int8, C.c_int8, lib)


def quantize_f32_s8(x, p, *, lib=None) -> np.ndarray:
    """QUANTIZE float32 -> int8: float32 rank <= 4, p `QuantizeParams` (scale, zero_point)."""
    if not isinstance(x, np.ndarray) or x.dtype != np.float32 or not 1 <= x.ndim <= 4 or x.size == 0:
        raise ValueError("quantize_f32_s8 input must be a non-empty float32 array of rank 1..4")
    x = np.ascontiguousarray(x)
    params = QuantizeParams(float(np.float32(p.scale)), int(p.zero_point))
    out = np.empty(x.shape, np.int8)
    return _unary("ehd_quantize_wrapper_f32_s8", params, x, out, C.c_float, C.c_int8, lib)


def dequantize_s8_f32(x, p, *, lib=None) -> np.ndarray:
    """DEQUANTIZE int8 -> float32: int8 rank <= 4, p `DequantizeParams` (scale, zero_point)."""
    x = _any_int8(x)
    params = QuantizeParams(float(np.float32(p.scale)), int(p.zero_point))
    out = np.empty(x.shape, np.float32)
    return _unary("ehd_dequantize_wrapper_s8_f32", params, x, out, C.c_int8, C.c_float, lib)


def hdc_model(encoder, prototypes=None, *, scratch: bool = True) -> tuple[HdcModel, list]:
    """The ehd_hdc_model of an `edgehdc.hdc` encoder (and prototypes uint32 [K, D/32]), plus the
    arrays it points to (keep them alive while the struct is used). `scratch=False` gives the
    sign projection no scratch: the firmware's bitwise loop instead of its per-byte tables."""
    from edgehdc.hdc import IdLevel
    from edgehdc.hdc.export import scratch_size

    if not 0 < encoder.dim <= 0xFFFF or encoder.dim % 32:
        raise ValueError(f"hypervector dimension must be a multiple of 32 in (0, 65535], got {encoder.dim}")
    if prototypes is not None:
        prototypes = _array(prototypes, np.uint32, 2, "prototypes")
    n_classes = 0 if prototypes is None else prototypes.shape[0]
    if n_classes > 0xFFFF:
        raise ValueError(f"at most 65535 classes, got {n_classes}")
    id_level = isinstance(encoder, IdLevel)
    kind = HdcEncoder.ID_LEVEL if id_level else HdcEncoder.SIGN_PROJECTION
    keep = {
        "centre": None if encoder.centre is None else np.ascontiguousarray(encoder.centre, np.int8),
        "scale": None if encoder.scale is None else np.ascontiguousarray(encoder.scale, np.uint8),
        "projection": None if id_level or not encoder.stored else np.ascontiguousarray(encoder.projection),
        "items": np.ascontiguousarray(encoder.items) if id_level else None,
        "levels": np.ascontiguousarray(encoder.levels) if id_level else None,
        "scratch": np.zeros(scratch_size(encoder), np.int16) if scratch or id_level else None,
        "prototypes": prototypes,
    }
    model = HdcModel(
        int(kind), encoder.dim, encoder.n_features, int(encoder.zero_point),
        ptr(keep["centre"], C.c_int8), ptr(keep["scale"], C.c_uint8), ptr(keep["projection"], C.c_uint32),
        encoder.seed, ptr(keep["scratch"], C.c_int16), ptr(keep["items"], C.c_uint32),
        ptr(keep["levels"], C.c_uint32), encoder.n_levels if id_level else 0,
        encoder.lo if id_level else 0, encoder.hi if id_level else 0,
        n_classes, ptr(prototypes, C.c_uint32))
    return model, list(keep.values())


def hdc_encode(encoder, features, *, scratch: bool = True, lib=None) -> np.ndarray:
    """ehd_hdc_encode on each row: an `edgehdc.hdc` encoder, features int8 [N,F]
    -> hypervectors uint32 [N, D/32]."""
    lib = _lib(lib)
    features = _array(features, np.int8, 2, "features")
    if features.shape[1] != encoder.n_features:
        raise ValueError(f"features must be [N, {encoder.n_features}], got {features.shape}")
    model, _keep = hdc_model(encoder, scratch=scratch)
    hv = np.zeros((features.shape[0], encoder.dim // 32), np.uint32)
    for i in range(features.shape[0]):
        check("ehd_hdc_encode", lib.ehd_hdc_encode(C.byref(model), ptr(features[i], C.c_int8),
                                                   ptr(hv[i], C.c_uint32)))
    return hv


def hdc_classify(hv, prototypes, *, lib=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ehd_hdc_classify on each row: hv uint32 [N,W], prototypes uint32 [K,W]
    -> (labels uint16 [N], confidence uint16 [N], distances uint16 [N,K])."""
    lib = _lib(lib)
    hv = _array(hv, np.uint32, 2, "hv")
    prototypes = _array(prototypes, np.uint32, 2, "prototypes")
    if hv.shape[1] != prototypes.shape[1]:
        raise ValueError(f"hv has {hv.shape[1]} words, prototypes have {prototypes.shape[1]}")
    model = HdcModel(dim=32 * hv.shape[1], n_classes=prototypes.shape[0], prototypes=ptr(prototypes, C.c_uint32))
    n, k = hv.shape[0], prototypes.shape[0]
    labels, confidence = np.empty(n, np.uint16), np.empty(n, np.uint16)
    distances = np.empty((n, k), np.uint16)
    result = HdcResult()
    for i in range(n):
        check("ehd_hdc_classify", lib.ehd_hdc_classify(C.byref(model), ptr(hv[i], C.c_uint32),
                                                       ptr(distances[i], C.c_uint16), C.byref(result)))
        labels[i], confidence[i] = result.label, result.confidence
    return labels, confidence, distances
