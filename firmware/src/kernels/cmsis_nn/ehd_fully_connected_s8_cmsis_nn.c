/*
 * FULLY_CONNECTED on CMSIS-NN: arm_fully_connected_wrapper_s8 (per-tensor or per-channel). Its
 * MVE kernels start each row from a precomputed "kernel sum" (bias + input offset x the row's
 * weight sum, arm_vector_sum_s8) in the scratch; TFLM computes it once at Prepare, we before
 * each call (no persistent buffer yet).
 */
#include "ehd/ehd_kernels.h"

#if EHD_KERNEL_BACKEND == EHD_BACKEND_CMSIS_NN
#include "../fully_connected/ehd_fc_checks.h"
#include "ehd_cmsis_nn.h"

/* CMSIS-NN's FC filter dims: n = accumulation depth, c = output channels. */
static cmsis_nn_dims filter_dims(const ehd_fc_params *fc)
{
    const cmsis_nn_dims d = {fc->filter.c, 1, 1, fc->filter.n};
    return d;
}

int32_t ehd_fully_connected_s8_cmsis_nn_get_buffer_size(const ehd_fc_params *fc)
{
    const cmsis_nn_dims filter = filter_dims(fc);
    return arm_fully_connected_s8_get_buffer_size(&filter);
}

ehd_status ehd_fully_connected_s8_cmsis_nn(const ehd_context *ctx, const ehd_fc_params *fc,
                                           const ehd_offsets *offsets, const ehd_dims *input_dims,
                                           const int8_t *input, const ehd_dims *output_dims,
                                           int8_t *output)
{
    const ehd_status status = ehd_fc_check_args(fc, offsets, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    if (!ehd_cmsis_offsets_ok(offsets->input_offset, offsets->output_offset)) {
        return EHD_ERR_UNSUPPORTED;
    }
    if (!ehd_cmsis_scratch_ok(ctx, ehd_fully_connected_s8_cmsis_nn_get_buffer_size(fc))) {
        return EHD_ERR_ARG;
    }
    const int32_t n_in = fc->filter.c, n_out = fc->filter.n;
    const int32_t batches = ehd_dims_count(output_dims) / n_out;
#if defined(ARM_MATH_MVEI)
    arm_vector_sum_s8((int32_t *)ctx->buf, n_in, n_out, fc->weights, offsets->input_offset, 0, fc->bias);
#endif
    const cmsis_nn_context c = ehd_cmsis_context(ctx);
    const cmsis_nn_fc_params p = {offsets->input_offset, 0, offsets->output_offset, {fc->act_min, fc->act_max}};
    const cmsis_nn_quant_params q = {(int32_t *)fc->multiplier, (int32_t *)fc->shift, fc->per_channel != 0};
    const cmsis_nn_dims in = {batches, 1, 1, n_in}, filter = filter_dims(fc);
    const cmsis_nn_dims bias = {1, 1, 1, n_out}, out = {batches, 1, 1, n_out};
    return ehd_cmsis_status(arm_fully_connected_wrapper_s8(&c, &p, &q, &in, input, &filter, fc->weights,
                                                           &bias, fc->bias, &out, output));
}

int32_t ehd_fully_connected_wrapper_s8_get_buffer_size(const ehd_fc_params *fc)
{
    return ehd_fully_connected_s8_cmsis_nn_get_buffer_size(fc);
}

ehd_status ehd_fully_connected_wrapper_s8(const ehd_context *ctx, const ehd_fc_params *fc,
                                          const ehd_offsets *offsets, const ehd_dims *input_dims,
                                          const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status =
        ehd_fully_connected_s8_cmsis_nn(ctx, fc, offsets, input_dims, input, output_dims, output);
    return status != EHD_ERR_UNSUPPORTED
               ? status
               : ehd_fully_connected_s8(fc, offsets, input_dims, input, output_dims, output);
}
#endif
