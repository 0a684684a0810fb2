/*
 * Kernel test image: runs every case of the generated table once through its
 * op's wrapper (so the build's EHD_KERNEL_BACKEND picks the kernel), counts
 * the output bytes that differ from the expected ones and prints one line per
 * case over semihosting:
 *   case <i> status <ehd_status> mismatches <n> first <index or -1> ticks <t>
 * then exits with the number of failed cases (semihosting exit code). Ticks
 * come from the board's counter (ehd_board_ticks); startup, linker script and
 * exit are those of the emulated board it is built for.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ehd/ehd_board.h"
#include "ehd_kernel_image.h"
#include "ehd_semihost_print.h"

/* The image's own scratch (the firmware plans it per layer in the arena instead): every case gets it
 * all; a case that needs more gets EHD_ERR_ARG from its wrapper. */
#ifndef EHD_KERNEL_SCRATCH_BYTES
#define EHD_KERNEL_SCRATCH_BYTES 16384
#endif
static uint32_t scratch[(EHD_KERNEL_SCRATCH_BYTES + 3) / 4];

static ehd_status run(const ehd_kernel_case *c)
{
    const ehd_context ctx = {scratch, (int32_t)sizeof scratch};
    switch (c->op) {
    case EHD_OP_CONV_2D:
        return ehd_convolve_wrapper_s8(&ctx, (const ehd_conv_params *)c->params, &c->offsets, &c->input_dims,
                                       c->input, &c->output_dims, c->output);
    case EHD_OP_DEPTHWISE_CONV_2D:
        return ehd_depthwise_conv_wrapper_s8(&ctx, (const ehd_conv_params *)c->params, &c->offsets,
                                             &c->input_dims, c->input, &c->output_dims, c->output);
    case EHD_OP_FULLY_CONNECTED:
        return ehd_fully_connected_wrapper_s8(&ctx, (const ehd_fc_params *)c->params, &c->offsets,
                                              &c->input_dims, c->input, &c->output_dims, c->output);
    case EHD_OP_AVERAGE_POOL_2D:
        return ehd_avgpool_wrapper_s8(&ctx, (const ehd_pool_params *)c->params, &c->input_dims, c->input,
                                      &c->output_dims, c->output);
    case EHD_OP_MAX_POOL_2D:
        return ehd_maxpool_wrapper_s8((const ehd_pool_params *)c->params, &c->input_dims, c->input,
                                      &c->output_dims, c->output);
    case EHD_OP_ADD:
        return ehd_add_wrapper_s8(&ctx, (const ehd_add_params *)c->params, &c->input_dims, c->input,
                                  &c->input2_dims, c->input2, &c->output_dims, c->output);
    default:
        return EHD_ERR_UNSUPPORTED;
    }
}

int main(void)
{
    uint32_t i, failed = 0;
    for (i = 0; i < ehd_kernel_case_count; i++) {
        const ehd_kernel_case *c = &ehd_kernel_cases[i];
        const int32_t count = ehd_dims_count(&c->output_dims);
        int32_t j, mismatches = 0, first = -1;
        memset(c->output, 0x5A, (size_t)count); /* a value no earlier case left behind */
        const uint32_t start = ehd_board_ticks();
        const ehd_status status = run(c);
        const uint32_t elapsed = ehd_board_ticks() - start;
        for (j = 0; j < count; j++) {
            if (c->output[j] != c->expected[j]) {
                first = first < 0 ? j : first;
                mismatches++;
            }
        }
        failed += status != EHD_OK || mismatches != 0;
        char line[96], *p = line;
        p = put_int(put_str(p, "case "), (int32_t)i);
        p = put_int(put_str(p, " status "), status);
        p = put_int(put_str(p, " mismatches "), mismatches);
        p = put_int(put_str(p, " first "), first);
        p = put_int(put_str(p, " ticks "), (int32_t)elapsed);
        p = put_str(p, "\n");
        *p = '\0';
        write0(line);
    }
    write0("done\n");
    ehd_board_exit(failed > 255u ? 255 : (int)failed);
}
