/* HDC messages 0x10-0x16 of the serial protocol (docs/protocol.md, docs/hdc.md). */
#include "ehd/ehd_learn.h"

#include <string.h>

#define CLASSIFY_FIXED_BYTES 12u /* HDC_CLASSIFY reply before the distances */
#define LEARN_HEADER_BYTES 8u    /* LEARN_ADD request before the examples */
#define LEARN_REPLY_BYTES 14u

enum { MODE_BUNDLE = 0, MODE_ONLINE = 1 };
enum { SOURCE_FEATURES = 0, SOURCE_INPUT = 1 };

static uint8_t *put_u16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    return p + 2;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
    return put_u16(put_u16(p, v & 0xFFFFu), v >> 16);
}

static uint32_t get_u16(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static uint8_t *body(ehd_service *svc)
{
    return svc->tx + EHD_PROTO_HEADER_BYTES;
}

static void reply(ehd_service *svc, const ehd_proto_packet *packet, uint8_t *end)
{
    const size_t len = ehd_proto_build(svc->tx, sizeof(svc->tx), (uint8_t)(packet->type | EHD_PROTO_REPLY),
                                       packet->seq, (size_t)(end - body(svc)));
    if (len > 0) {
        ehd_proto_send(svc->tx, len, svc->write, svc->write_ctx);
    }
}

/* Always returns 1 (the packet is answered), so handlers can `return fail(...)`. */
static int fail(ehd_service *svc, const ehd_proto_packet *packet, uint8_t code, int32_t detail)
{
    uint8_t *p = body(svc);
    p[0] = code;
    put_u32(p + 1, (uint32_t)detail);
    const size_t len = ehd_proto_build(svc->tx, sizeof(svc->tx), EHD_PROTO_ERROR, packet->seq,
                                       EHD_PROTO_ERROR_BODY_BYTES);
    if (len > 0) {
        ehd_proto_send(svc->tx, len, svc->write, svc->write_ctx);
    }
    return 1;
}

static uint8_t *put_hv(uint8_t *p, const uint32_t *hv, uint32_t dim)
{
    for (uint32_t w = 0; w < dim / 32u; w++) {
        p = put_u32(p, hv[w]);
    }
    return p;
}

static void get_hv(const uint8_t *p, uint32_t *hv, uint32_t dim)
{
    for (uint32_t w = 0; w < dim / 32u; w++, p += 4) {
        hv[w] = get_u16(p) | (get_u16(p + 2) << 16);
    }
}

static int handle_classify(ehd_service *svc, const ehd_proto_packet *packet)
{
    const ehd_hdc_model *hdc = svc->hdc;
    if (packet->body_len != hdc->n_features) {
        return fail(svc, packet, EHD_PROTO_ERR_BAD_LENGTH, (int32_t)packet->body_len);
    }
    if (CLASSIFY_FIXED_BYTES + 2u * hdc->n_classes + hdc->dim / 8u > EHD_PROTO_MAX_BODY) {
        return fail(svc, packet, EHD_PROTO_ERR_RUNTIME, EHD_ERR_ARG);
    }
    ehd_hdc_result result = {0, 0};
    const uint32_t t0 = svc->board.ticks();
    ehd_status status = ehd_hdc_encode(hdc, (const int8_t *)packet->body, svc->hv);
    const uint32_t t1 = svc->board.ticks();
    if (status == EHD_OK) {
        status = ehd_hdc_classify(hdc, svc->hv, svc->distances, &result);
    }
    const uint32_t t2 = svc->board.ticks();
    if (status != EHD_OK) {
        return fail(svc, packet, EHD_PROTO_ERR_RUNTIME, status);
    }
    uint8_t *p = body(svc);
    p = put_u16(p, result.label);
    p = put_u16(p, result.confidence);
    p = put_u32(p, t1 - t0);
    p = put_u32(p, t2 - t1);
    for (uint32_t k = 0; k < hdc->n_classes; k++) {
        p = put_u16(p, svc->distances[k]);
    }
    reply(svc, packet, put_hv(p, svc->hv, hdc->dim));
    return 1;
}

/* The int8 features of one example: as sent, or the model's embedding of a sent input. */
static const int8_t *example_features(ehd_service *svc, const uint8_t *item, uint8_t source, ehd_status *status)
{
    if (source == SOURCE_FEATURES) {
        return (const int8_t *)item;
    }
    const ehd_model *model = svc->model;
    memcpy(ehd_model_tensor(model, svc->arena, model->input), item, svc->input_bytes);
    *status = ehd_model_invoke(model, svc->arena);
    return ehd_model_tensor(model, svc->arena, model->feature);
}

static int handle_learn_add(ehd_service *svc, const ehd_proto_packet *packet)
{
    const ehd_hdc_model *hdc = svc->hdc;
    const uint8_t *b = packet->body;
    if (packet->body_len < LEARN_HEADER_BYTES) {
        return fail(svc, packet, EHD_PROTO_ERR_BAD_LENGTH, (int32_t)packet->body_len);
    }
    const uint32_t label = get_u16(b), margin = get_u16(b + 4), count = get_u16(b + 6);
    const uint8_t mode = b[2], source = b[3];
    if (mode > MODE_ONLINE) {
        return fail(svc, packet, EHD_PROTO_ERR_BAD_LEARN_MODE, mode);
    }
    if (source > SOURCE_INPUT) {
        return fail(svc, packet, EHD_PROTO_ERR_BAD_LEARN_MODE, source);
    }
    if (label >= hdc->learner->n_active) {
        return fail(svc, packet, EHD_PROTO_ERR_CLASS_OUT_OF_RANGE, (int32_t)label);
    }
    const uint32_t item = source == SOURCE_FEATURES ? hdc->n_features : svc->input_bytes;
    if (count == 0 || packet->body_len != LEARN_HEADER_BYTES + count * item) {
        return fail(svc, packet, EHD_PROTO_ERR_BAD_LENGTH, (int32_t)packet->body_len);
    }
    if (source == SOURCE_INPUT && svc->config != EHD_OK) {
        return fail(svc, packet, EHD_PROTO_ERR_RUNTIME, svc->config);
    }
    uint32_t updated = 0, saturated = 0;
    const uint32_t t0 = svc->board.ticks();
    for (uint32_t i = 0; i < count; i++) {
        ehd_status status = EHD_OK;
        const int8_t *features = example_features(svc, b + LEARN_HEADER_BYTES + i * item, source, &status);
        if (status == EHD_OK) {
            status = ehd_hdc_encode(hdc, features, svc->hv);
        }
        uint32_t sat = 0, upd = 1;
        if (status == EHD_OK) {
            status = mode == MODE_BUNDLE
                         ? ehd_hdc_learn_add(hdc, svc->hv, (uint16_t)label, &sat)
                         : ehd_hdc_learn_online(hdc, svc->hv, (uint16_t)label, (uint16_t)margin, &upd, &sat);
        }
        if (status != EHD_OK) {
            return fail(svc, packet, EHD_PROTO_ERR_RUNTIME, status);
        }
        updated += upd;
        saturated += sat;
    }
    const uint32_t t1 = svc->board.ticks();
    uint8_t *p = body(svc);
    p = put_u16(p, label);
    p = put_u16(p, count);
    p = put_u16(p, updated);
    p = put_u32(p, saturated);
    p = put_u32(p, t1 - t0);
    reply(svc, packet, p);
    return 1;
}

static int handle_prototype_write(ehd_service *svc, const ehd_proto_packet *packet)
{
    const ehd_hdc_model *hdc = svc->hdc;
    if (packet->body_len != 4u + hdc->dim / 8u) {
        return fail(svc, packet, EHD_PROTO_ERR_BAD_LENGTH, (int32_t)packet->body_len);
    }
    const uint32_t label = get_u16(packet->body);
    if (label > hdc->learner->n_active) {
        return fail(svc, packet, EHD_PROTO_ERR_CLASS_OUT_OF_RANGE, (int32_t)label);
    }
    if (label >= hdc->learner->capacity) {
        return fail(svc, packet, EHD_PROTO_ERR_CLASS_TABLE_FULL, hdc->learner->capacity);
    }
    get_hv(packet->body + 4, svc->hv, hdc->dim);
    const ehd_status status = ehd_hdc_learn_write(hdc, (uint16_t)label, svc->hv, (uint16_t)get_u16(packet->body + 2));
    if (status != EHD_OK) {
        return fail(svc, packet, EHD_PROTO_ERR_RUNTIME, status);
    }
    uint8_t *p = put_u16(body(svc), label);
    reply(svc, packet, put_u16(p, hdc->learner->n_active));
    return 1;
}

static int handle_prototype_read(ehd_service *svc, const ehd_proto_packet *packet)
{
    const ehd_hdc_model *hdc = svc->hdc;
    if (packet->body_len != 2u) {
        return fail(svc, packet, EHD_PROTO_ERR_BAD_LENGTH, (int32_t)packet->body_len);
    }
    const uint32_t label = get_u16(packet->body);
    if (label >= hdc->learner->capacity) {
        return fail(svc, packet, EHD_PROTO_ERR_CLASS_OUT_OF_RANGE, (int32_t)label);
    }
    uint8_t *p = put_u16(body(svc), label);
    *p++ = (uint8_t)(label < hdc->learner->n_active);
    reply(svc, packet, put_hv(p, hdc->learner->prototypes + label * (hdc->dim / 32u), hdc->dim));
    return 1;
}

static int handle_state(ehd_service *svc, const ehd_proto_packet *packet)
{
    const ehd_hdc_model *hdc = svc->hdc;
    ehd_hdc_learner *l = hdc->learner;
    if (packet->body_len != 0u) {
        return fail(svc, packet, EHD_PROTO_ERR_BAD_LENGTH, (int32_t)packet->body_len);
    }
    uint8_t *p = body(svc);
    if (packet->type == EHD_PROTO_LEARN_NEW_CLASS) {
        uint16_t label = 0;
        if (l->n_active >= l->capacity) {
            return fail(svc, packet, EHD_PROTO_ERR_CLASS_TABLE_FULL, l->capacity);
        }
        (void)ehd_hdc_learn_new_class(hdc, &label);
        p = put_u16(p, label);
    } else if (packet->type == EHD_PROTO_LEARN_RESET) {
        (void)ehd_hdc_learn_reset(hdc);
    }
    p = put_u16(p, l->capacity);
    p = put_u16(p, l->n_flashed);
    p = put_u16(p, l->n_active);
    /* RAM of the learner: accumulators and prototypes of every slot. */
    p = put_u32(p, (uint32_t)l->capacity * hdc->dim * 2u + (uint32_t)l->capacity * hdc->dim / 8u);
    reply(svc, packet, p);
    return 1;
}

int ehd_learn_handle(ehd_service *svc, const ehd_proto_packet *packet)
{
    if (packet->type < EHD_PROTO_HDC_CLASSIFY || packet->type > EHD_PROTO_LEARN_INFO) {
        return 0;
    }
    if (packet->type == EHD_PROTO_HDC_CLASSIFY) {
        return handle_classify(svc, packet);
    }
    if (svc->hdc->learner == 0) {
        return fail(svc, packet, EHD_PROTO_ERR_LEARN_DISABLED, 0);
    }
    (void)ehd_hdc_prototypes(svc->hdc); /* the first learning message copies the flashed state */
    switch (packet->type) {
    case EHD_PROTO_LEARN_ADD:
        return handle_learn_add(svc, packet);
    case EHD_PROTO_PROTO_WRITE:
        return handle_prototype_write(svc, packet);
    case EHD_PROTO_PROTO_READ:
        return handle_prototype_read(svc, packet);
    default: /* LEARN_NEW_CLASS, LEARN_RESET, LEARN_INFO */
        return handle_state(svc, packet);
    }
}
