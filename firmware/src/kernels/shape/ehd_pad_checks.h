/* Argument checks of PAD, shared by its backends so each returns the same status. */
#ifndef EHD_PAD_CHECKS_H
#define EHD_PAD_CHECKS_H

#include "ehd/ehd_kernels.h"

#include "../ehd_kernel_checks.h"

static inline ehd_status ehd_pad_check_args(const ehd_pad_params *pad, const ehd_dims *in,
                                            const int8_t *input, const ehd_dims *out,
                                            const int8_t *output)
{
    int32_t d;
    if (pad == 0 || input == 0 || output == 0 || !ehd_dims_valid(in) || !ehd_dims_valid(out) ||
        pad->pad_value < INT8_MIN || pad->pad_value > INT8_MAX) {
        return EHD_ERR_ARG;
    }
    const int32_t in_size[4] = {in->n, in->h, in->w, in->c};
    const int32_t out_size[4] = {out->n, out->h, out->w, out->c};
    for (d = 0; d < 4; d++) {
        if (pad->before[d] < 0 || pad->after[d] < 0) {
            return EHD_ERR_ARG;
        }
        if ((int64_t)in_size[d] + pad->before[d] + pad->after[d] != out_size[d]) {
            return EHD_ERR_SHAPE;
        }
    }
    if (!ehd_disjoint(input, (uint32_t)ehd_dims_count(in), output, (uint32_t)ehd_dims_count(out))) {
        return EHD_ERR_ARG;
    }
    return EHD_OK;
}

#endif /* EHD_PAD_CHECKS_H */
