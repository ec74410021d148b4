// SPDX-License-Identifier: Apache-2.0
/*
 * Pod churn against the real agent: see churn.h. The agent writes to files, not to a pipe
 * this process reads, so a slow reader here cannot be what stalls it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <jansson.h>
#include <linux/types.h>

#include "churn.h"
#include "harness.h"

#define HEALTHZ_EVERY_S 0.5
#define HEALTHZ_TIMEOUT_S 2.0
#define SETTLE_S 5 /* held events (<= 2.5 s) and one more interval after the last cgroup */
#define MAX_PARALLEL 64

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void lmp_churn_marker_main(int argc, char **argv)
{
	double end;
	volatile unsigned long x = 0;

	if (argc < 4 || strcmp(argv[1], "--churn-marker"))
		return;
	/* busy, but behind the agent: the markers must not be what starves it of CPU */
	if (nice(19) < 0)
		perror("nice");
	end = now_s() + atoi(argv[3]) / 1000.0;
	while (now_s() < end)
		for (int i = 0; i < 10000; i++)
			x += i;
	_exit(0);
}

/*
 * GET path from 127.0.0.1:port within timeout_s, all of it (HTTP/1.0: the server closes).
 * The status code, or -1 (refused, reset, timed out). *body (may be NULL) is malloc'ed.
 */
static int http_get(int port, const char *path, double timeout_s, char **body)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	double end = now_s() + timeout_s;
	size_t len = 0, cap = 1 << 16;
	char req[256], *buf = malloc(cap);
	int fd, code = -1, n;
	bool sent = false;

	if (body)
		*body = NULL;
	if (!buf)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (connect(fd, (void *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS))
		goto out;
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = sent ? POLLIN : POLLOUT };
		double left = end - now_s();
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			goto out;
		if (!sent) {
			if (write(fd, req, n) != n)
				goto out;
			sent = true;
			continue;
		}
		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				goto out;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno != EAGAIN)
			goto out;
		if (r == 0)
			break;
		if (r > 0)
			len += r;
	}
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
		code = -1;
	if (body) {
		*body = buf;
		buf = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return code;
}

struct poller {
	pthread_t th;
	int port;
	volatile bool stop;
	struct lmp_churn_result *r;
	bool quiet;
};

