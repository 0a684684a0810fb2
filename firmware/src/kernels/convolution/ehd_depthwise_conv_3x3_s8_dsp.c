/*
 * DEPTHWISE_CONV_2D, 3x3 filter, dilation 1, depth multiplier 1, any stride
 * and padding. Four channels at a time over every output pixel: their nine
 * taps of weights are widened into int16 pairs once, and the input offset is
 * folded into the bias (bias + offset * sum of the weights), so a pixel costs
 * per tap one input load, the tap's two weight words, two SXTB16 and four
 * SMLAxy. Taps outside the input hold the zero point: they then add nothing
 * and the folded bias applies unchanged. With the scratch that
 * get_buffer_size() asks for, the four channels of the input are first copied
 * into a padded plane (one word per pixel, the zero point around it), so every
 * window lies inside and small feature maps, mostly border, cost no more per
 * pixel than large ones; without it (the scratch is optional) a border
 * pixel's window is copied on its own. The last C % 4 channels go one by one
 * (ehd_depthwise_dsp.h). MVE: four output pixels of a row whose windows lie
 * inside the input at a time, four channels (int32 lanes) per step: a tap's
 * weights are loaded once for the four pixels and the input offset is folded
 * into the bias; other pixels as the generic kernel's.
 */
#include "ehd/ehd_kernels.h"

#include "ehd_conv_checks.h"
#include "ehd_depthwise_dsp.h"

/* Along one dimension, the outputs [*lo, *hi) whose three taps lie inside the input. */
static void inside_range(int32_t pad, int32_t stride, int32_t in, int32_t out, int32_t *lo, int32_t *hi)
{
    const int32_t first = EHD_MIN((pad + stride - 1) / stride, out);
    const int32_t end = in + pad >= 3 ? (in + pad - 3) / stride + 1 : 0;
    *lo = first;
    *hi = EHD_MAX(first, EHD_MIN(end, out));
}

/* The padded plane's size: every output pixel's window, in words (four channels each). */
static void plane_size(const ehd_conv_params *conv, const ehd_dims *out, int32_t *h, int32_t *w)
{
    *h = (out->h - 1) * conv->stride_h + 3;
    *w = (out->w - 1) * conv->stride_w + 3;
}

/*
 * Channels [c, c + 4) of one batch, padded: plane word (r, j) holds input
 * pixel (r - pad_h, j - pad_w), or the zero point outside the input.
 */
static void pad_plane(const ehd_conv_params *conv, const ehd_dims *in, const int8_t *in_batch, int32_t c,
                      int32_t pad, int32_t plane_h, int32_t plane_w, int32_t *plane)
{
    const int32_t ch = in->c;
    const int32_t lo = EHD_MIN(conv->pad_w, plane_w), hi = EHD_MIN(conv->pad_w + in->w, plane_w);
    int32_t r, j;
    for (r = 0; r < plane_h; r++, plane += plane_w) {
        const int32_t y = r - conv->pad_h;
        for (j = 0; j < plane_w; j++) {
            plane[j] = pad;
        }
        if (y >= 0 && y < in->h) {
            const int8_t *src = in_batch + ((int64_t)y * in->w + lo - conv->pad_w) * ch + c;
            for (j = lo; j < hi; j++, src += ch) {
                plane[j] = ehd_read_s8x4(src);
            }
        }
    }
}

/*
 * Padding the plane (a few instructions a word) costs less than padding the
 * border windows one by one (about 250 instructions each more than an inside
 * pixel): true for small feature maps, where most pixels are border pixels.
 */
static int plane_pays(const ehd_conv_params *conv, const ehd_dims *in, const ehd_dims *out)
{
    int32_t plane_h, plane_w, y0, y1, x0, x1;
    plane_size(conv, out, &plane_h, &plane_w);
    inside_range(conv->pad_h, conv->stride_h, in->h, out->h, &y0, &y1);
    inside_range(conv->pad_w, conv->stride_w, in->w, out->w, &x0, &x1);
    const int64_t border = (int64_t)out->h * out->w - (int64_t)(y1 - y0) * (x1 - x0);
    return (int64_t)plane_h * plane_w < 50 * border;
}

