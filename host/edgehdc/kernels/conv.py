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
from numba import int32, njit

from edgehdc.kernels import _checks
from edgehdc.kernels.requantize import requantize_s8, requantize_split
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
    bias, mult, shift = _checks.conv_params(bias, p, out_c, "conv2d_s8")
    _checks.input_offset(p.input_offset, "conv2d_s8")
    lanes = _lane_channels(in_c)
    packed = _pack_weights(weights, lanes)
    # acc = sum w * (x + input_offset) = sum w * u + (input_offset - 128) * sum w, with u = x + 128
    # (uint8) and every padding tap u = 128 - input_offset (so it adds 0, as TFLM skips it).
    # astype wraps to int32 like TFLM's accumulator.
    correction = (bias + (p.input_offset - 128) * weights.astype(np.int64).sum(axis=(1, 2, 3))).astype(np.int32)
    pad_value = np.uint8(128 - p.input_offset)
    args = (packed, correction, mult, np.maximum(shift, 0), np.maximum(-shift, 0), pad_value,
            p.output_offset, p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dilation_h, p.dilation_w,
            kh, kw, lanes, p.act_min, p.act_max, p.out_h, p.out_w)

    def run(x: np.ndarray) -> np.ndarray:
        x = _checks.int8_array(x, 4, "conv2d_s8 input")
        if x.shape[3] != in_c:
            raise ValueError(f"conv2d_s8: weights {weights.shape} need {in_c} input channels, got {x.shape[3]}")
        _checks.not_empty(x, "conv2d_s8")
        return _conv2d(x, *args)

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


def _common_args(bias, p: ConvParams, out_c: int, what: str) -> tuple:
    bias, mult, shift = _checks.conv_params(bias, p, out_c, what)
    return (bias, mult, shift, p.input_offset, p.output_offset, p.stride_h, p.stride_w,
            p.pad_h, p.pad_w, p.dilation_h, p.dilation_w, p.act_min, p.act_max, p.out_h, p.out_w)


# CONV_2D as a matrix product (im2col + GEMM, as CMSIS-NN and XNNPACK do on CPUs):
#   col[pixel, k] = u of window tap k (u = x + 128 as uint8), k over (ky, kx, channel)
#   acc[pixel, o] = sum_k col[pixel, k] * packed[o, k]  (+ correction[o])
# The input channels are padded to whole machine words so each window row is
# copied as words, k to a multiple of _K_ALIGN and the output channels and
# pixels to multiples of 4 for the 4x4 register-blocked product; padded weights
# are 0, so what the padding holds never reaches a result.
_K_ALIGN = 16
_CHUNK_PIXELS = 64


