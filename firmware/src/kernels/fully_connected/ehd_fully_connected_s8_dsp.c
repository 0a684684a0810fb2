/*
 * FULLY_CONNECTED, dsp: a matrix-vector product per batch row, per-tensor or
 * per-channel requantization fused per output.
 *
 * ACLE (Cortex-M4/M7, and the host's plain-C forms): the batch row is
 * widened once into the scratch, four inputs as two int16-pair words with the
 * input offset added (SXTAB16 / SXTAB16 ROR #8). Four weight rows then share
 * each group: one LDRD of the group, and per row one word of four weights
 * widened by SXTB16 / SXTB16 ROR #8 (the same lane order: weights are read as
 * stored) into two SMLAD: 23 instructions per 16 MACs. A row's last n & 3
 * inputs are plain MACs. The int16 lanes hold x + input_offset exactly while
 * the offset lies in [-128, 128] (any int8 zero point); another offset is
 * EHD_ERR_UNSUPPORTED.
 *
 * MVE (Cortex-M55): 16 inputs per VMLADAVA on raw int8 values, the weights
 * summed alongside (VADDVA) to add input_offset x sum(w); the last 16 are
 * tail-predicated, so nothing past a row is read.
 */
#include "ehd/ehd_kernels.h"

#include "../ehd_dsp.h"
#include "ehd_fc_checks.h"

#if !EHD_DSP_MVE
/* The input's groups of four, widened with the offset added: xs[2g] = lanes 0, 2, xs[2g + 1] = 1, 3. */
static void widen(const int8_t *x, int32_t n, int32_t input_offset, int32_t *xs)
{
    const int32_t offset2 = (int32_t)(((uint32_t)input_offset & 0xFFFFu) * 0x10001u);
    int32_t g;
    for (g = n >> 2; g > 0; g--, x += 4, xs += 2) {
        const int32_t v = ehd_read_s8x4(x);
        xs[0] = ehd_sxtab16(offset2, v);
        xs[1] = ehd_sxtab16_ror8(offset2, v);
    }
}

/* x02, x13 = the next group's two words; xs moves on (one post-indexed LDRD on Cortex-M). */
#if EHD_DSP_ACLE
#define NEXT_GROUP(xs, x02, x13) __asm__("ldrd %0, %1, [%2], #8" : "=r"(x02), "=r"(x13), "+r"(xs) : "m"(*(xs)))
#else
#define NEXT_GROUP(xs, x02, x13) ((x02) = (xs)[0], (x13) = (xs)[1], (xs) += 2)
#endif

/* acc + four weights (an s8x4) . a widened group. */
EHD_DSP_INLINE int32_t mac4(int32_t acc, int32_t w, int32_t x02, int32_t x13)
{
    return ehd_smlad(ehd_sxtb16_ror8(w), x13, ehd_smlad(ehd_sxtb16(w), x02, acc));
}

