/* libFuzzer target for COSE_Sign1 claim signatures (src/prov/cose.c).
 * Input layout: byte 0 = n, the length of the claim (0..255), then the COSE bytes, then the n
 * claim bytes at the end (if the input is too short, the claim is empty). No trust anchors (the
 * trust path needs a file); a fixed validation time keeps runs reproducible.
 * Besides the sanitizers it checks the contract: at least one status, every status with the
 * signature URL, a validated signature names its algorithm, chain_pem is a C string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prov/cose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t claim_len = data[0];
    const uint8_t *cose = data + 1;
    size_t cose_len = size - 1;
    if (claim_len > cose_len)
        claim_len = 0;
    cose_len -= claim_len;
    const uint8_t *claim = cose + cose_len;
    um_c2pa_statuses st;
    memset(&st, 0, sizeof st);
    um_signer_info signer;
    um_cose_verify_claim(cose, cose_len, claim, claim_len, NULL, (time_t)1767225600,
                         "self#jumbf=c2pa.signature", &st, &signer);
    if (st.n == 0 && !st.oom)
        abort();
    for (size_t i = 0; i < st.n; i++)
        if (strcmp(st.items[i].url, "self#jumbf=c2pa.signature") != 0)
            abort();
    if (signer.signature_valid &&
        (signer.alg[0] == '\0' || !um_c2pa_status_has(&st, "claimSignature.validated")))
        abort();
    if (signer.chain_pem && strlen(signer.chain_pem) == 0)
        abort();
    free(signer.chain_pem);
    um_c2pa_statuses_clear(&st);
    return 0;
}
