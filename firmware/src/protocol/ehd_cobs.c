/*
 * Consistent Overhead Byte Stuffing: each block is a code byte c followed by
 * c - 1 nonzero bytes; a block with c < 0xFF stands for its bytes plus a zero,
 * except the last one. 0xFF blocks (254 bytes) carry no zero.
 */
#include "ehd/ehd_protocol.h"

size_t ehd_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    if (dst == 0 || (src == 0 && len > 0) || cap == 0) {
        return 0;
    }
    size_t code_at = 0; /* where the current block's code byte goes */
    size_t out = 1;
    uint8_t code = 1;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == 0) {
            dst[code_at] = code;
            code_at = out++;
            code = 1;
        } else {
            if (out >= cap) {
                return 0;
            }
            dst[out++] = src[i];
            code++;
        }
        if (code == 0xFF && i + 1 < len) {
            dst[code_at] = code;
            code_at = out++;
            code = 1;
        }
        if (out > cap) {
            return 0;
        }
    }
    dst[code_at] = code;
    return out;
}

int32_t ehd_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    if (src == 0 || dst == 0 || len == 0 || len > 0x7FFFFFFFu) {
        return -1;
    }
    size_t in = 0;
    size_t out = 0;
    while (in < len) {
        const uint8_t code = src[in++];
        if (code == 0 || (size_t)(code - 1) > len - in) {
            return -1;
        }
        for (uint8_t k = 1; k < code; k++) {
            const uint8_t byte = src[in++];
            if (byte == 0 || out >= cap) {
                return -1;
            }
            dst[out++] = byte;
        }
        if (code != 0xFF && in < len) {
            if (out >= cap) {
                return -1;
            }
            dst[out++] = 0;
        }
    }
    return (int32_t)out;
}
