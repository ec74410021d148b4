// SPDX-License-Identifier: Apache-2.0
/*
 * Soak (make soak; not part of make test): the real agent for SOAK_SECONDS (600) under a
 * steady event load while SOAK_PODS (1000) pod-style cgroups are created and destroyed, each
 * listed by a fake kubelet while it lives. Every 10 s: the agent's RSS, its open fds, the
 * entries of every hash map it holds (through the map ids in /proc/<pid>/fdinfo), its
 * metric series, and the events it printed. At the end:
 *   - RSS, fds and map entries flat: the highest value of the last 10% of the run is within
 *     5% of the highest in the window from 60% to 70% (by then a pod's series have lived
 *     their whole 300 s grace, so the number of series is steady too);
 *   - no stale pod label: every soak pod named on /metrics or /api/v1/pods is alive or died
 *     less than the grace period (300 s) ago, and pods that died before that are gone;
 *   - no exec argv carried the soak's fake secret unredacted; most exec events of soak pods
 *     were labelled with their pod;
 *   - the agent still stops cleanly (SIGTERM, 2 s).
 * Load: one process hopping into each new pod's container cgroup, doing ~1000 file reads
 * and writes and ~50 TCP connects a second; three execs per new pod.
 *
 * One file over 600 lines: a standalone soak driver and its end-of-run checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <jansson.h>

#include "fake_kubelet.h"
#include "harness.h"

#define GRACE_S 300 /* agent.c LMP_POD_SERIES_GRACE_S */
#define SAMPLE_S 10
#define INTERVAL_S 5
#define SECRET "soak-secret-5c1d"

struct pod {
	char uid[40], cid[72], name[32], ns[32];
	char pod_dir[2048], ctr_dir[4096];
	double born, died; /* seconds since start; died < 0 while alive */
	bool listed, removed;
};

struct sample {
	double t;
	long rss_kb, fds, map_entries, series, alive;
	size_t events;
};

static struct {
	struct lmp_test_agent a;
	struct fake_kubelet *fk;
	char dir[64], token[128], base[4096];
	struct pod *pods;
	int n_pods, next_birth;
	double t0, lifetime;
	pid_t loadgen;
	struct sample samples[4096];
	int n_samples;
	size_t events_total, exec_soak, exec_soak_labelled, leaks;
	int port;
} S;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double t_rel(void)
{
	return now_s() - S.t0;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "soak: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (S.loadgen > 0)
		kill(S.loadgen, SIGKILL);
	lmp_test_agent_free(&S.a);
	exit(1);
}

/* ---- load ---- */

static void loadgen_main(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	char buf[4096] = { 0 }, tmp[] = "/tmp/lmp-soak-load-XXXXXX";
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), wfd = mkstemp(tmp);

	unlink(tmp);
	if (lfd < 0 || wfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 16) < 0 || getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
		_exit(1);
	for (unsigned long i = 0;; i++) {
		int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (read(fd, buf, sizeof(buf)) < 0)
				_exit(2);
			close(fd);
		}
		if (pwrite(wfd, buf, sizeof(buf), 0) < 0)
			_exit(3);
		if (i % 20 == 0) {
			int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s;

			if (c >= 0 && connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
			    (s = accept(lfd, NULL, NULL)) >= 0)
				close(s);
			if (c >= 0)
				close(c);
		}
		usleep(1000);
	}
}

static void move_to(pid_t pid, const char *cgdir)
{
	char procs[4200];
	FILE *f;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgdir);
	f = fopen(procs, "w");
	if (!f || fprintf(f, "%d\n", pid) < 0 || fclose(f) != 0)
		die("move %d to %s: %s", pid, cgdir, strerror(errno));
}

/* ---- pods and the kubelet ---- */

static void rand_hex(char *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = "0123456789abcdef"[random() % 16];
	out[n] = 0;
}

