// SPDX-License-Identifier: Apache-2.0
/*
 * The parts of the kernel suite's workload (tests/kernels/suite.sh) that a shell cannot do
 * exactly. Each command prints what the suite asserts on, as KEY=VALUE lines.
 *
 *   kworkload tcp             bind + listen on 127.0.0.1, connect, echo 256 KiB back and
 *                             forth, then a connect to a closed port (refused)
 *   kworkload burn SECONDS    spin on the CPU
 *   kworkload funclat N USEC  call kw_target() N times; it sleeps USEC each time
 *   kworkload hold GO BYTES SECONDS
 *                             wait for file GO, malloc and touch BYTES, hold them SECONDS
 *   kworkload hog MIB         malloc and touch MIB MiB, 1 MiB at a time (the OOM victim)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "kworkload: %s: %s\n", what, strerror(errno));
	return 1;
}

static int listener(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)sa, sizeof(*sa)) < 0 || listen(s, 4) < 0 ||
	    getsockname(s, (struct sockaddr *)sa, &len) < 0)
		return -1;
	return s;
}

static int full_io(int fd, char *buf, size_t n, int out)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = out ? write(fd, buf + done, n - done) : read(fd, buf + done, n - done);

		if (r <= 0)
			return -1;
		done += r;
	}
	return 0;
}

static int cmd_tcp(void)
{
	static char buf[16384];
	struct sockaddr_in sa, closed;
	int ls, c, a, cs;

	ls = listener(&sa);
	if (ls < 0)
		return fail("listen");
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return fail("connect");
	a = accept(ls, NULL, NULL);
	if (a < 0)
		return fail("accept");
	/* ping-pong in 16 KiB steps: every step waits for the peer's ACKed data (RTT samples) */
	for (int i = 0; i < 16; i++) {
		memset(buf, 'a' + i, sizeof(buf));
		if (full_io(c, buf, sizeof(buf), 1) || full_io(a, buf, sizeof(buf), 0) ||
		    full_io(a, buf, sizeof(buf), 1) || full_io(c, buf, sizeof(buf), 0))
			return fail("echo");
	}
	close(a);
	close(c);
	close(ls);
	printf("port=%d\nbytes=%zu\n", ntohs(sa.sin_port), 16 * sizeof(buf));

	/* a port that was just listened on and closed: nothing listens there now */
	cs = listener(&closed);
	if (cs < 0)
		return fail("listen");
	close(cs);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&closed, sizeof(closed)) == 0 || errno != ECONNREFUSED)
		return fail("connect to a closed port was not refused");
	close(c);
	printf("refused_port=%d\n", ntohs(closed.sin_port));
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) unsigned long kw_spin(unsigned long x)
{
	for (int i = 0; i < 100000; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	return x;
}

static int cmd_burn(double seconds)
{
	double end = now() + seconds;
	unsigned long x = 1;

	while (now() < end)
		x = kw_spin(x);
	printf("burned=%lu\n", x & 1);
	return 0;
}

__attribute__((noinline)) int kw_target(int usec)
{
	struct timespec ts = { 0, usec * 1000L };

	nanosleep(&ts, NULL);
	return usec;
}

static int cmd_funclat(int n, int usec)
{
	long sum = 0;

	for (int i = 0; i < n; i++)
		sum += kw_target(usec);
	printf("calls=%d\nsum=%ld\n", n, sum);
	return 0;
}

static int cmd_hold(const char *go, size_t bytes, int seconds)
{
	char *p;

	while (access(go, F_OK) != 0)
		usleep(50000);
	p = malloc(bytes);
	if (!p)
		return fail("malloc");
	memset(p, 1, bytes);
	printf("held=%zu\n", bytes);
	fflush(stdout);
	sleep(seconds);
	free(p);
	return 0;
}

static int cmd_hog(int mib)
{
	for (int i = 0; i < mib; i++) {
		char *p = malloc(1 << 20);

		if (!p)
			return fail("malloc");
		memset(p, 1, 1 << 20);
	}
	printf("survived=%d\n", mib); /* the memcg limit did not hold */
	return 1;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "tcp") && argc == 2)
		return cmd_tcp();
	if (!strcmp(cmd, "burn") && argc == 3)
		return cmd_burn(atof(argv[2]));
	if (!strcmp(cmd, "funclat") && argc == 4)
		return cmd_funclat(atoi(argv[2]), atoi(argv[3]));
	if (!strcmp(cmd, "hold") && argc == 5)
		return cmd_hold(argv[2], strtoul(argv[3], NULL, 0), atoi(argv[4]));
	if (!strcmp(cmd, "hog") && argc == 3)
		return cmd_hog(atoi(argv[2]));
	fprintf(stderr, "usage: kworkload tcp | burn SECONDS | funclat N USEC | "
			"hold GOFILE BYTES SECONDS | hog MIB\n");
	return 2;
}
