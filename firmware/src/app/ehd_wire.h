/* Little-endian field access for the protocol's message bodies (docs/protocol.md). */
#ifndef EHD_WIRE_H
#define EHD_WIRE_H

#include <stdint.h>

static inline uint8_t *ehd_put_u16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    return p + 2;
}

static inline uint8_t *ehd_put_u32(uint8_t *p, uint32_t v)
{
    return ehd_put_u16(ehd_put_u16(p, v & 0xFFFFu), v >> 16);
}

static inline uint32_t ehd_get_u16(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static inline uint32_t ehd_get_u32(const uint8_t *p)
{
    return ehd_get_u16(p) | (ehd_get_u16(p + 2) << 16);
}

#endif /* EHD_WIRE_H */