/* acc[r] += the groups of rows w + r * n (r = 0..3) . the widened input. */
EHD_DSP_INLINE void dot4(const int32_t *xs, const int8_t *w, int32_t n, int32_t acc[4])
{
    const int8_t *w2 = w + 2 * n; /* rows 1 and 3 at offset n: two pointers for four rows */
    const int32_t *const end = xs + 2 * (n >> 2);
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    while (xs != end) {
        int32_t x02, x13;
        NEXT_GROUP(xs, x02, x13);
        a1 = mac4(a1, ehd_read_s8x4(w + n), x02, x13);
        a0 = mac4(a0, ehd_read_s8x4(w), x02, x13);
        a3 = mac4(a3, ehd_read_s8x4(w2 + n), x02, x13);
        a2 = mac4(a2, ehd_read_s8x4(w2), x02, x13);
        w += 4, w2 += 4;
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

/* acc + the groups of row w . the widened input. */
EHD_DSP_INLINE int32_t dot1(const int32_t *xs, const int8_t *w, int32_t n, int32_t acc)
{
    const int32_t *const end = xs + 2 * (n >> 2);
    while (xs != end) {
        int32_t x02, x13;
        NEXT_GROUP(xs, x02, x13);
        acc = mac4(acc, ehd_read_s8x4(w), x02, x13);
        w += 4;
    }
    return acc;
}

/* acc + the plain MACs of a row's last n & 3 inputs (x and w point at the row's starts). */
EHD_DSP_INLINE int32_t tail_mac(int32_t acc, const int8_t *x, const int8_t *w, int32_t n, int32_t input_offset)
{
    int32_t i;
    for (i = n & ~3; i < n; i++) {
        acc = ehd_mac(acc, x[i], input_offset, w[i]);
    }
    return acc;
}
#else
/* acc + row w . (x + input_offset), wrapping like int32. */
static int32_t dot_mve(const int8_t *x, const int8_t *w, int32_t n, int32_t input_offset, int32_t acc)
{
    int32_t dot = 0, sum = 0, i;
    for (i = 0; i < n; i += 16) {
        const mve_pred16_t p = vctp8q((uint32_t)(n - i));
        const int8x16_t wv = vldrbq_z_s8(w + i, p);
        sum = vaddvaq_s8(sum, wv);
        dot = vmladavaq_s8(dot, vldrbq_z_s8(x + i, p), wv);
    }
    /* sum of (x + offset) * w = sum of x * w + offset * sum of w */
    return (int32_t)((uint32_t)acc + (uint32_t)dot + (uint32_t)input_offset * (uint32_t)sum);
}
#endif

/* Output o of a row: bias + acc requantized with the row's (or the tensor's) parameters. */
EHD_DSP_INLINE int8_t output_of(const ehd_fc_params *fc, const ehd_offsets *offsets, int32_t o, int32_t acc)
{
    const int32_t q = fc->per_channel ? o : 0;
    return ehd_dsp_requantize_1ch(acc, fc->multiplier[q], fc->shift[q], offsets->output_offset, fc->act_min,
                                  fc->act_max);
}

int32_t ehd_fully_connected_s8_dsp_get_buffer_size(const ehd_fc_params *fc)
{
    /* The widened input (ACLE; MVE needs none, but the size is the same on every core). */
    return fc == 0 ? 0 : 8 * (fc->filter.c >> 2);
}

ehd_status ehd_fully_connected_s8_dsp(const ehd_context *ctx, const ehd_fc_params *fc,
                                      const ehd_offsets *offsets, const ehd_dims *input_dims,
                                      const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = ehd_fc_check_args(fc, offsets, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    if (offsets->input_offset < -128 || offsets->input_offset > 128) {
        return EHD_ERR_UNSUPPORTED; /* x + offset must fit the int16 lanes */
    }
    if (!ehd_dsp_scratch_ok(ctx, ehd_fully_connected_s8_dsp_get_buffer_size(fc))) {
        return EHD_ERR_ARG;
    }
    const int32_t n_out = fc->filter.n, n = fc->filter.c, ioff = offsets->input_offset;
    const int32_t batches = ehd_dims_count(output_dims) / n_out;
    const int32_t *bias = fc->bias;
    int32_t b;

    for (b = 0; b < batches; b++) {
        const int8_t *x = input + (int64_t)b * n, *w = fc->weights;
        int32_t o = 0;
#if !EHD_DSP_MVE
        int32_t *xs = (int32_t *)ctx->buf;
        widen(x, n, ioff, xs);
        for (; o + 4 <= n_out; o += 4, w += 4 * n) {
            int32_t acc[4], r;
            for (r = 0; r < 4; r++) {
                acc[r] = bias != 0 ? bias[o + r] : 0;
            }
            dot4(xs, w, n, acc);
            for (r = 0; r < 4; r++) {
                *output++ = output_of(fc, offsets, o + r, tail_mac(acc[r], x, w + r * n, n, ioff));
            }
        }
        for (; o < n_out; o++, w += n) {
            const int32_t acc = tail_mac(dot1(xs, w, n, bias != 0 ? bias[o] : 0), x, w, n, ioff);
            *output++ = output_of(fc, offsets, o, acc);
        }
#else
        for (; o < n_out; o++, w += n) {
            *output++ = output_of(fc, offsets, o, dot_mve(x, w, n, ioff, bias != 0 ? bias[o] : 0));
        }
#endif
    }
    return EHD_OK;
}
