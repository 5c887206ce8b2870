/* Small file-system helpers shared by the command-line shells (analyze, bench). */
#ifndef UM_CLI_FILES_H
#define UM_CLI_FILES_H

/* mkdir -p: creates path and its missing parents; 0 if path is (now) a directory, else -1
 * with errno set. */
int um_make_dirs(const char *path);

#endif
