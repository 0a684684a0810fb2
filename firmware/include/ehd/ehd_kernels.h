/*
 * int8 kernels, CMSIS-NN style: parameters in small structs, NHWC tensors
 * described by ehd_dims, no allocation, an ehd_status return.
 *
 * Semantics are TFLM's reference int8 kernels: inputs get `input_offset`
 * (= -input zero point) added, weights are symmetric, the int32 bias is added
 * to the accumulator, which is requantized (ehd_support.h), shifted by
 * `output_offset` (= output zero point) and clamped to [act_min, act_max].
 *
 * Each op has one dispatch point, `ehd_<op>_wrapper_s8`, that picks the
 * backend's kernel; every backend gives the same int8 outputs. The backend is
 * chosen at build time by EHD_KERNEL_BACKEND: `portable` (plain C99, the
 * reference), `dsp` (ACLE intrinsics on Cortex-M4/M7, MVE on the M55; the
 * *_dsp variants below, also built for the host with plain-C intrinsics) or
 * `cmsis_nn` (Arm's CMSIS-NN v7.0.0 through the adapters in
 * src/kernels/cmsis_nn, which also define the wrappers of the ops it covers).
 */
#ifndef EHD_KERNELS_H
#define EHD_KERNELS_H

#include "ehd_model.h"
#include "ehd_protocol.h" /* EHD_BACKEND_*: the backends, numbered as the INFO reply's `backend` byte */
#include "ehd_types.h"

#ifndef EHD_KERNEL_BACKEND
#define EHD_KERNEL_BACKEND EHD_BACKEND_PORTABLE
#endif

/*
 * Scratch memory of a kernel, like cmsis_nn_context: the caller reserves the
 * bytes `*_get_buffer_size()` asks for, 4-byte aligned; kernels never allocate.
 *
 * The wrappers of the ops that may take scratch (CONV_2D, DEPTHWISE_CONV_2D,
 * FULLY_CONNECTED, AVERAGE_POOL_2D, ADD) take the layer's context first; the
 * runtime builds it from the bytes the host planned into the arena
 * (host/edgehdc/export/arena.py: scratch_bytes mirrors the wrappers'
 * *_get_buffer_size of the configured backend). A context smaller than the
 * wrapper's get_buffer_size() is EHD_ERR_ARG, never a silent fallback. `ctx`
 * may be NULL, or its buffer NULL, when get_buffer_size() is 0.
 */
typedef struct {
    void *buf;
    int32_t size; /* bytes */
} ehd_context;

/* Zero-point offsets of an op's int8 input and output, TFLM convention. */
typedef struct {
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* output zero point */
} ehd_offsets;

/*
 * CONV_2D, per-channel weights (filter dims {out_ch, kh, kw, in_ch}, OHWI).
 * input {n, h, w, in_ch}; output {n, out_h, out_w, out_ch}.
 */
ehd_status ehd_convolve_wrapper_s8(const ehd_context *ctx, const ehd_conv_params *conv,
                                   const ehd_offsets *offsets, const ehd_dims *input_dims,
                                   const int8_t *input, const ehd_dims *output_dims, int8_t *output);
int32_t ehd_convolve_wrapper_s8_get_buffer_size(const ehd_conv_params *conv, const ehd_dims *input_dims,
                                                const ehd_dims *output_dims);
ehd_status ehd_convolve_s8(const ehd_conv_params *conv, const ehd_offsets *offsets,
                           const ehd_dims *input_dims, const int8_t *input,
                           const ehd_dims *output_dims, int8_t *output);

/*
 * DEPTHWISE_CONV_2D, per-channel weights (filter dims {1, kh, kw, in_ch * m}).
 * Output channel c * m + k reads input channel c.
 */
ehd_status ehd_depthwise_conv_wrapper_s8(const ehd_context *ctx, const ehd_conv_params *conv,
                                         const ehd_offsets *offsets, const ehd_dims *input_dims,
                                         const int8_t *input, const ehd_dims *output_dims, int8_t *output);
