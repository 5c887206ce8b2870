/* libFuzzer target for C2PA validation: the bytes as a bare manifest store (a sidecar: file =
 * NULL, so JUMBF, CBOR, hashed URIs, COSE and ingredients are exercised without bindings), then
 * as a whole file through the container walker and the validator with bindings checked. Checks
 * the report's contract: a JSON object with a validation_state, and the state name matches. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prov/c2pa.h"
#include "prov/containers.h"

static void check_report(const um_c2pa_report *r)
{
    const char *state = json_string_value(json_object_get(r->json, "validation_state"));
    if (!state || strcmp(state, um_c2pa_state_name(r->state)) != 0)
        abort();
    if (r->manifests < 0 || (r->state != UM_C2PA_STATE_INVALID && r->manifests == 0))
        abort();
}

static void validate(const um_container *c, const uint8_t *file, size_t size)
{
    um_c2pa_report r;
    /* a fixed time keeps runs reproducible */
    if (um_c2pa_validate(c, file, size, NULL, (time_t)1767225600, &r) == UM_OK)
        check_report(&r);
    um_c2pa_report_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    um_container sidecar;
    memset(&sidecar, 0, sizeof sidecar);
    sidecar.c2pa = data;
    sidecar.c2pa_size = size;
    validate(&sidecar, NULL, 0);

    um_container c;
    char err[256];
    memset(&c, 0, sizeof c);
    um_format fmt = um_sniff_format(data, size);
    if (fmt == UM_FORMAT_UNKNOWN)
        fmt = UM_FORMAT_JPEG;
    if (um_container_walk(data, size, fmt, &c, err, sizeof err) == UM_OK && c.c2pa)
        validate(&c, data, size);
    um_container_clear(&c);
    return 0;
}
