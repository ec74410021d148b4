// SPDX-License-Identifier: Apache-2.0
/*
 * The seven syscall-family probes in one agent share one syscall dispatcher
 * (bpf/lmp_syscall.bpf.h): each must still report exactly what it reports alone. A child
 * in a cgroup of its own makes a known set of calls (getppid, failing openat, write and
 * pread on a file, bind, mount + umount2 of a tmpfs, a signal to itself); every probe's
 * lines for that child or cgroup must add up to exactly those calls. Run on each hook kind
 * of the dispatcher that works here.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "harness.h"
#include "evchild.h"

#define N_GETPPID 4321
#define N_MISSING 7
#define CHUNK 1000
#define N_WRITES 3
#define N_PREADS 2

#define ALL "syscall,syscount,file,opensnoop,bindsnoop,mountsnoop,sigsnoop"

struct work {
	char cg[4096], file[128], missing[128], dir[128];
	__u64 cgid;
	pid_t pid;
};

/* the child: joins the cgroup, then raw calls only, so that nothing else lands in it */
static void child(const struct work *w, int fd)
{
	char procs[4200], pid[16], buf[CHUNK];
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s, cg;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", w->cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	memset(buf, 'x', sizeof(buf));
	cg = open(procs, O_WRONLY);
	if (cg < 0 || write(cg, pid, strlen(pid)) < 0)
		_exit(10);
	close(cg);
	for (int i = 0; i < N_GETPPID; i++)
		syscall(SYS_getppid);
	for (int i = 0; i < N_MISSING; i++)
		if (syscall(SYS_openat, AT_FDCWD, w->missing, O_RDONLY) >= 0)
			_exit(11);
	for (int i = 0; i < N_WRITES; i++)
		if (syscall(SYS_write, fd, buf, CHUNK) != CHUNK)
			_exit(12);
	for (int i = 0; i < N_PREADS; i++)
		if (syscall(SYS_pread64, fd, buf, CHUNK, (long)i * CHUNK) != CHUNK)
			_exit(13);
	s = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	if (s < 0 || syscall(SYS_bind, s, &sin, sizeof(sin)) < 0)
		_exit(14);
	if (syscall(SYS_mount, "lmp-family", w->dir, "tmpfs", 0L, "size=64k") < 0 ||
	    syscall(SYS_umount2, w->dir, 0L) < 0)
		_exit(15);
	if (syscall(SYS_kill, getpid(), SIGWINCH) < 0) /* ignored by default */
		_exit(16);
	_exit(0);
}

struct tally {
	long syscall_getppid, syscount_getppid, syscount_openat, syscount_openat_err;
	long enoent, reads, writes, read_bytes, write_bytes, opens, binds, mounts, umounts;
	long signals;
};

static long syscalls_count(json_t *ev, const char *name)
{
	json_t *sc;
	size_t i;
	long n = 0;

	json_array_foreach(json_object_get(ev, "syscalls"), i, sc)
		if (!strcmp(json_string_value(json_object_get(sc, "syscall")), name))
			n += lmp_test_jint(sc, "count");
	return n;
}

