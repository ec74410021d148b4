// SPDX-License-Identifier: Apache-2.0
/*
 * agent/k8s/cgroup.c: v2 mount detection on the captured mount tables; id -> path on the real
 * cgroup v2 hierarchy of this machine (root: makes kubepods-style cgroups) by file handle
 * and by the walk fallback, inline and on the background walker; cache bound, eviction,
 * forgetting removed cgroups.
 *
 * One file over 600 lines: every case works on the same real
 * hierarchy and mount-table captures.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "fixtures.h"

#include "k8s/cgroup.h"

static char *slurp(const char *rel)
{
	char p[512], *buf = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(p, sizeof(p), "%s/cgroup/%s", lmp_test_fixtures_dir(), rel);
	f = fopen(p, "r");
	if (!f)
		fail_msg("fixture %s not found (tests/fixtures, or $LMP_FIXTURES)", p);
	if (getdelim(&buf, &cap, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void test_cgroup_find_v2_in_captured_mounts(void **state)
{
	static const struct {
		const char *file, *want; /* NULL: no cgroup2 mount */
	} c[] = {
		{ "mounts/datadog-agent_container-cgroupv1_mounts", "/host/sys/fs/cgroup/unified" },
		{ "mounts/datadog-agent_container-cgroupv2_mounts", "/host/sys/fs/cgroup" },
		{ "mounts/datadog-agent_dind-cgroupv1_mounts", "/host/sys/fs/cgroup/unified" },
		{ "mounts/datadog-agent_mountinfo_docker", "/sys/fs/cgroup" },
		{ "mounts/datadog-agent_mountinfo_k8s", "/sys/fs/cgroup" },
		{ "mounts/datadog-agent_self-reader-cgroupv1_mounts", NULL },
		{ "mounts/datadog-agent_self-reader-cgroupv2_mounts", "/host/sys/fs/cgroup" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *text = slurp(c[i].file), out[256] = "";
		int r = lmp_cgroup_find_v2(text, out, sizeof(out));

		if (c[i].want) {
			if (r)
				fail_msg("%s: %d", c[i].file, r);
			assert_string_equal(out, c[i].want);
		} else {
			assert_int_equal(r, -ENOENT);
		}
		free(text);
	}
}