int32_t ehd_depthwise_conv_wrapper_s8_get_buffer_size(const ehd_conv_params *conv,
                                                      const ehd_dims *input_dims,
                                                      const ehd_dims *output_dims);
ehd_status ehd_depthwise_conv_s8(const ehd_conv_params *conv, const ehd_offsets *offsets,
                                 const ehd_dims *input_dims, const int8_t *input,
                                 const ehd_dims *output_dims, int8_t *output);

/*
 * FULLY_CONNECTED, weights [out, in] (fc->filter {out, 1, 1, in}), per-tensor or per-channel
 * (fc->per_channel). The output holds batches x out values (out = output_dims->c); the input
 * holds batches x in values in any NHWC shape.
 */
ehd_status ehd_fully_connected_wrapper_s8(const ehd_context *ctx, const ehd_fc_params *fc,
                                          const ehd_offsets *offsets, const ehd_dims *input_dims,
                                          const int8_t *input, const ehd_dims *output_dims, int8_t *output);
int32_t ehd_fully_connected_wrapper_s8_get_buffer_size(const ehd_fc_params *fc);
ehd_status ehd_fully_connected_s8(const ehd_fc_params *fc, const ehd_offsets *offsets,
                                  const ehd_dims *input_dims, const int8_t *input,
                                  const ehd_dims *output_dims, int8_t *output);

/*
 * AVERAGE_POOL_2D: the mean of the window's valid (non-padding) elements,
 * rounded half away from zero. Input and output share scale and zero point.
 * A window with no valid element is EHD_ERR_SHAPE.
 */
ehd_status ehd_avgpool_wrapper_s8(const ehd_context *ctx, const ehd_pool_params *pool,
                                  const ehd_dims *input_dims, const int8_t *input,
                                  const ehd_dims *output_dims, int8_t *output);
int32_t ehd_avgpool_wrapper_s8_get_buffer_size(const ehd_dims *input_dims, const ehd_dims *output_dims);
ehd_status ehd_avgpool_s8(const ehd_pool_params *pool, const ehd_dims *input_dims,
                          const int8_t *input, const ehd_dims *output_dims, int8_t *output);

/* MAX_POOL_2D over the window's valid elements. */
ehd_status ehd_maxpool_wrapper_s8(const ehd_pool_params *pool, const ehd_dims *input_dims,
                                  const int8_t *input, const ehd_dims *output_dims, int8_t *output);
ehd_status ehd_maxpool_s8(const ehd_pool_params *pool, const ehd_dims *input_dims,
                          const int8_t *input, const ehd_dims *output_dims, int8_t *output);

/*
 * The ops below take every quantization parameter in their params struct. Elementwise ops
 * (ADD, RELU/RELU6, int8 QUANTIZE, SOFTMAX) may write their output over an input of the same
 * shape (the very same buffer, in place); otherwise an output overlapping an input is EHD_ERR_ARG.
 */

/*
 * ADD: output = input1 + input2, each input at its own scale, broadcast NumPy-style: each
 * dimension of an input equals the output's or is 1. The output may be the buffer of an input
 * that has the output's full shape (in place).
 */
ehd_status ehd_add_wrapper_s8(const ehd_context *ctx, const ehd_add_params *add, const ehd_dims *input1_dims,
                              const int8_t *input1, const ehd_dims *input2_dims, const int8_t *input2,
                              const ehd_dims *output_dims, int8_t *output);
int32_t ehd_add_wrapper_s8_get_buffer_size(const ehd_dims *input1_dims, const ehd_dims *input2_dims,
                                           const ehd_dims *output_dims);
ehd_status ehd_add_s8(const ehd_add_params *add, const ehd_dims *input1_dims, const int8_t *input1,
                      const ehd_dims *input2_dims, const int8_t *input2, const ehd_dims *output_dims,
                      int8_t *output);

