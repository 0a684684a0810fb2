/* MEAN over height and width, int8: TFLM's reference QuantizedMeanOrSum for NHWC axes {1, 2}. */
#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

#include "../ehd_kernel_checks.h"

static ehd_status check_args(const ehd_mean_params *mean, const ehd_dims *in, const int8_t *input,
                             const ehd_dims *out, const int8_t *output)
{
    if (mean == 0 || input == 0 || output == 0 || !ehd_dims_valid(in) || !ehd_dims_valid(out) ||
        !ehd_multiplier_valid(mean->multiplier, mean->shift)) {
        return EHD_ERR_ARG;
    }
    if (out->n != in->n || out->h != 1 || out->w != 1 || out->c != in->c) {
        return EHD_ERR_SHAPE;
    }
    if (!ehd_disjoint(input, (uint32_t)ehd_dims_count(in), output, (uint32_t)ehd_dims_count(out))) {
        return EHD_ERR_ARG;
    }
    return EHD_OK;
}

ehd_status ehd_mean_s8(const ehd_mean_params *mean, const ehd_dims *input_dims, const int8_t *input,
                       const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = check_args(mean, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    const int32_t cells = input_dims->h * input_dims->w, ch = input_dims->c;
    const int64_t zero_sum = (int64_t)mean->input_zero_point * cells;
    int32_t b, c, i;

    for (b = 0; b < input_dims->n; b++) {
        const int8_t *x = input + (int64_t)b * cells * ch;
        for (c = 0; c < ch; c++) {
            int64_t sum = 0;
            for (i = 0; i < cells; i++) {
                sum += x[(int64_t)i * ch + c];
            }
            /* sum - zero point * count, wrapped to int32 like TFLM's accumulator. */
            const int32_t acc = (int32_t)(uint32_t)(uint64_t)(sum - zero_sum);
            *output++ = ehd_requantize_s8(acc, mean->multiplier, mean->shift,
                                          mean->output_zero_point, INT8_MIN, INT8_MAX);
        }
    }
    return EHD_OK;
}

ehd_status ehd_mean_wrapper_s8(const ehd_mean_params *mean, const ehd_dims *input_dims,
                               const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    /* Backend dispatch point. */
    return ehd_mean_s8(mean, input_dims, input, output_dims, output);
}
