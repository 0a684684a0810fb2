/* PROFILE (0x30): one inference, the counter read after every layer (docs/protocol.md). */
#include "ehd/ehd_profile.h"

#include <string.h>

#include "ehd_wire.h"

#define PROFILE_FIXED_BYTES 10u /* ticks_model, ticks_hdc, n_layers */
#define PROFILE_LAYER_BYTES 5u  /* op, ticks */

int ehd_profile_handle(ehd_service *svc, const ehd_proto_packet *packet)
{
    if (packet->type != EHD_PROTO_PROFILE) {
        return 0;
    }
    const ehd_model *model = svc->model;
    if (svc->config != EHD_OK || model->n_layers > EHD_PROFILE_MAX_LAYERS) {
        ehd_service_error(svc, packet->seq, EHD_PROTO_ERR_RUNTIME,
                          svc->config != EHD_OK ? svc->config : EHD_ERR_ARG);
        return 1;
    }
    if (packet->body_len != svc->input_bytes && packet->body_len != 0) {
        ehd_service_error(svc, packet->seq, EHD_PROTO_ERR_BAD_LENGTH, (int32_t)packet->body_len);
        return 1;
    }
    if (packet->body_len != 0) { /* empty: the input as it stands in the arena (the last one written) */
        memcpy(ehd_model_tensor(model, svc->arena, model->input), packet->body, svc->input_bytes);
    }
    ehd_inference run;
    const ehd_status status = ehd_service_run(svc, &run);
    if (status != EHD_OK) {
        ehd_service_error(svc, packet->seq, EHD_PROTO_ERR_RUNTIME, status);
        return 1;
    }
    uint8_t *p = ehd_put_u32(ehd_service_body(svc), run.ticks_model);
    p = ehd_put_u32(p, run.ticks_hdc);
    p = ehd_put_u16(p, model->n_layers);
    uint32_t previous = run.start;
    for (uint16_t i = 0; i < model->n_layers; i++) {
        *p++ = (uint8_t)model->layers[i].op;
        p = ehd_put_u32(p, svc->layer_stamps[i] - previous);
        previous = svc->layer_stamps[i];
    }
    ehd_service_reply(svc, EHD_PROTO_PROFILE | EHD_PROTO_REPLY, packet->seq,
                      PROFILE_FIXED_BYTES + PROFILE_LAYER_BYTES * (size_t)model->n_layers);
    return 1;
}
