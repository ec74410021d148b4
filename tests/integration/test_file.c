// SPDX-License-Identifier: Apache-2.0
/*
 * file probe against the real kernel: a child in a fresh cgroup writes K bytes to a named
 * temporary file with write, pwrite64 and writev, reads them back with read, pread64 and
 * readv, and writes to a pipe; the summaries must show that file (name, directory, device,
 * inode, type) with exactly 3 writes and K bytes each way for its pid, cgroup and name, and
 * the pipe as "pipe:[inode]". The kinds this kernel lacks (fexit, kprobe) are reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <bpf/libbpf.h>

#include "file.skel.h"
#include "evchild.h"
#include "harness.h"

#define COMM "lmp-file-test"
#define PIPE_BYTES 4099

struct work {
	char path[256];
	const char *base; /* file name part of path */
	size_t k;	  /* bytes written and read back */
	struct stat st;
	ino_t pipe_ino;
	pid_t pid;
};

static void join(const char *cg)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, "0", 1) != 1)
		_exit(90);
	close(fd);
}

/* the child: every call must move exactly what it asked, or the counts are not K */
static void child(const char *cg, struct work *w)
{
	char *buf = malloc(w->k), *back = malloc(w->k);
	size_t a = w->k / 2, b = w->k / 4, c = w->k - a - b;
	struct iovec wv[2] = { { buf + a + b, c / 2 }, { buf + a + b + c / 2, c - c / 2 } };
	size_t ra = w->k / 3, rb = w->k / 3, rc = w->k - ra - rb;
	struct iovec rv[2] = { { back + ra + rb, rc / 3 },
			       { back + ra + rb + rc / 3, rc - rc / 3 } };
	int fd, pfd[2];

	prctl(PR_SET_NAME, COMM);
	join(cg);
	for (size_t i = 0; i < w->k; i++)
		buf[i] = 'a' + i % 26;
	fd = open(w->path, O_RDWR);
	if (fd < 0)
		_exit(91);
	if (write(fd, buf, a) != (ssize_t)a || pwrite(fd, buf + a, b, a) != (ssize_t)b ||
	    lseek(fd, a + b, SEEK_SET) < 0 || writev(fd, wv, 2) != (ssize_t)c)
		_exit(92);
	if (lseek(fd, 0, SEEK_SET) < 0 || read(fd, back, ra) != (ssize_t)ra ||
	    pread(fd, back + ra, rb, ra) != (ssize_t)rb || lseek(fd, ra + rb, SEEK_SET) < 0 ||
	    readv(fd, rv, 2) != (ssize_t)rc || memcmp(buf, back, w->k))
		_exit(93);
	close(fd);
	/* a pipe: written, then drained */
	if (pipe(pfd) < 0 || write(pfd[1], buf, PIPE_BYTES) != PIPE_BYTES ||
	    read(pfd[0], back, PIPE_BYTES) != PIPE_BYTES)
		_exit(94);
	_exit(0);
}

struct totals {
	long lines, reads, writes, read_bytes, write_bytes;
	long pipe_reads, pipe_writes, pipe_read_bytes, pipe_write_bytes;
	bool bad_fields;
};

static void sum_lines(struct lmp_test_agent *a, const struct work *w, __u64 cgid, struct totals *t)
{
	char dev[32], pipe_name[64];
	size_t i;
	json_t *ev;

	snprintf(dev, sizeof(dev), "%u:%u", major(w->st.st_dev), minor(w->st.st_dev));
	snprintf(pipe_name, sizeof(pipe_name), "pipe:[%lu]", (unsigned long)w->pipe_ino);
	memset(t, 0, sizeof(*t));
	json_array_foreach(a->events, i, ev) {
		const char *probe = json_string_value(json_object_get(ev, "probe"));
		const char *file = json_string_value(json_object_get(ev, "file"));

		if (!probe || strcmp(probe, "file") ||
		    json_integer_value(json_object_get(ev, "pid")) != w->pid || !file)
			continue;
		if (json_integer_value(json_object_get(ev, "cgroup_id")) != (json_int_t)cgid)
			continue; /* the write to cgroup.procs, made before the move */
		if (strcmp(json_string_value(json_object_get(ev, "event")), "summary") ||
		    strcmp(json_string_value(json_object_get(ev, "comm")), COMM))
			t->bad_fields = true;
		if (!strcmp(file, w->base)) {
			t->lines++;
			if (strcmp(json_string_value(json_object_get(ev, "dir")), "tmp") ||
			    strcmp(json_string_value(json_object_get(ev, "type")), "regular") ||
			    strcmp(json_string_value(json_object_get(ev, "dev")), dev) ||
			    json_integer_value(json_object_get(ev, "inode")) !=
				    (json_int_t)w->st.st_ino)
				t->bad_fields = true;
			t->reads += json_integer_value(json_object_get(ev, "reads"));
			t->writes += json_integer_value(json_object_get(ev, "writes"));
			t->read_bytes += json_integer_value(json_object_get(ev, "read_bytes"));
			t->write_bytes += json_integer_value(json_object_get(ev, "write_bytes"));
		} else if (!strcmp(file, pipe_name)) {
			if (strcmp(json_string_value(json_object_get(ev, "type")), "pipe"))
				t->bad_fields = true;
			t->pipe_reads += json_integer_value(json_object_get(ev, "reads"));
			t->pipe_writes += json_integer_value(json_object_get(ev, "writes"));
			t->pipe_read_bytes += json_integer_value(json_object_get(ev, "read_bytes"));
			t->pipe_write_bytes +=
				json_integer_value(json_object_get(ev, "write_bytes"));
		}
	}
}

