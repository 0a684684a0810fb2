/*
 * Sign random projection (docs/hdc.md): bit j = acc_j > 0 with
 * acc_j = sum_i (P_ji ? +c_i : -c_i).
 *
 * Fast path (hdc->scratch set), exact: the features are split in groups of 8
 * and each group gets a 256-entry table of its negated contribution for every
 * byte of projection bits, N_g[b] = -sum_{k<8} (bit k of b ? +c : -c). A row
 * then costs one lookup per projection byte, and -acc_j = sum_g N_g[byte_g] is
 * negative exactly when bit j is set, so the sign bit is the result bit.
 * |N_g[b]| <= 8 * 255 * EHD_HDC_MAX_SCALE fits int16, so with the DSP
 * extension two entries are built per SADD16.
 */
#include "ehd_hdc_internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the sign projection's fast path reads projection words as little-endian bytes"
#endif

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#include <string.h>
#endif

#define GROUP_ENTRIES 256u
#define WORD_ENTRIES (4u * GROUP_ENTRIES) /* one table per projection byte of a row word */

/*
 * Table of the 8 features base..base+7 (zero past F): N[b] = sum - 2 * (sum of c where bit set).
 * N[16h + l] = lo[l] + hi[h], with lo over bits 0..3 (and the sum) and hi over bits 4..7, so
 * the 256 entries cost one add each (two per SADD16 on cores with the DSP extension).
 */
static void build_group_table(const ehd_hdc_model *hdc, const int8_t *x, uint32_t base, int16_t *t)
{
    int32_t c[8];
    int32_t sum = 0;
    for (uint32_t k = 0; k < 8u; k++) {
        c[k] = base + k < hdc->n_features ? ehd_hdc_centred(hdc, x, base + k) : 0;
        sum += c[k];
    }
    int32_t lo[16], hi[16];
    lo[0] = sum;
    hi[0] = 0;
    for (uint32_t k = 0; k < 4u; k++) { /* doubling: entries with bit k set = entries below 2^k - 2 c_k */
        for (uint32_t b = 0; b < (1u << k); b++) {
            lo[(1u << k) + b] = lo[b] - 2 * c[k];
            hi[(1u << k) + b] = hi[b] - 2 * c[4u + k];
        }
    }
#if defined(__ARM_FEATURE_DSP)
    /* lo as int16 pairs (entry 2i low, 2i + 1 high), kept in registers across the 16 rows. */
#define LO_PAIR(i) ((int16x2_t)(((uint32_t)lo[2 * (i)] & 0xFFFFu) | ((uint32_t)lo[2 * (i) + 1] << 16)))
    const int16x2_t p0 = LO_PAIR(0), p1 = LO_PAIR(1), p2 = LO_PAIR(2), p3 = LO_PAIR(3);
    const int16x2_t p4 = LO_PAIR(4), p5 = LO_PAIR(5), p6 = LO_PAIR(6), p7 = LO_PAIR(7);
#undef LO_PAIR
    for (uint32_t h = 0; h < 16u; h++, t += 16) {
        const int16x2_t step = (int16x2_t)(((uint32_t)hi[h] & 0xFFFFu) * 0x00010001u);
        /* memcpy of one word: a plain store, without breaking the int16 aliasing rules */
#define PUT_PAIR(i, p)                          \
    do {                                        \
        const int16x2_t v = __sadd16((p), step); \
        memcpy(t + 2 * (i), &v, sizeof(v));     \
    } while (0)
        PUT_PAIR(0, p0);
        PUT_PAIR(1, p1);
        PUT_PAIR(2, p2);
        PUT_PAIR(3, p3);
        PUT_PAIR(4, p4);
        PUT_PAIR(5, p5);
        PUT_PAIR(6, p6);
        PUT_PAIR(7, p7);
#undef PUT_PAIR
    }
#else
    for (uint32_t h = 0; h < 16u; h++) {
        for (uint32_t l = 0; l < 16u; l++) {
            t[16u * h + l] = (int16_t)(lo[l] + hi[h]);
        }
    }
#endif
}

/* -acc of one 32-feature word r of a row: one lookup per byte. */
static inline int32_t row_word_sum(const int16_t *t, uint32_t r)
{
    return (int32_t)t[r & 0xFFu] + t[GROUP_ENTRIES + ((r >> 8) & 0xFFu)] +
           t[2u * GROUP_ENTRIES + ((r >> 16) & 0xFFu)] + t[3u * GROUP_ENTRIES + (r >> 24)];
}

