// SPDX-License-Identifier: Apache-2.0
/*
 * Syscall-heavy workload for slowdown measurements: N iterations of getppid() plus a 1-byte
 * read() from /dev/zero. Prints nanoseconds per iteration: wall clock, and CPU time (user +
 * system, which includes the BPF programs run on its syscalls); on a machine shared with
 * other work the CPU figure is the steadier one.
 * usage: sysloop [ITERATIONS]      prints: wall_ns cpu_ns
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

static double wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double cpu_ns(void)
{
	struct rusage r;

	getrusage(RUSAGE_SELF, &r);
	return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e9 +
	       (r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e3;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	int fd = open("/dev/zero", O_RDONLY);
	double w, c;
	char byte;

	if (fd < 0 || n <= 0)
		return 1;
	c = cpu_ns();
	w = wall_ns();
	for (long i = 0; i < n; i++) {
		syscall(SYS_getppid);
		if (read(fd, &byte, 1) != 1)
			return 1;
	}
	w = wall_ns() - w;
	c = cpu_ns() - c;
	printf("%.1f %.1f\n", w / n, c / n);
	return 0;
}
