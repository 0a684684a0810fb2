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

/* round(x / 2^exponent), ties away from zero; 0 <= exponent <= 62 (64-bit arithmetic). */
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

/* a + b with int32 two's complement wrap-around, as TFLM's accumulators behave (no UB). */
static inline int32_t ehd_wrap_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

/* acc + (x + offset) * w modulo 2^32: TFLM's int32 multiply-accumulate, never a signed overflow. */
static inline int32_t ehd_mac(int32_t acc, int32_t x, int32_t offset, int32_t w)
{
    return (int32_t)((uint32_t)acc + ((uint32_t)x + (uint32_t)offset) * (uint32_t)w);
}

/* Requantized accumulator + output zero point, clamped to the activation range. */
static inline int8_t ehd_requantize_s8(int32_t acc, int32_t multiplier, int32_t shift,
                                       int32_t output_offset, int32_t act_min, int32_t act_max)
{
    /* In 64 bits: a requantized value near INT32_MAX plus the offset must clamp, not wrap. */
    const int64_t out = (int64_t)ehd_requantize(acc, multiplier, shift) + output_offset;
    return (int8_t)(out < act_min ? act_min : (out > act_max ? act_max : out));
}

/*
 * gemmlowp fixed point for SOFTMAX (TFLM reference softmax.h). A FixedPoint<int32, I> value is
 * raw / 2^(31 - I); products are ehd_doubling_high_mul, sums wrap like int32.
 */

/* x * 2^exponent saturated to int32 (SaturatingRoundingMultiplyByPOT, 0 < exponent < 31). */
static inline int32_t ehd_saturating_shift_left(int32_t x, int32_t exponent)
{
    const int32_t threshold = (int32_t)(((uint32_t)1 << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* Leading zero bits of x as an unsigned 32-bit value (32 for 0). */
static inline int32_t ehd_count_leading_zeros(uint32_t x)
{
    int32_t n = 0;
    while (n < 32 && (x & ((uint32_t)1 << (31 - n))) == 0) {
        n++;
    }
    return n;
}

/* exp(a) for a Q0.31 value a in [-1/4, 0): Taylor series around -1/8. */
static inline int32_t ehd_exp_on_quarter_interval(int32_t a)
{
    const int32_t constant_term = 1895147668; /* exp(-1/8) */
    const int32_t one_third = 715827883;
    const int32_t x = ehd_wrap_add(a, 1 << 28); /* a + 1/8 */
    const int32_t x2 = ehd_doubling_high_mul(x, x);
    const int32_t x3 = ehd_doubling_high_mul(x2, x);
    const int32_t x4 = ehd_doubling_high_mul(x2, x2);
    const int32_t x4_over_4 = ehd_rounding_divide_by_pot(x4, 2);
    const int32_t poly = ehd_wrap_add(
        ehd_doubling_high_mul(ehd_wrap_add(x4_over_4, x3), one_third), x2);
    const int32_t tail = ehd_rounding_divide_by_pot(poly, 1);
    return ehd_wrap_add(constant_term,
                        ehd_doubling_high_mul(constant_term, ehd_wrap_add(x, tail)));
}

/* gemmlowp exp_on_negative_values for a Q5.26 value a <= 0; returns Q0.31. */
static inline int32_t ehd_exp_on_negative_values(int32_t a)
{
    /* exp(-2^k) in Q0.31 for k = -2 .. 4: a barrel shifter over the integer bits. */
    static const int32_t exp_of_minus_pot[7] = {1672461947, 1302514674, 790015084, 290630308,
                                                39332535, 720401, 242};
    const int32_t frac_bits = 26;
    const int32_t one_quarter = (int32_t)1 << (frac_bits - 2);
    const int32_t a_mod = (a & (one_quarter - 1)) - one_quarter;
    const int32_t remainder = (int32_t)((uint32_t)a_mod - (uint32_t)a);
    int32_t result = ehd_exp_on_quarter_interval(ehd_saturating_shift_left(a_mod, 5));
    int32_t k;
    for (k = -2; k <= 4; k++) {
        if ((uint32_t)remainder & ((uint32_t)1 << (frac_bits + k))) {
            result = ehd_doubling_high_mul(result, exp_of_minus_pot[k + 2]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a Q0.31 value a in [0, 1): Newton-Raphson in Q2.29; returns Q0.31. */
static inline int32_t ehd_one_over_one_plus_x(int32_t a)
{
    /* (a + 1) / 2 rounded half away from zero (C division truncates). */
    int64_t sum = (int64_t)a + INT32_MAX;
    sum += sum >= 0 ? 1 : -1;
    const int32_t half_denominator = (int32_t)(sum / 2);
    /* x0 = 48/17 - 32/17 * half_denominator */
    int32_t x = ehd_wrap_add(1515870810, ehd_doubling_high_mul(half_denominator, -1010580540));
    int32_t i;
    for (i = 0; i < 3; i++) {
        const int32_t one_minus = (int32_t)(((uint32_t)1 << 29) -
                                            (uint32_t)ehd_doubling_high_mul(half_denominator, x));
        x = ehd_wrap_add(x, ehd_saturating_shift_left(ehd_doubling_high_mul(x, one_minus), 2));
    }
    return ehd_saturating_shift_left(x, 1);
}

/*
 * TFLite GetReciprocal for a FixedPoint<int32, integer_bits> x: returns the Q0.31 scale and sets
 * *num_bits_over_unit so that 1 / x ~= scale * 2^-num_bits_over_unit.
 */
static inline int32_t ehd_reciprocal(int32_t x, int32_t integer_bits, int32_t *num_bits_over_unit)
{
    const int32_t headroom_plus_one = ehd_count_leading_zeros((uint32_t)x);
    *num_bits_over_unit = integer_bits - headroom_plus_one;
    const uint32_t shifted = headroom_plus_one < 32 ? (uint32_t)x << headroom_plus_one : 0u;
    return ehd_one_over_one_plus_x((int32_t)(shifted - ((uint32_t)1 << 31)));
}

#endif /* EHD_SUPPORT_H */
