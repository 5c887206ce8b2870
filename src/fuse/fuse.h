/* Fusion: the detectors' evidence becomes one map and one verdict. */
#ifndef UM_FUSE_FUSE_H
#define UM_FUSE_FUSE_H

#include "api/result.h"

/* Fill r->fused* and r->verdict from r->runs. Returns UM_OK or UM_ERR_NOMEM. */
um_error um_fuse(um_result *r);

#endif
