/*
 * AVERAGE_POOL_2D, int8: four channels per word, summed in two int16x2
 * accumulators with SXTAB16 (MVE: eight int16 lanes; a window of at most 256
 * int8 values cannot leave int16), then TFLM's rounding division per channel.
 */
#include "ehd/ehd_kernels.h"

#include "../ehd_dsp.h"
#include "../ehd_pool_checks.h"

/* sum / count rounded half away from zero, clamped (the portable kernel's arithmetic). */
static inline int32_t average(int32_t sum, int32_t count, const ehd_pool_params *pool)
{
    sum = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
    return ehd_clamp(sum, pool->act_min, pool->act_max);
}

ehd_status ehd_avgpool_s8_dsp(const ehd_pool_params *pool, const ehd_dims *input_dims,
                              const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = ehd_pool_check_args(pool, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    if ((int64_t)pool->filter_h * pool->filter_w > EHD_AVGPOOL_DSP_MAX_WINDOW) {
        return EHD_ERR_UNSUPPORTED;
    }
    const int32_t in_w = input_dims->w, ch = input_dims->c;
    int32_t b, oy, ox, c, y, x, y_start, y_end, x_start, x_end;

    for (b = 0; b < output_dims->n; b++) {
        const int8_t *in_batch = input + (int64_t)b * input_dims->h * in_w * ch;
        for (oy = 0; oy < output_dims->h; oy++) {
            for (ox = 0; ox < output_dims->w; ox++, output += ch) {
                ehd_pool_window(pool, input_dims, oy, ox, &y_start, &y_end, &x_start, &x_end);
                if (y_start >= y_end || x_start >= x_end) {
                    return EHD_ERR_SHAPE; /* a window entirely in the padding */
                }
                const int32_t count = (y_end - y_start) * (x_end - x_start);
#if EHD_DSP_MVE
                for (c = 0; c < ch; c += 8) {
                    const mve_pred16_t p = vctp16q((uint32_t)(ch - c));
                    int16x8_t sum = vdupq_n_s16(0);
                    int16_t sums[8];
                    int32_t i;
                    for (y = y_start; y < y_end; y++) {
                        const int8_t *px = in_batch + ((int64_t)y * in_w + x_start) * ch + c;
                        for (x = x_start; x < x_end; x++, px += ch) {
                            sum = vaddq_s16(sum, vldrbq_z_s16(px, p));
                        }
                    }
                    vst1q_s16(sums, sum);
                    for (i = 0; i < 8 && c + i < ch; i++) {
                        output[c + i] = (int8_t)average(sums[i], count, pool);
                    }
                }
                continue;
#endif
                for (c = 0; c + 4 <= ch; c += 4) {
                    int32_t sum02 = 0, sum13 = 0; /* int16 lanes: channels (c, c+2), (c+1, c+3) */
                    for (y = y_start; y < y_end; y++) {
                        const int8_t *px = in_batch + ((int64_t)y * in_w + x_start) * ch + c;
                        for (x = x_start; x < x_end; x++, px += ch) {
                            const int32_t v = ehd_read_s8x4(px);
                            sum02 = ehd_sxtab16(sum02, v);
                            sum13 = ehd_sxtab16_ror8(sum13, v);
                        }
                    }
                    ehd_write_s8x4(output + c, ehd_pack_s8x4(average((int16_t)sum02, count, pool),
                                                             average((int16_t)sum13, count, pool),
                                                             average(sum02 >> 16, count, pool),
                                                             average(sum13 >> 16, count, pool)));
                }
                for (; c < ch; c++) {
                    int32_t sum = 0;
                    for (y = y_start; y < y_end; y++) {
                        for (x = x_start; x < x_end; x++) {
                            sum += in_batch[((int64_t)y * in_w + x) * ch + c];
                        }
                    }
                    output[c] = (int8_t)average(sum, count, pool);
                }
            }
        }
    }
    return EHD_OK;
}
