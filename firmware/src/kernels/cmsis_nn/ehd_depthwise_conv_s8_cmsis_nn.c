/*
 * DEPTHWISE_CONV_2D on CMSIS-NN: arm_depthwise_conv_wrapper_s8 picks the 3x3 kernel (DSP, padding
 * <= 1), the optimised one (multiplier 1, one batch, no dilation) or the generic one.
 */
#include "ehd/ehd_kernels.h"

#if EHD_KERNEL_BACKEND == EHD_BACKEND_CMSIS_NN
#include "../convolution/ehd_conv_checks.h"
#include "ehd_cmsis_nn.h"

static cmsis_nn_dw_conv_params dw_params(const ehd_conv_params *conv, int32_t input_offset,
                                         int32_t output_offset)
{
    const cmsis_nn_dw_conv_params p = {input_offset,
                                       output_offset,
                                       conv->depth_multiplier,
                                       {conv->stride_w, conv->stride_h},
                                       {conv->pad_w, conv->pad_h},
                                       {conv->dilation_w, conv->dilation_h},
                                       {conv->act_min, conv->act_max}};
    return p;
}

int32_t ehd_depthwise_conv_s8_cmsis_nn_get_buffer_size(const ehd_conv_params *conv,
                                                       const ehd_dims *input_dims,
                                                       const ehd_dims *output_dims)
{
    const cmsis_nn_dw_conv_params p = dw_params(conv, 0, 0);
    const cmsis_nn_dims in = ehd_cmsis_dims(input_dims), filter = ehd_cmsis_dims(&conv->filter);
    const cmsis_nn_dims out = ehd_cmsis_dims(output_dims);
    return arm_depthwise_conv_wrapper_s8_get_buffer_size(&p, &in, &filter, &out);
}

ehd_status ehd_depthwise_conv_s8_cmsis_nn(const ehd_context *ctx, const ehd_conv_params *conv,
                                          const ehd_offsets *offsets, const ehd_dims *input_dims,
                                          const int8_t *input, const ehd_dims *output_dims,
                                          int8_t *output)
{
    const ehd_status status =
        ehd_depthwise_check_args(conv, offsets, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    if (!ehd_cmsis_conv_ok(conv, offsets, input_dims, output_dims)) {
        return EHD_ERR_UNSUPPORTED;
    }
    if (!ehd_cmsis_scratch_ok(ctx, ehd_depthwise_conv_s8_cmsis_nn_get_buffer_size(conv, input_dims,
                                                                                 output_dims))) {
        return EHD_ERR_ARG;
    }
    const cmsis_nn_context c = ehd_cmsis_context(ctx);
    const cmsis_nn_dw_conv_params p = dw_params(conv, offsets->input_offset, offsets->output_offset);
    const cmsis_nn_per_channel_quant_params q = {(int32_t *)conv->multiplier, (int32_t *)conv->shift};
    const cmsis_nn_dims in = ehd_cmsis_dims(input_dims), filter = ehd_cmsis_dims(&conv->filter);
    const cmsis_nn_dims bias = {1, 1, 1, output_dims->c}, out = ehd_cmsis_dims(output_dims);
    return ehd_cmsis_status(arm_depthwise_conv_wrapper_s8(&c, &p, &q, &in, input, &filter, conv->weights,
                                                          &bias, conv->bias, &out, output));
}

int32_t ehd_depthwise_conv_wrapper_s8_get_buffer_size(const ehd_conv_params *conv,
                                                      const ehd_dims *input_dims,
                                                      const ehd_dims *output_dims)
{
    return ehd_depthwise_conv_s8_cmsis_nn_get_buffer_size(conv, input_dims, output_dims);
}

ehd_status ehd_depthwise_conv_wrapper_s8(const ehd_context *ctx, const ehd_conv_params *conv,
                                         const ehd_offsets *offsets, const ehd_dims *input_dims,
                                         const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status =
        ehd_depthwise_conv_s8_cmsis_nn(ctx, conv, offsets, input_dims, input, output_dims, output);
    return status != EHD_ERR_UNSUPPORTED
               ? status
               : ehd_depthwise_conv_s8(conv, offsets, input_dims, input, output_dims, output);
}
#endif
