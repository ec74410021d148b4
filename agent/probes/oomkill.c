// SPDX-License-Identifier: Apache-2.0
/* oomkill: OOM kills with the victim's pod, memory and memcg limit (bpf/oomkill.bpf.c). */
#include <errno.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "lmp/oomkill.h"
#include "oomkill.skel.h"
#include "k8s/cgroup.h"
#include "core/config.h"
#include "probe/feature.h"
#include "deaths/deaths.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "deaths/oompm.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "sym/ksyms.h"

LMP_DEFINE_SKEL_OPS(oomkill);

enum { HOOK_TP_BTF, HOOK_RAW_TP, HOOK_TP, HOOK_FENTRY, HOOK_KPROBE };

static const struct lmp_hook oomkill_hooks[] = {
	[HOOK_TP_BTF] = { "victim", LMP_HOOK_TP_BTF, "tp_btf_mark_victim", "mark_victim" },
	[HOOK_RAW_TP] = { "victim", LMP_HOOK_RAW_TP, "raw_tp_mark_victim", "mark_victim" },
	[HOOK_TP] = { "victim", LMP_HOOK_TRACEPOINT, "tp_mark_victim", "oom/mark_victim" },
	[HOOK_FENTRY] = { "victim", LMP_HOOK_FENTRY, "fentry_oom_kill_process",
			  "oom_kill_process" },
	[HOOK_KPROBE] = { "victim", LMP_HOOK_KPROBE, "kprobe_oom_kill_process",
			  "oom_kill_process" },
};

static const struct lmp_metric_desc oom_kills_total = {
	"lmp_oom_kills_total",
	"Processes killed by the OOM killer, per victim container.",
	LMP_METRIC_COUNTER,
	NULL,
	1,
	true,
};

/* a post-mortem read when its record arrived, waiting for the record's decoding */
struct pm_slot {
	__u32 pid; /* 0: free */
	__u64 ts_ns;
	struct lmp_oompm pm;
};

struct oomkill_priv {
	struct lmp_cgroup *memcg_v1; /* id -> path in the v1 memory hierarchy, made on first use */
	struct lmp_cgroup *cg_v2;    /* the same in the v2 tree, for the post-mortem */
	bool memcg_v1_failed, cg_v2_failed;
	char v1_root[4096], v2_root[4096]; /* mount points, "" when absent */
	struct pm_slot slots[8];	   /* records held for their pod's labels (rare) */
	unsigned next_slot;
};

/* Does this kernel's mark_victim pass the task (v6.9+)? Same test as the BPF side's. */
static bool mark_victim_has_task(void)
{
	const struct btf *btf = lmp_feature_btf(); /* shared, parsed once */
	const struct btf_type *t;
	bool has = false;
	int id;

	if (!btf)
		return true; /* cannot tell: the BPF side copes either way */
	id = btf__find_by_name_kind(btf, "trace_event_raw_mark_victim", BTF_KIND_STRUCT);
	t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	for (int i = 0; t && i < btf_vlen(t); i++)
		has |= strcmp(btf__name_by_offset(btf, btf_members(t)[i].name_off), "uid") == 0;
	return has;
}

static int oomkill_configure(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	struct oomkill_bpf *s = skel;
	static const char *const names[] = { "mem_cgroup_out_of_memory" };
	struct lmp_ksym_range r[1];
	long page = sysconf(_SC_PAGESIZE);
	bool sig_tp_btf = false, sig_raw_tp = false;
	__u32 shift = 0;

	while (page > 1 && (1L << shift) < page)
		shift++;
	s->rodata->cfg_page_shift = shift ? shift : 12;
	/* the scope test needs the text range; without it (kptr_restrict) scope is "unknown" */
	if (lmp_ksym_ranges(NULL, names, 1, r) == 1) {
		s->rodata->cfg_memcg_oom_start = r[0].start;
		s->rodata->cfg_memcg_oom_end = r[0].end;
	}
	/* pre-6.9 kernels: find the victim through the OOM killer's SIGKILL */
	if (!mark_victim_has_task()) {
		sig_tp_btf = p->chosen[HOOK_TP_BTF];
		sig_raw_tp = p->chosen[HOOK_RAW_TP];
	}
	bpf_program__set_autoload(s->progs.tp_btf_signal_generate, sig_tp_btf);
	bpf_program__set_autoload(s->progs.raw_tp_signal_generate, sig_raw_tp);
	p->priv = calloc(1, sizeof(struct oomkill_priv));
	return p->priv ? 0 : -ENOMEM;
}

