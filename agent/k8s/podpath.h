/* SPDX-License-Identifier: Apache-2.0 */
/* What a cgroup path says about its pod and container, for both cgroup drivers. No I/O. */
#ifndef LMP_PODPATH_H
#define LMP_PODPATH_H

#include <stddef.h>

enum lmp_runtime {
	LMP_RUNTIME_NONE,
	LMP_RUNTIME_UNKNOWN, /* a bare ID (cgroupfs driver) */
	LMP_RUNTIME_DOCKER,
	LMP_RUNTIME_CONTAINERD,
	LMP_RUNTIME_CRIO,
	LMP_RUNTIME_CRIO_CONMON, /* CRI-O's monitor, not a container */
	LMP_RUNTIME_PODMAN,
	LMP_RUNTIME_ECS,
	_LMP_RUNTIME_MAX,
};

enum lmp_qos {
	LMP_QOS_NONE,
	LMP_QOS_GUARANTEED,
	LMP_QOS_BURSTABLE,
	LMP_QOS_BESTEFFORT,
	_LMP_QOS_MAX,
};

#define LMP_POD_UID_LEN 40
#define LMP_CONTAINER_ID_LEN 72

struct lmp_podpath {
	char pod_uid[LMP_POD_UID_LEN]; /* "": not in a pod */
	char container_id[LMP_CONTAINER_ID_LEN];
	enum lmp_runtime runtime;
	enum lmp_qos qos;
};

/*
 * Any form of cgroup path. Never fails: what is not recognised stays empty. Nested nodes
 * (kind) resolve to the innermost pod.
 */
void lmp_podpath_parse(const char *path, struct lmp_podpath *out);

/*
 * Parses the most telling line (v2 first, then name=systemd); path (may be NULL) gets its
 * cgroup path. -ENOENT when no line names a pod or a container.
 */
int lmp_podpath_from_proc_cgroup(const char *text, struct lmp_podpath *out, char *path,
				 size_t pathlen);

/* "containerd://<id>" to <id>; -EINVAL when it is not a container ID */
int lmp_podpath_bare_id(const char *field, char *out, size_t outlen);

const char *lmp_runtime_name(enum lmp_runtime r);
const char *lmp_qos_name(enum lmp_qos q);
/* the kubelet's qosClass */
enum lmp_qos lmp_qos_parse(const char *s);

#endif /* LMP_PODPATH_H */