static void tally(struct lmp_test_agent *a, const struct work *w, struct tally *t)
{
	const char *base = strrchr(w->file, '/') + 1;
	size_t i;
	json_t *ev;

	memset(t, 0, sizeof(*t));
	json_array_foreach(a->events, i, ev) {
		const char *probe = lmp_test_jstr(ev, "probe"), *event = lmp_test_jstr(ev, "event");
		bool mine = lmp_test_jint(ev, "pid") == w->pid;

		if (!probe || !event || (__u64)lmp_test_jint(ev, "cgroup_id") != w->cgid)
			continue; /* the child's write to cgroup.procs came before the move */
		if (!strcmp(probe, "syscall") && mine) {
			t->syscall_getppid += syscalls_count(ev, "getppid");
		} else if (!strcmp(probe, "syscount")) {
			json_t *sc;
			size_t k;

			t->syscount_getppid += syscalls_count(ev, "getppid");
			json_array_foreach(json_object_get(ev, "syscalls"), k, sc) {
				if (!strcmp(json_string_value(json_object_get(sc, "syscall")),
					    "openat")) {
					t->syscount_openat += lmp_test_jint(sc, "count");
					t->syscount_openat_err += lmp_test_jint(sc, "errors");
				}
			}
			t->enoent += lmp_test_jint(json_object_get(ev, "errnos"), "ENOENT");
		} else if (!strcmp(probe, "file") && mine && lmp_test_jstr(ev, "file") &&
			   !strcmp(lmp_test_jstr(ev, "file"), base)) {
			t->reads += lmp_test_jint(ev, "reads");
			t->writes += lmp_test_jint(ev, "writes");
			t->read_bytes += lmp_test_jint(ev, "read_bytes");
			t->write_bytes += lmp_test_jint(ev, "write_bytes");
		} else if (!strcmp(probe, "opensnoop") && mine && lmp_test_jstr(ev, "path") &&
			   !strcmp(lmp_test_jstr(ev, "path"), w->missing)) {
			t->opens++;
		} else if (!strcmp(probe, "bindsnoop") && mine) {
			t->binds++;
		} else if (!strcmp(probe, "mountsnoop") && mine && lmp_test_jstr(ev, "target") &&
			   !strcmp(lmp_test_jstr(ev, "target"), w->dir)) {
			t->mounts += !strcmp(event, "mount");
			t->umounts += !strcmp(event, "umount");
		} else if (!strcmp(probe, "sigsnoop") && mine &&
			   lmp_test_jint(ev, "sig") == SIGWINCH) {
			t->signals++;
		}
	}
}

static bool complete(const struct tally *t)
{
	return t->syscall_getppid >= N_GETPPID && t->syscount_getppid >= N_GETPPID &&
	       t->enoent >= N_MISSING && t->writes >= N_WRITES && t->reads >= N_PREADS &&
	       t->opens >= N_MISSING && t->binds && t->mounts && t->umounts && t->signals;
}

