// SPDX-License-Identifier: Apache-2.0
/*
 * The cache of cgroup id -> path and its negative cache; the ways to resolve a miss are in
 * cgresolve.c (no walk), cgwalk.c (tree walks) and cgwalker.c (walks off the loop).
 *
 * The cache is a dense array of entries plus an open-addressing index (id -> slot + 1).
 * Eviction is CLOCK: a hit sets the entry's ref bit; when the array is full the hand sweeps,
 * clearing ref bits, and evicts the first entry found clear. cgroup ids are 64-bit and never
 * reused within a boot, so a stale entry is wasted memory, never a wrong answer; prune
 * (called periodically by the owner) returns that memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "k8s/cgresolve.h"
#include "k8s/cgroup.h"
#include "k8s/cgwalker.h"

#define NEG_TTL_MS 1000 /* how long "no such cgroup" is believed */
/*
 * Background walks: a cgroup first seen waits for a walk that starts after it was seen, at
 * most LMP_CGWALK_MIN_INTERVAL_MS after the previous whole-tree walk started; its events are
 * held meanwhile (identity.c), so it gets its name, not a negative answer. Past WALK_BG_PENDING_MS (a
 * stuck walk) the id is answered "not found" like any other. An id that such a walk did
 * not find was gone before the walk began (a cgroup removed while its sockets or I/O
 * outlive it) and never comes back, ids being unique per boot: it joins the negative cache
 * (below), or every event of a dead cgroup would buy a walk of the tree.
 */
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

struct lmp_cgroup {
	char root[PATH_MAX];
	int root_fd;
	bool handles;
	struct lmp_cgroup_entry *ents;
	size_t n, cap, hand;
	uint32_t *idx;
	size_t mask;
	struct lmp_cgwalk wi; /* the index: inode-sorted entries, names */
	uint64_t walk_ms;
	uint64_t walk_gen;	 /* the background walk last adopted into wi */
	struct lmp_cgwalker *bg; /* NULL: walks run inline, on the caller's thread */
	struct {
		__u64 id[2];   /* 0: free */
		uint8_t older; /* the way the next insert takes */
	} * gone;
	size_t n_gone;
	struct lmp_cgroup_stats st;
};

/* ---- the walk index, inline or from the walker thread ---- */

static void install_walk(struct lmp_cgroup *cg, struct lmp_cgwalk *w)
{
	lmp_cgwalk_free(&cg->wi);
	cg->wi = *w;
	cg->walk_ms = lmp_cgwalk_now_ms();
	cg->st.walks++;
}

int lmp_cgroup_async(struct lmp_cgroup *cg)
{
	int r;

	if (!cg->bg && (r = lmp_cgwalker_new(cg->root_fd, &cg->bg)) < 0)
		return r;
	return lmp_cgwalker_fd(cg->bg);
}

bool lmp_cgroup_adopt(struct lmp_cgroup *cg)
{
	struct lmp_cgwalk_done d;

	if (!cg->bg || !lmp_cgwalker_take(cg->bg, &d))
		return false;
	/* a walk that failed, or could not be merged, answers nothing: its waiters give up
	 * after WALK_BG_PENDING_MS */
	if (d.failed) {
		cg->st.walk_errors++;
	} else if (!d.partial) {
		install_walk(cg, &d.w);
		cg->walk_gen = d.gen;
	} else {
		if (lmp_cgwalk_merge(&cg->wi, &d.w) == 0) {
			cg->st.partial_walks++;
			cg->walk_gen = d.gen;
		} else {
			cg->st.walk_errors++;
		}
		lmp_cgwalk_free(&d.w);
	}
	return true;
}

/*
 * lmp_cgroup_adopt for the lookup paths, which run per event: nothing to take (the common
 * case) costs one load, not an eventfd read and a lock. The eventfd itself is read by
 * lmp_cgroup_adopt from the owner's loop, so it never stays readable.
 */
static void adopt_if_done(struct lmp_cgroup *cg)
{
	if (cg->bg && lmp_cgwalker_has_done(cg->bg))
		lmp_cgroup_adopt(cg);
}

bool lmp_cgroup_refresh(struct lmp_cgroup *cg)
{
	char path[PATH_MAX];
	struct stat st;

	if (!cg || !cg->bg)
		return false;
	/* file handles may have stopped working since (capabilities dropped after attach)
	 * without a lookup having noticed yet: ask for the root, as a lookup would */
	if (cg->handles && fstat(cg->root_fd, &st) == 0)
		lmp_cgroup_resolve(cg, st.st_ino, path, sizeof(path));
	if (cg->handles)
		return false;
	return lmp_cgwalker_refresh(cg->bg);
}

