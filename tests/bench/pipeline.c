// SPDX-License-Identifier: Apache-2.0
/*
 * Event pipeline benchmark: ring buffer -> lmp_probe_handle() (decode, identity lookup) ->
 * JSON on a file descriptor, the exact code path of `lmp run`. A producer process makes
 * getppid() calls at a paced rate; tests/bench/flood.bpf.c turns each into `burst` records.
 *
 * usage: pipeline RATE SECONDS [BURST] [OUTPUT]   RATE events/s (0: as fast as possible)
 * prints: rate_target consumed_per_s per_cpu_s lost_pct
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/config.h"
#include "k8s/identity.h"
#include "base/log.h"
#include "base/loop.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "flood.skel.h"

extern const struct lmp_probe_desc lmp_probe_process;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void producer(int go_fd, double rate, double secs, unsigned burst)
{
	double calls_per_s = rate / burst, start, t;
	char c;
	long n = 0;

	if (read(go_fd, &c, 1) != 1)
		_exit(1);
	start = now_s();
	while ((t = now_s()) - start < secs) {
		if (rate > 0 && n >= (t - start) * calls_per_s) {
			struct timespec d = { 0, 20000 }; /* pace in 20 us steps */

			nanosleep(&d, NULL);
			continue;
		}
		syscall(SYS_getppid);
		n++;
	}
	_exit(0);
}

struct bench {
	struct lmp_probe probe;
	struct lmp_rt rt;
	__u64 handled;
};

static int on_record(void *ctx, void *data, size_t len)
{
	struct bench *b = ctx;

	lmp_probe_handle(&b->probe, data, len, &b->rt);
	b->handled++;
	return 0;
}

int main(int argc, char **argv)
{
	double rate = argc > 1 ? atof(argv[1]) : 0, secs = argc > 2 ? atof(argv[2]) : 3;
	unsigned burst = argc > 3 ? atoi(argv[3]) : 64;
	const char *outpath = argc > 4 ? argv[4] : "/dev/null";
	struct lmp_registry_entry e = { "process", &lmp_probe_process };
	struct lmp_config cfg;
	struct bench b = { 0 };
	struct flood_bpf *skel;
	struct ring_buffer *rb;
	struct lmp_loop *loop;
	struct rusage ru0, ru1;
	char err[256], *args[] = { "lmp", NULL };
	int go[2], out_fd, st;
	__u64 lost = 0;
	double t0, t1, cpu;
	pid_t child;

	if (rate > 0 && rate < burst)
		burst = 1;
	if (lmp_config_parse(&cfg, 1, args, err, sizeof(err)) < 0 || pipe(go) < 0)
		return 2;
	child = fork();
	if (child == 0)
		producer(go[0], rate, secs, burst);
	out_fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	skel = flood_bpf__open();
	if (!skel || out_fd < 0)
		return 1;
	skel->rodata->cfg_pid = child;
	skel->rodata->cfg_burst = burst;
	bpf_map__set_max_entries(skel->maps.events, 256 * 1024); /* the agent's default */
	if (flood_bpf__load(skel) || flood_bpf__attach(skel)) {
		fprintf(stderr, "pipeline: cannot load the flood program\n");
		return 1;
	}
	lmp_probe_init(&b.probe, &e);
	lmp_log_set_level(LMP_LOG_WARN); /* the "no kubelet" notice is not a benchmark figure */
	lmp_loop_new(&loop);
	if (lmp_out_new(LMP_OUTPUT_JSON, out_fd, "bench-node", &b.rt.out) < 0 ||
	    lmp_ident_new(&cfg, loop, &b.rt.ident) < 0)
		return 1;
	b.rt.cfg = &cfg;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_record, &b, NULL);
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_s();
	if (write(go[1], "g", 1) != 1)
		return 1;
	while (waitpid(child, &st, WNOHANG) == 0) {
		ring_buffer__poll(rb, 10);
		lmp_out_flush(b.rt.out);
	}
	ring_buffer__consume(rb);
	lmp_out_flush(b.rt.out);
	t1 = now_s();
	getrusage(RUSAGE_SELF, &ru1);
	{
		int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(skel->maps.drops);
		__u64 vals[ncpu];
		__u32 k = 0;

		if (bpf_map_lookup_elem(fd, &k, vals) == 0)
			for (int c = 0; c < ncpu; c++)
				lost += vals[c];
	}
	cpu = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
	      (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
	      ((ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) +
	       (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec)) /
		      1e6;
	printf("%.0f %.0f %.0f %.4f %llu %llu\n", rate, b.handled / (t1 - t0),
	       cpu > 0 ? b.handled / cpu : 0,
	       100.0 * lost / (b.handled + lost ? b.handled + lost : 1),
	       (unsigned long long)b.handled, (unsigned long long)lost);
	ring_buffer__free(rb);
	flood_bpf__destroy(skel);
	lmp_ident_free(b.rt.ident);
	lmp_out_free(b.rt.out);
	lmp_loop_free(loop);
	lmp_config_free(&cfg);
	return 0;
}
