/*
 * Binary hyperdimensional classification of the int8 embedding (docs/hdc.md):
 * an encoder (sign random projection or ID-level) turns the features into a
 * D-bit hypervector, then the Hamming distance to the class prototypes picks
 * the label. Bit i of a hypervector is bit (i & 31) of uint32 word (i >> 5).
 *
 * Every encoder first centres and scales the features in int32:
 *     c_i = (x_i - centre_i) * scale_i
 * (centre_i = feature_zero_point and scale_i = 1 when the tables are NULL).
 */
#ifndef EHD_HDC_H
#define EHD_HDC_H

#include "ehd_types.h"

typedef enum {
    EHD_HDC_SIGN_PROJECTION = 0, /* bit j = sum_i (P_ji ? +c_i : -c_i) > 0 */
    EHD_HDC_ID_LEVEL = 1,        /* bit j = majority_i(item_i XOR level[q(c_i)]) */
} ehd_hdc_encoder;

/* Largest per-feature scale: eight centred features sum to an int16 (8 * 255 * 15 < 2^15). */
#define EHD_HDC_MAX_SCALE 15

/*
 * On-device learning state, in RAM (docs/hdc.md, "On-device learning"). Class
 * slots 0..n_active-1 are in use; the rest of the `capacity` slots are free
 * and never win a search (distance 0xFFFF). Accumulators saturate at
 * +-EHD_HDC_ACC_MAX; prototype bit j of slot k = accumulators[k][j] > 0.
 * RAM: capacity x dim x 2 bytes of accumulators + capacity x dim / 8 of prototypes.
 */
typedef struct {
    int16_t *accumulators;            /* capacity x dim */
    uint32_t *prototypes;             /* capacity x dim/32 */
    const int16_t *flash_accumulators; /* n_flashed x dim: the trained state a reset returns to */
    uint16_t capacity;
    uint16_t n_flashed;
    uint16_t n_active;
    uint8_t ready;                    /* 0 until the first use copies the flashed state */
} ehd_hdc_learner;

#define EHD_HDC_ACC_MAX 32767
#define EHD_HDC_NO_CLASS 0xFFFFu /* distance reported for a free class slot */

typedef struct {
    ehd_hdc_encoder encoder;
    uint16_t dim;               /* D, a multiple of 32 */
    uint16_t n_features;        /* F, length of the int8 embedding */
    int32_t feature_zero_point; /* centre of every feature when `centre` is NULL */
    const int8_t *centre;       /* [F] fitted feature centres, or NULL */
    const uint8_t *scale;       /* [F] fitted scales 0..EHD_HDC_MAX_SCALE, or NULL (all 1) */
    /* Sign projection: D rows x ceil(F/32) words, bit set = +1; NULL: regenerated from `seed`. */
    const uint32_t *projection;
    uint32_t seed;
    /* RAM of ehd_hdc_scratch_size() int16 values: the sign projection's per-byte partial sums
     * (NULL: a bitwise loop, same bits, slower), the ID-level feature levels (required). */
    int16_t *scratch;
    /* ID-level: (F + 1) x D/32 item words (row F breaks majority ties), n_levels x D/32 level words. */
    const uint32_t *items;
    const uint32_t *levels;
    uint16_t n_levels;
    int32_t level_lo, level_hi; /* q(c) = (clamp(c, lo, hi) - lo) * n_levels / (hi - lo + 1) */
    uint16_t n_classes;         /* class slots (the learner's capacity when it has one) */
    const uint32_t *prototypes; /* n_classes x D/32 words (free slots: zero) */
    ehd_hdc_learner *learner;   /* NULL: the flashed prototypes, read-only */
} ehd_hdc_model;

typedef struct {
    uint16_t label;      /* argmin distance, ties to the lowest class index */
    uint16_t confidence; /* second-best distance minus best distance */
} ehd_hdc_result;

/* int16 values of `scratch`: sign projection 4 x 256 per 32 features; ID-level one per feature. */
static inline uint32_t ehd_hdc_scratch_size(ehd_hdc_encoder encoder, uint32_t n_features)
{
    return encoder == EHD_HDC_ID_LEVEL ? n_features : 1024u * ((n_features + 31u) / 32u);
}

/* hv must hold dim/32 words. */
ehd_status ehd_hdc_encode(const ehd_hdc_model *hdc, const int8_t *features, uint32_t *hv);

/* distances must hold n_classes entries. */
ehd_status ehd_hdc_classify(const ehd_hdc_model *hdc, const uint32_t *hv, uint16_t *distances,
                            ehd_hdc_result *result);

/*
 * On-device learning (each returns EHD_ERR_ARG without a learner, for a class
 * outside the active slots, or a full class table). `saturated` counts the
 * accumulator entries held at +-EHD_HDC_ACC_MAX by the update.
 */
/* Copies the flashed accumulators and prototypes into RAM (also done on first use). */
ehd_status ehd_hdc_learn_reset(const ehd_hdc_model *hdc);
/* Bundles hv into class `label`: accumulators += bipolar(hv), then re-binarizes it. */
ehd_status ehd_hdc_learn_add(const ehd_hdc_model *hdc, const uint32_t *hv, uint16_t label, uint32_t *saturated);
/* Perceptron update when the sample would be misclassified were its class `margin` bits further:
 * label += bipolar(hv), nearest other class -= bipolar(hv). *updated = 1 if it updated. */
ehd_status ehd_hdc_learn_online(const ehd_hdc_model *hdc, const uint32_t *hv, uint16_t label, uint16_t margin,
                                uint32_t *updated, uint32_t *saturated);
/* Activates the next free slot with zero accumulators; its index goes to *label. */
ehd_status ehd_hdc_learn_new_class(const ehd_hdc_model *hdc, uint16_t *label);
/* Replaces slot `label` (active, or the next free one) by `bits`: accumulators = bit ? +weight : -weight. */
ehd_status ehd_hdc_learn_write(const ehd_hdc_model *hdc, uint16_t label, const uint32_t *bits, uint16_t weight);
/* The prototypes the search uses: the learner's RAM copy, or the flashed ones. */
const uint32_t *ehd_hdc_prototypes(const ehd_hdc_model *hdc);

/* The xorshift32 generator every random HDC word comes from (docs/hdc.md); state != 0. */
static inline uint32_t ehd_xorshift32(uint32_t *state)
{
    uint32_t s = *state;
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    *state = s;
    return s;
}

#endif /* EHD_HDC_H */
