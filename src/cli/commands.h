/* The CLI's commands that live in files of their own (src/cli/cmd_*.c). Each takes argc/argv
 * with argv[0] the command's name, prints its own --help, and returns the process exit status;
 * main.c lists them in its command table and its usage text. */
#ifndef UM_CLI_COMMANDS_H
#define UM_CLI_COMMANDS_H

/* Exit statuses shared by every command. */
enum { EXIT_ALL_OK = 0, EXIT_SOME_FAILED = 1, EXIT_USAGE = 2 };

/* unmask report FILE -o REPORT.html (cmd_report.c) */
int um_cmd_report(int argc, char **argv);

/* unmask serve [--listen ADDR:PORT] [--store DIR] ... (cmd_serve.c) */
int um_cmd_serve(int argc, char **argv);

/* unmask campaign FILE -o DIR ... and unmask campaign simulate ... (cmd_campaign.c) */
int um_cmd_campaign(int argc, char **argv);

#endif
