// SPDX-License-Identifier: Apache-2.0
/*
 * The loader's decisions without a kernel: hook choice against a faked feature table, and
 * record decoding (fields, argv, bounds) into the output format.
 */
/* wrap: lmp_ident_lookup */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "lmp/process.h"
#include "k8s/identity.h"
#include "expose/out.h"
#include "probe/probe.h"

/* ---- hook choice ---- */

struct fake {
	bool ok[_LMP_HOOK_KIND_MAX];
	int calls;
};

static bool fake_check(void *ctx, const struct lmp_hook *h, const char **why)
{
	struct fake *f = ctx;

	f->calls++;
	*why = f->ok[h->kind] ? "" : "not on this fake kernel";
	return f->ok[h->kind];
}

static const struct lmp_hook hooks[] = {
	{ "connect", LMP_HOOK_FENTRY, "fentry_c", "tcp_v4_connect" },
	{ "connect", LMP_HOOK_KPROBE, "kprobe_c", "tcp_v4_connect" },
	{ "connect", LMP_HOOK_TRACEPOINT, "tp_c", "sock/inet_sock_set_state" },
	{ "state", LMP_HOOK_TP_BTF, "tp_btf_s", "inet_sock_set_state" },
	{ "state", LMP_HOOK_RAW_TP, "raw_tp_s", "inet_sock_set_state" },
};

static void test_choose_first_supported_per_group(void **state)
{
	struct fake f = { .ok = { [LMP_HOOK_KPROBE] = true,
				  [LMP_HOOK_TRACEPOINT] = true,
				  [LMP_HOOK_TP_BTF] = true,
				  [LMP_HOOK_RAW_TP] = true } };
	bool chosen[5];
	char why[256];

	assert_int_equal(lmp_hooks_choose(hooks, 5, fake_check, &f, NULL, chosen, why, sizeof(why)),
			 0);
	assert_false(chosen[0]);
	assert_true(chosen[1]); /* kprobe beats the tracepoint listed after it */
	assert_false(chosen[2]);
	assert_true(chosen[3]);
	assert_false(chosen[4]);
	assert_int_equal(f.calls, 3); /* alternatives after a winner are not even checked */
	assert_string_equal(why, "");
}

static void test_choose_this_kernel(void **state)
{
	/* the development VM: no fentry, no kprobes */
	struct fake f = {
		.ok = { [LMP_HOOK_TRACEPOINT] = true, [LMP_HOOK_TP_BTF] = true, [LMP_HOOK_RAW_TP] = true }
	};
	bool chosen[5];
	char why[256];

	assert_int_equal(lmp_hooks_choose(hooks, 5, fake_check, &f, NULL, chosen, why, sizeof(why)),
			 0);
	assert_true(chosen[2]);
	assert_true(chosen[3]);
	assert_false(chosen[0] || chosen[1] || chosen[4]);
}

static void test_choose_group_without_alternative(void **state)
{
	struct fake f = { .ok = { [LMP_HOOK_TP_BTF] = true } };
	bool chosen[5];
	char why[512];

	assert_int_equal(lmp_hooks_choose(hooks, 5, fake_check, &f, NULL, chosen, why, sizeof(why)),
			 -ENOTSUP);
	assert_string_equal(why,
			    "connect: fentry: not on this fake kernel; connect: kprobe: not "
			    "on this fake kernel; connect: tracepoint: not on this fake kernel");
}

static void test_choose_reason_truncates_safely(void **state)
{
	struct fake f = { 0 };
	bool chosen[5];
	char why[16];

	assert_int_equal(lmp_hooks_choose(hooks, 5, fake_check, &f, NULL, chosen, why, sizeof(why)),
			 -ENOTSUP);
	assert_int_equal(strlen(why), sizeof(why) - 1);
}

/* a check that defers the tracepoint, as the agent does while a probe sharing its tail runs */
static bool defer_tracepoint(void *ctx, const struct lmp_hook *h, const char **why)
{
	if (!fake_check(ctx, h, why))
		return false;
	if (h->kind != LMP_HOOK_TRACEPOINT)
		return true;
	*why = lmp_hook_deferred;
	return false;
}

