// SPDX-License-Identifier: Apache-2.0
/*
 * agent/k8s/podpath.c against the real captures in tests/fixtures/cgroup: one cmocka test per
 * row of cgroup_paths.tsv and kubelet_containerID_formats.tsv, one per proc_cgroup file, and
 * the QoS and edge cases the TSV does not spell out.
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
#include "k8s/podpath.h"

static const char *fixture_dir(void)
{
	return lmp_test_fixtures_dir();
}

static char *slurp(const char *rel)
{
	char p[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(p, sizeof(p), "%s/%s", fixture_dir(), rel);
	f = fopen(p, "r");
	if (!f) {
		fprintf(stderr, "fixture %s: %s\n", p, strerror(errno));
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

/* ---- cgroup_paths.tsv ---- */

struct row {
	int line;
	char *col[5]; /* path, uid, cid, runtime, source */
};

static enum lmp_runtime runtime_of(const char *s)
{
	static const struct {
		const char *tsv;
		enum lmp_runtime rt;
	} map[] = {
		{ "docker", LMP_RUNTIME_DOCKER },   { "containerd", LMP_RUNTIME_CONTAINERD },
		{ "cri-o", LMP_RUNTIME_CRIO },	    { "cri-o-conmon", LMP_RUNTIME_CRIO_CONMON },
		{ "podman", LMP_RUNTIME_PODMAN },   { "ecs", LMP_RUNTIME_ECS },
		{ "unknown", LMP_RUNTIME_UNKNOWN }, { "none", LMP_RUNTIME_NONE },
		{ "pod-level", LMP_RUNTIME_NONE },  { "invalid", LMP_RUNTIME_NONE },
	};

	if (!strncmp(s, "bare(", 5)) /* a bare cgroupfs ID: the path cannot tell the runtime */
		return LMP_RUNTIME_UNKNOWN;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(s, map[i].tsv))
			return map[i].rt;
	fail_msg("unknown runtime column '%s'", s);
	return LMP_RUNTIME_NONE;
}

static const char *dash_none(const char *s)
{
	return strcmp(s, "-") ? s : "";
}

static void test_podpath_tsv_row(void **state)
{
	const struct row *r = *state;
	struct lmp_podpath pp;

	lmp_podpath_parse(r->col[0], &pp);
	if (strcmp(pp.pod_uid, dash_none(r->col[1])) ||
	    strcmp(pp.container_id, dash_none(r->col[2])) || pp.runtime != runtime_of(r->col[3]))
		fail_msg(
			"line %d: %s\n  got uid='%s' cid='%s' rt=%s\n  want uid='%s' cid='%s' rt=%s",
			r->line, r->col[0], pp.pod_uid, pp.container_id,
			lmp_runtime_name(pp.runtime), dash_none(r->col[1]), dash_none(r->col[2]),
			r->col[3]);
	/* a pod always has a QoS class, a non-pod never */
	assert_true((pp.pod_uid[0] != 0) == (pp.qos != LMP_QOS_NONE));
}

/* ---- kubelet_containerID_formats.tsv ---- */

static void test_podpath_containerid_row(void **state)
{
	const struct row *r = *state;
	char id[LMP_CONTAINER_ID_LEN];
	int err = lmp_podpath_bare_id(r->col[0], id, sizeof(id));

	if (!strcmp(r->col[1], "(error)")) {
		if (err == 0)
			fail_msg("line %d: '%s' accepted as '%s'", r->line, r->col[0], id);
		assert_int_equal(err, -EINVAL);
	} else {
		if (err)
			fail_msg("line %d: '%s' rejected (%d)", r->line, r->col[0], err);
		assert_string_equal(id, r->col[1]);
	}
}

static int load_rows(const char *rel, int ncols, struct row **out)
{
	char *text = slurp(rel), *save = NULL, *l;
	struct row *rows = NULL;
	int n = 0, line = 0;

	if (!text)
		return -ENOENT;
	/* strtok_r would skip empty lines but also merge empty fields: split by hand */
	for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct row r = { .line = ++line };
		char *p = l;

		if (line == 1) /* header */
			continue;
		for (int c = 0; c < ncols; c++) {
			char *tab = strchr(p, '\t');

			r.col[c] = strdup(p);
			if (tab)
				r.col[c][tab - p] = '\0';
			p = tab ? tab + 1 : p + strlen(p);
		}
		rows = realloc(rows, (n + 1) * sizeof(*rows));
		rows[n++] = r;
	}
	free(text);
	*out = rows;
	return n;
}

