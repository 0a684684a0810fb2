/* Runs an ehd_model: walks its layer table over the caller's arena. */
#include "ehd/ehd_kernels.h"
#include "ehd/ehd_model.h"

/* Checks tensor `index`: EHD_ERR_ARG if it does not exist, EHD_ERR_ARENA if it leaves the arena. */
static ehd_status check_tensor(const ehd_model *model, uint16_t index)
{
    if (model->tensors == 0 || index >= model->n_tensors) {
        return EHD_ERR_ARG;
    }
    const ehd_tensor *t = &model->tensors[index];
    const ehd_dims *d = &t->dims;
    if (d->n <= 0 || d->h <= 0 || d->w <= 0 || d->c <= 0) {
        return EHD_ERR_SHAPE;
    }
    /* In 64 bits: a corrupt table must not wrap around the bound. */
    const uint64_t bytes = (uint64_t)d->n * (uint64_t)d->h * (uint64_t)d->w * (uint64_t)d->c;
    if ((uint64_t)t->offset + bytes > model->arena_size) {
        return EHD_ERR_ARENA;
    }
    return EHD_OK;
}

/* The kernels read their input while writing their output: the two must not overlap. */
static int overlap(const ehd_tensor *a, const ehd_tensor *b)
{
    const uint32_t a_end = a->offset + (uint32_t)ehd_dims_count(&a->dims);
    const uint32_t b_end = b->offset + (uint32_t)ehd_dims_count(&b->dims);
    return a->offset < b_end && b->offset < a_end;
}

int8_t *ehd_model_tensor(const ehd_model *model, int8_t *arena, uint16_t index)
{
    if (model == 0 || arena == 0 || check_tensor(model, index) != EHD_OK) {
        return 0;
    }
    return arena + model->tensors[index].offset;
}

static ehd_status run_layer(const ehd_layer *layer, const ehd_tensor *in, const int8_t *input,
                            const ehd_tensor *out, int8_t *output)
{
    const ehd_offsets offsets = {-in->zero_point, out->zero_point};
    switch (layer->op) {
    case EHD_OP_CONV_2D:
        return ehd_convolve_wrapper_s8((const ehd_conv_params *)layer->params, &offsets, &in->dims,
                                       input, &out->dims, output);
    case EHD_OP_DEPTHWISE_CONV_2D:
        return ehd_depthwise_conv_wrapper_s8((const ehd_conv_params *)layer->params, &offsets,
                                             &in->dims, input, &out->dims, output);
    case EHD_OP_FULLY_CONNECTED:
        return ehd_fully_connected_wrapper_s8((const ehd_fc_params *)layer->params, &offsets,
                                              &in->dims, input, &out->dims, output);
    case EHD_OP_AVERAGE_POOL_2D:
        return ehd_avgpool_wrapper_s8((const ehd_pool_params *)layer->params, &in->dims, input,
                                      &out->dims, output);
    case EHD_OP_MAX_POOL_2D:
        return ehd_maxpool_wrapper_s8((const ehd_pool_params *)layer->params, &in->dims, input,
                                      &out->dims, output);
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
        ehd_status status = check_tensor(model, layer->inputs[0]);
        if (status == EHD_OK) {
            status = check_tensor(model, layer->output);
        }
        if (status != EHD_OK) {
            return status;
        }
        const ehd_tensor *in = &model->tensors[layer->inputs[0]];
        const ehd_tensor *out = &model->tensors[layer->output];
        if (overlap(in, out)) {
            return EHD_ERR_ARENA;
        }
        if (layer->params == 0) {
            return EHD_ERR_ARG;
        }
        status = run_layer(layer, in, arena + in->offset, out, arena + out->offset);
        if (status != EHD_OK) {
            return status;
        }
        if (timer != 0 && i < timer->capacity) {
            timer->stamps[i] = timer->ticks();
        }
    }
    return EHD_OK;
}
