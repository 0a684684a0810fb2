/* SOFTMAX on CMSIS-NN: arm_softmax_s8, row by row over the last dimension (no scratch). */
#include "ehd/ehd_kernels.h"

#if EHD_KERNEL_BACKEND == EHD_BACKEND_CMSIS_NN
#include "../softmax/ehd_softmax_checks.h"
#include "ehd_cmsis_nn.h"

ehd_status ehd_softmax_s8_cmsis_nn(const ehd_softmax_params *softmax, const ehd_dims *input_dims,
                                   const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    const ehd_status status = ehd_softmax_check_args(softmax, input_dims, input, output_dims, output);
    if (status != EHD_OK) {
        return status;
    }
    const int32_t depth = input_dims->c;
    arm_softmax_s8(input, ehd_dims_count(input_dims) / depth, depth, softmax->input_multiplier,
                   softmax->input_left_shift, softmax->diff_min, output);
    return EHD_OK;
}

ehd_status ehd_softmax_wrapper_s8(const ehd_softmax_params *softmax, const ehd_dims *input_dims,
                                  const int8_t *input, const ehd_dims *output_dims, int8_t *output)
{
    return ehd_softmax_s8_cmsis_nn(softmax, input_dims, input, output_dims, output);
}
#endif