static void test_choose_deferred_last(void **state)
{
	static const struct lmp_hook sys[] = {
		{ "enter", LMP_HOOK_TRACEPOINT, "tp_sys_enter_x", "syscalls/sys_enter_x", 0, "a" },
		{ "enter", LMP_HOOK_TP_BTF, "tail_btf_enter", "sys_enter" },
		{ "enter", LMP_HOOK_RAW_TP, "tail_raw_enter", "sys_enter" },
	};
	struct fake f = { .ok = { [LMP_HOOK_TRACEPOINT] = true, [LMP_HOOK_RAW_TP] = true } };
	bool chosen[3];
	char why[256];

	/* a later alternative works: the deferred row gives way */
	assert_int_equal(
		lmp_hooks_choose(sys, 3, defer_tracepoint, &f, NULL, chosen, why, sizeof(why)), 0);
	assert_false(chosen[0] || chosen[1]);
	assert_true(chosen[2]);
	/* none does: the deferred row is the group's last resort */
	f.ok[LMP_HOOK_RAW_TP] = false;
	assert_int_equal(
		lmp_hooks_choose(sys, 3, defer_tracepoint, &f, NULL, chosen, why, sizeof(why)), 0);
	assert_true(chosen[0]);
	assert_false(chosen[1] || chosen[2]);
	assert_string_equal(why, "");
}

static void test_choose_skips_failed_alternatives(void **state)
{
	/* fentry and tp_btf pass the checks but were refused at load: the next ones win */
	struct fake f = { .ok = { [LMP_HOOK_FENTRY] = true,
				  [LMP_HOOK_KPROBE] = true,
				  [LMP_HOOK_TP_BTF] = true,
				  [LMP_HOOK_RAW_TP] = true } };
	bool failed[5] = { [0] = true, [3] = true }, chosen[5];
	char why[256];

	assert_int_equal(
		lmp_hooks_choose(hooks, 5, fake_check, &f, failed, chosen, why, sizeof(why)), 0);
	assert_false(chosen[0] || chosen[2] || chosen[3]);
	assert_true(chosen[1]);
	assert_true(chosen[4]);
	/* the last one of a group refused too: the failures say why (the loader keeps them) */
	failed[4] = true;
	assert_int_equal(lmp_hooks_choose(hooks, 5, fake_check, &f, failed, chosen, why,
					  sizeof(why)),
			 -ENOTSUP);
	assert_string_equal(why, "");
	f.ok[LMP_HOOK_RAW_TP] = false;
	failed[4] = false;
	assert_int_equal(lmp_hooks_choose(hooks, 5, fake_check, &f, failed, chosen, why,
					  sizeof(why)),
			 -ENOTSUP);
	assert_string_equal(why, "state: raw_tp: not on this fake kernel");
}

/* what 5.10 answered for a tp_btf program reading ctx[1] through a computed offset */
static const char log_510[] =
	"arg#0 type is not a struct\n"
	"Unrecognized arg#0 type PTR\n"
	"; if (LINUX_KERNEL_VERSION >= KERNEL_VERSION(5, 11, 0))\n"
	"0: (18) r2 = 0xffffc900000d2000\n"
	"2: (61) r4 = *(u32 *)(r2 +0)\n"
	" R1=ctx(id=0,off=0,imm=0) R2_w=map_value(id=0,off=0,ks=4,vs=4,imm=0) R10=fp0\n"
	"6: (2d) if r5 > r4 goto pc+1\n"
	"last_idx 6 first_idx 0\n"
	"regs=20 stack=0 before 5: (b7) r5 = 330496\n"
	"9: (0f) r1 += r3\n"
	"10: R1_w=ctx(id=0,off=8,imm=0) R3_w=invP8 R10=fp0\n"
	"; return (struct request *)ctx[1];\n"
	"10: (79) r6 = *(u64 *)(r1 +0)\n"
	"dereference of modified ctx ptr R1 off=8 disallowed\n"
	"processed 11 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 "
	"mark_read 0\n";

