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
from edgehdc.kernels.requantize import requantize_s8
from edgehdc.quant.arith import ConvParams


def conv2d_s8(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None, p: ConvParams) -> np.ndarray:
    """int8[N,H,W,C] * int8[O,KH,KW,C] (+ int32[O]) -> int8[N,OH,OW,O]."""
    return prepare_conv2d_s8(weights, bias, p)(x)


def prepare_conv2d_s8(weights: np.ndarray, bias: np.ndarray | None, p: ConvParams):
    """`conv2d_s8` with the weights, bias and parameters checked and laid out once: returns x -> y.

    For an interpreter that runs one graph many times (TFLM's Prepare/Invoke split).
    """
    weights = _checks.int8_array(weights, 4, "conv2d_s8 weights")
    out_c, kh, kw, in_c = weights.shape
    args = _common_args(bias, p, out_c, "conv2d_s8")
    if kh * kw * in_c >= _DOT_MIN_K:
        kernel, w = _conv2d, weights
    else:  # short windows: weights as [KH, KW, C, O] int32, the output channels are the vector lanes
        kernel, w = _conv2d_short, np.ascontiguousarray(weights.transpose(1, 2, 3, 0), np.int32)

    def run(x: np.ndarray) -> np.ndarray:
        x = _checks.int8_array(x, 4, "conv2d_s8 input")
        if x.shape[3] != in_c:
            raise ValueError(f"conv2d_s8: weights {weights.shape} need {in_c} input channels, got {x.shape[3]}")
        _checks.not_empty(x, "conv2d_s8")
        return kernel(x, w, *args)

    return run


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
    _checks.not_empty(x, "depthwise_conv2d_s8")
    args = _common_args(bias, p, out_c, "depthwise_conv2d_s8")
    return _depthwise_conv2d(x, weights[0], p.depth_multiplier, *args)


# CONV_2D window size (KH*KW*C) from which one dot product per output channel
# beats the channels-as-lanes loop (measured on ResNet-8's layers: 27 and 144
# are faster as lanes, 288 and 576 as dot products).
_DOT_MIN_K = 256


def _common_args(bias, p: ConvParams, out_c: int, what: str) -> tuple:
    bias, mult, shift = _checks.conv_params(bias, p, out_c, what)
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
def _pad_input_s16(x, in_off, top, left, rows, cols):
    """int16[N, rows, cols, C]: x + input_offset at (top, left), 0 (a skipped tap) elsewhere."""
    n_b, in_h, in_w, in_c = x.shape
    xp = np.zeros((n_b, rows, cols, in_c), np.int16)
    for b in range(n_b):
        for iy in range(in_h):
            for ix in range(in_w):
                for c in range(in_c):
                    xp[b, top + iy, left + ix, c] = np.int16(x[b, iy, ix, c]) + in_off
    return xp


@njit(cache=True)
def _conv2d_short(x, wt, bias, mult, shift, in_off, out_off, sh, sw, ph, pw, dh, dw,
                  act_min, act_max, out_h, out_w):
    # For short windows a dot product per (pixel, channel) is mostly loop
    # overhead. Instead: pad the input once (offset added, padding = 0, so no
    # bounds checks), then for each tap and input channel add weight-row *
    # input value to four output pixels' int32 accumulators at once; the inner
    # loop runs over the output channels, contiguous in wt = [KH, KW, C, O],
    # and vectorises. int32 stores wrap exactly like TFLM's accumulator.
    n_b, in_h, in_w, in_c = x.shape
    kh, kw, _, out_c = wt.shape
    blocks = (out_w + 3) // 4
    rows = max(ph + in_h, (out_h - 1) * sh + (kh - 1) * dh + 1)
    cols = max(pw + in_w, (blocks * 4 - 1) * sw + (kw - 1) * dw + 1)
    xp = _pad_input_s16(x, in_off, ph, pw, rows, cols)
    y = np.empty((n_b, out_h, out_w, out_c), np.int8)
    acc = np.empty((4, out_c), np.int32)
    for b in range(n_b):
        for oy in range(out_h):
            for blk in range(blocks):
                acc[:] = 0
                for ky in range(kh):
                    iy = oy * sh + ky * dh
                    for kx in range(kw):
                        ix = blk * 4 * sw + kx * dw
                        for c in range(in_c):
                            v0 = np.int32(xp[b, iy, ix, c])
                            v1 = np.int32(xp[b, iy, ix + sw, c])
                            v2 = np.int32(xp[b, iy, ix + 2 * sw, c])
                            v3 = np.int32(xp[b, iy, ix + 3 * sw, c])
                            for o in range(out_c):
                                wv = wt[ky, kx, c, o]
                                acc[0, o] += wv * v0
                                acc[1, o] += wv * v1
                                acc[2, o] += wv * v2
                                acc[3, o] += wv * v3
                for p in range(min(4, out_w - blk * 4)):
                    for o in range(out_c):
                        y[b, oy, blk * 4 + p, o] = requantize_s8(
                            acc[p, o] + bias[o], mult[o], shift[o], out_off, act_min, act_max
                        )
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
