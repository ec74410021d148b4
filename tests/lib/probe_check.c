// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "probe_check.h"

json_t *lmp_test_probe_listing(const char *probe, const char *args)
{
	char cmd[512];
	json_error_t jerr;
	json_t *arr, *p = NULL;
	size_t i;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s probes --json %s", lmp_test_binary(), args);
	f = popen(cmd, "r");
	assert_non_null(f);
	arr = json_loadf(f, 0, &jerr);
	assert_int_equal(pclose(f), 0);
	assert_non_null(arr);
	json_array_foreach(arr, i, p) {
		if (!strcmp(json_string_value(json_object_get(p, "name")), probe))
			break;
	}
	assert_true(i < json_array_size(arr));
	json_incref(p);
	json_decref(arr);
	return p;
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

void lmp_test_remove_probe_leftovers(const char *probe)
{
	lmp_test_sh("find %s/lmp-test -mindepth 1 -maxdepth 1 \\( -name '%s-%d' -o -name "
		    "'%s-%d-*' -o -name '%s-*-%d' \\) -exec find {} -depth -type d "
		    "-delete \\; 2>/dev/null",
		    lmp_test_cgroup2_root(), probe, getpid(), probe, getpid(), probe, getpid());
}
