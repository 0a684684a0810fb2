/*
 * ADD, dsp: both inputs of the output's shape (else EHD_ERR_UNSUPPORTED:
 * broadcasting stays portable). An input's scaled value (offset, shifted
 * left, multiplied to the common scale: three roundings in the reference)
 * depends on its int8 value alone, so each input's 256 values are computed
 * once into a table in the scratch (the reference arithmetic in its dsp form). An
 * element then costs two byte loads, two table loads, an add and the output's
 * requantization (ehd_dsp.h): a fixed 512 scalings instead of two per element.
 * Where every scaled value lies strictly within +-2^29 (always, for int8 zero points:
 * |x - zp| << 20 < 2^28) the tables hold them doubled, and the doubled sum's
 * high product is one SMMULR: about 13 instructions an element.
 */
#include "ehd/ehd_kernels.h"

#include "../ehd_dsp.h"
#include "ehd_add_support.h"

#define VALUES 256 /* int8 */

int32_t ehd_add_s8_dsp_get_buffer_size(void) { return 2 * VALUES * (int32_t)sizeof(int32_t); }

#define DOUBLING_LIMIT (1 << 29) /* scaled values strictly within it: the doubled sum fits int32 */

/*
 * ehd_add_scale_input (shift <= 0, multiplier >= 0: what the checks allow) in
 * the dsp form, a third of its instructions: the doubling high multiply as
 * floor((x * m + 2^30) / 2^31) (ehd_dsp.h), the rounding divide by 2^r (ties
 * away from zero) as ceil(floor((h - (h < 0)) / 2^(r - 1)) / 2).
 */
static int32_t scale_input(int32_t v, int32_t offset, int32_t left_shift, int32_t multiplier, int32_t shift)
{
    const int32_t shifted = (int32_t)(((uint32_t)v + (uint32_t)offset) << left_shift);
    const int32_t h = (int32_t)(((int64_t)shifted * multiplier + ((int64_t)1 << 30)) >> 31);
    if (shift == 0) {
        return h;
    }
    const int32_t q = (h + (h >> 31)) >> (-shift - 1);
    return (q >> 1) + (q & 1);
}

/*
 * table[v] (v = -128..127, so table points at entry 128) = the input value v
 * scaled; returns whether every value lies strictly within +-DOUBLING_LIMIT.
 */
static int fill(int32_t *table, int32_t offset, int32_t left_shift, int32_t multiplier, int32_t shift)
{
    int small = 1;
    int32_t v;
    for (v = INT8_MIN; v <= INT8_MAX; v++) {
        table[v] = scale_input(v, offset, left_shift, multiplier, shift);
        small &= table[v] > -DOUBLING_LIMIT && table[v] < DOUBLING_LIMIT;
    }
    return small;
}

/* Both tables' values doubled (they lie strictly within +-2^29). */
static void double_tables(int32_t *ta, int32_t *tb)
{
    int32_t v;
    for (v = INT8_MIN; v <= INT8_MAX; v++) {
        ta[v] *= 2;
        tb[v] *= 2;
    }
}

/* The usual case: doubled tables, a right shift; `full` (a constant) when the range is all of int8. */
EHD_DSP_INLINE void add_doubled(const ehd_add_params *p, const int32_t *ta, const int32_t *tb, const int8_t *a,
                                const int8_t *b, int8_t *out, int32_t count, int full)
{
    const int32_t m = p->output_multiplier, s = p->output_shift, o = 2 * p->output_offset + 1;
    int32_t i;
    for (i = 0; i < count; i++) {
        const int32_t r = ehd_dsp_round_right(ehd_smmulr(ta[a[i]] + tb[b[i]], m), s, o);
        out[i] = (int8_t)(full ? r : ehd_clamp(r, p->act_min, p->act_max));
    }
}

/* The sum of the scaled inputs at i, wrapping like int32. */
EHD_DSP_INLINE int32_t sum_at(const int32_t *ta, const int32_t *tb, const int8_t *a, const int8_t *b, int32_t i)
{
    return (int32_t)((uint32_t)ta[a[i]] + (uint32_t)tb[b[i]]);
}

/* The usual output: a right shift; `full` (a constant) when the activation range is all of int8. */
EHD_DSP_INLINE void add_right(const ehd_add_params *p, const int32_t *ta, const int32_t *tb, const int8_t *a,
                              const int8_t *b, int8_t *out, int32_t count, int full)
{
    const int32_t m = p->output_multiplier, s = p->output_shift, o = 2 * p->output_offset + 1;
    int32_t i;
    for (i = 0; i < count; i++) {
        const int32_t r = ehd_dsp_requantize_right(sum_at(ta, tb, a, b, i), m, s, o);
        out[i] = (int8_t)(full ? r : ehd_clamp(r, p->act_min, p->act_max));
    }
}

ehd_status ehd_add_s8_dsp(const ehd_context *ctx, const ehd_add_params *add, const ehd_dims *input1_dims,
                          const int8_t *input1, const ehd_dims *input2_dims, const int8_t *input2,
                          const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status =
        ehd_add_check_args(add, input1_dims, input1, input2_dims, input2, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    if (!ehd_dims_equal(input1_dims, output_dims) || !ehd_dims_equal(input2_dims, output_dims)) {
        return EHD_ERR_UNSUPPORTED;
    }
    if (!ehd_dsp_scratch_ok(ctx, ehd_add_s8_dsp_get_buffer_size())) {
        return EHD_ERR_ARG;
    }
    int32_t *const ta = (int32_t *)ctx->buf - INT8_MIN, *const tb = ta + VALUES;
    const int small = fill(ta, add->input1_offset, add->left_shift, add->input1_multiplier, add->input1_shift) &
                      fill(tb, add->input2_offset, add->left_shift, add->input2_multiplier, add->input2_shift);
    const int32_t count = ehd_dims_count(output_dims);
    if (small && add->output_shift < 0) {
        double_tables(ta, tb);
        if (ehd_dsp_full_range(add->act_min, add->act_max)) {
            add_doubled(add, ta, tb, input1, input2, output, count, 1);
        } else {
            add_doubled(add, ta, tb, input1, input2, output, count, 0);
        }
    } else if (add->output_shift >= 0) { /* shift 0: the reference arithmetic */
        int32_t i;
        for (i = 0; i < count; i++) {
            output[i] = ehd_dsp_requantize_1ch(sum_at(ta, tb, input1, input2, i), add->output_multiplier,
                                               add->output_shift, add->output_offset, add->act_min,
                                               add->act_max);
        }
    } else if (ehd_dsp_full_range(add->act_min, add->act_max)) {
        add_right(add, ta, tb, input1, input2, output, count, 1);
    } else {
        add_right(add, ta, tb, input1, input2, output, count, 0);
    }
    return EHD_OK;
}
