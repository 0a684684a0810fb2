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

/* Channels [c, c + 4) of a window: bias + sum of (input + input_offset) * weight over its taps. */
EHD_DSP_INLINE ehd_dsp_acc4 ehd_dsp_depthwise_4ch(const ehd_dsp_window *win, int32_t c,
                                                 const ehd_conv_params *conv, int32_t channels,
                                                 int32_t input_offset)
{
    const int32_t offset2 = (int32_t)(((uint32_t)input_offset & 0xFFFFu) * 0x10001u);
    ehd_dsp_acc4 a = {0, 0, 0, 0};
    const int8_t *in_row = win->input + c;
    const int8_t *w_row = conv->weights + (int64_t)win->tap * channels + c;
    int32_t r, t;
    if (conv->bias != 0) {
        a.a0 = conv->bias[c], a.a1 = conv->bias[c + 1], a.a2 = conv->bias[c + 2], a.a3 = conv->bias[c + 3];
    }
    for (r = 0; r < win->rows; r++, in_row += win->input_row_step, w_row += conv->filter.w * channels) {
        const int8_t *x = in_row, *w = w_row;
        for (t = 0; t < win->cols; t++, x += win->input_step, w += channels) {
            const int32_t xv = ehd_read_s8x4(x), wv = ehd_read_s8x4(w);
            const int32_t x02 = ehd_sadd16(ehd_sxtb16(xv), offset2);
            const int32_t x13 = ehd_sadd16(ehd_sxtb16_ror8(xv), offset2);
            const int32_t w02 = ehd_sxtb16(wv), w13 = ehd_sxtb16_ror8(wv);
            a.a0 = ehd_smlabb(x02, w02, a.a0);
            a.a2 = ehd_smlatt(x02, w02, a.a2);
            a.a1 = ehd_smlabb(x13, w13, a.a1);
            a.a3 = ehd_smlatt(x13, w13, a.a3);
        }
    }
    return a;
}

/* Output channel c of a window, requantized and clamped. */
static inline int8_t ehd_dsp_depthwise_1ch(const ehd_dsp_window *win, int32_t c,
                                           const ehd_conv_params *conv, int32_t channels,
                                           const ehd_offsets *offsets)
{
    int32_t acc = conv->bias != 0 ? conv->bias[c] : 0;
    const int8_t *in_row = win->input + c;
    const int8_t *w_row = conv->weights + (int64_t)win->tap * channels + c;
    int32_t r, t;
    for (r = 0; r < win->rows; r++, in_row += win->input_row_step, w_row += conv->filter.w * channels) {
        const int8_t *x = in_row, *w = w_row;
        for (t = 0; t < win->cols; t++, x += win->input_step, w += channels) {
            acc += ((int32_t)*x + offsets->input_offset) * (int32_t)*w;
        }
    }
    return ehd_dsp_requantize_1ch(acc, conv->multiplier[c], conv->shift[c], offsets->output_offset,
                                  conv->act_min, conv->act_max);
}

/* Channels [c, c + 4)'s accumulators requantized into a clamped s8x4. */
EHD_DSP_INLINE int32_t ehd_dsp_depthwise_requantize(const ehd_conv_params *conv, const ehd_offsets *offsets,
                                                    int32_t c, ehd_dsp_acc4 acc)
{
    int32_t a[4] = {acc.a0, acc.a1, acc.a2, acc.a3};
    ehd_dsp_requantize4(a, conv->multiplier + c, conv->shift + c, offsets->output_offset);
    return ehd_dsp_pack_clamp(a, conv->act_min, conv->act_max);
}

#if EHD_DSP_MVE
/* Every channel of one output pixel, four int32 lanes at a time. */
EHD_DSP_INLINE void ehd_mve_depthwise_pixel(const ehd_dsp_window *win, const ehd_conv_params *conv,
                                            int32_t channels, const ehd_offsets *offsets, int8_t *out)
{
    int32_t c, r, t;
    for (c = 0; c < channels; c += 4) {
        const mve_pred16_t p = vctp32q((uint32_t)(channels - c));
        int32x4_t acc = conv->bias != 0 ? vldrwq_z_s32(conv->bias + c, p) : vdupq_n_s32(0);
        const int8_t *in_row = win->input + c;
        const int8_t *w_row = conv->weights + (int64_t)win->tap * channels + c;
        for (r = 0; r < win->rows; r++, in_row += win->input_row_step, w_row += conv->filter.w * channels) {
            const int8_t *x = in_row, *w = w_row;
            for (t = 0; t < win->cols; t++, x += win->input_step, w += channels) {
                const int32x4_t xv = vaddq_n_s32(vldrbq_z_s32(x, p), offsets->input_offset);
                acc = vaddq_s32(acc, vmulq_s32(xv, vldrbq_z_s32(w, p)));
            }
        }
        acc = ehd_mve_requantize(acc, vldrwq_z_s32(conv->multiplier + c, p), vldrwq_z_s32(conv->shift + c, p),
                                 offsets->output_offset, conv->act_min, conv->act_max);
        vstrbq_p_s32(out + c, acc, p);
    }
}
#endif

#endif /* EHD_DEPTHWISE_DSP_H */
