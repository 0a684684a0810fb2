/*
 * Building blocks of the `dsp` kernel backend (private to firmware/src/kernels).
 *
 * On a core with the DSP extension (Cortex-M4/M7/M33/M55) each helper is one
 * instruction: an ACLE intrinsic from the compiler's arm_acle.h, or inline
 * assembly for the three forms ACLE lacks (SXTB16/SXTAB16 with ROR #8, PKHBT).
 * Elsewhere (the host bindings, Cortex-M0/M3) each is plain C computing the
 * same bits, so every dsp kernel builds and is tested on any machine.
 * EHD_DSP_MVE is 1 on a core with integer MVE (Helium, Cortex-M55): the
 * kernels then take their arm_mve.h paths.
 *
 * Packed values are little-endian words: an "s8x4" holds four int8 lanes,
 * an "s16x2" two int16 lanes (lane 0 in the low bits).
 */
#ifndef EHD_DSP_H
#define EHD_DSP_H

#include <stdint.h>
#include <string.h>

#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

/*
 * GCC's scheduling before register allocation lengthens live ranges past the
 * 13 registers these loops need, and they spill: the dsp kernels count
 * instructions, not pipeline stalls, so they are built without it.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__arm__)
#pragma GCC optimize("no-schedule-insns")
#endif

/* The helpers below must inline: each is a few instructions inside a hot loop. */
#if defined(__GNUC__)
#define EHD_DSP_INLINE static inline __attribute__((always_inline))
#else
#define EHD_DSP_INLINE static inline
#endif

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#define EHD_DSP_ACLE 1
#else
#define EHD_DSP_ACLE 0
#endif

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#define EHD_DSP_MVE 1
#else
#define EHD_DSP_MVE 0
#endif

/* The caller's scratch holds `bytes`, word-aligned (a NULL buffer is fine when none is needed: the
 * runtime plans no arena bytes for a layer whose kernel asks for 0). */
static inline int ehd_dsp_scratch_ok(const ehd_context *ctx, int32_t bytes)
{
    if (ctx == 0 || ctx->size < bytes || ((uintptr_t)ctx->buf & 3u) != 0) {
        return 0;
    }
    return bytes == 0 || ctx->buf != 0;
}

/* Unaligned word access (one LDR/STR on Cortex-M, which allows unaligned words). */
EHD_DSP_INLINE int32_t ehd_read_s8x4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

EHD_DSP_INLINE void ehd_write_s8x4(int8_t *p, int32_t v) { memcpy(p, &v, sizeof v); }

#if !EHD_DSP_ACLE
EHD_DSP_INLINE int32_t ehd_s8_lane(int32_t x, int lane) { return (int8_t)(uint8_t)((uint32_t)x >> (8 * lane)); }
EHD_DSP_INLINE int32_t ehd_s16_lane(int32_t x, int lane) { return (int16_t)(uint16_t)((uint32_t)x >> (16 * lane)); }
EHD_DSP_INLINE int32_t ehd_s16x2(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16));
}
#endif

/* SXTB16: lanes 0 and 2 of an s8x4, sign-extended to an s16x2. */
EHD_DSP_INLINE int32_t ehd_sxtb16(int32_t x)
{
#if EHD_DSP_ACLE
    return __sxtb16(x);
#else
    return ehd_s16x2(ehd_s8_lane(x, 0), ehd_s8_lane(x, 2));
#endif
}

/* SXTB16 x, ROR #8: lanes 1 and 3 of an s8x4 as an s16x2. */
EHD_DSP_INLINE int32_t ehd_sxtb16_ror8(int32_t x)
{
#if EHD_DSP_ACLE
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
#else
    return ehd_s16x2(ehd_s8_lane(x, 1), ehd_s8_lane(x, 3));
#endif
}

/* SXTAB16 acc, x: each int16 lane of acc plus lane 0 / 2 of the s8x4 x (wrapping). */
EHD_DSP_INLINE int32_t ehd_sxtab16(int32_t acc, int32_t x)
{
#if EHD_DSP_ACLE
    return __sxtab16(acc, x);
#else
    return ehd_s16x2(ehd_s16_lane(acc, 0) + ehd_s8_lane(x, 0), ehd_s16_lane(acc, 1) + ehd_s8_lane(x, 2));
#endif
}

