/*
 * TEMPORARY scratch for the kernel wrappers (see ehd_kernel_scratch in
 * ehd_kernels.h): one static buffer, used by one layer at a time. It goes away
 * when the runtime's arena planner reserves each layer's scratch and passes
 * it to the wrappers. Unreferenced under the portable backend, so the linker
 * drops it.
 */
#include "ehd/ehd_kernels.h"

/* Enough for every CONV_2D of the MLPerf Tiny models (ResNet-8's 3x3x64 needs 5.1 KB). */
#ifndef EHD_KERNEL_SCRATCH_BYTES
#define EHD_KERNEL_SCRATCH_BYTES 6144
#endif

ehd_context ehd_kernel_scratch(int32_t bytes)
{
    static uint32_t buffer[(EHD_KERNEL_SCRATCH_BYTES + 3) / 4];
    ehd_context ctx = {0, 0};
    if (bytes >= 0 && bytes <= (int32_t)sizeof buffer) {
        ctx.buf = buffer;
        ctx.size = (int32_t)sizeof buffer;
    }
    return ctx;
}