static void test_cgroup_find_v2_edge_cases(void **state)
{
	char out[64];

	/* this machine's shape: hybrid, v2 under unified, mountinfo with optional fields */
	assert_int_equal(lmp_cgroup_find_v2("30 22 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
					    "40 30 0:37 / /sys/fs/cgroup/unified rw shared:9 "
					    "master:2 - cgroup2 cgroup2 rw\n",
					    out, sizeof(out)),
			 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	/* pure v2 beats hybrid; octal escapes in mount points are undone */
	assert_int_equal(lmp_cgroup_find_v2("cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n"
					    "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n"
					    "cgroup2 /mnt/my\\040cg cgroup2 rw 0 0\n",
					    out, sizeof(out)),
			 0);
	assert_string_equal(out, "/sys/fs/cgroup");
	assert_int_equal(lmp_cgroup_find_v2("cgroup2 /mnt/my\\040cg cgroup2 rw 0 0", out, 64), 0);
	assert_string_equal(out, "/mnt/my cg");
	/* garbage, empty, too small a buffer */
	assert_int_equal(lmp_cgroup_find_v2("", out, sizeof(out)), -ENOENT);
	assert_int_equal(lmp_cgroup_find_v2("x\n\n - - -\n1 2 3 4 5 6 7 -\n", out, 64), -ENOENT);
	assert_int_equal(lmp_cgroup_find_v2(NULL, out, sizeof(out)), -ENOENT);
	assert_int_equal(lmp_cgroup_find_v2("cgroup2 /sys/fs/cgroup cgroup2 rw 0 0", out, 4),
			 -ENOENT);
}

/* ---- the real hierarchy: needs root to make cgroups ---- */

#define POD "pod8712f785-1a3e-41ec-a00b-e2dcc77431cb"
#define CID "73051af271105c07e1f493b34856a77e665e3b0b4fc72f76c807dfbffeb881bd"

struct real {
	struct lmp_cgroup *cg;
	char base[512]; /* absolute: <v2 root>/lmp-test-cgroup-<pid> */
	char rel[512];	/* the same, relative to the v2 root */
};

static int real_setup(void **state)
{
	struct real *t = calloc(1, sizeof(*t));
	char dir[1024];
	int r;

	if (geteuid() != 0) {
		fprintf(stderr, "test_cgroup: needs root to create cgroups in the v2 tree\n");
		free(t);
		return -1;
	}
	r = lmp_cgroup_new(NULL, 64, &t->cg);
	if (r) {
		fprintf(stderr, "test_cgroup: no cgroup v2 mount: %s\n", strerror(-r));
		free(t);
		return -1;
	}
	snprintf(t->rel, sizeof(t->rel), "/lmp-test-cgroup-%d", getpid());
	snprintf(t->base, sizeof(t->base), "%s%s", lmp_cgroup_root(t->cg), t->rel);
	snprintf(dir, sizeof(dir), "%s/kubepods/burstable/" POD "/" CID, t->base);
	for (char *p = dir + strlen(lmp_cgroup_root(t->cg)) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(dir, 0755);
		*p = '/';
	}
	if (mkdir(dir, 0755) < 0) {
		fprintf(stderr, "test_cgroup: mkdir %s: %s\n", dir, strerror(errno));
		return -1;
	}
	*state = t;
	return 0;
}

static int real_teardown(void **state)
{
	struct real *t = *state;
	char cmd[1200];

	lmp_cgroup_free(t->cg);
	/* deepest first: cgroup directories go with rmdir only */
	snprintf(cmd, sizeof(cmd), "find '%s' -depth -type d -exec rmdir {} + 2>/dev/null",
		 t->base);
	if (system(cmd) != 0 && access(t->base, F_OK) == 0)
		fprintf(stderr, "test_cgroup: could not remove %s\n", t->base);
	free(t);
	return 0;
}

static void check_resolves(struct real *t)
{
	char dir[1024], want[1024];
	struct lmp_cgroup_entry *e;
	struct lmp_cgroup_stats st;
	__u64 id;

	snprintf(dir, sizeof(dir), "%s/kubepods/burstable/" POD "/" CID, t->base);
	snprintf(want, sizeof(want), "%s/kubepods/burstable/" POD "/" CID, t->rel);
	assert_int_equal(lmp_cgroup_id_of(dir, &id), 0);
	e = lmp_cgroup_get(t->cg, id);
	assert_non_null(e);
	assert_string_equal(e->path, want);
	assert_string_equal(e->pp.pod_uid, POD + 3);
	assert_string_equal(e->pp.container_id, CID);
	assert_int_equal(e->pp.qos, LMP_QOS_BURSTABLE);
	/* second time: from the cache */
	lmp_cgroup_stats(t->cg, &st);
	assert_ptr_equal(lmp_cgroup_get(t->cg, id), e);
	{
		struct lmp_cgroup_stats st2;

		lmp_cgroup_stats(t->cg, &st2);
		assert_int_equal(st2.hits, st.hits + 1);
		assert_int_equal(st2.misses, st.misses);
	}
	/* the root of the hierarchy is "/" (id 1 on cgroup2) */
	assert_int_equal(lmp_cgroup_id_of(lmp_cgroup_root(t->cg), &id), 0);
	e = lmp_cgroup_get(t->cg, id);
	assert_non_null(e);
	assert_string_equal(e->path, "/");
}

static void test_cgroup_resolve_by_file_handle(void **state)
{
	struct real *t = *state;
	struct lmp_cgroup_stats st;

	check_resolves(t);
	lmp_cgroup_stats(t->cg, &st);
	assert_true(st.handles); /* root has CAP_DAC_READ_SEARCH: no walk was needed */
	assert_int_equal(st.walks, 0);
}

static void test_cgroup_resolve_by_walk(void **state)
{
	struct real *t = *state;
	struct lmp_cgroup_stats st;

	lmp_cgroup_disable_handles(t->cg);
	check_resolves(t);
	lmp_cgroup_stats(t->cg, &st);
	assert_false(st.handles);
	assert_int_equal(st.walks, 1); /* both misses answered by one walk */
}

static void test_cgroup_forgets_removed(void **state)
{
	struct real *t = *state;
	char dir[1024];
	__u64 id;

	snprintf(dir, sizeof(dir), "%s/gone", t->base);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(lmp_cgroup_id_of(dir, &id), 0);
	assert_non_null(lmp_cgroup_get(t->cg, id));
	assert_int_equal(lmp_cgroup_prune(t->cg), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(lmp_cgroup_prune(t->cg), 1);
	/* gone for good: the resolver says so too (ESTALE from the handle) */
	assert_null(lmp_cgroup_get(t->cg, id));
	{
		char p[256];

		assert_int_equal(lmp_cgroup_resolve(t->cg, id, p, sizeof(p)), -ENOENT);
		assert_int_equal(lmp_cgroup_resolve(t->cg, 0xffffffffff00ULL, p, sizeof(p)),
				 -ENOENT);
	}
}

/*
 * The negative cache: ids proven gone (here by stale file handles) stay out of the cache of
 * paths, so a storm of them evicts no live cgroup; it is bounded (8192 ids), the excess
 * evicted and counted; the latest are answered from it without a resolve; forget clears.
 */
static void test_cgroup_negative_cache(void **state)
{
	struct real *t = *state;
	struct lmp_cgroup_stats a, b;
	char dir[1024];
	__u64 live, base = 0xfff0000000000000ULL, n = 20000;

	snprintf(dir, sizeof(dir), "%s/kubepods/burstable/" POD "/" CID, t->base);
	assert_int_equal(lmp_cgroup_id_of(dir, &live), 0);
	assert_non_null(lmp_cgroup_get(t->cg, live));
	lmp_cgroup_stats(t->cg, &a);
	for (__u64 k = 0; k < n; k++)
		assert_null(lmp_cgroup_get(t->cg, base + k));
	lmp_cgroup_stats(t->cg, &b);
	assert_int_equal(b.misses - a.misses, n);
	assert_int_equal(b.gone - a.gone, n);
	assert_int_equal(b.gone_max, 8192);
	assert_true(b.gone_entries <= b.gone_max && b.gone_entries > b.gone_max * 9 / 10);
	assert_int_equal(b.gone_evictions, b.gone - b.gone_entries);
	assert_int_equal(b.entries, a.entries); /* no negative took a slot of the path cache */
	assert_int_equal(b.evictions, a.evictions);
	/* the newest gone id: from the negative cache, no resolve */
	assert_null(lmp_cgroup_get(t->cg, base + n - 1));
	assert_non_null(lmp_cgroup_get(t->cg, live));
	lmp_cgroup_stats(t->cg, &a);
	assert_int_equal(a.gone_hits - b.gone_hits, 1);
	assert_int_equal(a.hits - b.hits, 1);
	assert_int_equal(a.misses, b.misses);
	/* forget: asked anew */
	lmp_cgroup_forget(t->cg, base + n - 1);
	assert_null(lmp_cgroup_get(t->cg, base + n - 1));
	lmp_cgroup_stats(t->cg, &b);
	assert_int_equal(b.misses - a.misses, 1);
	assert_int_equal(b.gone_entries, a.gone_entries);
}

/*
 * Without file handles, a cgroup with a live process is named from /proc/<pid>/cgroup at
 * the first lookup (no walk, nothing pending); the answer is checked against the id, so a
 * process of another cgroup names nothing and the id waits for the walker as before.
 */
static void test_cgroup_named_by_pid(void **state)
{
	struct real *t = *state;
	struct lmp_cgroup_entry *e;
	struct lmp_cgroup_stats st;
	char dir[1024], procs[1100], want[1024];
	int sync[2];
	pid_t child;
	__u64 id, other;

	lmp_cgroup_disable_handles(t->cg);
	assert_true(lmp_cgroup_async(t->cg) >= 0);
	snprintf(dir, sizeof(dir), "%s/kubepods/burstable/" POD "/" CID, t->base);
	snprintf(want, sizeof(want), "%s/kubepods/burstable/" POD "/" CID, t->rel);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	assert_int_equal(lmp_cgroup_id_of(dir, &id), 0);
	snprintf(dir, sizeof(dir), "%s/other", t->base);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(lmp_cgroup_id_of(dir, &other), 0);
	assert_int_equal(pipe(sync), 0);
	child = fork();
	if (child == 0) {
		FILE *f = fopen(procs, "w");

		if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
			fprintf(stderr, "join %s: %s\n", procs, strerror(errno));
			_exit(1);
		}
		if (write(sync[1], "x", 1) != 1)
			_exit(1);
		for (;;) /* until the parent kills it */
			pause();
	}
	{
		char c;

		close(sync[1]);
		if (read(sync[0], &c, 1) != 1) {
			int st = 0;

			waitpid(child, &st, 0);
			fail_msg("the child did not join %s (status %#x)", procs, st);
		}
	}
	e = lmp_cgroup_get_pid(t->cg, id, child);
	assert_non_null(e);
	assert_string_equal(e->path, want);
	assert_string_equal(e->pp.container_id, CID);
	/* our own pid is not in "other": no name from it, the walker is asked */
	assert_null(lmp_cgroup_get_pid(t->cg, other, getpid()));
	assert_true(lmp_cgroup_pending(t->cg, other));
	lmp_cgroup_stats(t->cg, &st);
	assert_int_equal(st.by_pid, 1);
	assert_int_equal(st.pending, 1);
	assert_int_equal(st.walks, 0);
	close(sync[0]);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

/* ---- cache mechanics on a plain directory tree (walk fallback, no root needed) ---- */

struct tree {
	struct lmp_cgroup *cg;
	char dir[64];
	__u64 ids[12];
};

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	strcpy(t->dir, "/tmp/lmp-test-cgtree-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	for (int i = 0; i < 12; i++) {
		char p[128];

		snprintf(p, sizeof(p), "%s/d%d", t->dir, i);
		if (mkdir(p, 0755) < 0 || lmp_cgroup_id_of(p, &t->ids[i]) < 0)
			return -1;
	}
	if (lmp_cgroup_new(t->dir, 4, &t->cg) < 0)
		return -1;
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	lmp_cgroup_free(t->cg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", t->dir);
	free(t);
	return 0;
}

static void test_cgroup_cache_bound_and_clock(void **state)
{
	struct tree *t = *state;
	struct lmp_cgroup_stats st;

	lmp_cgroup_stats(t->cg, &st);
	assert_false(st.handles); /* not a cgroup2 mount */
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 12; i++) {
			struct lmp_cgroup_entry *e = lmp_cgroup_get(t->cg, t->ids[i]);
			char want[16];

			assert_non_null(e);
			snprintf(want, sizeof(want), "/d%d", i);
			assert_string_equal(e->path, want);
			/* d0 is hot: touched between every other lookup */
			assert_non_null(lmp_cgroup_get(t->cg, t->ids[0]));
			lmp_cgroup_stats(t->cg, &st);
			assert_true(st.entries <= 4);
		}
	lmp_cgroup_stats(t->cg, &st);
	assert_int_equal(st.max_entries, 4);
	/* 11 cold ids through 3 cold slots: at least 8 misses, so 8 evictions, a round */
	assert_true(st.evictions >= 24);
	/* the hot entry was never evicted: its only miss was the first lookup */
	{
		uint64_t misses = st.misses;

		assert_non_null(lmp_cgroup_get(t->cg, t->ids[0]));
		lmp_cgroup_stats(t->cg, &st);
		assert_int_equal(st.misses, misses);
	}
	assert_int_equal(st.walks, 1); /* everything answered from one walk */
}

static void test_cgroup_walk_is_rate_limited(void **state)
{
	struct tree *t = *state;
	struct lmp_cgroup_stats st;
	char p[128];
	__u64 id;

	assert_non_null(lmp_cgroup_get(t->cg, t->ids[1])); /* first walk */
	snprintf(p, sizeof(p), "%s/late", t->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(lmp_cgroup_id_of(p, &id), 0);
	/* made after the walk: not seen until the next walk, which is a second away */
	assert_null(lmp_cgroup_get(t->cg, id));
	assert_null(lmp_cgroup_get(t->cg, id));
	lmp_cgroup_stats(t->cg, &st);
	assert_int_equal(st.walks, 1);
	assert_int_equal(st.not_found, 1); /* the second miss came from the negative entry */
	usleep(1100 * 1000);
	assert_non_null(lmp_cgroup_get(t->cg, id));
	lmp_cgroup_stats(t->cg, &st);
	assert_int_equal(st.walks, 2);
}

/*
 * Random gets and forgets of unknown ids (negative entries) against a reference set: 250
 * distinct ids in a 300-entry cache, so nothing is evicted and the index alone decides.
 */
/* Wait for the walker's eventfd (a walk finished), then adopt; false on timeout. */
static bool wait_walk(struct lmp_cgroup *cg, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 10000) != 1)
		return false;
	return lmp_cgroup_adopt(cg);
}