/* ---- proc_cgroup/ files: expected answers read off the files by hand ---- */

static const struct {
	const char *file, *uid, *cid;
	enum lmp_runtime rt;
} proc_cases[] = {
	/* no 0:: line and controllers disagree: the name=systemd line speaks for the process */
	{ "container-info_test_fixtures_cgroup", "74c13223-5a00-11e9-b385-42010a80018d",
	  "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376", LMP_RUNTIME_UNKNOWN },
	{ "coroot-node-agent_proc_1000_cgroup", NULL, NULL, LMP_RUNTIME_NONE },
	{ "coroot-node-agent_proc_100_cgroup", NULL, NULL, LMP_RUNTIME_NONE },
	/* hybrid: 0:: is containerd.service, the v1 lines carry the pod */
	{ "coroot-node-agent_proc_2000_cgroup", "8833712d-6e69-4f5c-95f3-aebd020ce2e7",
	  "95cbe853416f52d927dec41f1406dd75015ea131244a1ca875a7cd4ebe927ac8", LMP_RUNTIME_UNKNOWN },
	{ "coroot-node-agent_proc_200_cgroup", "",
	  "b43d92bf1e5c6f78bb9b7bc6f40721280299855ba692092716e3a1b6c0b86f3f", LMP_RUNTIME_DOCKER },
	{ "coroot-node-agent_proc_3000_cgroup", NULL, NULL, LMP_RUNTIME_NONE },
	{ "coroot-node-agent_proc_300_cgroup", "6a4ce4a0-ba47-11ea-b2a7-0cc47ac5979e",
	  "17db96a24ae1e9dd57143e62b1cb0d2d35e693c65c774c7470e87b0572e07c1a", LMP_RUNTIME_UNKNOWN },
	{ "coroot-node-agent_proc_400_cgroup", "8712f785-1a3e-41ec-a00b-e2dcc77431cb",
	  "73051af271105c07e1f493b34856a77e665e3b0b4fc72f76c807dfbffeb881bd", LMP_RUNTIME_DOCKER },
	{ "coroot-node-agent_proc_500_cgroup", "",
	  "ba7b10d15d16e10e3de7a2dcd408a3d971169ae303f46cfad4c5453c6326fee2", LMP_RUNTIME_DOCKER },
	{ "coroot-node-agent_proc_550_cgroup", NULL, NULL, LMP_RUNTIME_NONE },
	{ "coroot-node-agent_proc_600_cgroup", NULL, NULL, LMP_RUNTIME_NONE },
	{ "coroot-node-agent_proc_700_cgroup", NULL, NULL, LMP_RUNTIME_NONE },
	{ "coroot-node-agent_proc_800_cgroup", "",
	  "cf87ba651579c9231db817909e7865e5747bd7abcac0c57ce23cf4abbaee046b", LMP_RUNTIME_DOCKER },
	{ "coroot-node-agent_proc_900_cgroup", NULL, NULL, LMP_RUNTIME_NONE },
	{ "datadog-agent_pid_mapper_test_cgroupV1ProcCgroup",
	  "15513b48-e7a5-48fc-b9e3-92f713f36504",
	  "a51a9f7d073f848e7fc59e56e8f11524f330a2175a4ed26327da2dfe0d28015f", LMP_RUNTIME_UNKNOWN },
	{ "datadog-agent_pid_mapper_test_cgroupV1ProcCgroupWithColons",
	  "5be537b8-3a4e-4607-af71-31598b3a4fd3",
	  "1c8f503430973935b7d8a80c4f58c0946b052a021e6855b358e5ec38601af120",
	  LMP_RUNTIME_CONTAINERD },
	{ "datadog-agent_pid_mapper_test_dindProcCgroup", "a5ea884f-9e60-4912-bd62-fef9a31db47a",
	  "a51a9f7d073f848e7fc59e56e8f11524f330a2175a4ed26327da2dfe0d28015e", LMP_RUNTIME_UNKNOWN },
	{ "datadog-agent_security_utils_cgroup_test_cgroupContent",
	  "98005c3b-b650-4efe-8b91-2164d784397f",
	  "e8ac3efec3322d7f13cfa0cdee4344754d01bd4e50fea44e0753e83fdb74cab3",
	  LMP_RUNTIME_CONTAINERD },
	{ "neuvector_TestCrio_Container_Cgroupv2_cgroup", "042efd86-1f3b-4f2f-8736-f31c58e95bbc",
	  "f33f47b0db740bb647cb3e7ac62d96c74966dbb99cbfaf4563bfd42d387e8b44", LMP_RUNTIME_CRIO },
	{ "neuvector_TestCrio_Container_SelfProbe_Cgroupv2_cgroup",
	  "395f906e-7c77-4c83-9472-361ea8819cea",
	  "7b05b98b56047ad0e02e55f4e6bcffbcdc436340179a9c05908df1e5d4f0710d", LMP_RUNTIME_CRIO },
	{ "neuvector_TestDockerIDKubepods2_cgroup", "045b1e35-7f13-11e7-ac42-0050568ffca0",
	  "b5b6f2da8008be266864f896f93789762b2ce50792114a5c5f2cc3315af0bc70", LMP_RUNTIME_DOCKER },
	{ "neuvector_TestDockerIDKubepods3_cgroup", "1fe19bf5-e8ef-11e8-900c-52daee5a874d",
	  "da31e536c8d61304a6d5998d163d12400a7a9a1003e1d86369e8fadb022fc17d", LMP_RUNTIME_UNKNOWN },
	{ "neuvector_TestDockerIDKubepods_cgroup", "74ba62da-1a3d-11e7-bb11-080027cb0e22",
	  "cb1eadb7abe3a6545e9856411207073277838e1bdc003337c2f8685faeedc32c", LMP_RUNTIME_UNKNOWN },
	{ "neuvector_TestDockerK8s_Ubuntu_Container_Cgroupv2_cgroup",
	  "fd698699-eabf-4c23-92ef-cf0bbdb78261",
	  "2cc65c162ca1388b6b8d5ccfb701d22fc96675ccf8b2f1590c490c2c4039547f", LMP_RUNTIME_DOCKER },
	{ "neuvector_TestK8sBottleRocket_cgroup", "dd1bf9d1-241d-47f5-8e25-12de83135812",
	  "f45298cd514d1930c4fe3afc4412e59547f7e3148fddd22ca33cefce046eb830",
	  LMP_RUNTIME_CONTAINERD },
	{ "neuvector_TestK8sContainerd_v1_2_13_cgroup", "a36d0c1d-0b26-4451-8d80-9c195e004afa",
	  "5dd96d5394ca930a854a390ea46f7515a8bc930123eb3251ba20f2708a38fc61", LMP_RUNTIME_UNKNOWN },
	{ "neuvector_TestK8sContainerd_v1_4_4_cgroup", "2105e389-7471-476e-a50f-6074cef29bbd",
	  "d3d8ccf5cca91931c6285c1d7472c413dd5a7700fddc0aa9f89a9ac7008b003e",
	  LMP_RUNTIME_CONTAINERD },
	{ "neuvector_TestK8sCrio_v1_17_cgroup", "487a0dc6dccaeefbcfedba7a7ce1ca18",
	  "7a1fd6fe8cdfbd44dc78c4cc85dad7031eaab4365801684cad0aabdeaf863f9e", LMP_RUNTIME_CRIO },
	{ "neuvector_TestK8sCrio_v1_19_cgroup", "8ca306fa-3c03-47fa-97dd-19979c345572",
	  "d6d725b909f37c3e232aadfbafa950a58bfe7baa579ba8c47a12be88bb921607", LMP_RUNTIME_CRIO },
	{ "neuvector_TestK8sProxyProcess_cgroup", "f8a694f2-7c08-11e9-98da-000c29077430",
	  "c04e0a88a1de067f25bece337d4dbb897396e0b623c2a65330850fc9823f1903", LMP_RUNTIME_UNKNOWN },
};

