/* Basic types shared by every edgehdc firmware module. */
#ifndef EHD_TYPES_H
#define EHD_TYPES_H

#include <stdint.h>

typedef enum {
    EHD_OK = 0,
    EHD_ERR_ARG = -1,         /* null pointer or out-of-range argument */
    EHD_ERR_SHAPE = -2,       /* tensor shapes do not agree */
    EHD_ERR_UNSUPPORTED = -3, /* op or parameter combination not implemented */
    EHD_ERR_ARENA = -4,       /* tensor does not fit the arena */
} ehd_status;

/* NHWC dimensions, like cmsis_nn_dims. For filters: n = output channels. */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} ehd_dims;

static inline int32_t ehd_dims_count(const ehd_dims *d) { return d->n * d->h * d->w * d->c; }

#endif /* EHD_TYPES_H */
