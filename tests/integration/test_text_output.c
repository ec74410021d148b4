// SPDX-License-Identifier: Apache-2.0
/*
 * --output text with a real process whose name is hostile (issue 15): prctl(PR_SET_NAME)
 * to ESC, newline, 0xff and a quote, then exit. The agent must print its exit event on
 * one line, the name escaped, and no byte a terminal would act on.
 */
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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "harness.h"

/* the agent and its stderr file, for teardown when an assertion ends the test early */
static pid_t agent_pid;
static char err_path[64];

#define NAME "sl\x1b\n\xff\"p"
#define ESCAPED "sl\\x1b\\x0a\\xff\"p"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* append what fd has within ms to *buf */
static void drain(int fd, char **buf, size_t *len, size_t *cap, int ms)
{
	long end = now_ms() + ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		long left = end - now_ms();
		ssize_t n;

		if (poll(&p, 1, left > 0 ? (int)left : 0) <= 0)
			break;
		if (*cap - *len < 65536) {
			*cap = *cap * 2 + 65536;
			*buf = realloc(*buf, *cap);
			assert_non_null(*buf);
		}
		n = read(fd, *buf + *len, *cap - *len - 1);
		if (n <= 0)
			break;
		*len += n;
		(*buf)[*len] = 0;
	}
}

static void test_hostile_comm_is_one_escaped_line(void **state)
{
	char errpath[] = "/tmp/lmp-text-err-XXXXXX", *out = NULL, *err = NULL, *line, pidcol[64];
	size_t len = 0, cap = 0, elen = 0, ecap = 0;
	int fds[2], efd, lines = 0, st;
	pid_t agent, child;
	long end;

	lmp_test_require_root();
	efd = mkstemp(errpath);
	assert_true(efd >= 0);
	snprintf(err_path, sizeof(err_path), "%s", errpath);
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	agent = fork();
	assert_true(agent >= 0);
	agent_pid = agent;
	if (agent == 0) {
		dup2(fds[1], 1);
		dup2(efd, 2);
		execl(lmp_test_binary(), "lmp", "run", "--listen", "none", "--output", "text",
		      "--probes", "process", "--interval", "1", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	for (end = now_ms() + 30000; now_ms() < end && (!err || !strstr(err, "ready:"));) {
		lseek(efd, elen, SEEK_SET);
		drain(efd, &err, &elen, &ecap, 0);
		drain(fds[0], &out, &len, &cap, 100);
	}
	assert_true(err && strstr(err, "ready:"));

	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		prctl(PR_SET_NAME, NAME);
		_exit(7);
	}
	assert_int_equal(waitpid(child, &st, 0), child);
	snprintf(pidcol, sizeof(pidcol), " %7d " ESCAPED " ", child);
	for (end = now_ms() + 10000; now_ms() < end && (!out || !strstr(out, pidcol));)
		drain(fds[0], &out, &len, &cap, 100);
	kill(agent, SIGTERM);
	drain(fds[0], &out, &len, &cap, 2000);
	assert_int_equal(waitpid(agent, &st, 0), agent);
	agent_pid = 0;
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fds[0]);
	close(efd);
	unlink(errpath);

	assert_non_null(out);
	/* the exit event of the child: exactly one line, name escaped, code intact */
	for (line = out; (line = strstr(line, pidcol)); line++) {
		char *eol = strchr(line, '\n'), *bol = line;

		while (bol > out && bol[-1] != '\n')
			bol--;
		assert_non_null(eol);
		*eol = 0;
		print_message("%s\n", bol);
		assert_non_null(strstr(bol, " process    exit     "));
		assert_non_null(strstr(line, "code=7"));
		*eol = '\n';
		lines++;
	}
	assert_int_equal(lines, 1);
	/* and nowhere in the output anything a terminal acts on, nor the raw name */
	for (size_t i = 0; i < len; i++)
		if ((out[i] < 0x20 && out[i] != '\n') || out[i] == 0x7f)
			fail_msg("control byte 0x%02x at %zu", (unsigned char)out[i], i);
	assert_null(memmem(out, len, "\xff", 1));
	assert_null(strstr(out, "sl\n"));
	free(out);
	free(err);
}

static int teardown(void **state)
{
	if (agent_pid > 0) {
		kill(agent_pid, SIGKILL);
		waitpid(agent_pid, NULL, 0);
	}
	if (err_path[0])
		unlink(err_path);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_comm_is_one_escaped_line),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
