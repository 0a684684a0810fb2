/* MAX_POOL_2D on CMSIS-NN: arm_max_pool_s8 (no scratch). */
#include "ehd/ehd_kernels.h"

#if EHD_KERNEL_BACKEND == EHD_BACKEND_CMSIS_NN
#include "ehd_pool_cmsis_nn.h"

ehd_status ehd_maxpool_s8_cmsis_nn(const ehd_pool_params *pool, const ehd_dims *input_dims,
                                   const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    ehd_status status = ehd_pool_check_args(pool, input_dims, input, output_dims, output);
    if (status == EHD_OK) {
        status = ehd_cmsis_pool_windows(pool, input_dims, output_dims);
    }
    if (status != EHD_OK) {
        return status;
    }
    const cmsis_nn_context c = {0, 0};
    const cmsis_nn_pool_params p = ehd_cmsis_pool_params(pool);
    const cmsis_nn_dims in = ehd_cmsis_dims(input_dims), out = ehd_cmsis_dims(output_dims);
    const cmsis_nn_dims filter = {1, pool->filter_h, pool->filter_w, 1};
    return ehd_cmsis_status(arm_max_pool_s8(&c, &p, &in, input, &filter, &out, output));
}

ehd_status ehd_maxpool_wrapper_s8(const ehd_pool_params *pool, const ehd_dims *input_dims,
                                  const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = ehd_maxpool_s8_cmsis_nn(pool, input_dims, input, output_dims, output);
    return status != EHD_ERR_UNSUPPORTED ? status : ehd_maxpool_s8(pool, input_dims, input, output_dims, output);
}
#endif
