/*
 * HDC messages of the serial protocol (types 0x10-0x1F, docs/protocol.md):
 * classify a feature vector with separate encode/search ticks, and teach the
 * device (add examples to a class, add a class, reset to the flashed
 * prototypes, read or replace a prototype). ehd_service dispatches here.
 */
#ifndef EHD_LEARN_H
#define EHD_LEARN_H

#include "ehd_service.h"

/* Answers `packet` if its type is an HDC message and returns 1; returns 0 otherwise. */
int ehd_learn_handle(ehd_service *svc, const ehd_proto_packet *packet);

#endif /* EHD_LEARN_H */
