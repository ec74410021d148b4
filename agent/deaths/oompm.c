// SPDX-License-Identifier: Apache-2.0
/* The OOM post-mortem: a memcg's files and its largest tasks, read right after a kill. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deaths/oompm.h"
#include "expose/out.h"

#define MAX_DEPTH 8

static int read_text(const char *dir, const char *file, char *buf, size_t len)
{
	char path[4200];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static bool read_u64(const char *dir, const char *file, __u64 *v)
{
	char buf[64], *end;

	if (read_text(dir, file, buf, sizeof(buf)) < 0)
		return false;
	*v = strtoull(buf, &end, 10);
	return end != buf;
}

/* the value of "key N" lines; false when the key is absent */
static bool keyed(const char *text, const char *key, __u64 *v)
{
	size_t n = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, n) && p[n] == ' ') {
			*v = strtoull(p + n + 1, NULL, 10);
			return true;
		}
	}
	return false;
}

static void val(const char *text, const char *key, struct lmp_oompm_val *out)
{
	out->have = keyed(text, key, &out->v);
}

void lmp_oompm_parse_stat(const char *text, bool v2, struct lmp_oompm *pm)
{
	if (v2) {
		val(text, "anon", &pm->anon);
		val(text, "file", &pm->file);
		val(text, "kernel", &pm->kernel);
		val(text, "slab", &pm->slab);
		val(text, "shmem", &pm->shmem);
		val(text, "sock", &pm->sock);
		/* kernels before 5.18 have no "kernel" line: kernel_stack + slab + ... is close */
		return;
	}
	/* v1: the hierarchical totals, children included, as the limit counts them */
	val(text, "total_rss", &pm->anon);
	val(text, "total_cache", &pm->file);
	val(text, "total_shmem", &pm->shmem);
}

void lmp_oompm_parse_events(const char *text, bool v2, struct lmp_oompm *pm)
{
	if (v2) {
		val(text, "high", &pm->ev_high);
		val(text, "max", &pm->ev_max);
		val(text, "oom", &pm->ev_oom);
	}
	/* v2 memory.events and v1 memory.oom_control both have "oom_kill N" */
	val(text, "oom_kill", &pm->ev_oom_kill);
}

bool lmp_oompm_parse_psi(const char *text, double *some, double *full)
{
	const char *s = strstr(text, "some avg10="), *f = strstr(text, "full avg10=");

	if (!s)
		return false;
	*some = strtod(s + 11, NULL);
	*full = f ? strtod(f + 11, NULL) : 0;
	return true;
}

/* keep the LMP_OOMPM_TASKS largest, sorted, by insertion */
static void consider(struct lmp_oompm *pm, __u32 pid)
{
	char dir[32], buf[128];
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long size, res;
	__u64 rss;
	unsigned i, n;

	snprintf(dir, sizeof(dir), "/proc/%u", pid);
	if (read_text(dir, "statm", buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "%llu %llu", &size, &res) != 2)
		return; /* gone meanwhile */
	rss = res * (page > 0 ? page : 4096);
	n = pm->n_tasks;
	if (n == LMP_OOMPM_TASKS && pm->tasks[n - 1].rss_bytes >= rss)
		return;
	if (n < LMP_OOMPM_TASKS)
		n++;
	for (i = n - 1; i > 0 && pm->tasks[i - 1].rss_bytes < rss; i--)
		pm->tasks[i] = pm->tasks[i - 1];
	pm->n_tasks = n;
	memset(&pm->tasks[i], 0, sizeof(pm->tasks[i]));
	pm->tasks[i].pid = pid;
	pm->tasks[i].rss_bytes = rss;
	if (read_text(dir, "oom_score_adj", buf, sizeof(buf)) == 0)
		pm->tasks[i].oom_score_adj = atoi(buf);
	if (read_text(dir, "comm", buf, sizeof(buf)) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(pm->tasks[i].comm, sizeof(pm->tasks[i].comm), "%.15s", buf);
	}
}

/* the memcg's tasks and its children's: the OOM killer chose among all of them */
static void scan(struct lmp_oompm *pm, const char *dir, int depth)
{
	char path[4200], line[32];
	struct dirent *de;
	FILE *f;
	DIR *d;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	while (f && pm->tasks_seen < LMP_OOMPM_SCAN && fgets(line, sizeof(line), f)) {
		pm->tasks_seen++;
		consider(pm, strtoul(line, NULL, 10));
	}
	if (f)
		fclose(f);
	if (depth >= MAX_DEPTH || !(d = opendir(dir)))
		return;
	while (pm->tasks_seen < LMP_OOMPM_SCAN && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		scan(pm, path, depth + 1);
	}
	closedir(d);
}

