// SPDX-License-Identifier: Apache-2.0
/*
 * TCP storm on loopback: N connections to a local listener, each sending 4 KiB and closing,
 * so the tcp, tcpconnlat, tcprtt and bindsnoop probes see connects, state changes and RTT
 * samples. usage: tcpstorm N      prints: connections seconds per_s us_per_connection
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "base/clock.h"

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	static char buf[4096];
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	double t;
	pid_t srv;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (n <= 0 || ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ls, 128) < 0 || getsockname(ls, (struct sockaddr *)&sa, &len) < 0) {
		perror("tcpstorm: listener");
		return 1;
	}
	srv = fork();
	if (srv == 0) { /* accept, read until the peer closes, close */
		for (;;) {
			int c = accept(ls, NULL, NULL);

			while (c >= 0 && read(c, buf, sizeof(buf)) > 0)
				;
			if (c >= 0)
				close(c);
		}
	}
	close(ls);
	t = lmp_now_s();
	for (long i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);

		if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    write(s, buf, sizeof(buf)) != sizeof(buf)) {
			perror("tcpstorm: connect");
			kill(srv, SIGKILL);
			return 1;
		}
		close(s);
	}
	t = lmp_now_s() - t;
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	printf("%ld %.3f %.0f %.1f\n", n, t, n / t, t * 1e6 / n);
	return 0;
}
