/* Synthetic copy-move test images: clones under rotation and scaling, and images with genuinely
 * repeated structure (tiles, text) on which a copy-move detector must stay quiet. */
#ifndef UM_TEST_SYNTH_CLONE_H
#define UM_TEST_SYNTH_CLONE_H

#include "core/image.h"

struct synth_box {
    int x, y, w, h;
};

/* Copy the w x h box at (sx, sy) of img (every plane) onto the place centred at (cx, cy),
 * rotated by rot_deg (counter-clockwise as seen) and scaled by scale, bilinear, pasting only
 * inside the transformed box; returns the target's bounding box (clipped to the image).
 * The forward map is t = c + scale * R(rot) * (s - s_centre), with y pointing down, so a
 * source point to the right of the centre lands above-right of (cx, cy) for rot_deg = 30. */
struct synth_box synth_clone(um_image *img, int sx, int sy, int w, int h, double cx, double cy,
                             double rot_deg, double scale);

/* A synth_photo (synth.h) with a random, non-repeating texture added (value noise at 6 and 3
 * pixel scales, like gravel or foliage), so that any region is distinctive: the base for clone
 * tests, where a flat region could not be told from its copy by any method. */
um_image *synth_textured_photo(int width, int height, unsigned seed);

/* A genuinely repeated pattern: a random motif of period px x py tiled over the image,
 * plus mild noise (so it is a real photo of tiles, not exact copies). */
void synth_tiles(um_image *img, int px, int py, unsigned seed);

/* A page of text: lines of glyphs drawn from a small fixed alphabet of random 5x7 glyph
 * bitmaps scaled to glyph_h pixels, dark on light, with mild noise. */
void synth_text_page(um_image *img, int glyph_h, unsigned seed);

#endif
