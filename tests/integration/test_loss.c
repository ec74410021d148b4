// SPDX-License-Identifier: Apache-2.0
/*
 * Loss accounting, exactly: received + lost = produced.
 *
 * 1. The probe code path with a load generator of known output. tests/bench/flood.bpf.c,
 *    run through the agent's own lifecycle (lmp_probe_start with --ringbuf-kb 4, the real
 *    `events` ring buffer and `drops` map, lmp_probe_handle, lmp_probe_read_drops), emits
 *    a known number of records for this process only. Nothing else writes to its ring
 *    buffer, so the equation must hold to the record, with and without overflow.
 *
 * 2. The real agent: `lmp run --probes mountsnoop --ringbuf-kb 4`, and this process calls
 *    umount2() on a missing path N times as fast as it can, each call one event. The loss
 *    counter is per probe, not per process, so the equation can only be exact for a window
 *    in which nobody else on the machine made a mount-family call: a small raw BPF program
 *    (below, no skeleton) counts those calls at sys_enter, this process's and everyone
 *    else's. A window with foreign calls is retried. In a clean window the events the agent
 *    received (lmp_events_total delta, and the lines on stdout with our pid) plus the lost
 *    ones (lmp_events_lost_total delta) equal N, and the three places that report the loss
 *    (/metrics, /api/v1/probes events_lost, the stderr loss line) agree.
 *
 * 3. Map-full loss reaches the same places: the syscall probe with the smallest key map
 *    (--syscall-max-keys 64) and more (cgroup, pid, syscall) keys than that in one interval.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "core/config.h"
#include "probe/feature.h"
#include "harness.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "flood.skel.h"

/* ---- 1. flood through the probe code path ---- */

LMP_DEFINE_SKEL_OPS(flood);

static const struct lmp_hook flood_hooks[] = {
	{ "flood", LMP_HOOK_TRACEPOINT, "tp_flood", "syscalls/sys_enter_getppid" },
};

static unsigned flood_burst;

static int flood_configure(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	struct flood_bpf *s = skel;

	s->rodata->cfg_pid = getpid();
	s->rodata->cfg_burst = flood_burst;
	return 0;
}

extern const struct lmp_probe_desc lmp_probe_process; /* flood emits process-exit records */

static int on_flood_record(void *ctx, void *data, size_t len)
{
	void **c = ctx;

	lmp_probe_handle(c[0], data, len, c[1]);
	return 0;
}

/* rounds x calls getppid(), each emitting burst records; drain after each round */
static void flood_run(unsigned rounds, unsigned calls, unsigned burst, __u64 *received, __u64 *lost,
		      __u64 *emitted, __u64 *decode_errors)
{
	struct lmp_probe_desc desc = {
		.name = "flood",
		.skel = &flood_skel_ops,
		.hooks = flood_hooks,
		.n_hooks = ARRAY_SIZE(flood_hooks),
		.events = lmp_probe_process.events,
		.n_events = lmp_probe_process.n_events,
		.configure = flood_configure,
	};
	struct lmp_registry_entry entry = { "flood", &desc };
	struct lmp_config cfg = { .ringbuf_kb = 4 };
	struct lmp_rt rt = { .cfg = &cfg };
	struct lmp_probe p;
	struct ring_buffer *rb;
	void *ctx[2] = { &p, &rt };
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

	assert_true(devnull >= 0);
	assert_int_equal(lmp_out_new(LMP_OUTPUT_JSON, devnull, "test", &rt.out), 0);
	flood_burst = burst;
	lmp_feature_init(NULL);
	lmp_probe_init(&p, &entry);
	assert_int_equal(lmp_probe_resolve(&p, lmp_feature_check, NULL), 0);
	if (lmp_probe_start(&p, &cfg) < 0)
		fail_msg("flood probe: %s", p.reason);
	/* the agent's --ringbuf-kb reached the map */
	assert_int_equal(bpf_map__max_entries(((struct flood_bpf *)p.skel)->maps.events), 4096);
	rb = ring_buffer__new(p.events_fd, on_flood_record, ctx, NULL);
	assert_non_null(rb);
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned c = 0; c < calls; c++)
			syscall(SYS_getppid);
		assert_true(ring_buffer__consume(rb) >= 0);
	}
	assert_true(ring_buffer__consume(rb) >= 0);
	lmp_probe_read_drops(&p);
	*received = p.events;
	*lost = p.lost;
	*decode_errors = p.decode_errors;
	{
		/* the probe code loads the object, not the skeleton: skel->bss is not the mapped
		 * map, so read the .bss map itself */
		struct flood_bpf *s = p.skel;
		struct flood_bpf__bss bss;
		__u32 zero = 0;

		assert_int_equal(bpf_map__value_size(s->maps.bss), sizeof(bss));
		assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(s->maps.bss), &zero, &bss), 0);
		*emitted = bss.emitted;
	}
	ring_buffer__free(rb);
	lmp_probe_stop(&p);
	free(p.chosen);
	lmp_out_free(rt.out);
	close(devnull);
}