static void oomkill_cleanup(struct lmp_probe *p)
{
	struct oomkill_priv *pv = p->priv;

	if (pv) {
		lmp_cgroup_free(pv->memcg_v1);
		lmp_cgroup_free(pv->cg_v2);
	}
	free(pv);
	p->priv = NULL;
}

/* mount point of the cgroup v1 hierarchy holding the memory controller (v2: the v2 mount) */
static int find_memcg_root(bool v2, char *out, size_t len)
{
	FILE *f = setmntent("/proc/self/mounts", "re");
	struct mntent *m;
	int r = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (v2 ? strcmp(m->mnt_type, "cgroup2") == 0 :
			 strcmp(m->mnt_type, "cgroup") == 0 && hasmntopt(m, "memory")) {
			snprintf(out, len, "%s", m->mnt_dir);
			r = 0;
			break;
		}
	}
	endmntent(f);
	return r;
}

/* id -> path resolvers of the v1 memory tree and of the v2 tree, made on first use */
static void memcg_resolvers(struct oomkill_priv *pv, bool v2)
{
	int r;

	if (v2 && !pv->cg_v2 && !pv->cg_v2_failed) {
		r = find_memcg_root(true, pv->v2_root, sizeof(pv->v2_root));
		pv->cg_v2_failed = r < 0 || lmp_cgroup_new(pv->v2_root, 64, &pv->cg_v2) < 0;
	}
	if (!v2 && !pv->memcg_v1 && !pv->memcg_v1_failed) {
		r = find_memcg_root(false, pv->v1_root, sizeof(pv->v1_root));
		pv->memcg_v1_failed = r < 0 || lmp_cgroup_new(pv->v1_root, 64, &pv->memcg_v1) < 0;
	}
}

/*
 * Path of a memcg relative to its hierarchy's root: the v2 tree through the identity cache,
 * the v1 tree by its own walk. 0, or -ENOENT when it cannot be named.
 */
static int memcg_path(struct lmp_probe *p, struct lmp_rt *rt, __u64 id, bool v2, char *path,
		      size_t len)
{
	struct oomkill_priv *pv = p->priv;
	struct lmp_identity ident;

	if (v2) {
		lmp_ident_lookup(rt->ident, id, &ident);
		if (!ident.cgroup)
			return -ENOENT;
		snprintf(path, len, "%s", ident.cgroup);
		return 0;
	}
	if (!pv)
		return -ENOENT;
	memcg_resolvers(pv, false);
	if (pv->memcg_v1 && lmp_cgroup_resolve(pv->memcg_v1, id, path, len) == 0)
		return 0;
	return -ENOENT;
}

/* "<root>/<rel>" of a hierarchy, or false when its mount is unknown */
static bool abs_dir(const char *root, const char *rel, char *out, size_t len)
{
	if (!*root)
		return false;
	snprintf(out, len, "%s%s%s", root, rel[0] == '/' ? "" : "/", rel);
	return true;
}

/* "<root>/<path of id>" in the v2 tree or the v1 memory tree, by our own resolvers: the
 * identity cache may not know a cgroup made a moment ago */
