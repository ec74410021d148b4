/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "Why did my container die?": joins what three probes report about one process (the
 * signals sent to it from sigsnoop, its OOM kill from oomkill, its exit from process) into
 * one `container`/`death` record with a cause (oom_kill, signal, kernel_signal, exit), what
 * is known of it (the sender and its role, the signal sequence, the OOM post-mortem) and one
 * line of plain words. A record is made when a process of a pod is killed by a signal or by
 * the OOM killer, and when a container's main process (pid 1 of its PID namespace) exits.
 *
 * The probes feed it from their decode callbacks. Records of one process reach the agent
 * through three ring buffers in no fixed order, so an exit waits LMP_DEATHS_SETTLE_MS for the
 * signal and OOM records that caused it before the death is decided and printed.
 *
 * Bounded memory: LMP_DEATHS_PIDS processes with signal history, LMP_DEATHS_OOMS recent OOM
 * kills, LMP_DEATHS_PENDING exits waiting, and the last LMP_DEATHS_PER_CONTAINER deaths of
 * at most LMP_DEATHS_CONTAINERS containers for GET /api/v1/deaths; the oldest go first.
 */
#ifndef LMP_DEATHS_H
#define LMP_DEATHS_H

#include <stddef.h>
#include <linux/types.h>

#define LMP_DEATHS_SETTLE_MS 250
#define LMP_DEATHS_PIDS 512
#define LMP_DEATHS_SIGS 4 /* signals remembered per process, newest kept */
#define LMP_DEATHS_OOMS 64
#define LMP_DEATHS_PENDING 256
#define LMP_DEATHS_PER_CONTAINER 8
#define LMP_DEATHS_CONTAINERS 256 /* a node runs at most 110 pods by default */
#define LMP_DEATHS_EXECS 1024	  /* command lines of recent execs, by pid (direct-mapped) */

struct lmp_deaths;
struct lmp_loop;
struct lmp_rt;
struct lmp_oompm;
struct lmp_process_exit;
struct lmp_sigsnoop_event;
struct lmp_oomkill_event;

/* rt must outlive it; loop (may be NULL: call lmp_deaths_settle yourself) runs the settle timer */
int lmp_deaths_new(struct lmp_loop *loop, struct lmp_rt *rt, struct lmp_deaths **out);
void lmp_deaths_free(struct lmp_deaths *d);

/* from the probes' decode callbacks */
/* argv as exec events carry it (NUL-separated, redacted): a sender's command line for when
 * it has exited before its signal reaches the agent (`kill` does so at once) */
void lmp_deaths_on_exec(struct lmp_deaths *d, __u32 pid, const char *argv, size_t len);
void lmp_deaths_on_signal(struct lmp_deaths *d, const struct lmp_sigsnoop_event *e);
/* memcg_path: the limiting memcg's path as the oomkill event prints it (NULL: unknown) */
void lmp_deaths_on_oom(struct lmp_deaths *d, const struct lmp_oomkill_event *e,
		       const char *memcg_path, const struct lmp_oompm *pm);
void lmp_deaths_on_exit(struct lmp_deaths *d, const struct lmp_process_exit *e);

/* decide and print the exits that waited at least settle_ms (0: all of them) */
void lmp_deaths_settle(struct lmp_deaths *d, unsigned settle_ms);

/*
 * GET /api/v1/deaths: {"deaths":[...]} newest first, the deaths kept for the containers of
 * namespace/pod/container (each NULL or "": any). 0 with a malloc'd document, or -ENOMEM.
 */
int lmp_deaths_json(struct lmp_deaths *d, const char *ns, const char *pod, const char *container,
		    char **out, size_t *len);

#endif /* LMP_DEATHS_H */
