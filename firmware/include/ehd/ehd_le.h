/* Little-endian writers for reply bodies (docs/protocol.md: all integers are little-endian). */
#ifndef EHD_LE_H
#define EHD_LE_H

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

#endif /* EHD_LE_H */
