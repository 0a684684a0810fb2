/* DEPTHWISE_CONV_2D, int8, per-channel weights: TFLM's reference DepthwiseConvPerChannel. */
#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

#include "ehd_conv_checks.h"

ehd_status ehd_depthwise_conv_s8(const ehd_conv_params *conv, const ehd_offsets *offsets,
                                 const ehd_dims *input_dims, const int8_t *input,
                                 const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status =
        ehd_depthwise_check_args(conv, offsets, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t out_c = output_dims->c, mult = conv->depth_multiplier;
    const int32_t k_h = conv->filter.h, k_w = conv->filter.w;
    int32_t b, oy, ox, ic, m, ky, kx;

    for (b = 0; b < output_dims->n; b++) {
        const int8_t *in_batch = input + (int64_t)b * in_h * in_w * in_c;
        for (oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * conv->stride_h - conv->pad_h;
            for (ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * conv->stride_w - conv->pad_w;
                for (ic = 0; ic < in_c; ic++) {
                    for (m = 0; m < mult; m++) {
                        const int32_t oc = ic * mult + m;
                        int32_t acc = 0;
                        for (ky = 0; ky < k_h; ky++) {
                            const int32_t y = y0 + ky * conv->dilation_h;
                            if (y < 0 || y >= in_h) {
                                continue;
                            }
                            for (kx = 0; kx < k_w; kx++) {
                                const int32_t x = x0 + kx * conv->dilation_w;
                                if (x < 0 || x >= in_w) {
                                    continue;
                                }
                                const int32_t px = in_batch[((int64_t)y * in_w + x) * in_c + ic];
                                const int32_t w = conv->weights[((int64_t)ky * k_w + kx) * out_c + oc];
                                acc = ehd_mac(acc, px, offsets->input_offset, w);
                            }
                        }
                        if (conv->bias != 0) {
                            acc = ehd_wrap_add(acc, conv->bias[oc]);
                        }
                        *output++ = ehd_requantize_s8(acc, conv->multiplier[oc], conv->shift[oc],
                                                      offsets->output_offset, conv->act_min,
                                                      conv->act_max);
                    }
                }
            }
        }
    }
    return EHD_OK;
}

#if EHD_KERNEL_BACKEND != EHD_BACKEND_CMSIS_NN /* cmsis_nn: the wrapper is in cmsis_nn/ */
#if EHD_KERNEL_BACKEND == EHD_BACKEND_DSP
/* The dsp 3x3 kernel applies (ehd_depthwise_conv_3x3_s8_dsp's preconditions). */
static int dsp_3x3(const ehd_conv_params *conv)
{
    return conv->depth_multiplier == 1 && conv->filter.h == 3 && conv->filter.w == 3 &&
           conv->dilation_h == 1 && conv->dilation_w == 1;
}
#endif

int32_t ehd_depthwise_conv_wrapper_s8_get_buffer_size(const ehd_conv_params *conv,
                                                      const ehd_dims *input_dims,
                                                      const ehd_dims *output_dims)
{
    (void)input_dims;
#if EHD_KERNEL_BACKEND == EHD_BACKEND_DSP
    /* The 3x3 kernel's padded plane (the same size on every core; the MVE path leaves it unused). */
    return conv != 0 && dsp_3x3(conv) ? ehd_depthwise_conv_3x3_s8_dsp_get_buffer_size(conv, output_dims) : 0;
#else
    (void)conv;
    (void)output_dims;
    return 0;
#endif
}

ehd_status ehd_depthwise_conv_wrapper_s8(const ehd_context *ctx, const ehd_conv_params *conv,
                                         const ehd_offsets *offsets, const ehd_dims *input_dims,
                                         const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
#if EHD_KERNEL_BACKEND == EHD_BACKEND_DSP
    if (conv != 0 && dsp_3x3(conv)) {
        /* The one fallback by design: the plane is optional, a context short of it (or NULL) leaves
         * the border windows padded one by one: slower, the same bytes. */
        return ehd_depthwise_conv_3x3_s8_dsp(ctx, conv, offsets, input_dims, input, output_dims, output);
    }
    if (conv != 0 && conv->depth_multiplier == 1) {
        return ehd_depthwise_conv_s8_dsp(conv, offsets, input_dims, input, output_dims, output);
    }
#endif
    (void)ctx;
    return ehd_depthwise_conv_s8(conv, offsets, input_dims, input, output_dims, output);
}
#endif
