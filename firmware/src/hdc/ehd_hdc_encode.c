/* HDC encoding: checks the model, then runs its encoder (docs/hdc.md). */
#include "ehd/ehd_hdc.h"

#include "ehd_hdc_internal.h"

static int scales_valid(const ehd_hdc_model *hdc)
{
    if (hdc->scale == 0) {
        return 1;
    }
    for (uint32_t i = 0; i < hdc->n_features; i++) {
        if (hdc->scale[i] > EHD_HDC_MAX_SCALE) {
            return 0;
        }
    }
    return 1;
}

ehd_status ehd_hdc_encode(const ehd_hdc_model *hdc, const int8_t *features, uint32_t *hv)
{
    if (hdc == 0 || features == 0 || hv == 0 || hdc->dim == 0 || hdc->dim % 32u != 0 ||
        hdc->n_features == 0 || hdc->feature_zero_point < -128 || hdc->feature_zero_point > 127 ||
        !scales_valid(hdc)) {
        return EHD_ERR_ARG;
    }
    switch (hdc->encoder) {
    case EHD_HDC_SIGN_PROJECTION:
        return ehd_hdc_sign_projection(hdc, features, hv);
    case EHD_HDC_ID_LEVEL:
        return ehd_hdc_id_level(hdc, features, hv);
    default:
        return EHD_ERR_UNSUPPORTED;
    }
}
