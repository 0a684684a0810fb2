/* CONV_2D, int8, per-channel weights: TFLM's reference ConvPerChannel. */
#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

#include "ehd_conv_checks.h"

ehd_status ehd_convolve_s8(const ehd_conv_params *conv, const ehd_offsets *offsets,
                           const ehd_dims *input_dims, const int8_t *input,
                           const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = ehd_conv_check_args(conv, offsets, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = conv->filter.h, k_w = conv->filter.w;
    int32_t b, oy, ox, oc, ky, kx, ic;

    for (b = 0; b < output_dims->n; b++) {
        const int8_t *in_batch = input + (int64_t)b * in_h * in_w * in_c;
        for (oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * conv->stride_h - conv->pad_h;
            for (ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * conv->stride_w - conv->pad_w;
                for (oc = 0; oc < output_dims->c; oc++) {
                    const int8_t *filter = conv->weights + (int64_t)oc * k_h * k_w * in_c;
                    int32_t acc = 0;
                    for (ky = 0; ky < k_h; ky++) {
                        const int32_t y = y0 + ky * conv->dilation_h;
                        if (y < 0 || y >= in_h) {
                            continue; /* padding contributes zero (after the offset) */
                        }
                        for (kx = 0; kx < k_w; kx++) {
                            const int32_t x = x0 + kx * conv->dilation_w;
                            if (x < 0 || x >= in_w) {
                                continue;
                            }
                            const int8_t *px = in_batch + ((int64_t)y * in_w + x) * in_c;
                            const int8_t *w = filter + ((int64_t)ky * k_w + kx) * in_c;
                            for (ic = 0; ic < in_c; ic++) {
                                acc = ehd_mac(acc, px[ic], offsets->input_offset, w[ic]);
                            }
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
    return EHD_OK;
}

#if EHD_KERNEL_BACKEND == EHD_BACKEND_DSP
/* The dsp backend's 1x1 kernel applies (ehd_convolve_1x1_s8_dsp's preconditions). */
static int dsp_1x1(const ehd_conv_params *conv, const ehd_dims *in, const ehd_dims *out)
{
    return conv->filter.h == 1 && conv->filter.w == 1 && conv->pad_h == 0 && conv->pad_w == 0 &&
           (int64_t)(out->h - 1) * conv->stride_h < in->h &&
           (int64_t)(out->w - 1) * conv->stride_w < in->w;
}
#endif

#if EHD_KERNEL_BACKEND != EHD_BACKEND_CMSIS_NN /* cmsis_nn: the wrapper is in cmsis_nn/ */
int32_t ehd_convolve_wrapper_s8_get_buffer_size(const ehd_conv_params *conv, const ehd_dims *input_dims,
                                                const ehd_dims *output_dims)
{
#if EHD_KERNEL_BACKEND == EHD_BACKEND_DSP
    if (conv == 0 || input_dims == 0 || output_dims == 0) {
        return 0;
    }
    return dsp_1x1(conv, input_dims, output_dims) ? ehd_convolve_1x1_s8_dsp_get_buffer_size(input_dims)
                                                  : ehd_convolve_s8_dsp_get_buffer_size(conv, input_dims);
#else
    (void)conv;
    (void)input_dims;
    (void)output_dims;
    return 0;
#endif
}

ehd_status ehd_convolve_wrapper_s8(const ehd_context *ctx, const ehd_conv_params *conv,
                                   const ehd_offsets *offsets, const ehd_dims *input_dims,
                                   const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
#if EHD_KERNEL_BACKEND == EHD_BACKEND_DSP
    const ehd_status status = ehd_conv_check_args(conv, offsets, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    return dsp_1x1(conv, input_dims, output_dims)
               ? ehd_convolve_1x1_s8_dsp(ctx, conv, offsets, input_dims, input, output_dims, output)
               : ehd_convolve_s8_dsp(ctx, conv, offsets, input_dims, input, output_dims, output);
#else
    (void)ctx;
    return ehd_convolve_s8(conv, offsets, input_dims, input, output_dims, output);
#endif
}
#endif