static void test_loss_flood_exact_with_overflow(void **state)
{
	__u64 received, lost, emitted, bad;

	/* 4 x 100 records per round into a 4 KiB buffer that holds ~50 of them */
	flood_run(50, 4, 100, &received, &lost, &emitted, &bad);
	print_message("flood: %llu emitted = %llu received + %llu lost\n",
		      (unsigned long long)emitted, (unsigned long long)received,
		      (unsigned long long)lost);
	assert_int_equal(emitted, 50 * 4 * 100);
	assert_true(lost > 0);
	assert_true(received > 0);
	assert_int_equal(received + lost, emitted);
	assert_int_equal(bad, 0);
}

static void test_loss_flood_none_lost_when_it_fits(void **state)
{
	__u64 received, lost, emitted, bad;

	/* 10 records per round, drained each round: all fit */
	flood_run(200, 1, 10, &received, &lost, &emitted, &bad);
	assert_int_equal(emitted, 2000);
	assert_int_equal(lost, 0);
	assert_int_equal(received, 2000);
	assert_int_equal(bad, 0);
}

/* ---- 2. the real agent, mountsnoop ---- */

/* enough raw BPF to count mount-family calls at sys_enter: [0] ours, [1] everyone else's */
#define I(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

static const long mount_calls[] = {
	SYS_mount,    SYS_umount2, SYS_open_tree, SYS_move_mount,    SYS_fsopen,
	SYS_fsconfig, SYS_fsmount, SYS_fspick,	  SYS_mount_setattr,
};
#define N_CALLS (sizeof(mount_calls) / sizeof(mount_calls[0]))

struct detector {
	int map_fd, prog_fd, link_fd;
};

static void detector_start(struct detector *d)
{
	struct bpf_insn insns[64];
	int n = 0;

	d->map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "lmp_test_mnt", 4, 8, 2, NULL);
	assert_true(d->map_fd >= 0);
	insns[n++] = I(BPF_LDX | BPF_MEM | BPF_DW, 7, 1, 8, 0); /* r7 = ctx->args[1]: nr */
	for (size_t k = 0; k < N_CALLS; k++) /* if r7 == nr goto match (past the exit below) */
		insns[n++] = I(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, (int)(N_CALLS - 1 - k) + 2,
			       mount_calls[k]);
	insns[n++] = I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0); /* r0 = 0 */
	insns[n++] = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	/* match: */
	insns[n++] = I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_pid_tgid);
	insns[n++] = I(BPF_ALU64 | BPF_RSH | BPF_K, 0, 0, 0, 32);     /* r0 = tgid */
	insns[n++] = I(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 1);	      /* key = 1 */
	insns[n++] = I(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 1, getpid()); /* ours? */
	insns[n++] = I(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 0);	      /* key = 0 */
	insns[n++] = I(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, d->map_fd);
	insns[n++] = I(0, 0, 0, 0, 0);
	insns[n++] = I(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0);
	insns[n++] = I(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4);
	insns[n++] = I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	insns[n++] = I(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2, 0);
	insns[n++] = I(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 1);
	insns[n++] = I(BPF_STX | BPF_ATOMIC | BPF_DW, 0, 1, 0, BPF_ADD);
	insns[n++] = I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	insns[n++] = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	d->prog_fd =
		bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "lmp_test_mnt", "GPL", insns, n, NULL);
	if (d->prog_fd < 0)
		fail_msg("detector program load: %s", strerror(errno));
	d->link_fd = bpf_raw_tracepoint_open("sys_enter", d->prog_fd);
	assert_true(d->link_fd >= 0);
}

static void detector_read(struct detector *d, __u64 *ours, __u64 *foreign)
{
	__u32 k0 = 0, k1 = 1;

	assert_int_equal(bpf_map_lookup_elem(d->map_fd, &k0, ours), 0);
	assert_int_equal(bpf_map_lookup_elem(d->map_fd, &k1, foreign), 0);
}

