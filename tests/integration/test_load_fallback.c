// SPDX-License-Identifier: Apache-2.0
/*
 * Fallback when the kernel refuses a chosen alternative at load or attach time, with the
 * real probes and the real verifier. The feature checks are made to lie the way they could
 * on a kernel they misjudge:
 *  - bitesize: the checks claim tp_btf block_rq_issue still has the pre-5.11 (queue,
 *    request) arguments, so the two-argument tp_btf program is chosen; the verifier refuses
 *    it, the loader logs why and falls back to raw_tp, and real O_DIRECT I/O on a loop
 *    device is then counted for this test's cgroup.
 *  - capable: only fexit and kretprobe are claimed; here fexit loads are refused and
 *    kprobes do not exist, so the probe fails, naming each alternative's own error.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "lmp/bitesize.h"
#include "blkio_workload.h"
#include "core/config.h"
#include "probe/feature.h"
#include "harness.h"
#include "probe/probe.h"

extern const struct lmp_probe_desc lmp_probe_bitesize;
extern const struct lmp_probe_desc lmp_probe_capable;

/* the kernel's answer, except that block_rq_issue is said to take (queue, request) */
static bool old_block_layout(void *ctx, const struct lmp_hook *h, const char **why)
{
	int *lies = ctx;

	if (strcmp(h->group, "issue") == 0 && h->kind == LMP_HOOK_TP_BTF) {
		(*lies)++;
		*why = "said to be the pre-5.11 layout";
		return h->args == 2;
	}
	return lmp_feature_check(NULL, h, why);
}

static void test_refused_at_load_falls_back(void **state)
{
	struct lmp_registry_entry e = { "bitesize", &lmp_probe_bitesize };
	struct lmp_config cfg = { .ringbuf_kb = 64 };
	struct lmp_test_bio_op ops[16];
	struct lmp_test_loop loop;
	struct lmp_blkio_key key = { 0 };
	struct lmp_hist sum = { 0 };
	struct lmp_probe p;
	char cg[4096], rel[128];
	int lies = 0, fd;
	__u64 cgid;
	size_t n;
	pid_t pid;

	lmp_test_require_root();
	lmp_feature_init(NULL);
	snprintf(rel, sizeof(rel), "lmp-test/loadfb-%d", getpid());
	assert_int_equal(lmp_test_cgroup_create(rel, cg, sizeof(cg), &cgid), 0);
	assert_int_equal(lmp_test_loop_create(&loop, "loadfb", 8), 0);

	lmp_probe_init(&p, &e);
	assert_int_equal(lmp_probe_resolve(&p, old_block_layout, &lies), 0);
	assert_true(lies > 0);
	assert_string_equal(p.attach, "start=tp_btf,issue=tp_btf");
	if (lmp_probe_start(&p, &cfg) < 0)
		fail_msg("bitesize did not fall back: %s", p.reason);
	assert_int_equal(p.state, LMP_PROBE_RUNNING);
	assert_string_equal(p.attach, "start=tp_btf,issue=raw_tp");
	/* what failed and the verifier's own words, one line, not the log */
	assert_non_null(strstr(p.failures, "issue=tp_btf: "));
	assert_null(strchr(p.failures, '\n'));
	assert_true(strlen(p.failures) < 200);

	n = lmp_test_bio_plan(ops, 6, 8192, 6, 4096, 8ULL << 20, 7);
	pid = lmp_test_bio_spawn(cg, loop.dev, "loadfb", ops, n, LMP_TEST_BIO_DIRECT);
	assert_int_equal(lmp_test_wait_child(pid), 0);

	/* every one of the child's requests reached the raw_tp program */
	fd = bpf_object__find_map_fd_by_name(p.obj, "sizes");
	assert_true(fd >= 0);
	key.cgroup_id = cgid;
	key.dev = loop.major << LMP_BLKIO_MINORBITS | loop.minor;
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &sum), 0);
	assert_int_equal(sum.count, n);
	lmp_probe_stop(&p);
	free(p.chosen);
	free(p.failed);
	lmp_test_loop_destroy(&loop);
	lmp_test_cgroup_remove(cg);
}

/* only the function hooks are offered: the ones this host refuses */
static bool functions_only(void *ctx, const struct lmp_hook *h, const char **why)
{
	if (h->kind == LMP_HOOK_FEXIT || h->kind == LMP_HOOK_KRETPROBE)
		return true;
	*why = "ruled out by the test";
	return false;
}

static void test_every_alternative_refused(void **state)
{
	struct lmp_registry_entry e = { "capable", &lmp_probe_capable };
	struct lmp_config cfg = { .ringbuf_kb = 64 };
	struct lmp_probe p;
	int r;

	lmp_test_require_root();
	lmp_feature_init(NULL);
	lmp_probe_init(&p, &e);
	assert_int_equal(lmp_probe_resolve(&p, functions_only, NULL), 0);
	assert_string_equal(p.attach, "check=fexit");
	r = lmp_probe_start(&p, &cfg);
	assert_true(r < 0);
	assert_int_equal(p.state, LMP_PROBE_FAILED);
	assert_null(p.skel);
	/* both refusals are named, in order, each by its own first error line */
	assert_non_null(strstr(p.reason, "every alternative failed: check=fexit: "));
	assert_non_null(strstr(p.reason, "; check=kretprobe: attach: "));
	assert_null(strchr(p.reason, '\n'));
	free(p.chosen);
	free(p.failed);
}

/* the arguments the checks compare with, read from this kernel's BTF (6.x) */
static void test_tracepoint_arguments(void **state)
{
	lmp_feature_init(NULL);
	assert_int_equal(lmp_feature_tp_nargs("block_rq_issue"), 1);	 /* (rq) since 5.11 */
	assert_int_equal(lmp_feature_tp_nargs("sched_process_exec"), 3); /* p, pid, bprm */
	assert_int_equal(lmp_feature_tp_nargs("no_such_tracepoint"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tracepoint_arguments),
		cmocka_unit_test(test_refused_at_load_falls_back),
		cmocka_unit_test(test_every_alternative_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