/* the workload under an agent with extra args; the attach line says which path ran */
static void run_bytes(const char *disable, const char *attach_line)
{
	struct lmp_test_agent a;
	char cg[4096], rel[128], port[64];
	struct totals t;
	struct work w;
	__u64 cgid;
	int fd, st;

	lmp_test_require_root();
	memset(&w, 0, sizeof(w));
	w.k = 100000 + getpid() % 4096; /* not a round number, not a constant */
	snprintf(w.path, sizeof(w.path), "/tmp/lmp-file-test-%d-XXXXXX", getpid());
	fd = mkstemp(w.path);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &w.st), 0);
	close(fd);
	w.base = strrchr(w.path, '/') + 1;
	snprintf(rel, sizeof(rel), "lmp-test/file-%d", getpid());
	assert_int_equal(lmp_test_cgroup_create(rel, cg, sizeof(cg), &cgid), 0);
	/* port 0: no clash with whatever else listens */
	snprintf(port, sizeof(port), "127.0.0.1:0");
	assert_int_equal(lmp_test_agent_start(
				 &a, (const char *const[]){ "--probes", "file", "--interval", "1",
							    "--top", "1000", "--listen", port,
							    "--disable-hooks", disable, NULL }),
			 0);
	if (!lmp_test_agent_stderr_has(&a, attach_line))
		fail_msg("no '%s' in:\n%s", attach_line, a.errbuf);

	w.pid = fork();
	if (w.pid == 0)
		child(cg, &w);
	assert_true(w.pid > 0);
	st = lmp_test_wait_child(w.pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	for (int i = 0; i < 20; i++) {
		lmp_test_agent_pump(&a, 500);
		sum_lines(&a, &w, cgid, &t);
		if (t.write_bytes >= (long)w.k && t.read_bytes >= (long)w.k)
			break;
	}
	lmp_test_agent_pump(&a, 2200); /* two more intervals: nothing may be added later */
	sum_lines(&a, &w, cgid, &t);
	assert_false(t.bad_fields);
	assert_true(t.lines >= 1);
	assert_int_equal(t.writes, 3);
	assert_int_equal(t.reads, 3);
	assert_int_equal(t.write_bytes, w.k);
	assert_int_equal(t.read_bytes, w.k);

	/* the pipe: type pipe, named pipe:[ino] as in /proc/<pid>/fd, PIPE_BYTES each way. Its
	 * inode is known only from the line, so take it from there */
	{
		size_t i;
		json_t *ev;

		json_array_foreach(a.events, i, ev) {
			const char *file = json_string_value(json_object_get(ev, "file"));

			if (json_integer_value(json_object_get(ev, "pid")) == w.pid && file &&
			    !strncmp(file, "pipe:[", 6))
				w.pipe_ino = json_integer_value(json_object_get(ev, "inode"));
		}
	}
	assert_true(w.pipe_ino > 0);
	sum_lines(&a, &w, cgid, &t);
	assert_false(t.bad_fields);
	assert_int_equal(t.pipe_writes, 1);
	assert_int_equal(t.pipe_reads, 1);
	assert_int_equal(t.pipe_write_bytes, PIPE_BYTES);
	assert_int_equal(t.pipe_read_bytes, PIPE_BYTES);

	/* the counters: at least our bytes on the regular-file series (the test cgroup is not
	 * a pod, so it shares the series of every other non-pod process) */
	{
		/* lmp_test_metric drains the agent's stdout while it scrapes: a busy host fills
		 * the pipe within an interval, and a blocked agent would never answer */
		double wr =
			lmp_test_metric(&a, "lmp_file_write_bytes_total", "type=\"regular\"", NULL);
		double rd =
			lmp_test_metric(&a, "lmp_file_read_bytes_total", "type=\"regular\"", NULL);

		assert_true(wr >= w.k);
		assert_true(rd >= w.k);
	}
	/* the agent's own writes to stdout are never counted */
	{
		struct lmp_test_want self = { "file", "summary", a.pid };

		assert_true(a.pid > 0);
		assert_null(lmp_test_agent_wait(&a, 0, lmp_test_match_want, &self));
	}
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	assert_int_equal(a.bad_lines, 0);
	lmp_test_agent_free(&a);
	lmp_test_cgroup_remove(cg);
	unlink(w.path);
}

