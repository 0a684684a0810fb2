/*
 * DEPTHWISE_CONV_2D, 3x3 filter, dilation 1, depth multiplier 1, any stride
 * and padding. Four channels at a time over every output pixel: their nine
 * taps of weights are widened into int16 pairs once, and the input offset is
 * folded into the bias (bias + offset * sum of the weights), so a pixel whose
 * window lies inside the input costs per tap one load, two SXTB16 and four
 * SMLAxy. A border pixel's window is first copied with the zero point in the
 * taps outside the input (they then add nothing); the last C % 4 channels go
 * one by one (ehd_depthwise_dsp.h). MVE: every pixel as the generic kernel's, four int32
 * lanes per step.
 */
#include "ehd/ehd_kernels.h"

#include "ehd_conv_checks.h"
#include "ehd_depthwise_dsp.h"

#if !EHD_DSP_MVE
/* One tap: input word x (four channels) against widened weights lo (channels 0, 2), hi (1, 3). */
#define TAP(x, lo, hi)                                                     \
    do {                                                                   \
        const int32_t x02_ = ehd_sxtb16(x), x13_ = ehd_sxtb16_ror8(x);     \
        a.a0 = ehd_smlabb(x02_, lo, a.a0);                                 \
        a.a2 = ehd_smlatt(x02_, lo, a.a2);                                 \
        a.a1 = ehd_smlabb(x13_, hi, a.a1);                                 \
        a.a3 = ehd_smlatt(x13_, hi, a.a3);                                 \
    } while (0)

/* Four channels' nine taps, widened, and their bias with the input offset folded in. */
typedef struct {
    int32_t lo[9], hi[9]; /* tap t: channels (c, c+2) and (c+1, c+3) as int16 pairs */
    ehd_dsp_acc4 folded;  /* bias + input_offset * sum of the nine weights, wrapping like int32 */
    int32_t pad;          /* the input zero point in four lanes: a tap outside the input */
} group_weights;

static void widen_group(const ehd_conv_params *conv, int32_t input_offset, int32_t ch, int32_t c,
                        group_weights *g)
{
    int32_t sum02 = 0, sum13 = 0, t;
    g->pad = ehd_dup_s8x4(-input_offset);
    for (t = 0; t < 9; t++) {
        const int32_t w = ehd_read_s8x4(conv->weights + t * ch + c);
        g->lo[t] = ehd_sxtb16(w);
        g->hi[t] = ehd_sxtb16_ror8(w);
        sum02 = ehd_sadd16(sum02, g->lo[t]); /* nine int8 values cannot leave an int16 lane */
        sum13 = ehd_sadd16(sum13, g->hi[t]);
    }
    const int32_t sums[4] = {(int16_t)sum02, (int16_t)sum13, sum02 >> 16, sum13 >> 16};
    int32_t bias[4] = {0, 0, 0, 0}, i;
    for (i = 0; i < 4 && conv->bias != 0; i++) {
        bias[i] = conv->bias[c + i];
    }
    g->folded.a0 = (int32_t)((uint32_t)bias[0] + (uint32_t)(input_offset * sums[0]));
    g->folded.a1 = (int32_t)((uint32_t)bias[1] + (uint32_t)(input_offset * sums[1]));
    g->folded.a2 = (int32_t)((uint32_t)bias[2] + (uint32_t)(input_offset * sums[2]));
    g->folded.a3 = (int32_t)((uint32_t)bias[3] + (uint32_t)(input_offset * sums[3]));
}

/*
 * Channels [c, c + 4) of a window inside the input, top-left tap at x (channel
 * c), requantized into a clamped s8x4; x walks the window.
 */
static int32_t interior(const group_weights *g, const int8_t *x, int32_t ch, int32_t row,
                        const ehd_conv_params *conv, const ehd_offsets *offsets, int32_t c)
{
    ehd_dsp_acc4 a = g->folded;
    const int32_t next_row = row - 2 * ch;
    TAP(ehd_read_s8x4(x), g->lo[0], g->hi[0]);
    x += ch;
    TAP(ehd_read_s8x4(x), g->lo[1], g->hi[1]);
    x += ch;
    TAP(ehd_read_s8x4(x), g->lo[2], g->hi[2]);
    x += next_row;
    TAP(ehd_read_s8x4(x), g->lo[3], g->hi[3]);
    x += ch;
    TAP(ehd_read_s8x4(x), g->lo[4], g->hi[4]);
    x += ch;
    TAP(ehd_read_s8x4(x), g->lo[5], g->hi[5]);
    x += next_row;
    TAP(ehd_read_s8x4(x), g->lo[6], g->hi[6]);
    x += ch;
    TAP(ehd_read_s8x4(x), g->lo[7], g->hi[7]);
    x += ch;
    TAP(ehd_read_s8x4(x), g->lo[8], g->hi[8]);
    return ehd_dsp_depthwise_requantize(conv, offsets, c, a);
}

