/* libFuzzer target for the decoding path: any bytes through um_decode with small limits.
 * Besides the sanitizers, it checks the decoder's contract: on success the image has the header's
 * size and finite pixels in 0..255 (JPEG: coefficients for every component); on failure there is
 * a message and nothing left to free. A broken contract aborts, which libFuzzer reports. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/decode.h"

static volatile long coef_sink;

static void check_success(const um_decoded *d)
{
    if (!d->rgb || d->rgb->channels != 3 || d->rgb->width != d->width ||
        d->rgb->height != d->height || d->width < 1 || d->height < 1)
        abort();
    size_t n = (size_t)d->width * (size_t)d->height * 3;
    for (size_t i = 0; i < n; i++) {
        float v = d->rgb->data[i];
        if (!(v >= 0.0f && v <= 255.0f + 1e-3f))
            abort();
    }
    if ((d->format == UM_FORMAT_JPEG) != (d->jpeg != NULL))
        abort();
    if (d->jpeg) {
        if (d->jpeg->num_components < 1 || d->jpeg->num_components > 4)
            abort();
        for (int c = 0; c < d->jpeg->num_components; c++) {
            const um_jpeg_component *comp = &d->jpeg->comp[c];
            size_t blocks = (size_t)comp->blocks_w * (size_t)comp->blocks_h;
            if (!comp->coef || blocks == 0 || comp->quant_index < 0 || comp->quant_index > 3)
                abort();
            for (size_t k = 0; k < blocks * 64; k++) /* ASan checks the whole extent */
                coef_sink += comp->coef[k];
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    um_limits limits = {16u << 20, 4000000, 8192};
    um_decoded d;
    char err[256];
    memset(err, 0, sizeof err);
    um_error e = um_decode(data, size, &limits, &d, err, sizeof err);
    if (e == UM_OK) {
        check_success(&d);
        um_decoded_clear(&d);
    } else if (err[0] == '\0' || d.rgb != NULL || d.jpeg != NULL) {
        abort();
    }
    return 0;
}
