/* AVERAGE_POOL_2D, int8: TFLM's reference integer AveragePool. */
#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

#include "../ehd_pool_checks.h"

ehd_status ehd_avgpool_s8(const ehd_pool_params *pool, const ehd_dims *input_dims,
                          const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = ehd_pool_check_args(pool, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    const int32_t in_w = input_dims->w, ch = input_dims->c;
    int32_t b, oy, ox, c, y, x, y_start, y_end, x_start, x_end;

    for (b = 0; b < output_dims->n; b++) {
        const int8_t *in_batch = input + (int64_t)b * input_dims->h * in_w * ch;
        for (oy = 0; oy < output_dims->h; oy++) {
            for (ox = 0; ox < output_dims->w; ox++) {
                ehd_pool_window(pool, input_dims, oy, ox, &y_start, &y_end, &x_start, &x_end);
                if (y_start >= y_end || x_start >= x_end) {
                    return EHD_ERR_SHAPE; /* a window entirely in the padding */
                }
                const int32_t count = (y_end - y_start) * (x_end - x_start);
                for (c = 0; c < ch; c++) {
                    int32_t acc = 0;
                    for (y = y_start; y < y_end; y++) {
                        for (x = x_start; x < x_end; x++) {
                            acc += in_batch[((int64_t)y * in_w + x) * ch + c];
                        }
                    }
                    /* Divide rounding half away from zero (C99 division truncates). */
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    *output++ = (int8_t)ehd_clamp(acc, pool->act_min, pool->act_max);
                }
            }
        }
    }
    return EHD_OK;
}

#if EHD_KERNEL_BACKEND != EHD_BACKEND_CMSIS_NN /* cmsis_nn: the wrapper is in cmsis_nn/ */
int32_t ehd_avgpool_wrapper_s8_get_buffer_size(const ehd_dims *input_dims, const ehd_dims *output_dims)
{
    (void)input_dims; /* portable and dsp pool without scratch */
    (void)output_dims;
    return 0;
}

ehd_status ehd_avgpool_wrapper_s8(const ehd_context *ctx, const ehd_pool_params *pool,
                                  const ehd_dims *input_dims, const int8_t *input,
                                  const ehd_dims *output_dims, int8_t *output)
{
    (void)ctx;
#if EHD_KERNEL_BACKEND == EHD_BACKEND_DSP
    if (pool == 0 || (int64_t)pool->filter_h * pool->filter_w <= EHD_AVGPOOL_DSP_MAX_WINDOW) {
        return ehd_avgpool_s8_dsp(pool, input_dims, input, output_dims, output);
    }
#endif
    return ehd_avgpool_s8(pool, input_dims, input, output_dims, output);
}
#endif
