/* Bit counting for the Hamming search (private to firmware/src/hdc). */
#ifndef EHD_HDC_POPCOUNT_H
#define EHD_HDC_POPCOUNT_H

#include <stdint.h>

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

/* Per-nibble bit counts (each 0..4) of x: the first two SWAR steps. */
static inline uint32_t ehd_nibble_counts(uint32_t x)
{
    x = x - ((x >> 1) & 0x55555555u);
    return (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
}

/* acc + the sum of the nibble counts in n (each nibble <= 15). */
static inline uint32_t ehd_add_nibble_counts(uint32_t acc, uint32_t n)
{
    const uint32_t bytes = (n & 0x0F0F0F0Fu) + ((n >> 4) & 0x0F0F0F0Fu);
#if defined(__ARM_FEATURE_DSP)
    return __usada8(bytes, 0u, acc); /* sum of the four bytes, one instruction */
#else
    return acc + ((bytes * 0x01010101u) >> 24);
#endif
}

/* popcount(a XOR b) over n words: two words share the byte and horizontal steps. */
static inline uint32_t ehd_hamming(const uint32_t *a, const uint32_t *b, uint32_t n)
{
    uint32_t d = 0, w = 0;
    for (; w + 1u < n; w += 2u) {
        d = ehd_add_nibble_counts(d, ehd_nibble_counts(a[w] ^ b[w]) + ehd_nibble_counts(a[w + 1u] ^ b[w + 1u]));
    }
    if (w < n) {
        d = ehd_add_nibble_counts(d, ehd_nibble_counts(a[w] ^ b[w]));
    }
    return d;
}

#endif /* EHD_HDC_POPCOUNT_H */
