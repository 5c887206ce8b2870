#include "cli/files.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "unmask.h"

int um_make_dirs(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(buf, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static int is_detector(const char *name, size_t len)
{
    for (size_t d = 0; d < um_detector_count(); d++) {
        const char *known = um_detector_at(d)->name;
        if (strlen(known) == len && strncmp(known, name, len) == 0)
            return 1;
    }
    return 0;
}

int um_cli_check_detectors(const char *command, const char *list)
{
    for (const char *p = list;; p++) {
        size_t n = strcspn(p, ",");
        if (!is_detector(p, n)) {
            fprintf(stderr, "unmask %s: unknown detector '%.*s'; known:", command, (int)n, p);
            for (size_t d = 0; d < um_detector_count(); d++)
                fprintf(stderr, " %s", um_detector_at(d)->name);
            fputc('\n', stderr);
            return -1;
        }
        p += n;
        if (!*p)
            return 0;
    }
}
