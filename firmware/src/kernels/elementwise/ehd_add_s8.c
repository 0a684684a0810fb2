/* ADD, int8, with broadcasting: TFLM's reference integer Add and BroadcastAdd4DSlow. */
#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

#include "../ehd_kernel_checks.h"

/* Each dimension of an input is the output's or 1 (broadcast), and the output's is one of them. */
static int broadcasts(int32_t a, int32_t b, int32_t out)
{
    return (a == out || a == 1) && (b == out || b == 1) && (a == out || b == out);
}

static ehd_status check_args(const ehd_add_params *add, const ehd_dims *a_dims, const int8_t *a,
                             const ehd_dims *b_dims, const int8_t *b, const ehd_dims *out,
                             const int8_t *output)
{
    if (add == 0 || a == 0 || b == 0 || output == 0 || !ehd_dims_valid(a_dims) ||
        !ehd_dims_valid(b_dims) || !ehd_dims_valid(out) || !ehd_act_valid(add->act_min, add->act_max) ||
        add->left_shift < 0 || add->left_shift > 20 ||
        !ehd_multiplier_valid(add->input1_multiplier, add->input1_shift) || add->input1_shift > 0 ||
        !ehd_multiplier_valid(add->input2_multiplier, add->input2_shift) || add->input2_shift > 0 ||
        !ehd_multiplier_valid(add->output_multiplier, add->output_shift) || add->output_shift > 0) {
        return EHD_ERR_ARG;
    }
    if (!broadcasts(a_dims->n, b_dims->n, out->n) || !broadcasts(a_dims->h, b_dims->h, out->h) ||
        !broadcasts(a_dims->w, b_dims->w, out->w) || !broadcasts(a_dims->c, b_dims->c, out->c)) {
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
static inline int32_t scale_input(int8_t x, int32_t offset, int32_t left_shift, int32_t multiplier,
                                  int32_t shift)
{
    /* Modulo 2^32 like TFLM's int32 arithmetic. */
    const uint32_t shifted = ((uint32_t)(int32_t)x + (uint32_t)offset) << left_shift;
    return ehd_requantize((int32_t)shifted, multiplier, shift);
}

static inline int8_t add_one(const ehd_add_params *p, int8_t a, int8_t b)
{
    const int32_t sum =
        ehd_wrap_add(scale_input(a, p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift),
                     scale_input(b, p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift));
    return ehd_requantize_s8(sum, p->output_multiplier, p->output_shift, p->output_offset, p->act_min,
                             p->act_max);
}

/* Element strides of an input inside the output's index space: 0 along a broadcast dimension. */
static void strides(const ehd_dims *d, int32_t s[4])
{
    s[3] = d->c == 1 ? 0 : 1;
    s[2] = d->w == 1 ? 0 : d->c;
    s[1] = d->h == 1 ? 0 : d->w * d->c;
    s[0] = d->n == 1 ? 0 : d->h * d->w * d->c;
}

ehd_status ehd_add_s8(const ehd_add_params *add, const ehd_dims *input1_dims, const int8_t *input1,
                      const ehd_dims *input2_dims, const int8_t *input2, const ehd_dims *output_dims,
                      int8_t *output)
{
    const ehd_status status =
        check_args(add, input1_dims, input1, input2_dims, input2, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    if (ehd_dims_equal(input1_dims, output_dims) && ehd_dims_equal(input2_dims, output_dims)) {
        const int32_t count = ehd_dims_count(output_dims);
        int32_t i;
        for (i = 0; i < count; i++) {
            output[i] = add_one(add, input1[i], input2[i]);
        }
        return EHD_OK;
    }
    int32_t sa[4], sb[4], n, h, w, c;
    strides(input1_dims, sa);
    strides(input2_dims, sb);
    for (n = 0; n < output_dims->n; n++) {
        for (h = 0; h < output_dims->h; h++) {
            for (w = 0; w < output_dims->w; w++) {
                const int8_t *a = input1 + n * sa[0] + h * sa[1] + w * sa[2];
                const int8_t *b = input2 + n * sb[0] + h * sb[1] + w * sb[2];
                for (c = 0; c < output_dims->c; c++) {
                    *output++ = add_one(add, a[c * sa[3]], b[c * sb[3]]);
                }
            }
        }
    }
    return EHD_OK;
}

ehd_status ehd_add_wrapper_s8(const ehd_add_params *add, const ehd_dims *input1_dims,
                              const int8_t *input1, const ehd_dims *input2_dims, const int8_t *input2,
                              const ehd_dims *output_dims, int8_t *output)
{
    /* Backend dispatch point. */
    return ehd_add_s8(add, input1_dims, input1, input2_dims, input2, output_dims, output);
}
