/*
 * The dsp convolutions' GEMM: int8 weights x a block of four int16 columns.
 * One channel x four pixels per register block: a word of four weights is
 * widened once (two SXTB16) and meets each column's group in two SMLAD; the
 * channel's requantization is set up once for its four outputs.
 *
 * A row of weights ends at k, not at a multiple of 4. The block's padding
 * lanes are 0, so a row's last group may read up to 3 bytes past it: the next
 * row's first weights, times 0. Only the array's last row reads its last
 * group without going past its end.
 */
#include "ehd_conv_dsp.h"

#include "../ehd_dsp.h"

#if !EHD_DSP_MVE
/* The input offset in both int16 lanes. */
static int32_t offset_pair(int32_t input_offset) { return (int32_t)(((uint32_t)input_offset & 0xFFFFu) * 0x10001u); }

/* Widens `groups` groups of four values from src into a column starting at dst; returns the next group's dst. */
EHD_DSP_INLINE int32_t *widen_groups(const int8_t *src, int32_t groups, int32_t offset2, int32_t *dst)
{
    for (; groups > 0; groups--, src += 4, dst += 2 * EHD_DSP_BLOCK_COLUMNS) {
        const int32_t v = ehd_read_s8x4(src);
        dst[0] = ehd_sxtab16(offset2, v); /* SXTAB16 widens and adds the offset at once */
        dst[1] = ehd_sxtab16_ror8(offset2, v);
    }
    return dst;
}

void ehd_dsp_column_s16(const int8_t *src, int32_t k, int32_t input_offset, int32_t *block,
                        int32_t slot)
{
    const int32_t offset2 = offset_pair(input_offset);
    int32_t *dst = widen_groups(src, k >> 2, offset2, block + 2 * slot);
    if ((k & 3) != 0) {
        /* The missing values are the zero point, which the offset turns into 0. */
        int8_t last[4];
        int32_t i;
        src += k & ~3;
        for (i = 0; i < 4; i++) {
            last[i] = i < (k & 3) ? src[i] : (int8_t)-input_offset;
        }
        widen_groups(last, 1, offset2, dst);
    }
}

void ehd_dsp_column_run_s16(const int8_t *src, int32_t n, int32_t input_offset, int32_t *block,
                            int32_t slot, int32_t first)
{
    widen_groups(src, n >> 2, offset_pair(input_offset), block + 2 * slot + 2 * first);
}

/* The weights of a row's last, partial group (k & 3 of them), without reading past `end`. */
static int32_t last_group(const int8_t *end, int32_t k)
{
    const int32_t tail = k & 3;
    if (k >= 4) {
        /* One word ending at the row's end, shifted down. */
        return (int32_t)((uint32_t)ehd_read_s8x4(end - 4) >> (8 * (4 - tail)));
    }
    uint32_t v = 0;
    int32_t i;
    for (i = 0; i < tail; i++) {
        v |= (uint32_t)(uint8_t)end[i - tail] << (8 * i);
    }
    return (int32_t)v;
}

/*
 * lo, hi = the next two words at p, p advanced past them: one LDRD with
 * writeback on Cortex-M (GCC would emit two LDR and an ADD per group).
 */
#if EHD_DSP_ACLE
#define LOAD_PAIR(p, lo, hi) __asm__("ldrd %0, %1, [%2], #8" : "=r"(lo), "=r"(hi), "+r"(p) : "m"(*(p)))
#else
#define LOAD_PAIR(p, lo, hi) ((lo) = (p)[0], (hi) = (p)[1], (p) += 2)
#endif

/* Accumulators a0..a3 (columns 0..3) += four weights w . the columns' group at col; col moves on. */
#define GROUP(w, col)                                                   \
    do {                                                                \
        const int32_t lo_ = ehd_sxtb16(w), hi_ = ehd_sxtb16_ror8(w);    \
        int32_t x_, y_;                                                 \
        LOAD_PAIR(col, x_, y_);                                         \
        a0 = ehd_smlad(hi_, y_, ehd_smlad(lo_, x_, a0));                \
        LOAD_PAIR(col, x_, y_);                                         \
        a1 = ehd_smlad(hi_, y_, ehd_smlad(lo_, x_, a1));                \
        LOAD_PAIR(col, x_, y_);                                         \
        a2 = ehd_smlad(hi_, y_, ehd_smlad(lo_, x_, a2));                \
        LOAD_PAIR(col, x_, y_);                                         \
        a3 = ehd_smlad(hi_, y_, ehd_smlad(lo_, x_, a3));                \
    } while (0)

