// SPDX-License-Identifier: Apache-2.0
/*
 * agent/k8s/podlist.c against every kubelet /pods capture in tests/fixtures/kubelet (counts
 * and spot lookups read off the files independently), then hostile input: every prefix of
 * a real reply, wrong types everywhere, nulls, a Status object.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixtures.h"

#include "k8s/podlist.h"

static char *slurp(const char *name, size_t *len)
{
	char p[512], *buf;
	FILE *f;
	long n;

	snprintf(p, sizeof(p), "%s/kubelet/%s", lmp_test_fixtures_dir(), name);
	f = fopen(p, "r");
	if (!f)
		fail_msg("fixture %s not found (tests/fixtures, or $LMP_FIXTURES)", p);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	if (fread(buf, 1, n, f) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(f);
	*len = n;
	return buf;
}

static const struct fixture {
	const char *file;
	size_t pods, rows; /* rows: container instances incl. earlier (restarted) ones */
	uint32_t init, previous, no_id, null_items, no_uid;
} fixtures[] = {
	{ "datadog-agent_corecheck_kubelet_pods_crashed.json", 6, 9, 1, 1, 0, 0, 0 },
	{ "datadog-agent_podlist_1.8-2.json", 7, 5, 0, 0, 0, 0, 0 },
	{ "datadog-agent_podlist_container_creating.json", 1, 1, 0, 0, 1, 0, 0 },
	{ "datadog-agent_podlist_empty.json", 0, 0, 0, 0, 0, 0, 0 },
	{ "datadog-agent_podlist_init_container_terminated.json", 5, 9, 1, 3, 0, 0, 0 },
	{ "datadog-agent_podlist_null_pod.json", 1, 1, 0, 0, 0, 1, 1 },
	{ "fluent-bit_options_use-kubelet-enabled.meta.json", 1, 1, 0, 0, 0, 0, 0 },
	{ "nri-kubernetes_k8s-1_16_pods.json", 16, 17, 0, 1, 1, 0, 0 },
	{ "nri-kubernetes_k8s-1_22_pods.json", 25, 26, 0, 1, 1, 0, 0 },
	{ "nri-kubernetes_k8s-1_27_pods.json", 23, 24, 0, 1, 1, 0, 0 },
};

static void test_podlist_fixture_counts(void **state)
{
	const struct fixture *fx = *state;
	struct lmp_podlist *pl;
	char err[256] = "";
	size_t len;
	char *json = slurp(fx->file, &len);
	int r = lmp_podlist_parse(json, len, &pl, err, sizeof(err));

	if (r)
		fail_msg("%s: %d %s", fx->file, r, err);
	assert_int_equal(pl->n_pods, fx->pods);
	assert_int_equal(pl->n_ctrs, fx->rows);
	assert_int_equal(pl->stats.n_init, fx->init);
	assert_int_equal(pl->stats.n_previous, fx->previous);
	assert_int_equal(pl->stats.ctrs_no_id, fx->no_id);
	assert_int_equal(pl->stats.null_items, fx->null_items);
	assert_int_equal(pl->stats.no_uid, fx->no_uid);
	assert_int_equal(pl->stats.bad_ids, 0);
	assert_int_equal(pl->stats.n_ephemeral, 0);
	/* every pod is found by its UID, every container row with an ID by its ID */
	for (size_t i = 0; i < pl->n_pods; i++) {
		const struct lmp_pod *p = &pl->pods[i];

		assert_ptr_equal(lmp_podlist_find_pod(pl, p->uid), p);
		assert_true(p->first_ctr + p->n_ctrs <= pl->n_ctrs);
		for (uint32_t c = p->first_ctr; c < p->first_ctr + p->n_ctrs; c++)
			assert_int_equal(pl->ctrs[c].pod, i);
	}
	for (size_t i = 0; i < pl->n_ctrs; i++)
		if (pl->ctrs[i].id[0])
			assert_ptr_equal(lmp_podlist_find_ctr(pl, pl->ctrs[i].id), &pl->ctrs[i]);
	assert_null(lmp_podlist_find_pod(pl, "00000000-0000-0000-0000-000000000000"));
	assert_null(lmp_podlist_find_ctr(pl, ""));
	assert_true(pl->mem > 0);
	lmp_podlist_free(pl);
	free(json);
}

static const struct lmp_pod_ctr *ctr_of(const char *file, struct lmp_podlist **pl, const char *id)
{
	char err[256];
	size_t len;
	char *json = slurp(file, &len);

	assert_int_equal(lmp_podlist_parse(json, len, pl, err, sizeof(err)), 0);
	free(json);
	return lmp_podlist_find_ctr(*pl, id);
}

