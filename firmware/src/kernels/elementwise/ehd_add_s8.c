/* ADD, int8, with broadcasting: TFLM's reference integer Add and BroadcastAdd4DSlow. */
#include "ehd/ehd_kernels.h"
#include "ehd/ehd_support.h"

#include "ehd_add_support.h"

static inline int8_t add_one(const ehd_add_params *p, int8_t a, int8_t b)
{
    const int32_t sum = ehd_wrap_add(
        ehd_add_scale_input(a, p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift),
        ehd_add_scale_input(b, p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift));
    return ehd_requantize_s8(sum, p->output_multiplier, p->output_shift, p->output_offset, p->act_min,
                             p->act_max);
}

/* Element strides of an input inside the output's index space: 0 along a broadcast dimension. */
static void strides(const ehd_dims *d, int32_t s[4])
{
    s[3] = d->c == 1 ? 0 : 1;
    s[2] = d->w == 1 ? 0 : d->c;
    s[1] = d->h == 1 ? 0 : d->w * d->c;
    s[0] = d->n == 1 ? 0 : d->h * d->w * d->c;
}

ehd_status ehd_add_s8(const ehd_add_params *add, const ehd_dims *input1_dims, const int8_t *input1,
                      const ehd_dims *input2_dims, const int8_t *input2, const ehd_dims *output_dims,
                      int8_t *output)
{
    const ehd_status status =
        ehd_add_check_args(add, input1_dims, input1, input2_dims, input2, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    if (ehd_dims_equal(input1_dims, output_dims) && ehd_dims_equal(input2_dims, output_dims)) {
        const int32_t count = ehd_dims_count(output_dims);
        int32_t i;
        for (i = 0; i < count; i++) {
            output[i] = add_one(add, input1[i], input2[i]);
        }
        return EHD_OK;
    }
    int32_t sa[4], sb[4], n, h, w, c;
    strides(input1_dims, sa);
    strides(input2_dims, sb);
    for (n = 0; n < output_dims->n; n++) {
        for (h = 0; h < output_dims->h; h++) {
            for (w = 0; w < output_dims->w; w++) {
                const int8_t *a = input1 + n * sa[0] + h * sa[1] + w * sa[2];
                const int8_t *b = input2 + n * sb[0] + h * sb[1] + w * sb[2];
                for (c = 0; c < output_dims->c; c++) {
                    *output++ = add_one(add, a[c * sa[3]], b[c * sb[3]]);
                }
            }
        }
    }
    return EHD_OK;
}

#if EHD_KERNEL_BACKEND != EHD_BACKEND_CMSIS_NN /* cmsis_nn: the wrapper is in cmsis_nn/ */
int32_t ehd_add_wrapper_s8_get_buffer_size(const ehd_dims *input1_dims, const ehd_dims *input2_dims,
                                           const ehd_dims *output_dims)
{
#if EHD_KERNEL_BACKEND == EHD_BACKEND_DSP
    /* Same-shape inputs take the table kernel; broadcasting runs portable and needs none. */
    const int same = input1_dims != 0 && input2_dims != 0 && output_dims != 0 &&
                     ehd_dims_equal(input1_dims, output_dims) && ehd_dims_equal(input2_dims, output_dims);
    return same ? ehd_add_s8_dsp_get_buffer_size() : 0;
#else
    (void)input1_dims;
    (void)input2_dims;
    (void)output_dims;
    return 0;
#endif
}

ehd_status ehd_add_wrapper_s8(const ehd_context *ctx, const ehd_add_params *add, const ehd_dims *input1_dims,
                              const int8_t *input1, const ehd_dims *input2_dims, const int8_t *input2,
                              const ehd_dims *output_dims, int8_t *output)
{
#if EHD_KERNEL_BACKEND == EHD_BACKEND_DSP
    const ehd_status status =
        ehd_add_s8_dsp(ctx, add, input1_dims, input1, input2_dims, input2, output_dims, output);
    if (status != EHD_ERR_UNSUPPORTED) {
        return status;
    }
#endif
    (void)ctx;
    return ehd_add_s8(add, input1_dims, input1, input2_dims, input2, output_dims, output);
}
#endif
