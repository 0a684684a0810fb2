/*
 * RELU, RELU6 and int8 -> int8 QUANTIZE, one kernel: rescale then clamp, TFLite's reference
 * ReluX / Requantize (TFLite requantizes where TFLM's RELU only clamps; see docs/parity.md).
 */
#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

#include "../ehd_kernel_checks.h"

ehd_status ehd_rescale_s8(const ehd_rescale_params *p, const ehd_dims *input_dims,
                          const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    if (p == 0 || input == 0 || output == 0 || !ehd_dims_valid(input_dims) ||
        !ehd_dims_valid(output_dims) || !ehd_act_valid(p->act_min, p->act_max) ||
        !ehd_multiplier_valid(p->multiplier, p->shift)) {
        return EHD_ERR_ARG;
    }
    const int32_t count = ehd_dims_count(input_dims);
    if (count != ehd_dims_count(output_dims)) {
        return EHD_ERR_SHAPE;
    }
    if (!ehd_alias_ok(input, (uint32_t)count, output, (uint32_t)count)) {
        return EHD_ERR_ARG;
    }
    int32_t i;
    for (i = 0; i < count; i++) {
        /* x - zero point modulo 2^32, as TFLM's int32 arithmetic. */
        const int32_t x = (int32_t)((uint32_t)(int32_t)input[i] - (uint32_t)p->input_zero_point);
        output[i] = ehd_requantize_s8(x, p->multiplier, p->shift, p->output_zero_point, p->act_min,
                                      p->act_max);
    }
    return EHD_OK;
}

ehd_status ehd_relu_wrapper_s8(const ehd_rescale_params *relu, const ehd_dims *input_dims,
                               const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    /* Backend dispatch point. */
    return ehd_rescale_s8(relu, input_dims, input, output_dims, output);
}

ehd_status ehd_quantize_wrapper_s8_s8(const ehd_rescale_params *quantize, const ehd_dims *input_dims,
                                      const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    /* Backend dispatch point. */
    return ehd_rescale_s8(quantize, input_dims, input, output_dims, output);
}
