/*
 * A bare-metal image that runs kernels on host-generated vectors (see
 * main.c). The host writes the case table, ehd_kernel_cases.c, with
 * edgehdc.device.kernel_image.
 */
#ifndef EHD_KERNEL_IMAGE_H
#define EHD_KERNEL_IMAGE_H

#include <stddef.h>

#include "ehd/ehd_kernels.h"
#include "ehd/ehd_model.h"

/* One kernel call: the op's wrapper on `input` (and `input2`), compared with `expected`. */
typedef struct {
    int op;               /* an ehd_op */
    const void *params;   /* ehd_conv_params, ehd_fc_params, ehd_pool_params or ehd_add_params */
    ehd_offsets offsets;  /* convolutions and FULLY_CONNECTED */
    ehd_dims input_dims;
    const int8_t *input;
    ehd_dims output_dims;
    int8_t *output;
    const int8_t *expected;
    ehd_dims input2_dims; /* ADD's second input */
    const int8_t *input2;
} ehd_kernel_case;

extern const ehd_kernel_case ehd_kernel_cases[];
extern const uint32_t ehd_kernel_case_count;

#endif /* EHD_KERNEL_IMAGE_H */
