/*
 * CONV_2D, int8, per-channel weights, any geometry: im2col-lite. Each output
 * pixel's window is gathered as int8 (padding as the zero point, so it adds 0)
 * into a staging row, widened into a two-column int16 block
 * (ehd_conv_dsp.h), and every pair of pixels goes through the GEMM.
 * The window's rows are copied as runs of kw * in_c bytes (dilation_w 1), so a
 * first layer with 1 or 3 input channels costs no per-tap work.
 */
#include "ehd/ehd_kernels.h"

#include "ehd_conv_checks.h"
#include "ehd_conv_dsp.h"

static int32_t column_length(const ehd_conv_params *conv, const ehd_dims *input_dims)
{
    return conv->filter.h * conv->filter.w * input_dims->c;
}

int32_t ehd_convolve_s8_dsp_get_buffer_size(const ehd_conv_params *conv, const ehd_dims *input_dims)
{
    if (conv == 0 || input_dims == 0) {
        return 0;
    }
    const int32_t k = column_length(conv, input_dims);
    /* ACLE: the int16 block, then the staging row in whole words; MVE: four int8 columns, then a
       base (bias + offset x sum of weights) per output channel */
    const int32_t acle = (int32_t)sizeof(int32_t) * (ehd_dsp_block_words(k) + (k + 3) / 4);
    const int32_t mve = EHD_DSP_BLOCK_COLUMNS * ((k + 15) & ~15) + (int32_t)sizeof(int32_t) * conv->filter.n;
    return EHD_MAX(acle, mve);
}

static void copy_s8(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 4; n -= 4, dst += 4, src += 4) {
        ehd_write_s8x4(dst, ehd_read_s8x4(src));
    }
    for (; n > 0; n--) {
        *dst++ = *src++;
    }
}

static void fill_s8(int8_t *dst, int8_t value, int32_t n)
{
    const int32_t v4 = ehd_dup_s8x4(value);
    for (; n >= 4; n -= 4, dst += 4) {
        ehd_write_s8x4(dst, v4);
    }
    for (; n > 0; n--) {
        *dst++ = value;
    }
}

/* The window of output (oy, ox) lies inside the input, each kernel row one run of kw * in_c bytes. */
static int window_inside(const ehd_conv_params *conv, const ehd_dims *in, int32_t oy, int32_t ox)
{
    const int32_t y0 = oy * conv->stride_h - conv->pad_h;
    const int32_t x0 = ox * conv->stride_w - conv->pad_w;
    return conv->dilation_w == 1 && y0 >= 0 && x0 >= 0 && x0 + conv->filter.w <= in->w &&
           y0 + (conv->filter.h - 1) * conv->dilation_h < in->h;
}

/* The first input value of the window of output (oy, ox), which lies inside the input. */
static const int8_t *window_start(const ehd_conv_params *conv, const ehd_dims *in, const int8_t *in_batch,
                                  int32_t oy, int32_t ox)
{
    const int32_t y0 = oy * conv->stride_h - conv->pad_h;
    const int32_t x0 = ox * conv->stride_w - conv->pad_w;
    return in_batch + ((int64_t)y0 * in->w + x0) * in->c;
}

/* The window of output (oy, ox) in filter order, padding as `pad`. */
static void gather(const ehd_conv_params *conv, const ehd_dims *in, const int8_t *in_batch,
                   int32_t oy, int32_t ox, int8_t pad, int8_t *dst)
{
    const int32_t in_c = in->c, k_w = conv->filter.w, row_bytes = k_w * in_c;
    const int32_t y0 = oy * conv->stride_h - conv->pad_h;
    const int32_t x0 = ox * conv->stride_w - conv->pad_w;
    int32_t ky, kx;
    if (window_inside(conv, in, oy, ox)) {
        const int8_t *src = window_start(conv, in, in_batch, oy, ox);
        const int64_t step = (int64_t)conv->dilation_h * in->w * in_c;
        for (ky = 0; ky < conv->filter.h; ky++, dst += row_bytes, src += step) {
            copy_s8(dst, src, row_bytes);
        }
        return;
    }
    for (ky = 0; ky < conv->filter.h; ky++, dst += row_bytes) {
        const int32_t y = y0 + ky * conv->dilation_h;
        if (y < 0 || y >= in->h) {
            fill_s8(dst, pad, row_bytes);
            continue;
        }
        const int8_t *row = in_batch + (int64_t)y * in->w * in_c;
        if (conv->dilation_w == 1) {
            /* Taps [left, right) lie inside the row: one contiguous run. */
            const int32_t left = EHD_MIN(k_w, EHD_MAX(0, -x0));
            const int32_t right = EHD_MAX(left, EHD_MIN(k_w, in->w - x0));
            fill_s8(dst, pad, left * in_c);
            copy_s8(dst + left * in_c, row + (int64_t)(x0 + left) * in_c, (right - left) * in_c);
            fill_s8(dst + right * in_c, pad, (k_w - right) * in_c);
            continue;
        }
        for (kx = 0; kx < k_w; kx++) {
            const int32_t x = x0 + kx * conv->dilation_w;
            if (x < 0 || x >= in->w) {
                fill_s8(dst + kx * in_c, pad, in_c);
            } else {
                copy_s8(dst + kx * in_c, row + (int64_t)x * in_c, in_c);
            }
        }
    }
}

