/* The viewer's static files (the web/ folder), compiled into the library by cmake/embed_assets.cmake. */
#ifndef UM_REPORT_ASSETS_H
#define UM_REPORT_ASSETS_H

#include <stddef.h>

struct um_asset {
    const char *name;          /* file name under web/, e.g. "app.js"; NULL ends the table */
    const unsigned char *data; /* the bytes, followed by one NUL (so text assets are C strings) */
    size_t size;               /* without that NUL */
};

/* Sorted by name, ended by an entry whose name is NULL. */
extern const struct um_asset um_assets[];

#endif
