#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/stats.h"
#include "detect/copymove.h"

/* Flat areas: below this detail energy (grey levels squared) two windows agree by default. */
#define FLAT_ENERGY 0.5

float um_bilinear(const float *img, int w, int h, double x, double y)
{
    int x0 = (int)x, y0 = (int)y;
    x0 = x0 >= w - 1 ? w - 2 : x0;
    y0 = y0 >= h - 1 ? h - 2 : y0;
    float fx = (float)(x - x0), fy = (float)(y - y0);
    const float *r0 = img + (size_t)y0 * w + x0, *r1 = r0 + w;
    return (r0[0] * (1 - fx) + r0[1] * fx) * (1 - fy) + (r1[0] * (1 - fx) + r1[1] * fx) * fy;
}

um_error um_copy_exactness(const float *detail, int w, int h, const double a[6], int x0, int y0,
                           int rw, int rh, float *out)
{
    size_t n = (size_t)rw * rh;
    float *buf = malloc(4 * n * sizeof *buf);
    unsigned char *inside = malloc(n);
    if (!buf || !inside) {
        free(buf), free(inside);
        return UM_ERR_NOMEM;
    }
    float *diff = buf, *energy = buf + n, *mdiff = buf + 2 * n, *menergy = buf + 3 * n;
    for (int y = 0; y < rh; y++)
        for (int x = 0; x < rw; x++) {
            size_t i = (size_t)y * rw + x;
            double sx = x + x0, sy = y + y0;
            double tx = a[0] * sx + a[1] * sy + a[2], ty = a[3] * sx + a[4] * sy + a[5];
            float d = detail[(size_t)(y + y0) * w + x + x0], c = d;
            inside[i] = tx >= 0 && ty >= 0 && tx <= w - 1 && ty <= h - 1 && w > 1 && h > 1;
            if (inside[i])
                c = um_bilinear(detail, w, h, tx, ty);
            diff[i] = (d - c) * (d - c);
            energy[i] = d * d + c * c;
        }
    um_box_filter(diff, rw, rh, 1, mdiff);
    um_box_filter(energy, rw, rh, 1, menergy);
    for (size_t i = 0; i < n; i++)
        out[i] = inside[i] ? fminf(1, fmaxf(0, 1 - mdiff[i] / (menergy[i] + FLAT_ENERGY))) : 0;
    free(buf), free(inside);
    return UM_OK;
}

double um_clone_rotation_deg(const struct um_clone *c)
{
    /* Image rows grow downwards, so a visually counter-clockwise turn has a negative angle in
     * (x, y) coordinates: negate to report what a person sees. */
    double deg = -atan2(c->a21 - c->a12, c->a11 + c->a22) * 180.0 / M_PI;
    return deg <= -180.0 ? deg + 360.0 : deg;
}

double um_clone_scale(const struct um_clone *c)
{
    return sqrt(fabs(c->a11 * c->a22 - c->a12 * c->a21));
}

/* Overlap of two boxes as a share of the smaller one. */
static double overlap_share(const struct um_box *a, const struct um_box *b)
{
    int x0 = a->x > b->x ? a->x : b->x, y0 = a->y > b->y ? a->y : b->y;
    int x1 = a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w;
    int y1 = a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h;
    if (x1 <= x0 || y1 <= y0)
        return 0.0;
    double inter = (double)(x1 - x0) * (y1 - y0);
    double smaller = fmin((double)a->w * a->h, (double)b->w * b->h);
    return smaller > 0 ? inter / smaller : 0.0;
}

/* Is q the copy p already describes, seen from its other end (the boxes swapped)? */
static int reversed_twin(const struct um_clone *p, const struct um_clone *q)
{
    const double min_share = 0.5;
    return overlap_share(&p->source, &q->target) > min_share &&
           overlap_share(&p->target, &q->source) > min_share;
}

static int is_twin_of_earlier(const struct um_clone *clones, int i)
{
    for (int j = 0; j < i; j++)
        if (reversed_twin(&clones[j], &clones[i]))
            return 1;
    return 0;
}

static json_t *box_json(const struct um_box *b)
{
    return json_pack("{s:i, s:i, s:i, s:i}", "x", b->x, "y", b->y, "w", b->w, "h", b->h);
}

static json_t *clone_json(const struct um_clone *c)
{
    json_t *affine = json_pack("[o, o, o, o, o, o]", um_json_number(c->a11),
                               um_json_number(c->a12), um_json_number(c->tx),
                               um_json_number(c->a21), um_json_number(c->a22),
                               um_json_number(c->ty));
    json_t *transform = json_pack("{s:o, s:o, s:o, s:o, s:o*}", "dx", um_json_number(c->tx),
                                  "dy", um_json_number(c->ty), "rotation_deg",
                                  um_json_number(um_clone_rotation_deg(c)), "scale",
                                  um_json_number(um_clone_scale(c)), "affine", affine);
    return json_pack("{s:o*, s:o*, s:o*, s:I, s:s, s:o}", "source", box_json(&c->source),
                     "target", box_json(&c->target), "transform", transform, "support",
                     (json_int_t)c->support, "support_unit",
                     c->support_unit ? c->support_unit : "pixels", "log10_nfa",
                     c->has_nfa ? um_json_number(c->log10_nfa) : json_null());
}

/* The transform in words, only the parts that are not a plain shift. */
static void describe_transform(const struct um_clone *c, char *out, size_t outlen)
{
    double rot = um_clone_rotation_deg(c), scale = um_clone_scale(c);
    int n = 0;
    out[0] = 0;
    if (fabs(rot) >= 2.0)
        n += snprintf(out + n, outlen - (size_t)n, ", rotated %.0f\xc2\xb0", rot);
    if (fabs(scale - 1.0) >= 0.03 && n >= 0 && (size_t)n < outlen)
        snprintf(out + n, outlen - (size_t)n, ", scaled %.2fx", scale);
}

um_error um_clones_report(struct um_evidence *ev, const struct um_clone *clones, int nclones)
{
    if (!ev->details && !(ev->details = json_object()))
        return UM_ERR_NOMEM;
    json_t *list = json_array();
    if (!list || json_object_set_new(ev->details, "clones", list) != 0)
        return UM_ERR_NOMEM;
    for (int i = 0; i < nclones; i++) {
        const struct um_clone *c = &clones[i];
        if (is_twin_of_earlier(clones, i))
            continue; /* one copy, one pair: its map already marks both ends */
        json_t *item = clone_json(c);
        if (!item || json_array_append_new(list, item) != 0)
            return UM_ERR_NOMEM;
        char how[64];
        describe_transform(c, how, sizeof how);
        um_evidence_add_finding(ev,
                                "region A (x %d, y %d, %dx%d px) appears copied to B (x %d, y %d, "
                                "%dx%d px)%s; %ld matching %s",
                                c->source.x, c->source.y, c->source.w, c->source.h, c->target.x,
                                c->target.y, c->target.w, c->target.h, how, c->support,
                                c->support_unit ? c->support_unit : "pixels");
    }
    return UM_OK;
}