static void publish(void)
{
	json_t *items = json_array(), *doc;
	char *s;

	for (int i = 0; i < S.n_pods; i++) {
		struct pod *p = &S.pods[i];
		char cid[96];

		if (!p->listed)
			continue;
		snprintf(cid, sizeof(cid), "containerd://%s", p->cid);
		json_array_append_new(items, json_pack("{s:{s:s,s:s,s:s},s:{s:s,s:[{s:s,s:s}]}}",
						       "metadata", "name", p->name, "namespace",
						       p->ns, "uid", p->uid, "status", "qosClass",
						       "BestEffort", "containerStatuses", "name",
						       "app", "containerID", cid));
	}
	doc = json_pack("{s:s,s:s,s:o}", "kind", "PodList", "apiVersion", "v1", "items", items);
	s = json_dumps(doc, JSON_COMPACT);
	if (!s || fake_kubelet_set_body(S.fk, s, strlen(s)) < 0)
		die("cannot set the kubelet body");
	free(s);
	json_decref(doc);
}

static void pod_birth(struct pod *p, int idx)
{
	char uid[40], under[40], rel[1024];
	char secret_arg[64];

	rand_hex(uid, 32);
	snprintf(p->uid, sizeof(p->uid), "%.8s-%.4s-4%.3s-8%.3s-%.12s", uid, uid + 8, uid + 12,
		 uid + 15, uid + 18);
	snprintf(under, sizeof(under), "%s", p->uid);
	for (char *c = under; *c; c++)
		if (*c == '-')
			*c = '_';
	rand_hex(p->cid, 64);
	snprintf(p->name, sizeof(p->name), "soak-pod-%d", idx);
	snprintf(p->ns, sizeof(p->ns), "soak-ns-%d", idx % 10);
	snprintf(rel, sizeof(rel),
		 "lmp-test/soak-%d/kubepods.slice/kubepods-besteffort.slice/"
		 "kubepods-besteffort-pod%s.slice",
		 getpid(), under);
	if (lmp_test_cgroup_create(rel, p->pod_dir, sizeof(p->pod_dir), NULL) < 0)
		die("mkdir %s: %s", rel, strerror(errno));
	snprintf(p->ctr_dir, sizeof(p->ctr_dir), "%s/cri-containerd-%s.scope", p->pod_dir, p->cid);
	if (mkdir(p->ctr_dir, 0755) < 0)
		die("mkdir %s: %s", p->ctr_dir, strerror(errno));
	p->born = t_rel();
	p->died = -1;
	p->listed = true;
	publish();
	/* the new pod's first processes, one with a secret on its command line */
	snprintf(secret_arg, sizeof(secret_arg), "--password=%s", SECRET);
	for (int k = 0; k < 3; k++) {
		pid_t c = lmp_test_spawn(p->ctr_dir,
					 (char *const[]){ "/bin/true", secret_arg, NULL });

		if (c < 0 || lmp_test_wait_child(c) != 0)
			die("exec in %s failed", p->ctr_dir);
	}
	move_to(S.loadgen, p->ctr_dir);
}

static void pod_death(struct pod *p)
{
	p->listed = false;
	p->died = t_rel();
	publish();
}

/* remove the cgroups of dead pods (the load has left them; short processes are gone) */
static void reap_cgroups(void)
{
	for (int i = 0; i < S.n_pods; i++) {
		struct pod *p = &S.pods[i];

		if (p->died < 0 || p->removed)
			continue;
		if (rmdir(p->ctr_dir) < 0 && errno != ENOENT)
			continue; /* try again next tick */
		if (rmdir(p->pod_dir) < 0 && errno != ENOENT)
			continue;
		p->removed = true;
	}
}

/* ---- measurements ---- */

static long status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = atol(line + strlen(key));
	if (f)
		fclose(f);
	return v;
}

static long count_fds(pid_t pid)
{
	char path[64];
	struct dirent *d;
	long n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	while (dir && (d = readdir(dir)))
		n += d->d_name[0] != '.';
	if (dir)
		closedir(dir);
	return n;
}

static bool is_hash(__u32 type)
{
	return type == BPF_MAP_TYPE_HASH || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_STACK_TRACE;
}

