/* Sign random projection of the int8 embedding into a binary hypervector (docs/hdc.md). */
#include "ehd/ehd_hdc.h"

/* Model fields usable by both encode and classify. */
static int hdc_dims_valid(const ehd_hdc_model *hdc)
{
    return hdc->dim > 0 && hdc->dim % 32 == 0 && hdc->n_features > 0 && hdc->projection != 0;
}

ehd_status ehd_hdc_encode(const ehd_hdc_model *hdc, const int8_t *features, uint32_t *hv)
{
    if (hdc == 0 || features == 0 || hv == 0 || !hdc_dims_valid(hdc)) {
        return EHD_ERR_ARG;
    }
    const uint32_t n_words = (uint32_t)hdc->dim / 32u;
    const uint32_t row_words = ((uint32_t)hdc->n_features + 31u) / 32u;
    int32_t total = 0;
    uint32_t i, j;

    for (i = 0; i < hdc->n_features; i++) {
        total += (int32_t)features[i] - hdc->feature_zero_point;
    }
    for (j = 0; j < n_words; j++) {
        hv[j] = 0;
    }
    for (j = 0; j < hdc->dim; j++) {
        const uint32_t *row = hdc->projection + j * row_words;
        /* acc = sum(+c where bit set) - sum(c where clear) = 2 * sum(c where set) - total. */
        int32_t plus = 0;
        for (i = 0; i < hdc->n_features; i++) {
            if ((row[i >> 5] >> (i & 31u)) & 1u) {
                plus += (int32_t)features[i] - hdc->feature_zero_point;
            }
        }
        if (2 * plus - total > 0) {
            hv[j >> 5] |= 1u << (j & 31u);
        }
    }
    return EHD_OK;
}
