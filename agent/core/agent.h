/* SPDX-License-Identifier: Apache-2.0 */
#ifndef LMP_AGENT_H
#define LMP_AGENT_H

struct lmp_config;

/* exit statuses */
#define LMP_EXIT_OK 0
#define LMP_EXIT_FAILURE 1
#define LMP_EXIT_USAGE 2

/* `lmp run`: returns an exit status */
int lmp_agent_run(const struct lmp_config *cfg);
/* `lmp probes [--json]`: returns an exit status */
int lmp_agent_list_probes(const struct lmp_config *cfg);
/* check --probes names against the registry; -EINVAL with a message in err */
int lmp_agent_check_probes(const char *list, char *err, size_t len);

#endif /* LMP_AGENT_H */
