/* Helpers shared by the HDC encoders (private to firmware/src/hdc). */
#ifndef EHD_HDC_INTERNAL_H
#define EHD_HDC_INTERNAL_H

#include "ehd/ehd_hdc.h"

/* c_i = (x_i - centre_i) * scale_i, |c_i| <= 255 * EHD_HDC_MAX_SCALE. */
static inline int32_t ehd_hdc_centred(const ehd_hdc_model *hdc, const int8_t *x, uint32_t i)
{
    const int32_t centre = hdc->centre ? (int32_t)hdc->centre[i] : hdc->feature_zero_point;
    const int32_t scale = hdc->scale ? (int32_t)hdc->scale[i] : 1;
    return ((int32_t)x[i] - centre) * scale;
}

ehd_status ehd_hdc_sign_projection(const ehd_hdc_model *hdc, const int8_t *features, uint32_t *hv);
ehd_status ehd_hdc_id_level(const ehd_hdc_model *hdc, const int8_t *features, uint32_t *hv);

#endif /* EHD_HDC_INTERNAL_H */
