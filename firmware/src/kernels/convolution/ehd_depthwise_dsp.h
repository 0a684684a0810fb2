/*
 * What the dsp depthwise convolutions share (private to firmware/src/kernels):
 * an output pixel's window clipped to the input, and that window's sum for
 * four channels (or one) at a time.
 *
 * Depth multiplier 1. Channels are adjacent in memory, so one word holds the
 * same tap of four channels, for the input and for the weights alike: SXTB16
 * splits each into lanes (0, 2) and (1, 3), and SMLABB / SMLATT accumulate
 * every channel on its own. MVE: four channels in int32 lanes (VLDRB widens),
 * the last ones tail-predicated.
 */
#ifndef EHD_DEPTHWISE_DSP_H
#define EHD_DEPTHWISE_DSP_H

#include "ehd/ehd_kernels.h"

#include "../ehd_dsp.h"

/* Four channels' accumulators. */
typedef struct {
    int32_t a0, a1, a2, a3;
} ehd_dsp_acc4;

/* Where one output pixel reads: its first tap inside the input and the rectangle of such taps. */
typedef struct {
    const int8_t *input;   /* input at the first tap, channel 0 */
    int32_t tap;           /* index (ky * kw + kx) of the first tap */
    int32_t rows, cols;    /* taps inside the input */
    int32_t input_step;    /* bytes to the next tap of a row */
    int32_t input_row_step; /* bytes to the next row of taps */
} ehd_dsp_window;

/* The taps [*lo, *hi) of a window starting at `start` (step `dilation`) that fall in [0, size). */
static inline void ehd_dsp_tap_range(int32_t start, int32_t size, int32_t dilation, int32_t taps,
                                     int32_t *lo, int32_t *hi)
{
    const int32_t first = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
    const int32_t end = size > start ? (size - start + dilation - 1) / dilation : 0;
    *lo = EHD_MIN(first, taps);
    *hi = EHD_MAX(*lo, EHD_MIN(end, taps));
}

/* The window of output (oy, ox) clipped to the input (any kernel size, stride, dilation, padding). */
static inline ehd_dsp_window ehd_dsp_depthwise_window(const ehd_conv_params *conv, const ehd_dims *in,
                                                      const int8_t *in_batch, int32_t oy, int32_t ox)
{
    const int32_t ch = in->c;
    int32_t y0 = oy * conv->stride_h - conv->pad_h;
    int32_t x0 = ox * conv->stride_w - conv->pad_w;
    int32_t ky0, ky1, kx0, kx1;
    ehd_dsp_tap_range(y0, in->h, conv->dilation_h, conv->filter.h, &ky0, &ky1);
    ehd_dsp_tap_range(x0, in->w, conv->dilation_w, conv->filter.w, &kx0, &kx1);
    ehd_dsp_window win;
    win.rows = ky1 - ky0;
    win.cols = kx1 - kx0;
    if (win.rows == 0 || win.cols == 0) {
        ky0 = kx0 = y0 = x0 = win.rows = win.cols = 0; /* only the bias: point at valid memory */
    }
    win.input = in_batch +
                ((int64_t)(y0 + ky0 * conv->dilation_h) * in->w + x0 + kx0 * conv->dilation_w) * ch;
    win.tap = ky0 * conv->filter.w + kx0;
    win.input_step = conv->dilation_w * ch;
    win.input_row_step = conv->dilation_h * in->w * ch;
    return win;
}

/*
 * Output channels [first, last) of one pixel on its (clipped) window,
 * requantized and clamped, to out[first..last): four channels per step, the
 * rest one by one (MVE: four int32 lanes, tail-predicated).
 */
void ehd_dsp_depthwise_window_sum(const ehd_dsp_window *win, int32_t first, int32_t last,
                                  const ehd_conv_params *conv, const ehd_offsets *offsets, int8_t *out);

/* Channels [c, c + 4)'s accumulators requantized into a clamped s8x4. */
EHD_DSP_INLINE int32_t ehd_dsp_depthwise_requantize(const ehd_conv_params *conv, const ehd_offsets *offsets,
                                                    int32_t c, ehd_dsp_acc4 acc)
{
    int32_t a[4] = {acc.a0, acc.a1, acc.a2, acc.a3};
    ehd_dsp_requantize4(a, conv->multiplier + c, conv->shift + c, offsets->output_offset);
    return ehd_dsp_pack_clamp(a, conv->act_min, conv->act_max);
}

#endif /* EHD_DEPTHWISE_DSP_H */
