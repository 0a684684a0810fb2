/* Portable 32-bit popcount (private to firmware/src/hdc). */
#ifndef EHD_HDC_POPCOUNT_H
#define EHD_HDC_POPCOUNT_H

#include <stdint.h>

/* SWAR bit count: no builtin, so every C99 compiler gives the same code path. */
static inline uint32_t ehd_popcount32(uint32_t x)
{
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0Fu;
    return (x * 0x01010101u) >> 24;
}

#endif /* EHD_HDC_POPCOUNT_H */