#if !EHD_DSP_MVE
/* Four channels' nine taps, widened, with their bias (input offset folded in) and requantization. */
typedef struct {
    int32_t w[9][2];      /* tap t: channels (c, c+2) and (c+1, c+3) as int16 pairs, one LDRD */
    ehd_dsp_acc4 folded;  /* bias + input_offset * sum of the nine weights, wrapping like int32 */
    int32_t multiplier[4], shift[4];
    int32_t pad;          /* the input zero point in four lanes: a tap outside the input */
} group_weights;

static void widen_group(const ehd_conv_params *conv, int32_t input_offset, int32_t ch, int32_t c,
                        group_weights *g)
{
    int32_t sum02 = 0, sum13 = 0, t, i;
    g->pad = ehd_dup_s8x4(-input_offset);
    for (t = 0; t < 9; t++) {
        const int32_t w = ehd_read_s8x4(conv->weights + t * ch + c);
        g->w[t][0] = ehd_sxtb16(w);
        g->w[t][1] = ehd_sxtb16_ror8(w);
        sum02 = ehd_sadd16(sum02, g->w[t][0]); /* nine int8 values cannot leave an int16 lane */
        sum13 = ehd_sadd16(sum13, g->w[t][1]);
    }
    const int32_t sums[4] = {(int16_t)sum02, (int16_t)sum13, sum02 >> 16, sum13 >> 16};
    int32_t folded[4];
    for (i = 0; i < 4; i++) {
        const int32_t bias = conv->bias != 0 ? conv->bias[c + i] : 0;
        folded[i] = (int32_t)((uint32_t)bias + (uint32_t)input_offset * (uint32_t)sums[i]);
        g->multiplier[i] = conv->multiplier[c + i];
        g->shift[i] = conv->shift[c + i];
    }
    g->folded.a0 = folded[0], g->folded.a1 = folded[1], g->folded.a2 = folded[2], g->folded.a3 = folded[3];
}