/*
 * RELU / RELU6 and int8 -> int8 QUANTIZE: one kernel, rescale then clamp (ehd_rescale_params);
 * input and output hold the same number of values.
 */
ehd_status ehd_relu_wrapper_s8(const ehd_rescale_params *relu, const ehd_dims *input_dims,
                               const int8_t *input, const ehd_dims *output_dims, int8_t *output);
ehd_status ehd_quantize_wrapper_s8_s8(const ehd_rescale_params *quantize, const ehd_dims *input_dims,
                                      const int8_t *input, const ehd_dims *output_dims, int8_t *output);
ehd_status ehd_rescale_s8(const ehd_rescale_params *p, const ehd_dims *input_dims,
                          const int8_t *input, const ehd_dims *output_dims, int8_t *output);

/* MEAN over height and width: input {n, h, w, c}, output {n, 1, 1, c}. */
ehd_status ehd_mean_wrapper_s8(const ehd_mean_params *mean, const ehd_dims *input_dims,
                               const int8_t *input, const ehd_dims *output_dims, int8_t *output);
ehd_status ehd_mean_s8(const ehd_mean_params *mean, const ehd_dims *input_dims, const int8_t *input,
                       const ehd_dims *output_dims, int8_t *output);

/* PAD: output dims = input dims + before + after in each NHWC dimension. */
ehd_status ehd_pad_wrapper_s8(const ehd_pad_params *pad, const ehd_dims *input_dims,
                              const int8_t *input, const ehd_dims *output_dims, int8_t *output);
ehd_status ehd_pad_s8(const ehd_pad_params *pad, const ehd_dims *input_dims, const int8_t *input,
                      const ehd_dims *output_dims, int8_t *output);

/* SOFTMAX over the last dimension (c); input and output dims are equal. No scratch buffer. */
ehd_status ehd_softmax_wrapper_s8(const ehd_softmax_params *softmax, const ehd_dims *input_dims,
                                  const int8_t *input, const ehd_dims *output_dims, int8_t *output);
ehd_status ehd_softmax_s8(const ehd_softmax_params *softmax, const ehd_dims *input_dims,
                          const int8_t *input, const ehd_dims *output_dims, int8_t *output);

/* QUANTIZE float32 -> int8 (a model's float input); same number of values. */
ehd_status ehd_quantize_wrapper_f32_s8(const ehd_quantize_params *quantize, const ehd_dims *input_dims,
                                       const float *input, const ehd_dims *output_dims, int8_t *output);
ehd_status ehd_quantize_f32_s8(const ehd_quantize_params *quantize, const ehd_dims *input_dims,
                               const float *input, const ehd_dims *output_dims, int8_t *output);

/* DEQUANTIZE int8 -> float32 (a model's float output); same number of values. */
ehd_status ehd_dequantize_wrapper_s8_f32(const ehd_quantize_params *dequantize,
                                         const ehd_dims *input_dims, const int8_t *input,
                                         const ehd_dims *output_dims, float *output);
ehd_status ehd_dequantize_s8_f32(const ehd_quantize_params *dequantize, const ehd_dims *input_dims,
                                 const int8_t *input, const ehd_dims *output_dims, float *output);

/*
 * `dsp` variants: same arguments, statuses and int8 outputs as the portable
 * kernels. Their scratch sizes are the same on every core, so the host can
 * plan them.
 */

/* CONV_2D, any geometry: im2col-lite (four columns) x int8 weights, one channel x four pixels per block. */
int32_t ehd_convolve_s8_dsp_get_buffer_size(const ehd_conv_params *conv, const ehd_dims *input_dims);
ehd_status ehd_convolve_s8_dsp(const ehd_context *ctx, const ehd_conv_params *conv,
                               const ehd_offsets *offsets, const ehd_dims *input_dims,
                               const int8_t *input, const ehd_dims *output_dims, int8_t *output);