static void detector_stop(struct detector *d)
{
	close(d->link_fd);
	close(d->prog_fd);
	close(d->map_fd);
}

/* value of the series `name{label}` in a /metrics text; -1 when absent */
static double metric(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, series, n) && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	return -1;
}

static int agent_port(struct lmp_test_agent *a)
{
	const char *p = a->errbuf ? strstr(a->errbuf, "(port ") : NULL;

	assert_non_null(p);
	return atoi(p + 6);
}

struct counts {
	double events, lost;
};

static struct counts scrape(struct lmp_test_agent *a, int port, const char *probe)
{
	char s1[128], s2[128], *m;
	struct counts c;

	lmp_test_agent_pump(a, 0);
	m = lmp_test_http_get_body(a, port, "/metrics");
	snprintf(s1, sizeof(s1), "lmp_events_total{probe=\"%s\"}", probe);
	snprintf(s2, sizeof(s2), "lmp_events_lost_total{probe=\"%s\"}", probe);
	c.events = metric(m, s1);
	c.lost = metric(m, s2);
	free(m);
	assert_true(c.events >= 0 && c.lost >= 0);
	return c;
}

/* scrape until two scrapes at least one interval apart agree: the counters have settled */
static struct counts settled(struct lmp_test_agent *a, int port, const char *probe)
{
	struct counts prev = scrape(a, port, probe), cur;

	for (int i = 0; i < 30; i++) {
		lmp_test_agent_pump(a, 1300);
		cur = scrape(a, port, probe);
		if (cur.events == prev.events && cur.lost == prev.lost)
			return cur;
		prev = cur;
	}
	fail_msg("%s counters never settled", probe);
	return cur;
}

static bool is_our_umount(json_t *ev, void *ctx)
{
	const char *probe = json_string_value(json_object_get(ev, "probe"));
	const char *target = json_string_value(json_object_get(ev, "target"));

	return probe && !strcmp(probe, "mountsnoop") &&
	       json_integer_value(json_object_get(ev, "pid")) == getpid() && target &&
	       !strcmp(target, ctx);
}

static size_t count_events(struct lmp_test_agent *a, lmp_test_match_fn match, void *ctx)
{
	size_t n = 0;

	for (size_t i = 0; i < json_array_size(a->events); i++)
		n += match(json_array_get(a->events, i), ctx);
	return n;
}

/*
 * The "M in all" of the last stderr line "<prefix>N <what> ... in the last interval, M in
 * all" (prefix "probe mountsnoop: ", what "events lost"); 0 when there is none.
 */
static long long stderr_in_all(struct lmp_test_agent *a, const char *prefix, const char *what)
{
	const char *p, *last = NULL;

	for (p = a->errbuf; p && (p = strstr(p, prefix)); p += strlen(prefix)) {
		const char *w = strstr(p, what), *eol = strchr(p, '\n');

		if (w && (!eol || w < eol))
			last = p;
	}
	if (!last)
		return 0;
	p = strstr(last, "interval, ");
	return p ? atoll(p + 10) : -1;
}

static long long api_events_lost(struct lmp_test_agent *a, int port, const char *probe)
{
	char *body = lmp_test_http_get_body(a, port, "/api/v1/probes");
	json_t *arr = json_loads(body, 0, NULL);
	long long v = -1;

	free(body);
	assert_non_null(arr);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *o = json_array_get(arr, i);

		if (!strcmp(json_string_value(json_object_get(o, "name")), probe))
			v = json_integer_value(json_object_get(o, "events_lost"));
	}
	json_decref(arr);
	return v;
}

#define BURST 20000

