/*
 * PROFILE (0x30, docs/protocol.md): runs one inference exactly as INFER does
 * and replies with the ticks of every layer and of the HDC stage.
 * ehd_service dispatches here.
 */
#ifndef EHD_PROFILE_H
#define EHD_PROFILE_H

#include "ehd_service.h"

/* Answers `packet` if it is a PROFILE request and returns 1; returns 0 otherwise. */
int ehd_profile_handle(ehd_service *svc, const ehd_proto_packet *packet);

#endif /* EHD_PROFILE_H */
