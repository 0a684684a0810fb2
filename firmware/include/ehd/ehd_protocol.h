/*
 * Serial protocol version 1 (docs/protocol.md), transport independent:
 *
 *   wire   = COBS(packet) 0x00
 *   packet = version:u8 type:u8 seq:u8 body crc:u16le   (CRC-16/CCITT-FALSE)
 *
 * The receiver takes one byte at a time and never writes past its buffer: a
 * frame longer than EHD_PROTO_MAX_PACKET is dropped up to the next 0x00 and
 * reported as FRAME_TOO_LONG.
 */
#ifndef EHD_PROTOCOL_H
#define EHD_PROTOCOL_H

#include <stddef.h>

#include "ehd_types.h"

#define EHD_PROTO_VERSION 1u

/* Largest body a request or a reply may carry: a 4 KiB input tensor. */
#define EHD_PROTO_MAX_BODY 4096u
#define EHD_PROTO_HEADER_BYTES 3u /* version, type, seq */
#define EHD_PROTO_CRC_BYTES 2u
#define EHD_PROTO_MIN_PACKET (EHD_PROTO_HEADER_BYTES + EHD_PROTO_CRC_BYTES)
#define EHD_PROTO_MAX_PACKET (EHD_PROTO_MAX_BODY + EHD_PROTO_MIN_PACKET)

/* COBS adds one code byte per 254 data bytes (and one for an empty input). */
#define EHD_COBS_MAX_ENCODED(n) ((n) + (n) / 254u + 1u)

/* Message types; a reply is the request's type | EHD_PROTO_REPLY. */
#define EHD_PROTO_INFO 0x01u
#define EHD_PROTO_INFER 0x02u
#define EHD_PROTO_ERROR 0x7Fu
/* HDC messages (0x10-0x1F, firmware/src/app/ehd_learn.c). */
#define EHD_PROTO_HDC_CLASSIFY 0x10u  /* features -> hypervector, distances, encode/search ticks */
#define EHD_PROTO_LEARN_ADD 0x11u     /* bundle / online-update examples into a class */
#define EHD_PROTO_LEARN_NEW_CLASS 0x12u
#define EHD_PROTO_LEARN_RESET 0x13u
#define EHD_PROTO_PROTO_WRITE 0x14u   /* replace a class prototype without reflashing */
#define EHD_PROTO_PROTO_READ 0x15u
#define EHD_PROTO_LEARN_INFO 0x16u
/* Runtime messages (0x20-0x2F, firmware/src/app/ehd_runtime_msgs.c). */
#define EHD_PROTO_MODEL_INFO 0x20u  /* the input and output tensors: dtype, dims, bytes */
#define EHD_PROTO_INPUT_WRITE 0x21u /* a chunk of the input tensor, for inputs larger than a frame */
#define EHD_PROTO_INVOKE 0x22u      /* INFER on the input as written */
#define EHD_PROTO_OUTPUT_READ 0x23u /* a slice of an output tensor after the last run */
#define EHD_PROTO_PROFILE 0x30u      /* one inference with the ticks of every layer (firmware/src/app/ehd_profile.c) */
#define EHD_PROTO_REPLY 0x80u

/* ERROR reply codes: body = code:u8 detail:i32. */
#define EHD_PROTO_ERR_BAD_CRC 1u
#define EHD_PROTO_ERR_BAD_FRAME 2u
#define EHD_PROTO_ERR_BAD_VERSION 3u
#define EHD_PROTO_ERR_UNKNOWN_TYPE 4u
#define EHD_PROTO_ERR_BAD_LENGTH 5u
#define EHD_PROTO_ERR_FRAME_TOO_LONG 6u
#define EHD_PROTO_ERR_RUNTIME 7u
/* HDC error codes (16-23). */
#define EHD_PROTO_ERR_LEARN_DISABLED 16u     /* the model was exported without a learner */
#define EHD_PROTO_ERR_CLASS_OUT_OF_RANGE 17u /* detail: the class index */
#define EHD_PROTO_ERR_CLASS_TABLE_FULL 18u   /* detail: the capacity */
#define EHD_PROTO_ERR_BAD_LEARN_MODE 19u     /* detail: the mode or source byte */
/* Runtime error codes (32-39). */
#define EHD_PROTO_ERR_OUT_OF_RANGE 32u /* detail: the output index or byte offset outside the tensor */
/* Integrity error (24): detail = the INFO reply's integrity flags (ehd_integrity.h). */
#define EHD_PROTO_ERR_INTEGRITY 24u
#define EHD_PROTO_ERROR_BODY_BYTES 5u

/* INFO reply `backend` values. */
#define EHD_BACKEND_PORTABLE 0u
#define EHD_BACKEND_DSP 1u
#define EHD_BACKEND_CMSIS_NN 2u

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor. */
#define EHD_CRC16_INIT 0xFFFFu
uint16_t ehd_crc16_update(uint16_t crc, const uint8_t *data, size_t len);
uint16_t ehd_crc16(const uint8_t *data, size_t len);

/*
 * COBS-encodes `len` bytes (no trailing 0x00 is written). Returns the encoded
 * length, or 0 if it would not fit in `cap` bytes (a valid encoding is never 0).
 */
size_t ehd_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap);

/*
 * Decodes one COBS frame (without its 0x00). `dst` may equal `src`. Returns the
 * decoded length, or -1 if the frame is malformed (a 0x00 inside, a block
 * running past the end, empty input) or does not fit in `cap` bytes.
 */
int32_t ehd_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap);

/* Writes `len` bytes somewhere (a UART, a socket, a test buffer). */
typedef void (*ehd_write_fn)(void *ctx, const uint8_t *data, size_t len);

/*
 * Finishes a packet whose body already sits at packet + EHD_PROTO_HEADER_BYTES:
 * writes the header and the CRC after the body. Returns the packet length, or
 * 0 if it does not fit in `cap` bytes.
 */
size_t ehd_proto_build(uint8_t *packet, size_t cap, uint8_t type, uint8_t seq, size_t body_len);

/* Sends COBS(packet) 0x00 through `write`, block by block, with no extra buffer. */
void ehd_proto_send(const uint8_t *packet, size_t len, ehd_write_fn write, void *ctx);

typedef struct {
    uint8_t version;
    uint8_t type;
    uint8_t seq;
    const uint8_t *body; /* points into the receiver's buffer */
    uint32_t body_len;
} ehd_proto_packet;

typedef enum {
    EHD_RX_NONE = 0,   /* byte consumed, no complete frame yet (or an empty frame) */
    EHD_RX_PACKET = 1, /* rx->packet holds a valid packet */
    EHD_RX_ERROR = 2,  /* rx->error, rx->detail and rx->packet.seq describe a bad frame */
} ehd_rx_event;

typedef struct {
    uint8_t buf[EHD_COBS_MAX_ENCODED(EHD_PROTO_MAX_PACKET)];
    uint32_t len;
    uint8_t overflow; /* dropping bytes up to the next 0x00 */
    uint8_t error;    /* EHD_PROTO_ERR_* after EHD_RX_ERROR */
    int32_t detail;   /* the ERROR reply's detail after EHD_RX_ERROR */
    ehd_proto_packet packet;
} ehd_proto_rx;

void ehd_proto_rx_init(ehd_proto_rx *rx);

/*
 * Consumes one byte. The packet or error it reports stays valid until the
 * next call. Checks, in order: length, COBS, minimum size, CRC, version.
 */
ehd_rx_event ehd_proto_feed(ehd_proto_rx *rx, uint8_t byte);

#endif /* EHD_PROTOCOL_H */
