/* CONV_2D, int8, per-channel weights: TFLM's reference ConvPerChannel. */
#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

#include "../ehd_kernel_checks.h"

static ehd_status check_args(const ehd_conv_params *conv, const ehd_offsets *offsets,
                             const ehd_dims *in, const int8_t *input, const ehd_dims *out,
                             const int8_t *output)
{
    if (conv == 0 || offsets == 0 || input == 0 || output == 0 || conv->weights == 0 ||
        !ehd_dims_valid(in) || !ehd_dims_valid(out) || !ehd_conv_geometry_valid(conv)) {
        return EHD_ERR_ARG;
    }
    if (conv->filter.n != out->c || conv->filter.c != in->c || in->n != out->n) {
        return EHD_ERR_SHAPE;
    }
    if (!ehd_quant_valid(conv->multiplier, conv->shift, out->c)) {
        return EHD_ERR_ARG;
    }
    return EHD_OK;
}

ehd_status ehd_convolve_s8(const ehd_conv_params *conv, const ehd_offsets *offsets,
                           const ehd_dims *input_dims, const int8_t *input,
                           const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = check_args(conv, offsets, input_dims, input, output_dims, output);
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

ehd_status ehd_convolve_wrapper_s8(const ehd_conv_params *conv, const ehd_offsets *offsets,
                                   const ehd_dims *input_dims, const int8_t *input,
                                   const ehd_dims *output_dims, int8_t *output)
{
    /* Backend dispatch point: dsp / cmsis_nn variants (1x1, 1xN) will be picked here. */
    return ehd_convolve_s8(conv, offsets, input_dims, input, output_dims, output);
}
