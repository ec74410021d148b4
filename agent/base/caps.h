/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capability sets of this process: read them, set them, drop to a mask. Mechanism only:
 * which capabilities to keep is the caller's policy (the running probes' union, kept by
 * agent/probe/runtime_caps.c). Library code: returns -errno, logs nothing.
 */
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

/* this thread's capability sets (bit c = capability c) */
int lmp_caps_get(__u64 *effective, __u64 *permitted, __u64 *inheritable);
/* set them (capset is per thread: others keep theirs) */
int lmp_caps_set(__u64 effective, __u64 permitted, __u64 inheritable);
/* Clear the calling thread's capability sets. */
int lmp_caps_clear_thread(void);

/* "cap_bpf,cap_perfmon" for a mask ("none" when empty) */
void lmp_caps_format(__u64 mask, char *buf, size_t len);

/*
 * Keep exactly `keep` in the effective and permitted sets, clear the inheritable and ambient
 * sets, drop the rest of the bounding set (first: that needs CAP_SETPCAP, which may go), then
 * set no_new_privs. Returns 0, or -errno when capset refused (nothing was dropped from the
 * effective and permitted sets). *bset_left counts the bounding-set drops refused and
 * *nnp_err is 0 or the -errno of no_new_privs.
 */
int lmp_caps_drop_to(__u64 keep, int *bset_left, int *nnp_err);

#endif /* LMP_CAPS_H */
