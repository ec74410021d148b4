// SPDX-License-Identifier: Apache-2.0
/* The cgroup walker thread; see cgwalker.h. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include "base/caps.h"
#include "k8s/cgwalker.h"

#define WALK_BG_HOT_INTERVAL_MS 100 /* any walk, targeted ones included */
/*
 * Targeted walks: new cgroups appear where the last ones did (a node's pods under their QoS
 * slice). The walker remembers the grandparents of the cgroups it was asked for and found
 * (WALK_HOT of them, most recent first) and walks those subtrees first; only when they do
 * not hold every id it was asked for does it walk the whole tree.
 */
#define WALK_HOT 8
#define WALK_HOT_DEPTH 4  /* below a hot directory: pod, container, and two more */
#define WALK_WANT_MAX 256 /* ids a walk is asked to find; more: the whole tree */

/* Everything below mu is shared with the thread; root_fd is only read. */
struct lmp_cgwalker {
	int root_fd;
	pthread_t th;
	bool started;
	int efd; /* eventfd, written when a walk finished: the owner's loop takes it */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* to the walker: a walk is wanted, or stop */
	bool want, stop;
	bool urgent;	       /* refresh: a whole-tree walk now, whatever the rate limit */
	uint64_t gen_started;  /* walks begun; the one running or last run has this number */
	uint64_t gen_finished; /* walks ended, failed ones too */
	uint64_t last_start_ms, last_full_ms;
	struct lmp_cgwalk done; /* finished and not taken yet */
	uint64_t done_gen;
	bool have_done;
	bool done_partial; /* done holds new entries only, to be merged into the index */
	bool done_failed;
	__u64 want_ids[WALK_WANT_MAX]; /* asked for since the last walk began */
	size_t n_want;
	bool want_all; /* more than WALK_WANT_MAX: walk the whole tree */
	/* the walker thread's own: hot directories, most recent first */
	char *hot[WALK_HOT];
};

/* The absolute CLOCK_MONOTONIC time ms from now, for pthread_cond_timedwait. */
static struct timespec deadline_in(uint64_t ms)
{
	struct timespec ts;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns = ts.tv_nsec + ms * 1000000ULL;
	ts.tv_sec += ns / 1000000000ULL;
	ts.tv_nsec = ns % 1000000000ULL;
	return ts;
}

/*
 * Walk the hot subtrees into *w; 0 if that found every wanted id, else -ENOENT (*w freed,
 * the caller walks the whole tree).
 */
static int walk_hot(int root_fd, struct lmp_cgwalker *wk, const __u64 *want, size_t n_want,
		    struct lmp_cgwalk *w)
{
	size_t found = 0;

	*w = (struct lmp_cgwalk){ 0 };
	for (int h = 0; h < WALK_HOT && wk->hot[h]; h++) {
		struct stat st;

		if (fstatat(root_fd, wk->hot[h][1] ? wk->hot[h] + 1 : ".", &st, 0) < 0 ||
		    lmp_cgwalk_from(root_fd, w, st.st_ino, wk->hot[h], WALK_HOT_DEPTH) < 0)
			continue; /* removed since: the whole tree will tell */
	}
	if (w->n) {
		lmp_cgwalk_sort(w);
		for (size_t i = 0; i < n_want; i++)
			found += lmp_cgwalk_find(w, want[i]) != NULL;
	}
	if (found == n_want && w->n)
		return 0;
	lmp_cgwalk_free(w);
	return -ENOENT;
}

/* dir becomes the most recent hot directory (the least recent goes when all are taken) */
static void hot_touch(struct lmp_cgwalker *wk, const char *dir)
{
	int h;
	char *d;

	for (h = 0; h < WALK_HOT && wk->hot[h] && strcmp(wk->hot[h], dir); h++)
		;
	if (h < WALK_HOT && wk->hot[h]) {
		d = wk->hot[h];
	} else {
		if (!(d = strdup(dir)))
			return;
		if (h == WALK_HOT)
			free(wk->hot[--h]);
	}
	memmove(&wk->hot[1], &wk->hot[0], h * sizeof(wk->hot[0]));
	wk->hot[0] = d;
}