/*
 * One channel's outputs of the block's pixels (0..3), requantized and
 * clamped, to o[0], o[stride] ... `pixels` and `full` are constants where
 * the common case (a full block, activation range all of int8) is inlined.
 */
EHD_DSP_INLINE void store(const ehd_dsp_gemm *g, int32_t c, int32_t pixels, int full, int8_t *o,
                          int32_t stride, int32_t a0, int32_t a1, int32_t a2, int32_t a3)
{
    const int32_t m = g->multiplier[c], s = g->shift[c];
    const int32_t m4[4] = {m, m, m, m}, s4[4] = {s, s, s, s};
    int32_t a[4] = {a0, a1, a2, a3};
    ehd_dsp_requantize4(a, m4, s4, g->output_offset);
    if (!full) {
        const uint32_t r = (uint32_t)ehd_dsp_pack_clamp(a, g->act_min, g->act_max);
        a[0] = (int8_t)r, a[1] = (int8_t)(r >> 8), a[2] = (int8_t)(r >> 16), a[3] = (int8_t)(r >> 24);
    }
    switch (pixels) {
    case 4:
        o[3 * stride] = (int8_t)a[3];
        /* fall through */
    case 3:
        o[2 * stride] = (int8_t)a[2];
        /* fall through */
    case 2:
        o[stride] = (int8_t)a[1];
        /* fall through */
    default:
        o[0] = (int8_t)a[0];
    }
}

EHD_DSP_INLINE void mat_mult(const ehd_dsp_gemm *g, const int32_t *block, int32_t pixels, int full,
                             int8_t *out)
{
    const int32_t k = g->k, out_c = g->out_c;
    const int32_t *const block_end = block + ehd_dsp_block_words(k);
    /* The end of the groups that make whole pairs (a group is 2 x 4 words). */
    const int32_t *const block_end_pair = block + 2 * EHD_DSP_BLOCK_COLUMNS * (((k + 3) / 4) & ~1);
    const int32_t *bias = g->bias;
    const int8_t *w = g->weights;
    int32_t c;

    /* Every row but the last: a partial last group may read into the next row. */
    for (c = 0; c + 1 < out_c; c++) {
        const int32_t b = bias != 0 ? bias[c] : 0;
        int32_t a0 = b, a1 = b, a2 = b, a3 = b;
        const int32_t *col = block;
        const int8_t *row = w;
        /* Two groups per iteration: the loop's compare and branch are paid once per 32 MACs. */
        for (; col < block_end_pair; row += 8) {
            const int32_t w0 = ehd_read_s8x4(row);
            GROUP(w0, col);
            const int32_t w1 = ehd_read_s8x4(row + 4);
            GROUP(w1, col);
        }
        if (col < block_end) {
            const int32_t wv = ehd_read_s8x4(row);
            GROUP(wv, col);
        }
        w += k;
        store(g, c, pixels, full, out + c, out_c, a0, a1, a2, a3);
    }
    /* The last row: its partial group without reading past the array. */
    const int32_t b = bias != 0 ? bias[c] : 0;
    int32_t a0 = b, a1 = b, a2 = b, a3 = b, n;
    const int32_t *col = block;
    for (n = k >> 2; n > 0; n--, w += 4) {
        const int32_t wv = ehd_read_s8x4(w);
        GROUP(wv, col);
    }
    if ((k & 3) != 0) {
        const int32_t wv = last_group(w + (k & 3), k);
        GROUP(wv, col);
    }
    store(g, c, pixels, full, out + c, out_c, a0, a1, a2, a3);
}

