// SPDX-License-Identifier: Apache-2.0
/*
 * cgroup v2 id -> path. See cgroup.h for the two resolution strategies.
 *
 * The cache is a dense array of entries plus an open-addressing index (id -> slot + 1).
 * Eviction is CLOCK: a hit sets the entry's ref bit; when the array is full the hand sweeps,
 * clearing ref bits, and evicts the first entry found clear. cgroup ids are 64-bit and never
 * reused within a boot, so a stale entry is wasted memory, never a wrong answer; prune
 * (called periodically by the owner) returns that memory.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "core/caps.h"
#include "k8s/cgroup.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#define FILEID_KERNFS 0xfe	  /* include/linux/exportfs.h: kernfs node id as the handle */
#define NEG_TTL_MS 1000		  /* how long "no such cgroup" is believed */
#define WALK_MIN_INTERVAL_MS 1000 /* at most one walk of the whole tree a second */
#define WALK_MAX_DIRS 65536	  /* fallback: bound on one walk (a node has a few thousand) */
#define WALK_MAX_DEPTH 32
/*
 * Background walks: a cgroup first seen waits for a walk that starts after it was seen, at
 * most WALK_MIN_INTERVAL_MS after the previous whole-tree walk started; its events are held meanwhile
 * (identity.c), so it gets its name, not a negative answer. Past WALK_BG_PENDING_MS (a
 * stuck walk) the id is answered "not found" like any other. An id that such a walk did
 * not find was gone before the walk began (a cgroup removed while its sockets or I/O
 * outlive it) and never comes back, ids being unique per boot: it joins the negative cache
 * (below), or every event of a dead cgroup would buy a walk of the tree.
 */
#define WALK_BG_HOT_INTERVAL_MS 100 /* any walk, targeted ones included */
#define WALK_BG_PENDING_MS 2500
/*
 * Negative cache: ids proven gone (a walk begun after they were seen did not find them, the
 * file handle is stale, prune saw the directory removed). cgroup ids are never reused within
 * a boot, so "gone" is forever and needs no expiry; the set only needs a bound. It lives
 * apart from the cache of paths so that a storm of dying pods cannot evict the live ones.
 * Two ways per bucket; a new id takes the older of the two (the eviction rule). An evicted
 * id that shows up again costs one more resolve (off the loop), never a wrong answer.
 */
#define GONE_BUCKETS 4096 /* x 2 ways = 8192 ids, 64 KiB */
/*
 * Targeted walks: new cgroups appear where the last ones did (a node's pods under their QoS
 * slice). The walker remembers the grandparents of the cgroups it was asked for and found
 * (WALK_HOT of them, most recent first) and walks those subtrees first; only when they do
 * not hold every id it was asked for does it walk the whole tree. A QoS slice of 100 pods
 * is ~300 directories, against thousands for the tree.
 */
#define WALK_HOT 8
#define WALK_HOT_DEPTH 4  /* below a hot directory: pod, container, and two more */
#define WALK_WANT_MAX 256 /* ids a walk is asked to find; more: the whole tree */

struct walk_ent {
	__u64 ino;
	uint32_t off; /* into the walk_buf's names */
};

struct walk_buf {
	struct walk_ent *ents;
	size_t n, cap;
	char *names;
	size_t used, ncap;
};

/*
 * The walker thread of lmp_cgroup_async. Everything below mu is shared with it; the
 * thread only reads root_fd besides, which stays open until it has been joined.
 */
struct walker {
	pthread_t th;
	bool started;
	int efd; /* eventfd, written when a walk finished: the owner's loop adopts it */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* to the walker: a walk is wanted, or stop */
	bool want, stop;
	bool urgent; /* lmp_cgroup_refresh: a whole-tree walk now, whatever the rate limit */
	uint64_t gen_started;  /* walks begun; the one running or last run has this number */
	uint64_t gen_finished; /* walks ended, failed ones too */
	uint64_t last_start_ms, last_full_ms;
	struct walk_buf done; /* finished and not adopted yet */
	uint64_t done_gen;
	bool have_done;
	bool done_partial; /* done holds new entries only, to be merged into the index */
	__u64 want_ids[WALK_WANT_MAX]; /* asked for since the last walk began */
	size_t n_want;
	bool want_all; /* more than WALK_WANT_MAX: walk the whole tree */
	/* the walker thread's own: hot directories, most recent first */
	char *hot[WALK_HOT];
};

