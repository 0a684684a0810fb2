/*
 * The `cmsis_nn` backend: adapters from our params structs to Arm's CMSIS-NN
 * v7.0.0 (linked as a library from ../shared/third_party/CMSIS-NN, never
 * copied here). One adapter per op, one file each; the op's wrapper
 * (`ehd_<op>_wrapper_s8`, defined beside its adapter when EHD_KERNEL_BACKEND
 * is EHD_BACKEND_CMSIS_NN) calls it and runs the portable kernel when the
 * adapter answers EHD_ERR_UNSUPPORTED (a shape CMSIS-NN has no kernel for).
 *
 * Every adapter checks its arguments exactly as the portable kernel does
 * (same status for bad arguments) and gives the same int8 outputs. Scratch
 * is what CMSIS-NN's arm_*_get_buffer_size() asks for on the core it is
 * built for (host/edgehdc/export/scratch.py computes the same on the host).
 */
#ifndef EHD_CMSIS_NN_H
#define EHD_CMSIS_NN_H

#include "ehd/ehd_kernels.h"
#include "ehd/ehd_model.h"

#include "arm_nnfunctions.h"

/* CONV_2D through arm_convolve_wrapper_s8 (1x1 fast, 1x1 strided, 1xN or im2col GEMM). */
int32_t ehd_convolve_s8_cmsis_nn_get_buffer_size(const ehd_conv_params *conv, const ehd_dims *input_dims,
                                                 const ehd_dims *output_dims);
ehd_status ehd_convolve_s8_cmsis_nn(const ehd_context *ctx, const ehd_conv_params *conv,
                                    const ehd_offsets *offsets, const ehd_dims *input_dims,
                                    const int8_t *input, const ehd_dims *output_dims, int8_t *output);

/* DEPTHWISE_CONV_2D through arm_depthwise_conv_wrapper_s8 (3x3, opt, generic, any multiplier). */
int32_t ehd_depthwise_conv_s8_cmsis_nn_get_buffer_size(const ehd_conv_params *conv,
                                                       const ehd_dims *input_dims,
                                                       const ehd_dims *output_dims);
ehd_status ehd_depthwise_conv_s8_cmsis_nn(const ehd_context *ctx, const ehd_conv_params *conv,
                                          const ehd_offsets *offsets, const ehd_dims *input_dims,
                                          const int8_t *input, const ehd_dims *output_dims,
                                          int8_t *output);

/* FULLY_CONNECTED through arm_fully_connected_wrapper_s8; on MVE the scratch holds the kernel sums. */
int32_t ehd_fully_connected_s8_cmsis_nn_get_buffer_size(const ehd_fc_params *fc);
ehd_status ehd_fully_connected_s8_cmsis_nn(const ehd_context *ctx, const ehd_fc_params *fc,
                                           const ehd_offsets *offsets, const ehd_dims *input_dims,
                                           const int8_t *input, const ehd_dims *output_dims,
                                           int8_t *output);

/* AVERAGE_POOL_2D through arm_avgpool_s8 (DSP: a row of int32 sums in the scratch). */
int32_t ehd_avgpool_s8_cmsis_nn_get_buffer_size(const ehd_dims *input_dims, const ehd_dims *output_dims);
ehd_status ehd_avgpool_s8_cmsis_nn(const ehd_context *ctx, const ehd_pool_params *pool,
                                   const ehd_dims *input_dims, const int8_t *input,
                                   const ehd_dims *output_dims, int8_t *output);

/* MAX_POOL_2D through arm_max_pool_s8. */
ehd_status ehd_maxpool_s8_cmsis_nn(const ehd_pool_params *pool, const ehd_dims *input_dims,
                                   const int8_t *input, const ehd_dims *output_dims, int8_t *output);

/* ADD through arm_elementwise_add_s8: inputs of the output's shape (broadcasting: EHD_ERR_UNSUPPORTED). */
ehd_status ehd_add_s8_cmsis_nn(const ehd_add_params *add, const ehd_dims *input1_dims,
                               const int8_t *input1, const ehd_dims *input2_dims, const int8_t *input2,
                               const ehd_dims *output_dims, int8_t *output);