static void test_podpath_proc_cgroup_file(void **state)
{
	size_t i = (size_t)*state;
	char rel[256], path[4096];
	struct lmp_podpath pp;
	char *text;
	int r;

	snprintf(rel, sizeof(rel), "cgroup/proc_cgroup/%s", proc_cases[i].file);
	text = slurp(rel);
	assert_non_null(text);
	r = lmp_podpath_from_proc_cgroup(text, &pp, path, sizeof(path));
	free(text);
	if (!proc_cases[i].cid) {
		assert_int_equal(r, -ENOENT);
		assert_string_equal(pp.pod_uid, "");
		assert_string_equal(pp.container_id, "");
		return;
	}
	assert_int_equal(r, 0);
	assert_string_equal(pp.pod_uid, proc_cases[i].uid);
	assert_string_equal(pp.container_id, proc_cases[i].cid);
	assert_int_equal(pp.runtime, proc_cases[i].rt);
	/* the chosen line's path parses to the same answer on its own */
	{
		struct lmp_podpath again;

		lmp_podpath_parse(path, &again);
		assert_memory_equal(&again, &pp, sizeof(pp));
	}
}

/* ---- what the TSV does not spell out ---- */

static void test_podpath_qos_classes(void **state)
{
	static const struct {
		const char *path;
		enum lmp_qos qos;
	} c[] = {
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod8712f785_1a3e_41ec_"
		  "a00b_e2dcc77431cb.slice",
		  LMP_QOS_BURSTABLE },
		{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod8712f785_1a3e_41ec_"
		  "a00b_e2dcc77431cb.slice",
		  LMP_QOS_BESTEFFORT },
		{ "/kubepods.slice/kubepods-pod8712f785_1a3e_41ec_a00b_e2dcc77431cb.slice",
		  LMP_QOS_GUARANTEED },
		{ "/kubepods/burstable/pod8712f785-1a3e-41ec-a00b-e2dcc77431cb",
		  LMP_QOS_BURSTABLE },
		{ "/kubepods/besteffort/pod8712f785-1a3e-41ec-a00b-e2dcc77431cb",
		  LMP_QOS_BESTEFFORT },
		{ "/kubepods/pod8712f785-1a3e-41ec-a00b-e2dcc77431cb", LMP_QOS_GUARANTEED },
		{ "kubepods-besteffort-pod2105e389_7471_476e_a50f_6074cef29bbd.slice:cri-containerd:"
		  "d3d8ccf5cca91931c6285c1d7472c413dd5a7700fddc0aa9f89a9ac7008b003e",
		  LMP_QOS_BESTEFFORT },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct lmp_podpath pp;

		lmp_podpath_parse(c[i].path, &pp);
		assert_string_equal(pp.pod_uid, i == 6 ? "2105e389-7471-476e-a50f-6074cef29bbd" :
							 "8712f785-1a3e-41ec-a00b-e2dcc77431cb");
		assert_int_equal(pp.qos, c[i].qos);
	}
}

