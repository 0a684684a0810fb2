/*
 * DEPTHWISE_CONV_2D, int8, per-channel weights, depth multiplier 1, any
 * kernel size, stride, dilation and padding: each output pixel's window is
 * clipped to the input once, then summed four channels per step
 * (ehd_depthwise_dsp.h; MVE: four int32 lanes per step).
 */
#include "ehd/ehd_kernels.h"

#include "ehd_conv_checks.h"
#include "ehd_depthwise_dsp.h"

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
    int32_t b, oy, ox, c;

    for (b = 0; b < output_dims->n; b++) {
        const int8_t *in_batch = input + b * in_batch_size;
        for (oy = 0; oy < output_dims->h; oy++) {
            for (ox = 0; ox < output_dims->w; ox++, output += ch) {
                const ehd_dsp_window win = ehd_dsp_depthwise_window(conv, input_dims, in_batch, oy, ox);
#if EHD_DSP_MVE
                ehd_mve_depthwise_pixel(&win, conv, ch, offsets, output);
                (void)c;
                continue;
#endif
                for (c = 0; c + 4 <= ch; c += 4) {
                    const ehd_dsp_acc4 a = ehd_dsp_depthwise_4ch(&win, c, conv, ch, offsets->input_offset);
                    ehd_write_s8x4(output + c, ehd_dsp_depthwise_requantize(conv, offsets, c, a));
                }
                for (; c < ch; c++) {
                    output[c] = ehd_dsp_depthwise_1ch(&win, c, conv, ch, offsets);
                }
            }
        }
    }
    return EHD_OK;
}
