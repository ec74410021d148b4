// SPDX-License-Identifier: Apache-2.0
/*
 * The one set of syscall dispatcher maps every syscall-family probe's object uses, and
 * which object's dispatcher programs run for all of them (bpf/lmp_syscall.bpf.h has the
 * design). Probes join from configure(), are counted in and routed from attach and leave
 * from cleanup(); the agent starts and stops probes from one thread, so this state needs no
 * lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "core/config.h"
#include "base/list.h"
#include "probe/probe.h"
#include "probes/lib/sysdisp.h"
#include "probes/lib/tasklocal.h"

#define MAX_MEMBERS 8 /* the syscall-family probes: seven today */
#define MAX_NRS 16

/* the maps of lmp_syscall.bpf.h, in every family object */
static const char *const map_names[] = {
	"sys_users",	  "sys_route", "sys_tail_enter", "sys_tail_exit", "sys_start",
	"sys_pid_counts", "sys_procs", "sys_cg_hist",	 "sys_cg_counts", "sys_cg_errnos",
};
enum {
	M_USERS,
	M_ROUTE,
	M_TAIL_ENTER,
	M_TAIL_EXIT,
	M_START,
	M_PID_COUNTS,
	M_PROCS,
	M_CG_HIST,
	M_CG_COUNTS,
	M_CG_ERRNOS,
	N_MAPS
};

/* the dispatcher programs, [side][kind]: kind 0 tp_btf, 1 raw_tp, 2 tracepoint */
static const char *const disp_progs[2][3] = {
	{ "tp_btf_sys_enter", "raw_tp_sys_enter", "tp_sys_enter" },
	{ "tp_btf_sys_exit", "raw_tp_sys_exit", "tp_sys_exit" },
};
/* a probe's tails, [side][kind] (tracepoint: none, see lmp_syscall.bpf.h) */
static const char *const tail_progs[2][2] = {
	{ "tail_btf_enter", "tail_raw_enter" },
	{ "tail_btf_exit", "tail_raw_exit" },
};

struct member {
	const struct lmp_probe *p;
	struct lmp_sys_want want; /* want.nrs unused: nrs */
	int nrs[MAX_NRS];
	int kind;     /* 0..2 as disp_progs, -1: does not use the dispatcher */
	int slot;     /* its index in the tail arrays, -1: none */
	bool owns[2]; /* its object's dispatcher program of that side is the one loaded */
	bool creator; /* its object creates the shared maps */
	bool counted, routed;
};

static struct {
	int fd[N_MAPS];
	bool task_btf; /* 5.11+: task storage and bpf_get_current_task_btf() */
	int kind;      /* of the loaded dispatcher programs, -1 before any */
	struct member m[MAX_MEMBERS];
	size_t n;
} share = { .fd = { -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 }, .kind = -1 };

_Static_assert(ARRAY_SIZE(map_names) == N_MAPS, "one fd per shared map");

static struct member *find(const struct lmp_probe *p)
{
	for (size_t i = 0; i < share.n; i++)
		if (share.m[i].p == p)
			return &share.m[i];
	return NULL;
}

static void close_maps(void)
{
	for (int i = 0; i < N_MAPS; i++) {
		if (share.fd[i] >= 0)
			close(share.fd[i]);
		share.fd[i] = -1;
	}
	share.kind = -1;
}

/*
 * The first family probe's object creates the maps at its load, sized here from cfg (a map
 * with BTF-typed key and value, as task storage, is simplest made by libbpf); every later
 * one reuses them (lmp_sys_attach() keeps their fds).
 */
/* is probe in the --probes selection ("all" or a comma list)? */
static bool selected(const struct lmp_config *cfg, const char *probe)
{
	return lmp_list_selects(cfg->probes ? cfg->probes : "all", probe);
}

static int size_maps(struct bpf_object *obj, const struct lmp_config *cfg)
{
	/* the syscall probe's maps are preallocated: one entry when it does not run */
	const struct lmp_syscall_options *so = lmp_config_probe_options(cfg, "syscall");
	__u32 pid_keys = !selected(cfg, "syscall") ? 1 : so->max_keys;
	int err = 0;

	share.task_btf = lmp_have_task_storage();
	if (!share.task_btf)
		err = lmp_task_local_as_hash(bpf_object__find_map_by_name(obj, map_names[M_START]));
	if (!err && pid_keys)
		err = bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "sys_pid_counts"),
					       pid_keys);
	if (!err && pid_keys)
		err = bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "sys_procs"),
					       pid_keys);
	return err;
}

