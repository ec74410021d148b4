/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by deaths.c (joining) and deaths_render.c (words and JSON). */
#ifndef LMP_DEATHS_INT_H
#define LMP_DEATHS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "lmp/oomkill.h"
#include "lmp/process.h"
#include "deaths/deaths.h"
#include "deaths/oompm.h"

#define CMDLINE_LEN 160
#define NAME_LEN 254 /* a pod name is at most 253 bytes */

struct lmp_out;

/* with what was known of the sender when it came */
struct sig_rec {
	__u64 ts_ns;
	__u64 sender_cgroup_id, target_cgroup_id;
	__u32 sig, via, sender_pid;
	__s32 code;
	char sender_comm[LMP_COMM_LEN];
	char role[32];
	char cmdline[CMDLINE_LEN];
	char ns[64], pod[NAME_LEN], container[64], cgroup[256];
};

struct pid_rec {
	__u32 pid;  /* 0: free */
	unsigned n; /* oldest first */
	__u64 last_ns;
	struct sig_rec sigs[LMP_DEATHS_SIGS];
};

struct oom_rec {
	__u32 pid; /* 0: free */
	__u64 ts_ns;
	struct lmp_oomkill_event ev;
	char memcg_path[256];
	struct lmp_oompm pm;
};

struct lmp_death_verdict {
	const char *cause;
	const struct sig_rec *fatal; /* when a sender is known */
	const struct sig_rec *first; /* an earlier SIGTERM, SIGINT, ... */
	const struct oom_rec *oom;
};

void lmp_deaths_summary(char *buf, size_t len, const struct lmp_process_exit *e, bool main_process,
			const struct lmp_death_verdict *v);
/* the fields after the common ones */
json_t *lmp_deaths_record(const struct lmp_process_exit *e, bool main_process,
			  const struct lmp_death_verdict *v, const char *line);
/* integers exact */
void lmp_deaths_out_json(struct lmp_out *out, const char *key, json_t *v);

#endif /* LMP_DEATHS_INT_H */
