/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a cgroup path says about Kubernetes, without asking anyone: the pod UID, the container
 * ID, the container runtime and the QoS class, for both kubelet cgroup drivers (systemd and
 * cgroupfs) and the runtimes seen in the field. Pure string work, no I/O.
 */
#ifndef LMP_PODPATH_H
#define LMP_PODPATH_H

#include <stddef.h>

enum lmp_runtime {
	LMP_RUNTIME_NONE,	 /* no container */
	LMP_RUNTIME_UNKNOWN,	 /* a bare ID (cgroupfs driver): runtime not told by the path */
	LMP_RUNTIME_DOCKER,	 /* docker-<id>.scope, /docker/<id> */
	LMP_RUNTIME_CONTAINERD,	 /* cri-containerd-<id>.scope, ...slice:cri-containerd:<id> */
	LMP_RUNTIME_CRIO,	 /* crio-<id>.scope */
	LMP_RUNTIME_CRIO_CONMON, /* crio-conmon-<id>: CRI-O's monitor, not a container */
	LMP_RUNTIME_PODMAN,	 /* libpod-<id>.scope */
	LMP_RUNTIME_ECS,	 /* /ecs/<task>/<task>-<n> */
	_LMP_RUNTIME_MAX,
};

enum lmp_qos {
	LMP_QOS_NONE, /* not a pod */
	LMP_QOS_GUARANTEED,
	LMP_QOS_BURSTABLE,
	LMP_QOS_BESTEFFORT,
	_LMP_QOS_MAX,
};

/* 36 for a dashed UID, 32 for a static pod's config hash */
#define LMP_POD_UID_LEN 40
/* 64 hex for every CRI runtime; ECS task IDs run to 43 */
#define LMP_CONTAINER_ID_LEN 72

struct lmp_podpath {
	char pod_uid[LMP_POD_UID_LEN];		 /* "" when not in a pod; dashed as kubelet says */
	char container_id[LMP_CONTAINER_ID_LEN]; /* "" for a pod-level cgroup or none */
	enum lmp_runtime runtime;
	enum lmp_qos qos;
};

/*
 * Parse a cgroup path (absolute, relative, cgroup-namespace-relative with "..", with or
 * without a /sys/fs/cgroup/<controller> prefix, or an OCI cgroupsPath "slice:prefix:name").
 * Never fails: what is not recognised stays empty. Nested nodes (kind, minikube) resolve to
 * the innermost pod, never to the outer node container.
 */
void lmp_podpath_parse(const char *path, struct lmp_podpath *out);

/*
 * Pick the most telling line of a /proc/<pid>/cgroup text (v2 "0::" line first, then
 * name=systemd, then any controller) and parse it. path (may be NULL) receives that line's
 * cgroup path. Returns 0, or -ENOENT when no line names a pod or a container.
 */
int lmp_podpath_from_proc_cgroup(const char *text, struct lmp_podpath *out, char *path,
				 size_t pathlen);

/*
 * The kubelet's containerID field ("containerd://<id>", "docker://<id>", "cri-o://<id>",
 * or a bare hex ID) to the bare ID. -EINVAL when it is not a container ID.
 */
int lmp_podpath_bare_id(const char *field, char *out, size_t outlen);

const char *lmp_runtime_name(enum lmp_runtime r);
const char *lmp_qos_name(enum lmp_qos q);
/* "Guaranteed", "Burstable", "BestEffort" (the kubelet's qosClass) */
enum lmp_qos lmp_qos_parse(const char *s);

#endif /* LMP_PODPATH_H */