static int keep_maps(struct bpf_object *obj)
{
	for (int i = 0; i < N_MAPS; i++) {
		share.fd[i] = dup(bpf_map__fd(bpf_object__find_map_by_name(obj, map_names[i])));
		if (share.fd[i] < 0)
			return -errno;
	}
	return 0;
}

/* which dispatcher side a hook group of a family probe stands for */
static int group_side(const char *group)
{
	if (!strcmp(group, "enter"))
		return 0;
	if (!strcmp(group, "exit") || !strcmp(group, "read") || !strcmp(group, "write"))
		return 1;
	return -1;
}

/* the kind (0 tp_btf, 1 raw_tp, 2 tracepoint) of the dispatcher programs or tails among
 * the probe's chosen hooks, or -1 when it uses none */
static int chosen_kind(const struct lmp_probe *p)
{
	const struct lmp_probe_desc *d = p->desc;

	for (size_t i = 0; i < d->n_hooks; i++) {
		if (!p->chosen[i] || group_side(d->hooks[i].group) < 0)
			continue;
		for (int s = 0; s < 2; s++)
			for (int k = 0; k < 3; k++)
				if (!strcmp(d->hooks[i].prog, disp_progs[s][k]) ||
				    (k < 2 && !strcmp(d->hooks[i].prog, tail_progs[s][k])))
					return k;
	}
	return -1;
}

static void set_autoload(struct bpf_object *obj, const char *name, bool on)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, name);

	if (prog)
		bpf_program__set_autoload(prog, on);
}

static const char *owner_of(int side, const struct lmp_probe *me)
{
	for (size_t i = 0; i < share.n; i++)
		if (share.m[i].owns[side] && share.m[i].p != me)
			return share.m[i].p->name;
	return NULL;
}

static const char *served_by(const char *group, void *ctx)
{
	const struct member *m = find(ctx);
	int side = group_side(group);

	return side < 0 || !m || m->kind < 0 ? NULL : owner_of(side, ctx);
}

static int free_slot(void)
{
	for (int s = 0; s < LMP_SYS_TAILS; s++) {
		bool used = false;

		for (size_t i = 0; i < share.n; i++)
			used |= share.m[i].slot == s;
		if (!used)
			return s;
	}
	return -1;
}

int lmp_sys_join(struct lmp_probe *p, struct bpf_object *obj, const struct lmp_config *cfg,
		 const struct lmp_sys_want *want, const char *task_local)
{
	struct member me = { .p = p, .want = *want, .kind = chosen_kind(p), .slot = -1 };
	int err = 0;

	lmp_sys_leave(p); /* started again: counted once */
	if (share.n == MAX_MEMBERS || want->n_nrs > MAX_NRS)
		return -E2BIG;
	if (want->n_nrs)
		memcpy(me.nrs, want->nrs, want->n_nrs * sizeof(*want->nrs));
	me.want.nrs = NULL;
	for (int i = 0; i < N_MAPS; i++) {
		if (!bpf_object__find_map_by_name(obj, map_names[i])) {
			snprintf(p->reason, sizeof(p->reason), "no %s map", map_names[i]);
			return -ENOENT; /* descriptor and BPF source disagree */
		}
	}
	me.creator = share.fd[0] < 0;
	if (me.creator)
		err = size_maps(obj, cfg);
	for (int i = 0; i < N_MAPS && !me.creator && !err; i++)
		err = bpf_map__reuse_fd(bpf_object__find_map_by_name(obj, map_names[i]),
					share.fd[i]);
	if (!err && !share.task_btf) {
		struct bpf_map *tl = task_local ? bpf_object__find_map_by_name(obj, task_local) :
						  NULL;

		err = lmp_probe_set_rodata_u32(obj, "sys_task_btf", 0);
		if (!err && tl)
			err = lmp_task_local_as_hash(tl);
	}
	if (err)
		goto fail;
	if (me.kind >= 0 && share.kind >= 0 && me.kind != share.kind) {
		err = -EINVAL;
		snprintf(p->reason, sizeof(p->reason),
			 "the syscall dispatcher already runs as another hook kind");
		goto fail;
	}
	/* each side's dispatcher program: loaded in the first object that needs it only */
	for (int s = 0; s < 2; s++) {
		bool need = me.kind >= 0 && (s ? want->exit : want->enter);

		me.owns[s] = need && !owner_of(s, p);
		for (int k = 0; k < 3; k++)
			set_autoload(obj, disp_progs[s][k], me.owns[s] && k == me.kind);
		for (int k = 0; k < 2; k++)
			set_autoload(obj, tail_progs[s][k], me.kind == k && want->n_nrs);
	}
	if (me.kind >= 0 && want->n_nrs && (me.slot = free_slot()) < 0) {
		err = -E2BIG;
		goto fail;
	}
	if (me.kind >= 0)
		share.kind = me.kind;
	share.m[share.n++] = me;
	lmp_probe_describe(p, served_by, p);
	return 0;
fail:
	if (!share.n)
		close_maps();
	return err;
}

