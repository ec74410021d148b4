// SPDX-License-Identifier: Apache-2.0
/* agent/probes/lib/hist_json.c: the one JSON shape of a histogram in probe output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/mman.h>
#include <cmocka.h>
#include <jansson.h>

#include "lmp/event.h"
#include "expose/out.h"
#include "probes/lib/hist_json.h"

static void test_out_hist(void **state)
{
	struct lmp_event_hdr h = { .cgroup_id = 1 };
	struct lmp_hist hist = { 0 };
	struct lmp_out *o;
	char buf[4096];
	json_t *j, *obj;
	ssize_t n;
	int fd = memfd_create("out", 0);

	assert_true(fd >= 0);
	hist.slots[0] = 2;   /* 0 and 1 */
	hist.slots[12] = 64; /* 4096..8191 */
	hist.slots[14] = 32;
	hist.slots[39] = 1;
	assert_int_equal(lmp_out_new(LMP_OUTPUT_JSON, fd, "n", &o), 0);
	lmp_out_begin(o, "bitesize", "summary", &h, NULL);
	lmp_hist_json(o, "size_hist_bytes", &hist);
	lmp_out_end(o);
	assert_int_equal(lmp_out_flush(o), 0);
	lmp_out_free(o);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = 0;
	close(fd);
	j = json_loads(buf, 0, NULL);
	assert_non_null(j);
	obj = json_object_get(j, "size_hist_bytes");
	assert_int_equal(json_object_size(obj), 4);
	assert_int_equal(json_integer_value(json_object_get(obj, "0-1")), 2);
	assert_int_equal(json_integer_value(json_object_get(obj, "4096-8191")), 64);
	assert_int_equal(json_integer_value(json_object_get(obj, "16384-32767")), 32);
	assert_int_equal(json_integer_value(json_object_get(obj, "549755813888-1099511627775")), 1);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_hist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
