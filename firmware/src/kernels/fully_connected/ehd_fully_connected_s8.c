/* FULLY_CONNECTED, int8, per-tensor weights: TFLM's reference integer FullyConnected. */
#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

#include "../ehd_kernel_checks.h"

ehd_status ehd_fully_connected_s8(const ehd_fc_params *fc, const ehd_offsets *offsets,
                                  const ehd_dims *input_dims, const int8_t *input,
                                  const ehd_dims *output_dims, int8_t *output)
{
    if (fc == 0 || offsets == 0 || input == 0 || output == 0 || fc->weights == 0 ||
        !ehd_dims_valid(input_dims) || !ehd_dims_valid(output_dims) ||
        !ehd_act_valid(fc->act_min, fc->act_max) || fc->multiplier < 0 ||
        !ehd_shift_valid(fc->shift)) {
        return EHD_ERR_ARG;
    }
    const int32_t n_out = output_dims->c;
    const int32_t batches = ehd_dims_count(output_dims) / n_out;
    const int32_t in_count = ehd_dims_count(input_dims);
    if (in_count % batches != 0) {
        return EHD_ERR_SHAPE;
    }
    const int32_t n_in = in_count / batches;
    int32_t b, o, i;

    for (b = 0; b < batches; b++) {
        const int8_t *x = input + (int64_t)b * n_in;
        for (o = 0; o < n_out; o++) {
            const int8_t *w = fc->weights + (int64_t)o * n_in;
            int32_t acc = 0;
            for (i = 0; i < n_in; i++) {
                acc += ((int32_t)x[i] + offsets->input_offset) * (int32_t)w[i];
            }
            if (fc->bias != 0) {
                acc += fc->bias[o];
            }
            *output++ = ehd_requantize_s8(acc, fc->multiplier, fc->shift, offsets->output_offset,
                                          fc->act_min, fc->act_max);
        }
    }
    return EHD_OK;
}

ehd_status ehd_fully_connected_wrapper_s8(const ehd_fc_params *fc, const ehd_offsets *offsets,
                                          const ehd_dims *input_dims, const int8_t *input,
                                          const ehd_dims *output_dims, int8_t *output)
{
    /* Backend dispatch point. */
    return ehd_fully_connected_s8(fc, offsets, input_dims, input, output_dims, output);
}
