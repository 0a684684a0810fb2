/* Argument checks of FULLY_CONNECTED, shared by its variants so each returns the same status. */
#ifndef EHD_FC_CHECKS_H
#define EHD_FC_CHECKS_H

#include "ehd/ehd_kernels.h"

#include "../ehd_kernel_checks.h"

static inline ehd_status ehd_fc_check_args(const ehd_fc_params *fc, const ehd_offsets *offsets,
                                           const ehd_dims *in, const int8_t *input, const ehd_dims *out,
                                           const int8_t *output)
{
    if (fc == 0 || offsets == 0 || input == 0 || output == 0 || fc->weights == 0 ||
        !ehd_dims_valid(in) || !ehd_dims_valid(out) || !ehd_dims_valid(&fc->filter) ||
        !ehd_act_valid(fc->act_min, fc->act_max)) {
        return EHD_ERR_ARG;
    }
    if (fc->filter.h != 1 || fc->filter.w != 1 || fc->filter.n != out->c) {
        return EHD_ERR_SHAPE;
    }
    /* Every batch row of the output reads one row of `filter.c` inputs. */
    const int32_t batches = ehd_dims_count(out) / out->c;
    if ((int64_t)batches * fc->filter.c != ehd_dims_count(in)) {
        return EHD_ERR_SHAPE;
    }
    if (!ehd_quant_valid(fc->multiplier, fc->shift, fc->per_channel ? out->c : 1)) {
        return EHD_ERR_ARG;
    }
    if (!ehd_disjoint(input, (uint32_t)ehd_dims_count(in), output, (uint32_t)ehd_dims_count(out))) {
        return EHD_ERR_ARG;
    }
    return EHD_OK;
}

#endif /* EHD_FC_CHECKS_H */
