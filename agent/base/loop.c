// SPDX-License-Identifier: Apache-2.0
/*
 * epoll loop. Timers are timerfds so they share the one epoll set with everything else;
 * the number of timers is small (a handful per module), so a linear table is enough.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include "base/loop.h"

#define LMP_LOOP_MAX_WATCH 256 /* fds + timers; the agent uses a few dozen */

struct lmp_watch {
	int fd;
	bool is_timer;
	lmp_loop_fd_fn fd_cb;
	lmp_loop_timer_fn timer_cb;
	void *ctx;
};

struct lmp_loop {
	int epfd;
	bool stop;
	lmp_loop_timer_fn idle_cb;
	void *idle_ctx;
	struct lmp_watch *w[LMP_LOOP_MAX_WATCH];
};

int lmp_loop_new(struct lmp_loop **out)
{
	struct lmp_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int err = -errno;

		free(l);
		return err;
	}
	*out = l;
	return 0;
}

void lmp_loop_free(struct lmp_loop *l)
{
	if (!l)
		return;
	for (int i = 0; i < LMP_LOOP_MAX_WATCH; i++) {
		if (l->w[i] && l->w[i]->is_timer)
			close(l->w[i]->fd);
		free(l->w[i]);
	}
	close(l->epfd);
	free(l);
}

static int add_watch(struct lmp_loop *l, struct lmp_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	for (int i = 0; i < LMP_LOOP_MAX_WATCH; i++) {
		if (l->w[i])
			continue;
		ev.data.u32 = i;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0)
			return -errno;
		l->w[i] = w;
		return i + 1;
	}
	return -ENOSPC;
}

static int find_fd(struct lmp_loop *l, int fd, bool timer)
{
	for (int i = 0; i < LMP_LOOP_MAX_WATCH; i++)
		if (l->w[i] && l->w[i]->fd == fd && l->w[i]->is_timer == timer)
			return i;
	return -ENOENT;
}

int lmp_loop_add_fd(struct lmp_loop *l, int fd, uint32_t events, lmp_loop_fd_fn cb, void *ctx)
{
	struct lmp_watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	*w = (struct lmp_watch){ .fd = fd, .fd_cb = cb, .ctx = ctx };
	r = add_watch(l, w, events);
	if (r < 0)
		free(w);
	return r < 0 ? r : 0;
}

int lmp_loop_mod_fd(struct lmp_loop *l, int fd, uint32_t events)
{
	int i = find_fd(l, fd, false);
	struct epoll_event ev = { .events = events };

	if (i < 0)
		return i;
	ev.data.u32 = i;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

static void del_slot(struct lmp_loop *l, int i)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->w[i]->fd, NULL);
	if (l->w[i]->is_timer)
		close(l->w[i]->fd);
	free(l->w[i]);
	l->w[i] = NULL;
}

int lmp_loop_del_fd(struct lmp_loop *l, int fd)
{
	int i = find_fd(l, fd, false);

	if (i < 0)
		return i;
	del_slot(l, i);
	return 0;
}

int lmp_loop_set_timer(struct lmp_loop *l, int id, uint64_t ms, bool periodic)
{
	struct itimerspec its = { 0 };
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	if (id < 1 || id > LMP_LOOP_MAX_WATCH || !l->w[id - 1] || !l->w[id - 1]->is_timer)
		return -ENOENT;
	its.it_value = ts;
	if (periodic)
		its.it_interval = ts;
	return timerfd_settime(l->w[id - 1]->fd, 0, &its, NULL) < 0 ? -errno : 0;
}

int lmp_loop_add_timer(struct lmp_loop *l, uint64_t ms, bool periodic, lmp_loop_timer_fn cb,
		       void *ctx)
{
	struct lmp_watch *w = calloc(1, sizeof(*w));
	int id, r;

	if (!w)
		return -ENOMEM;
	w->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->fd < 0) {
		r = -errno;
		free(w);
		return r;
	}
	w->is_timer = true;
	w->timer_cb = cb;
	w->ctx = ctx;
	id = add_watch(l, w, EPOLLIN);
	if (id < 0) {
		close(w->fd);
		free(w);
		return id;
	}
	r = ms ? lmp_loop_set_timer(l, id, ms, periodic) : 0;
	if (r < 0) {
		del_slot(l, id - 1);
		return r;
	}
	return id;
}

int lmp_loop_del_timer(struct lmp_loop *l, int id)
{
	if (id < 1 || id > LMP_LOOP_MAX_WATCH || !l->w[id - 1] || !l->w[id - 1]->is_timer)
		return -ENOENT;
	del_slot(l, id - 1);
	return 0;
}

void lmp_loop_set_idle(struct lmp_loop *l, lmp_loop_timer_fn cb, void *ctx)
{
	l->idle_cb = cb;
	l->idle_ctx = ctx;
}

void lmp_loop_stop(struct lmp_loop *l)
{
	l->stop = true;
}

int lmp_loop_run(struct lmp_loop *l)
{
	struct epoll_event evs[32];

	l->stop = false;
	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			struct lmp_watch *w = l->w[evs[i].data.u32];

			if (!w) /* removed by an earlier callback of this batch */
				continue;
			if (w->is_timer) {
				uint64_t expirations;

				if (read(w->fd, &expirations, sizeof(expirations)) > 0)
					w->timer_cb(w->ctx);
			} else {
				w->fd_cb(w->ctx, w->fd, evs[i].events);
			}
		}
		if (l->idle_cb)
			l->idle_cb(l->idle_ctx);
	}
	return 0;
}
