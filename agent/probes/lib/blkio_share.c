// SPDX-License-Identifier: Apache-2.0
/*
 * The one map of block requests in flight that every block probe's object uses, and whose
 * programs record each phase of a request for all of them (bpf/blkio.bpf.h has the design).
 * Probes join from configure() and leave from cleanup(); the agent starts and stops probes
 * from one thread, so this state needs no lock.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lmp/blkio.h"
#include "probe/probe.h"
#include "probes/lib/blkio.h"

#define MAX_MEMBERS 8 /* the block probes: four today */

struct member {
	const struct lmp_probe *p;
	bool at_done, want_task;
	bool start, issue; /* its programs of that phase are the attached ones */
};

static struct {
	int inflight_fd, users_fd;
	struct member m[MAX_MEMBERS];
	size_t n;
} share = { .inflight_fd = -1, .users_fd = -1 };

/* a map with the definition the object declares for it: the object then accepts it */
static int create_like(const struct bpf_map *map)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = bpf_map__map_flags(map));
	int fd = bpf_map_create(bpf_map__type(map), bpf_map__name(map), bpf_map__key_size(map),
				bpf_map__value_size(map), bpf_map__max_entries(map), &opts);

	return fd < 0 ? -errno : fd;
}

static void close_maps(void)
{
	if (share.inflight_fd >= 0)
		close(share.inflight_fd);
	if (share.users_fd >= 0)
		close(share.users_fd);
	share.inflight_fd = share.users_fd = -1;
}

static int users_add(const struct member *m, int d)
{
	struct lmp_blkio_users u;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(share.users_fd, &zero, &u))
		return -errno;
	if (m->at_done)
		u.at_done += d;
	else
		u.at_issue += d;
	if (m->want_task)
		u.want_task += d;
	return bpf_map_update_elem(share.users_fd, &zero, &u, BPF_ANY) ? -errno : 0;
}

static int group_autoload_off(struct lmp_probe *p, struct bpf_object *obj, const char *group)
{
	for (size_t i = 0; i < p->desc->n_hooks; i++) {
		const struct lmp_hook *h = &p->desc->hooks[i];
		struct bpf_program *prog;

		if (strcmp(h->group, group) != 0)
			continue;
		prog = bpf_object__find_program_by_name(obj, h->prog);
		if (!prog)
			return -ENOENT;
		bpf_program__set_autoload(prog, false);
	}
	return 0;
}

/* who serves a group of a joining probe: [0] its start, [1] its issue programs */
static const char *served_by(const char *group, void *ctx)
{
	const char *const *by = ctx;

	return !strcmp(group, "start") ? by[0] : !strcmp(group, "issue") ? by[1] : NULL;
}

static struct member *find(const struct lmp_probe *p)
{
	for (size_t i = 0; i < share.n; i++)
		if (share.m[i].p == p)
			return &share.m[i];
	return NULL;
}

int lmp_blkio_join(struct lmp_probe *p, struct bpf_object *obj, bool at_done, bool want_task)
{
	struct bpf_map *inflight = bpf_object__find_map_by_name(obj, "blkio_inflight");
	struct bpf_map *users = bpf_object__find_map_by_name(obj, "blkio_users");
	const struct member *start_by = NULL, *issue_by = NULL;
	struct member me = { p, at_done, want_task, false, false };
	int err;

	lmp_blkio_leave(p);	   /* started again: counted once */
	if (!inflight || !users) { /* descriptor and BPF source disagree */
		snprintf(p->reason, sizeof(p->reason), "no blkio_inflight/blkio_users map");
		return -ENOENT;
	}
	if (share.n == MAX_MEMBERS)
		return -E2BIG;
	if (share.inflight_fd < 0) {
		share.inflight_fd = create_like(inflight);
		share.users_fd = create_like(users);
		if (share.inflight_fd < 0 || share.users_fd < 0) {
			err = share.inflight_fd < 0 ? share.inflight_fd : share.users_fd;
			snprintf(p->reason, sizeof(p->reason), "create the shared block maps: %s",
				 strerror(-err));
			goto fail;
		}
	}
	err = bpf_map__reuse_fd(inflight, share.inflight_fd);
	if (!err)
		err = bpf_map__reuse_fd(users, share.users_fd);
	if (err)
		goto fail;
	for (size_t i = 0; i < share.n; i++) {
		if (share.m[i].start)
			start_by = &share.m[i];
		if (share.m[i].issue)
			issue_by = &share.m[i];
	}
	if (!at_done)
		issue_by = NULL; /* its issue programs are its own work, not the tracking */
	me.start = !start_by;
	me.issue = at_done && !issue_by;
	if ((start_by && (err = group_autoload_off(p, obj, "start"))) ||
	    (issue_by && (err = group_autoload_off(p, obj, "issue"))))
		goto fail;
	err = users_add(&me, 1);
	if (err)
		goto fail;
	lmp_probe_describe(p, served_by,
			   (const char *[]){ start_by ? start_by->p->name : NULL,
					     issue_by ? issue_by->p->name : NULL });
	share.m[share.n++] = me;
	return 0;
fail:
	if (!share.n)
		close_maps();
	return err;
}

void lmp_blkio_leave(struct lmp_probe *p)
{
	struct member *m = find(p);

	if (!m)
		return;
	users_add(m, -1); /* fails only if the map is gone: nothing left to count for */
	memmove(m, m + 1, (share.m + share.n - (m + 1)) * sizeof(*m));
	if (!--share.n)
		close_maps();
}
