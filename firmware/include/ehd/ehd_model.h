/*
 * The int8 model as the firmware runs it: a table of layers over a static
 * arena. The host generates one `ehd_model` (plus the constant weights and
 * per-layer parameter structs it points to) per model; see docs/model-format.md.
 *
 * Integer parameters are precomputed on the host exactly as TFLM's Prepare
 * computes them (multiplier/shift from float32 scales, activation clamps,
 * padding), so the firmware does no floating point except in QUANTIZE and
 * DEQUANTIZE at a model's float32 edges.
 */
#ifndef EHD_MODEL_H
#define EHD_MODEL_H

#include "ehd_layer_timer.h"
#include "ehd_types.h"

typedef enum {
    EHD_OP_CONV_2D = 0,
    EHD_OP_DEPTHWISE_CONV_2D = 1,
    EHD_OP_FULLY_CONNECTED = 2,
    EHD_OP_AVERAGE_POOL_2D = 3,
    EHD_OP_MAX_POOL_2D = 4,
    EHD_OP_ADD = 5,
    EHD_OP_MEAN = 6,
    EHD_OP_PAD = 7,
    EHD_OP_SOFTMAX = 8,
    EHD_OP_RELU = 9,
    EHD_OP_RELU6 = 10,
    EHD_OP_QUANTIZE = 11,   /* float32 -> int8 (ehd_quantize_params) or int8 -> int8 (ehd_rescale_params) */
    EHD_OP_DEQUANTIZE = 12, /* int8 -> float32 */
    /* RESHAPE is no layer: its output tensor aliases its input's bytes in the arena. */
} ehd_op;

typedef enum {
    EHD_DTYPE_INT8 = 0,
    EHD_DTYPE_FLOAT32 = 1, /* only at a model's edges: QUANTIZE's input, DEQUANTIZE's output */
} ehd_dtype;

/* A tensor: an activation in the arena, or a constant operand (e.g. of ADD) in flash. */
typedef struct {
    uint32_t offset; /* byte offset into the arena (activations) */
    ehd_dims dims;   /* NHWC; vectors are {1, 1, 1, len} */
    int32_t zero_point;
    uint8_t dtype;     /* ehd_dtype */
    const void *data;  /* a constant's values, NULL for an activation */
} ehd_tensor;

#define EHD_NO_TENSOR 0xFFFFu

/* CONV_2D and DEPTHWISE_CONV_2D. */
typedef struct {
    const int8_t *weights;     /* conv: OHWI; depthwise: 1HW(C*M) */
    const int32_t *bias;       /* [out_ch], may be NULL */
    const int32_t *multiplier; /* [out_ch], Q31 */
    const int32_t *shift;      /* [out_ch], left shift if > 0 */
    ehd_dims filter;           /* conv: {out_ch, kh, kw, in_ch}; depthwise: {1, kh, kw, out_ch} */
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;      /* top/left padding; bottom/right is implied */
    int32_t dilation_h, dilation_w;
    int32_t depth_multiplier;  /* depthwise only */
    int32_t act_min, act_max;  /* fused activation clamp, int8 domain */
} ehd_conv_params;

/*
 * FULLY_CONNECTED, per-tensor or per-channel weight quantization (like cmsis_nn_quant_params'
 * is_per_channel): output o uses multiplier[per_channel ? o : 0] and shift[per_channel ? o : 0].
 */
typedef struct {
    const int8_t *weights;     /* [out, in] */
    const int32_t *bias;       /* [out], may be NULL */
    const int32_t *multiplier; /* Q31; [out] if per_channel, else [1] */
    const int32_t *shift;      /* left shift if > 0; [out] if per_channel, else [1] */
    int32_t per_channel;       /* 0: per-tensor */
    ehd_dims filter;           /* {out, 1, 1, in} */
    int32_t act_min, act_max;
} ehd_fc_params;

/* AVERAGE_POOL_2D and MAX_POOL_2D (input and output share scale and zero point). */
typedef struct {
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t act_min, act_max;
} ehd_pool_params;