/* The grandparents of the wanted ids this walk found: where the next ones will appear. */
static void remember_hot(struct lmp_cgwalker *wk, const struct lmp_cgwalk *w, const __u64 *want,
			 size_t n_want)
{
	for (size_t i = 0; i < n_want; i++) {
		const struct lmp_cgwalk_ent *e = lmp_cgwalk_find(w, want[i]);
		char dir[PATH_MAX], *slash;

		if (!e)
			continue;
		snprintf(dir, sizeof(dir), "%s", w->names + e->off);
		for (int up = 0; up < 2 && (slash = strrchr(dir, '/')); up++)
			*slash = '\0';
		if (dir[0]) /* not for cgroups two levels deep or less: that is the whole tree */
			hot_touch(wk, dir);
	}
}

/*
 * Called with mu held: sleep until deadline (monotonic ms), stop, or (if cut_by_urgent) a
 * refresh; new requests do not wake it.
 */
static void sleep_until(struct lmp_cgwalker *wk, uint64_t deadline, bool cut_by_urgent)
{
	uint64_t now;

	while (!wk->stop && !(cut_by_urgent && wk->urgent) &&
	       (now = lmp_cgwalk_now_ms()) < deadline) {
		struct timespec ts = deadline_in(deadline - now);

		pthread_cond_timedwait(&wk->cv, &wk->mu, &ts);
	}
}

/*
 * Rate limits: a walk starts at most every WALK_BG_HOT_INTERVAL_MS; a walk of the whole
 * tree (the hot subtrees did not hold what was asked, or there are none yet) at most every
 * LMP_CGWALK_MIN_INTERVAL_MS, unless refreshed. cgroupfs directories are world-readable, so
 * the thread keeps no capability.
 */
static void *walker_main(void *arg)
{
	struct lmp_cgwalker *wk = arg;

	lmp_caps_clear_thread();
	pthread_mutex_lock(&wk->mu);
	while (!wk->stop) {
		__u64 want[WALK_WANT_MAX];
		size_t n_want;
		struct lmp_cgwalk w;
		uint64_t gen;
		bool partial = false;
		int r = 0;

		if (!wk->want) {
			pthread_cond_wait(&wk->cv, &wk->mu);
			continue;
		}
		if (wk->gen_started)
			sleep_until(wk, wk->last_start_ms + WALK_BG_HOT_INTERVAL_MS, false);
		if (wk->stop)
			break;
		wk->want = false;
		gen = ++wk->gen_started;
		wk->last_start_ms = lmp_cgwalk_now_ms();
		n_want = wk->want_all ? 0 : wk->n_want;
		memcpy(want, wk->want_ids, n_want * sizeof(*want));
		wk->n_want = 0;
		wk->want_all = false;
		/* an unadopted targeted result would be lost under a new one: walk it all */
		if (wk->have_done && wk->done_partial)
			n_want = 0;
		pthread_mutex_unlock(&wk->mu);
		partial = n_want && walk_hot(wk->root_fd, wk, want, n_want, &w) == 0;
		pthread_mutex_lock(&wk->mu);
		if (!partial) {
			/* the whole tree; a refresh wants it before a summary */
			if (wk->last_full_ms)
				sleep_until(wk, wk->last_full_ms + LMP_CGWALK_MIN_INTERVAL_MS,
					    true);
			if (wk->stop)
				break;
			wk->last_full_ms = lmp_cgwalk_now_ms();
			pthread_mutex_unlock(&wk->mu);
			r = lmp_cgwalk_tree(wk->root_fd, &w);
			pthread_mutex_lock(&wk->mu);
		}
		wk->urgent = false;
		if (r == 0)
			remember_hot(wk, &w, want, n_want);
		lmp_cgwalk_free(&wk->done); /* not taken yet: the new one replaces it */
		/* a failed walk answers nothing: its waiters give up at their deadline */
		wk->done = w;
		wk->done_partial = partial;
		wk->done_gen = gen;
		wk->done_failed = r != 0;
		__atomic_store_n(&wk->have_done, true, __ATOMIC_RELEASE);
		wk->gen_finished = gen;
		eventfd_write(wk->efd, 1); /* one write per walk: the counter cannot overflow */
	}
	pthread_mutex_unlock(&wk->mu);
	return NULL;
}

