/*
 * Per-layer profile of one inference (the PROFILE message, docs/protocol.md):
 * the runtime reads the board's counter after every layer into `stamps`, so
 * layer i took stamps[i] - stamps[i - 1] ticks (layer 0: from the reading
 * taken just before the invoke).
 */
#ifndef EHD_LAYER_TIMER_H
#define EHD_LAYER_TIMER_H

#include <stdint.h>

/* Most layers a profile reports: 5 bytes each keep the reply under EHD_PROTO_MAX_BODY. */
#define EHD_PROFILE_MAX_LAYERS 512u

typedef struct {
    uint32_t (*ticks)(void); /* the board's free-running counter */
    uint32_t *stamps;        /* `capacity` entries */
    uint16_t capacity;       /* a model with more layers is not stamped */
} ehd_layer_timer;

#endif /* EHD_LAYER_TIMER_H */