/* SXTAB16 acc, x, ROR #8: as ehd_sxtab16 with lanes 1 / 3 of x. */
EHD_DSP_INLINE int32_t ehd_sxtab16_ror8(int32_t acc, int32_t x)
{
#if EHD_DSP_ACLE
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(x));
    return r;
#else
    return ehd_s16x2(ehd_s16_lane(acc, 0) + ehd_s8_lane(x, 1), ehd_s16_lane(acc, 1) + ehd_s8_lane(x, 3));
#endif
}

/* SADD16: lane-wise int16 add (wrapping). */
EHD_DSP_INLINE int32_t ehd_sadd16(int32_t a, int32_t b)
{
#if EHD_DSP_ACLE
    return __sadd16(a, b);
#else
    return ehd_s16x2(ehd_s16_lane(a, 0) + ehd_s16_lane(b, 0), ehd_s16_lane(a, 1) + ehd_s16_lane(b, 1));
#endif
}

/* SMLAD: acc + a.lo * b.lo + a.hi * b.hi (wrapping). */
EHD_DSP_INLINE int32_t ehd_smlad(int32_t a, int32_t b, int32_t acc)
{
#if EHD_DSP_ACLE
    return __smlad(a, b, acc);
#else
    return (int32_t)((uint32_t)acc + (uint32_t)(ehd_s16_lane(a, 0) * ehd_s16_lane(b, 0)) +
                     (uint32_t)(ehd_s16_lane(a, 1) * ehd_s16_lane(b, 1)));
#endif
}

/* SMLABB / SMLATT: acc + a.lo * b.lo, acc + a.hi * b.hi (wrapping). */
EHD_DSP_INLINE int32_t ehd_smlabb(int32_t a, int32_t b, int32_t acc)
{
#if EHD_DSP_ACLE
    return __smlabb(a, b, acc);
#else
    return (int32_t)((uint32_t)acc + (uint32_t)(ehd_s16_lane(a, 0) * ehd_s16_lane(b, 0)));
#endif
}

EHD_DSP_INLINE int32_t ehd_smlatt(int32_t a, int32_t b, int32_t acc)
{
#if EHD_DSP_ACLE
    return __smlatt(a, b, acc);
#else
    return (int32_t)((uint32_t)acc + (uint32_t)(ehd_s16_lane(a, 1) * ehd_s16_lane(b, 1)));
#endif
}

/* QADD: saturating int32 add. */
EHD_DSP_INLINE int32_t ehd_qadd(int32_t a, int32_t b)
{
#if EHD_DSP_ACLE
    return __qadd(a, b);
#else
    const int64_t s = (int64_t)a + b;
    return s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
#endif
}

/* SSAT #8 of x >> 1 (one instruction: ssat rd, #8, rn, asr #1). */
EHD_DSP_INLINE int32_t ehd_ssat8_half(int32_t x)
{
#if EHD_DSP_ACLE
    return __ssat(x >> 1, 8);
#else
    return ehd_clamp(x >> 1, INT8_MIN, INT8_MAX);
#endif
}

/* PKHBT: lo16(a) | hi16(b << 16). */
EHD_DSP_INLINE int32_t ehd_pkhbt16(int32_t a, int32_t b)
{
#if EHD_DSP_ACLE
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return ehd_s16x2(a, b);
#endif
}

/* Four int8 values (each already in [-128, 127]) as an s8x4: a in lane 0 ... d in lane 3. */
EHD_DSP_INLINE int32_t ehd_pack_s8x4(int32_t a, int32_t b, int32_t c, int32_t d)
{
    const uint32_t ac = (uint32_t)ehd_pkhbt16(a, c);
    const uint32_t bd = (uint32_t)ehd_pkhbt16(b, d);
    return (int32_t)((ac & 0x00FF00FFu) | ((bd & 0x00FF00FFu) << 8));
}

/* The int8 value v in all four lanes. */
EHD_DSP_INLINE int32_t ehd_dup_s8x4(int32_t v) { return (int32_t)(((uint32_t)v & 0xFFu) * 0x01010101u); }

