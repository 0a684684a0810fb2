/*
 * ID-level encoding (docs/hdc.md): feature i is bound to the level
 * hypervector of its quantized value, bit j = majority over i of
 * items[i][j] XOR levels[q_i][j]; a tie (F even) takes bit j of items[F].
 * The counts are bit-sliced: 32 output bits are counted in parallel, one
 * uint32 per bit of the count.
 */
#include "ehd_hdc_internal.h"

#define MAX_PLANES 17u /* counts up to 65535 features */

static uint16_t level_of(const ehd_hdc_model *hdc, int32_t c)
{
    const int32_t lo = hdc->level_lo, hi = hdc->level_hi;
    c = c < lo ? lo : (c > hi ? hi : c);
    /* (hi - lo + 1) <= 2 * 255 * EHD_HDC_MAX_SCALE + 1, so the product fits 32 bits. */
    return (uint16_t)(((uint32_t)(c - lo) * hdc->n_levels) / (uint32_t)(hi - lo + 1));
}

/* Adds one bit per lane to the bit-sliced counters. */
static void count_add(uint32_t *planes, uint32_t v)
{
    for (uint32_t p = 0; v != 0u && p < MAX_PLANES; p++) {
        const uint32_t carry = planes[p] & v;
        planes[p] ^= v;
        v = carry;
    }
}

/* Lanes whose count is > k, and those whose count is == k. */
static void count_compare(const uint32_t *planes, uint32_t n_planes, uint32_t k, uint32_t *gt, uint32_t *eq)
{
    uint32_t greater = 0, equal = 0xFFFFFFFFu;
    for (uint32_t p = n_planes; p-- > 0;) {
        if ((k >> p) & 1u) {
            equal &= planes[p];
        } else {
            greater |= equal & planes[p];
            equal &= ~planes[p];
        }
    }
    *gt = greater;
    *eq = equal;
}

ehd_status ehd_hdc_id_level(const ehd_hdc_model *hdc, const int8_t *features, uint32_t *hv)
{
    if (hdc->items == 0 || hdc->levels == 0 || hdc->scratch == 0 || hdc->n_levels == 0 ||
        hdc->level_hi < hdc->level_lo) {
        return EHD_ERR_ARG;
    }
    const uint32_t n = hdc->n_features, words = (uint32_t)hdc->dim / 32u;
    uint32_t n_planes = 0;
    while (n_planes < MAX_PLANES && (n >> n_planes) != 0u) {
        n_planes++;
    }
    int16_t *level = hdc->scratch;
    for (uint32_t i = 0; i < n; i++) {
        level[i] = (int16_t)level_of(hdc, ehd_hdc_centred(hdc, features, i));
    }
    for (uint32_t w = 0; w < words; w++) {
        uint32_t planes[MAX_PLANES] = {0};
        for (uint32_t i = 0; i < n; i++) {
            count_add(planes, hdc->items[i * words + w] ^ hdc->levels[(uint32_t)(uint16_t)level[i] * words + w]);
        }
        uint32_t gt, eq;
        count_compare(planes, n_planes, n / 2u, &gt, &eq);
        /* Odd F: a count of F/2 (rounded down) is a minority, never a tie. */
        hv[w] = gt | ((n % 2u == 0u) ? (eq & hdc->items[n * words + w]) : 0u);
    }
    return EHD_OK;
}