/* The capabilities of every thread of this process but the main one, ORed. */
static unsigned long long other_threads_caps(int *threads)
{
	unsigned long long all = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;

	*threads = 0;
	while (d && (de = readdir(d))) {
		char p[300], line[256];
		FILE *f;

		if (de->d_name[0] == '.' || atoi(de->d_name) == getpid())
			continue;
		snprintf(p, sizeof(p), "/proc/self/task/%s/status", de->d_name);
		if (!(f = fopen(p, "r")))
			continue;
		(*threads)++;
		while (fgets(line, sizeof(line), f)) {
			unsigned long long v;

			if (sscanf(line, "CapEff: %llx", &v) == 1 ||
			    sscanf(line, "CapPrm: %llx", &v) == 1)
				all |= v;
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return all;
}

/*
 * lmp_cgroup_async: a miss never walks on the caller's thread. It answers NULL at once and
 * stays pending until the walk that started after it is adopted; then the cgroup is named
 * (or negative, if the walk did not find it). The walker holds no capabilities.
 */
static void test_cgroup_background_walk(void **state)
{
	struct tree *t = *state;
	struct lmp_cgroup_entry *e;
	struct lmp_cgroup_stats st;
	char p[128];
	int fd, threads;
	__u64 late, bogus = 0xffffffffff00ULL;

	fd = lmp_cgroup_async(t->cg);
	assert_true(fd >= 0);
	assert_int_equal(lmp_cgroup_async(t->cg), fd); /* idempotent */
	assert_false(lmp_cgroup_adopt(t->cg));	       /* nothing ran yet */

	assert_null(lmp_cgroup_get(t->cg, t->ids[3]));
	assert_true(lmp_cgroup_pending(t->cg, t->ids[3]));
	assert_null(lmp_cgroup_get(t->cg, t->ids[3])); /* asking again waits for the same walk */
	assert_true(wait_walk(t->cg, fd));
	assert_false(lmp_cgroup_pending(t->cg, t->ids[3]));
	e = lmp_cgroup_get(t->cg, t->ids[3]);
	assert_non_null(e);
	assert_string_equal(e->path, "/d3");
	/* the rest of the tree came with the same walk: hits of the index, no new walk */
	assert_non_null(lmp_cgroup_get(t->cg, t->ids[7]));
	lmp_cgroup_stats(t->cg, &st);
	assert_int_equal(st.walks, 1);
	assert_int_equal(st.pending, 1);

	/* a cgroup made after that walk, and an id that names nothing */
	snprintf(p, sizeof(p), "%s/d3/late", t->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(lmp_cgroup_id_of(p, &late), 0);
	assert_null(lmp_cgroup_get(t->cg, late));
	assert_null(lmp_cgroup_get(t->cg, bogus));
	assert_true(lmp_cgroup_pending(t->cg, late));
	assert_true(lmp_cgroup_pending(t->cg, bogus));
	assert_true(other_threads_caps(&threads) == 0);
	assert_int_equal(threads, 1);	   /* one walker, and it keeps no capability */
	assert_true(wait_walk(t->cg, fd)); /* one walk answers both, ~1 s after the first */
	e = lmp_cgroup_get(t->cg, late);
	assert_non_null(e);
	assert_string_equal(e->path, "/d3/late");
	assert_null(lmp_cgroup_get(t->cg, bogus));
	assert_false(lmp_cgroup_pending(t->cg, bogus)); /* settled: gone, no longer pending */
	lmp_cgroup_stats(t->cg, &st);
	assert_int_equal(st.walks, 2);
	assert_int_equal(st.pending, 3);
	assert_int_equal(st.not_found, 1);
	assert_int_equal(st.walk_errors, 0);
	/* proven gone by a walk begun after it was asked for: in the negative cache, not in
	 * the cache of paths, and never asked of the walker again */
	assert_int_equal(st.gone, 1);
	assert_int_equal(st.gone_entries, 1);
	assert_int_equal(st.gone_hits, 0); /* the lookup that settled it was not a hit */
	assert_null(lmp_cgroup_get(t->cg, bogus));
	{
		struct lmp_cgroup_stats st2;

		lmp_cgroup_stats(t->cg, &st2);
		assert_int_equal(st2.gone_hits, 1);
		assert_int_equal(st2.misses, st.misses);
		assert_int_equal(st2.pending, st.pending);
		assert_int_equal(st2.entries, st.entries);
	}
	/* a caller that cannot hold (an interval summary) asks for a refresh beforehand and
	 * never waits: a cgroup made before the refresh is named at its first lookup */
	snprintf(p, sizeof(p), "%s/d4/refreshed", t->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(lmp_cgroup_id_of(p, &late), 0);
	assert_true(lmp_cgroup_refresh(t->cg));
	assert_true(wait_walk(t->cg, fd));
	e = lmp_cgroup_get(t->cg, late);
	assert_non_null(e);
	assert_string_equal(e->path, "/d4/refreshed");
	lmp_cgroup_stats(t->cg, &st);
	assert_int_equal(st.walks, 3);
	assert_int_equal(st.pending, 3); /* named from the index, nothing pending */
	/* free joins the thread, whether or not a walk is running */
	assert_null(lmp_cgroup_get(t->cg, bogus + 1));
	lmp_cgroup_free(t->cg);
	t->cg = NULL;
	assert_true(other_threads_caps(&threads) == 0);
	assert_int_equal(threads, 0);
}

/* mkdir -p below the tree's directory; the new leaf's id */
static __u64 mkdirs(const char *top, const char *rel)
{
	char p[512], *s;
	__u64 id = 0;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	for (s = p + strlen(top) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(lmp_cgroup_id_of(p, &id), 0);
	return id;
}

/*
 * Targeted walks: once a cgroup three levels deep was found, the next ones are looked for
 * under its grandparent first (a QoS slice, on a node), and the whole tree is walked only
 * when that subtree does not hold them.
 */
/*
 * Make the cgroup rel, look it up (pending, nothing known yet), wait for the walk, look it
 * up again: it has its path. Then the walks so far, whole and targeted.
 */
static void named_after_walk(struct tree *t, int fd, const char *rel, uint64_t whole,
			     uint64_t targeted)
{
	struct lmp_cgroup_entry *e;
	struct lmp_cgroup_stats st;
	__u64 id = mkdirs(t->dir, rel);

	assert_null(lmp_cgroup_get(t->cg, id));
	assert_true(wait_walk(t->cg, fd));
	e = lmp_cgroup_get(t->cg, id);
	assert_non_null(e);
	assert_string_equal(e->path + 1, rel);
	lmp_cgroup_stats(t->cg, &st);
	assert_int_equal(st.walks, whole);
	assert_int_equal(st.partial_walks, targeted);
}

static void test_cgroup_targeted_walk(void **state)
{
	struct tree *t = *state;
	struct lmp_cgroup_entry *e;
	int fd = lmp_cgroup_async(t->cg);

	assert_true(fd >= 0);
	named_after_walk(t, fd, "qos/pod1/ctr1", 1, 0);
	/* a new pod under the same slice: found in /qos alone, merged into the index */
	named_after_walk(t, fd, "qos/pod2/ctr1", 1, 1);
	/* what the first, whole walk found is still there */
	e = lmp_cgroup_get(t->cg, t->ids[5]);
	assert_non_null(e);
	assert_string_equal(e->path, "/d5");
	/* elsewhere: the targeted walk misses it, the whole tree is walked */
	named_after_walk(t, fd, "other/pod/ctr", 2, 1);
}

static void test_cgroup_index_survives_churn(void **state)
{
	char dir[] = "/tmp/lmp-test-cgempty-XXXXXX";
	unsigned char present[256] = { 0 };
	struct lmp_cgroup *cg;
	unsigned seed = 12345;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(lmp_cgroup_new(dir, 300, &cg), 0);
	for (int step = 0; step < 20000; step++) {
		struct lmp_cgroup_stats a, b;
		unsigned k;

		seed = seed * 1103515245 + 12345;
		k = (seed >> 16) % 250;
		lmp_cgroup_stats(cg, &a);
		if ((seed >> 8) % 3 == 0) {
			lmp_cgroup_forget(cg, 0xfff0000000000000ULL + k);
			lmp_cgroup_stats(cg, &b);
			assert_int_equal(b.forgotten - a.forgotten, present[k]);
			present[k] = 0;
		} else {
			assert_null(lmp_cgroup_get(cg, 0xfff0000000000000ULL + k));
			lmp_cgroup_stats(cg, &b);
			if (b.gone >
			    a.gone) { /* proven gone by a walk: negative cache, not cached */
				present[k] = 0;
				goto count;
			}
			if (b.gone_hits > a.gone_hits) {
				assert_false(present[k]);
				goto count;
			}
			/* a hit only for a cached id; an id not cached is always a miss (a cached
			 * negative may also miss once it expires) */
			if (b.hits > a.hits)
				assert_true(present[k]);
			if (!present[k])
				assert_int_equal(b.misses, a.misses + 1);
			present[k] = 1;
		}
count:
		assert_int_equal(b.evictions, 0);
		{
			size_t n = 0;

			for (int i = 0; i < 250; i++)
				n += present[i];
			assert_int_equal(b.entries, n);
		}
	}
	lmp_cgroup_free(cg);
	lmp_cgroup_free(NULL);
	rmdir(dir);
}

static void test_cgroup_new_rejects_bad_root(void **state)
{
	struct lmp_cgroup *cg = NULL;

	assert_int_equal(lmp_cgroup_new("/nonexistent/lmp", 0, &cg), -ENOENT);
	assert_null(cg);
	assert_int_equal(lmp_cgroup_new("/etc/hostname", 0, &cg), -ENOTDIR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_find_v2_in_captured_mounts),
		cmocka_unit_test(test_cgroup_find_v2_edge_cases),
		cmocka_unit_test_setup_teardown(test_cgroup_resolve_by_file_handle, real_setup,
						real_teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_resolve_by_walk, real_setup,
						real_teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_negative_cache, real_setup,
						real_teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_named_by_pid, real_setup,
						real_teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_forgets_removed, real_setup,
						real_teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_cache_bound_and_clock, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_walk_is_rate_limited, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_background_walk, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_targeted_walk, tree_setup,
						tree_teardown),
		cmocka_unit_test(test_cgroup_index_survives_churn),
		cmocka_unit_test(test_cgroup_new_rejects_bad_root),
	};

	return cmocka_run_group_tests_name("cgroup", tests, NULL, NULL) ? 1 : 0;
}