/* Lane-wise max / min of two s8x4 (SSUB8 sets the GE flags, SEL picks by them). */
EHD_DSP_INLINE int32_t ehd_max_s8x4(int32_t a, int32_t b)
{
#if EHD_DSP_ACLE
    (void)__ssub8(a, b);
    return (int32_t)__sel((uint32_t)a, (uint32_t)b);
#else
    return ehd_pack_s8x4(EHD_MAX(ehd_s8_lane(a, 0), ehd_s8_lane(b, 0)), EHD_MAX(ehd_s8_lane(a, 1), ehd_s8_lane(b, 1)),
                         EHD_MAX(ehd_s8_lane(a, 2), ehd_s8_lane(b, 2)), EHD_MAX(ehd_s8_lane(a, 3), ehd_s8_lane(b, 3)));
#endif
}

EHD_DSP_INLINE int32_t ehd_min_s8x4(int32_t a, int32_t b)
{
#if EHD_DSP_ACLE
    (void)__ssub8(a, b);
    return (int32_t)__sel((uint32_t)b, (uint32_t)a);
#else
    return ehd_pack_s8x4(EHD_MIN(ehd_s8_lane(a, 0), ehd_s8_lane(b, 0)), EHD_MIN(ehd_s8_lane(a, 1), ehd_s8_lane(b, 1)),
                         EHD_MIN(ehd_s8_lane(a, 2), ehd_s8_lane(b, 2)), EHD_MIN(ehd_s8_lane(a, 3), ehd_s8_lane(b, 3)));
#endif
}

/*
 * Requantization: for every int32 accumulator both forms return exactly
 *   clamp(ehd_requantize(acc, multiplier, shift) + output_offset, -128, 127)
 * (the kernels then clamp to the activation range).
 *
 * ehd_dsp_requantize_right() is the usual case, a right shift (shift < 0),
 * in nine instructions:
 * - SMLAL into a 64-bit accumulator that starts at 2^30, then bits [62:31],
 *   is gemmlowp's doubling high multiply: floor((acc * m + 2^30) / 2^31)
 *   equals its ties-toward-+inf rounding for every acc and every m >= 0.
 * - Rounding divide by 2^r, ties away from zero, is round-half-up of
 *   y = h - (h < 0): floor((floor(y / 2^(r - 1)) + 1) / 2), which never
 *   overflows. The output offset joins the final halving as 2 * offset + 1;
 *   QADD saturates where that sum leaves int32, which only happens when the
 *   result is far outside int8 and so clamps to the same value.
 * ehd_dsp_requantize_any() takes any shift (the reference arithmetic).
 */
/* The second half: h (the doubling high product) divided by 2^-shift, offset, saturated. */
EHD_DSP_INLINE int32_t ehd_dsp_round_right(int32_t h, int32_t shift, int32_t offset2p1)
{
    return ehd_ssat8_half(ehd_qadd((h + (h >> 31)) >> (-shift - 1), offset2p1));
}

EHD_DSP_INLINE int32_t ehd_dsp_requantize_right(int32_t acc, int32_t multiplier, int32_t shift,
                                                int32_t offset2p1)
{
    /* >> of a negative int64 is arithmetic on every compiler we target. */
    const int32_t h = (int32_t)(((int64_t)acc * multiplier + ((int64_t)1 << 30)) >> 31);
    return ehd_dsp_round_right(h, shift, offset2p1);
}

/*
 * SMMULR: (a * b + 2^31) >> 32, the rounded high word. For a = 2 * acc (acc
 * within +-2^30) it is the doubling high multiply of acc by b, in one
 * instruction instead of SMLAL and two to take bits [62:31].
 */
EHD_DSP_INLINE int32_t ehd_smmulr(int32_t a, int32_t b)
{
#if EHD_DSP_ACLE
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
#endif
}

/* Out of line (ehd_dsp.c): the rare path, kept out of the hot loops. */
int32_t ehd_dsp_requantize_any(int32_t acc, int32_t multiplier, int32_t shift, int32_t output_offset);