/*
 * ADD (TFLM add.cc): each input is offset, shifted left by `left_shift` (20 for int8) and scaled
 * to a common scale by its own multiplier (shift <= 0), the sum is scaled to the output.
 */
typedef struct {
    int32_t input1_offset, input2_offset; /* -input zero points */
    int32_t output_offset;                /* output zero point */
    int32_t left_shift;
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
} ehd_add_params;

/*
 * RELU, RELU6 and int8 -> int8 QUANTIZE: rescale then clamp (TFLite semantics),
 * y = clamp(output_zero_point + requantize(x - input_zero_point, multiplier, shift), act_min, act_max).
 * A clamp-only op has equal zero points and the identity multiplier (1 << 30, shift 1).
 */
typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier; /* Q31 */
    int32_t shift;      /* left shift if > 0 */
    int32_t act_min, act_max;
} ehd_rescale_params;

/* MEAN over height and width; the multiplier folds input/output scale and 1 / (H * W). */
typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier; /* Q31 */
    int32_t shift;      /* left shift if > 0 */
} ehd_mean_params;

/* PAD: cells added before/after each NHWC dimension get pad_value (the output zero point). */
typedef struct {
    int32_t before[4]; /* n, h, w, c */
    int32_t after[4];
    int32_t pad_value;
} ehd_pad_params;

/* SOFTMAX int8 -> int8 over the last dimension (TFLM softmax_common.cc); output scale 1/256, zp -128. */
typedef struct {
    int32_t input_multiplier; /* Q31, for input differences in Q5.26 */
    int32_t input_left_shift;
    int32_t diff_min; /* <= 0: smaller differences give exp = 0 */
} ehd_softmax_params;

/* The float32 side of QUANTIZE (float32 -> int8) and DEQUANTIZE (int8 -> float32). */
typedef struct {
    float scale; /* of the int8 tensor */
    int32_t zero_point;
} ehd_quantize_params;

#define EHD_MAX_LAYER_INPUTS 2
#define EHD_MAX_LAYER_OUTPUTS 1 /* every op of the set has one output */

typedef struct {
    ehd_op op;
    uint16_t inputs[EHD_MAX_LAYER_INPUTS];   /* tensor indices; unused = EHD_NO_TENSOR */
    uint16_t outputs[EHD_MAX_LAYER_OUTPUTS]; /* tensor indices */
    const void *params;     /* the op's ehd_*_params */
    uint32_t scratch_offset; /* the layer's scratch buffer in the arena (ehd_context) */
    uint32_t scratch_bytes;  /* 0: none */
} ehd_layer;

#define EHD_MODEL_ID_BYTES 8

typedef struct {
    const ehd_layer *layers;
    uint16_t n_layers;
    const ehd_tensor *tensors;
    uint16_t n_tensors;
    uint16_t input;   /* tensor index of the model input */
    uint16_t feature; /* tensor index of the embedding fed to the HDC encoder; EHD_NO_TENSOR: no HDC head */
    uint32_t arena_size;
    uint8_t model_id[EHD_MODEL_ID_BYTES]; /* first bytes of the manifest's sha256 */
    const uint16_t *outputs; /* tensor indices of the model outputs, in the .tflite's order */
    uint16_t n_outputs;
} ehd_model;

/* Bytes of one element of `dtype` (0 for an unknown dtype). */
uint32_t ehd_dtype_bytes(uint8_t dtype);

/* Bytes of tensor `index` (0 if it does not exist). */
uint32_t ehd_model_tensor_bytes(const ehd_model *model, uint16_t index);

/* Pointer to activation tensor `index` inside `arena` (NULL for a constant or a bad index). */
int8_t *ehd_model_tensor(const ehd_model *model, int8_t *arena, uint16_t index);

/* Runs every layer in order. The caller has written the input tensor. */
ehd_status ehd_model_invoke(const ehd_model *model, int8_t *arena);

/* ehd_model_invoke that also reads timer->ticks() into timer->stamps[i] after layer i (NULL: none). */
ehd_status ehd_model_invoke_timed(const ehd_model *model, int8_t *arena, const ehd_layer_timer *timer);

#endif /* EHD_MODEL_H */