/* lo, hi = tap t's two weight words: one LDRD on Cortex-M (GCC would emit two LDR). */
#if EHD_DSP_ACLE
#define TAP_WEIGHTS(g, t, lo, hi) \
    __asm__("ldrd %0, %1, [%2, #8 * " #t "]" : "=r"(lo), "=r"(hi) : "r"((g)->w), "m"((g)->w[t]))
#else
#define TAP_WEIGHTS(g, t, lo, hi) ((lo) = (g)->w[t][0], (hi) = (g)->w[t][1])
#endif

/* One tap: input word x (four channels) against widened weights lo (channels 0, 2), hi (1, 3). */
EHD_DSP_INLINE void tap(ehd_dsp_acc4 *a, int32_t x, int32_t lo, int32_t hi)
{
    const int32_t x02 = ehd_sxtb16(x), x13 = ehd_sxtb16_ror8(x);
    a->a0 = ehd_smlabb(x02, lo, a->a0);
    a->a2 = ehd_smlatt(x02, lo, a->a2);
    a->a1 = ehd_smlabb(x13, hi, a->a1);
    a->a3 = ehd_smlatt(x13, hi, a->a3);
}

#define TAP(t, x)                            \
    do {                                     \
        int32_t lo_, hi_;                    \
        TAP_WEIGHTS(g, t, lo_, hi_);         \
        tap(&a, ehd_read_s8x4(x), lo_, hi_); \
    } while (0)

/*
 * The four channels of one output pixel whose window starts at x (tap (0, 0),
 * channel c; taps `step` bytes apart in a row, rows `row` bytes apart),
 * requantized into a clamped s8x4.
 */
EHD_DSP_INLINE int32_t pixel(const group_weights *g, const int8_t *x, int32_t step, int32_t row,
                             int32_t output_offset, int32_t act_min, int32_t act_max)
{
    ehd_dsp_acc4 a = g->folded;
    const int8_t *x1 = x + row, *x2 = x1 + row; /* unrolled: a loop costs 5 instructions a row */
    TAP(0, x);
    TAP(1, x + step);
    TAP(2, x + 2 * step);
    TAP(3, x1);
    TAP(4, x1 + step);
    TAP(5, x1 + 2 * step);
    TAP(6, x2);
    TAP(7, x2 + step);
    TAP(8, x2 + 2 * step);
    int32_t acc[4] = {a.a0, a.a1, a.a2, a.a3};
    ehd_dsp_requantize4(acc, g->multiplier, g->shift, output_offset);
    return ehd_dsp_pack_clamp(acc, act_min, act_max);
}

/*
 * A border pixel: its window, four channels from c, copied into a 3x3 block of
 * words with the zero point in the taps outside the input (they then add
 * nothing, so the folded bias applies unchanged). Out of line: it is rare.
 */
static int32_t border_pixel(const group_weights *g, const int8_t *in_batch, const ehd_dims *in, int32_t y0,
                            int32_t x0, int32_t c, const ehd_conv_params *conv, int32_t output_offset)
{
    const int32_t row = in->w * in->c;
    const int inside[3] = {x0 >= 0 && x0 < in->w, x0 + 1 >= 0 && x0 + 1 < in->w, x0 + 2 >= 0 && x0 + 2 < in->w};
    const int8_t *at = in_batch + (int64_t)y0 * row + (int64_t)x0 * in->c + c; /* maybe outside */
    int32_t window[9], ky, kx;
    for (ky = 0; ky < 3; ky++, at += row) {
        const int row_inside = y0 + ky >= 0 && y0 + ky < in->h;
        for (kx = 0; kx < 3; kx++) {
            window[3 * ky + kx] = row_inside && inside[kx] ? ehd_read_s8x4(at + kx * in->c) : g->pad;
        }
    }
    return pixel(g, (const int8_t *)window, 4, 12, output_offset, conv->act_min, conv->act_max);
}

/*
 * `count` output pixels of a row whose windows lie inside the input (or the
 * plane): the first window at x, the next `step` bytes on; taps `tap_step`
 * bytes apart, rows `row` bytes apart; outputs to o, o + ch ...
 */
static void row_pixels(const group_weights *g, const int8_t *x, int32_t step, int32_t tap_step, int32_t row,
                       int8_t *o, int32_t ch, int32_t count, const ehd_conv_params *conv, int32_t output_offset)
{
    const int32_t act_min = conv->act_min, act_max = conv->act_max;
    for (; count > 0; count--, x += step, o += ch) {
        ehd_write_s8x4(o, pixel(g, x, tap_step, row, output_offset, act_min, act_max));
    }
}

/* Channels [c, c + 4) of every output pixel, from the padded plane: every window lies inside it. */
static void plane_pixels(const group_weights *g, const ehd_conv_params *conv, int32_t output_offset,
                         const int32_t *plane, int32_t plane_w, const ehd_dims *out, int8_t *out_batch, int32_t ch)
{
    int32_t oy;
    for (oy = 0; oy < out->h; oy++) {
        row_pixels(g, (const int8_t *)(plane + oy * conv->stride_h * plane_w), 4 * conv->stride_w, 4, 4 * plane_w,
                   out_batch + (int64_t)oy * out->w * ch, ch, out->w, conv, output_offset);
    }
}

/* Channels [c, c + 4) of every output pixel of one batch, a border window padded pixel by pixel. */
static void group_pixels(const group_weights *g, const ehd_conv_params *conv, int32_t output_offset,
                         const ehd_dims *in, const int8_t *in_batch, const ehd_dims *out, int8_t *out_batch,
                         int32_t c)
{
    const int32_t ch = in->c, row = in->w * ch, step = conv->stride_w * ch;
    int32_t lo, hi, oy, ox;
    inside_range(conv->pad_w, conv->stride_w, in->w, out->w, &lo, &hi);
    for (oy = 0; oy < out->h; oy++) {
        const int32_t y0 = oy * conv->stride_h - conv->pad_h;
        int8_t *o = out_batch + (int64_t)oy * out->w * ch + c;
        const int rows_inside = y0 >= 0 && y0 + 3 <= in->h;
        const int32_t l = rows_inside ? lo : out->w, h = rows_inside ? hi : out->w;
        for (ox = 0; ox < l; ox++) {
            ehd_write_s8x4(o + ox * ch,
                           border_pixel(g, in_batch, in, y0, ox * conv->stride_w - conv->pad_w, c, conv, output_offset));
        }
        if (h > l) { /* windows inside the input */
            row_pixels(g, in_batch + (int64_t)y0 * row + (int64_t)(l * conv->stride_w - conv->pad_w) * ch + c,
                       step, ch, row, o + l * ch, ch, h - l, conv, output_offset);
        }
        for (ox = h; ox < out->w; ox++) {
            ehd_write_s8x4(o + ox * ch,
                           border_pixel(g, in_batch, in, y0, ox * conv->stride_w - conv->pad_w, c, conv, output_offset));
        }
    }
}
#endif /* !EHD_DSP_MVE */

#if EHD_DSP_MVE
/* The window of output (oy, ox) lies inside the input. */
static int mve_inside(const ehd_conv_params *conv, const ehd_dims *in, int32_t oy, int32_t ox)
{
    const int32_t y0 = oy * conv->stride_h - conv->pad_h, x0 = ox * conv->stride_w - conv->pad_w;
    return y0 >= 0 && y0 + 3 <= in->h && x0 >= 0 && x0 + 3 <= in->w;
}

/*
 * Where a block's input lies: each pixel's window's first value (channel 0)
 * and the byte steps between taps and rows; `channel` is 1 for the input, 0
 * for the plane (which holds the block's four channels only).
 */
typedef struct {
    const int8_t *x[4];
    int32_t tap, row, channel;
} mve_source;

/*
 * Channels [c, c + 4)'s bias + input_offset x the sum of their nine weights:
 * sum of (x + offset) * w = bias + offset * sum of w + sum of x * w, wrapping like int32.
 */
static int32x4_t mve_base(const ehd_conv_params *conv, const ehd_offsets *offsets, int32_t c)
{
    const int32_t ch = conv->filter.c;
    const mve_pred16_t p = vctp32q((uint32_t)(ch - c));
    int32x4_t sum = vdupq_n_s32(0);
    int32_t t;
    for (t = 0; t < 9; t++) {
        sum = vaddq_s32(sum, vldrbq_z_s32(conv->weights + t * ch + c, p));
    }
    const int32x4_t bias = conv->bias != 0 ? vldrwq_z_s32(conv->bias + c, p) : vdupq_n_s32(0);
    return vmlaq_n_s32(bias, sum, offsets->input_offset);
}

/* One tap of four channels x four pixels, then every pointer to the next tap; `load` plain or predicated. */
#define MVE_TAP(load, next)                                         \
    do {                                                            \
        const int32x4_t wv = load(w);                               \
        a0 = vaddq_s32(a0, vmulq_s32(load(x0), wv));                \
        a1 = vaddq_s32(a1, vmulq_s32(load(x1), wv));                \
        a2 = vaddq_s32(a2, vmulq_s32(load(x2), wv));                \
        a3 = vaddq_s32(a3, vmulq_s32(load(x3), wv));                \
        w += ch, x0 += (next), x1 += (next), x2 += (next), x3 += (next); \
    } while (0)
#define MVE_LOAD(ptr) vldrbq_s32(ptr)
#define MVE_LOAD_P(ptr) vldrbq_z_s32(ptr, p)

/* The nine taps: a row's three, then on to the next row. */
#define MVE_TAPS(load)                                              \
    do {                                                            \
        for (ky = 0; ky < 3; ky++) {                                \
            MVE_TAP(load, tap);                                     \
            MVE_TAP(load, tap);                                     \
            MVE_TAP(load, row_next);                                \
        }                                                           \
    } while (0)

/*
 * Channels [c, c + 4) (fewer at the end: predicated) of up to four output
 * pixels whose windows lie inside the source (the input, or the padded plane),
 * the first n stored to out, out + ch ...: per tap one weight load, then per
 * pixel a load, a multiply and an add; `base` (mve_base) holds the bias and the input offset.
 */
static void mve_block(const ehd_conv_params *conv, const ehd_offsets *offsets, const mve_source *src, int32_t c,
                      int32x4_t base, int32_t n, int8_t *out)
{
    const int32_t ch = conv->filter.c, tap = src->tap, row_next = src->row - 2 * src->tap;
    const int32_t first = c * src->channel;
    const mve_pred16_t p = vctp32q((uint32_t)(ch - c));
    int32x4_t a0 = vdupq_n_s32(0), a1 = a0, a2 = a0, a3 = a0;
    const int8_t *w = conv->weights + c;
    const int8_t *x0 = src->x[0] + first, *x1 = src->x[1] + first, *x2 = src->x[2] + first,
                 *x3 = src->x[3] + first;
    int32_t ky;
    if (c + 4 <= ch) {
        MVE_TAPS(MVE_LOAD); /* unpredicated: VPST costs an instruction per load */
    } else {
        MVE_TAPS(MVE_LOAD_P);
    }
    const int32x4_t m = vldrwq_z_s32(conv->multiplier + c, p), sh = vldrwq_z_s32(conv->shift + c, p);
    const int32_t o = offsets->output_offset, lo = conv->act_min, hi = conv->act_max;
    vstrbq_p_s32(out, ehd_mve_requantize(vaddq_s32(a0, base), m, sh, o, lo, hi), p);
    if (n > 1) {
        vstrbq_p_s32(out + ch, ehd_mve_requantize(vaddq_s32(a1, base), m, sh, o, lo, hi), p);
    }
    if (n > 2) {
        vstrbq_p_s32(out + 2 * ch, ehd_mve_requantize(vaddq_s32(a2, base), m, sh, o, lo, hi), p);
    }
    if (n > 3) {
        vstrbq_p_s32(out + 3 * ch, ehd_mve_requantize(vaddq_s32(a3, base), m, sh, o, lo, hi), p);
    }
}

/* One batch straight from the input: four inside pixels of a row at a time, the others on their clipped window. */
static void mve_direct(const ehd_conv_params *conv, const ehd_offsets *offsets, const ehd_dims *in,
                       const int8_t *in_batch, const ehd_dims *out_dims, int8_t *out)
{
    const int32_t ch = in->c, row = in->w * ch;
    int32_t oy, ox, c;
    for (oy = 0; oy < out_dims->h; oy++) {
        for (ox = 0; ox < out_dims->w;) {
            if (ox + 4 <= out_dims->w && mve_inside(conv, in, oy, ox) && mve_inside(conv, in, oy, ox + 3)) {
                const int8_t *x = in_batch + (int64_t)(oy * conv->stride_h - conv->pad_h) * row +
                                  (int64_t)(ox * conv->stride_w - conv->pad_w) * ch;
                const int32_t step = conv->stride_w * ch;
                const mve_source src = {{x, x + step, x + 2 * step, x + 3 * step}, ch, row, 1};
                for (c = 0; c < ch; c += 4) {
                    mve_block(conv, offsets, &src, c, mve_base(conv, offsets, c), 4, out + c);
                }
                ox += 4, out += 4 * ch;
            } else {
                const ehd_dsp_window win = ehd_dsp_depthwise_window(conv, in, in_batch, oy, ox);
                ehd_dsp_depthwise_window_sum(&win, 0, ch, conv, offsets, out);
                ox++, out += ch;
            }
        }
    }
}

/*
 * Channels [c, c + 4) of one batch from the padded plane (four channels a
 * word): every window lies inside it, so any four consecutive output pixels
 * (across rows too) make a block; the last block repeats its last pixel.
 */
static void mve_plane(const ehd_conv_params *conv, const ehd_offsets *offsets, const int8_t *plane,
                      int32_t plane_w, const ehd_dims *out_dims, int32_t c, int8_t *out)
{
    const int32_t pixels = out_dims->h * out_dims->w;
    mve_source src = {{0, 0, 0, 0}, 4, 4 * plane_w, 0};
    const int32x4_t base = mve_base(conv, offsets, c);
    int32_t i, s;
    for (i = 0; i < pixels; i += 4) {
        for (s = 0; s < 4; s++) {
            const int32_t q = EHD_MIN(i + s, pixels - 1), oy = q / out_dims->w, ox = q % out_dims->w;
            src.x[s] = plane + 4 * (oy * conv->stride_h * plane_w + ox * conv->stride_w);
        }
        mve_block(conv, offsets, &src, c, base, EHD_MIN(4, pixels - i), out + (int64_t)i * out_dims->c + c);
    }
}
#endif

int32_t ehd_depthwise_conv_3x3_s8_dsp_get_buffer_size(const ehd_conv_params *conv, const ehd_dims *output_dims)
{
    if (conv == 0 || output_dims == 0 || output_dims->h <= 0 || output_dims->w <= 0) {
        return 0;
    }
    const int64_t bytes = 4 * ((int64_t)(output_dims->h - 1) * conv->stride_h + 3) *
                          ((int64_t)(output_dims->w - 1) * conv->stride_w + 3);
    return bytes > INT32_MAX ? INT32_MAX : (int32_t)bytes;
}

ehd_status ehd_depthwise_conv_3x3_s8_dsp(const ehd_context *ctx, const ehd_conv_params *conv,
                                         const ehd_offsets *offsets, const ehd_dims *input_dims,
                                         const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status =
        ehd_depthwise_check_args(conv, offsets, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    if (conv->depth_multiplier != 1 || conv->filter.h != 3 || conv->filter.w != 3 ||
        conv->dilation_h != 1 || conv->dilation_w != 1) {
        return EHD_ERR_UNSUPPORTED;
    }
    const int32_t ch = input_dims->c, row = input_dims->w * ch;
    const int64_t in_batch_size = (int64_t)input_dims->h * row;
    int32_t b, oy, ox, c;
#if EHD_DSP_MVE
    /* MVE: small maps (mostly border) from the padded plane four channels at a time, else from the input. */
    int32_t plane_h, plane_w;
    plane_size(conv, output_dims, &plane_h, &plane_w);
    /* Measured: below 16 output pixels (3x3 maps) filling the plane costs more than the blocks save. */
    const int with_plane = ch >= 4 && output_dims->h * output_dims->w >= 16 &&
                           plane_pays(conv, input_dims, output_dims) &&
                           ehd_dsp_scratch_ok(ctx, ehd_depthwise_conv_3x3_s8_dsp_get_buffer_size(conv, output_dims));
    for (b = 0; b < output_dims->n; b++, output += (int64_t)output_dims->h * output_dims->w * ch) {
        const int8_t *in_batch = input + b * in_batch_size;
        if (!with_plane) {
            mve_direct(conv, offsets, input_dims, in_batch, output_dims, output);
            continue;
        }
        for (c = 0; c + 4 <= ch; c += 4) {
            pad_plane(conv, input_dims, in_batch, c, ehd_dup_s8x4(-offsets->input_offset), plane_h, plane_w,
                      (int32_t *)ctx->buf);
            mve_plane(conv, offsets, (const int8_t *)ctx->buf, plane_w, output_dims, c, output);
        }
        if (c < ch) { /* the last C % 4 channels, pixel by pixel on the clipped window */
            int8_t *out = output;
            for (oy = 0; oy < output_dims->h; oy++) {
                for (ox = 0; ox < output_dims->w; ox++, out += ch) {
                    const ehd_dsp_window win = ehd_dsp_depthwise_window(conv, input_dims, in_batch, oy, ox);
                    ehd_dsp_depthwise_window_sum(&win, c, ch, conv, offsets, out);
                }
            }
        }
    }
    (void)row;
    return EHD_OK;
#else
    group_weights g;
    int32_t plane_h, plane_w;
    plane_size(conv, output_dims, &plane_h, &plane_w);
    const int with_plane = plane_pays(conv, input_dims, output_dims) &&
                           ehd_dsp_scratch_ok(ctx, ehd_depthwise_conv_3x3_s8_dsp_get_buffer_size(conv, output_dims));

    for (c = 0; c + 4 <= ch; c += 4) {
        widen_group(conv, offsets->input_offset, ch, c, &g);
        for (b = 0; b < output_dims->n; b++) {
            const int8_t *in_batch = input + b * in_batch_size;
            int8_t *out_batch = output + (int64_t)b * output_dims->h * output_dims->w * ch + c;
            if (with_plane) {
                pad_plane(conv, input_dims, in_batch, c, g.pad, plane_h, plane_w, (int32_t *)ctx->buf);
                plane_pixels(&g, conv, offsets->output_offset, (const int32_t *)ctx->buf, plane_w, output_dims,
                             out_batch, ch);
            } else {
                group_pixels(&g, conv, offsets->output_offset, input_dims, in_batch, output_dims, out_batch - c, c);
            }
        }
    }
    if (c < ch) { /* the last C % 4 channels, pixel by pixel on the clipped window */
        for (b = 0; b < output_dims->n; b++) {
            const int8_t *in_batch = input + b * in_batch_size;
            int8_t *out = output + (int64_t)b * output_dims->h * output_dims->w * ch;
            for (oy = 0; oy < output_dims->h; oy++) {
                for (ox = 0; ox < output_dims->w; ox++, out += ch) {
                    const ehd_dsp_window win = ehd_dsp_depthwise_window(conv, input_dims, in_batch, oy, ox);
                    ehd_dsp_depthwise_window_sum(&win, c, ch, conv, offsets, out);
                }
            }
        }
    }
    return EHD_OK;
#endif
}
