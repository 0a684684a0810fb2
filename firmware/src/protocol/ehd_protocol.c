/* Packet build/send and the byte-at-a-time frame receiver of docs/protocol.md. */
#include "ehd/ehd_protocol.h"

size_t ehd_proto_build(uint8_t *packet, size_t cap, uint8_t type, uint8_t seq, size_t body_len)
{
    if (packet == 0 || body_len > EHD_PROTO_MAX_BODY || cap < body_len + EHD_PROTO_MIN_PACKET) {
        return 0;
    }
    packet[0] = EHD_PROTO_VERSION;
    packet[1] = type;
    packet[2] = seq;
    const size_t crc_at = EHD_PROTO_HEADER_BYTES + body_len;
    const uint16_t crc = ehd_crc16(packet, crc_at);
    packet[crc_at] = (uint8_t)(crc & 0xFFu);
    packet[crc_at + 1] = (uint8_t)(crc >> 8);
    return crc_at + EHD_PROTO_CRC_BYTES;
}

void ehd_proto_send(const uint8_t *packet, size_t len, ehd_write_fn write, void *ctx)
{
    static const uint8_t zero = 0;
    size_t start = 0;
    /* One block per run of up to 254 nonzero bytes, ending at a zero or the end. */
    for (;;) {
        size_t end = start;
        while (end < len && packet[end] != 0 && end - start < 254u) {
            end++;
        }
        const uint8_t code = (uint8_t)(end - start + 1);
        write(ctx, &code, 1);
        if (end > start) {
            write(ctx, packet + start, end - start);
        }
        if (end >= len) {
            break;
        }
        /* A zero is consumed by a short block; a full 0xFF block consumes nothing. */
        start = (code == 0xFF) ? end : end + 1;
    }
    write(ctx, &zero, 1);
}

void ehd_proto_rx_init(ehd_proto_rx *rx)
{
    rx->len = 0;
    rx->overflow = 0;
    rx->error = 0;
    rx->detail = 0;
    rx->packet.version = 0;
    rx->packet.type = 0;
    rx->packet.seq = 0;
    rx->packet.body = rx->buf;
    rx->packet.body_len = 0;
}

static ehd_rx_event rx_error(ehd_proto_rx *rx, uint8_t error, int32_t detail, uint8_t seq)
{
    rx->error = error;
    rx->detail = detail;
    rx->packet.seq = seq;
    return EHD_RX_ERROR;
}

/* Validates the frame collected in rx->buf (without its 0x00). */
static ehd_rx_event rx_frame(ehd_proto_rx *rx)
{
    const int32_t n = ehd_cobs_decode(rx->buf, rx->len, rx->buf, sizeof(rx->buf));
    if (n < 0 || (uint32_t)n < EHD_PROTO_MIN_PACKET) {
        return rx_error(rx, EHD_PROTO_ERR_BAD_FRAME, 0, 0);
    }
    if ((uint32_t)n > EHD_PROTO_MAX_PACKET) {
        return rx_error(rx, EHD_PROTO_ERR_FRAME_TOO_LONG, 0, 0);
    }
    const uint32_t crc_at = (uint32_t)n - EHD_PROTO_CRC_BYTES;
    const uint16_t received = (uint16_t)(rx->buf[crc_at] | (rx->buf[crc_at + 1] << 8));
    if (ehd_crc16(rx->buf, crc_at) != received) {
        return rx_error(rx, EHD_PROTO_ERR_BAD_CRC, received, 0);
    }
    if (rx->buf[0] != EHD_PROTO_VERSION) {
        return rx_error(rx, EHD_PROTO_ERR_BAD_VERSION, rx->buf[0], rx->buf[2]);
    }
    rx->packet.version = rx->buf[0];
    rx->packet.type = rx->buf[1];
    rx->packet.seq = rx->buf[2];
    rx->packet.body = rx->buf + EHD_PROTO_HEADER_BYTES;
    rx->packet.body_len = crc_at - EHD_PROTO_HEADER_BYTES;
    return EHD_RX_PACKET;
}

ehd_rx_event ehd_proto_feed(ehd_proto_rx *rx, uint8_t byte)
{
    if (byte != 0) {
        if (rx->len < sizeof(rx->buf)) {
            rx->buf[rx->len++] = byte;
        } else {
            rx->overflow = 1;
        }
        return EHD_RX_NONE;
    }
    const uint32_t len = rx->len;
    const uint8_t overflow = rx->overflow;
    rx->len = 0;
    rx->overflow = 0;
    if (overflow) {
        return rx_error(rx, EHD_PROTO_ERR_FRAME_TOO_LONG, 0, 0);
    }
    if (len == 0) {
        return EHD_RX_NONE; /* empty frame: a resynchronising 0x00 */
    }
    rx->len = len;
    const ehd_rx_event event = rx_frame(rx);
    rx->len = 0;
    return event;
}
