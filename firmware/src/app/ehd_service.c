/* Request handler of the serial protocol: INFO, INFER and typed ERROR replies. */
#include "ehd/ehd_service.h"

#include <string.h>

#include "ehd/ehd_learn.h"
#include "ehd/ehd_profile.h"
#include "ehd/ehd_runtime_msgs.h"

#define INFO_FIXED_BYTES 37u  /* INFO reply body without the board name */
#define INFER_FIXED_BYTES 12u /* INFER reply body before the distances */
#define INFO_INTEGRITY_BYTES 11u /* INFO reply tail after the board name */

static uint8_t *put_u16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    return p + 2;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
    p = put_u16(p, v & 0xFFFFu);
    return put_u16(p, v >> 16);
}

static uint8_t *body(ehd_service *svc)
{
    return svc->tx + EHD_PROTO_HEADER_BYTES;
}

static void reply(ehd_service *svc, uint8_t type, uint8_t seq, size_t body_len)
{
    const size_t len = ehd_proto_build(svc->tx, sizeof(svc->tx), type, seq, body_len);
    if (len > 0) {
        ehd_proto_send(svc->tx, len, svc->write, svc->write_ctx);
    }
}

static void reply_error(ehd_service *svc, uint8_t seq, uint8_t code, int32_t detail)
{
    uint8_t *p = body(svc);
    p[0] = code;
    put_u32(p + 1, (uint32_t)detail);
    reply(svc, EHD_PROTO_ERROR, seq, EHD_PROTO_ERROR_BODY_BYTES);
}

static int has_hdc(const ehd_model *model)
{
    return model->feature != EHD_NO_TENSOR;
}

/* HDC model: label, ticks, distances, features, hv. Plain model: ticks_model, then every output
 * (summed in 64 bits: 65535 outputs of up to 4 GiB each must not wrap below the frame size). */
static uint64_t infer_reply_bytes(const ehd_model *model, const ehd_hdc_model *hdc)
{
    if (has_hdc(model)) {
        return INFER_FIXED_BYTES + 2u * hdc->n_classes + hdc->n_features + hdc->dim / 8u;
    }
    uint64_t bytes = 4u;
    for (uint16_t k = 0; k < model->n_outputs; k++) {
        bytes += ehd_model_tensor_bytes(model, model->outputs[k]);
    }
    return bytes;
}

/* A tensor of the model lies inside the arena. */
static int tensor_fits(const ehd_model *model, uint16_t index, uint32_t arena_size)
{
    if (index >= model->n_tensors) {
        return 0;
    }
    const ehd_tensor *t = &model->tensors[index];
    const uint32_t bytes = ehd_model_tensor_bytes(model, index);
    return bytes > 0 && t->data == 0 && t->offset <= arena_size && bytes <= arena_size - t->offset;
}

static ehd_status check_config(const ehd_service *svc, uint32_t arena_size)
{
    const ehd_model *model = svc->model;
    const ehd_hdc_model *hdc = svc->hdc;
    if (model->tensors == 0 || arena_size < model->arena_size ||
        !tensor_fits(model, model->input, arena_size) || model->n_outputs == 0 ||
        model->outputs == 0 || (has_hdc(model) && !tensor_fits(model, model->feature, arena_size))) {
        return EHD_ERR_ARENA;
    }
    for (uint16_t k = 0; k < model->n_outputs; k++) {
        if (!tensor_fits(model, model->outputs[k], arena_size)) {
            return EHD_ERR_ARENA;
        }
    }
    if (has_hdc(model) &&
        (model->tensors[model->feature].dtype != EHD_DTYPE_INT8 ||
         ehd_dims_count(&model->tensors[model->feature].dims) != (int32_t)hdc->n_features ||
         hdc->dim == 0 || hdc->dim % 32u != 0 || hdc->n_classes == 0 ||
         hdc->n_classes > EHD_SERVICE_MAX_CLASSES)) {
        return EHD_ERR_SHAPE;
    }
    /* An input larger than a frame arrives in INPUT_WRITE chunks; the INFER reply must fit one. */
    if (infer_reply_bytes(model, hdc) > EHD_PROTO_MAX_BODY) {
        return EHD_ERR_ARG;
    }
    return EHD_OK;
}