/*
 * CONV_2D with a 1x1 filter, no padding, any stride and every window inside the
 * input (else EHD_ERR_UNSUPPORTED): a GEMM straight over the input pixels.
 */
int32_t ehd_convolve_1x1_s8_dsp_get_buffer_size(const ehd_dims *input_dims);
ehd_status ehd_convolve_1x1_s8_dsp(const ehd_context *ctx, const ehd_conv_params *conv,
                                   const ehd_offsets *offsets, const ehd_dims *input_dims,
                                   const int8_t *input, const ehd_dims *output_dims, int8_t *output);

/* DEPTHWISE_CONV_2D with depth multiplier 1 (else EHD_ERR_UNSUPPORTED), any geometry. */
ehd_status ehd_depthwise_conv_s8_dsp(const ehd_conv_params *conv, const ehd_offsets *offsets,
                                     const ehd_dims *input_dims, const int8_t *input,
                                     const ehd_dims *output_dims, int8_t *output);

/*
 * DEPTHWISE_CONV_2D, 3x3 filter, dilation 1, depth multiplier 1 (else EHD_ERR_UNSUPPORTED).
 * The scratch is optional (ctx may be NULL or smaller): with get_buffer_size() bytes (a padded
 * plane of four channels, 4 x ((out_h - 1) x stride_h + 3) x ((out_w - 1) x stride_w + 3)) border
 * pixels cost what inside ones do.
 */
int32_t ehd_depthwise_conv_3x3_s8_dsp_get_buffer_size(const ehd_conv_params *conv, const ehd_dims *output_dims);
ehd_status ehd_depthwise_conv_3x3_s8_dsp(const ehd_context *ctx, const ehd_conv_params *conv,
                                         const ehd_offsets *offsets, const ehd_dims *input_dims,
                                         const int8_t *input, const ehd_dims *output_dims, int8_t *output);

/*
 * FULLY_CONNECTED, per-tensor or per-channel, input offset in [-128, 128] (any int8 zero point;
 * else EHD_ERR_UNSUPPORTED): the input widened once, four rows of weights per pass over it.
 */
int32_t ehd_fully_connected_s8_dsp_get_buffer_size(const ehd_fc_params *fc);
ehd_status ehd_fully_connected_s8_dsp(const ehd_context *ctx, const ehd_fc_params *fc,
                                      const ehd_offsets *offsets, const ehd_dims *input_dims,
                                      const int8_t *input, const ehd_dims *output_dims, int8_t *output);

/*
 * ADD with both inputs of the output's shape (broadcasting is EHD_ERR_UNSUPPORTED), in place
 * allowed as for ehd_add_s8: each input's 256 scaled values are tabulated once in the scratch.
 */
int32_t ehd_add_s8_dsp_get_buffer_size(void);
ehd_status ehd_add_s8_dsp(const ehd_context *ctx, const ehd_add_params *add, const ehd_dims *input1_dims,
                          const int8_t *input1, const ehd_dims *input2_dims, const int8_t *input2,
                          const ehd_dims *output_dims, int8_t *output);

/* AVERAGE_POOL_2D with a filter of at most EHD_AVGPOOL_DSP_MAX_WINDOW elements (else EHD_ERR_UNSUPPORTED). */
#define EHD_AVGPOOL_DSP_MAX_WINDOW 256
ehd_status ehd_avgpool_s8_dsp(const ehd_pool_params *pool, const ehd_dims *input_dims,
                              const int8_t *input, const ehd_dims *output_dims, int8_t *output);

/* MAX_POOL_2D. */
ehd_status ehd_maxpool_s8_dsp(const ehd_pool_params *pool, const ehd_dims *input_dims,
                              const int8_t *input, const ehd_dims *output_dims, int8_t *output);

#endif /* EHD_KERNELS_H */