/*
 * Inline walks (no walker thread): at most one per LMP_CGWALK_MIN_INTERVAL_MS, on this
 * thread. -ENOENT from an index older than the question proves nothing (the cgroup may be
 * newer): -EAGAIN then; -ENOENT only from a walk made for this very question.
 */
static int resolve_walk(struct lmp_cgroup *cg, __u64 id, char *buf, size_t len)
{
	struct lmp_cgwalk w;
	int r = lmp_cgwalk_path(&cg->wi, id, buf, len);

	if (r != -ENOENT)
		return r;
	if (cg->wi.ents && lmp_cgwalk_now_ms() - cg->walk_ms < LMP_CGWALK_MIN_INTERVAL_MS)
		return -EAGAIN;
	if (lmp_cgwalk_tree(cg->root_fd, &w) < 0)
		return -EAGAIN;
	install_walk(cg, &w);
	return lmp_cgwalk_path(&cg->wi, id, buf, len);
}

int lmp_cgroup_resolve(struct lmp_cgroup *cg, __u64 id, char *buf, size_t len)
{
	if (cg->handles) {
		int r = lmp_cgroup_by_handle(cg->root_fd, cg->root, id, buf, len);

		if (r == 0 || r == -ENOENT || r == -ENAMETOOLONG)
			return r;
		/* EPERM (no CAP_DAC_READ_SEARCH), EOPNOTSUPP, EINVAL: walk from now on */
		cg->handles = false;
	}
	if (cg->bg) { /* answer from the index we have; never walk on this thread */
		adopt_if_done(cg);
		return lmp_cgwalk_path(&cg->wi, id, buf, len) == 0 ? 0 : -EAGAIN;
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
	return e->need_walk && cg->walk_gen < e->need_walk && lmp_cgwalk_now_ms() < e->neg_until_ms;
}

/*
 * A pending entry's walk has finished (or is stuck): settle it. Found: e has its path.
 * Not found by a walk begun after the id was asked for: gone, e is removed (NULL). Stuck:
 * a short negative, asked again after NEG_TTL_MS.
 */
static struct lmp_cgroup_entry *settle(struct lmp_cgroup *cg, struct lmp_cgroup_entry *e)
{
	char path[PATH_MAX];

	if (lmp_cgwalk_path(&cg->wi, e->id, path, sizeof(path)) == 0 && (e->path = strdup(path))) {
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
	e->neg_until_ms = lmp_cgwalk_now_ms() + NEG_TTL_MS;
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

struct lmp_cgroup_entry *lmp_cgroup_get_pid(struct lmp_cgroup *cg, __u64 id, __u32 pid)
{
	struct lmp_cgroup_entry *e;
	char path[PATH_MAX];

	/* only where the walker would be asked: file handles answer at once anyway */
	if (!pid || cg->handles || !cg->bg || gone_has(cg, id))
		return lmp_cgroup_get(cg, id);
	e = find(cg, id, NULL);
	if ((e && !e->need_walk) || lmp_cgroup_by_pid(cg->root_fd, id, pid, path, sizeof(path)) < 0)
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
	if (e && (e->path || lmp_cgwalk_now_ms() < e->neg_until_ms)) {
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
	if (r == -EAGAIN && cg->bg && !cg->handles &&
	    (e->need_walk = lmp_cgwalker_request(cg->bg, id))) {
		cg->st.pending++;
		e->neg_until_ms = lmp_cgwalk_now_ms() + WALK_BG_PENDING_MS;
		return NULL;
	}
	cg->st.not_found++;
	e->neg_until_ms = lmp_cgwalk_now_ms() + NEG_TTL_MS;
	return NULL;
}

bool lmp_cgroup_pending(struct lmp_cgroup *cg, __u64 id)
{
	struct lmp_cgroup_entry *e = find(cg, id, NULL);

	return e && still_pending(cg, e);
}

int lmp_cgroup_prune(struct lmp_cgroup *cg)
{
	uint64_t now = lmp_cgwalk_now_ms();
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
	size_t cap = 16;
	int r;

	if (!cg)
		return -ENOMEM;
	cg->root_fd = -1;
	if (!root || !*root) {
		r = lmp_cgroup_detect_v2(found, sizeof(found));
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
	cg->root_fd = open(cg->root[0] ? cg->root : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->root_fd < 0) {
		r = -errno;
		goto fail;
	}
	cg->handles = lmp_cgroup_handles_work(cg->root_fd);
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
	lmp_cgwalker_free(cg->bg); /* joined before root_fd closes: the thread reads it */
	for (size_t i = 0; i < cg->n; i++)
		free(cg->ents[i].path);
	free(cg->ents);
	free(cg->idx);
	free(cg->gone);
	lmp_cgwalk_free(&cg->wi);
	if (cg->root_fd >= 0)
		close(cg->root_fd);
	free(cg);
}
