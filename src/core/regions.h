/* Connected regions of a map: the compact blob a pasted piece leaves, as opposed to scattered
 * cells of texture. */
#ifndef UM_CORE_REGIONS_H
#define UM_CORE_REGIONS_H

struct um_region {
    long cells;          /* cells in the region (0: none above the level) */
    int x0, y0, x1, y1;  /* bounding box, inclusive, in cells */
    double mean;         /* mean map value over the region */
};

/* The largest 8-connected set of cells with map > level, ignoring cells within `border` cells
 * of the edge. Returns 0, or -1 when out of memory. */
int um_largest_region(const float *map, int w, int h, float level, int border,
                      struct um_region *best);

#endif
