/*
 * DEPTHWISE_CONV_2D, int8, per-channel weights, depth multiplier 1, any
 * kernel size, stride, dilation and padding: each output pixel's window is
 * clipped to the input once, then summed four channels per step
 * (ehd_depthwise_dsp.h; MVE: four int32 lanes per step).
 */
#include "ehd/ehd_kernels.h"

#include "ehd_conv_checks.h"
#include "ehd_depthwise_dsp.h"

#if EHD_DSP_MVE
void ehd_dsp_depthwise_window_sum(const ehd_dsp_window *win, int32_t first, int32_t last,
                                  const ehd_conv_params *conv, const ehd_offsets *offsets, int8_t *out)
{
    const int32_t channels = conv->filter.c;
    int32_t c, r, t;
    for (c = first; c < last; c += 4) {
        const mve_pred16_t p = vctp32q((uint32_t)(last - c));
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

#else

/* Channels [c, c + 4) of a window: bias + sum of (input + input_offset) * weight over its taps. */
EHD_DSP_INLINE ehd_dsp_acc4 sum_4ch(const ehd_dsp_window *win, int32_t c, const ehd_conv_params *conv,
                                    int32_t channels, int32_t input_offset)
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
static int8_t sum_1ch(const ehd_dsp_window *win, int32_t c, const ehd_conv_params *conv, int32_t channels,
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

void ehd_dsp_depthwise_window_sum(const ehd_dsp_window *win, int32_t first, int32_t last,
                                  const ehd_conv_params *conv, const ehd_offsets *offsets, int8_t *out)
{
    const int32_t channels = conv->filter.c;
    int32_t c;
    for (c = first; c + 4 <= last; c += 4) {
        const ehd_dsp_acc4 a = sum_4ch(win, c, conv, channels, offsets->input_offset);
        ehd_write_s8x4(out + c, ehd_dsp_depthwise_requantize(conv, offsets, c, a));
    }
    for (; c < last; c++) {
        out[c] = sum_1ch(win, c, conv, channels, offsets);
    }
}
#endif

ehd_status ehd_depthwise_conv_s8_dsp(const ehd_conv_params *conv, const ehd_offsets *offsets,
                                     const ehd_dims *input_dims, const int8_t *input,
                                     const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status =
        ehd_depthwise_check_args(conv, offsets, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    if (conv->depth_multiplier != 1) {
        return EHD_ERR_UNSUPPORTED;
    }
    const int32_t ch = input_dims->c;
    const int64_t in_batch_size = (int64_t)input_dims->h * input_dims->w * ch;
    int32_t b, oy, ox;

    for (b = 0; b < output_dims->n; b++) {
        const int8_t *in_batch = input + b * in_batch_size;
        for (oy = 0; oy < output_dims->h; oy++) {
            for (ox = 0; ox < output_dims->w; ox++, output += ch) {
                const ehd_dsp_window win = ehd_dsp_depthwise_window(conv, input_dims, in_batch, oy, ox);
                ehd_dsp_depthwise_window_sum(&win, 0, ch, conv, offsets, output);
            }
        }
    }
    return EHD_OK;
}
