/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event output, the one place that knows the format: probes describe an event as key/value
 * calls, rendered as a JSON line or a text line; written in batches.
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

/* with the common fields (docs/probes.md, "Common event fields") */
void lmp_out_begin(struct lmp_out *o, const char *probe, const char *event,
		   const struct lmp_event_hdr *h, const struct lmp_identity *id);
void lmp_out_str(struct lmp_out *o, const char *key, const char *val);
/* at most n bytes, up to a NUL */
void lmp_out_strn(struct lmp_out *o, const char *key, const char *val, size_t n);
void lmp_out_u64(struct lmp_out *o, const char *key, __u64 val);
void lmp_out_s64(struct lmp_out *o, const char *key, __s64 val);
void lmp_out_double(struct lmp_out *o, const char *key, double val);
/* exact: no floating point */
void lmp_out_ns_as_s(struct lmp_out *o, const char *key, __u64 ns);
void lmp_out_bool(struct lmp_out *o, const char *key, bool val);
void lmp_out_null(struct lmp_out *o, const char *key);
/* key NULL inside an array */
void lmp_out_object_begin(struct lmp_out *o, const char *key);
void lmp_out_object_end(struct lmp_out *o);
void lmp_out_array_begin(struct lmp_out *o, const char *key);
void lmp_out_array_end(struct lmp_out *o);
/* another party's (a signal's target) */
void lmp_out_identity(struct lmp_out *o, const char *key, const struct lmp_identity *id);
void lmp_out_end(struct lmp_out *o);
/* the line begun last is dropped at lmp_out_end */
void lmp_out_skip(struct lmp_out *o);

/* -EPIPE when the reader went away */
int lmp_out_flush(struct lmp_out *o);
/* boot time to wall clock, again after NTP steps; each interval */
void lmp_out_sync_clock(struct lmp_out *o);
/*
 * s made safe for a terminal and one line (control, non-UTF-8, bidi and zero-width bytes
 * escaped; ' ' as space_as unless 0), cut before an escape that does not fit; returns
 * buf's length.
 */
size_t lmp_text_escape(const char *s, size_t n, char space_as, char *buf, size_t cap);

/* bpf_ktime_get_boot_ns() to RFC 3339 UTC */
void lmp_out_format_ts(struct lmp_out *o, __u64 boot_ns, char buf[40]);

#endif /* LMP_OUT_H */
