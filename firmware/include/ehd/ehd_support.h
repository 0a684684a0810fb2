/*
 * Fixed-point helpers shared by every kernel, so the rounding is defined once.
 *
 * ehd_requantize() is TFLM's MultiplyByQuantizedMultiplier in its default
 * (double rounding) build, which CMSIS-NN's arm_nn_requantize also follows:
 * an optional left shift, gemmlowp's SaturatingRoundingDoublingHighMul, then
 * RoundingDivideByPOT (halves away from zero).
 */
#ifndef EHD_SUPPORT_H
#define EHD_SUPPORT_H

#include <stdint.h>

#define EHD_MAX(a, b) ((a) > (b) ? (a) : (b))
#define EHD_MIN(a, b) ((a) < (b) ? (a) : (b))

/* Valid range of a requantization shift (left shift when > 0). */
#define EHD_SHIFT_MIN (-31)
#define EHD_SHIFT_MAX 30

/* round(a * b / 2^31), ties away from zero, saturating the one overflow case. */
static inline int32_t ehd_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    /* C99 division truncates toward zero, as gemmlowp relies on. */
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* round(x / 2^exponent), ties away from zero; 0 <= exponent <= 31. */
static inline int32_t ehd_rounding_divide_by_pot(int32_t x, int32_t exponent)
{
    const int64_t mask = ((int64_t)1 << exponent) - 1;
    const int64_t remainder = (int64_t)x & mask;
    const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    /* >> of a negative int64 is arithmetic on every compiler we target. */
    return (int32_t)(((int64_t)x >> exponent) + (remainder > threshold ? 1 : 0));
}

/* x * multiplier * 2^shift with multiplier a Q31 value; shift in [EHD_SHIFT_MIN, EHD_SHIFT_MAX]. */
static inline int32_t ehd_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    /* TFLM computes x * (1 << left) in int32; wrap like it does instead of overflowing. */
    const int32_t shifted = (int32_t)((uint32_t)x << left);
    return ehd_rounding_divide_by_pot(ehd_doubling_high_mul(shifted, multiplier), right);
}

static inline int32_t ehd_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Requantized accumulator + output zero point, clamped to the activation range. */
static inline int8_t ehd_requantize_s8(int32_t acc, int32_t multiplier, int32_t shift,
                                       int32_t output_offset, int32_t act_min, int32_t act_max)
{
    const int32_t out = ehd_requantize(acc, multiplier, shift) + output_offset;
    return (int8_t)ehd_clamp(out, act_min, act_max);
}

#endif /* EHD_SUPPORT_H */