static void run_all(const char *disable, const char *const *attach_lines)
{
	struct lmp_test_agent a;
	struct work w = { 0 };
	char rel[128];
	struct tally t;
	int fd, st;

	lmp_test_require_root();
	snprintf(rel, sizeof(rel), "lmp-test/family-%d", getpid());
	assert_int_equal(lmp_test_cgroup_create(rel, w.cg, sizeof(w.cg), &w.cgid), 0);
	snprintf(w.file, sizeof(w.file), "/tmp/lmp-family-%d-XXXXXX", getpid());
	snprintf(w.missing, sizeof(w.missing), "/nonexistent-lmp-family-%d/file", getpid());
	snprintf(w.dir, sizeof(w.dir), "/tmp/lmp-family-mnt-%d", getpid());
	fd = mkstemp(w.file);
	assert_true(fd >= 0);
	assert_int_equal(mkdir(w.dir, 0700), 0);
	assert_int_equal(lmp_test_agent_start(&a, (const char *const[]){ "--probes", ALL,
									 "--interval", "1", "--top",
									 "1000", "--disable-hooks",
									 disable, NULL }),
			 0);
	for (; *attach_lines; attach_lines++)
		if (!lmp_test_agent_stderr_has(&a, *attach_lines))
			fail_msg("no '%s' in:\n%s", *attach_lines, a.errbuf);

	w.pid = fork();
	if (w.pid == 0)
		child(&w, fd);
	assert_true(w.pid > 0);
	close(fd);
	st = lmp_test_wait_child(w.pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	for (int i = 0; i < 120; i++) { /* up to a minute: a busy agent prints late */
		lmp_test_agent_pump(&a, 500);
		tally(&a, &w, &t);
		if (complete(&t))
			break;
	}
	lmp_test_agent_pump(&a, 2200); /* two more intervals: nothing may be added later */
	tally(&a, &w, &t);
	assert_int_equal(t.syscall_getppid, N_GETPPID);
	assert_int_equal(t.syscount_getppid, N_GETPPID);
	assert_int_equal(t.syscount_openat, N_MISSING);
	assert_int_equal(t.syscount_openat_err, N_MISSING);
	assert_int_equal(t.enoent, N_MISSING);
	assert_int_equal(t.writes, N_WRITES);
	assert_int_equal(t.write_bytes, N_WRITES * CHUNK);
	assert_int_equal(t.reads, N_PREADS);
	assert_int_equal(t.read_bytes, N_PREADS * CHUNK);
	assert_int_equal(t.opens, N_MISSING);
	assert_int_equal(t.binds, 1);
	assert_int_equal(t.mounts, 1);
	assert_int_equal(t.umounts, 1);
	assert_int_equal(t.signals, 1);

	assert_true(lmp_test_agent_stop(&a, 15000) >= 0); /* slow on a busy machine */
	assert_int_equal(a.bad_lines, 0);
	lmp_test_agent_free(&a);
	lmp_test_cgroup_remove(w.cg);
	unlink(w.file);
	rmdir(w.dir);
}

/* fexit and kprobes ruled out (refused here, not on every kernel) so that file takes the
 * dispatcher everywhere. The default choice: every probe on the dispatcher (tp_btf), the
 * snoop probes as its tails rather than on their own syscalls/sys_* tracepoints */
static void test_all_default(void **state)
{
	run_all("fexit,kprobe",
		(const char *const[]){ "probe syscall: attached (enter=tp_btf)",
				       "probe file: attached (read=tp_btf,write=tp_btf)",
				       "probe opensnoop: attached (enter=shared:", NULL });
}

/* alone, a snoop probe keeps its own tracepoints: the dispatcher would run on every call */
static void test_snoop_alone_own_tracepoints(void **state)
{
	struct lmp_test_agent a;

	lmp_test_require_root();
	assert_int_equal(
		lmp_test_agent_start(&a, (const char *const[]){ "--probes", "opensnoop", NULL }),
		0);
	if (!lmp_test_agent_stderr_has(&a, "probe opensnoop: attached (enter=tracepoint,"
					   "exit=tracepoint)"))
		fail_msg("opensnoop alone not on its tracepoints:\n%s", a.errbuf);
	assert_true(lmp_test_agent_stop(&a, 15000) >= 0);
}

/* no syscalls/sys_* tracepoints: every probe on the one dispatcher, the snoop probes as tails */
static void test_all_tp_btf(void **state)
{
	run_all("tracepoint,fexit,kprobe",
		(const char *const[]){ "probe syscall: attached (enter=tp_btf)", "exit=shared:",
				       "probe opensnoop: attached "
				       "(enter=shared:syscall,exit=shared:",
				       NULL });
}

static void test_all_raw_tp(void **state)
{
	run_all("tracepoint,tp_btf,fexit,kprobe",
		(const char *const[]){
			"probe syscall: attached (enter=raw_tp)",
			"probe sigsnoop: attached (enter=shared:syscall,exit=shared:", NULL });
}

/* the 5.10 path (no task storage for tracing programs) on this kernel */
static void test_all_without_task_storage(void **state)
{
	setenv("LMP_SYS_TASK_STORAGE", "0", 1);
	run_all("tracepoint,fexit,kprobe",
		(const char *const[]){ "probe syscall: attached (enter=tp_btf)", NULL });
	unsetenv("LMP_SYS_TASK_STORAGE");
}

static int remove_leftovers(void **state)
{
	char path[4200];

	unsetenv("LMP_SYS_TASK_STORAGE");
	snprintf(path, sizeof(path), "%s/lmp-test/family-%d", lmp_test_cgroup2_root(), getpid());
	lmp_test_cgroup_remove(path);
	lmp_test_sh("umount /tmp/lmp-family-mnt-%d 2>/dev/null; rmdir /tmp/lmp-family-mnt-%d "
		    "2>/dev/null; rm -f /tmp/lmp-family-%d-*",
		    getpid(), getpid(), getpid());
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_all_default, remove_leftovers),
		cmocka_unit_test(test_snoop_alone_own_tracepoints),
		cmocka_unit_test_teardown(test_all_tp_btf, remove_leftovers),
		cmocka_unit_test_teardown(test_all_raw_tp, remove_leftovers),
		cmocka_unit_test_teardown(test_all_without_task_storage, remove_leftovers),
	};

	return cmocka_run_group_tests_name("syscall_family", tests, NULL, remove_leftovers);
}