static void test_verifier_error_line(void **state)
{
	char out[128], small[12];

	lmp_verifier_error(log_510, out, sizeof(out));
	assert_string_equal(out, "dereference of modified ctx ptr R1 off=8 disallowed");
	lmp_verifier_error("", out, sizeof(out));
	assert_string_equal(out, "");
	lmp_verifier_error("0: (85) call bpf_get_current_ancestor_cgroup_id#123\n"
			   "unknown func bpf_get_current_ancestor_cgroup_id#123\n"
			   "processed 3 insns (limit 1000000)\n"
			   "verification time 12 usec\nstack depth 0\n",
			   out, sizeof(out));
	assert_string_equal(out, "unknown func bpf_get_current_ancestor_cgroup_id#123");
	lmp_verifier_error("invalid indirect read from stack off -48+0 size 8", small,
			   sizeof(small));
	assert_string_equal(small, "invalid ind"); /* truncated, terminated */
}

/* ---- decoding ---- */

void __wrap_lmp_ident_lookup(struct lmp_ident *ic, __u64 cgroup_id, struct lmp_identity *out)
{
	memset(out, 0, sizeof(*out));
	out->cgroup_id = cgroup_id;
	out->cgroup = "/kubepods.slice/pod";
	if (cgroup_id == 42) {
		out->namespace = "shop";
		out->pod = "cart-7d9";
		out->container = "cart";
		out->pod_uid = "8712f785-1a3e-41ec-a00b-e2dcc77431cb";
		out->container_id = "73051af271105c07";
	}
}

extern const struct lmp_probe_desc lmp_probe_process;

static json_t *decode(const void *rec, size_t len, int *rc)
{
	struct lmp_probe p;
	struct lmp_registry_entry e = { "process", &lmp_probe_process };
	struct lmp_rt rt = { 0 };
	int fds[2];
	char buf[8192];
	ssize_t n;

	lmp_probe_init(&p, &e);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(lmp_out_new(LMP_OUTPUT_JSON, fds[1], "node-a", &rt.out), 0);
	*rc = lmp_probe_handle(&p, rec, len, &rt);
	assert_int_equal(lmp_out_flush(rt.out), 0);
	lmp_out_free(rt.out);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	buf[n > 0 ? n : 0] = 0;
	return n > 0 ? json_loads(buf, 0, NULL) : NULL;
}

static void test_decode_exec(void **state)
{
	struct lmp_process_exec e = { .hdr = { .ts_ns = 1,
					       .cgroup_id = 42,
					       .pid = 100,
					       .tid = 100,
					       .type = LMP_PROCESS_EXEC,
					       .comm = "curl" },
				      .ppid = 7 };
	const char args[] = "curl\0-s\0http://x\0";
	json_t *j, *k8s;
	int rc;

	strcpy(e.filename, "/usr/bin/curl");
	memcpy(e.args, args, sizeof(args) - 1);
	e.args_size = sizeof(args) - 1;
	j = decode(&e, sizeof(e), &rc);
	assert_int_equal(rc, 0);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "node")), "node-a");
	assert_string_equal(json_string_value(json_object_get(j, "probe")), "process");
	assert_string_equal(json_string_value(json_object_get(j, "event")), "exec");
	assert_int_equal(json_integer_value(json_object_get(j, "pid")), 100);
	assert_int_equal(json_integer_value(json_object_get(j, "ppid")), 7);
	assert_string_equal(json_string_value(json_object_get(j, "comm")), "curl");
	assert_string_equal(json_string_value(json_object_get(j, "filename")), "/usr/bin/curl");
	assert_int_equal(json_array_size(json_object_get(j, "argv")), 3);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "argv"), 2)),
			    "http://x");
	k8s = json_object_get(j, "k8s");
	assert_string_equal(json_string_value(json_object_get(k8s, "namespace")), "shop");
	assert_string_equal(json_string_value(json_object_get(k8s, "pod")), "cart-7d9");
	assert_string_equal(json_string_value(json_object_get(k8s, "container")), "cart");
	json_decref(j);
}

