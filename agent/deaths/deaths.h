/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "Why did my container die?": joins a process's signals (sigsnoop), OOM kill (oomkill)
 * and exit (process) into one `container`/`death` record with a cause
 * (docs/investigations.md). The three arrive through three ring buffers in no fixed order,
 * so an exit waits LMP_DEATHS_SETTLE_MS for the records that caused it. All tables are
 * bounded; the oldest go first.
 */
#ifndef LMP_DEATHS_H
#define LMP_DEATHS_H

#include <stddef.h>
#include <linux/types.h>

#define LMP_DEATHS_SETTLE_MS 250
#define LMP_DEATHS_PIDS 512
#define LMP_DEATHS_SIGS 4 /* per process, newest kept */
#define LMP_DEATHS_OOMS 64
#define LMP_DEATHS_PENDING 256
#define LMP_DEATHS_PER_CONTAINER 8
#define LMP_DEATHS_CONTAINERS 256 /* a node runs at most 110 pods by default */
#define LMP_DEATHS_EXECS 1024	  /* direct-mapped by pid */

struct lmp_deaths;
struct lmp_loop;
struct lmp_rt;
struct lmp_oompm;
struct lmp_process_exit;
struct lmp_sigsnoop_event;
struct lmp_oomkill_event;

/* rt must outlive it; loop NULL: call lmp_deaths_settle yourself */
int lmp_deaths_new(struct lmp_loop *loop, struct lmp_rt *rt, struct lmp_deaths **out);
void lmp_deaths_free(struct lmp_deaths *d);

/* from the probes' decode callbacks */
/* the sender's command line, for a sender (`kill`) that exits before its signal arrives */
void lmp_deaths_on_exec(struct lmp_deaths *d, __u32 pid, const char *argv, size_t len);
void lmp_deaths_on_signal(struct lmp_deaths *d, const struct lmp_sigsnoop_event *e);
/* memcg_path NULL: unknown */
void lmp_deaths_on_oom(struct lmp_deaths *d, const struct lmp_oomkill_event *e,
		       const char *memcg_path, const struct lmp_oompm *pm);
void lmp_deaths_on_exit(struct lmp_deaths *d, const struct lmp_process_exit *e);

/* the exits that waited at least settle_ms (0: all) */
void lmp_deaths_settle(struct lmp_deaths *d, unsigned settle_ms);

/* GET /api/v1/deaths, newest first; each filter NULL or "": any. 0 or -ENOMEM */
int lmp_deaths_json(struct lmp_deaths *d, const char *ns, const char *pod, const char *container,
		    char **out, size_t *len);

#endif /* LMP_DEATHS_H */
