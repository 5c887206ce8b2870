/* Stored .zip writer (see zip.h). */
#include "serve/zip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { LOCAL_HEADER = 30, CENTRAL_HEADER = 46, END_RECORD = 22 };

static unsigned char *put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)(v >> 8 & 0xff);
    return p + 2;
}

static unsigned char *put32(unsigned char *p, uint32_t v)
{
    p = put16(p, v & 0xffff);
    return put16(p, v >> 16);
}

/* MS-DOS date and time (APPNOTE 4.4.6): 2-second resolution, years from 1980. */
static void dos_time(time_t t, unsigned *date, unsigned *time_of_day)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    if (tm.tm_year < 80)
        tm = (struct tm){.tm_year = 80, .tm_mday = 1};
    *date = (unsigned)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
    *time_of_day = (unsigned)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
}

/* The fields a local header and its central directory entry share (APPNOTE 4.3.7, 4.3.12). */
static unsigned char *common_fields(unsigned char *p, const struct um_zip_entry *e,
                                    uint32_t crc, unsigned date, unsigned tod)
{
    p = put16(p, 10);          /* version needed: 1.0, stored */
    p = put16(p, 0);           /* flags */
    p = put16(p, 0);           /* method: stored */
    p = put16(p, tod);
    p = put16(p, date);
    p = put32(p, crc);
    p = put32(p, (uint32_t)e->size);
    p = put32(p, (uint32_t)e->size);
    return put16(p, (unsigned)strlen(e->name));
}

static int sizes_fit(const struct um_zip_entry *entries, size_t n, size_t *total)
{
    size_t sum = END_RECORD;
    if (n > 0xffff)
        return 0;
    for (size_t i = 0; i < n; i++) {
        size_t name = strlen(entries[i].name);
        size_t add = LOCAL_HEADER + CENTRAL_HEADER + 2 * name;
        if (name > 0xffff || entries[i].size > UINT32_MAX - add ||
            sum > SIZE_MAX - add - entries[i].size)
            return 0;
        sum += add + entries[i].size;
    }
    *total = sum;
    return sum <= UINT32_MAX;
}

unsigned char *um_zip_stored(const struct um_zip_entry *entries, size_t n, time_t mtime,
                             size_t *len)
{
    size_t total;
    if (!sizes_fit(entries, n, &total))
        return NULL;
    unsigned char *zip = malloc(total), *p = zip;
    uint32_t *crcs = calloc(n ? n : 1, sizeof *crcs), *offsets = calloc(n ? n : 1, 4);
    if (!zip || !crcs || !offsets) {
        free(zip);
        free(crcs);
        free(offsets);
        return NULL;
    }
    unsigned date, tod;
    dos_time(mtime, &date, &tod);
    for (size_t i = 0; i < n; i++) {
        const struct um_zip_entry *e = &entries[i];
        size_t name = strlen(e->name);
        crcs[i] = (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), e->data, e->size);
        offsets[i] = (uint32_t)(p - zip);
        p = put32(p, 0x04034b50);
        p = common_fields(p, e, crcs[i], date, tod);
        p = put16(p, 0);       /* extra field length */
        memcpy(p, e->name, name);
        p += name;
        memcpy(p, e->data, e->size);
        p += e->size;
    }
    uint32_t central = (uint32_t)(p - zip);
    for (size_t i = 0; i < n; i++) {
        size_t name = strlen(entries[i].name);
        p = put32(p, 0x02014b50);
        p = put16(p, 20);      /* made by: MS-DOS attributes, spec 2.0 */
        p = common_fields(p, &entries[i], crcs[i], date, tod);
        p = put16(p, 0);       /* extra */
        p = put16(p, 0);       /* comment */
        p = put16(p, 0);       /* disk number */
        p = put16(p, 0);       /* internal attributes */
        p = put32(p, 0);       /* external attributes */
        p = put32(p, offsets[i]);
        memcpy(p, entries[i].name, name);
        p += name;
    }
    uint32_t central_size = (uint32_t)(p - zip) - central;
    p = put32(p, 0x06054b50);
    p = put16(p, 0);
    p = put16(p, 0);
    p = put16(p, (unsigned)n);
    p = put16(p, (unsigned)n);
    p = put32(p, central_size);
    p = put32(p, central);
    p = put16(p, 0);           /* comment length */
    free(crcs);
    free(offsets);
    *len = (size_t)(p - zip);
    return zip;
}
