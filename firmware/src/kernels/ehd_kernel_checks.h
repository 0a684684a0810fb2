/* Argument checks shared by the kernels (private to firmware/src/kernels). */
#ifndef EHD_KERNEL_CHECKS_H
#define EHD_KERNEL_CHECKS_H

#include "ehd/ehd_support.h"
#include "ehd/ehd_model.h"

static inline int ehd_dims_valid(const ehd_dims *d)
{
    return d != 0 && d->n > 0 && d->h > 0 && d->w > 0 && d->c > 0;
}

static inline int ehd_act_valid(int32_t act_min, int32_t act_max)
{
    return act_min >= INT8_MIN && act_max <= INT8_MAX && act_min <= act_max;
}

static inline int ehd_shift_valid(int32_t shift)
{
    return shift >= EHD_SHIFT_MIN && shift <= EHD_SHIFT_MAX;
}

/* Every per-channel multiplier is a non-negative Q31 value and every shift in range. */
static inline int ehd_quant_valid(const int32_t *multiplier, const int32_t *shift, int32_t n)
{
    int32_t i;
    if (multiplier == 0 || shift == 0) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (multiplier[i] < 0 || !ehd_shift_valid(shift[i])) {
            return 0;
        }
    }
    return 1;
}

/* Stride, dilation, padding and clamp of a convolution are usable. */
static inline int ehd_conv_geometry_valid(const ehd_conv_params *conv)
{
    return conv->stride_h > 0 && conv->stride_w > 0 && conv->dilation_h > 0 &&
           conv->dilation_w > 0 && conv->pad_h >= 0 && conv->pad_w >= 0 &&
           conv->filter.h > 0 && conv->filter.w > 0 && ehd_act_valid(conv->act_min, conv->act_max);
}

#endif /* EHD_KERNEL_CHECKS_H */
