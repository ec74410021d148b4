// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "harness.h"

const char *lmp_test_binary(void)
{
	const char *p = getenv("LMP");

	return p && *p ? p : "build/lmp";
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void take_line(struct lmp_test_agent *a, char *line)
{
	json_error_t jerr;
	json_t *j;

	if (!*line)
		return;
	j = json_loads(line, 0, &jerr);
	if (!j || !json_is_object(j)) {
		a->bad_lines++;
		fprintf(stderr, "harness: stdout line is not a JSON object: %.200s\n", line);
		json_decref(j);
		return;
	}
	json_array_append_new(a->events, j);
}

/* read what is available on stdout and stderr, waiting at most ms */
static void pump_once(struct lmp_test_agent *a, int ms)
{
	struct pollfd fds[2] = { { a->out_fd, POLLIN, 0 }, { a->err_fd, POLLIN, 0 } };
	char buf[65536];
	ssize_t n;

	if (poll(fds, 2, ms) <= 0)
		return;
	if (fds[0].revents) {
		while ((n = read(a->out_fd, buf, sizeof(buf))) > 0) {
			char *nl;

			a->outbuf = realloc(a->outbuf, a->outlen + n + 1);
			memcpy(a->outbuf + a->outlen, buf, n);
			a->outlen += n;
			a->outbuf[a->outlen] = 0;
			while ((nl = memchr(a->outbuf, '\n', a->outlen))) {
				*nl = 0;
				take_line(a, a->outbuf);
				a->outlen -= nl + 1 - a->outbuf;
				memmove(a->outbuf, nl + 1, a->outlen + 1);
			}
		}
	}
	if (fds[1].revents) {
		while ((n = read(a->err_fd, buf, sizeof(buf))) > 0) {
			if (a->errlen + n + 1 > a->errcap) {
				a->errcap = (a->errlen + n + 1) * 2;
				a->errbuf = realloc(a->errbuf, a->errcap);
			}
			memcpy(a->errbuf + a->errlen, buf, n);
			a->errlen += n;
			a->errbuf[a->errlen] = 0;
		}
	}
}

void lmp_test_agent_pump(struct lmp_test_agent *a, int ms)
{
	long end = now_ms() + ms;

	while (now_ms() < end)
		pump_once(a, end - now_ms());
}

bool lmp_test_agent_stderr_has(struct lmp_test_agent *a, const char *text)
{
	return a->errbuf && strstr(a->errbuf, text);
}

int lmp_test_agent_start(struct lmp_test_agent *a, const char *const *args)
{
	int out[2], err[2];
	const char *argv[64];
	int n = 0;
	long end;

	memset(a, 0, sizeof(*a));
	a->status = -1;
	a->events = json_array();
	argv[n++] = lmp_test_binary();
	argv[n++] = "run";
	argv[n++] = "--listen";
	argv[n++] = "none";
	for (int i = 0; args && args[i] && n < 62; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		return -1;
	a->pid = fork();
	if (a->pid == 0) {
		/* the agent never outlives a test binary that failed or crashed before stopping it */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	a->out_fd = out[0];
	a->err_fd = err[0];
	fcntl(a->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(a->err_fd, F_SETFL, O_NONBLOCK);
	end = now_ms() + 30000;
	while (now_ms() < end) {
		int st;

		pump_once(a, 100);
		if (lmp_test_agent_stderr_has(a, "ready:"))
			return 0;
		if (waitpid(a->pid, &st, WNOHANG) == a->pid) {
			a->status = st;
			a->pid = 0;
			break;
		}
	}
	fprintf(stderr, "harness: agent did not get ready; its stderr:\n%s\n",
		a->errbuf ? a->errbuf : "");
	return -1;
}

int lmp_test_agent_stop(struct lmp_test_agent *a, int timeout_ms)
{
	long start = now_ms();

	if (a->pid <= 0)
		return 0;
	kill(a->pid, SIGTERM);
	while (now_ms() - start < timeout_ms) {
		int st;

		pump_once(a, 20);
		if (waitpid(a->pid, &st, WNOHANG) == a->pid) {
			a->status = st;
			a->pid = 0;
			lmp_test_agent_pump(a, 50); /* what it flushed on the way out */
			return now_ms() - start;
		}
	}
	kill(a->pid, SIGKILL);
	waitpid(a->pid, &a->status, 0);
	a->pid = 0;
	return -1;
}

void lmp_test_agent_free(struct lmp_test_agent *a)
{
	if (a->pid > 0)
		lmp_test_agent_stop(a, 3000);
	if (a->out_fd > 0)
		close(a->out_fd);
	if (a->err_fd > 0)
		close(a->err_fd);
	free(a->outbuf);
	free(a->errbuf);
	json_decref(a->events);
	memset(a, 0, sizeof(*a));
}

json_t *lmp_test_agent_wait(struct lmp_test_agent *a, int timeout_ms, lmp_test_match_fn match,
			    void *ctx)
{
	long end = now_ms() + timeout_ms;
	size_t seen = 0;

	do {
		for (; seen < json_array_size(a->events); seen++) {
			json_t *ev = json_array_get(a->events, seen);

			if (match(ev, ctx))
				return ev;
		}
		pump_once(a, 50);
	} while (now_ms() < end || seen < json_array_size(a->events));
	return NULL;
}

bool lmp_test_is_event(json_t *ev, const char *probe, const char *event)
{
	const char *p = json_string_value(json_object_get(ev, "probe"));
	const char *e = json_string_value(json_object_get(ev, "event"));

	return (!probe || (p && !strcmp(p, probe))) && (!event || (e && !strcmp(e, event)));
}

bool lmp_test_match_want(json_t *ev, void *ctx)
{
	const struct lmp_test_want *w = ctx;

	if (!lmp_test_is_event(ev, w->probe, w->event))
		return false;
	return !w->pid || json_integer_value(json_object_get(ev, "pid")) == w->pid;
}

const char *lmp_test_cgroup2_root(void)
{
	struct stat st;

	if (stat("/sys/fs/cgroup/unified/cgroup.procs", &st) == 0)
		return "/sys/fs/cgroup/unified";
	return "/sys/fs/cgroup";
}

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/*
 * Cgroups this test binary made: removed at exit even when a failed assertion skipped the
 * test's own removal (cmocka goes on with the next test), their processes killed first.
 */
static char *made_cgroups[64];
static int n_made_cgroups;
static bool exit_cleanup;

static void remove_made_cgroups(void)
{
	char self[4096] = "", line[2048], kill_path[4200];
	FILE *f = fopen("/proc/self/cgroup", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) /* never kill the cgroup the test itself is in */
			snprintf(self, sizeof(self), "%s%s", lmp_test_cgroup2_root(), line + 3);
	if (f)
		fclose(f);
	self[strcspn(self, "\n")] = 0;
	for (int i = n_made_cgroups - 1; i >= 0; i--) {
		const char *cg = made_cgroups[i];

		if (access(cg, F_OK) == 0 && strncmp(self, cg, strlen(cg))) {
			snprintf(kill_path, sizeof(kill_path), "%s/cgroup.kill", cg);
			f = fopen(kill_path, "w");
			if (f) {
				fputs("1", f);
				fclose(f);
			}
			for (int t = 0; t < 20 && access(cg, F_OK) == 0; t++) {
				lmp_test_cgroup_remove(cg);
				if (access(cg, F_OK) == 0)
					usleep(50000); /* killed tasks leave their cgroup a moment later */
			}
		}
		free(made_cgroups[i]);
	}
	n_made_cgroups = 0;
}

static void remember_cgroup(const char *path)
{
	for (int i = 0; i < n_made_cgroups; i++)
		if (!strcmp(made_cgroups[i], path))
			return;
	if (!exit_cleanup)
		exit_cleanup = atexit(remove_made_cgroups) == 0;
	if (n_made_cgroups < (int)(sizeof(made_cgroups) / sizeof(*made_cgroups)))
		made_cgroups[n_made_cgroups++] = strdup(path);
}

int lmp_test_cgroup_create(const char *rel, char *path, size_t len, __u64 *id)
{
	struct stat st;
	int r;

	snprintf(path, len, "%s/%s", lmp_test_cgroup2_root(), rel);
	r = mkdir_p(path);
	if (r < 0)
		return r;
	remember_cgroup(path);
	if (stat(path, &st) < 0)
		return -errno;
	if (id)
		*id = st.st_ino;
	return 0;
}

void lmp_test_cgroup_remove(const char *path)
{
	char buf[4096];

	/* deepest first: a cgroup with children cannot be removed */
	snprintf(buf, sizeof(buf), "%s", path);
	while (strlen(buf) > strlen(lmp_test_cgroup2_root())) {
		if (rmdir(buf) < 0 && errno != ENOENT)
			break;
		*strrchr(buf, '/') = 0;
	}
}

int lmp_test_cgroup_join(const char *cg)
{
	char procs[4200], pid[16];
	int fd, n;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	n = snprintf(pid, sizeof(pid), "%d", getpid());
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, pid, n) != n || close(fd) < 0) {
		fprintf(stderr, "join %s: %s\n", procs, strerror(errno));
		return -1;
	}
	return 0;
}

pid_t lmp_test_spawn(const char *cgroup_path, char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		if (cgroup_path && lmp_test_cgroup_join(cgroup_path) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

int lmp_test_wait_child(pid_t pid)
{
	int st;

	return waitpid(pid, &st, 0) == pid ? st : -1;
}

char *lmp_test_http_get(struct lmp_test_agent *a, int port, const char *path, int timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t len = 0, cap = 1 << 16;
	char req[512], *buf = malloc(cap);
	long end = now_ms() + timeout_ms;
	bool done = false;

	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
	if (!buf || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		goto out;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (!done && now_ms() < end) {
		ssize_t n;

		if (len + 65536 + 1 > cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n > 0)
			len += n;
		else if (n == 0 || errno != EAGAIN)
			done = true;
		else
			lmp_test_agent_pump(a, 5);
	}
out:
	if (fd >= 0)
		close(fd);
	if (!done) {
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

const char *lmp_test_http_body(const char *resp)
{
	const char *p = resp ? strstr(resp, "\r\n\r\n") : NULL;

	return p ? p + 4 : NULL;
}

int lmp_test_http_status(const char *resp)
{
	int code = -1;

	if (resp)
		sscanf(resp, "HTTP/1.%*d %d", &code);
	return code;
}

char *lmp_test_http_get_body(struct lmp_test_agent *a, int port, const char *path)
{
	char *resp = lmp_test_http_get(a, port, path, 20000), *body;

	assert_non_null(resp);
	assert_non_null(lmp_test_http_body(resp));
	body = strdup(lmp_test_http_body(resp));
	free(resp);
	return body;
}

char *lmp_test_sh_read(struct lmp_test_agent *a, const char *cmd, int *status)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	FILE *f = buf ? popen(cmd, "r") : NULL;
	ssize_t n;
	int st;

	if (!f) {
		free(buf);
		return NULL;
	}
	fcntl(fileno(f), F_SETFL, O_NONBLOCK);
	for (;;) {
		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fileno(f), buf + len, cap - len - 1);
		if (n > 0) {
			len += n;
			continue;
		}
		if (n == 0 || errno != EAGAIN)
			break;
		lmp_test_agent_pump(a, 20);
	}
	st = pclose(f);
	if (status)
		*status = st;
	buf[len] = 0;
	return buf;
}

int lmp_test_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st < 0 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void lmp_test_assert_contains(const char *text, const char *const *want)
{
	assert_non_null(text);
	for (; *want; want++)
		if (!strstr(text, *want))
			fail_msg("no '%s' in:\n%s", *want, text);
}

void lmp_test_require_root(void)
{
	if (geteuid() != 0)
		fail_msg("this test loads BPF programs and needs root (run 'make test' as root)");
}

int lmp_test_bpf_ids(pid_t pid, const char *kind, __u32 *ids, int max)
{
	char path[64], line[256];
	int n = 0;

	for (int fd = 0; fd < 4096 && n < max; fd++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f) && n < max) {
			unsigned id;
			bool dup = false;

			if (strncmp(line, kind, strlen(kind)) || line[strlen(kind)] != ':' ||
			    sscanf(line + strlen(kind) + 1, "%u", &id) != 1)
				continue;
			for (int i = 0; i < n; i++)
				dup |= ids[i] == id;
			if (!dup)
				ids[n++] = id;
		}
		fclose(f);
	}
	return n;
}