static void test_podlist_lookups(void **state)
{
	struct lmp_podlist *pl;
	const struct lmp_pod_ctr *c;
	const struct lmp_pod *p;

	/* containerd, restarted: current and earlier instance both name the container */
	c = ctr_of("nri-kubernetes_k8s-1_22_pods.json", &pl,
		   "7bf4cfeff51dcc65920dada06a63cbc8f40575a31e4c7f4cd891224867953ef8");
	assert_non_null(c);
	p = &pl->pods[c->pod];
	assert_string_equal(p->namespace, "kube-system");
	assert_string_equal(p->name, "storage-provisioner");
	assert_string_equal(p->uid, "394f0746-6390-45cd-bf37-db389c0c7d1e");
	assert_int_equal(p->qos, LMP_QOS_BESTEFFORT);
	assert_string_equal(c->name, "storage-provisioner");
	assert_false(c->previous);
	c = lmp_podlist_find_ctr(
		pl, "7f5eb269a7dced064b168267679642f8ad44c2d4a5afb123d5f03bf84a1b6f4a");
	assert_non_null(c);
	assert_true(c->previous);
	assert_string_equal(pl->pods[c->pod].name, "storage-provisioner");
	/* static pod: 32-hex config hash as UID */
	p = lmp_podlist_find_pod(pl, "8a8c5d5f7bc5cd7378b5001b9d325f72");
	assert_non_null(p);
	assert_string_equal(p->name, "etcd-datagen-1-22");
	assert_int_equal(p->qos, LMP_QOS_BURSTABLE);
	p = lmp_podlist_find_pod(pl, "c971f3b1-082a-4448-adf8-6ca14a9fee45");
	assert_non_null(p);
	assert_int_equal(p->qos, LMP_QOS_GUARANTEED);
	lmp_podlist_free(pl);

	/* init container */
	c = ctr_of("datadog-agent_podlist_init_container_terminated.json", &pl,
		   "922a2f3f14d1724d7eeb6cad2b5138bcbd85948c802fead1af2a1e5d79807e4e");
	assert_non_null(c);
	assert_int_equal(c->kind, LMP_CTR_INIT);
	assert_string_equal(c->name, "init-myservice");
	assert_string_equal(pl->pods[c->pod].name, "myapp-pod");
	assert_string_equal(pl->pods[c->pod].namespace, "default");
	lmp_podlist_free(pl);

	/* docker://, 1.8: a pending static pod has no qosClass and no statuses */
	c = ctr_of("datadog-agent_podlist_1.8-2.json", &pl,
		   "8a5d143fcca3f0b53dfe5f445905a2e82c02f0ff70fc0a98cc37eca389f9480c");
	assert_non_null(c);
	p = lmp_podlist_find_pod(pl, "0a8863810b43d4d891fab0af80e28e4c");
	assert_non_null(p);
	assert_string_equal(p->name, "kube-apiserver-my-node-name");
	assert_int_equal(p->qos, LMP_QOS_NONE);
	assert_int_equal(p->n_ctrs, 0);
	lmp_podlist_free(pl);

	/* kind "Pod" with items[] still parses (fluent-bit's mock) */
	c = ctr_of("fluent-bit_options_use-kubelet-enabled.meta.json", &pl,
		   "c9898099f6d235126d564ed38a020007ea7a6fac6e25e718de683c9dd0076c16");
	assert_non_null(c);
	assert_string_equal(pl->pods[c->pod].namespace, "options");
	lmp_podlist_free(pl);
}

/* Every prefix of a real reply: a reply cut short is an error, never a crash or a table. */
static void test_podlist_every_prefix_is_rejected(void **state)
{
	size_t len;
	char *json = slurp("datadog-agent_podlist_null_pod.json", &len);
	size_t last = len;

	while (last > 0 && (json[last - 1] == '\n' || json[last - 1] == ' '))
		last--;
	for (size_t n = 0; n < last; n++) {
		struct lmp_podlist *pl = (void *)1;
		char err[256] = "";

		assert_int_equal(lmp_podlist_parse(json, n, &pl, err, sizeof(err)), -EINVAL);
		assert_null(pl);
		assert_true(err[0] != '\0');
	}
	free(json);
}

static int parse_str(const char *s, struct lmp_podlist **pl)
{
	char err[256];

	return lmp_podlist_parse(s, strlen(s), pl, err, sizeof(err));
}

static void test_podlist_not_a_podlist(void **state)
{
	static const char *const bad[] = {
		"",
		"<html>502 Bad Gateway</html>",
		"null",
		"[]",
		"42",
		"{}",
		"{\"kind\":\"PodList\",\"items\":{}}",
		"{\"kind\":\"PodList\",\"items\":\"x\"}",
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":403,"
		"\"items\":[]}",
	};
	struct lmp_podlist *pl;
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_str(bad[i], &pl), -EINVAL);
	assert_int_equal(lmp_podlist_parse(NULL, 0, &pl, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "not JSON: empty body (line 0, column 0)");
}

