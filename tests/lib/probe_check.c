// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <bpf/libbpf.h>

#include "probe_check.h"

/* cmocka's group set-up and teardown take no argument: the fixture of this test binary */
static struct lmp_test_fixture *cur;

static const char *fixture_name(const struct lmp_test_fixture *fx)
{
	return fx->name ? fx->name : fx->probe;
}

/* --probes <probe> [kubelet] <more> [--disable-hooks disable], then wait for the kubelet */
static int start(struct lmp_test_fixture *fx, struct lmp_test_agent *a, const char *const *more,
		 const char *disable)
{
	const char *args[48] = { "--probes", fx->probe };
	int n = 2;

	if (fx->kubelet)
		n = lmp_test_kube_args(&fx->kube, args, n);
	for (int i = 0; more && more[i] && n < 44; i++)
		args[n++] = more[i];
	if (disable) {
		args[n++] = "--disable-hooks";
		args[n++] = disable;
	}
	args[n] = NULL;
	if (lmp_test_agent_start(a, args) < 0)
		return -1;
	if (fx->kubelet)
		lmp_test_kube_wait_sync(a);
	return 0;
}

static int fixture_setup(void **state)
{
	struct lmp_test_fixture *fx = cur;
	char rel[128];

	lmp_test_require_root();
	if (fx->kubelet && lmp_test_kube_start(&fx->kube, fx->kubelet) < 0)
		return -1;
	snprintf(rel, sizeof(rel), "lmp-test/%s-%d", fixture_name(fx), getpid());
	if (lmp_test_cgroup_create(rel, fx->cg, sizeof(fx->cg), &fx->cgid) < 0)
		return -1;
	if (fx->tmpdir) {
		snprintf(fx->dir, sizeof(fx->dir), "/tmp/lmp-%s-XXXXXX", fixture_name(fx));
		if (!mkdtemp(fx->dir))
			return -1;
	}
	if (fx->setup && fx->setup() < 0)
		return -1;
	if (fx->args && start(fx, &fx->agent, fx->args, NULL) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct lmp_test_fixture *fx = cur;

	lmp_test_agent_free(&fx->agent);
	lmp_test_agent_free(&fx->alt);
	if (fx->kubelet)
		lmp_test_kube_stop(&fx->kube);
	if (fx->teardown)
		fx->teardown();
	if (fx->dir[0])
		lmp_test_sh("rm -rf '%s'", fx->dir);
	/* the test's sub-cgroups, deepest first, then the cgroup and lmp-test when empty */
	lmp_test_sh("find '%s' -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null", fx->cg);
	lmp_test_cgroup_remove(fx->cg);
	lmp_test_remove_probe_leftovers(fixture_name(fx)); /* <name>-<pid>-* of failed tests */
	return 0;
}

int lmp_test_fixture_run(struct lmp_test_fixture *fx, const struct CMUnitTest *tests, size_t n)
{
	cur = fx;
	return _cmocka_run_group_tests(fixture_name(fx), tests, n, fixture_setup, fixture_teardown);
}

int lmp_test_fixture_cgroup(struct lmp_test_fixture *fx, const char *sub, char *path, size_t len,
			    __u64 *id)
{
	char rel[4096];

	snprintf(rel, sizeof(rel), "lmp-test/%s-%d/%s", fixture_name(fx), getpid(), sub);
	return lmp_test_cgroup_create(rel, path, len, id);
}

struct lmp_test_agent *lmp_test_alt_start(struct lmp_test_fixture *fx, const char *const *args,
					  const char *disable, const char *attached)
{
	struct lmp_test_agent *a = &fx->alt;

	lmp_test_agent_free(a); /* left running by an earlier failure */
	assert_int_equal(start(fx, a, args ? args : fx->alt_args, disable), 0);
	if (attached && !lmp_test_agent_stderr_has(a, attached))
		fail_msg("no '%s' in:\n%s", attached, a->errbuf);
	return a;
}

void lmp_test_alt_stop(struct lmp_test_fixture *fx)
{
	assert_true(lmp_test_agent_stop(&fx->alt, 2000) >= 0);
	lmp_test_agent_free(&fx->alt);
}

void lmp_test_fallback(struct lmp_test_fixture *fx, int i)
{
	const struct lmp_test_hooks *h = &fx->fallbacks[i];

	fx->workload(lmp_test_alt_start(fx, NULL, h->disable, h->attached), h->arg);
	lmp_test_alt_stop(fx);
}

#define FALLBACK_TEST(i)                         \
	void lmp_test_fallback_##i(void **state) \
	{                                        \
		lmp_test_fallback(*state, i);    \
	}
FALLBACK_TEST(0)
FALLBACK_TEST(1)
FALLBACK_TEST(2)
FALLBACK_TEST(3)

void lmp_test_clean_stop(struct lmp_test_agent *a)
{
	assert_true(lmp_test_agent_stop(a, 2000) >= 0);
	assert_true(WIFEXITED(a->status));
	assert_int_equal(WEXITSTATUS(a->status), 0);
	assert_int_equal(a->bad_lines, 0);
}

void lmp_test_fixture_clean_stop(void **state)
{
	lmp_test_clean_stop(&((struct lmp_test_fixture *)*state)->agent);
}

json_t *lmp_test_probes_json(const char *args)
{
	char cmd[512];
	json_error_t jerr;
	json_t *arr;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s probes --json %s", lmp_test_binary(), args);
	f = popen(cmd, "r");
	assert_non_null(f);
	arr = json_loadf(f, 0, &jerr);
	assert_int_equal(pclose(f), 0);
	assert_true(json_is_array(arr));
	return arr;
}

json_t *lmp_test_probe_listing(const char *probe, const char *args)
{
	json_t *arr = lmp_test_probes_json(args), *p = NULL;
	size_t i;

	json_array_foreach(arr, i, p) {
		if (!strcmp(json_string_value(json_object_get(p, "name")), probe))
			break;
	}
	assert_true(i < json_array_size(arr));
	json_incref(p);
	json_decref(arr);
	return p;
}

void lmp_test_assert_unsupported(const char *probe, const char *disable, const char *const *why)
{
	char args[256];
	const char *reason;
	json_t *p;

	snprintf(args, sizeof(args), "--disable-hooks %s", disable);
	p = lmp_test_probe_listing(probe, args);
	assert_string_equal(json_string_value(json_object_get(p, "state")), "unsupported");
	reason = json_string_value(json_object_get(p, "reason"));
	assert_non_null(reason);
	for (int i = 0; why[i]; i++)
		if (!strstr(reason, why[i]))
			fail_msg("%s: no '%s' in the reason: %s", probe, why[i], reason);
	json_decref(p);
}

int lmp_test_autoload_only(struct bpf_object *obj, const char *prefix)
{
	struct bpf_program *prog;
	size_t len = strlen(prefix);
	int n = 0;

	bpf_object__for_each_program(prog, obj) {
		bool on = !strncmp(bpf_program__name(prog), prefix, len);

		n += on;
		bpf_program__set_autoload(prog, on);
	}
	return n;
}

void lmp_test_hooks_cgroup(const char *probe, const char *disable, const char *sub, char *path,
			   size_t len, __u64 *id)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "lmp-test/%s-%d-%s%s%s", probe, getpid(),
		 disable ? disable : "none", sub ? "/" : "", sub ? sub : "");
	for (char *c = rel; *c; c++)
		if (*c == ',')
			*c = '_';
	assert_int_equal(lmp_test_cgroup_create(rel, path, len, id), 0);
}

void lmp_test_remove_probe_leftovers(const char *probe)
{
	lmp_test_sh("find %s/lmp-test -mindepth 1 -maxdepth 1 \\( -name '%s-%d' -o -name "
		    "'%s-%d-*' -o -name '%s-*-%d' \\) -exec find {} -depth -type d "
		    "-delete \\; 2>/dev/null",
		    lmp_test_cgroup2_root(), probe, getpid(), probe, getpid(), probe, getpid());
}