static bool is_lru(__u32 type)
{
	return type == BPF_MAP_TYPE_LRU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/*
 * Entries of every hash-type map the agent holds (arrays and ring buffers are fixed). LRU
 * maps fill up to their size by design and evict from there: they are listed, not summed.
 */
static long map_entries(pid_t pid, bool verbose)
{
	__u32 ids[512];
	int n = lmp_test_bpf_ids(pid, "map_id", ids, 512);
	long total = 0;

	for (int i = 0; i < n; i++) {
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_map_get_fd_by_id(ids[i]);
		long cnt = 0;
		char key[512], next[512];
		void *prev = NULL;

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && is_hash(info.type) &&
		    info.key_size <= sizeof(key)) {
			while (cnt <= info.max_entries &&
			       bpf_map_get_next_key(fd, prev, next) == 0) {
				memcpy(key, next, info.key_size);
				prev = key;
				cnt++;
			}
			total += is_lru(info.type) ? 0 : cnt;
			if (verbose)
				printf("    map %-16s %6ld of %u entries%s\n", info.name, cnt,
				       info.max_entries, is_lru(info.type) ? " (LRU)" : "");
		}
		close(fd);
	}
	return total;
}

/* GET from the agent, reading its stdout meanwhile; malloc'd body */
static char *http_get(const char *path)
{
	char *resp = lmp_test_http_get(&S.a, S.port, path, 30000), *body;

	if (!lmp_test_http_body(resp))
		die("no HTTP reply for %s", path);
	body = strdup(lmp_test_http_body(resp));
	free(resp);
	return body;
}

static double metric_value(const char *text, const char *series)
{
	const char *p = strstr(text, series);

	return p ? strtod(p + strlen(series), NULL) : -1;
}

/* count events, check redaction and labels, then forget them (the soak prints millions) */
static void scan_events(void)
{
	size_t n = json_array_size(S.a.events);

	for (size_t i = 0; i < n; i++) {
		json_t *ev = json_array_get(S.a.events, i);
		const char *event = json_string_value(json_object_get(ev, "event"));
		json_t *argv = json_object_get(ev, "argv");
		const char *cg = json_string_value(json_object_get(ev, "cgroup"));

		if (argv) {
			char *s = json_dumps(argv, JSON_COMPACT);

			S.leaks += s && strstr(s, SECRET);
			free(s);
		}
		if (event && !strcmp(event, "exec") && cg && strstr(cg, "/lmp-test/soak-")) {
			const char *pod = json_string_value(
				json_object_get(json_object_get(ev, "k8s"), "pod"));

			S.exec_soak++;
			S.exec_soak_labelled += pod && !strncmp(pod, "soak-pod-", 9);
		}
	}
	S.events_total += n;
	json_array_clear(S.a.events);
}

static void take_sample(bool verbose)
{
	struct sample *s = &S.samples[S.n_samples < 4096 ? S.n_samples++ : 4095];
	char *m = http_get("/metrics");

	scan_events();
	s->t = t_rel();
	s->rss_kb = status_kb(S.a.pid, "VmRSS:");
	s->fds = count_fds(S.a.pid);
	s->map_entries = map_entries(S.a.pid, verbose);
	s->series = (long)metric_value(m, "\nlmp_metrics_series ");
	s->events = S.events_total;
	s->alive = 0;
	for (int i = 0; i < S.n_pods; i++)
		s->alive += S.pods[i].listed;
	free(m);
	printf("  t=%4.0fs rss=%6ld KiB fds=%3ld map-entries=%5ld series=%6ld pods=%3ld "
	       "born=%4d events=%zu\n",
	       s->t, s->rss_kb, s->fds, s->map_entries, s->series, s->alive, S.next_birth,
	       s->events);
	fflush(stdout);
}

/* highest value of field over samples with from <= t/T < to */
static long window_max(double T, double from, double to, size_t off)
{
	long best = -1;

	for (int i = 0; i < S.n_samples; i++) {
		long v = *(long *)((char *)&S.samples[i] + off);

		if (S.samples[i].t >= from * T && S.samples[i].t < to * T && v > best)
			best = v;
	}
	return best;
}

/* lowest value of field over samples with from <= t/T < to */
static long window_min(double T, double from, double to, size_t off)
{
	long best = -1;

	for (int i = 0; i < S.n_samples; i++) {
		long v = *(long *)((char *)&S.samples[i] + off);

		if (S.samples[i].t >= from * T && S.samples[i].t < to * T && (best < 0 || v < best))
			best = v;
	}
	return best;
}

