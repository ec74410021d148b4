/* SPDX-License-Identifier: Apache-2.0 */
/* User-space half of bpf/lmp_task.bpf.h: task storage, else an LRU hash by thread id. */
#ifndef LMP_PROBES_TASKLOCAL_H
#define LMP_PROBES_TASKLOCAL_H

#include <stdbool.h>

struct bpf_map;

/* cached; LMP_SYS_TASK_STORAGE=0 says no (the tests' 5.10 case) */
bool lmp_have_task_storage(void);

/* before load; clear the object's sys_task_btf too */
int lmp_task_local_as_hash(struct bpf_map *map);

#endif /* LMP_PROBES_TASKLOCAL_H */