static bool memcg_dir(struct oomkill_priv *pv, __u64 id, bool v2, char *out, size_t len)
{
	char rel[4096];

	memcg_resolvers(pv, v2);
	if (!(v2 ? pv->cg_v2 : pv->memcg_v1) ||
	    lmp_cgroup_resolve(v2 ? pv->cg_v2 : pv->memcg_v1, id, rel, sizeof(rel)) < 0)
		return false;
	return abs_dir(v2 ? pv->v2_root : pv->v1_root, rel, out, len);
}

/*
 * The memcg's post-mortem, read as close to the kill as user space gets. Pressure comes from
 * the memcg itself on v2, from the victim's v2 cgroup where the memcg is v1 (hybrid hosts:
 * PSI lives in the v2 tree).
 */
static void read_postmortem(struct oomkill_priv *pv, const struct lmp_oomkill_event *e,
			    struct lmp_oompm *pm)
{
	char dir[8300], psi[8300];
	bool have_dir = e->memcg_found && memcg_dir(pv, e->memcg_id, e->memcg_v2, dir, sizeof(dir));
	bool have_psi = !e->memcg_v2 && memcg_dir(pv, e->hdr.cgroup_id, true, psi, sizeof(psi));

	lmp_oompm_read(have_dir ? dir : NULL, e->memcg_v2, have_psi ? psi : NULL, e->hdr.ts_ns, pm);
}

/*
 * Straight out of the ring buffer, before the agent may hold the record (up to 1 s) until
 * the kubelet lists a new pod: a crash-looping container is OOM-killed seconds after it
 * started, and its runtime removes the memcg soon after the kill.
 */
static void kill_arrived(struct lmp_probe *p, const void *rec, size_t len, struct lmp_rt *rt)
{
	const struct lmp_oomkill_event *e = rec;
	struct oomkill_priv *pv = p->priv;
	struct pm_slot *s;

	if (!pv || len < sizeof(*e) || e->hdr.type != LMP_OOMKILL_KILL)
		return;
	s = &pv->slots[pv->next_slot++ % ARRAY_SIZE(pv->slots)];
	s->pid = e->hdr.pid;
	s->ts_ns = e->hdr.ts_ns;
	read_postmortem(pv, e, &s->pm);
}

/* print the post-mortem read at arrival (or now) and hand the kill to the deaths module */
static void postmortem(struct lmp_probe *p, struct lmp_rt *rt, const struct lmp_oomkill_event *e,
		       const char *rel)
{
	struct oomkill_priv *pv = p->priv;
	struct lmp_oompm now, *pm = NULL;

	for (size_t i = 0; pv && i < ARRAY_SIZE(pv->slots); i++) {
		if (pv->slots[i].pid == e->hdr.pid && pv->slots[i].ts_ns == e->hdr.ts_ns) {
			pm = &pv->slots[i].pm;
			pv->slots[i].pid = 0;
			break;
		}
	}
	if (!pm) {
		memset(&now, 0, sizeof(now));
		if (pv)
			read_postmortem(pv, e, &now);
		pm = &now;
	}
	lmp_oompm_out(rt->out, pm);
	lmp_deaths_on_oom(rt->deaths, e, rel, pm);
}

static const char *const scope_names[] = {
	[LMP_OOM_SCOPE_UNKNOWN] = "unknown",
	[LMP_OOM_SCOPE_GLOBAL] = "global",
	[LMP_OOM_SCOPE_MEMCG] = "memcg",
};
static const char *const source_names[] = {
	[LMP_OOM_SRC_TASK] = "task",
	[LMP_OOM_SRC_SIGNAL] = "sigkill",
	[LMP_OOM_SRC_PID] = "pid_only",
};

