/* Runtime messages 0x20-0x23 of the serial protocol (docs/protocol.md). */
#include "ehd/ehd_runtime_msgs.h"

#include <string.h>

#include "ehd_wire.h"

#define RUNTIME_REVISION 1u
#define TENSOR_DESC_BYTES 13u /* dtype:u8 n:u16 h:u16 w:u16 c:u16 bytes:u32 */
#define OUTPUT_READ_BYTES 8u  /* index:u16 offset:u32 length:u16 */
#define NO_OUTPUT 0xFFu

/* Always returns 1 (the packet is answered), so handlers can `return fail(...)`. */
static int fail(ehd_service *svc, const ehd_proto_packet *packet, uint8_t code, int32_t detail)
{
    ehd_service_error(svc, packet->seq, code, detail);
    return 1;
}

static int answer(ehd_service *svc, const ehd_proto_packet *packet, const uint8_t *end)
{
    ehd_service_reply(svc, (uint8_t)(packet->type | EHD_PROTO_REPLY), packet->seq,
                      (size_t)(end - ehd_service_body(svc)));
    return 1;
}

/* A tensor description holds each dimension in a u16. */
static int dims_fit_u16(const ehd_dims *d)
{
    return d->n <= 0xFFFF && d->h <= 0xFFFF && d->w <= 0xFFFF && d->c <= 0xFFFF;
}

/* MODEL_INFO can describe the model: n_outputs and feature fit a u8 (0xFF: no feature), dims a u16. */
static int describable(const ehd_model *model)
{
    if (model->n_outputs > 0xFFu || !dims_fit_u16(&model->tensors[model->input].dims)) {
        return 0;
    }
    for (uint32_t k = 0; k < model->n_outputs; k++) {
        if (!dims_fit_u16(&model->tensors[model->outputs[k]].dims)) {
            return 0;
        }
    }
    return 1;
}

static uint8_t *put_tensor(uint8_t *p, const ehd_model *model, uint16_t index)
{
    const ehd_tensor *t = &model->tensors[index];
    *p++ = t->dtype;
    p = ehd_put_u16(p, (uint32_t)t->dims.n);
    p = ehd_put_u16(p, (uint32_t)t->dims.h);
    p = ehd_put_u16(p, (uint32_t)t->dims.w);
    p = ehd_put_u16(p, (uint32_t)t->dims.c);
    return ehd_put_u32(p, ehd_model_tensor_bytes(model, index));
}

/* MODEL_INFO: revision, the outputs' count, which output feeds the HDC head, the tensors. */
static int handle_model_info(ehd_service *svc, const ehd_proto_packet *packet)
{
    const ehd_model *model = svc->model;
    if (packet->body_len != 0) {
        return fail(svc, packet, EHD_PROTO_ERR_BAD_LENGTH, (int32_t)packet->body_len);
    }
    if (svc->config != EHD_OK) {
        return fail(svc, packet, EHD_PROTO_ERR_RUNTIME, svc->config);
    }
    const uint32_t n_outputs = model->n_outputs;
    if (3u + TENSOR_DESC_BYTES * (1u + n_outputs) > EHD_PROTO_MAX_BODY || !describable(model)) {
        return fail(svc, packet, EHD_PROTO_ERR_RUNTIME, EHD_ERR_ARG);
    }
    uint8_t feature = NO_OUTPUT;
    for (uint32_t k = 0; k < n_outputs; k++) {
        if (model->outputs[k] == model->feature) {
            feature = (uint8_t)k;
            break;
        }
    }
    uint8_t *p = ehd_service_body(svc);
    *p++ = RUNTIME_REVISION;
    *p++ = (uint8_t)n_outputs;
    *p++ = feature;
    p = put_tensor(p, model, model->input);
    for (uint32_t k = 0; k < n_outputs; k++) {
        p = put_tensor(p, model, model->outputs[k]);
    }
    return answer(svc, packet, p);
}

/* INPUT_WRITE: offset:u32 then bytes, copied into the input tensor (any float32 bytes too). */
static int handle_input_write(ehd_service *svc, const ehd_proto_packet *packet)
{
    if (svc->config != EHD_OK) {
        return fail(svc, packet, EHD_PROTO_ERR_RUNTIME, svc->config);
    }
    if (packet->body_len < 4u) {
        return fail(svc, packet, EHD_PROTO_ERR_BAD_LENGTH, (int32_t)packet->body_len);
    }
    const uint32_t offset = ehd_get_u32(packet->body);
    const uint32_t length = packet->body_len - 4u;
    if (offset > svc->input_bytes || length > svc->input_bytes - offset) {
        return fail(svc, packet, EHD_PROTO_ERR_OUT_OF_RANGE, (int32_t)offset);
    }
    const ehd_model *model = svc->model;
    memcpy(ehd_model_tensor(model, svc->arena, model->input) + offset, packet->body + 4, length);
    return answer(svc, packet, ehd_put_u32(ehd_service_body(svc), offset + length));
}

/* INVOKE: runs the model on the input tensor as written; the reply is INFER's. */
static int handle_invoke(ehd_service *svc, const ehd_proto_packet *packet)
{
    if (packet->body_len != 0) {
        return fail(svc, packet, EHD_PROTO_ERR_BAD_LENGTH, (int32_t)packet->body_len);
    }
    ehd_service_infer(svc, packet);
    return 1;
}

/* OUTPUT_READ: index:u16 offset:u32 length:u16 -> that slice of output `index` after the last run. */
static int handle_output_read(ehd_service *svc, const ehd_proto_packet *packet)
{
    const ehd_model *model = svc->model;
    if (packet->body_len != OUTPUT_READ_BYTES) {
        return fail(svc, packet, EHD_PROTO_ERR_BAD_LENGTH, (int32_t)packet->body_len);
    }
    if (svc->config != EHD_OK) {
        return fail(svc, packet, EHD_PROTO_ERR_RUNTIME, svc->config);
    }
    const uint32_t index = ehd_get_u16(packet->body);
    const uint32_t offset = ehd_get_u32(packet->body + 2);
    const uint32_t length = ehd_get_u16(packet->body + 6);
    if (index >= model->n_outputs) {
        return fail(svc, packet, EHD_PROTO_ERR_OUT_OF_RANGE, (int32_t)index);
    }
    const uint32_t bytes = ehd_model_tensor_bytes(model, model->outputs[index]);
    if (offset > bytes || length > bytes - offset || length > EHD_PROTO_MAX_BODY) {
        return fail(svc, packet, EHD_PROTO_ERR_OUT_OF_RANGE, (int32_t)offset);
    }
    uint8_t *p = ehd_service_body(svc);
    memcpy(p, ehd_model_tensor(model, svc->arena, model->outputs[index]) + offset, length);
    return answer(svc, packet, p + length);
}

int ehd_runtime_msgs_handle(ehd_service *svc, const ehd_proto_packet *packet)
{
    switch (packet->type) {
    case EHD_PROTO_MODEL_INFO:
        return handle_model_info(svc, packet);
    case EHD_PROTO_INPUT_WRITE:
        return handle_input_write(svc, packet);
    case EHD_PROTO_INVOKE:
        return handle_invoke(svc, packet);
    case EHD_PROTO_OUTPUT_READ:
        return handle_output_read(svc, packet);
    default:
        return 0;
    }
}
