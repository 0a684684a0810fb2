/* What the two pooling adapters share: CMSIS-NN's pool params and the windows it can take. */
#ifndef EHD_POOL_CMSIS_NN_H
#define EHD_POOL_CMSIS_NN_H

#include "../ehd_pool_checks.h"
#include "ehd_cmsis_nn.h"

static inline cmsis_nn_pool_params ehd_cmsis_pool_params(const ehd_pool_params *pool)
{
    const cmsis_nn_pool_params p = {{pool->stride_w, pool->stride_h},
                                    {pool->pad_w, pool->pad_h},
                                    {pool->act_min, pool->act_max}};
    return p;
}

/* Every window along one axis holds an input element (the first and last windows bound the rest). */
static inline int ehd_cmsis_pool_axis_ok(int32_t out, int32_t stride, int32_t pad, int32_t filter,
                                         int32_t in)
{
    return filter > pad && ehd_cmsis_windows_inside(out, stride, pad, in);
}

/* EHD_ERR_SHAPE, as the portable kernels, when a window lies entirely in the padding. */
static inline ehd_status ehd_cmsis_pool_windows(const ehd_pool_params *pool, const ehd_dims *in,
                                                const ehd_dims *out)
{
    return ehd_cmsis_pool_axis_ok(out->h, pool->stride_h, pool->pad_h, pool->filter_h, in->h) &&
                   ehd_cmsis_pool_axis_ok(out->w, pool->stride_w, pool->pad_w, pool->filter_w, in->w)
               ? EHD_OK
               : EHD_ERR_SHAPE;
}

#endif /* EHD_POOL_CMSIS_NN_H */
