/* Runs an ehd_model: walks its layer table over the caller's arena. */
#include "ehd/ehd_kernels.h"
#include "ehd/ehd_model.h"

/*
 * A firmware built for one model (the build defines EHD_MODEL_OPS_FROM_GENERATED) dispatches only the
 * ops its layer table uses (EHD_GENERATED_OPS, a bit per ehd_op), so the linker keeps only their
 * kernels; the host bindings run any table. A layer of another op is EHD_ERR_UNSUPPORTED.
 */
#ifdef EHD_MODEL_OPS_FROM_GENERATED
#include "ehd_generated.h"
#endif
#ifndef EHD_GENERATED_OPS
#define EHD_GENERATED_OPS 0xFFFFFFFFu
#endif
#define EHD_RUNS(op) ((((EHD_GENERATED_OPS) >> (op)) & 1u) != 0u)
/* A constant condition: the compiler drops the call (and the linker its kernel) of an op not run. */
#define EHD_IF_RUNS(runs, call) ((runs) ? (call) : EHD_ERR_UNSUPPORTED)

/* A layer's operands resolved to memory: what run_layer hands the kernels. */
typedef struct {
    const ehd_tensor *in[EHD_MAX_LAYER_INPUTS];
    const void *in_data[EHD_MAX_LAYER_INPUTS];
    const ehd_tensor *out;
    void *out_data;
} ehd_layer_io;

uint32_t ehd_dtype_bytes(uint8_t dtype)
{
    switch (dtype) {
    case EHD_DTYPE_INT8:
        return 1u;
    case EHD_DTYPE_FLOAT32:
        return 4u;
    default:
        return 0u;
    }
}

static uint64_t tensor_bytes(const ehd_tensor *t)
{
    const ehd_dims *d = &t->dims;
    /* In 64 bits: a corrupt table must not wrap around the arena bound. */
    return (uint64_t)d->n * (uint64_t)d->h * (uint64_t)d->w * (uint64_t)d->c * ehd_dtype_bytes(t->dtype);
}

/* Checks tensor `index`: EHD_ERR_ARG if it does not exist, EHD_ERR_ARENA if it leaves the arena or
 * is not aligned to its element (the arena itself is word-aligned). */
static ehd_status check_tensor(const ehd_model *model, uint16_t index)
{
    if (model->tensors == 0 || index >= model->n_tensors) {
        return EHD_ERR_ARG;
    }
    const ehd_tensor *t = &model->tensors[index];
    const ehd_dims *d = &t->dims;
    if (d->n <= 0 || d->h <= 0 || d->w <= 0 || d->c <= 0 || ehd_dtype_bytes(t->dtype) == 0) {
        return EHD_ERR_SHAPE;
    }
    if (t->data == 0 && ((uint64_t)t->offset + tensor_bytes(t) > model->arena_size ||
                         t->offset % ehd_dtype_bytes(t->dtype) != 0)) {
        return EHD_ERR_ARENA; /* also a float32 off its word: VLDR faults on a Cortex-M */
    }
    return EHD_OK;
}

uint32_t ehd_model_tensor_bytes(const ehd_model *model, uint16_t index)
{
    if (model == 0 || check_tensor(model, index) != EHD_OK) {
        return 0;
    }
    return (uint32_t)tensor_bytes(&model->tensors[index]);
}

int8_t *ehd_model_tensor(const ehd_model *model, int8_t *arena, uint16_t index)
{
    if (model == 0 || arena == 0 || check_tensor(model, index) != EHD_OK ||
        model->tensors[index].data != 0) {
        return 0;
    }
    return arena + model->tensors[index].offset;
}

/* Elementwise kernels may write their output over an input (the very same bytes). */
static int may_run_in_place(ehd_op op)
{
    return op == EHD_OP_ADD || op == EHD_OP_RELU || op == EHD_OP_RELU6 || op == EHD_OP_QUANTIZE ||
           op == EHD_OP_SOFTMAX;
}

/* An input and the output must not overlap, unless the op runs in place on the same bytes. */
static ehd_status check_overlap(ehd_op op, const ehd_tensor *in, const ehd_tensor *out)
{
    if (in->data != 0) {
        return EHD_OK;
    }
    const uint64_t in_end = in->offset + tensor_bytes(in);
    const uint64_t out_end = out->offset + tensor_bytes(out);
    if (in->offset >= out_end || out->offset >= in_end) {
        return EHD_OK;
    }
    return may_run_in_place(op) && in->offset == out->offset ? EHD_OK : EHD_ERR_ARENA;
}

