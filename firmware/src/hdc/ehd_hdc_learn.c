/* On-device learning on integer accumulators (docs/hdc.md), mirrored by edgehdc.hdc.Learner. */
#include "ehd/ehd_hdc.h"

#include <string.h>

#include "ehd_hdc_popcount.h"

static ehd_hdc_learner *ready_learner(const ehd_hdc_model *hdc)
{
    if (hdc == 0 || hdc->learner == 0) {
        return 0;
    }
    if (!hdc->learner->ready) {
        (void)ehd_hdc_learn_reset(hdc);
    }
    return hdc->learner;
}

ehd_status ehd_hdc_learn_reset(const ehd_hdc_model *hdc)
{
    if (hdc == 0 || hdc->learner == 0 || hdc->prototypes == 0) {
        return EHD_ERR_ARG;
    }
    ehd_hdc_learner *l = hdc->learner;
    const uint32_t words = (uint32_t)hdc->dim / 32u;
    memset(l->accumulators, 0, (size_t)l->capacity * hdc->dim * sizeof(int16_t));
    memcpy(l->accumulators, l->flash_accumulators, (size_t)l->n_flashed * hdc->dim * sizeof(int16_t));
    memcpy(l->prototypes, hdc->prototypes, (size_t)l->capacity * words * sizeof(uint32_t));
    l->n_active = l->n_flashed;
    l->ready = 1;
    return EHD_OK;
}

static void binarize(const ehd_hdc_model *hdc, ehd_hdc_learner *l, uint16_t label)
{
    const int16_t *acc = l->accumulators + (uint32_t)label * hdc->dim;
    uint32_t *proto = l->prototypes + (uint32_t)label * (hdc->dim / 32u);
    for (uint32_t w = 0; w < hdc->dim / 32u; w++) {
        uint32_t bits = 0;
        for (uint32_t b = 0; b < 32u; b++) {
            bits |= (uint32_t)(acc[32u * w + b] > 0) << b;
        }
        proto[w] = bits;
    }
}

/* accumulators[label] += sign * bipolar(hv), saturating; returns the entries held at the bound. */
static uint32_t accumulate(const ehd_hdc_model *hdc, ehd_hdc_learner *l, const uint32_t *hv, uint16_t label,
                           int32_t sign)
{
    int16_t *acc = l->accumulators + (uint32_t)label * hdc->dim;
    uint32_t saturated = 0;
    for (uint32_t j = 0; j < hdc->dim; j++) {
        int32_t v = acc[j] + (((hv[j >> 5] >> (j & 31u)) & 1u) ? sign : -sign);
        if (v > EHD_HDC_ACC_MAX || v < -EHD_HDC_ACC_MAX) {
            v = v > 0 ? EHD_HDC_ACC_MAX : -EHD_HDC_ACC_MAX;
            saturated++;
        }
        acc[j] = (int16_t)v;
    }
    binarize(hdc, l, label);
    return saturated;
}

ehd_status ehd_hdc_learn_add(const ehd_hdc_model *hdc, const uint32_t *hv, uint16_t label, uint32_t *saturated)
{
    ehd_hdc_learner *l = ready_learner(hdc);
    if (l == 0 || hv == 0 || saturated == 0 || label >= l->n_active) {
        return EHD_ERR_ARG;
    }
    *saturated = accumulate(hdc, l, hv, label, 1);
    return EHD_OK;
}

ehd_status ehd_hdc_learn_online(const ehd_hdc_model *hdc, const uint32_t *hv, uint16_t label, uint16_t margin,
                                uint32_t *updated, uint32_t *saturated)
{
    ehd_hdc_learner *l = ready_learner(hdc);
    if (l == 0 || hv == 0 || updated == 0 || saturated == 0 || label >= l->n_active) {
        return EHD_ERR_ARG;
    }
    const uint32_t words = (uint32_t)hdc->dim / 32u;
    const uint32_t d_t = ehd_hamming(hv, l->prototypes + (uint32_t)label * words, words);
    uint32_t d_o = 0;
    int32_t other = -1;
    for (uint16_t k = 0; k < l->n_active; k++) {
        if (k != label) {
            const uint32_t d = ehd_hamming(hv, l->prototypes + (uint32_t)k * words, words);
            if (other < 0 || d < d_o) { /* strict: ties keep the lowest index */
                other = k;
                d_o = d;
            }
        }
    }
    *updated = 0;
    *saturated = 0;
    if (other >= 0 && (d_t + margin > d_o || (d_t + margin == d_o && other < (int32_t)label))) {
        *saturated = accumulate(hdc, l, hv, label, 1) + accumulate(hdc, l, hv, (uint16_t)other, -1);
        *updated = 1;
    }
    return EHD_OK;
}

ehd_status ehd_hdc_learn_new_class(const ehd_hdc_model *hdc, uint16_t *label)
{
    ehd_hdc_learner *l = ready_learner(hdc);
    if (l == 0 || label == 0 || l->n_active >= l->capacity) {
        return EHD_ERR_ARG;
    }
    *label = l->n_active++;
    memset(l->accumulators + (uint32_t)*label * hdc->dim, 0, hdc->dim * sizeof(int16_t));
    binarize(hdc, l, *label);
    return EHD_OK;
}

ehd_status ehd_hdc_learn_write(const ehd_hdc_model *hdc, uint16_t label, const uint32_t *bits, uint16_t weight)
{
    ehd_hdc_learner *l = ready_learner(hdc);
    if (l == 0 || bits == 0 || label > l->n_active || label >= l->capacity) {
        return EHD_ERR_ARG;
    }
    const int16_t w = (int16_t)(weight > EHD_HDC_ACC_MAX ? EHD_HDC_ACC_MAX : weight);
    int16_t *acc = l->accumulators + (uint32_t)label * hdc->dim;
    for (uint32_t j = 0; j < hdc->dim; j++) {
        acc[j] = ((bits[j >> 5] >> (j & 31u)) & 1u) ? w : (int16_t)-w;
    }
    binarize(hdc, l, label);
    if (label == l->n_active) {
        l->n_active++;
    }
    return EHD_OK;
}

const uint32_t *ehd_hdc_prototypes(const ehd_hdc_model *hdc)
{
    const ehd_hdc_learner *l = ready_learner(hdc);
    return l ? l->prototypes : (hdc ? hdc->prototypes : 0);
}