static void *healthz_main(void *arg)
{
	struct poller *p = arg;

	while (!p->stop) {
		double t0 = now_s(), took;
		int code = http_get(p->port, "/healthz", HEALTHZ_TIMEOUT_S, NULL);

		took = now_s() - t0;
		p->r->healthz_polls++;
		if (code != 200) {
			p->r->healthz_failures++;
			took = HEALTHZ_TIMEOUT_S;
			if (!p->quiet)
				fprintf(stderr, "churn: /healthz failed (%d)\n", code);
		}
		if (took > p->r->healthz_worst_s)
			p->r->healthz_worst_s = took;
		while (!p->stop && now_s() < t0 + HEALTHZ_EVERY_S)
			usleep(10 * 1000);
	}
	return NULL;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &cap, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* the agent, --probes all, output to files; its pid, or -1 */
static pid_t agent_start(const char *dir, const struct lmp_churn_opts *o, int *port)
{
	char out[128], err[128], iv[16], rb[16], *log = NULL;
	double end = now_s() + 90;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	snprintf(iv, sizeof(iv), "%d", o->interval_s > 0 ? o->interval_s : 10);
	snprintf(rb, sizeof(rb), "%d", o->ringbuf_kb > 0 ? o->ringbuf_kb : 256);
	pid = fork();
	if (pid == 0) {
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
			_exit(127);
		execl(lmp_test_binary(), lmp_test_binary(), "run", "--probes", "all", "--listen",
		      "127.0.0.1:0", "--output", "json", "--interval", iv, "--ringbuf-kb", rb,
		      o->opensnoop_failed ? "--opensnoop-failed" : (char *)NULL, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	while (now_s() < end) {
		const char *p;
		int st;

		usleep(100 * 1000);
		free(log);
		log = slurp(err);
		if (log && strstr(log, "ready:") && (p = strstr(log, "serving /metrics")) &&
		    (p = strstr(p, "(port "))) {
			*port = atoi(p + 6);
			free(log);
			return pid;
		}
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
	}
	fprintf(stderr, "churn: the agent did not get ready; its stderr:\n%s\n", log ? log : "");
	free(log);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* utime + stime of a live process, in seconds */
static double cpu_s(pid_t pid)
{
	char p[64], *st, *c;
	unsigned long long ut = 0, sy = 0;
	double r = 0;

	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	st = slurp(p);
	c = st ? strrchr(st, ')') : NULL;
	if (c &&
	    sscanf(c + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &sy) == 2)
		r = (ut + sy) / (double)sysconf(_SC_CLK_TCK);
	free(st);
	return r;
}

static void agent_stop(pid_t pid)
{
	double end = now_s() + 30;

	kill(pid, SIGTERM);
	while (now_s() < end) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(20 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* sum of the samples of family on a /metrics text, optionally only those with label */
static long long metric_sum(const char *text, const char *family, const char *label)
{
	size_t fl = strlen(family);
	long long sum = 0;

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *eol = strchrnul(l, '\n'), *sp;

		if (strncmp(l, family, fl) || (l[fl] != '{' && l[fl] != ' '))
			continue;
		if (label && (!(sp = strstr(l, label)) || sp > eol))
			continue;
		sp = memrchr(l, ' ', eol - l);
		if (sp)
			sum += strtoll(sp + 1, NULL, 10);
	}
	return sum;
}

/* the ring-buffer losses the agent logged: "probe X: N events lost (ring buffer full)" */
static long long logged_losses(const char *log)
{
	long long sum = 0;

	for (const char *p = log; p && (p = strstr(p, " events lost")); p++) {
		const char *q = p;

		while (q > log && q[-1] >= '0' && q[-1] <= '9')
			q--;
		sum += strtoll(q, NULL, 10);
	}
	return sum;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* marker execs in the agent's output: process/exec, our filename, token, and cgroup */
static void count_execs(const char *out, const char *marker, const char *token, __u64 *ids,
			int n_ids, struct lmp_churn_result *r)
{
	FILE *f = fopen(out, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	qsort(ids, n_ids, sizeof(*ids), cmp_u64);
	while (f && (n = getline(&line, &cap, f)) > 0) {
		json_t *ev, *argv;
		__u64 id;
		bool ours = false;

		r->stdout_bytes += n;
		if (!strstr(line, "\"exec\"") || !strstr(line, token))
			continue;
		ev = json_loads(line, 0, NULL);
		if (!ev)
			continue;
		argv = json_object_get(ev, "argv");
		for (size_t i = 0; i < json_array_size(argv); i++)
			ours |= !strcmp(json_string_value(json_array_get(argv, i)) ?: "", token);
		id = json_integer_value(json_object_get(ev, "cgroup_id"));
		if (ours &&
		    !strcmp(json_string_value(json_object_get(ev, "probe")) ?: "", "process") &&
		    !strcmp(json_string_value(json_object_get(ev, "filename")) ?: "", marker) &&
		    bsearch(&id, ids, n_ids, sizeof(id), cmp_u64)) {
			r->execs_printed++;
			r->execs_with_path += json_object_get(ev, "cgroup") != NULL;
		}
		json_decref(ev);
	}
	free(line);
	if (f)
		fclose(f);
}

struct slot {
	pid_t pid;
	char pod[4096], ctr[4096];
};

static void remove_dir(const char *p)
{
	/* the last task left; the cgroup may say "populated" for a moment more */
	for (int i = 0; i < 200 && rmdir(p) < 0 && errno == EBUSY; i++)
		usleep(1000);
}

/* make cgroup i, start the marker in it */
static int start_one(const char *base, int i, const char *marker, const char *token,
		     const char *busy, struct slot *s, __u64 *id)
{
	char rel[256];
	char *argv[] = { (char *)marker, "--churn-marker", (char *)token, (char *)busy, NULL };

	snprintf(rel, sizeof(rel), "%s/burstable/pod%d/ctr", base, i);
	if (lmp_test_cgroup_create(rel, s->ctr, sizeof(s->ctr), id) < 0)
		return -1;
	snprintf(s->pod, sizeof(s->pod), "%s", s->ctr);
	*strrchr(s->pod, '/') = '\0';
	s->pid = lmp_test_spawn(s->ctr, argv);
	return s->pid > 0 ? 0 : -1;
}

int lmp_churn_run(const struct lmp_churn_opts *o, struct lmp_churn_result *r)
{
	char dir[64], base[64], token[48], busy[16], marker[4096];
	char out[128], err[128], top[4096], *text = NULL;
	int parallel = o->parallel > 0 && o->parallel <= MAX_PARALLEL ? o->parallel : 2;
	struct slot slots[MAX_PARALLEL] = { 0 };
	struct poller hp = { .r = r, .quiet = o->quiet };
	__u64 *ids = calloc(o->cgroups, sizeof(*ids));
	int active = 0, next = 0, port = 0, ret = -1;
	long long lost_before = 0;
	size_t log_before = 0;
	pid_t agent = -1;
	double t0;

	memset(r, 0, sizeof(*r));
	r->lost_metric = -1;
	snprintf(base, sizeof(base), "lmp-test/churn-%d", getpid());
	snprintf(token, sizeof(token), "churn-token-%d", getpid());
	snprintf(busy, sizeof(busy), "%d", o->busy_ms);
	snprintf(top, sizeof(top), "%s/lmp-test/churn-%d", lmp_test_cgroup2_root(), getpid());
	/* the agent's output in memory: a disk busy with other work must not be what stalls it
	 * (a write to a file under dirty-page throttling blocks) */
	snprintf(dir, sizeof(dir), "%s/lmp-churn-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!ids || !mkdtemp(dir) || !realpath("/proc/self/exe", marker))
		goto out;
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	agent = agent_start(dir, o, &port);
	if (agent < 0)
		goto out;
	hp.port = port;
	if (pthread_create(&hp.th, NULL, healthz_main, &hp) != 0)
		goto out;
	/*
	 * Losses count from here: what was lost while the probes attached one by one, before
	 * the loop ran, is read at the first interval and is not the churn's doing.
	 */
	sleep(o->interval_s + 1);
	if (http_get(port, "/metrics", 10, &text) != 200)
		goto out;
	lost_before = metric_sum(text, "lmp_events_lost_total", NULL);
	free(text);
	text = slurp(err);
	log_before = text ? strlen(text) : 0;
	free(text);
	text = NULL;

	t0 = now_s();
	for (int want = o->cgroups; next < want || active;) {
		pid_t pid;
		int st;

		if (next < want && active < parallel) {
			struct slot *s = NULL;

			for (int k = 0; k < parallel && !s; k++)
				s = slots[k].pid ? NULL : &slots[k];
			if (start_one(base, next, marker, token, busy, s, &ids[next]) < 0) {
				/* start no more; the running ones are still reaped */
				fprintf(stderr, "churn: cgroup %d: %s\n", next, strerror(errno));
				want = next;
				continue;
			}
			next++;
			r->execs_started++;
			active++;
			if (!o->quiet && next % 1000 == 0)
				fprintf(stderr, "churn: %d cgroups in %.1f s\n", next,
					now_s() - t0);
			continue;
		}
		pid = waitpid(-1, &st, 0);
		if (pid == agent) {
			fprintf(stderr, "churn: the agent exited during the churn (status %d)\n",
				st);
			agent = -1;
			continue;
		}
		for (int k = 0; k < parallel; k++)
			if (slots[k].pid == pid) {
				remove_dir(slots[k].ctr);
				remove_dir(slots[k].pod);
				slots[k].pid = 0;
				active--;
			}
	}
	r->churn_s = now_s() - t0;
	sleep(SETTLE_S);
	hp.stop = true;
	pthread_join(hp.th, NULL);
	if (agent > 0 && http_get(port, "/metrics", 10, &text) == 200) {
		r->lost_metric = metric_sum(text, "lmp_events_lost_total", NULL) - lost_before;
		r->gone_lookups = metric_sum(text, "lmp_cgroup_lookups_total", "result=\"gone\"");
		r->pending_lookups =
			metric_sum(text, "lmp_cgroup_lookups_total", "result=\"pending\"");
	}
	if (agent > 0) {
		r->agent_cpu_s = cpu_s(agent);
		agent_stop(agent);
	}
	agent = -1;
	free(text);
	text = slurp(err);
	r->lost_logged = logged_losses(text ? text + log_before : NULL);
	for (const char *l = text ? text + log_before : NULL; l && (l = strstr(l, " events lost"));
	     l++) {
		const char *b = l, *e = strchrnul(l, '\n');

		while (b > text && b[-1] != '\n')
			b--;
		fprintf(stderr, "churn: agent: %.*s\n", (int)(e - b), b);
	}
	count_execs(out, marker, token, ids, next, r);
	ret = r->execs_started == o->cgroups ? 0 : -1;
out:
	if (agent > 0)
		agent_stop(agent);
	free(text);
	free(ids);
	lmp_test_sh("find '%s' -depth -type d -exec rmdir {} + 2>/dev/null; rm -rf '%s'", top, dir);
	return ret;
}

void lmp_churn_print(const struct lmp_churn_opts *o, const struct lmp_churn_result *r)
{
	char lost[32] = "no /metrics answer";

	if (r->lost_metric >= 0)
		snprintf(lost, sizeof(lost), "%lld", r->lost_metric);
	fprintf(stderr,
		"churn: %d cgroups (%d at once, %d ms busy) in %.1f s, --probes all, "
		"--interval %d --ringbuf-kb %d%s\n"
		"churn: healthz failures: %d of %d polls (slowest %.3f s)\n"
		"churn: marker execs printed: %d of %d (%d with their cgroup path)\n"
		"churn: events lost: %s (lmp_events_lost_total), %lld (logged)\n"
		"churn: cgroup lookups answered gone: %lld, pending: %lld; %lld bytes of "
		"output; agent CPU %.1f s\n",
		o->cgroups, o->parallel, o->busy_ms, r->churn_s, o->interval_s,
		o->ringbuf_kb > 0 ? o->ringbuf_kb : 256,
		o->opensnoop_failed ? " --opensnoop-failed" : "", r->healthz_failures,
		r->healthz_polls, r->healthz_worst_s, r->execs_printed, r->execs_started,
		r->execs_with_path, lost, r->lost_logged, r->gone_lookups, r->pending_lookups,
		r->stdout_bytes, r->agent_cpu_s);
}