/* Resolves the layer's operands (inputs: until the first unused slot, at least one). */
static ehd_status bind_layer(const ehd_model *model, const ehd_layer *layer, int8_t *arena,
                             ehd_layer_io *io)
{
    ehd_status status = check_tensor(model, layer->outputs[0]);
    if (status != EHD_OK) {
        return status;
    }
    io->out = &model->tensors[layer->outputs[0]];
    if (io->out->data != 0) {
        return EHD_ERR_ARG; /* a layer cannot write a constant */
    }
    io->out_data = arena + io->out->offset;
    for (int k = 0; k < EHD_MAX_LAYER_INPUTS; k++) {
        io->in[k] = 0;
        io->in_data[k] = 0;
        if (k > 0 && layer->inputs[k] == EHD_NO_TENSOR) {
            continue;
        }
        status = check_tensor(model, layer->inputs[k]);
        if (status != EHD_OK) {
            return status;
        }
        const ehd_tensor *t = &model->tensors[layer->inputs[k]];
        status = check_overlap(layer->op, t, io->out);
        if (status != EHD_OK) {
            return status;
        }
        io->in[k] = t;
        io->in_data[k] = t->data != 0 ? t->data : arena + t->offset;
    }
    if (layer->params == 0 || (layer->scratch_bytes > 0 &&
                               (uint64_t)layer->scratch_offset + layer->scratch_bytes > model->arena_size)) {
        return EHD_ERR_ARG;
    }
    return EHD_OK;
}

/* The dtypes an op reads and writes: int8 everywhere but QUANTIZE's float input and DEQUANTIZE's output. */
static int dtypes_ok(const ehd_layer *layer, const ehd_layer_io *io)
{
    const int float_in = io->in[0]->dtype == EHD_DTYPE_FLOAT32;
    const int float_out = io->out->dtype == EHD_DTYPE_FLOAT32;
    if (io->in[1] != 0 && io->in[1]->dtype != EHD_DTYPE_INT8) {
        return 0;
    }
    if (layer->op == EHD_OP_DEQUANTIZE) {
        return !float_in && float_out;
    }
    return !float_out && (!float_in || layer->op == EHD_OP_QUANTIZE);
}

static ehd_status run_conv_family(const ehd_layer *layer, const ehd_layer_io *io, const ehd_context *ctx)
{
    const ehd_tensor *in = io->in[0];
    const ehd_tensor *out = io->out;
    const ehd_offsets offsets = {-in->zero_point, out->zero_point};
    const int8_t *x = (const int8_t *)io->in_data[0];
    int8_t *y = (int8_t *)io->out_data;
    const ehd_conv_params *conv = (const ehd_conv_params *)layer->params;
    switch (layer->op) {
    case EHD_OP_CONV_2D:
        return EHD_IF_RUNS(EHD_RUNS(EHD_OP_CONV_2D),
                           ehd_convolve_wrapper_s8(ctx, conv, &offsets, &in->dims, x, &out->dims, y));
    case EHD_OP_DEPTHWISE_CONV_2D:
        return EHD_IF_RUNS(EHD_RUNS(EHD_OP_DEPTHWISE_CONV_2D),
                           ehd_depthwise_conv_wrapper_s8(ctx, conv, &offsets, &in->dims, x, &out->dims, y));
    default: /* EHD_OP_FULLY_CONNECTED */
        return EHD_IF_RUNS(EHD_RUNS(EHD_OP_FULLY_CONNECTED),
                           ehd_fully_connected_wrapper_s8(ctx, (const ehd_fc_params *)layer->params, &offsets,
                                                          &in->dims, x, &out->dims, y));
    }
}

/*
 * One layer. `ctx` is the layer's scratch: the arena bytes the host planned for it (none when the
 * backend's kernel asks for none); a kernel finding it short returns a status, it never falls back.
 */
