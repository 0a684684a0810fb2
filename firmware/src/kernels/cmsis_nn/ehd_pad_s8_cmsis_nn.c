/* PAD on CMSIS-NN: arm_pad_s8 (values copied, padding filled with the output zero point). */
#include "ehd/ehd_kernels.h"

#if EHD_KERNEL_BACKEND == EHD_BACKEND_CMSIS_NN
#include "../shape/ehd_pad_checks.h"
#include "ehd_cmsis_nn.h"

ehd_status ehd_pad_s8_cmsis_nn(const ehd_pad_params *pad, const ehd_dims *input_dims,
                               const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = ehd_pad_check_args(pad, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    const cmsis_nn_dims in = ehd_cmsis_dims(input_dims);
    const cmsis_nn_dims before = {pad->before[0], pad->before[1], pad->before[2], pad->before[3]};
    const cmsis_nn_dims after = {pad->after[0], pad->after[1], pad->after[2], pad->after[3]};
    return ehd_cmsis_status(arm_pad_s8(input, output, (int8_t)pad->pad_value, &in, &before, &after));
}

ehd_status ehd_pad_wrapper_s8(const ehd_pad_params *pad, const ehd_dims *input_dims,
                              const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    return ehd_pad_s8_cmsis_nn(pad, input_dims, input, output_dims, output);
}
#endif