/* Called with mu held: start the walker thread unless it runs; false if it cannot. */
static bool walker_start(struct lmp_cgwalker *wk)
{
	if (!wk->started) {
		pthread_condattr_t ca;
		sigset_t all, old;
		bool ok;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&wk->cv, &ca);
		pthread_condattr_destroy(&ca);
		/* signals are the main loop's business: the thread starts with all blocked */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		ok = pthread_create(&wk->th, NULL, walker_main, wk) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (!ok) {
			pthread_cond_destroy(&wk->cv);
			return false;
		}
		wk->started = true;
	}
	return true;
}

uint64_t lmp_cgwalker_request(struct lmp_cgwalker *wk, __u64 id)
{
	uint64_t gen;

	pthread_mutex_lock(&wk->mu);
	if (!walker_start(wk)) {
		pthread_mutex_unlock(&wk->mu);
		return 0;
	}
	wk->want = true;
	if (wk->n_want < WALK_WANT_MAX)
		wk->want_ids[wk->n_want++] = id;
	else
		wk->want_all = true;
	gen = wk->gen_started + 1; /* the next walk to begin, whether or not one is running */
	pthread_cond_signal(&wk->cv);
	pthread_mutex_unlock(&wk->mu);
	return gen;
}

bool lmp_cgwalker_refresh(struct lmp_cgwalker *wk)
{
	bool ok;

	pthread_mutex_lock(&wk->mu);
	ok = walker_start(wk);
	if (ok) {
		wk->want = wk->want_all = wk->urgent = true;
		pthread_cond_signal(&wk->cv);
	}
	pthread_mutex_unlock(&wk->mu);
	return ok;
}

int lmp_cgwalker_new(int root_fd, struct lmp_cgwalker **out)
{
	struct lmp_cgwalker *wk = calloc(1, sizeof(*wk));

	if (!wk)
		return -ENOMEM;
	wk->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wk->efd < 0) {
		int r = -errno;

		free(wk);
		return r;
	}
	wk->root_fd = root_fd;
	pthread_mutex_init(&wk->mu, NULL);
	*out = wk;
	return 0;
}

int lmp_cgwalker_fd(const struct lmp_cgwalker *wk)
{
	return wk->efd;
}

bool lmp_cgwalker_has_done(const struct lmp_cgwalker *wk)
{
	return __atomic_load_n(&wk->have_done, __ATOMIC_ACQUIRE);
}

bool lmp_cgwalker_take(struct lmp_cgwalker *wk, struct lmp_cgwalk_done *out)
{
	eventfd_t v;
	bool got = false;

	if (!wk->started)
		return false;
	/* EAGAIN when nothing was signalled: have_done below is what counts */
	eventfd_read(wk->efd, &v);
	pthread_mutex_lock(&wk->mu);
	if (wk->have_done) {
		*out = (struct lmp_cgwalk_done){ .w = wk->done,
						 .gen = wk->done_gen,
						 .partial = wk->done_partial,
						 .failed = wk->done_failed };
		wk->done = (struct lmp_cgwalk){ 0 };
		__atomic_store_n(&wk->have_done, false, __ATOMIC_RELEASE);
		got = true;
	}
	pthread_mutex_unlock(&wk->mu);
	return got;
}

void lmp_cgwalker_free(struct lmp_cgwalker *wk)
{
	if (!wk)
		return;
	if (wk->started) {
		pthread_mutex_lock(&wk->mu);
		wk->stop = true;
		pthread_cond_signal(&wk->cv);
		pthread_mutex_unlock(&wk->mu);
		pthread_join(wk->th, NULL);
		pthread_cond_destroy(&wk->cv);
	}
	lmp_cgwalk_free(&wk->done);
	for (int h = 0; h < WALK_HOT; h++)
		free(wk->hot[h]);
	pthread_mutex_destroy(&wk->mu);
	close(wk->efd);
	free(wk);
}
