/* `unmask campaign simulate` (cmd_campaign_simulate.c), dispatched by cmd_campaign.c. */
#ifndef UM_CLI_CMD_CAMPAIGN_SIMULATE_H
#define UM_CLI_CMD_CAMPAIGN_SIMULATE_H

/* argv[0] = "simulate". Returns the exit status (cli/commands.h). */
int um_cmd_campaign_simulate(int argc, char **argv);

#endif
