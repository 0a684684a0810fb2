/* Argument checks shared by every convolution variant, so each returns the same status. */
#ifndef EHD_CONV_CHECKS_H
#define EHD_CONV_CHECKS_H

#include "ehd/ehd_kernels.h"

#include "../ehd_kernel_checks.h"

static inline ehd_status ehd_conv_check_args(const ehd_conv_params *conv, const ehd_offsets *offsets,
                                             const ehd_dims *in, const int8_t *input,
                                             const ehd_dims *out, const int8_t *output)
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

static inline ehd_status ehd_depthwise_check_args(const ehd_conv_params *conv,
                                                  const ehd_offsets *offsets, const ehd_dims *in,
                                                  const int8_t *input, const ehd_dims *out,
                                                  const int8_t *output)
{
    if (conv == 0 || offsets == 0 || input == 0 || output == 0 || conv->weights == 0 ||
        !ehd_dims_valid(in) || !ehd_dims_valid(out) || !ehd_conv_geometry_valid(conv) ||
        conv->depth_multiplier <= 0) {
        return EHD_ERR_ARG;
    }
    if (conv->filter.n != 1 || conv->filter.c != out->c ||
        (int64_t)in->c * conv->depth_multiplier != out->c || in->n != out->n) {
        return EHD_ERR_SHAPE;
    }
    if (!ehd_quant_valid(conv->multiplier, conv->shift, out->c)) {
        return EHD_ERR_ARG;
    }
    return EHD_OK;
}

#endif /* EHD_CONV_CHECKS_H */
