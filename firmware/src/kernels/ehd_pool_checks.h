/* Argument checks shared by the pooling kernels (private to firmware/src/kernels). */
#ifndef EHD_POOL_CHECKS_H
#define EHD_POOL_CHECKS_H

#include "ehd/ehd_model.h"

#include "ehd_kernel_checks.h"

static inline ehd_status ehd_pool_check_args(const ehd_pool_params *pool, const ehd_dims *in,
                                             const int8_t *input, const ehd_dims *out,
                                             const int8_t *output)
{
    if (pool == 0 || input == 0 || output == 0 || !ehd_dims_valid(in) || !ehd_dims_valid(out) ||
        pool->filter_h <= 0 || pool->filter_w <= 0 || pool->stride_h <= 0 ||
        pool->stride_w <= 0 || pool->pad_h < 0 || pool->pad_w < 0 ||
        !ehd_act_valid(pool->act_min, pool->act_max)) {
        return EHD_ERR_ARG;
    }
    if (in->n != out->n || in->c != out->c) {
        return EHD_ERR_SHAPE;
    }
    return EHD_OK;
}

/* The window of output (oy, ox) clipped to the input: [*y_start, *y_end) x [*x_start, *x_end). */
static inline void ehd_pool_window(const ehd_pool_params *pool, const ehd_dims *in, int32_t oy,
                                   int32_t ox, int32_t *y_start, int32_t *y_end, int32_t *x_start,
                                   int32_t *x_end)
{
    const int32_t y0 = oy * pool->stride_h - pool->pad_h;
    const int32_t x0 = ox * pool->stride_w - pool->pad_w;
    *y_start = EHD_MAX(0, y0);
    *y_end = EHD_MIN(in->h, y0 + pool->filter_h);
    *x_start = EHD_MAX(0, x0);
    *x_end = EHD_MIN(in->w, x0 + pool->filter_w);
}

#endif /* EHD_POOL_CHECKS_H */