static ehd_status run_layer(const ehd_layer *layer, const ehd_layer_io *io, const ehd_context *ctx)
{
    const ehd_dims *in_dims = &io->in[0]->dims;
    const ehd_dims *out_dims = &io->out->dims;
    const int8_t *x = (const int8_t *)io->in_data[0];
    int8_t *y = (int8_t *)io->out_data;
    const void *p = layer->params;
    switch (layer->op) {
    case EHD_OP_CONV_2D:
    case EHD_OP_DEPTHWISE_CONV_2D:
    case EHD_OP_FULLY_CONNECTED:
        return run_conv_family(layer, io, ctx);
    case EHD_OP_AVERAGE_POOL_2D:
        return EHD_IF_RUNS(EHD_RUNS(EHD_OP_AVERAGE_POOL_2D),
                           ehd_avgpool_wrapper_s8(ctx, (const ehd_pool_params *)p, in_dims, x, out_dims, y));
    case EHD_OP_MAX_POOL_2D:
        return EHD_IF_RUNS(EHD_RUNS(EHD_OP_MAX_POOL_2D),
                           ehd_maxpool_wrapper_s8((const ehd_pool_params *)p, in_dims, x, out_dims, y));
    case EHD_OP_ADD:
        if (io->in[1] == 0) {
            return EHD_ERR_ARG;
        }
        return EHD_IF_RUNS(EHD_RUNS(EHD_OP_ADD),
                           ehd_add_wrapper_s8(ctx, (const ehd_add_params *)p, in_dims, x, &io->in[1]->dims,
                                              (const int8_t *)io->in_data[1], out_dims, y));
    case EHD_OP_MEAN:
        return EHD_IF_RUNS(EHD_RUNS(EHD_OP_MEAN),
                           ehd_mean_wrapper_s8((const ehd_mean_params *)p, in_dims, x, out_dims, y));
    case EHD_OP_PAD:
        return EHD_IF_RUNS(EHD_RUNS(EHD_OP_PAD), ehd_pad_wrapper_s8((const ehd_pad_params *)p, in_dims, x, out_dims, y));
    case EHD_OP_SOFTMAX:
        return EHD_IF_RUNS(EHD_RUNS(EHD_OP_SOFTMAX),
                           ehd_softmax_wrapper_s8((const ehd_softmax_params *)p, in_dims, x, out_dims, y));
    case EHD_OP_RELU:
    case EHD_OP_RELU6:
        return EHD_IF_RUNS(EHD_RUNS(EHD_OP_RELU) || EHD_RUNS(EHD_OP_RELU6),
                           ehd_relu_wrapper_s8((const ehd_rescale_params *)p, in_dims, x, out_dims, y));
    case EHD_OP_QUANTIZE:
        if (io->in[0]->dtype == EHD_DTYPE_FLOAT32) {
            return EHD_IF_RUNS(EHD_RUNS(EHD_OP_QUANTIZE),
                               ehd_quantize_wrapper_f32_s8((const ehd_quantize_params *)p, in_dims,
                                                           (const float *)io->in_data[0], out_dims, y));
        }
        return EHD_IF_RUNS(EHD_RUNS(EHD_OP_QUANTIZE),
                           ehd_quantize_wrapper_s8_s8((const ehd_rescale_params *)p, in_dims, x, out_dims, y));
    case EHD_OP_DEQUANTIZE:
        return EHD_IF_RUNS(EHD_RUNS(EHD_OP_DEQUANTIZE),
                           ehd_dequantize_wrapper_s8_f32((const ehd_quantize_params *)p, in_dims, x, out_dims,
                                                         (float *)io->out_data));
    default:
        return EHD_ERR_UNSUPPORTED;
    }
}

ehd_status ehd_model_invoke(const ehd_model *model, int8_t *arena)
{
    return ehd_model_invoke_timed(model, arena, 0);
}

ehd_status ehd_model_invoke_timed(const ehd_model *model, int8_t *arena, const ehd_layer_timer *timer)
{
    uint16_t i;
    if (model == 0 || arena == 0 || (model->n_layers > 0 && model->layers == 0)) {
        return EHD_ERR_ARG;
    }
    for (i = 0; i < model->n_layers; i++) {
        const ehd_layer *layer = &model->layers[i];
        ehd_layer_io io;
        ehd_status status = bind_layer(model, layer, arena, &io);
        if (status != EHD_OK) {
            return status;
        }
        if (!dtypes_ok(layer, &io)) {
            return EHD_ERR_UNSUPPORTED;
        }
        const ehd_context ctx = {layer->scratch_bytes > 0 ? arena + layer->scratch_offset : 0,
                                 (int32_t)layer->scratch_bytes};
        status = run_layer(layer, &io, &ctx);
        if (status != EHD_OK) {
            return status;
        }
        if (timer != 0 && i < timer->capacity) {
            timer->stamps[i] = timer->ticks();
        }
    }
    return EHD_OK;
}
