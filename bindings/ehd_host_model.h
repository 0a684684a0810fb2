/*
 * Host accessor of a generated model (compiled into the bindings library only
 * when a model source with its ehd_generated.h is passed to build_library).
 */
#ifndef EHD_HOST_MODEL_H
#define EHD_HOST_MODEL_H

#include "ehd/ehd_hdc.h"
#include "ehd/ehd_model.h"

const ehd_model *ehd_host_model(void);
const ehd_hdc_model *ehd_host_hdc(void);
uint32_t ehd_host_arena_size(void);

/*
 * The CNN alone, as the device runs it: copies `input` (exactly the input
 * tensor's bytes, int8 or float32) into the static arena and runs every layer.
 * The outputs are then read with ehd_host_output.
 */
ehd_status ehd_host_run(const void *input, uint32_t input_bytes);

/* Model output `k` in the arena after ehd_host_run (NULL if there is no such output). */
const void *ehd_host_output(uint16_t k);

/*
 * One inference as the device runs it: ehd_host_run, then encodes the feature
 * tensor and classifies it. features: n_features bytes; hv: dim/32 words;
 * distances: n_classes entries.
 */
ehd_status ehd_host_infer(const int8_t *input, uint32_t input_bytes, int8_t *features,
                          uint32_t *hv, uint16_t *distances, ehd_hdc_result *result);

#endif /* EHD_HOST_MODEL_H */
