/* SPDX-License-Identifier: Apache-2.0 */
/* Capability sets, mechanism only (the policy: probe/runtime_caps.c). -errno, no logs. */
#ifndef LMP_CAPS_H
#define LMP_CAPS_H

#include <stddef.h>
#include <linux/capability.h>
#include <linux/types.h>

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

#define LMP_CAP(c) (1ULL << (c))

/* this thread's */
int lmp_caps_get(__u64 *effective, __u64 *permitted, __u64 *inheritable);
/* per thread: others keep theirs */
int lmp_caps_set(__u64 effective, __u64 permitted, __u64 inheritable);
int lmp_caps_clear_thread(void);

/* "cap_bpf,cap_perfmon", or "none" */
void lmp_caps_format(__u64 mask, char *buf, size_t len);

/*
 * Keep exactly `keep`, drop the rest of the bounding set first (that needs CAP_SETPCAP),
 * then set no_new_privs. -errno when capset refused (nothing dropped); *bset_left counts
 * refused bounding-set drops; *nnp_err is no_new_privs' -errno or 0.
 */
int lmp_caps_drop_to(__u64 keep, int *bset_left, int *nnp_err);

#endif /* LMP_CAPS_H */