static void test_decode_exec_without_pod_has_no_k8s(void **state)
{
	struct lmp_process_exec e = { .hdr = { .cgroup_id = 5, .type = LMP_PROCESS_EXEC } };
	json_t *j;
	int rc;

	j = decode(&e, sizeof(e), &rc);
	assert_non_null(j);
	assert_null(json_object_get(j, "k8s"));
	assert_string_equal(json_string_value(json_object_get(j, "cgroup")), "/kubepods.slice/pod");
	assert_int_equal(json_array_size(json_object_get(j, "argv")), 0);
	json_decref(j);
}

static void test_decode_exit_signal(void **state)
{
	struct lmp_process_exit e = { .hdr = { .type = LMP_PROCESS_EXIT, .comm = "x" },
				      .signal = 9,
				      .lifetime_ns = 1500000000 };
	json_t *j;
	int rc;

	j = decode(&e, sizeof(e), &rc);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "signal")), "SIGKILL");
	assert_true(json_number_value(json_object_get(j, "lifetime_s")) == 1.5);
	json_decref(j);
}

/* ends o's one record, which writes to the pipe fds, and parses what came out of it */
static json_t *end_and_parse(struct lmp_out *o, int fds[2], size_t flags)
{
	char buf[512];
	ssize_t n;

	lmp_out_end(o);
	assert_int_equal(lmp_out_flush(o), 0);
	lmp_out_free(o);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	buf[n > 0 ? n : 0] = 0;
	return json_loads(buf, flags, NULL);
}

/*
 * Seconds and other fractional fields are JSON reals even when whole ("2.0", not "2"): a log
 * pipeline that types a field by its first value must not take them for integers.
 */
static void test_whole_values_keep_a_fraction(void **state)
{
	struct lmp_process_exit e = { .hdr = { .type = LMP_PROCESS_EXIT, .comm = "x" },
				      .lifetime_ns = 2000000000 };
	const double vals[] = { 49, 0, -3, 1e21, 0.25 };
	struct lmp_out *o;
	char key[8];
	json_t *j;
	int rc, fds[2];

	j = decode(&e, sizeof(e), &rc);
	assert_non_null(j);
	assert_true(json_is_real(json_object_get(j, "lifetime_s")));
	assert_true(json_real_value(json_object_get(j, "lifetime_s")) == 2.0);
	json_decref(j);
	e.lifetime_ns = 0;
	j = decode(&e, sizeof(e), &rc);
	assert_true(json_is_real(json_object_get(j, "lifetime_s")));
	assert_true(json_real_value(json_object_get(j, "lifetime_s")) == 0.0);
	json_decref(j);

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(lmp_out_new(LMP_OUTPUT_JSON, fds[1], "n", &o), 0);
	lmp_out_begin(o, "t", "summary", &e.hdr, NULL);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		snprintf(key, sizeof(key), "v%zu", i);
		lmp_out_double(o, key, vals[i]);
	}
	j = end_and_parse(o, fds, 0);
	assert_non_null(j);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		snprintf(key, sizeof(key), "v%zu", i);
		assert_true(json_is_real(json_object_get(j, key)));
		assert_true(json_real_value(json_object_get(j, key)) == vals[i]);
	}
	json_decref(j);
}

/* every integer printed fits an int64 (jansson, Go, Java reject more): beyond it, null */
static void test_integers_fit_int64(void **state)
{
	struct lmp_event_hdr h = { .comm = "x" };
	struct lmp_out *o;
	json_t *j;
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(lmp_out_new(LMP_OUTPUT_JSON, fds[1], "n", &o), 0);
	lmp_out_begin(o, "t", "summary", &h, NULL);
	lmp_out_u64(o, "max", INT64_MAX);
	lmp_out_u64(o, "above", (__u64)INT64_MAX + 1);
	lmp_out_u64(o, "all_ones", ~0ULL);
	lmp_out_s64(o, "min", INT64_MIN);
	j = end_and_parse(o, fds, JSON_REJECT_DUPLICATES);
	assert_non_null(j);
	assert_true(json_integer_value(json_object_get(j, "max")) == INT64_MAX);
	assert_true(json_is_null(json_object_get(j, "above")));
	assert_true(json_is_null(json_object_get(j, "all_ones")));
	assert_true(json_integer_value(json_object_get(j, "min")) == INT64_MIN);
	json_decref(j);
}

