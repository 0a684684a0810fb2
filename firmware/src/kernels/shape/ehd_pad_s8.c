/* PAD, int8: TFLM's reference Pad (values are copied, never requantized). */
#include <string.h>

#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

#include "ehd_pad_checks.h"

static int inside(int32_t i, int32_t before, int32_t size)
{
    return i >= before && i < before + size;
}

ehd_status ehd_pad_s8(const ehd_pad_params *pad, const ehd_dims *input_dims, const int8_t *input,
                      const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = ehd_pad_check_args(pad, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    const int8_t value = (int8_t)pad->pad_value;
    const int32_t in_c = input_dims->c, out_c = output_dims->c;
    const int32_t c_before = pad->before[3], c_after = pad->after[3];
    int32_t n, h, w;

    /* One output row of C values at a time: all padding, or padding around an input row. */
    for (n = 0; n < output_dims->n; n++) {
        for (h = 0; h < output_dims->h; h++) {
            for (w = 0; w < output_dims->w; w++) {
                if (!inside(n, pad->before[0], input_dims->n) ||
                    !inside(h, pad->before[1], input_dims->h) ||
                    !inside(w, pad->before[2], input_dims->w)) {
                    memset(output, value, (size_t)out_c);
                } else {
                    const int64_t row = ((int64_t)(n - pad->before[0]) * input_dims->h +
                                         (h - pad->before[1])) * input_dims->w + (w - pad->before[2]);
                    memset(output, value, (size_t)c_before);
                    memcpy(output + c_before, input + row * in_c, (size_t)in_c);
                    memset(output + c_before + in_c, value, (size_t)c_after);
                }
                output += out_c;
            }
        }
    }
    return EHD_OK;
}

#if EHD_KERNEL_BACKEND != EHD_BACKEND_CMSIS_NN /* cmsis_nn: the wrapper is in cmsis_nn/ */
ehd_status ehd_pad_wrapper_s8(const ehd_pad_params *pad, const ehd_dims *input_dims,
                              const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    /* Backend dispatch point. */
    return ehd_pad_s8(pad, input_dims, input, output_dims, output);
}
#endif
