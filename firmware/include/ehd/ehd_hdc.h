/*
 * Binary hyperdimensional classification: sign random projection of the int8
 * embedding, then Hamming distance to one bit-packed prototype per class.
 * Bit i of a hypervector is bit (i & 31) of uint32 word (i >> 5). See docs/hdc.md.
 */
#ifndef EHD_HDC_H
#define EHD_HDC_H

#include "ehd_types.h"

typedef struct {
    uint16_t dim;               /* D, a multiple of 32 */
    uint16_t n_features;        /* F, length of the int8 embedding */
    int32_t feature_zero_point; /* embedding zero point; features are centred on it */
    const uint32_t *projection; /* D rows x ceil(F/32) words; bit set = +1, clear = -1 */
    uint16_t n_classes;
    const uint32_t *prototypes; /* n_classes x D/32 words */
} ehd_hdc_model;

typedef struct {
    uint16_t label;      /* argmin distance, ties to the lowest class index */
    uint16_t confidence; /* second-best distance minus best distance */
} ehd_hdc_result;

/* hv must hold dim/32 words. */
ehd_status ehd_hdc_encode(const ehd_hdc_model *hdc, const int8_t *features, uint32_t *hv);

/* distances must hold n_classes entries. */
ehd_status ehd_hdc_classify(const ehd_hdc_model *hdc, const uint32_t *hv, uint16_t *distances,
                            ehd_hdc_result *result);

#endif /* EHD_HDC_H */
