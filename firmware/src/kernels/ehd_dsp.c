/* The dsp backend's out-of-line helpers (ehd_dsp.h). */
#include "ehd_dsp.h"

int32_t ehd_dsp_requantize_any(int32_t acc, int32_t multiplier, int32_t shift, int32_t output_offset)
{
    /* In 64 bits: a scaled value near INT32_MAX plus the offset must clamp, not wrap. */
    const int64_t out = (int64_t)ehd_requantize(acc, multiplier, shift) + output_offset;
    return out < INT8_MIN ? INT8_MIN : (out > INT8_MAX ? INT8_MAX : (int32_t)out);
}