def _lane_channels(in_c: int) -> int:
    """Input channels per pixel after padding: a multiple of 8 (uint64 words) or else of 4 (uint32)."""
    return in_c if in_c % 8 == 0 else -(-in_c // 4) * 4


def _pack_weights(weights: np.ndarray, lanes: int) -> np.ndarray:
    """OHWI int8 -> int8 [O rounded up to 4, KH*KW*lanes rounded up to _K_ALIGN], zero padded."""
    out_c, kh, kw, in_c = weights.shape
    k = kh * kw * lanes
    packed = np.zeros((-(-out_c // 4) * 4, -(-k // _K_ALIGN) * _K_ALIGN), np.int8)
    w = np.zeros((out_c, kh, kw, lanes), np.int8)
    w[..., :in_c] = weights
    packed[:out_c, :k] = w.reshape(out_c, k)
    return packed


@njit(cache=True)
def _padded_u8(x, pad_value, top, left, rows, cols, lanes):
    """uint8 [N, rows, cols, lanes]: x + 128 at (top, left), pad_value elsewhere."""
    n_b, in_h, in_w, in_c = x.shape
    xp = np.full((n_b, rows, cols, lanes), pad_value, np.uint8)
    for b in range(n_b):
        for iy in range(in_h):
            for ix in range(in_w):
                for c in range(in_c):
                    xp[b, top + iy, left + ix, c] = np.uint8(x[b, iy, ix, c] ^ -128)
    return xp


@njit(cache=True)
def _im2col(words, col, row_words, oy0, n_rows, kh, kw, sh, sw, dh, dw, out_w, cols, word_lanes):
    """Output rows oy0 .. oy0 + n_rows of one padded image: `col` (flat, rows of `row_words`)
    gets one window per output pixel. Both are viewed as words of `word_lanes` per pixel; the
    innermost loop runs along the output row, the longest loop with fixed strides."""
    for r in range(n_rows):
        oy = oy0 + r
        for ky in range(kh):
            for kx in range(kw):
                for j in range(word_lanes):
                    s = ((oy * sh + ky * dh) * cols + kx * dw) * word_lanes + j
                    d = r * out_w * row_words + (ky * kw + kx) * word_lanes + j
                    for ox in range(out_w):
                        col[d + ox * row_words] = words[s + ox * sw * word_lanes]


@njit(cache=True)
def _gemm_u8s8(a, w, acc, rows):
    """acc[p, o] = sum_k a[p, k] * w[o, k] for p < rows (a multiple of 4), in wrapping int32;
    4 rows x 4 columns per block.

    Sixteen scalar sums per block stay in registers and the k loop vectorises
    (LLVM turns it into multiply-accumulates, vpdpwssd where AVX512-VNNI exists)."""
    depth = a.shape[1]
    for p in range(0, rows, 4):
        for o in range(0, w.shape[0], 4):
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = int32(0)
            s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = int32(0)
            for k in range(depth):
                w0, w1, w2, w3 = int32(w[o, k]), int32(w[o + 1, k]), int32(w[o + 2, k]), int32(w[o + 3, k])
                x0, x1, x2, x3 = int32(a[p, k]), int32(a[p + 1, k]), int32(a[p + 2, k]), int32(a[p + 3, k])
                s00, s01, s02, s03 = int32(s00 + x0 * w0), int32(s01 + x0 * w1), int32(s02 + x0 * w2), int32(s03 + x0 * w3)
                s10, s11, s12, s13 = int32(s10 + x1 * w0), int32(s11 + x1 * w1), int32(s12 + x1 * w2), int32(s13 + x1 * w3)
                s20, s21, s22, s23 = int32(s20 + x2 * w0), int32(s21 + x2 * w1), int32(s22 + x2 * w2), int32(s23 + x2 * w3)
                s30, s31, s32, s33 = int32(s30 + x3 * w0), int32(s31 + x3 * w1), int32(s32 + x3 * w2), int32(s33 + x3 * w3)
            acc[p, o], acc[p, o + 1], acc[p, o + 2], acc[p, o + 3] = s00, s01, s02, s03
            acc[p + 1, o], acc[p + 1, o + 1], acc[p + 1, o + 2], acc[p + 1, o + 3] = s10, s11, s12, s13
            acc[p + 2, o], acc[p + 2, o + 1], acc[p + 2, o + 2], acc[p + 2, o + 3] = s20, s21, s22, s23
            acc[p + 3, o], acc[p + 3, o + 1], acc[p + 3, o + 2], acc[p + 3, o + 3] = s30, s31, s32, s33


@njit(cache=True)
def _conv2d(x, packed, correction, mult, left, right, pad_value, out_off, sh, sw, ph, pw, dh, dw,
            kh, kw, lanes, act_min, act_max, out_h, out_w):
    n_b, in_h, in_w, _ = x.shape
    rows = max(ph + in_h, (out_h - 1) * sh + (kh - 1) * dh + 1)
    cols = max(pw + in_w, (out_w - 1) * sw + (kw - 1) * dw + 1)
    xp = _padded_u8(x, pad_value, ph, pw, rows, cols, lanes)
    # Whole output rows per chunk, about _CHUNK_PIXELS windows: they stay in cache.
    chunk = max(1, _CHUNK_PIXELS // out_w)
    col = np.zeros((-(-chunk * out_w // 4) * 4, packed.shape[1]), np.uint8)
    flat = col.reshape(-1)
    acc = np.empty((col.shape[0], packed.shape[0]), np.int32)
    out_c = correction.size
    y = np.empty((n_b, out_h, out_w, out_c), np.int8)
    for b in range(n_b):
        image, out = xp[b].reshape(-1), y[b].reshape(out_h * out_w, out_c)
        for oy0 in range(0, out_h, chunk):
            n_rows = min(chunk, out_h - oy0)
            if lanes % 8 == 0:
                _im2col(image.view(np.uint64), flat.view(np.uint64), col.shape[1] // 8, oy0, n_rows,
                        kh, kw, sh, sw, dh, dw, out_w, cols, lanes // 8)
            else:
                _im2col(image.view(np.uint32), flat.view(np.uint32), col.shape[1] // 4, oy0, n_rows,
                        kh, kw, sh, sw, dh, dw, out_w, cols, lanes // 4)
            _gemm_u8s8(col, packed, acc, -(-n_rows * out_w // 4) * 4)
            first = oy0 * out_w
            for i in range(n_rows * out_w):
                for o in range(out_c):  # vectorises: requantize_split is selects
                    out[first + i, o] = requantize_split(
                        acc[i, o] + correction[o], mult[o], left[o], right[o], out_off, act_min, act_max)
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
