/* Small helpers shared by the command-line shells (analyze, report, serve, bench). */
#ifndef UM_CLI_FILES_H
#define UM_CLI_FILES_H

/* mkdir -p: creates path and its missing parents; 0 if path is (now) a directory, else -1
 * with errno set. */
int um_make_dirs(const char *path);

/* Every name of a comma-separated detector list must be a registered detector (a typo must not
 * silently run nothing): 0, or -1 after printing "unmask COMMAND: unknown detector ..." with the
 * known names to standard error. */
int um_cli_check_detectors(const char *command, const char *list);

#endif
