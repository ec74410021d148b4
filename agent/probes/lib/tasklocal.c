// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "probes/lib/tasklocal.h"

/*
 * Task storage for tracing programs came in 5.11 with bpf_get_current_task_btf(); on 5.10
 * (Debian 11, Amazon Linux 2) creating the map fails with EINVAL.
 */
bool lmp_have_task_storage(void)
{
	const char *env = getenv("LMP_SYS_TASK_STORAGE");

	if (env && !strcmp(env, "0"))
		return false;
	return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) == 1;
}

int lmp_task_local_as_hash(struct bpf_map *map)
{
	int err = bpf_map__set_type(map, BPF_MAP_TYPE_LRU_HASH);

	if (!err)
		err = bpf_map__set_map_flags(map, 0);
	if (!err)
		err = bpf_map__set_max_entries(map, 16384); /* threads in flight at once */
	return err;
}
