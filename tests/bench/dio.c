// SPDX-License-Identifier: Apache-2.0
/*
 * Direct block I/O: N random 4 KiB reads with O_DIRECT from a block device (a loop device
 * in `make bench`), one at a time, so every read is one request through the block layer.
 * usage: dio DEVICE N      prints: ios seconds iops us_per_io
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/fs.h>

#include "base/clock.h"

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 20000;
	unsigned long long size = 0, blocks;
	unsigned x = 12345;
	void *buf;
	double t;
	int fd;

	if (argc < 2 || n <= 0)
		return 2;
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0 || size < 4096) {
		perror(argv[1]);
		return 1;
	}
	blocks = size / 4096;
	if (posix_memalign(&buf, 4096, 4096))
		return 1;
	t = lmp_now_s();
	for (long i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		if (pread(fd, buf, 4096, (off_t)((x >> 4) % blocks) * 4096) != 4096) {
			perror("pread");
			return 1;
		}
	}
	t = lmp_now_s() - t;
	printf("%ld %.3f %.0f %.2f\n", n, t, n / t, t * 1e6 / n);
	return 0;
}