/* a[i] requantized in place with multiplier m[i] and shift s[i], into [-128, 127]. */
EHD_DSP_INLINE void ehd_dsp_requantize4(int32_t a[4], const int32_t m[4], const int32_t s[4],
                                        int32_t output_offset)
{
    if ((s[0] & s[1] & s[2] & s[3]) < 0) { /* all four shift right: the usual case */
        const int32_t o = 2 * output_offset + 1;
        a[0] = ehd_dsp_requantize_right(a[0], m[0], s[0], o);
        a[1] = ehd_dsp_requantize_right(a[1], m[1], s[1], o);
        a[2] = ehd_dsp_requantize_right(a[2], m[2], s[2], o);
        a[3] = ehd_dsp_requantize_right(a[3], m[3], s[3], o);
    } else {
        a[0] = ehd_dsp_requantize_any(a[0], m[0], s[0], output_offset);
        a[1] = ehd_dsp_requantize_any(a[1], m[1], s[1], output_offset);
        a[2] = ehd_dsp_requantize_any(a[2], m[2], s[2], output_offset);
        a[3] = ehd_dsp_requantize_any(a[3], m[3], s[3], output_offset);
    }
}

/* The activation range is all of int8 (no activation, or one the output zero point covers). */
EHD_DSP_INLINE int ehd_dsp_full_range(int32_t act_min, int32_t act_max)
{
    return act_min == INT8_MIN && act_max == INT8_MAX;
}

/* Four values in [-128, 127] packed into an s8x4 and clamped to [act_min, act_max]. */
EHD_DSP_INLINE int32_t ehd_dsp_pack_clamp(const int32_t a[4], int32_t act_min, int32_t act_max)
{
    const int32_t packed = ehd_pack_s8x4(a[0], a[1], a[2], a[3]);
    if (ehd_dsp_full_range(act_min, act_max)) {
        return packed;
    }
    return ehd_min_s8x4(ehd_max_s8x4(packed, ehd_dup_s8x4(act_min)), ehd_dup_s8x4(act_max));
}

/* One accumulator requantized and clamped to [act_min, act_max]. */
EHD_DSP_INLINE int8_t ehd_dsp_requantize_1ch(int32_t acc, int32_t multiplier, int32_t shift,
                                             int32_t output_offset, int32_t act_min, int32_t act_max)
{
    const int32_t r = shift < 0 ? ehd_dsp_requantize_right(acc, multiplier, shift, 2 * output_offset + 1)
                                : ehd_dsp_requantize_any(acc, multiplier, shift, output_offset);
    return (int8_t)ehd_clamp(r, act_min, act_max);
}

#if EHD_DSP_MVE
/*
 * MVE requantization of four int32 lanes, each with its own multiplier and
 * shift, plus the output offset, clamped to [act_min, act_max]: lane-wise the
 * same arithmetic as ehd_requantize. VQRDMULH is gemmlowp's doubling high
 * multiply (ties toward +inf; it saturates only for INT32_MIN * INT32_MIN, and
 * multipliers are >= 0). VRSHL by a negative amount rounds ties toward +inf,
 * so negative values first lose 1 (a saturating add): ties then go away from
 * zero, as RoundingDivideByPOT's. The offset is added saturating, so a value
 * far outside int8 clamps instead of wrapping.
 */
EHD_DSP_INLINE int32x4_t ehd_mve_requantize(int32x4_t acc, int32x4_t multiplier, int32x4_t shift,
                                            int32_t output_offset, int32_t act_min, int32_t act_max)
{
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t left = vmaxq_s32(shift, zero), right = vminq_s32(shift, zero);
    int32x4_t h = vqrdmulhq_s32(vshlq_s32(acc, left), multiplier);
    h = vqaddq_s32(h, vshrq_n_s32(vandq_s32(h, right), 31)); /* -1 where h < 0 and right < 0 */
    h = vqaddq_n_s32(vrshlq_s32(h, right), output_offset);
    return vminq_s32(vmaxq_s32(h, vdupq_n_s32(act_min)), vdupq_n_s32(act_max));
}
#endif

#endif /* EHD_DSP_H */
