#include "core/regions.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int inside(int x, int y, int w, int h, int border)
{
    return x >= border && y >= border && x < w - border && y < h - border;
}

int um_largest_region(const float *map, int w, int h, float level, int border,
                      struct um_region *best)
{
    size_t n = (size_t)w * (size_t)h;
    uint8_t *seen = calloc(n, 1);
    int32_t *stack = malloc(n * sizeof(int32_t));
    if (!seen || !stack) {
        free(seen);
        free(stack);
        return -1;
    }
    memset(best, 0, sizeof *best);
    for (size_t seed = 0; seed < n; seed++) {
        int sx = (int)(seed % (size_t)w), sy = (int)(seed / (size_t)w);
        if (seen[seed] || !(map[seed] > level) || !inside(sx, sy, w, h, border))
            continue;
        struct um_region r = {0, w, h, -1, -1, 0};
        size_t top = 0;
        stack[top++] = (int32_t)seed;
        seen[seed] = 1;
        while (top > 0) { /* each cell is pushed once: the stack never exceeds n */
            int32_t k = stack[--top];
            int x = k % w, y = k / w;
            r.cells++;
            r.mean += map[k];
            r.x0 = x < r.x0 ? x : r.x0;
            r.y0 = y < r.y0 ? y : r.y0;
            r.x1 = x > r.x1 ? x : r.x1;
            r.y1 = y > r.y1 ? y : r.y1;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int xx = x + dx, yy = y + dy;
                    if (xx < 0 || yy < 0 || xx >= w || yy >= h)
                        continue;
                    size_t kk = (size_t)yy * (size_t)w + (size_t)xx;
                    if (!seen[kk] && map[kk] > level && inside(xx, yy, w, h, border)) {
                        seen[kk] = 1;
                        stack[top++] = (int32_t)kk;
                    }
                }
        }
        r.mean /= (double)r.cells;
        if (r.cells > best->cells)
            *best = r;
    }
    free(seen);
    free(stack);
    return 0;
}