ehd_status ehd_service_init(ehd_service *svc, const ehd_model *model, const ehd_hdc_model *hdc,
                            int8_t *arena, uint32_t arena_size, const ehd_service_board *board,
                            ehd_write_fn write, void *write_ctx)
{
    if (svc == 0 || model == 0 || hdc == 0 || arena == 0 || board == 0 || board->ticks == 0 ||
        write == 0) {
        return EHD_ERR_ARG;
    }
    svc->model = model;
    svc->hdc = hdc;
    svc->arena = arena;
    svc->board = *board;
    svc->write = write;
    svc->write_ctx = write_ctx;
    svc->input_bytes = ehd_model_tensor_bytes(model, model->input);
    ehd_proto_rx_init(&svc->rx);
    memset(&svc->integrity, 0, sizeof(svc->integrity));
    svc->config = check_config(svc, arena_size);
    return svc->config;
}

static void handle_info(ehd_service *svc, const ehd_proto_packet *packet)
{
    if (packet->body_len != 0) {
        reply_error(svc, packet->seq, EHD_PROTO_ERR_BAD_LENGTH, (int32_t)packet->body_len);
        return;
    }
    const ehd_model *model = svc->model;
    const ehd_hdc_model *hdc = svc->hdc;
    ehd_dims in = {0, 0, 0, 0};
    if (model->tensors != 0 && model->input < model->n_tensors) {
        in = model->tensors[model->input].dims;
    }
    const char *name = svc->board.name ? svc->board.name : "";
    size_t name_len = 0;
    while (name_len < 255u && name[name_len] != '\0') {
        name_len++;
    }

    uint8_t *p = body(svc);
    *p++ = EHD_PROTO_VERSION;
    *p++ = svc->board.backend;
    memcpy(p, model->model_id, EHD_MODEL_ID_BYTES);
    p += EHD_MODEL_ID_BYTES;
    p = put_u16(p, (uint32_t)in.n);
    p = put_u16(p, (uint32_t)in.h);
    p = put_u16(p, (uint32_t)in.w);
    p = put_u16(p, (uint32_t)in.c);
    p = put_u32(p, svc->input_bytes);
    p = put_u16(p, hdc->n_features);
    p = put_u16(p, hdc->dim);
    p = put_u16(p, hdc->n_classes);
    p = put_u32(p, model->arena_size);
    p = put_u32(p, svc->board.ticks_hz);
    *p++ = (uint8_t)name_len;
    memcpy(p, name, name_len);
    p += name_len;
    p = put_u16(p, svc->integrity.format_version);
    *p++ = svc->integrity.flags;
    p = put_u32(p, svc->integrity.model_crc);
    put_u32(p, svc->integrity.hdc_crc);
    reply(svc, EHD_PROTO_INFO | EHD_PROTO_REPLY, packet->seq,
          INFO_FIXED_BYTES + name_len + INFO_INTEGRITY_BYTES);
}

void ehd_service_check_integrity(ehd_service *svc, const ehd_integrity *tables)
{
    svc->integrity = ehd_integrity_check(tables);
}

ehd_status ehd_service_run(ehd_service *svc, ehd_inference *out)
{
    const ehd_model *model = svc->model;
    const ehd_layer_timer timer = {svc->board.ticks, svc->layer_stamps, EHD_PROFILE_MAX_LAYERS};
    const uint32_t t0 = svc->board.ticks();
    ehd_status status = ehd_model_invoke_timed(model, svc->arena, &timer);
    const uint32_t t1 = svc->board.ticks();
    out->result.label = 0;
    out->result.confidence = 0;
    if (status == EHD_OK && has_hdc(model)) { /* a plain int8 model has no HDC stage */
        const int8_t *features = ehd_model_tensor(model, svc->arena, model->feature);
        status = ehd_hdc_encode(svc->hdc, features, svc->hv);
        if (status == EHD_OK) {
            status = ehd_hdc_classify(svc->hdc, svc->hv, svc->distances, &out->result);
        }
    }
    const uint32_t t2 = svc->board.ticks();
    out->start = t0;
    out->ticks_model = t1 - t0;
    out->ticks_hdc = t2 - t1;
    return status;
}

static void handle_infer(ehd_service *svc, const ehd_proto_packet *packet)
{
    if (svc->config != EHD_OK) {
        reply_error(svc, packet->seq, EHD_PROTO_ERR_RUNTIME, svc->config);
        return;
    }
    if (packet->body_len != svc->input_bytes) {
        reply_error(svc, packet->seq, EHD_PROTO_ERR_BAD_LENGTH, (int32_t)packet->body_len);
        return;
    }
    memcpy(ehd_model_tensor(svc->model, svc->arena, svc->model->input), packet->body, svc->input_bytes);
    ehd_service_infer(svc, packet);
}

