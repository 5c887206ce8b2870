/* A .zip archive in memory with stored (uncompressed) entries: the case export. PKWARE
 * APPNOTE.TXT 6.3.x: local file headers (4.3.7), central directory (4.3.12), end of central
 * directory record (4.3.16); CRC-32 from zlib. */
#ifndef UM_SERVE_ZIP_H
#define UM_SERVE_ZIP_H

#include <stddef.h>
#include <time.h>

struct um_zip_entry {
    const char *name;         /* ASCII path inside the archive */
    const void *data;
    size_t size;
};

/* The archive (malloc'ed, *len its size), or NULL when out of memory or past the classic
 * format's limits (4 GiB, 65535 entries); mtime is stored as MS-DOS time (UTC). */
unsigned char *um_zip_stored(const struct um_zip_entry *entries, size_t n, time_t mtime,
                             size_t *len);

#endif