void lmp_oompm_read(const char *memcg_dir, bool v2, const char *psi_dir, __u64 kill_ns,
		    struct lmp_oompm *pm)
{
	char buf[8192];
	struct timespec ts;

	memset(pm, 0, sizeof(*pm));
	if (memcg_dir && read_text(memcg_dir, "memory.stat", buf, sizeof(buf)) == 0) {
		pm->stat_read = true;
		lmp_oompm_parse_stat(buf, v2, pm);
	}
	if (memcg_dir && !v2) {
		pm->kernel.have = read_u64(memcg_dir, "memory.kmem.usage_in_bytes", &pm->kernel.v);
		pm->sock.have = read_u64(memcg_dir, "memory.kmem.tcp.usage_in_bytes", &pm->sock.v);
		pm->ev_failcnt.have = read_u64(memcg_dir, "memory.failcnt", &pm->ev_failcnt.v);
	}
	if (memcg_dir && read_text(memcg_dir, v2 ? "memory.events" : "memory.oom_control", buf,
				   sizeof(buf)) == 0) {
		pm->events_read = true;
		lmp_oompm_parse_events(buf, v2, pm);
	}
	if (!psi_dir && v2)
		psi_dir = memcg_dir;
	if (psi_dir && read_text(psi_dir, "memory.pressure", buf, sizeof(buf)) == 0)
		pm->psi_read = lmp_oompm_parse_psi(buf, &pm->psi_some_avg10, &pm->psi_full_avg10);
	if (memcg_dir)
		scan(pm, memcg_dir, 0);
	clock_gettime(CLOCK_BOOTTIME, &ts);
	pm->read_after_ns = (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	pm->read_after_ns = pm->read_after_ns > kill_ns ? pm->read_after_ns - kill_ns : 0;
}

static void out_val(struct lmp_out *o, const char *key, const struct lmp_oompm_val *v)
{
	if (v->have)
		lmp_out_u64(o, key, v->v);
	else
		lmp_out_null(o, key);
}

void lmp_oompm_out(struct lmp_out *o, const struct lmp_oompm *pm)
{
	lmp_out_object_begin(o, "postmortem");
	lmp_out_double(o, "read_after_ms", pm->read_after_ns / 1e6);
	if (pm->stat_read) {
		lmp_out_object_begin(o, "memory_stat");
		out_val(o, "anon_bytes", &pm->anon);
		out_val(o, "file_bytes", &pm->file);
		out_val(o, "kernel_bytes", &pm->kernel);
		out_val(o, "slab_bytes", &pm->slab);
		out_val(o, "shmem_bytes", &pm->shmem);
		out_val(o, "sock_bytes", &pm->sock);
		lmp_out_object_end(o);
	} else {
		lmp_out_null(o, "memory_stat");
	}
	if (pm->events_read) {
		lmp_out_object_begin(o, "memory_events");
		if (pm->ev_high.have)
			lmp_out_u64(o, "high", pm->ev_high.v);
		if (pm->ev_max.have)
			lmp_out_u64(o, "max", pm->ev_max.v);
		if (pm->ev_oom.have)
			lmp_out_u64(o, "oom", pm->ev_oom.v);
		if (pm->ev_failcnt.have)
			lmp_out_u64(o, "failcnt", pm->ev_failcnt.v);
		out_val(o, "oom_kill", &pm->ev_oom_kill);
		lmp_out_object_end(o);
	} else {
		lmp_out_null(o, "memory_events");
	}
	if (pm->psi_read) {
		lmp_out_object_begin(o, "memory_pressure");
		lmp_out_double(o, "some_avg10", pm->psi_some_avg10);
		lmp_out_double(o, "full_avg10", pm->psi_full_avg10);
		lmp_out_object_end(o);
	} else {
		lmp_out_null(o, "memory_pressure");
	}
	lmp_out_array_begin(o, "top_tasks");
	for (unsigned i = 0; i < pm->n_tasks; i++) {
		lmp_out_object_begin(o, NULL);
		lmp_out_u64(o, "pid", pm->tasks[i].pid);
		lmp_out_str(o, "comm", pm->tasks[i].comm);
		lmp_out_u64(o, "rss_bytes", pm->tasks[i].rss_bytes);
		lmp_out_s64(o, "oom_score_adj", pm->tasks[i].oom_score_adj);
		lmp_out_object_end(o);
	}
	lmp_out_array_end(o);
	lmp_out_object_end(o);
}