static void test_decode_rejects_short_and_unknown(void **state)
{
	struct lmp_process_exit e = { .hdr = { .type = LMP_PROCESS_EXIT } };
	int rc;

	assert_null(decode(&e, sizeof(e.hdr) + 4, &rc)); /* cut short */
	assert_int_equal(rc, -EINVAL);
	e.hdr.type = 9; /* no such record type */
	assert_null(decode(&e, sizeof(e), &rc));
	assert_int_equal(rc, -EINVAL);
	assert_null(decode(&e, 3, &rc));
	assert_int_equal(rc, -EINVAL);
}

static void test_decode_comm_not_terminated_and_binary(void **state)
{
	struct lmp_process_exec e = { .hdr = { .type = LMP_PROCESS_EXEC } };
	json_t *j;
	int rc;

	memset(e.hdr.comm, 'a', sizeof(e.hdr.comm)); /* all 16 bytes used, no NUL */
	memcpy(e.filename, "/tmp/\x01\"\\\xff\xc3\xa9", 11);
	j = decode(&e, sizeof(e), &rc);
	assert_non_null(j); /* still valid JSON */
	assert_string_equal(json_string_value(json_object_get(j, "comm")), "aaaaaaaaaaaaaaaa");
	assert_string_equal(json_string_value(json_object_get(j, "filename")),
			    "/tmp/\x01\"\\\xef\xbf\xbd\xc3\xa9");
	json_decref(j);
}

static void test_names(void **state)
{
	assert_string_equal(lmp_signal_name(9), "SIGKILL");
	assert_string_equal(lmp_signal_name(34), "SIGRT0");
	assert_null(lmp_signal_name(0));
	assert_null(lmp_signal_name(99));
	assert_string_equal(lmp_errno_name(111), "ECONNREFUSED");
	assert_null(lmp_errno_name(0));
}

/* ---- the registry: each descriptor states its own contract ---- */

extern const struct lmp_probe_desc lmp_probe_syscall, lmp_probe_opensnoop, lmp_probe_memleak;

static void test_registry_contract(void **state)
{
	assert_int_equal(lmp_probe_option_groups_len, lmp_registry_len);
	for (size_t i = 0; i < lmp_registry_len; i++) {
		const struct lmp_probe_desc *d = lmp_registry[i].desc;
		const struct lmp_option_group *g = &d->options;
		size_t n = strlen(d->name);

		assert_non_null(d);
		assert_string_equal(d->name, lmp_registry[i].name);
		assert_string_equal(lmp_probe_option_groups[i].probe, d->name);
		assert_ptr_equal(lmp_probe_option_groups[i].group, g);
		assert_true(g->size <= LMP_PROBE_OPTIONS_MAX);
		/* options are named for their probe: --<probe>-..., LMP_<PROBE>_..., run only */
		for (size_t k = 0; k < g->n; k++) {
			const struct lmp_option *o = &g->opts[k];
			char env[64] = "LMP_";

			if (strncmp(o->name, d->name, n) || o->name[n] != '-')
				fail_msg("%s: option --%s is not named --%s-...", d->name, o->name,
					 d->name);
			for (size_t c = 0; o->name[c] && c < sizeof(env) - 5; c++)
				env[4 + c] = o->name[c] == '-' ? '_' : toupper(o->name[c]);
			assert_string_equal(o->env, env);
			assert_int_equal(o->cmds, LMP_CMDS_RUN);
			assert_true(o->off < g->size);
			assert_non_null(strstr(o->help, " probe: "));
		}
		/* a need names the capabilities it keeps */
		if (d->needs & LMP_NEED_USER_STACKS)
			assert_int_equal(d->caps & LMP_CAPS_USER_STACKS, LMP_CAPS_USER_STACKS);
		if (d->needs & LMP_NEED_UPROBES)
			assert_int_equal(d->caps & LMP_CAPS_UPROBES, LMP_CAPS_UPROBES);
	}
	assert_int_equal(lmp_probe_memleak.caps,
			 LMP_CAP(CAP_SYS_ADMIN) | LMP_CAP(CAP_PERFMON) | LMP_CAP(CAP_BPF) |
				 LMP_CAP(CAP_SYS_PTRACE) | LMP_CAP(CAP_CHECKPOINT_RESTORE));
}