static void kill_extra(struct lmp_probe *p, const void *rec, struct lmp_rt *rt)
{
	const struct lmp_oomkill_event *e = rec;
	struct lmp_identity id;
	char path[4096];
	bool have_path = false;

	lmp_out_u64(rt->out, "rss_bytes",
		    e->anon_rss_bytes + e->file_rss_bytes + e->shmem_rss_bytes);
	lmp_out_str(rt->out, "scope", e->scope < 3 ? scope_names[e->scope] : "unknown");
	lmp_out_str(rt->out, "victim_source", e->source < 3 ? source_names[e->source] : "?");
	if (e->memcg_found) {
		lmp_out_object_begin(rt->out, "memcg");
		lmp_out_str(rt->out, "hierarchy", e->memcg_v2 ? "v2" : "v1");
		lmp_out_u64(rt->out, "id", e->memcg_id);
		have_path = memcg_path(p, rt, e->memcg_id, e->memcg_v2, path, sizeof(path)) == 0;
		if (have_path)
			lmp_out_str(rt->out, "path", path);
		if (e->memcg_limit_bytes != ~0ULL)
			lmp_out_u64(rt->out, "limit_bytes", e->memcg_limit_bytes);
		else
			lmp_out_null(rt->out, "limit_bytes");
		lmp_out_u64(rt->out, "usage_bytes", e->memcg_usage_bytes);
		lmp_out_u64(rt->out, "levels_up", e->memcg_up);
		lmp_out_object_end(rt->out);
	}
	/* the task that was allocating when memory ran out, when it is not the victim */
	if (e->trigger_pid != e->hdr.pid) {
		lmp_out_object_begin(rt->out, "trigger");
		lmp_out_u64(rt->out, "pid", e->trigger_pid);
		lmp_out_u64(rt->out, "tid", e->trigger_tid);
		lmp_out_strn(rt->out, "comm", e->trigger_comm, sizeof(e->trigger_comm));
		lmp_out_u64(rt->out, "cgroup_id", e->trigger_cgroup_id);
		lmp_ident_lookup_pid(rt->ident, e->trigger_cgroup_id, e->trigger_pid, &id);
		lmp_out_identity(rt->out, "k8s", &id);
		lmp_out_object_end(rt->out);
	}
	postmortem(p, rt, e, have_path ? path : NULL);
	if (rt->metrics) {
		lmp_ident_lookup(rt->ident, e->hdr.cgroup_id, &id);
		lmp_metrics_add(rt->metrics, &oom_kills_total, &id, NULL, 1);
	}
}

static const struct lmp_field kill_fields[] = {
	LMP_FIELD(struct lmp_oomkill_event, oom_score_adj, "oom_score_adj", LMP_FIELD_S32),
	LMP_FIELD(struct lmp_oomkill_event, total_vm_bytes, "total_vm_bytes", LMP_FIELD_U64),
	LMP_FIELD(struct lmp_oomkill_event, anon_rss_bytes, "anon_rss_bytes", LMP_FIELD_U64),
	LMP_FIELD(struct lmp_oomkill_event, file_rss_bytes, "file_rss_bytes", LMP_FIELD_U64),
	LMP_FIELD(struct lmp_oomkill_event, shmem_rss_bytes, "shmem_rss_bytes", LMP_FIELD_U64),
	LMP_FIELD(struct lmp_oomkill_event, swap_bytes, "swap_bytes", LMP_FIELD_U64),
	LMP_FIELD(struct lmp_oomkill_event, pgtables_bytes, "pgtables_bytes", LMP_FIELD_U64),
};

static const struct lmp_event_desc oomkill_events[] = {
	[LMP_OOMKILL_KILL] = { "kill", sizeof(struct lmp_oomkill_event), kill_fields,
			       ARRAY_SIZE(kill_fields), kill_extra },
};

const struct lmp_probe_desc lmp_probe_oomkill = {
	.name = "oomkill",
	.summary = "OOM kills: victim pod, memory at the kill, memcg limit/usage, scope, trigger",
	.skel = &oomkill_skel_ops,
	.hooks = oomkill_hooks,
	.n_hooks = ARRAY_SIZE(oomkill_hooks),
	.events = oomkill_events,
	.n_events = ARRAY_SIZE(oomkill_events),
	.configure = oomkill_configure,
	.arrived = kill_arrived,
	.cleanup = oomkill_cleanup,
};
