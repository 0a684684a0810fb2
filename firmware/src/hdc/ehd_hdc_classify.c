/* Hamming-distance search over the class prototypes (docs/hdc.md). */
#include "ehd/ehd_hdc.h"

#include "ehd_hdc_popcount.h"

ehd_status ehd_hdc_classify(const ehd_hdc_model *hdc, const uint32_t *hv, uint16_t *distances,
                            ehd_hdc_result *result)
{
    if (hdc == 0 || hv == 0 || distances == 0 || result == 0 || hdc->prototypes == 0 ||
        hdc->n_classes == 0 || hdc->dim == 0 || hdc->dim % 32 != 0) {
        return EHD_ERR_ARG;
    }
    const uint32_t n_words = (uint32_t)hdc->dim / 32u;
    const uint32_t *prototypes = ehd_hdc_prototypes(hdc); /* the learner's, when it has one */
    const uint16_t active = hdc->learner ? hdc->learner->n_active : hdc->n_classes;
    uint32_t best = UINT32_MAX, second = UINT32_MAX;
    uint16_t k, label = 0;

    for (k = 0; k < hdc->n_classes; k++) {
        if (k >= active) {
            distances[k] = EHD_HDC_NO_CLASS; /* a free slot never wins */
            continue;
        }
        const uint32_t d = ehd_hamming(hv, prototypes + (uint32_t)k * n_words, n_words);
        distances[k] = (uint16_t)d;
        if (d < best) { /* strict: ties keep the lowest class index */
            second = best;
            best = d;
            label = k;
        } else if (d < second) {
            second = d;
        }
    }
    result->label = label;
    /* With a single class there is no runner-up: the margin is 0. */
    result->confidence = (uint16_t)(active > 1 ? second - best : 0u);
    return EHD_OK;
}
