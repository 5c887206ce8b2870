/* C2PA validation status codes, as c2pa-rs / c2patool name them ("claimSignature.validated",
 * "assertion.dataHash.mismatch", "signingCredential.untrusted", ...), collected while one
 * manifest is validated. The list is what the report prints under success / informational /
 * failure, and what the overall state (valid / invalid / trusted) is computed from. */
#ifndef UM_PROV_C2PA_STATUS_H
#define UM_PROV_C2PA_STATUS_H

#include <stddef.h>

typedef enum um_c2pa_status_kind {
    UM_C2PA_SUCCESS,
    UM_C2PA_INFORMATIONAL,
    UM_C2PA_FAILURE
} um_c2pa_status_kind;

typedef struct um_c2pa_status {
    um_c2pa_status_kind kind;
    char code[64];          /* e.g. "assertion.hashedURI.match" */
    char url[256];          /* JUMBF URI of what was checked, "" if none */
    char explanation[256];  /* one sentence for a person */
} um_c2pa_status;

typedef struct um_c2pa_statuses {
    size_t n, cap;
    um_c2pa_status *items;
    int oom;                /* an add failed for lack of memory (report says so) */
} um_c2pa_statuses;

/* Append one status; explanation is printf-formatted. Never fails loudly: on allocation
 * failure sets list->oom. url may be NULL. */
void um_c2pa_status_add(um_c2pa_statuses *list, um_c2pa_status_kind kind, const char *code,
                        const char *url, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int um_c2pa_status_has(const um_c2pa_statuses *list, const char *code);
void um_c2pa_statuses_clear(um_c2pa_statuses *list);

#endif