void ehd_dsp_mat_mult_s8_s16(const ehd_dsp_gemm *g, const int32_t *block, int32_t pixels, int8_t *out)
{
    if (pixels == EHD_DSP_BLOCK_COLUMNS && ehd_dsp_full_range(g->act_min, g->act_max)) {
        mat_mult(g, block, EHD_DSP_BLOCK_COLUMNS, 1, out);
    } else {
        mat_mult(g, block, pixels, 0, out);
    }
}
#endif /* !EHD_DSP_MVE */

#if EHD_DSP_MVE
void ehd_mve_channel_bases(const ehd_dsp_gemm *g, int32_t *base)
{
    const int32_t k = g->k;
    int32_t c, i;
    for (c = g->c_begin; c < g->c_end; c++) {
        const int8_t *w = g->weights + (int64_t)c * k;
        int32_t sum = 0;
        for (i = 0; i < k; i += 16) {
            sum = vaddvaq_s8(sum, vldrbq_z_s8(w + i, vctp8q((uint32_t)(k - i)))); /* lanes past k read as 0 */
        }
        /* sum of (x + offset) * w = sum of x * w + offset * sum of w, all wrapping like int32 */
        base[c - g->c_begin] = (int32_t)((uint32_t)(g->bias != 0 ? g->bias[c] : 0) +
                                         (uint32_t)g->input_offset * (uint32_t)sum);
    }
}

void ehd_mve_mat_mult_s8(const ehd_dsp_gemm *g, const int8_t *const cols[4], int32_t pixels, int8_t *out)
{
    const int32_t k = g->k, out_c = g->out_c, tail = k & 15;
    const uint32x4_t to_pixel = vmulq_n_u32(vidupq_n_u32(0u, 1), (uint32_t)out_c);
    const mve_pred16_t stored = vctp32q((uint32_t)pixels);
    const mve_pred16_t last = vctp8q((uint32_t)tail);
    const int8_t *w = g->weights + (int64_t)g->c_begin * k;
    int32_t c, n;

    for (c = g->c_begin; c < g->c_end; c++) {
        const int8_t *c0 = cols[0], *c1 = cols[1], *c2 = cols[2], *c3 = cols[3];
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        /* 16 k per step, no predication: the weight sums were taken once (ehd_mve_channel_bases). */
        for (n = k >> 4; n > 0; n--, w += 16, c0 += 16, c1 += 16, c2 += 16, c3 += 16) {
            const int8x16_t wv = vldrbq_s8(w);
            a0 = vmladavaq_s8(a0, vldrbq_s8(c0), wv);
            a1 = vmladavaq_s8(a1, vldrbq_s8(c1), wv);
            a2 = vmladavaq_s8(a2, vldrbq_s8(c2), wv);
            a3 = vmladavaq_s8(a3, vldrbq_s8(c3), wv);
        }
        if (tail != 0) {
            /* Tail-predicated: lanes past k are neither read nor summed. */
            const int8x16_t wv = vldrbq_z_s8(w, last);
            a0 = vmladavaq_s8(a0, vldrbq_z_s8(c0, last), wv);
            a1 = vmladavaq_s8(a1, vldrbq_z_s8(c1, last), wv);
            a2 = vmladavaq_s8(a2, vldrbq_z_s8(c2, last), wv);
            a3 = vmladavaq_s8(a3, vldrbq_z_s8(c3, last), wv);
            w += tail;
        }
        int32x4_t acc = vdupq_n_s32(a0);
        acc = vsetq_lane_s32(a1, acc, 1);
        acc = vsetq_lane_s32(a2, acc, 2);
        acc = vsetq_lane_s32(a3, acc, 3);
        acc = ehd_mve_requantize(vaddq_n_s32(acc, g->base[c - g->c_begin]), vdupq_n_s32(g->multiplier[c]),
                                 vdupq_n_s32(g->shift[c]), g->output_offset, g->act_min, g->act_max);
        vstrbq_scatter_offset_p_s32(out + c, to_pixel, acc, stored);
    }
}
#endif /* EHD_DSP_MVE */
