// SPDX-License-Identifier: Apache-2.0
/*
 * Exec storm: WORKERS processes each fork+exec BIN (a static do-nothing binary, so the
 * cost is the kernel's exec/exit path and the tracers', not the dynamic linker) and reap it,
 * N times in all, as fast as they can.
 * usage: execstorm N WORKERS BIN      prints: execs seconds execs_per_s us_per_exec
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "base/clock.h"

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;
	int workers = argc > 2 ? atoi(argv[2]) : 2, failed = 0, st;
	const char *bin = argc > 3 ? argv[3] : "/bin/true";
	double t0;

	if (n <= 0 || workers <= 0)
		return 2;
	t0 = lmp_now_s();
	for (int w = 0; w < workers; w++) {
		if (fork() == 0) {
			long mine = n / workers + (w < n % workers);

			for (long i = 0; i < mine; i++) {
				pid_t c = vfork();

				if (c == 0) {
					execl(bin, bin, (char *)NULL);
					_exit(127);
				}
				if (c < 0 || waitpid(c, &st, 0) < 0 || st != 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	while (wait(&st) > 0)
		failed += st != 0;
	t0 = lmp_now_s() - t0;
	if (failed)
		fprintf(stderr, "execstorm: %d workers failed\n", failed);
	printf("%ld %.3f %.0f %.1f\n", n, t0, n / t0, t0 * 1e6 / n);
	return failed ? 1 : 0;
}
