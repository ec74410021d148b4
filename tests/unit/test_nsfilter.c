// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/identity.h"
#include "expose/metrics.h"
#include "k8s/nsfilter.h"

static void test_lists(void **state)
{
	assert_true(lmp_ns_wanted("", "", "shop"));
	assert_true(lmp_ns_wanted(NULL, NULL, "shop"));
	assert_true(lmp_ns_wanted("shop,payments", "", "payments"));
	assert_false(lmp_ns_wanted("shop,payments", "", "pay")); /* whole names only */
	assert_false(lmp_ns_wanted("shop", "", "shopping"));
	assert_false(lmp_ns_wanted("", "kube-system", "kube-system"));
	assert_true(lmp_ns_wanted("", "kube-system", "kube-public"));
	assert_false(lmp_ns_wanted("shop", "shop", "shop")); /* exclude wins */
	assert_true(lmp_ns_wanted("shop", "x", NULL));	     /* not a pod: always kept */
}

static void test_identity(void **state)
{
	struct lmp_identity host = { .cgroup = "/system.slice/sshd.service" };
	struct lmp_identity pod = { .namespace = "kube-system", .pod = "etcd" };

	assert_true(lmp_identity_wanted("shop", "", &host));
	assert_false(lmp_identity_wanted("shop", "", &pod));
	assert_true(lmp_identity_wanted("", "", NULL));
}

static void test_metrics_series_filtered(void **state)
{
	static const struct lmp_metric_desc execs = {
		"lmp_execs_total", "execs", LMP_METRIC_COUNTER, NULL, 1, true
	};
	struct lmp_identity shop = { .namespace = "shop", .pod = "cart", .container = "c" };
	struct lmp_identity sys = { .namespace = "kube-system", .pod = "etcd", .container = "e" };
	struct lmp_metrics *m;
	char *text;
	size_t len;

	assert_int_equal(lmp_metrics_new(100, &m), 0);
	lmp_metrics_set_ns_filter(m, "", "kube-system");
	lmp_metrics_add(m, &execs, &shop, NULL, 2);
	lmp_metrics_add(m, &execs, &sys, NULL, 5);
	assert_int_equal(lmp_metrics_render(m, &text, &len), 0);
	assert_non_null(strstr(text, "namespace=\"shop\""));
	assert_null(strstr(text, "kube-system"));
	assert_int_equal(lmp_metrics_dropped(m), 0); /* filtering is not loss */
	free(text);
	lmp_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_metrics_series_filtered),
	};

	return cmocka_run_group_tests_name("nsfilter", tests, NULL, NULL);
}
