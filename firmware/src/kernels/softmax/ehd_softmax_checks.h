/* Argument checks of SOFTMAX, shared by its backends so each returns the same status. */
#ifndef EHD_SOFTMAX_CHECKS_H
#define EHD_SOFTMAX_CHECKS_H

#include "ehd/ehd_kernels.h"

#include "../ehd_kernel_checks.h"

static inline ehd_status ehd_softmax_check_args(const ehd_softmax_params *softmax, const ehd_dims *in,
                                                const int8_t *input, const ehd_dims *out,
                                                const int8_t *output)
{
    if (softmax == 0 || input == 0 || output == 0 || !ehd_dims_valid(in) || !ehd_dims_valid(out) ||
        softmax->input_multiplier < 0 || softmax->input_left_shift < 0 ||
        softmax->input_left_shift > 31 || softmax->diff_min > 0) {
        return EHD_ERR_ARG;
    }
    if (!ehd_dims_equal(in, out)) {
        return EHD_ERR_SHAPE;
    }
    const uint32_t count = (uint32_t)ehd_dims_count(in);
    if (!ehd_alias_ok(input, count, output, count)) {
        return EHD_ERR_ARG;
    }
    return EHD_OK;
}

#endif /* EHD_SOFTMAX_CHECKS_H */