/*
 * Flat: the end window's value within 5% (+ slack) of the warm window's. use_min compares
 * the lowest values instead of the highest: drained maps swing with the load between
 * drains, and a leak shows as a floor that rises.
 */
static int check_flat(double T, const char *what, size_t off, long slack, bool use_min)
{
	long (*pick)(double, double, double, size_t) = use_min ? window_min : window_max;
	long warm = pick(T, 0.6, 0.7, off), end = pick(T, 0.9, 1.01, off);
	bool ok = warm >= 0 && end >= 0 && end <= warm + warm / 20 + slack;

	printf("  %-12s %s: %s %ld (60-70%%) -> %ld (90-100%%)\n", what, ok ? "flat" : "GREW",
	       use_min ? "lowest" : "highest", warm, end);
	return ok ? 0 : 1;
}

/* soak pods named in text: every one alive, or dead for less than the grace period */
static int check_labels(const char *what, const char *text, double now)
{
	int stale = 0, named = 0;

	for (int i = 0; i < S.n_pods; i++) {
		const struct pod *p = &S.pods[i];
		char needle[48];
		bool present;

		snprintf(needle, sizeof(needle), "\"%s\"", p->name);
		present = strstr(text, needle) != NULL;
		named += present;
		/* series expire at an interval after the grace: allow two intervals more */
		if (present && p->died >= 0 && now - p->died > GRACE_S + 2 * INTERVAL_S + 5) {
			if (stale++ < 5)
				printf("  stale: %s died %.0f s ago, still on %s\n", p->name,
				       now - p->died, what);
		}
	}
	printf("  %-12s %d soak pods named, %d stale\n", what, named, stale);
	return stale ? 1 : 0;
}