static void test_podpath_pod_level_cgroup(void **state)
{
	struct lmp_podpath pp;

	lmp_podpath_parse("/kubepods.slice/kubepods-burstable.slice/"
			  "kubepods-burstable-pod3e61c214bc3ed9ff81e21474dd6cba17.slice",
			  &pp);
	assert_string_equal(pp.pod_uid, "3e61c214bc3ed9ff81e21474dd6cba17");
	assert_string_equal(pp.container_id, "");
	assert_int_equal(pp.runtime, LMP_RUNTIME_NONE);
	assert_int_equal(pp.qos, LMP_QOS_BURSTABLE);
}

static void test_podpath_rejects_lookalikes(void **state)
{
	static const char *const paths[] = {
		"",
		"/",
		"/kubepods",
		"/kubepods.slice",
		"/kubepods.slice/kubepods-burstable.slice",
		"/kubepods/burstable",
		/* UID one char short, one char long, not hex, wrong separators */
		"/kubepods/burstable/pod8712f785-1a3e-41ec-a00b-e2dcc77431c",
		"/kubepods/burstable/pod8712f785-1a3e-41ec-a00b-e2dcc77431cbb",
		"/kubepods/burstable/pod8712f785-1a3e-41ec-a00b-e2dcc77431cg",
		"/kubepods.slice/kubepods-pod8712f785-1a3e-41ec-a00b-e2dcc77431cb.slice",
		/* pod<uid> not under kubepods */
		"/system.slice/pod8712f785-1a3e-41ec-a00b-e2dcc77431cb",
		"/mykubepods-pod8712f785_1a3e_41ec_a00b_e2dcc77431cb.slice",
		"/kubepods-pod8712f785_1a3e_41ec_a00b_e2dcc77431cb.slice.mount",
		"/system.slice/docker-73051af271105c07e1f493b34856a77e665e3b0b4fc72f76c807dfbffeb881bd.mount",
		"/system.slice/docker-73051af271105c07e1f493b34856a77e665e3b0b4fc72f76c807dfbffeb881b.scope",
		"/system.slice/crio-conmon-73051af271105c07e1f493b34856a77e665e3b0b4fc72f76c807dfbffeb881bd.scope",
		"/init.scope/container",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct lmp_podpath pp;

		lmp_podpath_parse(paths[i], &pp);
		if (pp.pod_uid[0] || pp.container_id[0])
			fail_msg("'%s' gave uid='%s' cid='%s'", paths[i], pp.pod_uid,
				 pp.container_id);
		assert_int_equal(pp.qos, LMP_QOS_NONE);
	}
	lmp_podpath_parse(NULL, &(struct lmp_podpath){ 0 });
}

