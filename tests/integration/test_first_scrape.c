// SPDX-License-Identifier: Apache-2.0
/*
 * /metrics before the first interval: with --interval 60, a scrape right after the agent
 * logged "ready:" must already hold every series docs/metrics.md lists as always present,
 * one per running probe for the per-probe ones, with zeros where nothing was counted yet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "evchild.h"
#include "harness.h"

static struct lmp_test_agent agent;

static int teardown(void **state)
{
	lmp_test_agent_free(&agent);
	return 0;
}

/* the sample lines of one scrape, NULL on failure */
static char *scrape(int port)
{
	char cmd[128], *buf = NULL;
	size_t cap = 0;
	FILE *f, *mem = open_memstream(&buf, &cap);
	char line[4096];

	snprintf(cmd, sizeof(cmd), "curl -sf http://127.0.0.1:%d/metrics", port);
	f = popen(cmd, "r");
	if (!f || !mem)
		return NULL;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#')
			fputs(line, mem);
	fclose(mem);
	if (pclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* the value of the sample that starts with prefix ("name{labels}" or "name "), or -1 */
static double sample(const char *metrics, const char *prefix)
{
	for (const char *l = metrics; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *end = l + strcspn(l, "\n"), *v = end;

		if (strncmp(l, prefix, strlen(prefix)))
			continue;
		while (v > l && v[-1] != ' ')
			v--;
		return strtod(v, NULL);
	}
	return -1;
}

static void test_always_present_before_first_interval(void **state)
{
	static const char *const per_probe[] = {
		"lmp_events_total",
		"lmp_events_lost_total",
		"lmp_map_updates_failed_total",
		"lmp_events_decode_errors_total",
	};
	static const char *const node[] = {
		"lmp_events_held_total ",
		"lmp_events_hold_overflow_total ",
		"lmp_metrics_series ",
		"lmp_metrics_series_limit ",
		"lmp_metrics_series_dropped_total ",
		"lmp_metrics_series_expired_total ",
		"lmp_metrics_invalid_updates_total ",
		"lmp_agent_cpu_seconds_total ",
		"lmp_agent_resident_memory_bytes ",
		"lmp_agent_start_time_seconds ",
	};
	static const char *const probes[] = { "process", "syscount", "biolatency", "tcp",
					      "oomkill" };
	char want[256], *m, *again;
	int port;

	lmp_test_require_root();
	assert_int_equal(lmp_test_agent_start(
				 &agent,
				 (const char *const[]){ "--probes",
							"process,syscount,biolatency,tcp,oomkill",
							"--interval", "60", "--listen",
							"127.0.0.1:0", "--output", "none", NULL }),
			 0);
	port = lmp_test_agent_http_port(&agent);
	assert_true(port > 0);
	m = scrape(port);
	assert_non_null(m);
	for (size_t i = 0; i < sizeof(probes) / sizeof(*probes); i++) {
		snprintf(want, sizeof(want), "lmp_probe_up{probe=\"%s\",", probes[i]);
		if (sample(m, want) != 1)
			fail_msg("%s: not up, or no lmp_probe_up series:\n%s", probes[i], m);
		for (size_t j = 0; j < sizeof(per_probe) / sizeof(*per_probe); j++) {
			snprintf(want, sizeof(want), "%s{probe=\"%s\"}", per_probe[j], probes[i]);
			if (sample(m, want) < 0)
				fail_msg("no %s in the first scrape:\n%s", want, m);
		}
		/* nothing is lost or mis-decoded at start: the zeros are real zeros */
		snprintf(want, sizeof(want), "lmp_events_lost_total{probe=\"%s\"}", probes[i]);
		assert_true(sample(m, want) == 0);
	}
	for (size_t j = 0; j < sizeof(node) / sizeof(*node); j++)
		if (sample(m, node[j]) < 0)
			fail_msg("no %s in the first scrape:\n%s", node[j], m);
	/* the first scrape was answered: it is counted from the second on */
	again = scrape(port);
	assert_non_null(again);
	assert_true(sample(again, "lmp_http_requests_total{handler=\"metrics\",code=\"200\"}") >=
		    1);
	free(m);
	free(again);
	assert_true(lmp_test_agent_stop(&agent, 3000) >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_always_present_before_first_interval, teardown),
	};

	return cmocka_run_group_tests_name("first_scrape", tests, NULL, NULL);
}