static int users_add(const struct lmp_sys_users *w, int d)
{
	struct lmp_sys_users u;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(share.fd[M_USERS], &zero, &u))
		return -errno;
	u.pid_count += d * w->pid_count;
	u.pid_latency += d * w->pid_latency;
	u.cg_hist += d * w->cg_hist;
	u.cg_count += d * w->cg_count;
	return bpf_map_update_elem(share.fd[M_USERS], &zero, &u, BPF_ANY) ? -errno : 0;
}

/* route the member's syscalls to its tail slot (on) or to nothing */
static int route(const struct member *m, bool on)
{
	for (size_t i = 0; i < m->want.n_nrs; i++) {
		__u32 nr = m->nrs[i];
		struct lmp_sys_route r;

		if (m->nrs[i] < 0 || nr >= LMP_SYS_NR_MAX)
			continue;
		if (bpf_map_lookup_elem(share.fd[M_ROUTE], &nr, &r))
			return -errno;
		for (int s = 0; s < 2; s++) {
			__u8 *side = s ? &r.exit : &r.enter;

			if (!(s ? m->want.exit : m->want.enter))
				continue;
			if (on)
				*side = m->slot + 1;
			else if (*side == m->slot + 1)
				*side = 0;
		}
		if (bpf_map_update_elem(share.fd[M_ROUTE], &nr, &r, BPF_ANY))
			return -errno;
	}
	return 0;
}

static bool is_tail(const char *name)
{
	return !strncmp(name, "tail_", 5);
}

int lmp_sys_attach(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	struct member *m = find(p);
	struct bpf_program *prog;
	int err;

	(void)skel;
	(void)cfg;
	if (!m)
		return -ENOENT;
	if (m->creator && (err = keep_maps(p->obj)) < 0)
		return err;
	if (lmp_probe_links_alloc(p) < 0)
		return -ENOMEM;
	bpf_object__for_each_program(prog, p->obj) {
		const char *name = bpf_program__name(prog);
		struct bpf_link *l;

		if (!bpf_program__autoload(prog))
			continue;
		if (is_tail(name)) {
			/* run by the dispatcher (tail call), never attached itself */
			int map = !strcmp(name + strlen(name) - 5, "enter") ? M_TAIL_ENTER :
									      M_TAIL_EXIT;
			__u32 slot = m->slot, fd = bpf_program__fd(prog);

			if (bpf_map_update_elem(share.fd[map], &slot, &fd, BPF_ANY)) {
				err = -errno;
				snprintf(p->reason, sizeof(p->reason), "install %s: %s", name,
					 strerror(-err));
				return err;
			}
			continue;
		}
		l = bpf_program__attach(prog);
		if (!l) {
			err = -errno;
			snprintf(p->reason, sizeof(p->reason), "attach %s: %s", name,
				 strerror(-err));
			return err;
		}
		p->links[p->n_links++] = l;
	}
	if (m->kind >= 0 && m->slot >= 0) {
		m->routed = true;
		if ((err = route(m, true)) < 0)
			return err;
	}
	if (m->kind >= 0) {
		if ((err = users_add(&m->want.users, 1)) < 0)
			return err;
		m->counted = true;
	}
	return 0;
}

void lmp_sys_leave(struct lmp_probe *p)
{
	struct member *m = find(p);

	if (!m)
		return;
	/* these fail only when the maps are gone: nothing left to undo then */
	if (m->counted)
		users_add(&m->want.users, -1);
	if (m->routed)
		route(m, false);
	if (m->slot >= 0) {
		__u32 slot = m->slot;

		bpf_map_delete_elem(share.fd[M_TAIL_ENTER], &slot);
		bpf_map_delete_elem(share.fd[M_TAIL_EXIT], &slot);
	}
	memmove(m, m + 1, (share.m + share.n - (m + 1)) * sizeof(*m));
	if (!--share.n)
		close_maps();
}
