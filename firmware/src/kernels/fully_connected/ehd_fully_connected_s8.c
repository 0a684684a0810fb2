/*
 * FULLY_CONNECTED, int8, per-tensor or per-channel weights: TFLM's reference integer
 * FullyConnected / FullyConnectedPerChannel.
 */
#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

#include "ehd_fc_checks.h"

ehd_status ehd_fully_connected_s8(const ehd_fc_params *fc, const ehd_offsets *offsets,
                                  const ehd_dims *input_dims, const int8_t *input,
                                  const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = ehd_fc_check_args(fc, offsets, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    const int32_t n_out = fc->filter.n, n_in = fc->filter.c;
    const int32_t batches = ehd_dims_count(output_dims) / n_out;
    const int32_t q_step = fc->per_channel ? 1 : 0;
    int32_t b, o, i;

    for (b = 0; b < batches; b++) {
        const int8_t *x = input + (int64_t)b * n_in;
        for (o = 0; o < n_out; o++) {
            const int8_t *w = fc->weights + (int64_t)o * n_in;
            int32_t acc = 0;
            for (i = 0; i < n_in; i++) {
                acc = ehd_mac(acc, x[i], offsets->input_offset, w[i]);
            }
            if (fc->bias != 0) {
                acc = ehd_wrap_add(acc, fc->bias[o]);
            }
            *output++ = ehd_requantize_s8(acc, fc->multiplier[o * q_step],
                                          fc->shift[o * q_step], offsets->output_offset,
                                          fc->act_min, fc->act_max);
        }
    }
    return EHD_OK;
}

#if EHD_KERNEL_BACKEND != EHD_BACKEND_CMSIS_NN /* cmsis_nn: the wrapper is in cmsis_nn/ */
int32_t ehd_fully_connected_wrapper_s8_get_buffer_size(const ehd_fc_params *fc)
{
#if EHD_KERNEL_BACKEND == EHD_BACKEND_DSP
    return ehd_fully_connected_s8_dsp_get_buffer_size(fc);
#else
    (void)fc;
    return 0;
#endif
}

ehd_status ehd_fully_connected_wrapper_s8(const ehd_context *ctx, const ehd_fc_params *fc,
                                          const ehd_offsets *offsets, const ehd_dims *input_dims,
                                          const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
#if EHD_KERNEL_BACKEND == EHD_BACKEND_DSP
    /* An input zero point outside int8 (offset beyond +-128) is the one shape that runs portable. */
    const ehd_status status =
        ehd_fully_connected_s8_dsp(ctx, fc, offsets, input_dims, input, output_dims, output);
    if (status != EHD_ERR_UNSUPPORTED) {
        return status;
    }
#endif
    (void)ctx;
    return ehd_fully_connected_s8(fc, offsets, input_dims, input, output_dims, output);
}
#endif
