/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Least privilege after start-up. Loading and attaching BPF programs needs CAP_BPF and
 * CAP_PERFMON (and, on some set-ups, more); once everything is attached, the programs, maps
 * and ring buffers are file descriptors the agent already holds, and using them needs no
 * capability on recent kernels (older ones with kernel.unprivileged_bpf_disabled want
 * CAP_BPF for every bpf() call: measured at run time, see caps.c). What remains is what
 * some probes do at run time, per probe (caps.c, runtime_needs[]).
 *
 * --drop-caps (default on) keeps exactly that set in the effective and permitted sets,
 * clears the inheritable and ambient sets and the bounding set, and sets no_new_privs.
 */
#ifndef LMP_CAPS_H
#define LMP_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct lmp_config;
struct lmp_probe;

#define LMP_CAP(c) (1ULL << (c))

/* the capabilities the running probes among ps[0..n) still use after attach */
__u64 lmp_caps_runtime_need(const struct lmp_probe *ps, size_t n);

/* this thread's capability sets (bit c = capability c) */
int lmp_caps_get(__u64 *effective, __u64 *permitted, __u64 *inheritable);
/* Clear the calling thread's capability sets (capset is per thread: others keep theirs). */
int lmp_caps_clear_thread(void);

/* "cap_bpf,cap_perfmon" for a mask ("none" when empty) */
void lmp_caps_format(__u64 mask, char *buf, size_t len);

/*
 * Called by the agent once the probes are attached, before it says "ready:": drop every
 * capability the running probes do not need from here on (unless --drop-caps=false) and
 * log, once, what was kept and why. Returns 0, or -errno when the kernel refused (the
 * agent keeps running with what it has; the failure is logged).
 */
int lmp_caps_drop_after_attach(const struct lmp_config *cfg, const struct lmp_probe *ps, size_t n);

#endif /* LMP_CAPS_H */
