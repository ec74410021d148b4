// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: everything that reads a cgroup path or a runtime's ID (agent/k8s/podpath.c)
 * and the cgroup v2 mount finder (agent/k8s/cgroup.c, lmp_cgroup_find_v2), on arbitrary text.
 * Cgroup names are chosen by whoever creates the cgroup, so a container can craft them.
 * Results must stay inside their fixed-size fields and be terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/cgroup.h"
#include "k8s/podpath.h"

static void check_pp(const struct lmp_podpath *pp)
{
	if (!memchr(pp->pod_uid, 0, sizeof(pp->pod_uid)) ||
	    !memchr(pp->container_id, 0, sizeof(pp->container_id)) ||
	    pp->runtime >= _LMP_RUNTIME_MAX || pp->qos >= _LMP_QOS_MAX)
		abort();
	if (!lmp_runtime_name(pp->runtime) || !lmp_qos_name(pp->qos))
		abort();
	/* a container without a pod is fine (plain docker); a QoS class without a pod is not */
	if (!pp->pod_uid[0] && pp->qos != LMP_QOS_NONE)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), path[512], id[LMP_CONTAINER_ID_LEN], mnt[512];
	struct lmp_podpath pp;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;

	memset(&pp, 0xa5, sizeof(pp));
	lmp_podpath_parse(s, &pp);
	check_pp(&pp);

	memset(&pp, 0xa5, sizeof(pp));
	if (lmp_podpath_from_proc_cgroup(s, &pp, path, sizeof(path)) == 0) {
		check_pp(&pp);
		if (!memchr(path, 0, sizeof(path)))
			abort();
	}
	if (lmp_podpath_bare_id(s, id, sizeof(id)) == 0 && !memchr(id, 0, sizeof(id)))
		abort();
	lmp_podpath_bare_id(s, id, 1); /* a buffer too small is refused, never overrun */
	lmp_qos_parse(s);
	if (lmp_cgroup_find_v2(s, mnt, sizeof(mnt)) == 0 && !memchr(mnt, 0, sizeof(mnt)))
		abort();
	free(s);
	return 0;
}
