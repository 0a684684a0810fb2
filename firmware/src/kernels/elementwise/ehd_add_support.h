/* What the ADD variants share: argument checks (so each returns the same status) and input scaling. */
#ifndef EHD_ADD_SUPPORT_H
#define EHD_ADD_SUPPORT_H

#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

#include "../ehd_kernel_checks.h"

/* Each dimension of an input is the output's or 1 (broadcast), and the output's is one of them. */
static inline int ehd_add_broadcasts(int32_t a, int32_t b, int32_t out)
{
    return (a == out || a == 1) && (b == out || b == 1) && (a == out || b == out);
}

static inline ehd_status ehd_add_check_args(const ehd_add_params *add, const ehd_dims *a_dims,
                                            const int8_t *a, const ehd_dims *b_dims, const int8_t *b,
                                            const ehd_dims *out, const int8_t *output)
{
    if (add == 0 || a == 0 || b == 0 || output == 0 || !ehd_dims_valid(a_dims) ||
        !ehd_dims_valid(b_dims) || !ehd_dims_valid(out) || !ehd_act_valid(add->act_min, add->act_max) ||
        add->left_shift < 0 || add->left_shift > 20 ||
        !ehd_multiplier_valid(add->input1_multiplier, add->input1_shift) || add->input1_shift > 0 ||
        !ehd_multiplier_valid(add->input2_multiplier, add->input2_shift) || add->input2_shift > 0 ||
        !ehd_multiplier_valid(add->output_multiplier, add->output_shift) || add->output_shift > 0) {
        return EHD_ERR_ARG;
    }
    if (!ehd_add_broadcasts(a_dims->n, b_dims->n, out->n) ||
        !ehd_add_broadcasts(a_dims->h, b_dims->h, out->h) ||
        !ehd_add_broadcasts(a_dims->w, b_dims->w, out->w) ||
        !ehd_add_broadcasts(a_dims->c, b_dims->c, out->c)) {
        return EHD_ERR_SHAPE;
    }
    /* In place: the output may be an input of its full shape, read at i before i is written. */
    const uint32_t out_bytes = (uint32_t)ehd_dims_count(out);
    if (!ehd_alias_ok(a, (uint32_t)ehd_dims_count(a_dims), output, out_bytes) ||
        !ehd_alias_ok(b, (uint32_t)ehd_dims_count(b_dims), output, out_bytes)) {
        return EHD_ERR_ARG;
    }
    return EHD_OK;
}

/* One input scaled to the common scale: ((x + offset) << left_shift) * multiplier * 2^shift. */
static inline int32_t ehd_add_scale_input(int8_t x, int32_t offset, int32_t left_shift,
                                          int32_t multiplier, int32_t shift)
{
    /* Modulo 2^32 like TFLM's int32 arithmetic. */
    const uint32_t shifted = ((uint32_t)(int32_t)x + (uint32_t)offset) << left_shift;
    return ehd_requantize((int32_t)shifted, multiplier, shift);
}

#endif /* EHD_ADD_SUPPORT_H */
