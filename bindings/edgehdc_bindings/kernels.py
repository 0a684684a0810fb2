"""numpy-friendly calls into the firmware's int8 kernels and HDC, same signatures as the Numba mirror.

Each function checks dtypes and shapes here (the C code trusts its buffer
sizes), builds the C param structs and raises `FirmwareError` on a status
other than EHD_OK. `lib` defaults to the plain firmware library.
"""

from __future__ import annotations

import ctypes as C

import numpy as np

from edgehdc_bindings.build import build_library
from edgehdc_bindings.structs import (
    ConvParams, Dims, FcParams, HdcEncoder, HdcModel, HdcResult, Offsets, PoolParams, check, declare, ptr,
)

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


def _conv(fn_name: str, x, weights, bias, p, out_c: int, lib) -> np.ndarray:
    lib = _lib(lib)
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
    status = getattr(lib, fn_name)(C.byref(params), C.byref(offsets), C.byref(Dims.of(x.shape)),
                                   ptr(x, C.c_int8), C.byref(Dims.of(out.shape)), ptr(out, C.c_int8))
    check(fn_name, status)
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
    p `FullyConnectedParams` -> int8 [N,OUT]."""
    lib = _lib(lib)
    x = _array(x, np.int8, 2, "input")
    weights = _array(weights, np.int8, 2, "weights")
    if weights.shape[1] != x.shape[1]:
        raise ValueError(f"weights take {weights.shape[1]} inputs, input has {x.shape[1]}")
    out = np.empty((x.shape[0], weights.shape[0]), np.int8)
    bias = _bias(bias, weights.shape[0])
    mult, shift = np.asarray(p.multiplier).reshape(-1), np.asarray(p.shift).reshape(-1)
    if mult.size != 1 or shift.size != 1:
        raise ValueError("the firmware's FULLY_CONNECTED is per-tensor: one multiplier and one shift")
    params = FcParams(ptr(weights, C.c_int8), ptr(bias, C.c_int32), int(mult[0]), int(shift[0]),
                      int(p.act_min), int(p.act_max))
    offsets = Offsets(int(p.input_offset), int(p.output_offset))
    status = lib.ehd_fully_connected_wrapper_s8(
        C.byref(params), C.byref(offsets), C.byref(Dims.of(x.shape)), ptr(x, C.c_int8),
        C.byref(Dims.of(out.shape)), ptr(out, C.c_int8))
    check("ehd_fully_connected_wrapper_s8", status)
    return out


def _pool(fn_name: str, x, p, lib) -> np.ndarray:
    lib = _lib(lib)
    x = _array(x, np.int8, 4, "input")
    out = np.empty(_out_shape(x.shape[0], p.out_h, p.out_w, x.shape[3]), np.int8)
    params = PoolParams(*(int(v) for v in (p.filter_h, p.filter_w, p.stride_h, p.stride_w,
                                           p.pad_h, p.pad_w, p.act_min, p.act_max)))
    status = getattr(lib, fn_name)(C.byref(params), C.byref(Dims.of(x.shape)), ptr(x, C.c_int8),
                                   C.byref(Dims.of(out.shape)), ptr(out, C.c_int8))
    check(fn_name, status)
    return out


def avg_pool2d_s8(x, p, *, lib=None) -> np.ndarray:
    """AVERAGE_POOL_2D: x int8 [N,H,W,C], p `PoolParams` -> int8 [N,OH,OW,C]."""
    return _pool("ehd_avgpool_wrapper_s8", x, p, lib)


def max_pool2d_s8(x, p, *, lib=None) -> np.ndarray:
    """MAX_POOL_2D: x int8 [N,H,W,C], p `PoolParams` -> int8 [N,OH,OW,C]."""
    return _pool("ehd_maxpool_wrapper_s8", x, p, lib)


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
