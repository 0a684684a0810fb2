/* Argument checks shared by the kernels (private to firmware/src/kernels). */
#ifndef EHD_KERNEL_CHECKS_H
#define EHD_KERNEL_CHECKS_H

#include "ehd/ehd_support.h"
#include "ehd/ehd_model.h"

/* Every dimension positive and the element count within int32 (ehd_dims_count cannot overflow). */
static inline int ehd_dims_valid(const ehd_dims *d)
{
    if (d == 0 || d->n <= 0 || d->h <= 0 || d->w <= 0 || d->c <= 0) {
        return 0;
    }
    int64_t count = (int64_t)d->n * d->h;
    if (count > INT32_MAX) {
        return 0;
    }
    count *= d->w;
    return count <= INT32_MAX && count * d->c <= INT32_MAX;
}

static inline int ehd_dims_equal(const ehd_dims *a, const ehd_dims *b)
{
    return a->n == b->n && a->h == b->h && a->w == b->w && a->c == b->c;
}

/*
 * An output of `out_bytes` at `out` may be the very buffer of an input of the same size (an
 * elementwise op writes element i after reading it), or lie apart from it; a partial overlap
 * would read values already overwritten.
 */
static inline int ehd_alias_ok(const void *in, uint32_t in_bytes, const void *out, uint32_t out_bytes)
{
    const uintptr_t a = (uintptr_t)in, b = (uintptr_t)out;
    if (a == b) {
        return in_bytes == out_bytes;
    }
    return a + in_bytes <= b || b + out_bytes <= a;
}

/* The buffers do not overlap at all. */
static inline int ehd_disjoint(const void *in, uint32_t in_bytes, const void *out, uint32_t out_bytes)
{
    const uintptr_t a = (uintptr_t)in, b = (uintptr_t)out;
    return a + in_bytes <= b || b + out_bytes <= a;
}

static inline int ehd_act_valid(int32_t act_min, int32_t act_max)
{
    return act_min >= INT8_MIN && act_max <= INT8_MAX && act_min <= act_max;
}

static inline int ehd_shift_valid(int32_t shift)
{
    return shift >= EHD_SHIFT_MIN && shift <= EHD_SHIFT_MAX;
}

static inline int ehd_multiplier_valid(int32_t multiplier, int32_t shift)
{
    return multiplier >= 0 && ehd_shift_valid(shift);
}

/* Every per-channel multiplier is a non-negative Q31 value and every shift in range. */
static inline int ehd_quant_valid(const int32_t *multiplier, const int32_t *shift, int32_t n)
{
    int32_t i;
    if (multiplier == 0 || shift == 0) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!ehd_multiplier_valid(multiplier[i], shift[i])) {
            return 0;
        }
    }
    return 1;
}

/*
 * QUANTIZE / DEQUANTIZE arguments: a finite positive scale, an int8 zero point, the same number
 * of values in and out (of in_size and out_size bytes each), and buffers apart.
 */
static inline ehd_status ehd_quantize_check_args(const ehd_quantize_params *p, const ehd_dims *in,
                                                 const void *input, uint32_t in_size,
                                                 const ehd_dims *out, const void *output,
                                                 uint32_t out_size)
{
    if (p == 0 || !(p->scale > 0.0f && p->scale <= 3.40282347e38f) || p->zero_point < INT8_MIN ||
        p->zero_point > INT8_MAX || input == 0 || output == 0 || !ehd_dims_valid(in) ||
        !ehd_dims_valid(out)) {
        return EHD_ERR_ARG;
    }
    const int32_t count = ehd_dims_count(in);
    if (count != ehd_dims_count(out)) {
        return EHD_ERR_SHAPE;
    }
    if (count > INT32_MAX / 4 ||
        !ehd_disjoint(input, (uint32_t)count * in_size, output, (uint32_t)count * out_size)) {
        return EHD_ERR_ARG;
    }
    return EHD_OK;
}

/* Stride, dilation, padding and clamp of a convolution are usable. */
static inline int ehd_conv_geometry_valid(const ehd_conv_params *conv)
{
    return conv->stride_h > 0 && conv->stride_w > 0 && conv->dilation_h > 0 &&
           conv->dilation_w > 0 && conv->pad_h >= 0 && conv->pad_w >= 0 &&
           conv->filter.h > 0 && conv->filter.w > 0 && ehd_act_valid(conv->act_min, conv->act_max);
}

#endif /* EHD_KERNEL_CHECKS_H */
