/* Bit counting for the Hamming search (private to firmware/src/hdc). */
#ifndef EHD_HDC_POPCOUNT_H
#define EHD_HDC_POPCOUNT_H

#include <stdint.h>

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

/* A constant the compiler keeps in a register, so `and rd, mask, x, lsr #n` is one instruction. */
#if defined(__GNUC__) && defined(__arm__)
#define EHD_IN_REGISTER(v) __asm__("" : "+r"(v))
#else
#define EHD_IN_REGISTER(v) (void)(v)
#endif

/* Per-nibble bit counts (each 0..4) of x: the first two SWAR steps. */
static inline uint32_t ehd_nibble_counts(uint32_t x, uint32_t m1, uint32_t m2)
{
    x = x - ((x >> 1) & m1);
    return (x & m2) + ((x >> 2) & m2);
}

/* acc + the sum of the nibble counts in n (each nibble <= 15). */
static inline uint32_t ehd_add_nibbles(uint32_t acc, uint32_t n, uint32_t m4)
{
    const uint32_t bytes = (n & m4) + ((n >> 4) & m4);
#if defined(__ARM_FEATURE_DSP)
    return __usada8(bytes, 0u, acc); /* sum of the four bytes, one instruction */
#else
    return acc + ((bytes * 0x01010101u) >> 24);
#endif
}

/* popcount(a XOR b) over n words: the nibble counts of three words (<= 12 per nibble) share
 * the byte step and the horizontal sum. */
static inline uint32_t ehd_hamming(const uint32_t *a, const uint32_t *b, uint32_t n)
{
    uint32_t m1 = 0x55555555u, m2 = 0x33333333u, m4 = 0x0F0F0F0Fu;
    EHD_IN_REGISTER(m1);
    EHD_IN_REGISTER(m2);
    EHD_IN_REGISTER(m4);
    uint32_t d = 0, w = 0;
    for (; w + 3u <= n; w += 3u) {
        d = ehd_add_nibbles(d, ehd_nibble_counts(a[w] ^ b[w], m1, m2) + ehd_nibble_counts(a[w + 1u] ^ b[w + 1u], m1, m2) +
                                   ehd_nibble_counts(a[w + 2u] ^ b[w + 2u], m1, m2), m4);
    }
    for (; w < n; w++) {
        d = ehd_add_nibbles(d, ehd_nibble_counts(a[w] ^ b[w], m1, m2), m4);
    }
    return d;
}

#endif /* EHD_HDC_POPCOUNT_H */
