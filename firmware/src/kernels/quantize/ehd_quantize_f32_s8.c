/*
 * QUANTIZE float32 -> int8: TFLM's reference AffineQuantize,
 * q = clamp(round(x / scale) + zero_point, -128, 127), the division in float32 and the rounding
 * half away from zero. NaN gives the zero point; values beyond the int8 range clamp.
 */
#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

#include "../ehd_kernel_checks.h"

/* Past this magnitude every quotient clamps, whatever the zero point; below it int32 is exact. */
#define SATURATED 1024.0f

static int8_t quantize_one(float x, float scale, int32_t zero_point)
{
    const float v = x / scale;
    if (v != v) {
        return (int8_t)zero_point; /* NaN */
    }
    const float a = v < 0.0f ? -v : v;
    int32_t q = (int32_t)SATURATED;
    if (a < SATURATED) {
        /* std::round without libm: the fraction a - trunc(a) is exact for a float. */
        q = (int32_t)a;
        if (a - (float)q >= 0.5f) {
            q++;
        }
    }
    return (int8_t)ehd_clamp((v < 0.0f ? -q : q) + zero_point, INT8_MIN, INT8_MAX);
}

ehd_status ehd_quantize_f32_s8(const ehd_quantize_params *quantize, const ehd_dims *input_dims,
                               const float *input, const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = ehd_quantize_check_args(quantize, input_dims, input, sizeof(float),
                                                      output_dims, output, 1);
    if (status != EHD_OK) {
        return status;
    }
    const int32_t count = ehd_dims_count(input_dims);
    int32_t i;
    for (i = 0; i < count; i++) {
        output[i] = quantize_one(input[i], quantize->scale, quantize->zero_point);
    }
    return EHD_OK;
}

ehd_status ehd_quantize_wrapper_f32_s8(const ehd_quantize_params *quantize, const ehd_dims *input_dims,
                                       const float *input, const ehd_dims *output_dims, int8_t *output)
{
    /* Backend dispatch point. */
    return ehd_quantize_f32_s8(quantize, input_dims, input, output_dims, output);
}