/* the hook-row macros expand to the rows they replaced */
static void test_hook_macros(void **state)
{
	const struct lmp_hook *h = lmp_probe_syscall.hooks;
	const struct lmp_hook *o = lmp_probe_opensnoop.hooks;

	assert_int_equal(lmp_probe_syscall.n_hooks, 6);
	assert_string_equal(h[0].group, "enter");
	assert_int_equal(h[0].kind, LMP_HOOK_TP_BTF);
	assert_string_equal(h[0].prog, "tp_btf_sys_enter");
	assert_string_equal(h[0].target, "sys_enter");
	assert_int_equal(h[1].kind, LMP_HOOK_RAW_TP);
	assert_string_equal(h[1].prog, "raw_tp_sys_enter");
	assert_int_equal(h[5].kind, LMP_HOOK_TRACEPOINT);
	assert_string_equal(h[5].group, "exit");
	assert_string_equal(h[5].prog, "tp_sys_exit");
	assert_string_equal(h[5].target, "raw_syscalls/sys_exit");

	assert_int_equal(lmp_probe_opensnoop.n_hooks, 6);
	assert_int_equal(o[0].kind, LMP_HOOK_TRACEPOINT);
	assert_string_equal(o[0].prog, "tp_sys_enter_openat");
	assert_string_equal(o[0].target, "syscalls/sys_enter_openat");
	assert_string_equal(o[2].prog, "tail_raw_enter");
	assert_string_equal(o[3].group, "exit");
	assert_string_equal(o[3].target, "syscalls/sys_exit_openat");
	assert_string_equal(o[4].prog, "tail_btf_exit");
}

/* what the agent keeps after attach: the running probes' union, nothing for the others */
static void test_runtime_caps_union(void **state)
{
	struct lmp_probe ps[3];
	unsigned needs;
	__u64 caps;

	for (size_t i = 0; i < 3; i++)
		memset(&ps[i], 0, sizeof(ps[i]));
	ps[0].desc = &lmp_probe_syscall;
	ps[0].state = LMP_PROBE_RUNNING;
	ps[1].desc = &lmp_probe_memleak;
	ps[1].state = LMP_PROBE_FAILED;
	ps[2].desc = lmp_registry[0].desc; /* process */
	ps[2].state = LMP_PROBE_RUNNING;
	lmp_probes_wants(ps, 3, &caps, &needs);
	assert_int_equal(caps, 0);
	assert_int_equal(needs, 0);
	ps[1].state = LMP_PROBE_RUNNING;
	lmp_probes_wants(ps, 3, &caps, &needs);
	assert_int_equal(caps, lmp_probe_memleak.caps);
	assert_int_equal(needs, lmp_probe_memleak.needs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_choose_first_supported_per_group),
		cmocka_unit_test(test_choose_this_kernel),
		cmocka_unit_test(test_choose_group_without_alternative),
		cmocka_unit_test(test_choose_reason_truncates_safely),
		cmocka_unit_test(test_choose_deferred_last),
		cmocka_unit_test(test_choose_skips_failed_alternatives),
		cmocka_unit_test(test_verifier_error_line),
		cmocka_unit_test(test_decode_exec),
		cmocka_unit_test(test_decode_exec_without_pod_has_no_k8s),
		cmocka_unit_test(test_decode_exit_signal),
		cmocka_unit_test(test_whole_values_keep_a_fraction),
		cmocka_unit_test(test_integers_fit_int64),
		cmocka_unit_test(test_decode_rejects_short_and_unknown),
		cmocka_unit_test(test_decode_comm_not_terminated_and_binary),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_registry_contract),
		cmocka_unit_test(test_hook_macros),
		cmocka_unit_test(test_runtime_caps_union),
	};

	return cmocka_run_group_tests_name("probe", tests, NULL, NULL);
}
