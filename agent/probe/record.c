// SPDX-License-Identifier: Apache-2.0
/*
 * A probe's records on their way out: a ring-buffer record decoded field by field from its
 * descriptor (lmp_event_desc) into the output, and the header of an interval's summary
 * row; both labelled with the cgroup's identity and dropped when its namespace is filtered.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "lmp/event.h"
#include "core/config.h"
#include "expose/out.h"
#include "k8s/identity.h"
#include "k8s/nsfilter.h"
#include "probe/probe.h"

static void print_field(struct lmp_out *o, const struct lmp_field *f, const char *rec)
{
	const void *v = rec + f->off;
	__u32 u32;
	__s32 s32;
	__u64 u64;

	switch (f->kind) {
	case LMP_FIELD_U32:
		memcpy(&u32, v, 4);
		lmp_out_u64(o, f->name, u32);
		break;
	case LMP_FIELD_S32:
		memcpy(&s32, v, 4);
		lmp_out_s64(o, f->name, s32);
		break;
	case LMP_FIELD_U64:
		memcpy(&u64, v, 8);
		lmp_out_u64(o, f->name, u64);
		break;
	case LMP_FIELD_STR:
		lmp_out_strn(o, f->name, v, f->size);
		break;
	case LMP_FIELD_BOOL32:
		memcpy(&u32, v, 4);
		lmp_out_bool(o, f->name, u32 != 0);
		break;
	case LMP_FIELD_NS_AS_S:
		memcpy(&u64, v, 8);
		lmp_out_ns_as_s(o, f->name, u64);
		break;
	case LMP_FIELD_ERRNO:
		memcpy(&s32, v, 4);
		if (s32 < 0 && lmp_errno_name(-s32))
			lmp_out_str(o, f->name, lmp_errno_name(-s32));
		else if (s32 < 0)
			lmp_out_s64(o, f->name, s32);
		else
			lmp_out_null(o, f->name);
		break;
	case LMP_FIELD_SIGNAL:
		memcpy(&u32, v, 4);
		lmp_out_str(o, f->name, lmp_signal_name(u32));
		break;
	}
}

int lmp_probe_handle(struct lmp_probe *p, const void *data, size_t len, struct lmp_rt *rt)
{
	const struct lmp_event_hdr *h = data;
	const struct lmp_event_desc *e;
	struct lmp_identity id;

	p->events++;
	if (len < sizeof(*h) || !p->desc->events || h->type >= p->desc->n_events ||
	    len < p->desc->events[h->type].size) {
		p->decode_errors++;
		return -EINVAL;
	}
	e = &p->desc->events[h->type];
	lmp_ident_lookup(rt->ident, h->cgroup_id, &id);
	if (rt->cfg &&
	    !lmp_identity_wanted(rt->cfg->include_namespaces, rt->cfg->exclude_namespaces, &id)) {
		p->filtered++;
		return 0;
	}
	lmp_out_begin(rt->out, p->name, e->name, h, &id);
	for (size_t i = 0; i < e->n_fields; i++)
		print_field(rt->out, &e->fields[i], data);
	if (e->extra)
		e->extra(p, data, rt);
	lmp_out_end(rt->out);
	return 0;
}

void lmp_probe_summary_begin(struct lmp_probe *p, struct lmp_rt *rt, const char *event,
			     __u64 cgroup_id, __u32 pid, const char *comm)
{
	struct lmp_event_hdr h = { .cgroup_id = cgroup_id, .pid = pid, .tid = pid };
	struct lmp_identity id;
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	h.ts_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (comm)
		strncpy(h.comm, comm, sizeof(h.comm) - 1);
	lmp_ident_lookup(rt->ident, cgroup_id, &id);
	lmp_out_begin(rt->out, p->name, event, &h, &id);
	if (rt->cfg &&
	    !lmp_identity_wanted(rt->cfg->include_namespaces, rt->cfg->exclude_namespaces, &id))
		lmp_out_skip(rt->out);
}
