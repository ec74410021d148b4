/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-thread state: task storage where the kernel has it for tracing programs (5.11+; freed
 * with the task), else an LRU hash keyed by thread id that the agent makes of the same map
 * after a feature probe (agent/probes/lib/tasklocal.c), clearing sys_task_btf, which also
 * stands for bpf_get_current_task_btf() (added with it). The map is declared
 * BPF_MAP_TYPE_TASK_STORAGE with BPF_F_NO_PREALLOC and an int key. Include after lmp.bpf.h.
 */
#ifndef LMP_TASK_BPF_H
#define LMP_TASK_BPF_H

/* 5.11+: task storage and bpf_get_current_task_btf() in tracing programs (set by the agent) */
const volatile __u32 sys_task_btf = 1;

/*
 * The value of a thread in a task-local map: task (a BTF pointer: tp_btf arguments,
 * bpf_get_current_task_btf()) with task storage, tid in the hash. With create, zero is
 * copied in when there is none.
 */
static __always_inline void *lmp_task_local_of(void *map, struct task_struct *task, __u32 tid,
					       const void *zero, bool create)
{
	void *v;

	if (sys_task_btf)
		return bpf_task_storage_get(map, task, 0,
					    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	v = bpf_map_lookup_elem(map, &tid);
	if (v || !create)
		return v;
	bpf_map_update_elem(map, &tid, zero, BPF_ANY);
	return bpf_map_lookup_elem(map, &tid);
}

/* the current thread's value */
static __always_inline void *lmp_task_local(void *map, const void *zero, bool create)
{
	if (sys_task_btf)
		return lmp_task_local_of(map, bpf_get_current_task_btf(), 0, zero, create);
	return lmp_task_local_of(map, NULL, (__u32)bpf_get_current_pid_tgid(), zero, create);
}

#endif /* LMP_TASK_BPF_H */