/* A plain model's INFER reply: ticks_model, then the bytes of every output tensor in order. */
static void reply_outputs(ehd_service *svc, uint8_t seq, uint8_t type, uint32_t ticks)
{
    const ehd_model *model = svc->model;
    uint8_t *p = put_u32(body(svc), ticks);
    for (uint16_t k = 0; k < model->n_outputs; k++) {
        const uint32_t bytes = ehd_model_tensor_bytes(model, model->outputs[k]);
        memcpy(p, ehd_model_tensor(model, svc->arena, model->outputs[k]), bytes);
        p += bytes;
    }
    reply(svc, type, seq, (size_t)(p - body(svc)));
}

void ehd_service_infer(ehd_service *svc, const ehd_proto_packet *packet)
{
    const uint8_t type = (uint8_t)(packet->type | EHD_PROTO_REPLY);
    if (svc->config != EHD_OK) {
        reply_error(svc, packet->seq, EHD_PROTO_ERR_RUNTIME, svc->config);
        return;
    }
    const ehd_model *model = svc->model;
    const ehd_hdc_model *hdc = svc->hdc;
    uint32_t *hv = svc->hv;
    uint16_t *distances = svc->distances;
    ehd_inference run;
    const ehd_status status = ehd_service_run(svc, &run);
    if (!has_hdc(model)) {
        if (status != EHD_OK) {
            reply_error(svc, packet->seq, EHD_PROTO_ERR_RUNTIME, status);
        } else {
            reply_outputs(svc, packet->seq, type, run.ticks_model);
        }
        return;
    }
    const int8_t *features = ehd_model_tensor(model, svc->arena, model->feature);
    if (status != EHD_OK) {
        reply_error(svc, packet->seq, EHD_PROTO_ERR_RUNTIME, status);
        return;
    }

    uint8_t *p = body(svc);
    p = put_u16(p, run.result.label);
    p = put_u16(p, run.result.confidence);
    p = put_u32(p, run.ticks_model);
    p = put_u32(p, run.ticks_hdc);
    for (uint32_t k = 0; k < hdc->n_classes; k++) {
        p = put_u16(p, distances[k]);
    }
    memcpy(p, features, hdc->n_features);
    p += hdc->n_features;
    for (uint32_t w = 0; w < hdc->dim / 32u; w++) {
        p = put_u32(p, hv[w]);
    }
    reply(svc, type, packet->seq, (size_t)infer_reply_bytes(model, hdc));
}

void ehd_service_handle(ehd_service *svc, const ehd_proto_packet *packet)
{
    if (svc->integrity.flags != 0 && packet->type != EHD_PROTO_INFO) { /* a corrupt model never runs */
        reply_error(svc, packet->seq, EHD_PROTO_ERR_INTEGRITY, svc->integrity.flags);
        return;
    }
    switch (packet->type) {
    case EHD_PROTO_INFO:
        handle_info(svc, packet);
        break;
    case EHD_PROTO_INFER:
        handle_infer(svc, packet);
        break;
    default:
        /* HDC messages 0x10-0x1F, runtime messages 0x20-0x2F, PROFILE 0x30 */
        if (!ehd_learn_handle(svc, packet) && !ehd_runtime_msgs_handle(svc, packet)
            && !ehd_profile_handle(svc, packet)) {
            reply_error(svc, packet->seq, EHD_PROTO_ERR_UNKNOWN_TYPE, packet->type);
        }
        break;
    }
}

uint8_t *ehd_service_body(ehd_service *svc)
{
    return body(svc);
}

void ehd_service_reply(ehd_service *svc, uint8_t type, uint8_t seq, size_t body_len)
{
    reply(svc, type, seq, body_len);
}

void ehd_service_error(ehd_service *svc, uint8_t seq, uint8_t code, int32_t detail)
{
    reply_error(svc, seq, code, detail);
}

void ehd_service_feed(ehd_service *svc, uint8_t byte)
{
    switch (ehd_proto_feed(&svc->rx, byte)) {
    case EHD_RX_PACKET:
        ehd_service_handle(svc, &svc->rx.packet);
        break;
    case EHD_RX_ERROR:
        reply_error(svc, svc->rx.packet.seq, svc->rx.error, svc->rx.detail);
        break;
    default:
        break;
    }
}
