// SPDX-License-Identifier: Apache-2.0
/*
 * Open storm: N open()+close() of one existing file, as fast as possible or paced at RATE
 * opens per second (paced in 1 ms steps, so the rate holds on a busy machine), shared
 * among JOBS processes (one process cannot reach 100k opens/s under tracing on two cores).
 * usage: openstorm N [RATE] [PATH] [JOBS]    prints: opens seconds opens_per_s ns_per_open
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "base/clock.h"

static int storm(long n, double rate, const char *path)
{
	double t0 = lmp_now_s();

	for (long i = 0; i < n; i++) {
		int fd;

		while (rate > 0 && i >= (lmp_now_s() - t0) * rate) {
			struct timespec d = { 0, 1000000 };

			nanosleep(&d, NULL);
		}
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			perror(path);
			return 1;
		}
		close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	double rate = argc > 2 ? atof(argv[2]) : 0, t;
	const char *path = argc > 3 ? argv[3] : "/etc/hostname";
	int jobs = argc > 4 ? atoi(argv[4]) : 1, failed = 0, st;

	if (n <= 0 || jobs <= 0)
		return 2;
	t = lmp_now_s();
	for (int j = 0; j < jobs; j++) {
		pid_t c = fork();

		if (c == 0)
			_exit(storm(n / jobs + (j < n % jobs), rate / jobs, path));
		if (c < 0)
			return 1;
	}
	while (wait(&st) > 0)
		failed += st != 0;
	t = lmp_now_s() - t;
	printf("%ld %.3f %.0f %.1f\n", n, t, n / t, t * 1e9 / n);
	return failed ? 1 : 0;
}
