/*
 * What the dsp convolutions share (private to firmware/src/kernels): the
 * column block they fill and the GEMM that turns it into output pixels.
 *
 * ACLE (Cortex-M4/M7, and the host's plain-C forms):
 * A column is the k = kh * kw * in_c input values one output pixel reads, in
 * filter order, each plus input_offset (so padding is 0). A block holds four
 * columns (four consecutive output pixels) as int16 pairs, interleaved group
 * by group so that one group of four k is eight consecutive words:
 *   word 8g + 2s     = (k 4g,     k 4g + 2) of column s
 *   word 8g + 2s + 1 = (k 4g + 1, k 4g + 3) of column s
 * the order SXTB16 / SXTB16 ROR #8 give four int8 weights, so weights need no
 * reordering. k is padded with zeros to a multiple of 4.
 *
 * MVE (Cortex-M55): four int8 columns of raw input values (padding as the zero
 * point), anywhere in memory: the GEMM takes 16 k per VMLADAV and adds
 * input_offset * (sum of the weights), which it sums along (VADDVA).
 */
#ifndef EHD_CONV_DSP_H
#define EHD_CONV_DSP_H

#include "ehd/ehd_kernels.h"

#include "../ehd_dsp.h"

#define EHD_DSP_BLOCK_COLUMNS 4

/* Words of a block for columns of k values. */
static inline int32_t ehd_dsp_block_words(int32_t k) { return 2 * EHD_DSP_BLOCK_COLUMNS * ((k + 3) / 4); }

/* out_c x k int8 weights with their per-channel bias and requantization. */
typedef struct {
    const int8_t *weights; /* [out_c][k] */
    const int32_t *bias;   /* [out_c] or NULL */
    const int32_t *multiplier;
    const int32_t *shift;
    int32_t out_c;
    int32_t k;
    int32_t input_offset; /* MVE only: ACLE columns hold it already */
    int32_t output_offset;
    int32_t act_min, act_max;
    /* MVE only: the channels [c_begin, c_end) to compute and their bias + input_offset x sum of weights */
    const int32_t *base;
    int32_t c_begin, c_end;
} ehd_dsp_gemm;

static inline ehd_dsp_gemm ehd_dsp_gemm_of(const ehd_conv_params *conv, const ehd_offsets *offsets,
                                           int32_t out_c, int32_t k)
{
    const ehd_dsp_gemm g = {conv->weights, conv->bias, conv->multiplier, conv->shift, out_c, k,
                            offsets->input_offset, offsets->output_offset, conv->act_min, conv->act_max,
                            0, 0, out_c};
    return g;
}

/* Writes k int8 values from src (+ input_offset) as column `slot` (0 to 3) of the block. */
void ehd_dsp_column_s16(const int8_t *src, int32_t k, int32_t input_offset, int32_t *block,
                        int32_t slot);

/*
 * Writes the n values (a multiple of 4) from src (+ input_offset) as values
 * first .. first + n - 1 (first a multiple of 4) of column `slot`: a window
 * widened run by run, straight from the input.
 */
void ehd_dsp_column_run_s16(const int8_t *src, int32_t n, int32_t input_offset, int32_t *block,
                            int32_t slot, int32_t first);

/*
 * The output pixels of the block's first `pixels` columns (1 to 4): pixel s's
 * out_c values go to out + s * out_c.
 */
void ehd_dsp_mat_mult_s8_s16(const ehd_dsp_gemm *g, const int32_t *block, int32_t pixels, int8_t *out);

/*
 * Runs the block once it is full: after column `slot` of output pixel `out`
 * was written, either keeps waiting or multiplies and returns 0 (the next free
 * slot); `last` flushes a partial block. Pixels must come in output order.
 */
static inline int32_t ehd_dsp_block_push(const ehd_dsp_gemm *g, const int32_t *block, int32_t slot,
                                         int8_t *out, int last)
{
    if (slot + 1 == EHD_DSP_BLOCK_COLUMNS || last) {
        ehd_dsp_mat_mult_s8_s16(g, block, slot + 1, out - slot * g->out_c);
        return 0;
    }
    return slot + 1;
}

#if EHD_DSP_MVE
/* MVE: g->base[c - c_begin] for the channels [c_begin, c_end), taken once per layer (or chunk of channels). */
void ehd_mve_channel_bases(const ehd_dsp_gemm *g, int32_t *base);

/*
 * MVE: channels [c_begin, c_end) of the output pixels of the first `pixels`
 * (1 to 4) of the int8 columns cols[0..3], each k long, to out + s * out_c;
 * g->base holds their ehd_mve_channel_bases.
 */
void ehd_mve_mat_mult_s8(const ehd_dsp_gemm *g, const int8_t *const cols[4], int32_t pixels, int8_t *out);

/* ehd_dsp_block_push for MVE columns (cols[slot] set by the caller). */
static inline int32_t ehd_mve_block_push(const ehd_dsp_gemm *g, const int8_t *cols[4], int32_t slot,
                                         int8_t *out, int last)
{
    if (slot + 1 == EHD_DSP_BLOCK_COLUMNS || last) {
        ehd_mve_mat_mult_s8(g, cols, slot + 1, out - slot * g->out_c);
        return 0;
    }
    return slot + 1;
}
#endif

#endif /* EHD_CONV_DSP_H */
