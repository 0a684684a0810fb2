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
 * One inference as the device runs it: copies `input` (exactly the input
 * tensor's bytes) into the static arena, runs the CNN, encodes the feature
 * tensor and classifies it. features: n_features bytes; hv: dim/32 words;
 * distances: n_classes entries.
 */
ehd_status ehd_host_infer(const int8_t *input, uint32_t input_bytes, int8_t *features,
                          uint32_t *hv, uint16_t *distances, ehd_hdc_result *result);

#endif /* EHD_HOST_MODEL_H */
