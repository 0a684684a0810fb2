/* MAX_POOL_2D, int8: four channels per word, lane-wise max with SSUB8 + SEL (MVE: 16 per VMAX). */
#include "ehd/ehd_kernels.h"

#include "../ehd_dsp.h"
#include "../ehd_pool_checks.h"

ehd_status ehd_maxpool_s8_dsp(const ehd_pool_params *pool, const ehd_dims *input_dims,
                              const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = ehd_pool_check_args(pool, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    const int32_t in_w = input_dims->w, ch = input_dims->c;
    const int32_t lo4 = ehd_dup_s8x4(pool->act_min), hi4 = ehd_dup_s8x4(pool->act_max);
    int32_t b, oy, ox, c, y, x, y_start, y_end, x_start, x_end;

    for (b = 0; b < output_dims->n; b++) {
        const int8_t *in_batch = input + (int64_t)b * input_dims->h * in_w * ch;
        for (oy = 0; oy < output_dims->h; oy++) {
            for (ox = 0; ox < output_dims->w; ox++, output += ch) {
                ehd_pool_window(pool, input_dims, oy, ox, &y_start, &y_end, &x_start, &x_end);
                if (y_start >= y_end || x_start >= x_end) {
                    return EHD_ERR_SHAPE; /* a window entirely in the padding */
                }
#if EHD_DSP_MVE
                for (c = 0; c < ch; c += 16) {
                    const mve_pred16_t p = vctp8q((uint32_t)(ch - c));
                    int8x16_t max = vdupq_n_s8(INT8_MIN);
                    for (y = y_start; y < y_end; y++) {
                        const int8_t *px = in_batch + ((int64_t)y * in_w + x_start) * ch + c;
                        for (x = x_start; x < x_end; x++, px += ch) {
                            max = vmaxq_s8(max, vldrbq_z_s8(px, p));
                        }
                    }
                    max = vminq_s8(vmaxq_s8(max, vdupq_n_s8((int8_t)pool->act_min)), vdupq_n_s8((int8_t)pool->act_max));
                    vstrbq_p_s8(output + c, max, p);
                }
                (void)lo4, (void)hi4;
                continue;
#endif
                for (c = 0; c + 4 <= ch; c += 4) {
                    int32_t max = ehd_dup_s8x4(INT8_MIN);
                    for (y = y_start; y < y_end; y++) {
                        const int8_t *px = in_batch + ((int64_t)y * in_w + x_start) * ch + c;
                        for (x = x_start; x < x_end; x++, px += ch) {
                            max = ehd_max_s8x4(max, ehd_read_s8x4(px));
                        }
                    }
                    ehd_write_s8x4(output + c, ehd_min_s8x4(ehd_max_s8x4(max, lo4), hi4));
                }
                for (; c < ch; c++) {
                    int32_t max = INT8_MIN;
                    for (y = y_start; y < y_end; y++) {
                        for (x = x_start; x < x_end; x++) {
                            max = EHD_MAX(max, (int32_t)in_batch[((int64_t)y * in_w + x) * ch + c]);
                        }
                    }
                    output[c] = (int8_t)ehd_clamp(max, pool->act_min, pool->act_max);
                }
            }
        }
    }
    return EHD_OK;
}
