/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event output: the one place that knows the output format. Probes describe an event as a
 * sequence of key/value calls; JSON renders one object per line, text renders aligned
 * columns followed by key=value pairs. Lines are buffered and written in batches.
 */
#ifndef LMP_OUT_H
#define LMP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "core/config.h"

struct lmp_event_hdr;
struct lmp_identity;
struct lmp_out;

int lmp_out_new(enum lmp_output fmt, int fd, const char *node, struct lmp_out **out);
void lmp_out_free(struct lmp_out *o);

/* Start an event with the common fields: ts, node, probe, event, pid, tid, uid, comm,
 * cgroup_id, cgroup and, for a pod, k8s{namespace,pod,container,pod_uid,container_id}. */
void lmp_out_begin(struct lmp_out *o, const char *probe, const char *event,
		   const struct lmp_event_hdr *h, const struct lmp_identity *id);
void lmp_out_str(struct lmp_out *o, const char *key, const char *val);
/* at most n bytes of val, stopping at a NUL: for fixed-size char arrays from the kernel */
void lmp_out_strn(struct lmp_out *o, const char *key, const char *val, size_t n);
void lmp_out_u64(struct lmp_out *o, const char *key, __u64 val);
void lmp_out_s64(struct lmp_out *o, const char *key, __s64 val);
void lmp_out_double(struct lmp_out *o, const char *key, double val);
/* nanoseconds printed as decimal seconds, exactly (no floating point) */
void lmp_out_ns_as_s(struct lmp_out *o, const char *key, __u64 ns);
void lmp_out_bool(struct lmp_out *o, const char *key, bool val);
void lmp_out_null(struct lmp_out *o, const char *key);
/* nested values: key is NULL for elements of an array */
void lmp_out_object_begin(struct lmp_out *o, const char *key);
void lmp_out_object_end(struct lmp_out *o);
void lmp_out_array_begin(struct lmp_out *o, const char *key);
void lmp_out_array_end(struct lmp_out *o);
/* identity of another party (e.g. a signal's target) as a nested k8s object */
void lmp_out_identity(struct lmp_out *o, const char *key, const struct lmp_identity *id);
void lmp_out_end(struct lmp_out *o);
/* the line begun last is dropped at lmp_out_end (e.g. its namespace is filtered out) */
void lmp_out_skip(struct lmp_out *o);

/* Write what is buffered. -EPIPE when the reader went away; -errno on other failures. */
int lmp_out_flush(struct lmp_out *o);
/* Re-read the boot-time to wall-clock offset (after NTP steps); called each interval. */
void lmp_out_sync_clock(struct lmp_out *o);
/*
 * s (n bytes at most, up to a NUL) made safe for a terminal and one line of text, as the
 * text output and `lmp top` print every string: a backslash doubled, control bytes and
 * bytes that are not UTF-8 as "\xNN", C1 controls, bidi overrides and zero-width marks
 * as "\u{NNNN}", ' ' as space_as unless it is 0. Into buf (NUL-terminated, cut before an
 * escape that would not fit); returns its length.
 */
size_t lmp_text_escape(const char *s, size_t n, char space_as, char *buf, size_t cap);

/* Convert a bpf_ktime_get_boot_ns() value to "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ". */
void lmp_out_format_ts(struct lmp_out *o, __u64 boot_ns, char buf[40]);

#endif /* LMP_OUT_H */
