/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who caused an event: cgroup id -> cgroup path -> (when the cgroup belongs to a pod)
 * namespace, pod, container. The one lookup the rest of the agent calls, for event fields
 * and for metric labels alike.
 */
#ifndef LMP_IDENTITY_H
#define LMP_IDENTITY_H

#include <stdbool.h>
#include <linux/types.h>

struct lmp_config;
struct lmp_loop;
struct lmp_ident;

struct lmp_identity {
	__u64 cgroup_id;
	const char *cgroup; /* path relative to the v2 root ("/kubepods.slice/..."), NULL if gone */
	/* all NULL unless the cgroup belongs to a pod */
	const char *namespace;
	const char *pod;
	const char *container; /* NULL for a pod-level cgroup with no container */
	const char *pod_uid;
	const char *container_id;
};

int lmp_ident_new(const struct lmp_config *cfg, struct lmp_loop *loop, struct lmp_ident **out);
void lmp_ident_free(struct lmp_ident *ic);

/*
 * Fill *out for cgroup_id. Never fails: an unknown cgroup yields cgroup = NULL and no pod.
 * The strings stay valid until the next lmp_ident_* call.
 */
void lmp_ident_lookup(struct lmp_ident *ic, __u64 cgroup_id, struct lmp_identity *out);

/*
 * True once identity is usable: outside Kubernetes at once; with a kubelet, after the first
 * successful /pods sync. Feeds GET /readyz.
 */
bool lmp_ident_ready(struct lmp_ident *ic);

#endif /* LMP_IDENTITY_H */