static void test_podlist_wrong_types_everywhere(void **state)
{
	struct lmp_podlist *pl;

	assert_int_equal(parse_str("{\"items\":null}", &pl), 0);
	assert_int_equal(pl->n_pods, 0);
	lmp_podlist_free(pl);
	assert_int_equal(
		parse_str("{\"items\":[1,\"x\",[],null,{},{\"metadata\":null},"
			  "{\"metadata\":{\"uid\":7}},{\"metadata\":{\"uid\":\"\"}},"
			  "{\"metadata\":{\"uid\":\"u1\",\"name\":5,\"namespace\":null},"
			  "\"status\":{\"qosClass\":3,\"containerStatuses\":{\"a\":1},"
			  "\"initContainerStatuses\":[null,7,{\"name\":null,\"containerID\":9},"
			  "{\"name\":\"i\",\"containerID\":\"docker://nothex\","
			  "\"lastState\":{\"terminated\":{\"containerID\":\"bogus\"}}}]}},"
			  "{\"metadata\":{\"uid\":\"u1\",\"name\":\"dup\"},\"status\":\"x\"}]}",
			  &pl),
		0);
	assert_int_equal(pl->stats.null_items, 4);
	assert_int_equal(pl->stats.no_uid, 4);
	assert_int_equal(pl->n_pods, 2);
	assert_string_equal(pl->pods[0].uid, "u1");
	assert_string_equal(pl->pods[0].name, "");
	assert_string_equal(pl->pods[0].namespace, "");
	assert_int_equal(pl->pods[0].qos, LMP_QOS_NONE);
	assert_int_equal(pl->n_ctrs, 2);
	assert_int_equal(pl->stats.bad_ids, 2);
	assert_int_equal(pl->stats.ctrs_no_id, 1); /* containerID 9 is not a string */
	assert_string_equal(pl->ctrs[1].name, "i");
	assert_string_equal(pl->ctrs[1].id, "");
	/* first of two pods with one UID wins */
	assert_ptr_equal(lmp_podlist_find_pod(pl, "u1"), &pl->pods[0]);
	lmp_podlist_free(pl);
	lmp_podlist_free(NULL);
	assert_null(lmp_podlist_find_pod(NULL, "u1"));
	assert_null(lmp_podlist_find_ctr(NULL, "x"));
}

static void test_podlist_ephemeral_and_crio(void **state)
{
	static const char json[] =
		"{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"namespace\":\"prod\","
		"\"name\":\"api-0\",\"uid\":\"0e886e9a-3879-45f9-b44d-86ef9df03224\"},"
		"\"status\":{\"qosClass\":\"Burstable\",\"containerStatuses\":[{\"name\":\"api\","
		"\"containerID\":\"cri-o://"
		"deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef\"}],"
		"\"ephemeralContainerStatuses\":[{\"name\":\"debugger-x7\",\"containerID\":"
		"\"containerd://244a65edefdffe31685c42317c9054e71dc1193048cf9459e2a4dd35cbc1dba4\"}]"
		"}}]}";
	struct lmp_podlist *pl;
	const struct lmp_pod_ctr *c;

	assert_int_equal(parse_str(json, &pl), 0);
	assert_int_equal(pl->stats.n_ephemeral, 1);
	c = lmp_podlist_find_ctr(
		pl, "244a65edefdffe31685c42317c9054e71dc1193048cf9459e2a4dd35cbc1dba4");
	assert_non_null(c);
	assert_int_equal(c->kind, LMP_CTR_EPHEMERAL);
	assert_string_equal(c->name, "debugger-x7");
	c = lmp_podlist_find_ctr(
		pl, "deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef");
	assert_non_null(c);
	assert_string_equal(c->name, "api");
	assert_string_equal(pl->pods[c->pod].namespace, "prod");
	lmp_podlist_free(pl);
}

/* The members dropped before parsing, in every position, around tricky strings. */
static void test_podlist_pruned_members_in_every_position(void **state)
{
	static const char json[] =
		"{ \"kind\" : \"PodList\", \"items\" : [\n"
		" {\"spec\":{\"containers\":[{\"name\":\"x\\\"}]\"}]},"
		"  \"metadata\" : {\"labels\" : {\"a\":\"b\"}, \"name\":\"p1\","
		"   \"uid\":\"u1\", \"annotations\":{\"k\":\"{[\\\\\"}, \"namespace\":\"n\","
		"   \"managedFields\" : [ {\"f\":[1,2,{}]} ] },"
		"  \"status\":{\"conditions\":[],\"containerStatuses\":[{\"name\":\"spec\","
		"   \"containerID\":\"docker://"
		"73051af271105c07e1f493b34856a77e665e3b0b4fc72f76c807dfbffeb881bd\"}]}},\n"
		" {\"metadata\":{\"uid\":\"u2\",\"labels\":null},\"spec\":7}\n"
		"] , \"metadata\" : {\"labels\":\"x\"} }";
	struct lmp_podlist *pl;
	const struct lmp_pod_ctr *c;

	assert_int_equal(parse_str(json, &pl), 0);
	assert_int_equal(pl->n_pods, 2);
	assert_string_equal(pl->pods[0].name, "p1");
	assert_string_equal(pl->pods[0].namespace, "n");
	assert_string_equal(pl->pods[1].uid, "u2");
	c = lmp_podlist_find_ctr(
		pl, "73051af271105c07e1f493b34856a77e665e3b0b4fc72f76c807dfbffeb881bd");
	assert_non_null(c);
	assert_string_equal(c->name, "spec"); /* a value that looks like a dropped key stays */
	lmp_podlist_free(pl);
}

