/*
 * CONV_2D with a 1x1 filter, no padding, any stride, each window inside the
 * input (EHD_ERR_UNSUPPORTED otherwise): each output pixel's column is one
 * input pixel's channels, nothing is gathered. ACLE widens it straight into
 * the GEMM's block; MVE's GEMM reads the input pixels themselves.
 */
#include "ehd/ehd_kernels.h"

#include "ehd_conv_checks.h"
#include "ehd_conv_dsp.h"

int32_t ehd_convolve_1x1_s8_dsp_get_buffer_size(const ehd_dims *input_dims)
{
    return input_dims == 0 ? 0 : (int32_t)sizeof(int32_t) * ehd_dsp_block_words(input_dims->c);
}

/* Every output pixel once through the GEMM (for the channels gemm selects on MVE). */
static void pixels_pass(const ehd_context *ctx, const ehd_dsp_gemm *gemm, const ehd_conv_params *conv,
                        const ehd_offsets *offsets, const ehd_dims *input_dims, const int8_t *input,
                        const ehd_dims *output_dims, int8_t *output)
{
    const int32_t in_c = input_dims->c, out_c = output_dims->c;
    const int64_t pixels = (int64_t)output_dims->n * output_dims->h * output_dims->w;
    int32_t slot = 0; /* the block's next free column */
    int64_t p = 0;
    int32_t b, oy, ox;
#if EHD_DSP_MVE
    const int8_t *cols[EHD_DSP_BLOCK_COLUMNS] = {input, input, input, input}; /* the pixels themselves */
    (void)ctx, (void)offsets;
#else
    int32_t *block = (int32_t *)ctx->buf;
#endif

    for (b = 0; b < output_dims->n; b++) {
        for (oy = 0; oy < output_dims->h; oy++) {
            const int32_t y = oy * conv->stride_h;
            for (ox = 0; ox < output_dims->w; ox++, output += out_c) {
                const int32_t x = ox * conv->stride_w;
                const int8_t *px =
                    input + (((int64_t)b * input_dims->h + y) * input_dims->w + x) * in_c;
#if EHD_DSP_MVE
                cols[slot] = px;
                slot = ehd_mve_block_push(gemm, cols, slot, output, ++p == pixels);
#else
                ehd_dsp_column_s16(px, in_c, offsets->input_offset, block, slot);
                slot = ehd_dsp_block_push(gemm, block, slot, output, ++p == pixels);
#endif
            }
        }
    }
}

ehd_status ehd_convolve_1x1_s8_dsp(const ehd_context *ctx, const ehd_conv_params *conv,
                                   const ehd_offsets *offsets, const ehd_dims *input_dims,
                                   const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = ehd_conv_check_args(conv, offsets, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    /* Every pixel's window must lie in the input (the output size follows from the geometry). */
    if (conv->filter.h != 1 || conv->filter.w != 1 || conv->pad_h != 0 || conv->pad_w != 0 ||
        (int64_t)(output_dims->h - 1) * conv->stride_h >= input_dims->h ||
        (int64_t)(output_dims->w - 1) * conv->stride_w >= input_dims->w) {
        return EHD_ERR_UNSUPPORTED;
    }
    if (!ehd_dsp_scratch_ok(ctx, ehd_convolve_1x1_s8_dsp_get_buffer_size(input_dims))) {
        return EHD_ERR_ARG;
    }
    const int32_t out_c = output_dims->c;
    ehd_dsp_gemm gemm = ehd_dsp_gemm_of(conv, offsets, out_c, input_dims->c);
#if EHD_DSP_MVE
    /* The scratch holds the channels' bases (ehd_mve_channel_bases) a chunk at a time. */
    const int32_t chunk = ehd_convolve_1x1_s8_dsp_get_buffer_size(input_dims) / (int32_t)sizeof(int32_t);
    int32_t c;
    gemm.base = (const int32_t *)ctx->buf;
    for (c = 0; c < out_c; c += chunk) {
        gemm.c_begin = c;
        gemm.c_end = EHD_MIN(out_c, c + chunk);
        ehd_mve_channel_bases(&gemm, (int32_t *)ctx->buf);
        pixels_pass(ctx, &gemm, conv, offsets, input_dims, input, output_dims, output);
    }
#else
    pixels_pass(ctx, &gemm, conv, offsets, input_dims, input, output_dims, output);
#endif
    return EHD_OK;
}
