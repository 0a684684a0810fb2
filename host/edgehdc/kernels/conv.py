"""CONV_2D and DEPTHWISE_CONV_2D, int8 (TFLM reference `integer_ops/conv.h`, `depthwise_conv.h`).

Plain-Python contract, for every batch b, output pixel (oy, ox) and output channel o:

    acc = sum over ky, kx (input point inside the image; padding is skipped, not zero-filled)
              and the channels feeding o of  w * (x[b, iy, ix, c] + input_offset)
          with iy = oy * stride_h - pad_h + ky * dilation_h (same for x)
    acc += bias[o]
    y   = clamp(multiply_by_quantized_multiplier(acc, multiplier[o], shift[o]) + output_offset,
                act_min, act_max)

CONV_2D: w = weights[o, ky, kx, c] over all input channels c.
DEPTHWISE_CONV_2D: o = c * depth_multiplier + m, w = weights[0, ky, kx, o], one input channel c.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from edgehdc.kernels import _checks
from edgehdc.kernels.requantize import check_multipliers, requantize_s8
from edgehdc.quant.arith import ConvParams


def conv2d_s8(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None, p: ConvParams) -> np.ndarray:
    """int8[N,H,W,C] * int8[O,KH,KW,C] (+ int32[O]) -> int8[N,OH,OW,O]."""
    x = _checks.int8_array(x, 4, "conv2d_s8 input")
    weights = _checks.int8_array(weights, 4, "conv2d_s8 weights")
    out_c, kh, kw, in_c = weights.shape
    if in_c != x.shape[3]:
        raise ValueError(f"conv2d_s8: weights {weights.shape} need {in_c} input channels, got {x.shape[3]}")
    args = _common_args(x, bias, p, out_c, "conv2d_s8")
    return _conv2d(x, np.ascontiguousarray(weights), *args)


def depthwise_conv2d_s8(
    x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None, p: ConvParams
) -> np.ndarray:
    """int8[N,H,W,C] * int8[1,KH,KW,C*M] (+ int32[C*M]) -> int8[N,OH,OW,C*M]."""
    x = _checks.int8_array(x, 4, "depthwise_conv2d_s8 input")
    weights = _checks.int8_array(weights, 4, "depthwise_conv2d_s8 weights")
    _checks.positive("depthwise_conv2d_s8", depth_multiplier=p.depth_multiplier)
    out_c = weights.shape[3]
    if weights.shape[0] != 1 or out_c != x.shape[3] * p.depth_multiplier:
        raise ValueError(
            f"depthwise_conv2d_s8: weights {weights.shape} must be [1, KH, KW, "
            f"{x.shape[3]} * {p.depth_multiplier}]"
        )
    args = _common_args(x, bias, p, out_c, "depthwise_conv2d_s8")
    return _depthwise_conv2d(x, weights[0], p.depth_multiplier, *args)


def _common_args(x, bias, p: ConvParams, out_c: int, what: str) -> tuple:
    _checks.positive(what, stride_h=p.stride_h, stride_w=p.stride_w, dilation_h=p.dilation_h,
                     dilation_w=p.dilation_w, out_h=p.out_h, out_w=p.out_w)
    _checks.non_negative(what, pad_h=p.pad_h, pad_w=p.pad_w)
    _checks.act_range(p.act_min, p.act_max, what)
    if x.shape[1] < 1 or x.shape[2] < 1 or x.shape[3] < 1:
        raise ValueError(f"{what}: empty input {x.shape}")
    mult, shift = check_multipliers(p.multiplier, p.shift, out_c, what)
    bias = _checks.bias_array(bias, out_c, what)
    return (bias, mult, shift, p.input_offset, p.output_offset, p.stride_h, p.stride_w,
            p.pad_h, p.pad_w, p.dilation_h, p.dilation_w, p.act_min, p.act_max, p.out_h, p.out_w)


@njit(cache=True)
def _conv2d(x, w, bias, mult, shift, in_off, out_off, sh, sw, ph, pw, dh, dw, act_min, act_max, out_h, out_w):
    # Per output pixel: gather the window (x + input_offset, 0 for padding) into
    # one int16 row, then one int32 dot product per output channel against the
    # OHWI weights viewed as [O, KH*KW*C]. Contiguous dot products vectorise;
    # int32 accumulation wraps exactly like TFLM's int32 accumulator.
    n_b, in_h, in_w, in_c = x.shape
    out_c, kh, kw, _ = w.shape
    w2 = w.reshape(out_c, kh * kw * in_c)
    col = np.empty(kh * kw * in_c, np.int16)
    y = np.empty((n_b, out_h, out_w, out_c), np.int8)
    for b in range(n_b):
        for oy in range(out_h):
            for ox in range(out_w):
                k = 0
                for ky in range(kh):
                    iy = oy * sh - ph + ky * dh
                    for kx in range(kw):
                        ix = ox * sw - pw + kx * dw
                        inside = 0 <= iy < in_h and 0 <= ix < in_w
                        for c in range(in_c):
                            col[k] = np.int16(x[b, iy, ix, c]) + in_off if inside else 0
                            k += 1
                for o in range(out_c):
                    acc = np.int32(0)
                    for j in range(col.size):
                        acc += np.int32(w2[o, j]) * np.int32(col[j])
                    y[b, oy, ox, o] = requantize_s8(acc + bias[o], mult[o], shift[o], out_off, act_min, act_max)
    return y


@njit(cache=True)
def _depthwise_conv2d(x, w, depth_mult, bias, mult, shift, in_off, out_off, sh, sw, ph, pw, dh, dw,
                      act_min, act_max, out_h, out_w):
    n_b, in_h, in_w, in_c = x.shape
    kh, kw, out_c = w.shape
    y = np.empty((n_b, out_h, out_w, out_c), np.int8)
    acc = np.empty(out_c, np.int64)
    for b in range(n_b):
        for oy in range(out_h):
            for ox in range(out_w):
                acc[:] = 0
                for ky in range(kh):
                    iy = oy * sh - ph + ky * dh
                    if iy < 0 or iy >= in_h:
                        continue
                    for kx in range(kw):
                        ix = ox * sw - pw + kx * dw
                        if ix < 0 or ix >= in_w:
                            continue
                        for c in range(in_c):
                            xv = np.int64(x[b, iy, ix, c]) + in_off
                            for m in range(depth_mult):
                                o = c * depth_mult + m
                                acc[o] += w[ky, kx, o] * xv
                for o in range(out_c):
                    y[b, oy, ox, o] = requantize_s8(
                        acc[o] + bias[o], mult[o], shift[o], out_off, act_min, act_max
                    )
    return y
