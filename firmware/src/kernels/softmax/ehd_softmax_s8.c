/*
 * SOFTMAX int8 -> int8 over the last dimension: TFLM's reference integer Softmax (gemmlowp fixed
 * point, ehd_support.h). Output scale 1/256, zero point -128.
 */
#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

#include "ehd_softmax_checks.h"

/* Sums of exp in Q12.19 (TFLM's kAccumulationIntegerBits). */
#define ACCUMULATION_INTEGER_BITS 12

/* exp(diff * input scale * beta) in Q0.31 for diff <= 0, via a Q5.26 argument. */
static int32_t exp_of_diff(int32_t diff, const ehd_softmax_params *p)
{
    const int32_t shifted = (int32_t)((uint32_t)diff << p->input_left_shift);
    return ehd_exp_on_negative_values(ehd_doubling_high_mul(shifted, p->input_multiplier));
}

static void softmax_row(const ehd_softmax_params *p, const int8_t *x, int32_t depth, int8_t *y)
{
    int32_t c, row_max = INT8_MIN, sum = 0, bits;
    for (c = 0; c < depth; c++) {
        row_max = EHD_MAX(row_max, (int32_t)x[c]);
    }
    for (c = 0; c < depth; c++) {
        const int32_t diff = x[c] - row_max;
        if (diff >= p->diff_min) {
            sum = ehd_wrap_add(sum, ehd_rounding_divide_by_pot(exp_of_diff(diff, p),
                                                              ACCUMULATION_INTEGER_BITS));
        }
    }
    const int32_t scale = ehd_reciprocal(sum, ACCUMULATION_INTEGER_BITS, &bits);
    /* No scratch buffer: exp is computed again, and y[c] is written after x[c] is read (in place). */
    for (c = 0; c < depth; c++) {
        const int32_t diff = x[c] - row_max;
        if (diff >= p->diff_min) {
            const int32_t v = ehd_rounding_divide_by_pot(
                ehd_doubling_high_mul(scale, exp_of_diff(diff, p)), bits + 31 - 8);
            y[c] = (int8_t)ehd_clamp(v - 128, INT8_MIN, INT8_MAX);
        } else {
            y[c] = INT8_MIN;
        }
    }
}

ehd_status ehd_softmax_s8(const ehd_softmax_params *softmax, const ehd_dims *input_dims,
                          const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = ehd_softmax_check_args(softmax, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    const int32_t depth = input_dims->c, count = ehd_dims_count(input_dims);
    int32_t row;
    for (row = 0; row < count; row += depth) {
        softmax_row(softmax, input + row, depth, output + row);
    }
    return EHD_OK;
}

#if EHD_KERNEL_BACKEND != EHD_BACKEND_CMSIS_NN /* cmsis_nn: the wrapper is in cmsis_nn/ */
ehd_status ehd_softmax_wrapper_s8(const ehd_softmax_params *softmax, const ehd_dims *input_dims,
                                  const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    /* Backend dispatch point. */
    return ehd_softmax_s8(softmax, input_dims, input, output_dims, output);
}
#endif