struct lmp_cgroup {
	char root[PATH_MAX];
	size_t rootlen;
	int root_fd;
	bool handles;
	struct lmp_cgroup_entry *ents;
	size_t n, cap, hand;
	uint32_t *idx;
	size_t mask;
	struct walk_buf wi; /* the index: inode-sorted entries, names */
	uint64_t walk_ms;
	uint64_t walk_gen; /* the background walk last adopted into wi */
	struct walker *bg; /* NULL: walks run inline, on the caller's thread */
	struct {
		__u64 id[2];   /* 0: free */
		uint8_t older; /* the way the next insert takes */
	} * gone;
	size_t n_gone;
	struct lmp_cgroup_stats st;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* ---- mount detection ---- */

static void unescape_octal(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

static int mount_score(const char *mp)
{
	size_t n = strlen(mp);
	static const char v2[] = "/sys/fs/cgroup", hy[] = "/sys/fs/cgroup/unified";

	if (n > sizeof(hy) - 1 && !strcmp(mp + n - (sizeof(hy) - 1), hy))
		return 4; /* host hierarchy bind-mounted, hybrid */
	if (n > sizeof(v2) - 1 && !strcmp(mp + n - (sizeof(v2) - 1), v2))
		return 5; /* host hierarchy bind-mounted, pure v2 */
	if (!strcmp(mp, v2))
		return 3;
	if (!strcmp(mp, hy))
		return 2;
	return 1;
}

int lmp_cgroup_find_v2(const char *mounts, char *out, size_t len)
{
	int best = 0;

	for (const char *l = mounts; l && *l;) {
		const char *eol = strchrnul(l, '\n');
		char line[4096], *f[16], *save = NULL, *mp = NULL, *fstype = NULL;
		size_t ll = eol - l;
		int nf = 0;

		if (ll < sizeof(line)) {
			memcpy(line, l, ll);
			line[ll] = '\0';
			for (char *t = strtok_r(line, " \t", &save); t && nf < 16;
			     t = strtok_r(NULL, " \t", &save))
				f[nf++] = t;
		}
		/* mountinfo: id parent maj:min root mountpoint opts [tags...] - fstype src opts */
		for (int i = 6; i < nf - 1; i++)
			if (!strcmp(f[i], "-")) {
				mp = f[4];
				fstype = f[i + 1];
				break;
			}
		/* /proc/mounts: source mountpoint fstype opts dump pass */
		if (!mp && nf >= 3) {
			mp = f[1];
			fstype = f[2];
		}
		if (mp && !strcmp(fstype, "cgroup2")) {
			int s;

			unescape_octal(mp);
			s = mount_score(mp);
			if (s > best && strlen(mp) < len) {
				best = s;
				strcpy(out, mp);
			}
		}
		l = *eol ? eol + 1 : eol;
	}
	return best ? 0 : -ENOENT;
}

static int detect_root(char *out, size_t len)
{
	char *text = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	ssize_t n;
	int r;

	if (!f)
		return -errno;
	n = getdelim(&text, &cap, '\0', f); /* whole file: it has no NUL */
	fclose(f);
	if (n < 0) {
		free(text);
		return -EIO;
	}
	r = lmp_cgroup_find_v2(text, out, len);
	free(text);
	return r;
}

int lmp_cgroup_id_of(const char *dir, __u64 *id)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

/* ---- id -> path ---- */

static int resolve_handle(struct lmp_cgroup *cg, __u64 id, char *buf, size_t len)
{
	struct {
		struct file_handle fh;
		__u64 id;
	} h = { .fh = { .handle_bytes = sizeof(__u64), .handle_type = FILEID_KERNFS }, .id = id };
	char link[64], path[PATH_MAX];
	ssize_t n;
	int fd;

	fd = open_by_handle_at(cg->root_fd, &h.fh, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ESTALE ? -ENOENT : -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	path[n] = '\0';
	/* removed between open and readlink: the link says so */
	if (n > 10 && !strcmp(path + n - 10, " (deleted)"))
		return -ENOENT;
	/* outside the mounted subtree (a namespaced mount): no path we can name */
	if (strncmp(path, cg->root, cg->rootlen) || (path[cg->rootlen] && path[cg->rootlen] != '/'))
		return -ENOENT;
	if ((size_t)snprintf(buf, len, "%s", path[cg->rootlen] ? path + cg->rootlen : "/") >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int walk_cmp(const void *a, const void *b)
{
	const struct walk_ent *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static bool is_dir(int dfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static int walk_add(struct walk_buf *w, __u64 ino, const char *parent, const char *name)
{
	size_t need = strlen(parent) + strlen(name) + 2;

	if (w->n == w->cap) {
		void *p = realloc(w->ents, sizeof(*w->ents) * (w->cap = w->cap ? 2 * w->cap : 256));

		if (!p)
			return -ENOMEM;
		w->ents = p;
	}
	if (w->used + need > w->ncap) {
		size_t nc = w->ncap ? w->ncap : 4096;
		void *p;

		while (w->used + need > nc)
			nc *= 2;
		p = realloc(w->names, nc);
		if (!p)
			return -ENOMEM;
		w->names = p;
		w->ncap = nc;
	}
	/* name "" is the directory parent itself (the top of a walk) */
	snprintf(w->names + w->used, need, "%s%s%s", parent, parent[1] && name[0] ? "/" : "", name);
	w->ents[w->n++] = (struct walk_ent){ ino, (uint32_t)w->used };
	w->used += need;
	return 0;
}

static int walk_from(int root_fd, struct walk_buf *w, __u64 ino, const char *top, int depth_max);

/*
 * One bounded breadth-first walk of the whole tree into an inode-sorted index; the list
 * itself is the queue. d_ino is the cgroup id, so no stat per directory. Reads nothing but
 * root_fd: the walker thread runs it too.
 */
static int walk_tree(int root_fd, struct walk_buf *w)
{
	struct stat st;

	int r;

	*w = (struct walk_buf){ 0 };
	if (fstat(root_fd, &st) < 0)
		return -errno;
	r = walk_from(root_fd, w, st.st_ino, "/", WALK_MAX_DEPTH);
	if (r == 0)
		qsort(w->ents, w->n, sizeof(*w->ents), walk_cmp);
	return r;
}

/*
 * Breadth-first from top (a directory path relative to the root, inode ino), at most
 * depth_max levels below it, appending to *w unsorted. On failure *w is freed and emptied.
 */

static int walk_from(int root_fd, struct walk_buf *w, __u64 ino, const char *top, int depth_max)
{
	size_t first = w->n;
	int r, top_depth = 0;

	for (const char *p = top; p[1] && *p; p++)
		top_depth += *p == '/';
	r = walk_add(w, ino, top, ""); /* the top itself */
	for (size_t i = first; r == 0 && i < w->n; i++) {
		char rel[PATH_MAX];
		struct dirent *de;
		int fd, depth = 0;
		DIR *d;

		snprintf(rel, sizeof(rel), "%s", w->names + w->ents[i].off);
		for (const char *p = rel; *p; p++)
			depth += *p == '/';
		if (depth - top_depth > depth_max)
			continue;
		fd = openat(root_fd, rel[1] ? rel + 1 : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		d = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d) { /* removed while walking */
			if (fd >= 0)
				close(fd);
			continue;
		}
		while (r == 0 && (de = readdir(d)) && w->n < WALK_MAX_DIRS)
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && is_dir(fd, de))
				r = walk_add(w, de->d_ino, rel, de->d_name);
		closedir(d);
	}
	if (r) {
		free(w->ents);
		free(w->names);
		*w = (struct walk_buf){ 0 };
	}
	return r;
}

static const struct walk_ent *walk_find(const struct walk_buf *w, __u64 id)
{
	struct walk_ent key = { .ino = id };

	return w->n ? bsearch(&key, w->ents, w->n, sizeof(key), walk_cmp) : NULL;
}

static void install_walk(struct lmp_cgroup *cg, struct walk_buf *w)
{
	free(cg->wi.ents);
	free(cg->wi.names);
	cg->wi = *w;
	cg->walk_ms = now_ms();
	cg->st.walks++;
}

/*
 * A targeted walk's entries join the index. Entries of cgroups removed since the last
 * whole-tree walk stay until the next one: ids are never reused, so they only name what
 * those cgroups were. -ENOMEM leaves the index as it was.
 */
static int merge_walk(struct lmp_cgroup *cg, const struct walk_buf *d)
{
	struct walk_buf *w = &cg->wi;
	size_t n = w->n + d->n, used = w->used + d->used;
	struct walk_ent *ents;
	char *names;

	if (used > UINT32_MAX)
		return -E2BIG;
	ents = realloc(w->ents, n * sizeof(*ents));
	if (!ents)
		return -ENOMEM;
	w->ents = ents;
	names = realloc(w->names, used);
	if (!names)
		return -ENOMEM;
	w->names = names;
	memcpy(w->names + w->used, d->names, d->used);
	for (size_t i = 0; i < d->n; i++)
		w->ents[w->n + i] =
			(struct walk_ent){ d->ents[i].ino, (uint32_t)(d->ents[i].off + w->used) };
	w->n = n;
	w->cap = n;
	w->used = w->ncap = used;
	qsort(w->ents, w->n, sizeof(*w->ents), walk_cmp);
	cg->st.partial_walks++;
	return 0;
}

static int walk_lookup(struct lmp_cgroup *cg, __u64 id, char *buf, size_t len)
{
	const struct walk_ent *e = walk_find(&cg->wi, id);

	if (!e)
		return -ENOENT;
	if ((size_t)snprintf(buf, len, "%s", cg->wi.names + e->off) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* ---- background walks ---- */

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
static int walk_hot(int root_fd, struct walker *wk, const __u64 *want, size_t n_want,
		    struct walk_buf *w)
{
	size_t found = 0;

	*w = (struct walk_buf){ 0 };
	for (int h = 0; h < WALK_HOT && wk->hot[h]; h++) {
		struct stat st;

		if (fstatat(root_fd, wk->hot[h][1] ? wk->hot[h] + 1 : ".", &st, 0) < 0 ||
		    walk_from(root_fd, w, st.st_ino, wk->hot[h], WALK_HOT_DEPTH) < 0)
			continue; /* removed since: the whole tree will tell */
	}
	if (w->n) {
		qsort(w->ents, w->n, sizeof(*w->ents), walk_cmp);
		for (size_t i = 0; i < n_want; i++)
			found += walk_find(w, want[i]) != NULL;
	}
	if (found == n_want && w->n)
		return 0;
	free(w->ents);
	free(w->names);
	*w = (struct walk_buf){ 0 };
	return -ENOENT;
}

/* dir becomes the most recent hot directory (the least recent goes when all are taken) */
static void hot_touch(struct walker *wk, const char *dir)
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
static void remember_hot(struct walker *wk, const struct walk_buf *w, const __u64 *want,
			 size_t n_want)
{
	for (size_t i = 0; i < n_want; i++) {
		const struct walk_ent *e = walk_find(w, want[i]);
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
static void sleep_until(struct walker *wk, uint64_t deadline, bool cut_by_urgent)
{
	uint64_t now;

	while (!wk->stop && !(cut_by_urgent && wk->urgent) && (now = now_ms()) < deadline) {
		struct timespec ts = deadline_in(deadline - now);

		pthread_cond_timedwait(&wk->cv, &wk->mu, &ts);
	}
}

/*
 * The walker. Rate limits: a walk starts at most every WALK_BG_HOT_INTERVAL_MS; a walk of
 * the whole tree (the hot subtrees did not hold what was asked, or there are none yet) at
 * most every WALK_MIN_INTERVAL_MS, unless lmp_cgroup_refresh asked for it. It needs no
 * privilege (cgroupfs directories are world-readable) and keeps none.
 */
static void *walker_main(void *arg)
{
	struct lmp_cgroup *cg = arg;
	struct walker *wk = cg->bg;

	lmp_caps_clear_thread();
	pthread_mutex_lock(&wk->mu);
	while (!wk->stop) {
		__u64 want[WALK_WANT_MAX];
		size_t n_want;
		struct walk_buf w;
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
		wk->last_start_ms = now_ms();
		n_want = wk->want_all ? 0 : wk->n_want;
		memcpy(want, wk->want_ids, n_want * sizeof(*want));
		wk->n_want = 0;
		wk->want_all = false;
		/* an unadopted targeted result would be lost under a new one: walk it all */
		if (wk->have_done && wk->done_partial)
			n_want = 0;
		pthread_mutex_unlock(&wk->mu);
		partial = n_want && walk_hot(cg->root_fd, wk, want, n_want, &w) == 0;
		pthread_mutex_lock(&wk->mu);
		if (!partial) {
			/* the whole tree; lmp_cgroup_refresh wants it before a summary */
			if (wk->last_full_ms)
				sleep_until(wk, wk->last_full_ms + WALK_MIN_INTERVAL_MS, true);
			if (wk->stop)
				break;
			wk->last_full_ms = now_ms();
			pthread_mutex_unlock(&wk->mu);
			r = walk_tree(cg->root_fd, &w);
			pthread_mutex_lock(&wk->mu);
		}
		wk->urgent = false;
		if (r == 0)
			remember_hot(wk, &w, want, n_want);
		if (wk->have_done) { /* the owner has not adopted the last one: replace it */
			free(wk->done.ents);
			free(wk->done.names);
		}
		/* a failed walk answers nothing: its waiters give up after WALK_BG_PENDING_MS */
		wk->done = w;
		wk->done_partial = partial;
		wk->done_gen = r ? gen | 1ULL << 63 : gen;
		__atomic_store_n(&wk->have_done, true, __ATOMIC_RELEASE);
		wk->gen_finished = gen;
		eventfd_write(wk->efd, 1); /* one write per walk: the counter cannot overflow */
	}
	pthread_mutex_unlock(&wk->mu);
	return NULL;
}

/* Called with mu held: start the walker thread unless it runs; false if it cannot. */
static bool walker_start(struct lmp_cgroup *cg)
{
	struct walker *wk = cg->bg;

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
		ok = pthread_create(&wk->th, NULL, walker_main, cg) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (!ok) {
			pthread_cond_destroy(&wk->cv);
			return false;
		}
		wk->started = true;
	}
	return true;
}

/* Ask for a walk that starts after now and finds id; its generation, 0 if none can run. */
static uint64_t walk_request(struct lmp_cgroup *cg, __u64 id)
{
	struct walker *wk = cg->bg;
	uint64_t gen;

	pthread_mutex_lock(&wk->mu);
	if (!walker_start(cg)) {
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

bool lmp_cgroup_refresh(struct lmp_cgroup *cg)
{
	struct walker *wk = cg ? cg->bg : NULL;
	char path[PATH_MAX];
	struct stat st;
	bool ok;

	if (!wk)
		return false;
	/* file handles may have stopped working since (capabilities dropped after attach)
	 * without a lookup having noticed yet: ask for the root, as a lookup would */
	if (cg->handles && fstat(cg->root_fd, &st) == 0)
		lmp_cgroup_resolve(cg, st.st_ino, path, sizeof(path));
	if (cg->handles)
		return false;
	pthread_mutex_lock(&wk->mu);
	ok = walker_start(cg);
	if (ok) {
		wk->want = wk->want_all = wk->urgent = true;
		pthread_cond_signal(&wk->cv);
	}
	pthread_mutex_unlock(&wk->mu);
	return ok;
}

int lmp_cgroup_async(struct lmp_cgroup *cg)
{
	struct walker *wk;

	if (cg->bg)
		return cg->bg->efd;
	wk = calloc(1, sizeof(*wk));
	if (!wk)
		return -ENOMEM;
	wk->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wk->efd < 0) {
		int r = -errno;

		free(wk);
		return r;
	}
	pthread_mutex_init(&wk->mu, NULL);
	cg->bg = wk;
	return wk->efd;
}

bool lmp_cgroup_adopt(struct lmp_cgroup *cg)
{
	struct walker *wk = cg->bg;
	eventfd_t v;
	bool got = false;

	if (!wk || !wk->started)
		return false;
	/* EAGAIN when nothing was signalled: have_done below is what counts */
	eventfd_read(wk->efd, &v);
	pthread_mutex_lock(&wk->mu);
	if (wk->have_done) {
		/* a walk that failed, or could not be merged, answers nothing: its waiters give
		 * up after WALK_BG_PENDING_MS */
		if (wk->done_gen >> 63) {
			cg->st.walk_errors++;
		} else if (!wk->done_partial) {
			install_walk(cg, &wk->done);
			cg->walk_gen = wk->done_gen;
		} else {
			if (merge_walk(cg, &wk->done) == 0)
				cg->walk_gen = wk->done_gen;
			else
				cg->st.walk_errors++;
			free(wk->done.ents);
			free(wk->done.names);
		}
		__atomic_store_n(&wk->have_done, false, __ATOMIC_RELEASE);
		got = true;
	}
	pthread_mutex_unlock(&wk->mu);
	return got;
}

/*
 * lmp_cgroup_adopt for the lookup paths, which run per event: nothing to take (the common
 * case) costs one load, not an eventfd read and a lock. The eventfd itself is read by
 * lmp_cgroup_adopt from the owner's loop, so it never stays readable.
 */
static void adopt_if_done(struct lmp_cgroup *cg)
{
	if (cg->bg && __atomic_load_n(&cg->bg->have_done, __ATOMIC_ACQUIRE))
		lmp_cgroup_adopt(cg);
}

static void walker_free(struct lmp_cgroup *cg)
{
	struct walker *wk = cg->bg;

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
	if (wk->have_done) {
		free(wk->done.ents);
		free(wk->done.names);
	}
	for (int h = 0; h < WALK_HOT; h++)
		free(wk->hot[h]);
	pthread_mutex_destroy(&wk->mu);
	close(wk->efd);
	free(wk);
	cg->bg = NULL;
}

/*
 * Inline walks (no walker thread): at most one per WALK_MIN_INTERVAL_MS, on this thread.
 * -ENOENT from an index older than the question proves nothing (the cgroup may be newer):
 * -EAGAIN then; -ENOENT only from a walk made for this very question.
 */
static int resolve_walk(struct lmp_cgroup *cg, __u64 id, char *buf, size_t len)
{
	struct walk_buf w;
	int r = walk_lookup(cg, id, buf, len);

	if (r != -ENOENT)
		return r;
	if (cg->wi.ents && now_ms() - cg->walk_ms < WALK_MIN_INTERVAL_MS)
		return -EAGAIN;
	if (walk_tree(cg->root_fd, &w) < 0)
		return -EAGAIN;
	install_walk(cg, &w);
	return walk_lookup(cg, id, buf, len);
}

int lmp_cgroup_resolve(struct lmp_cgroup *cg, __u64 id, char *buf, size_t len)
{
	if (cg->handles) {
		int r = resolve_handle(cg, id, buf, len);

		if (r == 0 || r == -ENOENT || r == -ENAMETOOLONG)
			return r;
		/* EPERM (no CAP_DAC_READ_SEARCH), EOPNOTSUPP, EINVAL: walk from now on */
		cg->handles = false;
	}
	if (cg->bg) { /* answer from the index we have; never walk on this thread */
		adopt_if_done(cg);
		return walk_lookup(cg, id, buf, len) == 0 ? 0 : -EAGAIN;
	}
	return resolve_walk(cg, id, buf, len);
}

void lmp_cgroup_disable_handles(struct lmp_cgroup *cg)
{
	cg->handles = false;
}

/* ---- cache ---- */

static size_t slot_of(const struct lmp_cgroup *cg, __u64 id)
{
	return (id * 0x9e3779b97f4a7c15ULL) >> 32 & cg->mask;
}

static struct lmp_cgroup_entry *find(struct lmp_cgroup *cg, __u64 id, size_t *slot)
{
	for (size_t h = slot_of(cg, id); cg->idx[h]; h = (h + 1) & cg->mask)
		if (cg->ents[cg->idx[h] - 1].id == id) {
			if (slot)
				*slot = h;
			return &cg->ents[cg->idx[h] - 1];
		}
	return NULL;
}

static void idx_put(struct lmp_cgroup *cg, __u64 id, uint32_t v)
{
	size_t h = slot_of(cg, id);

	while (cg->idx[h])
		h = (h + 1) & cg->mask;
	cg->idx[h] = v;
}

/* Linear-probing delete: shift later members of the run back so lookups still reach them. */
static void idx_del(struct lmp_cgroup *cg, size_t h)
{
	size_t j = h;

	cg->idx[h] = 0;
	for (;;) {
		size_t home;

		j = (j + 1) & cg->mask;
		if (!cg->idx[j])
			return;
		home = slot_of(cg, cg->ents[cg->idx[j] - 1].id);
		/* move j into the hole h unless its home lies cyclically in (h, j] */
		if ((j > h && (home <= h || home > j)) || (j < h && home <= h && home > j)) {
			cg->idx[h] = cg->idx[j];
			cg->idx[j] = 0;
			h = j;
		}
	}
}

static void remove_at(struct lmp_cgroup *cg, struct lmp_cgroup_entry *e)
{
	size_t slot = 0, i = e - cg->ents, last = cg->n - 1;

	find(cg, e->id, &slot);
	idx_del(cg, slot);
	free(e->path);
	if (i != last) { /* keep the array dense: the last entry fills the hole */
		size_t s2 = 0;

		find(cg, cg->ents[last].id, &s2);
		cg->ents[i] = cg->ents[last];
		cg->idx[s2] = i + 1;
	}
	cg->n--;
	if (cg->hand >= cg->n)
		cg->hand = 0;
}

static void evict_one(struct lmp_cgroup *cg)
{
	for (;;) {
		struct lmp_cgroup_entry *e = &cg->ents[cg->hand];

		if (!e->ref) {
			remove_at(cg, e);
			cg->st.evictions++;
			return;
		}
		e->ref = false;
		cg->hand = (cg->hand + 1) % cg->n;
	}
}

/* ---- negative cache ---- */

static size_t gone_bucket(__u64 id)
{
	return (id * 0x9e3779b97f4a7c15ULL) >> 40 & (GONE_BUCKETS - 1);
}

static bool gone_has(const struct lmp_cgroup *cg, __u64 id)
{
	size_t b = gone_bucket(id);

	return cg->gone[b].id[0] == id || cg->gone[b].id[1] == id;
}

static void gone_add(struct lmp_cgroup *cg, __u64 id)
{
	size_t b = gone_bucket(id);
	int w;

	if (!id || gone_has(cg, id))
		return;
	w = !cg->gone[b].id[0] ? 0 : !cg->gone[b].id[1] ? 1 : cg->gone[b].older;
	if (cg->gone[b].id[w])
		cg->st.gone_evictions++;
	else
		cg->n_gone++;
	cg->gone[b].id[w] = id;
	cg->gone[b].older = !w;
	cg->st.gone++;
}

static void gone_del(struct lmp_cgroup *cg, __u64 id)
{
	size_t b = gone_bucket(id);

	for (int w = 0; w < 2; w++)
		if (id && cg->gone[b].id[w] == id) {
			cg->gone[b].id[w] = 0;
			cg->gone[b].older = w;
			cg->n_gone--;
		}
}

/* e names a cgroup proven gone: out of the cache of paths, into the negative cache. */
static void bury(struct lmp_cgroup *cg, struct lmp_cgroup_entry *e)
{
	gone_add(cg, e->id);
	remove_at(cg, e);
}

/* Waiting for a walk that has not been adopted yet, and not stuck past its time. */
static bool still_pending(const struct lmp_cgroup *cg, const struct lmp_cgroup_entry *e)
{
	return e->need_walk && cg->walk_gen < e->need_walk && now_ms() < e->neg_until_ms;
}

/*
 * A pending entry's walk has finished (or is stuck): settle it. Found: e has its path.
 * Not found by a walk begun after the id was asked for: gone, e is removed (NULL). Stuck:
 * a short negative, asked again after NEG_TTL_MS.
 */
static struct lmp_cgroup_entry *settle(struct lmp_cgroup *cg, struct lmp_cgroup_entry *e)
{
	char path[PATH_MAX];

	if (walk_lookup(cg, e->id, path, sizeof(path)) == 0 && (e->path = strdup(path))) {
		lmp_podpath_parse(e->path, &e->pp);
		e->need_walk = 0;
		return e;
	}
	cg->st.not_found++;
	if (cg->walk_gen >= e->need_walk) {
		bury(cg, e);
		return NULL;
	}
	e->need_walk = 0;
	e->neg_until_ms = now_ms() + NEG_TTL_MS;
	return e;
}

/* A new entry for id (not in the cache), with its path when there is one. */
static struct lmp_cgroup_entry *add(struct lmp_cgroup *cg, __u64 id, const char *path)
{
	struct lmp_cgroup_entry *e;

	if (cg->n == cg->cap)
		evict_one(cg);
	e = &cg->ents[cg->n];
	*e = (struct lmp_cgroup_entry){ .id = id, .memo_pod = -1, .memo_ctr = -1 };
	idx_put(cg, id, ++cg->n);
	if (path && (e->path = strdup(path)))
		lmp_podpath_parse(e->path, &e->pp);
	return e;
}

/*
 * A cgroup named by one of its processes while it lives: the v2 line of /proc/<pid>/cgroup
 * ("0::/path"), believed only if that directory's inode is id. A pid of another pid
 * namespace, a process that moved or died, a cgroup namespace the mount does not share,
 * a removed cgroup ("/path (deleted)"): all fail that check, and the walker answers.
 */
static int resolve_pid(struct lmp_cgroup *cg, __u64 id, __u32 pid, char *buf, size_t len)
{
	char p[32], txt[8192], *l;
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "/proc/%u/cgroup", pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, txt, sizeof(txt) - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	txt[n] = '\0';
	for (l = txt; l && strncmp(l, "0::/", 4); l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		;
	if (!l)
		return -ENOENT;
	l += 3;
	l[strcspn(l, "\n")] = '\0';
	if (fstatat(cg->root_fd, l[1] ? l + 1 : ".", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    st.st_ino != id)
		return -ENOENT;
	return (size_t)snprintf(buf, len, "%s", l) < len ? 0 : -ENAMETOOLONG;
}

struct lmp_cgroup_entry *lmp_cgroup_get_pid(struct lmp_cgroup *cg, __u64 id, __u32 pid)
{
	struct lmp_cgroup_entry *e;
	char path[PATH_MAX];

	/* only where the walker would be asked: file handles answer at once anyway */
	if (!pid || cg->handles || !cg->bg || gone_has(cg, id))
		return lmp_cgroup_get(cg, id);
	e = find(cg, id, NULL);
	if ((e && !e->need_walk) || resolve_pid(cg, id, pid, path, sizeof(path)) < 0)
		return lmp_cgroup_get(cg, id);
	cg->st.by_pid++;
	if (!e) {
		cg->st.misses++;
		return add(cg, id, path);
	}
	/* pending: named before its walk is in */
	if (!(e->path = strdup(path)))
		return NULL;
	lmp_podpath_parse(e->path, &e->pp);
	e->need_walk = 0;
	e->ref = true;
	return e;
}

struct lmp_cgroup_entry *lmp_cgroup_get(struct lmp_cgroup *cg, __u64 id)
{
	struct lmp_cgroup_entry *e = find(cg, id, NULL);
	char path[PATH_MAX];
	int r;

	if (e && e->need_walk) {
		adopt_if_done(cg);
		if (still_pending(cg, e)) {
			cg->st.pending_hits++;
			return NULL; /* lmp_cgroup_pending says so */
		}
		if (!(e = settle(cg, e)))
			return NULL;
		e->ref = true;
		return e->path ? e : NULL;
	}
	if (e && (e->path || now_ms() < e->neg_until_ms)) {
		cg->st.hits++;
		e->ref = true;
		return e->path ? e : NULL;
	}
	if (!e && gone_has(cg, id)) {
		cg->st.gone_hits++;
		return NULL;
	}
	cg->st.misses++;
	r = lmp_cgroup_resolve(cg, id, path, sizeof(path));
	if (r == -ENOENT) { /* proven gone (or never in this hierarchy): remember it */
		if (e)
			remove_at(cg, e);
		cg->st.not_found++;
		gone_add(cg, id);
		return NULL;
	}
	if (e)
		remove_at(cg, e); /* an expired negative: start afresh */
	e = add(cg, id, r == 0 ? path : NULL);
	if (e->path)
		return e;
	/* not in the index: a background walker names it later, if it can start one */
	if (r == -EAGAIN && cg->bg && !cg->handles && (e->need_walk = walk_request(cg, id))) {
		cg->st.pending++;
		e->neg_until_ms = now_ms() + WALK_BG_PENDING_MS;
		return NULL;
	}
	cg->st.not_found++;
	e->neg_until_ms = now_ms() + NEG_TTL_MS;
	return NULL;
}

bool lmp_cgroup_pending(struct lmp_cgroup *cg, __u64 id)
{
	struct lmp_cgroup_entry *e = find(cg, id, NULL);

	return e && still_pending(cg, e);
}

int lmp_cgroup_prune(struct lmp_cgroup *cg)
{
	uint64_t now = now_ms();
	int gone = 0;

	for (size_t i = 0; i < cg->n;) {
		struct lmp_cgroup_entry *e = &cg->ents[i];
		struct stat st;
		bool dead;

		if (!e->path) /* negative or pending: kept for their time, then forgotten */
			dead = now >= e->neg_until_ms;
		else
			dead = fstatat(cg->root_fd, e->path[1] ? e->path + 1 : ".", &st,
				       AT_SYMLINK_NOFOLLOW) < 0 ||
			       st.st_ino != e->id;
		if (!dead) {
			i++;
			continue;
		}
		/* the last entry moves into i: look at i again */
		if (e->path) /* a removed cgroup's late events (sockets, I/O) cost nothing */
			bury(cg, e);
		else
			remove_at(cg, e);
		gone++;
	}
	cg->st.forgotten += gone;
	return gone;
}

void lmp_cgroup_forget(struct lmp_cgroup *cg, __u64 id)
{
	struct lmp_cgroup_entry *e = find(cg, id, NULL);

	if (e) {
		remove_at(cg, e);
		cg->st.forgotten++;
	}
	gone_del(cg, id);
}

void lmp_cgroup_stats(const struct lmp_cgroup *cg, struct lmp_cgroup_stats *out)
{
	*out = cg->st;
	out->entries = cg->n;
	out->max_entries = cg->cap;
	out->handles = cg->handles;
	out->gone_entries = cg->n_gone;
	out->gone_max = 2 * GONE_BUCKETS;
}

const char *lmp_cgroup_root(const struct lmp_cgroup *cg)
{
	return cg->root;
}

int lmp_cgroup_new(const char *root, size_t max_entries, struct lmp_cgroup **out)
{
	struct lmp_cgroup *cg = calloc(1, sizeof(*cg));
	char found[PATH_MAX];
	struct statfs sfs;
	size_t cap = 16;
	int r;

	if (!cg)
		return -ENOMEM;
	cg->root_fd = -1;
	if (!root || !*root) {
		r = detect_root(found, sizeof(found));
		if (r < 0)
			goto fail;
		root = found;
	}
	if (!realpath(root, cg->root)) {
		r = -errno;
		goto fail;
	}
	if (!strcmp(cg->root, "/"))
		cg->root[0] = '\0'; /* so that root + "/x" never doubles the slash */
	cg->rootlen = strlen(cg->root);
	cg->root_fd = open(cg->rootlen ? cg->root : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->root_fd < 0) {
		r = -errno;
		goto fail;
	}
	/* kernfs file handles only mean something on a cgroup2 mount */
	cg->handles = fstatfs(cg->root_fd, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
	cg->cap = max_entries ? max_entries : 4096;
	while (cap < 2 * cg->cap)
		cap <<= 1;
	cg->mask = cap - 1;
	cg->ents = calloc(cg->cap, sizeof(*cg->ents));
	cg->idx = calloc(cap, sizeof(*cg->idx));
	cg->gone = calloc(GONE_BUCKETS, sizeof(*cg->gone));
	if (!cg->ents || !cg->idx || !cg->gone) {
		r = -ENOMEM;
		goto fail;
	}
	*out = cg;
	return 0;
fail:
	lmp_cgroup_free(cg);
	return r;
}

void lmp_cgroup_free(struct lmp_cgroup *cg)
{
	if (!cg)
		return;
	walker_free(cg); /* joined before root_fd closes: the thread reads it */
	for (size_t i = 0; i < cg->n; i++)
		free(cg->ents[i].path);
	free(cg->ents);
	free(cg->idx);
	free(cg->gone);
	free(cg->wi.ents);
	free(cg->wi.names);
	if (cg->root_fd >= 0)
		close(cg->root_fd);
	free(cg);
}
