/*
 * DEQUANTIZE int8 -> float32: TFLM's reference Dequantize, y = float(double(scale) * (q - zp)).
 *
 * The product is computed in float32, which gives the same bits: scale has 24 significant bits
 * and q - zp at most 9, so the double product is exact and TFLM's cast rounds it once to
 * float32, exactly as one float32 multiplication rounds the exact product. No double-precision
 * arithmetic (software-emulated on the M4F/M7 single-precision FPUs) is needed.
 */
#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

#include "../ehd_kernel_checks.h"

ehd_status ehd_dequantize_s8_f32(const ehd_quantize_params *dequantize, const ehd_dims *input_dims,
                                 const int8_t *input, const ehd_dims *output_dims, float *output)
{
    const ehd_status status = ehd_quantize_check_args(dequantize, input_dims, input, 1,
                                                      output_dims, output, sizeof(float));
    if (status != EHD_OK) {
        return status;
    }
    const int32_t count = ehd_dims_count(input_dims);
    int32_t i;
    for (i = 0; i < count; i++) {
        output[i] = dequantize->scale * (float)((int32_t)input[i] - dequantize->zero_point);
    }
    return EHD_OK;
}

ehd_status ehd_dequantize_wrapper_s8_f32(const ehd_quantize_params *dequantize,
                                         const ehd_dims *input_dims, const int8_t *input,
                                         const ehd_dims *output_dims, float *output)
{
    /* Backend dispatch point. */
    return ehd_dequantize_s8_f32(dequantize, input_dims, input, output_dims, output);
}
