/*
 * Runtime messages of the serial protocol (types 0x20-0x2F, docs/protocol.md):
 * describe the model's input and output tensors, write an input larger than a
 * frame in chunks, run the model on it, and read any output tensor back.
 * ehd_service dispatches here.
 */
#ifndef EHD_RUNTIME_MSGS_H
#define EHD_RUNTIME_MSGS_H

#include "ehd_service.h"

/* Answers `packet` if its type is a runtime message and returns 1; returns 0 otherwise. */
int ehd_runtime_msgs_handle(ehd_service *svc, const ehd_proto_packet *packet);

#endif /* EHD_RUNTIME_MSGS_H */