/* Bit b of a word enters at the top and is shifted down to its place by the 31 - b later ones. */
#define PUSH_BIT(bits, neg_acc) (((bits) >> 1) | ((uint32_t)(neg_acc) & 0x80000000u))

/*
 * The common case, F <= 32 with a stored projection: one row word per bit, four
 * bits per pass. The four tables come in as separate pointers (and the function
 * is not inlined) so the compiler keeps four base registers instead of adding
 * 256/512/768 to every index.
 */
/* -acc of row word r = bytes b0..b3 (little-endian): byte loads need no shifting or masking. */
#define NEG_ACC(b) ((int32_t)t0[(b)[0]] + t1[(b)[1]] + t2[(b)[2]] + t3[(b)[3]])
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void encode_stored_single_word(const uint8_t *row, const int16_t *t0, const int16_t *t1,
                                      const int16_t *t2, const int16_t *t3, uint32_t *hv, uint32_t n_words)
{
    for (uint32_t w = 0; w < n_words; w++) {
        uint32_t bits = 0;
        for (uint32_t b = 0; b < 32u; b += 4u, row += 16) {
            bits = PUSH_BIT(bits, NEG_ACC(row));
            bits = PUSH_BIT(bits, NEG_ACC(row + 4));
            bits = PUSH_BIT(bits, NEG_ACC(row + 8));
            bits = PUSH_BIT(bits, NEG_ACC(row + 12));
        }
        hv[w] = bits;
    }
}

static void encode_tables(const ehd_hdc_model *hdc, const int8_t *x, uint32_t *hv)
{
    const uint32_t row_words = ((uint32_t)hdc->n_features + 31u) / 32u;
    int16_t *t = hdc->scratch;
    for (uint32_t g = 0; g < 4u * row_words; g++) {
        build_group_table(hdc, x, 8u * g, t + g * GROUP_ENTRIES);
    }
    if (row_words == 1u && hdc->projection != 0) {
        encode_stored_single_word((const uint8_t *)hdc->projection, t, t + GROUP_ENTRIES, t + 2u * GROUP_ENTRIES,
                                  t + 3u * GROUP_ENTRIES, hv, hdc->dim / 32u);
        return;
    }
    const uint32_t *row = hdc->projection;
    uint32_t state = hdc->seed;
    for (uint32_t w = 0; w < hdc->dim / 32u; w++) {
        uint32_t bits = 0;
        for (uint32_t b = 0; b < 32u; b++) {
            int32_t neg_acc = 0;
            for (uint32_t rw = 0; rw < row_words; rw++) {
                const uint32_t r = row ? *row++ : ehd_xorshift32(&state);
                neg_acc += row_word_sum(t + rw * WORD_ENTRIES, r);
            }
            bits = PUSH_BIT(bits, neg_acc);
        }
        hv[w] = bits;
    }
}

/* The definition, one feature at a time: no scratch, same bits. */
static void encode_bitwise(const ehd_hdc_model *hdc, const int8_t *x, uint32_t *hv)
{
    const uint32_t row_words = ((uint32_t)hdc->n_features + 31u) / 32u;
    int32_t total = 0;
    for (uint32_t i = 0; i < hdc->n_features; i++) {
        total += ehd_hdc_centred(hdc, x, i);
    }
    uint32_t state = hdc->seed;
    for (uint32_t j = 0; j < hdc->dim; j++) {
        /* acc = sum(+c where bit set) - sum(c where clear) = 2 * sum(c where set) - total. */
        int32_t plus = 0;
        for (uint32_t rw = 0; rw < row_words; rw++) {
            const uint32_t r = hdc->projection ? hdc->projection[j * row_words + rw] : ehd_xorshift32(&state);
            for (uint32_t k = 0; k < 32u && 32u * rw + k < hdc->n_features; k++) {
                if ((r >> k) & 1u) {
                    plus += ehd_hdc_centred(hdc, x, 32u * rw + k);
                }
            }
        }
        if (j % 32u == 0) {
            hv[j / 32u] = 0;
        }
        if (2 * plus - total > 0) {
            hv[j / 32u] |= 1u << (j % 32u);
        }
    }
}

ehd_status ehd_hdc_sign_projection(const ehd_hdc_model *hdc, const int8_t *features, uint32_t *hv)
{
    if (hdc->projection == 0 && hdc->seed == 0) {
        return EHD_ERR_ARG; /* xorshift32 needs a nonzero seed */
    }
    if (hdc->scratch != 0) {
        encode_tables(hdc, features, hv);
    } else {
        encode_bitwise(hdc, features, hv);
    }
    return EHD_OK;
}