#if !EHD_DSP_MVE
/* Column `slot` of the block from an inside window starting at src, one kernel row at a time. */
static void widen_window(const ehd_conv_params *conv, const ehd_dims *in, const int8_t *src,
                         int32_t input_offset, int32_t *block, int32_t slot)
{
    const int32_t row_bytes = conv->filter.w * in->c;
    const int64_t step = (int64_t)conv->dilation_h * in->w * in->c;
    int32_t ky;
    for (ky = 0; ky < conv->filter.h; ky++, src += step) {
        ehd_dsp_column_run_s16(src, row_bytes, input_offset, block, slot, ky * row_bytes);
    }
}
#endif

ehd_status ehd_convolve_s8_dsp(const ehd_context *ctx, const ehd_conv_params *conv,
                               const ehd_offsets *offsets, const ehd_dims *input_dims,
                               const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = ehd_conv_check_args(conv, offsets, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    if (!ehd_dsp_scratch_ok(ctx, ehd_convolve_s8_dsp_get_buffer_size(conv, input_dims))) {
        return EHD_ERR_ARG;
    }
    const int32_t k = column_length(conv, input_dims), out_c = output_dims->c;
    ehd_dsp_gemm gemm = ehd_dsp_gemm_of(conv, offsets, out_c, k);
    const int8_t pad = (int8_t)-offsets->input_offset;
    const int64_t in_batch_size = (int64_t)input_dims->h * input_dims->w * input_dims->c;
    const int64_t pixels = (int64_t)output_dims->n * output_dims->h * output_dims->w;
    int32_t slot = 0; /* the block's next free column */
    int64_t p = 0;
    int32_t b, oy, ox;
#if EHD_DSP_MVE
    int8_t *columns = (int8_t *)ctx->buf;
    const int32_t stride = (k + 15) & ~15;
    const int8_t *cols[EHD_DSP_BLOCK_COLUMNS] = {columns, columns, columns, columns};
    int32_t *base = (int32_t *)(columns + EHD_DSP_BLOCK_COLUMNS * stride);
    ehd_mve_channel_bases(&gemm, base);
    gemm.base = base;
#else
    int32_t *block = (int32_t *)ctx->buf;
    int8_t *staging = (int8_t *)(block + ehd_dsp_block_words(k));
    const int32_t k4 = (k + 3) & ~3;
    /* Kernel rows of whole groups: an inside window is widened from the input, row by row. */
    const int direct = conv->dilation_w == 1 && (conv->filter.w * input_dims->c) % 4 == 0;
    /* The staging row's padding to whole groups holds the zero point (it adds 0) for good. */
    fill_s8(staging + k, pad, k4 - k);
#endif

    for (b = 0; b < output_dims->n; b++) {
        const int8_t *in_batch = input + b * in_batch_size;
        for (oy = 0; oy < output_dims->h; oy++) {
            for (ox = 0; ox < output_dims->w; ox++, output += out_c) {
#if EHD_DSP_MVE
                cols[slot] = columns + slot * stride;
                gather(conv, input_dims, in_batch, oy, ox, pad, columns + slot * stride);
                slot = ehd_mve_block_push(&gemm, cols, slot, output, ++p == pixels);
#else
                if (direct && window_inside(conv, input_dims, oy, ox)) {
                    widen_window(conv, input_dims, window_start(conv, input_dims, in_batch, oy, ox),
                                 offsets->input_offset, block, slot);
                } else {
                    gather(conv, input_dims, in_batch, oy, ox, pad, staging);
                    ehd_dsp_column_s16(staging, k4, offsets->input_offset, block, slot);
                }
                slot = ehd_dsp_block_push(&gemm, block, slot, output, ++p == pixels);
#endif
            }
        }
    }
    return EHD_OK;
}