/* head unit,unit,...(n times) tail */
static char *amplified(const char *head, const char *unit, size_t n, const char *tail, size_t *len)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(hl + n * (ul + 1) + tl + 1), *p = s;

	assert_non_null(s);
	memcpy(p, head, hl);
	p += hl;
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		memcpy(p, unit, ul);
		p += ul;
	}
	memcpy(p, tail, tl + 1);
	*len = p + tl - s;
	return s;
}

/*
 * Issue 15: a reply of millions of empty objects beside an empty items list was accepted
 * as 0 pods after jansson built gigabytes; now it is refused, and so is a list with more
 * values than any node has, without building a tree.
 */
static void test_podlist_amplified_replies_are_refused(void **state)
{
	struct lmp_podlist *pl = (void *)1;
	char err[256];
	size_t len;
	char *s =
		amplified("{\"kind\":\"PodList\",\"items\":[],\"x\":[", "{}", 2000000, "]}", &len);

	assert_int_equal(lmp_podlist_parse(s, len, &pl, err, sizeof(err)), -EINVAL);
	assert_null(pl);
	assert_string_equal(err, "not a PodList: unexpected member \"x\"");
	free(s);

	s = amplified("{\"kind\":\"PodList\",\"items\":[", "{}", LMP_PODLIST_MAX_VALUES, "]}",
		      &len);
	assert_int_equal(lmp_podlist_parse(s, len, &pl, err, sizeof(err)), -E2BIG);
	assert_null(pl);
	assert_non_null(strstr(err, "more than 250000 values"));
	free(s);

	/* just under the cap: the root object and items count too */
	s = amplified("{\"kind\":\"PodList\",\"items\":[", "{}", LMP_PODLIST_MAX_VALUES - 3, "]}",
		      &len);
	assert_int_equal(lmp_podlist_parse(s, len, &pl, err, sizeof(err)), 0);
	assert_int_equal(pl->n_pods, 0);
	assert_int_equal(pl->stats.no_uid, LMP_PODLIST_MAX_VALUES - 3);
	lmp_podlist_free(pl);
	free(s);

	/* what is skipped costs no value, however big or deep */
	s = amplified("{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"uid\":\"u\"},"
		      "\"spec\":[",
		      "[[[{\"a\":\"\\\"]}\"}]]]", 1500000, "]}]}", &len);
	assert_int_equal(lmp_podlist_parse(s, len, &pl, err, sizeof(err)), 0);
	assert_int_equal(pl->n_pods, 1);
	lmp_podlist_free(pl);
	free(s);
}

/* Cut short or malformed in a skipped member is as bad as anywhere else. */
static void test_podlist_malformed_skipped_members(void **state)
{
	static const char *const bad[] = {
		"{\"items\":[{\"spec\":{\"a\":\"b}]}",
		"{\"items\":[{\"spec\":{\"a\":\"b\"}]}",
		"{\"items\":[{\"spec\":]}]}",
		"{\"items\":[],\"metadata\":{} x}",
		"{\"items\":[]} []",
		"{\"items\":[{\"metadata\":{\"uid\":\"u\"}} {}]}",
	};
	struct lmp_podlist *pl;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";

		assert_int_equal(lmp_podlist_parse(bad[i], strlen(bad[i]), &pl, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "not JSON"));
	}
}

int main(void)
{
	struct CMUnitTest t[sizeof(fixtures) / sizeof(fixtures[0]) + 9];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		t[n++] = (struct CMUnitTest){ fixtures[i].file, test_podlist_fixture_counts, NULL,
					      NULL, (void *)&fixtures[i] };
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_podlist_lookups);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_podlist_every_prefix_is_rejected);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_podlist_not_a_podlist);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_podlist_wrong_types_everywhere);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_podlist_ephemeral_and_crio);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_podlist_pruned_members_in_every_position);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_podlist_amplified_replies_are_refused);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_podlist_malformed_skipped_members);
	return _cmocka_run_group_tests("podlist", t, n, NULL, NULL) ? 1 : 0;
}
