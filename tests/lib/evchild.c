// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "evchild.h"
#include "fixtures.h"
#include "fake_kubelet.h"
#include "harness.h"

pid_t lmp_test_fork_in(const char *cg, const char *memcg, const char *comm, int (*fn)(void *),
		       void *arg)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* the test framework's crash handlers must not run (and resume tests) in the child */
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	if ((memcg && lmp_test_cgroup_join(memcg) < 0) || (cg && lmp_test_cgroup_join(cg) < 0))
		_exit(126);
	if (comm)
		prctl(PR_SET_NAME, comm, 0, 0, 0);
	_exit(fn(arg));
}

void lmp_test_oom_score_adj(int adj)
{
	FILE *f = fopen("/proc/self/oom_score_adj", "w");

	if (f) {
		fprintf(f, "%d\n", adj);
		fclose(f);
	}
}

void lmp_test_touch(size_t size, int status)
{
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(status);
	for (size_t off = 0; off < size; off += 4096)
		p[off] = 1;
}

const char *lmp_test_memcg_v1_root(void)
{
	static char root[512];
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *m;

	if (!f)
		return NULL;
	root[0] = 0;
	while ((m = getmntent(f)))
		if (!strcmp(m->mnt_type, "cgroup") && hasmntopt(m, "memory")) {
			snprintf(root, sizeof(root), "%s", m->mnt_dir);
			break;
		}
	endmntent(f);
	return root[0] ? root : NULL;
}

static int write_file(const char *dir, const char *file, const char *val)
{
	char p[4096];
	int fd, r = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		r = -errno;
	close(fd);
	return r;
}

int lmp_test_memcg_v1_create(const char *name, unsigned long long limit, char *path, size_t len)
{
	const char *root = lmp_test_memcg_v1_root();
	char val[32];
	int r;

	if (!root)
		return -ENOENT;
	snprintf(path, len, "%s/%s", root, name);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(val, sizeof(val), "%llu", limit);
	r = write_file(path, "memory.limit_in_bytes", val);
	if (r < 0)
		return r;
	/* with swap accounting the memory+swap limit must hold too, or the task swaps */
	if (write_file(path, "memory.memsw.limit_in_bytes", val) == -EACCES)
		return -EACCES;
	return 0;
}

void lmp_test_memcg_v1_remove(const char *path)
{
	/* a memcg is removable once its tasks are gone; pages are reparented */
	for (int i = 0; i < 50 && rmdir(path) < 0 && errno == EBUSY; i++)
		usleep(100 * 1000);
}

json_t *lmp_test_jget(json_t *ev, const char *key)
{
	char part[128];
	const char *dot;

	while (ev && (dot = strchr(key, '.'))) {
		snprintf(part, sizeof(part), "%.*s", (int)(dot - key), key);
		ev = json_object_get(ev, part);
		key = dot + 1;
	}
	return ev ? json_object_get(ev, key) : NULL;
}

long long lmp_test_jint(json_t *ev, const char *key)
{
	return json_integer_value(lmp_test_jget(ev, key));
}

const char *lmp_test_jstr(json_t *ev, const char *key)
{
	return json_string_value(lmp_test_jget(ev, key));
}

bool lmp_test_match_fields(json_t *ev, void *ctx)
{
	const struct lmp_test_fields *w = ctx;

	if (!lmp_test_is_event(ev, w->probe, w->event))
		return false;
	for (int i = 0; i < 3; i++) {
		json_t *v = w->k[i] ? lmp_test_jget(ev, w->k[i]) : NULL;

		if (w->k[i] && (!json_is_integer(v) || json_integer_value(v) != w->v[i]))
			return false;
	}
	return true;
}

int lmp_test_kube_start(struct lmp_test_kube *k, const char *fixture)
{
	char path[512];
	FILE *f;

	memset(k, 0, sizeof(*k));
	snprintf(path, sizeof(path), "%s/kubelet/%s", lmp_test_fixtures_dir(), fixture);
	strcpy(k->dir, "/tmp/lmp-kube-XXXXXX");
	if (!mkdtemp(k->dir))
		return -errno;
	snprintf(k->token_file, sizeof(k->token_file), "%s/token", k->dir);
	f = fopen(k->token_file, "w");
	if (!f)
		return -errno;
	fprintf(f, "evtest-token\n");
	fclose(f);
	if (fake_kubelet_start(k->dir, 0, &k->fk) < 0 ||
	    fake_kubelet_set_body_file(k->fk, path) < 0)
		return -EIO;
	fake_kubelet_set_token(k->fk, "evtest-token");
	return 0;
}

void lmp_test_kube_stop(struct lmp_test_kube *k)
{
	fake_kubelet_free(k->fk);
	k->fk = NULL;
	if (k->dir[0])
		lmp_test_sh("rm -rf '%s'", k->dir);
	k->dir[0] = 0;
}

int lmp_test_kube_args(struct lmp_test_kube *k, const char **args, int n)
{
	args[n++] = "--kubelet-url";
	args[n++] = fake_kubelet_url(k->fk);
	args[n++] = "--kubelet-ca-file";
	args[n++] = fake_kubelet_ca_file(k->fk);
	args[n++] = "--kubelet-token-file";
	args[n++] = k->token_file;
	return n;
}

void lmp_test_kube_wait_sync(struct lmp_test_agent *a)
{
	/* "kubelet: N pods, M containers on this node" once the first PodList is in */
	for (int i = 0; i < 100 && !lmp_test_agent_stderr_has(a, "containers on this node"); i++)
		lmp_test_agent_pump(a, 100);
}

int lmp_test_agent_http_port(struct lmp_test_agent *a)
{
	const char *p = a->errbuf ? strstr(a->errbuf, "serving /metrics") : NULL;

	p = p ? strstr(p, "(port ") : NULL;
	return p ? atoi(p + 6) : -1;
}

double lmp_test_metric(struct lmp_test_agent *a, const char *family, const char *l1, const char *l2)
{
	int port = lmp_test_agent_http_port(a);
	size_t flen = strlen(family);
	char cmd[160], *buf = NULL, *line;
	bool found = false;
	double sum = 0;

	if (port <= 0)
		goto out;
	snprintf(cmd, sizeof(cmd), "curl -sf --max-time 10 http://127.0.0.1:%d/metrics", port);
	buf = lmp_test_sh_read(a, cmd, NULL);
	if (!buf)
		goto out;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *val;

		/* "family{labels} value" or "family value" */
		if (strncmp(line, family, flen) || (line[flen] != '{' && line[flen] != ' '))
			continue;
		if ((l1 && !strstr(line, l1)) || (l2 && !strstr(line, l2)))
			continue;
		val = strrchr(line, ' ');
		if (!val)
			continue;
		sum += strtod(val + 1, NULL);
		found = true;
	}
out:
	free(buf);
	return found ? sum : -1;
}