static void test_podpath_survives_huge_and_deep_paths(void **state)
{
	size_t n = 1 << 16;
	char *p = malloc(n + 200);
	struct lmp_podpath pp;

	assert_non_null(p);
	for (size_t i = 0; i < n; i += 2)
		memcpy(p + i, "a/", 2);
	strcpy(p + n, "kubepods/pod8712f785-1a3e-41ec-a00b-e2dcc77431cb/"
		      "73051af271105c07e1f493b34856a77e665e3b0b4fc72f76c807dfbffeb881bd");
	lmp_podpath_parse(p, &pp);
	assert_string_equal(pp.pod_uid, "8712f785-1a3e-41ec-a00b-e2dcc77431cb");
	assert_string_equal(pp.container_id,
			    "73051af271105c07e1f493b34856a77e665e3b0b4fc72f76c807dfbffeb881bd");
	free(p);
}

static void test_podpath_names(void **state)
{
	assert_string_equal(lmp_runtime_name(LMP_RUNTIME_CONTAINERD), "containerd");
	assert_string_equal(lmp_runtime_name(_LMP_RUNTIME_MAX), "none");
	assert_int_equal(lmp_qos_parse("BestEffort"), LMP_QOS_BESTEFFORT);
	assert_int_equal(lmp_qos_parse("Guaranteed"), LMP_QOS_GUARANTEED);
	assert_int_equal(lmp_qos_parse("bogus"), LMP_QOS_NONE);
	assert_int_equal(lmp_qos_parse(NULL), LMP_QOS_NONE);
	assert_int_equal(lmp_podpath_bare_id(NULL, (char[8]){ 0 }, 8), -EINVAL);
	assert_int_equal(lmp_podpath_bare_id("docker://73051af271105c07e1f493b34856a77e665e3b0b4"
					     "fc72f76c807dfbffeb881bd",
					     (char[8]){ 0 }, 8),
			 -ENOSPC);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_podpath_qos_classes),
		cmocka_unit_test(test_podpath_pod_level_cgroup),
		cmocka_unit_test(test_podpath_rejects_lookalikes),
		cmocka_unit_test(test_podpath_survives_huge_and_deep_paths),
		cmocka_unit_test(test_podpath_names),
	};
	struct row *paths = NULL, *ids = NULL;
	int np = load_rows("cgroup/cgroup_paths.tsv", 5, &paths);
	int ni = load_rows("cgroup/kubelet_containerID_formats.tsv", 4, &ids);
	size_t nproc = sizeof(proc_cases) / sizeof(proc_cases[0]);
	struct CMUnitTest *t;
	int fails = 0, k = 0;

	if (np <= 0 || ni <= 0) {
		fprintf(stderr,
			"test_podpath: fixtures not found (tests/fixtures, or $LMP_FIXTURES)\n");
		return 1;
	}
	t = calloc(np + ni + nproc, sizeof(*t));
	for (int i = 0; i < np; i++) {
		char *name = malloc(64);

		snprintf(name, 64, "test_podpath_tsv_line_%d", paths[i].line);
		t[k++] = (struct CMUnitTest){ name, test_podpath_tsv_row, NULL, NULL, &paths[i] };
	}
	for (int i = 0; i < ni; i++) {
		char *name = malloc(64);

		snprintf(name, 64, "test_podpath_containerid_line_%d", ids[i].line);
		t[k++] = (struct CMUnitTest){ name, test_podpath_containerid_row, NULL, NULL,
					      &ids[i] };
	}
	for (size_t i = 0; i < nproc; i++)
		t[k++] = (struct CMUnitTest){ proc_cases[i].file, test_podpath_proc_cgroup_file,
					      NULL, NULL, (void *)i };
	fails += _cmocka_run_group_tests("podpath_fixtures", t, k, NULL, NULL);
	fails += cmocka_run_group_tests_name("podpath", fixed, NULL, NULL);
	for (int i = 0; i < np + ni; i++)
		free((char *)t[i].name);
	free(t);
	for (int i = 0; i < np; i++)
		for (int c = 0; c < 5; c++)
			free(paths[i].col[c]);
	for (int i = 0; i < ni; i++)
		for (int c = 0; c < 4; c++)
			free(ids[i].col[c]);
	free(paths);
	free(ids);
	return fails ? 1 : 0;
}