/* SOFTMAX through arm_softmax_s8. */
ehd_status ehd_softmax_s8_cmsis_nn(const ehd_softmax_params *softmax, const ehd_dims *input_dims,
                                   const int8_t *input, const ehd_dims *output_dims, int8_t *output);

/* PAD through arm_pad_s8. */
ehd_status ehd_pad_s8_cmsis_nn(const ehd_pad_params *pad, const ehd_dims *input_dims,
                               const int8_t *input, const ehd_dims *output_dims, int8_t *output);

/* Our NHWC dims as CMSIS-NN's (the same four fields). */
static inline cmsis_nn_dims ehd_cmsis_dims(const ehd_dims *d)
{
    const cmsis_nn_dims dims = {d->n, d->h, d->w, d->c};
    return dims;
}

/* The caller's scratch holds `bytes`, 4-byte aligned (a NULL buffer is fine when none is needed). */
static inline int ehd_cmsis_scratch_ok(const ehd_context *ctx, int32_t bytes)
{
    if (ctx == 0 || ctx->size < bytes || ((uintptr_t)ctx->buf & 3u) != 0) {
        return 0;
    }
    return bytes == 0 || ctx->buf != 0;
}

static inline cmsis_nn_context ehd_cmsis_context(const ehd_context *ctx)
{
    const cmsis_nn_context c = {ctx->buf, ctx->size};
    return c;
}

/* CMSIS-NN's int16 packing of (x + offset) needs an int8 zero point on either side. */
static inline int ehd_cmsis_offsets_ok(int32_t input_offset, int32_t output_offset)
{
    return input_offset >= -INT8_MAX && input_offset <= -INT8_MIN && output_offset >= INT8_MIN &&
           output_offset <= INT8_MAX;
}

/* CMSIS-NN's convolution and pooling kernels read only inside the input when every window starts
 * inside it (the output size TFLite computes). */
static inline int ehd_cmsis_windows_inside(int32_t out, int32_t stride, int32_t pad, int32_t in)
{
    return (int64_t)(out - 1) * stride - pad < in;
}

/* arm_convolve_1x1_s8_fast sizes its output from the input (n x h x w rows), not from output_dims:
 * its geometry must keep every input pixel, or it writes past a smaller output. */
static inline int ehd_cmsis_1x1_fast_sized(const ehd_conv_params *conv, const ehd_dims *in,
                                           const ehd_dims *out)
{
    const int fast = conv->filter.h == 1 && conv->filter.w == 1 && conv->stride_h == 1 && conv->stride_w == 1 &&
                     conv->pad_h == 0 && conv->pad_w == 0 && conv->dilation_h == 1 && conv->dilation_w == 1;
    return !fast || (out->h == in->h && out->w == in->w);
}

/* A convolution CMSIS-NN takes: int8 zero points, the output size TFLite computes. */
static inline int ehd_cmsis_conv_ok(const ehd_conv_params *conv, const ehd_offsets *offsets,
                                    const ehd_dims *in, const ehd_dims *out)
{
    return ehd_cmsis_offsets_ok(offsets->input_offset, offsets->output_offset) &&
           ehd_cmsis_windows_inside(out->h, conv->stride_h, conv->pad_h, in->h) &&
           ehd_cmsis_windows_inside(out->w, conv->stride_w, conv->pad_w, in->w) &&
           ehd_cmsis_1x1_fast_sized(conv, in, out);
}

/* A kernel status as ours: CMSIS-NN only reports arguments it cannot take. */
static inline ehd_status ehd_cmsis_status(arm_cmsis_nn_status status)
{
    return status == ARM_CMSIS_NN_SUCCESS ? EHD_OK : EHD_ERR_UNSUPPORTED;
}

#endif /* EHD_CMSIS_NN_H */
