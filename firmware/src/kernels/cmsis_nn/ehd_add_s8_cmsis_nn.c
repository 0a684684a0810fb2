/* ADD on CMSIS-NN: arm_elementwise_add_s8 over inputs of the output's shape (it has no broadcasting). */
#include "ehd/ehd_kernels.h"

#if EHD_KERNEL_BACKEND == EHD_BACKEND_CMSIS_NN
#include "../elementwise/ehd_add_support.h"
#include "ehd_cmsis_nn.h"

ehd_status ehd_add_s8_cmsis_nn(const ehd_add_params *add, const ehd_dims *input1_dims,
                               const int8_t *input1, const ehd_dims *input2_dims, const int8_t *input2,
                               const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status =
        ehd_add_check_args(add, input1_dims, input1, input2_dims, input2, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    if (!ehd_dims_equal(input1_dims, output_dims) || !ehd_dims_equal(input2_dims, output_dims) ||
        !ehd_cmsis_offsets_ok(add->input1_offset, add->output_offset) ||
        !ehd_cmsis_offsets_ok(add->input2_offset, add->output_offset)) {
        return EHD_ERR_UNSUPPORTED;
    }
    return ehd_cmsis_status(arm_elementwise_add_s8(
        input1, input2, add->input1_offset, add->input1_multiplier, add->input1_shift, add->input2_offset,
        add->input2_multiplier, add->input2_shift, add->left_shift, output, add->output_offset,
        add->output_multiplier, add->output_shift, add->act_min, add->act_max, ehd_dims_count(output_dims)));
}

int32_t ehd_add_wrapper_s8_get_buffer_size(const ehd_dims *input1_dims, const ehd_dims *input2_dims,
                                           const ehd_dims *output_dims)
{
    (void)input1_dims; /* arm_elementwise_add_s8 takes no scratch */
    (void)input2_dims;
    (void)output_dims;
    return 0;
}

ehd_status ehd_add_wrapper_s8(const ehd_context *ctx, const ehd_add_params *add, const ehd_dims *input1_dims,
                              const int8_t *input1, const ehd_dims *input2_dims, const int8_t *input2,
                              const ehd_dims *output_dims, int8_t *output)
{
    (void)ctx;
    const ehd_status status =
        ehd_add_s8_cmsis_nn(add, input1_dims, input1, input2_dims, input2, output_dims, output);
    return status != EHD_ERR_UNSUPPORTED
               ? status
               : ehd_add_s8(add, input1_dims, input1, input2_dims, input2, output_dims, output);
}
#endif
