// SPDX-License-Identifier: Apache-2.0
/* lmp: argv and environment -> configuration -> one command. Nothing else lives here. */
#include <stdio.h>
#include <stdlib.h>

#include "core/agent.h"
#include "core/config.h"
#include "base/log.h"
#include "core/top.h"
#include "core/why.h"

int main(int argc, char **argv)
{
	struct lmp_config cfg;
	enum lmp_log_level lvl;
	char err[512];
	int status;

	if (lmp_config_parse(&cfg, argc, argv, err, sizeof(err)) < 0 ||
	    (cfg.command == LMP_CMD_RUN &&
	     lmp_agent_check_probes(cfg.probes, err, sizeof(err)) < 0)) {
		fprintf(stderr, "lmp: %s\n", err);
		lmp_config_free(&cfg);
		return LMP_EXIT_USAGE;
	}
	if (lmp_log_parse_level(cfg.log_level, &lvl) == 0)
		lmp_log_set_level(lvl);

	switch (cfg.command) {
	case LMP_CMD_HELP:
		lmp_config_usage(stdout);
		status = LMP_EXIT_OK;
		break;
	case LMP_CMD_VERSION:
		printf("lmp %s\n", LMP_VERSION);
		status = LMP_EXIT_OK;
		break;
	case LMP_CMD_PROBES:
		status = lmp_agent_list_probes(&cfg);
		break;
	case LMP_CMD_TOP:
		status = lmp_top_main(&cfg);
		break;
	case LMP_CMD_WHY:
		status = lmp_why_main(&cfg);
		break;
	default:
		status = lmp_agent_run(&cfg);
	}
	lmp_config_free(&cfg);
	return status;
}
