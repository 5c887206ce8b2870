/* Test images the suite makes itself: no test depends on data from outside the repository. */
#ifndef UM_TEST_SYNTH_H
#define UM_TEST_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/image.h"
#include "io/decode.h"

/* A standard normal deviate (Box-Muller over core/random.h's xorshift32): deterministic noise. */
float synth_gaussian(unsigned *state);

/* A deterministic photo-like RGB image: smooth gradients, soft shapes, fine texture and sensor-
 * like noise (seeded), so JPEG statistics behave as on real photos. */
um_image *synth_photo(int width, int height, unsigned seed);

/* Encode as JPEG at quality q (4:2:0) and decode again: pixels and coefficients of that file.
 * Returns UM_OK; the decoded result is the caller's (um_decoded_clear). */
um_error synth_jpeg_roundtrip(const um_image *rgb, int quality, uint8_t **bytes, size_t *size,
                              um_decoded *decoded);

/* The decoded pixels of rgb saved as JPEG at quality q (the caller frees them). */
um_image *synth_jpeg_pixels(const um_image *rgb, int q);
/* The same for a synth_photo(w, h, seed). */
um_image *synth_photo_jpeg_pixels(int w, int h, unsigned seed, int q);

/* Copy a w x h rectangle from src at (sx, sy) into dst at (dx, dy) (all channels). */
void synth_paste(um_image *dst, const um_image *src, int sx, int sy, int w, int h, int dx,
                 int dy);

/* A new image: rgb cropped by (ox, oy) pixels from the top-left, i.e. shifting the JPEG grid. */
um_image *synth_crop(const um_image *rgb, int ox, int oy, int width, int height);

/* Decode a JPEG buffer with default limits; aborts the test program on failure. */
void synth_decode(const uint8_t *bytes, size_t size, um_decoded *decoded);

/* Pixels presented as a lossless file (what an editor's PNG export is): no JPEG tables. The
 * result borrows rgb; do not um_decoded_clear it. */
um_decoded synth_as_lossless(um_image *rgb);

struct um_detector;
struct um_evidence;
/* Run one detector on a decoded image (ev is zeroed first). When full is not NULL it receives
 * the map upsampled to the image's size (malloc'ed; NULL when the detector drew none). */
um_error synth_run_detector(const struct um_detector *det, const um_decoded *d,
                            struct um_evidence *ev, float **full);

/* Black, white and clipped images carry no texture for a recompression to act on: CHECKs that
 * the detector says "not applicable" with a reason naming that, never "no evidence". */
void synth_check_flat_not_applicable(const struct um_detector *det);

/* Checks that det says "not applicable" with a reason naming "too small", and draws no map, on a
 * lossless synthetic photo of width x height. */
void synth_check_small_not_applicable(const struct um_detector *det, int width, int height);

/* Mean of a detector's map (at its own resolution) over the image's w x h pixels inside the
 * rectangle (x0, y0, rw, rh) when inside != 0, else outside it. */
double synth_evidence_mean(const struct um_evidence *ev, int w, int h, int x0, int y0, int rw,
                           int rh, int inside);

/* Mean of a full-size map inside / outside the rectangle (x0, y0, w, h). */
double synth_mean_in_rect(const float *map, int width, int x0, int y0, int w, int h);
double synth_mean_outside_rect(const float *map, int width, int height, int x0, int y0, int w,
                               int h);

#endif