static void test_loss_agent_exact_mountsnoop(void **state)
{
	struct lmp_test_agent a;
	struct detector d;
	char target[64];
	int port, attempt;

	lmp_test_require_root();
	assert_int_equal(lmp_test_agent_start(
				 &a, (const char *const[]){ "--probes", "mountsnoop",
							    "--ringbuf-kb", "4", "--interval", "1",
							    "--listen", "127.0.0.1:0", NULL }),
			 0);
	port = agent_port(&a);
	detector_start(&d);
	for (attempt = 1; attempt <= 5; attempt++) {
		__u64 ours0, foreign0, ours1, foreign1;
		struct counts c0, c1;
		size_t seen0, seen1;
		double received, lost;

		/* a fresh target per attempt, so stdout lines are counted per window */
		snprintf(target, sizeof(target), "/lmp-loss-%d-%d-does-not-exist", getpid(),
			 attempt);
		detector_read(&d, &ours0, &foreign0);
		lmp_test_agent_pump(&a, 1200); /* a tick after the detector's first reading */
		c0 = settled(&a, port, "mountsnoop");
		seen0 = count_events(&a, is_our_umount, target);
		for (int i = 0; i < BURST; i++)
			assert_int_equal(umount2(target, 0), -1);
		c1 = settled(&a, port, "mountsnoop");
		detector_read(&d, &ours1, &foreign1);
		seen1 = count_events(&a, is_our_umount, target);
		received = c1.events - c0.events;
		lost = c1.lost - c0.lost;
		print_message("attempt %d: %d umount2 calls (detector: %llu ours, %llu others); "
			      "agent: %.0f received (%zu on stdout), %.0f lost\n",
			      attempt, BURST, (unsigned long long)(ours1 - ours0),
			      (unsigned long long)(foreign1 - foreign0), received, seen1 - seen0,
			      lost);
		assert_int_equal(ours1 - ours0, BURST);
		if (foreign1 != foreign0) {
			print_message("someone else made mount calls in the window: again\n");
			continue;
		}
		/* a clean window: every event of the probe in it was ours */
		assert_true(lost > 0);
		assert_true(received > 0);
		assert_int_equal((long long)received, (long long)(seen1 - seen0));
		assert_int_equal((long long)(received + lost), BURST);
		/* the loss reads the same everywhere it is reported */
		assert_int_equal((long long)c1.lost, api_events_lost(&a, port, "mountsnoop"));
		assert_int_equal((long long)c1.lost,
				 stderr_in_all(&a, "probe mountsnoop: ", "events lost"));
		break;
	}
	detector_stop(&d);
	assert_true(attempt <= 5);
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	lmp_test_agent_free(&a);
}

/* ---- 3. map-full loss of an aggregating probe ---- */

static void test_loss_map_full_reported(void **state)
{
	struct lmp_test_agent a;
	char rel[64], cg[4096], *m;
	double failed_metric;
	json_t *arr;
	char *body;
	long long failed_api = -1;
	__u64 cgid;
	int port;

	lmp_test_require_root();
	snprintf(rel, sizeof(rel), "lmp-test/loss-%d", getpid());
	assert_int_equal(lmp_test_cgroup_create(rel, cg, sizeof(cg), &cgid), 0);
	assert_int_equal(lmp_test_agent_start(&a,
					      (const char *const[]){ "--probes", "syscall",
								     "--syscall-max-keys", "64",
								     "--interval", "1", "--listen",
								     "127.0.0.1:0", NULL }),
			 0);
	port = agent_port(&a);
	/* 200 processes in one interval: 200+ (cgroup, pid, syscall) keys for 64 slots */
	for (int i = 0; i < 200; i++) {
		pid_t pid = lmp_test_spawn(cg, (char *const[]){ "/bin/true", NULL });

		assert_true(pid > 0);
		assert_int_equal(lmp_test_wait_child(pid), 0);
	}
	lmp_test_agent_pump(&a, 2500);
	m = lmp_test_http_get_body(&a, port, "/metrics");
	failed_metric = metric(m, "lmp_map_updates_failed_total{probe=\"syscall\"}");
	free(m);
	body = lmp_test_http_get_body(&a, port, "/api/v1/probes");
	arr = json_loads(body, 0, NULL);
	free(body);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *o = json_array_get(arr, i);

		if (!strcmp(json_string_value(json_object_get(o, "name")), "syscall"))
			failed_api = json_integer_value(json_object_get(o, "map_updates_failed"));
	}
	json_decref(arr);
	print_message("syscall map full: %.0f failed updates (/metrics), %lld (/api)\n",
		      failed_metric, failed_api);
	assert_true(failed_metric > 0);
	/* the API reads the live counter, /metrics and the log the last interval's */
	assert_true(failed_api >= failed_metric);
	assert_true(stderr_in_all(&a, "probe syscall: ", "map updates failed (map full") >=
		    (long long)failed_metric);
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	lmp_test_agent_free(&a);
	lmp_test_cgroup_remove(cg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loss_flood_exact_with_overflow),
		cmocka_unit_test(test_loss_flood_none_lost_when_it_fits),
		cmocka_unit_test(test_loss_agent_exact_mountsnoop),
		cmocka_unit_test(test_loss_map_full_reported),
	};

	lmp_test_require_root();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