/* the syscall dispatcher's exit tail, the default here (fexit refused, no kprobes) */
static void test_file_bytes(void **state)
{
	run_bytes("fentry", "probe file: attached (read=tp_btf,write=tp_btf)");
}

/* its raw_tp form, and the perf-event tracepoints on syscalls/sys_*_read and _write */
static void test_file_bytes_raw_tp(void **state)
{
	run_bytes("tp_btf", "probe file: attached (read=raw_tp,write=raw_tp)");
}

static void test_file_bytes_tracepoint(void **state)
{
	run_bytes("tp_btf,raw_tp", "probe file: attached (read=tracepoint,write=tracepoint)");
}

/* fexit and kprobe are written but refused here: with the tracepoints ruled out, the probe
 * is unsupported and says why for each alternative */
static void test_fallbacks_reported(void **state)
{
	char cmd[512];
	json_error_t jerr;
	json_t *arr, *p;
	bool seen = false;
	FILE *f;
	size_t i;

	snprintf(cmd, sizeof(cmd), "%s probes --json --disable-hooks tracepoint,tp_btf,raw_tp",
		 lmp_test_binary());
	f = popen(cmd, "r");
	assert_non_null(f);
	arr = json_loadf(f, 0, &jerr);
	pclose(f);
	assert_non_null(arr);
	json_array_foreach(arr, i, p) {
		const char *reason;

		if (strcmp(json_string_value(json_object_get(p, "name")), "file"))
			continue;
		seen = true;
		reason = json_string_value(json_object_get(p, "reason"));
		assert_string_equal(json_string_value(json_object_get(p, "state")), "unsupported");
		assert_non_null(strstr(reason, "read: fexit: "));
		assert_non_null(strstr(reason, "read: kprobe: "));
		assert_non_null(strstr(reason, "read: tp_btf: disabled by --disable-hooks"));
		assert_non_null(strstr(reason, "read: raw_tp: disabled by --disable-hooks"));
		assert_non_null(strstr(reason, "read: tracepoint: disabled by --disable-hooks"));
	}
	json_decref(arr);
	assert_true(seen);
}

/* the kprobe + kretprobe path cannot attach here, but it must be valid BPF: kprobe-type
 * programs load (the verifier takes them) without CONFIG_KPROBES */
static void test_kprobe_programs_verify(void **state)
{
	struct bpf_program *prog;
	struct file_bpf *skel;
	int n = 0;

	lmp_test_require_root();
	skel = file_bpf__open();
	assert_non_null(skel);
	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);
		bool kp = !strncmp(name, "kprobe_", 7) || !strncmp(name, "kretprobe_", 10);

		n += kp;
		bpf_program__set_autoload(prog, kp);
	}
	assert_int_equal(n, 4);
	assert_int_equal(file_bpf__load(skel), 0);
	file_bpf__destroy(skel);
}

/* a failed assertion skips a test's own cleanup */
static int remove_leftovers(void **state)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/lmp-test/file-%d", lmp_test_cgroup2_root(), getpid());
	lmp_test_cgroup_remove(path);
	lmp_test_sh("rm -f /tmp/lmp-file-test-%d-*", getpid());
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_bytes),
		cmocka_unit_test(test_file_bytes_raw_tp),
		cmocka_unit_test(test_file_bytes_tracepoint),
		cmocka_unit_test(test_fallbacks_reported),
		cmocka_unit_test(test_kprobe_programs_verify),
	};

	return cmocka_run_group_tests_name("file", tests, NULL, remove_leftovers);
}
