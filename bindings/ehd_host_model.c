/* Host accessor of the generated model: its two globals and a static arena, no allocation. */
#include "ehd_host_model.h"

#include <string.h>

#include "ehd_generated.h"

/* int32 storage: float32 tensors in the arena stay aligned, as on the device. */
static int32_t arena_words[(EHD_GENERATED_ARENA_SIZE + 3u) / 4u];
#define arena ((int8_t *)arena_words)

const ehd_model *ehd_host_model(void) { return &ehd_generated_model; }

const ehd_hdc_model *ehd_host_hdc(void) { return &ehd_generated_hdc; }

uint32_t ehd_host_arena_size(void) { return (uint32_t)sizeof(arena_words); }

ehd_status ehd_host_run(const void *input, uint32_t input_bytes)
{
    const ehd_model *model = &ehd_generated_model;
    if (input == 0) {
        return EHD_ERR_ARG;
    }
    if (model->arena_size > sizeof(arena_words)) {
        return EHD_ERR_ARENA;
    }
    int8_t *in = ehd_model_tensor(model, arena, model->input);
    if (in == 0) {
        return EHD_ERR_ARENA;
    }
    if (input_bytes != ehd_model_tensor_bytes(model, model->input)) {
        return EHD_ERR_SHAPE;
    }
    memcpy(in, input, input_bytes);
    return ehd_model_invoke(model, arena);
}

const void *ehd_host_output(uint16_t k)
{
    const ehd_model *model = &ehd_generated_model;
    if (k >= model->n_outputs) {
        return 0;
    }
    return ehd_model_tensor(model, arena, model->outputs[k]);
}

ehd_status ehd_host_infer(const int8_t *input, uint32_t input_bytes, int8_t *features,
                          uint32_t *hv, uint16_t *distances, ehd_hdc_result *result)
{
    const ehd_model *model = &ehd_generated_model;
    const ehd_hdc_model *hdc = &ehd_generated_hdc;
    if (input == 0 || features == 0 || hv == 0 || distances == 0 || result == 0) {
        return EHD_ERR_ARG;
    }
    if (model->feature == EHD_NO_TENSOR) {
        return EHD_ERR_UNSUPPORTED; /* a plain model: no HDC head */
    }
    const int8_t *feat = ehd_model_tensor(model, arena, model->feature);
    if (feat == 0) {
        return EHD_ERR_ARENA;
    }
    if (ehd_dims_count(&model->tensors[model->feature].dims) != hdc->n_features) {
        return EHD_ERR_SHAPE;
    }
    ehd_status status = ehd_host_run(input, input_bytes);
    if (status != EHD_OK) {
        return status;
    }
    memcpy(features, feat, hdc->n_features);
    status = ehd_hdc_encode(hdc, feat, hv);
    if (status != EHD_OK) {
        return status;
    }
    return ehd_hdc_classify(hdc, hv, distances, result);
}
