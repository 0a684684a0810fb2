/*
 * Scratch image of the cmsis_nn backend: for every case of the generated table
 * (ehd_kernel_cases.c), prints the scratch bytes its adapter asks CMSIS-NN for
 * on the core the image is built for, one line per case over semihosting:
 *   scratch <i> <bytes>
 * (0 for ops without scratch), then "done" and exit code 0. The host compares
 * the values with edgehdc.export.scratch (tests/test_cmsis_nn_device.py).
 */
#include <stdint.h>

#include "../src/kernels/cmsis_nn/ehd_cmsis_nn.h"
#include "ehd/ehd_board.h"
#include "ehd_kernel_image.h"
#include "ehd_semihost_print.h"

static int32_t scratch_bytes(const ehd_kernel_case *c)
{
    switch (c->op) {
    case EHD_OP_CONV_2D:
        return ehd_convolve_s8_cmsis_nn_get_buffer_size((const ehd_conv_params *)c->params, &c->input_dims,
                                                        &c->output_dims);
    case EHD_OP_DEPTHWISE_CONV_2D:
        return ehd_depthwise_conv_s8_cmsis_nn_get_buffer_size((const ehd_conv_params *)c->params,
                                                              &c->input_dims, &c->output_dims);
    case EHD_OP_FULLY_CONNECTED:
        return ehd_fully_connected_s8_cmsis_nn_get_buffer_size((const ehd_fc_params *)c->params);
    case EHD_OP_AVERAGE_POOL_2D:
        return ehd_avgpool_s8_cmsis_nn_get_buffer_size(&c->input_dims, &c->output_dims);
    default:
        return 0;
    }
}

int main(void)
{
    uint32_t i;
    for (i = 0; i < ehd_kernel_case_count; i++) {
        char line[48], *p = line;
        p = put_int(put_str(p, "scratch "), (int32_t)i);
        p = put_int(put_str(p, " "), scratch_bytes(&ehd_kernel_cases[i]));
        p = put_str(p, "\n");
        *p = '\0';
        write0(line);
    }
    write0("done\n");
    ehd_board_exit(0);
}