int main(void)
{
	double T = getenv("SOAK_SECONDS") ? atof(getenv("SOAK_SECONDS")) : 600;
	int N = getenv("SOAK_PODS") ? atoi(getenv("SOAK_PODS")) : 1000;
	char interval[16], *m, *pods_json;
	double next_sample = 0, now;
	int failures = 0, dead_past_grace = 0, ms;
	FILE *f;

	if (geteuid() != 0)
		die("needs root (real BPF, real cgroups)");
	if (T < 60 || N < 10)
		die("SOAK_SECONDS >= 60 and SOAK_PODS >= 10, please");
	srandom(getpid());
	S.n_pods = N;
	S.pods = calloc(N, sizeof(*S.pods));
	S.lifetime = T * 0.05 < 30 ? T * 0.05 : 30;
	strcpy(S.dir, "/tmp/lmp-soak-XXXXXX");
	if (!S.pods || !mkdtemp(S.dir))
		die("set-up");
	snprintf(S.token, sizeof(S.token), "%s/token", S.dir);
	f = fopen(S.token, "w");
	if (!f || fprintf(f, "soak-token\n") < 0 || fclose(f))
		die("token file");
	if (fake_kubelet_start(S.dir, 0, &S.fk) < 0)
		die("fake kubelet");
	fake_kubelet_set_token(S.fk, "soak-token");
	publish();
	{
		char rel[64];

		snprintf(rel, sizeof(rel), "lmp-test/soak-%d", getpid());
		if (lmp_test_cgroup_create(rel, S.base, sizeof(S.base), NULL) < 0)
			die("cgroup %s", rel);
	}
	S.loadgen = fork();
	if (S.loadgen == 0)
		loadgen_main();
	move_to(S.loadgen, S.base);
	snprintf(interval, sizeof(interval), "%d", INTERVAL_S);
	if (lmp_test_agent_start(
		    &S.a, (const char *const[]){ "--probes", "process,syscall,file,tcp,opensnoop",
						 "--interval", interval, "--listen", "127.0.0.1:0",
						 "--kubelet-url", fake_kubelet_url(S.fk),
						 "--kubelet-ca-file", fake_kubelet_ca_file(S.fk),
						 "--kubelet-token-file", S.token,
						 "--kubelet-refresh", "2", NULL }) < 0)
		die("agent did not start");
	{
		const char *p = strstr(S.a.errbuf, "(port ");

		if (!p)
			die("no HTTP port in the agent's log");
		S.port = atoi(p + 6);
	}
	printf("soak: %.0f s, %d pods (lifetime %.0f s), agent pid %d, load pid %d\n", T, N,
	       S.lifetime, S.a.pid, S.loadgen);
	S.t0 = now_s();
	while ((now = t_rel()) < T) {
		/* births spread over the first 90%, deaths a lifetime later */
		while (S.next_birth < N && now >= 0.9 * T * S.next_birth / N) {
			pod_birth(&S.pods[S.next_birth], S.next_birth);
			S.next_birth++;
		}
		for (int i = 0; i < S.next_birth; i++)
			if (S.pods[i].listed && now - S.pods[i].born >= S.lifetime) {
				/* the load leaves a pod before it dies */
				if (i == S.next_birth - 1)
					move_to(S.loadgen, S.base);
				pod_death(&S.pods[i]);
			}
		reap_cgroups();
		if (now >= next_sample) {
			take_sample(false);
			next_sample += SAMPLE_S;
		}
		lmp_test_agent_pump(&S.a, 100);
		if (waitpid(S.a.pid, NULL, WNOHANG) == S.a.pid)
			die("the agent exited during the soak; stderr:\n%s", S.a.errbuf);
	}
	take_sample(true);
	now = t_rel();

	printf("soak: checks\n");
	failures += check_flat(T, "rss KiB", offsetof(struct sample, rss_kb), 0, false);
	failures += check_flat(T, "open fds", offsetof(struct sample, fds), 0, false);
	failures += check_flat(T, "map entries", offsetof(struct sample, map_entries), 64, true);
	check_flat(T, "map entries", offsetof(struct sample, map_entries), 0, false); /* shown */
	check_flat(T, "series", offsetof(struct sample, series), 0, false);	      /* shown */
	m = http_get("/metrics");
	pods_json = http_get("/api/v1/pods");
	failures += check_labels("/metrics", m, now);
	failures += check_labels("/api/v1/pods", pods_json, now);
	for (int i = 0; i < N; i++)
		dead_past_grace += S.pods[i].died >= 0 && now - S.pods[i].died > GRACE_S + 15;
	printf("  %d pods died more than %d s before the end (their series must be gone); "
	       "series expired so far: %.0f\n",
	       dead_past_grace, GRACE_S, metric_value(m, "\nlmp_metrics_series_expired_total "));
	free(m);
	free(pods_json);
	scan_events();
	printf("  events: %zu in all; soak exec events %zu, %zu labelled with their pod; %zu "
	       "argv with the secret unredacted\n",
	       S.events_total, S.exec_soak, S.exec_soak_labelled, S.leaks);
	if (S.leaks)
		failures++;
	/* the execs run the moment the pod is listed: identity holds their events up to 1 s
	 * for the kubelet refresh that names the pod; a few miss it under this churn */
	if (S.exec_soak < (size_t)N || S.exec_soak_labelled * 10 < S.exec_soak * 8) {
		printf("  FAIL: fewer than 80%% of soak execs carried their pod\n");
		failures++;
	}
	kill(S.loadgen, SIGKILL);
	waitpid(S.loadgen, NULL, 0);
	S.loadgen = 0;
	ms = lmp_test_agent_stop(&S.a, 2000);
	printf("  agent stopped in %d ms, status %d\n", ms, S.a.status);
	if (ms < 0 || !WIFEXITED(S.a.status) || WEXITSTATUS(S.a.status) != 0)
		failures++;
	reap_cgroups();
	for (int i = 0; i < N; i++)
		if (!S.pods[i].removed && S.pods[i].pod_dir[0]) {
			rmdir(S.pods[i].ctr_dir);
			rmdir(S.pods[i].pod_dir);
		}
	{
		char p[4200];

		snprintf(p, sizeof(p), "%s/kubepods.slice/kubepods-besteffort.slice", S.base);
		rmdir(p);
		snprintf(p, sizeof(p), "%s/kubepods.slice", S.base);
		rmdir(p);
		lmp_test_cgroup_remove(S.base);
	}
	fake_kubelet_free(S.fk);
	lmp_test_sh("rm -rf '%s'", S.dir);
	lmp_test_agent_free(&S.a);
	printf("soak: %s (%d failed checks)\n", failures ? "FAIL" : "ok", failures);
	return failures ? 1 : 0;
}
