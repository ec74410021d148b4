/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-thread BPF state kept in task storage where the kernel has it for tracing programs
 * (5.11+), else in an LRU hash keyed by thread id: the user-space half of
 * bpf/lmp_task.bpf.h. Used by the syscall dispatcher and runqlat.
 */
#ifndef LMP_PROBES_TASKLOCAL_H
#define LMP_PROBES_TASKLOCAL_H

#include <stdbool.h>

struct bpf_map;

/* Task storage for tracing programs here (a feature probe, cached by the kernel's answer);
 * LMP_SYS_TASK_STORAGE=0 says no on any kernel (how the tests cover 5.10). */
bool lmp_have_task_storage(void);

/* Before load: a map declared BPF_MAP_TYPE_TASK_STORAGE (int key) becomes an LRU hash keyed
 * by thread id. The object's sys_task_btf must be cleared too (lmp_probe_set_rodata_u32). */
int lmp_task_local_as_hash(struct bpf_map *map);

#endif /* LMP_PROBES_TASKLOCAL_H */