/*
 * A border pixel's window, four channels from c, as a 3x3 block of words: a
 * tap outside the input holds the zero point, which adds nothing, so the
 * folded bias and interior() apply unchanged (block row stride 12 bytes).
 */
EHD_DSP_INLINE void border_window(const int8_t *in_batch, const ehd_dims *in, int32_t y0, int32_t x0,
                                  int32_t c, int32_t pad, int32_t window[9])
{
    const int32_t row = in->w * in->c;
    int64_t at = (int64_t)y0 * row + (int64_t)x0 * in->c + c; /* tap (0, 0), maybe outside the input */
    const int inside0 = x0 >= 0 && x0 < in->w, inside1 = x0 + 1 >= 0 && x0 + 1 < in->w;
    const int inside2 = x0 + 2 >= 0 && x0 + 2 < in->w; /* which of the window's columns lie inside */
    int32_t ky;
    for (ky = 0; ky < 3; ky++, at += row) {
        const int32_t y = y0 + ky;
        if (y < 0 || y >= in->h) {
            window[3 * ky] = window[3 * ky + 1] = window[3 * ky + 2] = pad;
            continue;
        }
        window[3 * ky] = inside0 ? ehd_read_s8x4(in_batch + at) : pad;
        window[3 * ky + 1] = inside1 ? ehd_read_s8x4(in_batch + at + in->c) : pad;
        window[3 * ky + 2] = inside2 ? ehd_read_s8x4(in_batch + at + 2 * in->c) : pad;
    }
}
#endif /* !EHD_DSP_MVE */

ehd_status ehd_depthwise_conv_3x3_s8_dsp(const ehd_conv_params *conv, const ehd_offsets *offsets,
                                         const ehd_dims *input_dims, const int8_t *input,
                                         const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status =
        ehd_depthwise_check_args(conv, offsets, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    if (conv->depth_multiplier != 1 || conv->filter.h != 3 || conv->filter.w != 3 ||
        conv->dilation_h != 1 || conv->dilation_w != 1) {
        return EHD_ERR_UNSUPPORTED;
    }
    const int32_t ch = input_dims->c, row = input_dims->w * ch;
    const int64_t in_batch_size = (int64_t)input_dims->h * row;
    int32_t b, oy, ox, c;
#if EHD_DSP_MVE
    /* MVE: every pixel on its clipped window, four channels per vector step. */
    for (b = 0; b < output_dims->n; b++) {
        const int8_t *in_batch = input + b * in_batch_size;
        for (oy = 0; oy < output_dims->h; oy++) {
            for (ox = 0; ox < output_dims->w; ox++, output += ch) {
                const ehd_dsp_window win = ehd_dsp_depthwise_window(conv, input_dims, in_batch, oy, ox);
                ehd_dsp_depthwise_window_sum(&win, 0, ch, conv, offsets, output);
            }
        }
    }
    (void)c, (void)row;
    return EHD_OK;
#else
    group_weights g = {{0}, {0}, {0, 0, 0, 0}, 0};

    for (c = 0; c < ch; c += 4) {
        const int whole = c + 4 <= ch; /* else the last C % 4 channels */
        if (whole) {
            widen_group(conv, offsets->input_offset, ch, c, &g);
        }
        for (b = 0; b < output_dims->n; b++) {
            const int8_t *in_batch = input + b * in_batch_size;
            int8_t *out = output + (int64_t)b * output_dims->h * output_dims->w * ch;
            for (oy = 0; oy < output_dims->h; oy++) {
                const int32_t y0 = oy * conv->stride_h - conv->pad_h;
                const int rows_inside = y0 >= 0 && y0 + 3 <= input_dims->h;
                for (ox = 0; ox < output_dims->w; ox++, out += ch) {
                    const int32_t x0 = ox * conv->stride_w - conv->pad_w;
                    if (whole && rows_inside && x0 >= 0 && x0 + 3 <= input_dims->w) {
                        const int8_t *x = in_batch + (int64_t)y0 * row + (int64_t)x0 * ch + c;
                        ehd_write_s8x4(out + c, interior(&g, x, ch, row, conv, offsets, c));
                    } else if (whole) {
                        int32_t window[9];
                        border_window(in_batch, input_dims, y0, x0, c, g.pad, window);
                        ehd_write_s8x4(out + c, interior(&g, (const int8_t *)window, 4, 12, conv, offsets, c));
                    } else {
                        const ehd_dsp_window win = ehd_dsp_depthwise_window(conv, input_dims, in_batch, oy, ox);
                        ehd_dsp_depthwise_window_sum(&win, c, ch, conv, offsets, out);
                    }
                }
            }
        }
    }
    return EHD_OK;
#endif
}
