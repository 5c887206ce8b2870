/* Fusion: the detectors' evidence becomes one map and one verdict. */
#ifndef UM_FUSE_FUSE_H
#define UM_FUSE_FUSE_H

#include "api/result.h"

/* Fill r->fused* and r->verdict from r->runs, then let the provenance facts speak
 * (um_fuse_provenance). Returns UM_OK or UM_ERR_NOMEM. */
um_error um_fuse(um_result *r);

/* The provenance rules (provenance_verdict.c): AI declarations, bytes changed after signing,
 * altered credentials, and the context reasons. Called by um_fuse after the detectors' verdict. */
void um_fuse_provenance(um_result *r);

#endif
