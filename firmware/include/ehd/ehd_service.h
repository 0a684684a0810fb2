/*
 * The device side of the serial protocol: feed it received bytes, it answers
 * INFO and INFER (docs/protocol.md) through a write callback, and an ERROR
 * reply for anything bad. Board independent: the board is described by a
 * name, a kernel backend id and a tick counter. No allocation: every buffer
 * lives in the ehd_service object, which the caller keeps (static on a device).
 */
#ifndef EHD_SERVICE_H
#define EHD_SERVICE_H

#include "ehd_hdc.h"
#include "ehd_integrity.h"
#include "ehd_model.h"
#include "ehd_protocol.h"

#define EHD_SERVICE_MAX_CLASSES 256u

typedef struct {
    const char *name;          /* ASCII, at most 255 bytes are reported */
    uint8_t backend;           /* EHD_BACKEND_* */
    uint32_t (*ticks)(void);   /* free-running 32-bit counter, may wrap */
    uint32_t ticks_hz;         /* its frequency */
} ehd_service_board;

typedef struct {
    const ehd_model *model;
    const ehd_hdc_model *hdc;
    int8_t *arena;
    ehd_service_board board;
    ehd_write_fn write;
    void *write_ctx;
    ehd_status config; /* EHD_OK, or why INFER cannot run (replied as RUNTIME) */
    uint32_t input_bytes;
    ehd_proto_rx rx;
    uint8_t tx[EHD_PROTO_MAX_PACKET];
    uint32_t hv[EHD_PROTO_MAX_BODY / 4]; /* a hypervector always fits a reply */
    uint16_t distances[EHD_SERVICE_MAX_CLASSES];
    ehd_integrity_report integrity;               /* flags != 0: only INFO is answered */
    uint32_t layer_stamps[EHD_PROFILE_MAX_LAYERS]; /* counter after each layer of the last inference */
} ehd_service;

/*
 * Binds the service to a model, its HDC tables and an arena of `arena_size`
 * bytes. Returns EHD_ERR_ARG for NULL pointers; otherwise the service is
 * usable and the return value is its `config` status: a model that does not
 * fit (arena too small, feature length != HDC n_features, more than
 * EHD_SERVICE_MAX_CLASSES classes, INFER reply larger than EHD_PROTO_MAX_BODY)
 * still answers INFO, and INFER with RUNTIME(status). A model without an HDC
 * head (feature == EHD_NO_TENSOR) is a plain int8 runtime: INFER returns its
 * output tensors.
 */
ehd_status ehd_service_init(ehd_service *svc, const ehd_model *model, const ehd_hdc_model *hdc,
                            int8_t *arena, uint32_t arena_size, const ehd_service_board *board,
                            ehd_write_fn write, void *write_ctx);

/* Checks the tables' CRC-32 and format version (at boot); a corrupt table makes every request
 * but INFO fail with INTEGRITY. A service never checked answers as if intact. */
void ehd_service_check_integrity(ehd_service *svc, const ehd_integrity *tables);

/* One inference, timed; the features stay in the arena, the hypervector in svc->hv, the distances
 * in svc->distances. */
typedef struct {
    uint32_t start;       /* counter before the first layer; svc->layer_stamps[i]: after layer i */
    uint32_t ticks_model; /* the CNN */
    uint32_t ticks_hdc;   /* encoding and Hamming search */
    ehd_hdc_result result;
} ehd_inference;

/* What INFER and PROFILE both run on the input tensor the caller wrote: the same instructions. */
ehd_status ehd_service_run(ehd_service *svc, ehd_inference *out);

/* Sends a reply whose body already sits after the header in svc->tx, or an ERROR reply
 * (for request handlers outside ehd_service.c). */
void ehd_service_reply(ehd_service *svc, uint8_t type, uint8_t seq, size_t body_len);
void ehd_service_error(ehd_service *svc, uint8_t seq, uint8_t code, int32_t detail);

/* Consumes one received byte; writes a reply whenever a frame completes. */
void ehd_service_feed(ehd_service *svc, uint8_t byte);

/*
 * Runs the model on the input tensor as it stands in the arena and answers `packet` with an
 * INFER-shaped reply of type `packet->type | EHD_PROTO_REPLY` (INFER after copying its body;
 * INVOKE after INPUT_WRITE chunks).
 */
void ehd_service_infer(ehd_service *svc, const ehd_proto_packet *packet);

/* Reply building for the message handlers: the body to fill, then send it (or an ERROR reply). */
uint8_t *ehd_service_body(ehd_service *svc);
void ehd_service_reply(ehd_service *svc, uint8_t type, uint8_t seq, size_t body_len);
void ehd_service_error(ehd_service *svc, uint8_t seq, uint8_t code, int32_t detail);

/* Answers one valid packet (what ehd_service_feed does after framing). */
void ehd_service_handle(ehd_service *svc, const ehd_proto_packet *packet);

#endif /* EHD_SERVICE_H */
