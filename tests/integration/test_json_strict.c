// SPDX-License-Identifier: Apache-2.0
/*
 * Every line the agent prints is JSON that strict consumers accept. `--probes all` runs
 * while this test makes the events whose fields have no meaningful value: flushes (fsync
 * on ext4 on a loop device; a flush has no sector), discards (fstrim), failed I/O (a loop
 * device whose backing file is on a full tmpfs), a SIGSEGV sent by the kernel, an OOM
 * kill, exec of a long argv and a refused TCP connect. Then every stdout line is parsed by
 * jansson (duplicate keys rejected, objects only, integers must fit an int64) and by
 * Python's json module with the same checks, and the events this test caused must be
 * there with null where the kernel has no value.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <jansson.h>

#include "blkio_workload.h"
#include "evchild.h"
#include "harness.h"

#define MEMCG_LIMIT (32ULL << 20)

static struct {
	char dir[64], out[128], err[128], mnt[128], small[128], cg[4096], memcg[4096];
	char memcg_name[64];
	struct lmp_test_loop fs; /* ext4: flushes and discards */
	char bad_dev[64];	 /* loop device on a full tmpfs: failed writes */
	bool mounted, small_mounted;
	__u64 cgid;
	pid_t agent;
} C;

static int setup(void **state)
{
	char rel[128];

	lmp_test_require_root();
	snprintf(C.dir, sizeof(C.dir), "/tmp/lmp-json-XXXXXX");
	if (!mkdtemp(C.dir))
		return -1;
	snprintf(C.out, sizeof(C.out), "%s/stdout.jsonl", C.dir);
	snprintf(C.err, sizeof(C.err), "%s/stderr.log", C.dir);
	snprintf(C.mnt, sizeof(C.mnt), "%s/mnt", C.dir);
	snprintf(C.small, sizeof(C.small), "%s/small", C.dir);
	snprintf(rel, sizeof(rel), "lmp-test/json-strict-%d", getpid());
	if (lmp_test_cgroup_create(rel, C.cg, sizeof(C.cg), &C.cgid) < 0)
		return -1;
	snprintf(C.memcg_name, sizeof(C.memcg_name), "lmp-test-json-%d", getpid());
	if (lmp_test_memcg_v1_create(C.memcg_name, MEMCG_LIMIT, C.memcg, sizeof(C.memcg)) < 0)
		C.memcg[0] = 0; /* the OOM step fails loudly below */
	return 0;
}

static void stop_agent(void)
{
	int st;

	if (C.agent <= 0)
		return;
	kill(C.agent, SIGTERM);
	for (int i = 0; i < 100 && waitpid(C.agent, &st, WNOHANG) == 0; i++)
		usleep(100000);
	if (waitpid(C.agent, &st, WNOHANG) == 0) {
		kill(C.agent, SIGKILL);
		waitpid(C.agent, &st, 0);
	}
	C.agent = 0;
}

/* everything set up goes, whatever failed on the way */
static int teardown(void **state)
{
	stop_agent();
	if (C.mounted && umount2(C.mnt, 0) < 0)
		umount2(C.mnt, MNT_DETACH);
	if (C.bad_dev[0])
		lmp_test_sh("losetup -d %s", C.bad_dev);
	if (C.small_mounted && umount2(C.small, 0) < 0)
		umount2(C.small, MNT_DETACH);
	lmp_test_loop_destroy(&C.fs);
	if (C.memcg[0])
		lmp_test_memcg_v1_remove(C.memcg);
	lmp_test_cgroup_remove(C.cg);
	lmp_test_sh("rm -rf --one-file-system %s", C.dir);
	return 0;
}

static bool agent_ready(void)
{
	char buf[65536];
	FILE *f = fopen(C.err, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = 0;
	return strstr(buf, "ready:") != NULL;
}

static void start_agent(void)
{
	C.agent = fork();
	assert_true(C.agent >= 0);
	if (C.agent == 0) {
		int out = open(C.out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int err = open(C.err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
			_exit(127);
		execl(lmp_test_binary(), "lmp", "run", "--listen", "none", "--probes", "all",
		      "--interval", "1", "--biosnoop-min-latency-us", "0", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 600 && !agent_ready(); i++) {
		int st;

		if (waitpid(C.agent, &st, WNOHANG) == C.agent) {
			C.agent = 0;
			lmp_test_sh("cat %s >&2", C.err);
			fail_msg("the agent exited before it was ready");
		}
		usleep(100000);
	}
	if (!agent_ready()) {
		lmp_test_sh("cat %s >&2", C.err);
		fail_msg("the agent was not ready after 60 s");
	}
}

/* run a shell command inside the test's cgroup; its exit status */
static int sh_in_cg(const char *cmd)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	int st = lmp_test_wait_child(lmp_test_spawn(C.cg, argv));

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void io_workload(void)
{
	char cmd[1024];
	FILE *p;

	/* flushes and discards on an ext4 loop device */
	assert_int_equal(lmp_test_loop_create(&C.fs, "json", 64), 0);
	assert_int_equal(lmp_test_sh("mkfs.ext4 -q -F -E nodiscard %s", C.fs.dev), 0);
	assert_int_equal(mkdir(C.mnt, 0700), 0);
	assert_int_equal(lmp_test_sh("mount -t ext4 %s %s", C.fs.dev, C.mnt), 0);
	C.mounted = true;
	snprintf(cmd, sizeof(cmd),
		 "for i in 1 2 3 4 5 6 7 8; do dd if=/dev/zero of=%s/f$i bs=64k count=4 "
		 "conv=fsync status=none || exit 1; done; sync -f %s/f1 && rm %s/f2 %s/f3 && "
		 "sync -f %s/f1 && fstrim %s",
		 C.mnt, C.mnt, C.mnt, C.mnt, C.mnt, C.mnt);
	assert_int_equal(sh_in_cg(cmd), 0);

	/* writes that fail: a 16 MiB sparse backing file on a 1 MiB tmpfs */
	assert_int_equal(mkdir(C.small, 0700), 0);
	assert_int_equal(mount("lmp-json", C.small, "tmpfs", 0, "size=1m"), 0);
	C.small_mounted = true;
	assert_int_equal(lmp_test_sh("truncate -s 16M %s/backing", C.small), 0);
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s/backing", C.small);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(C.bad_dev, sizeof(C.bad_dev), p))
		C.bad_dev[0] = 0;
	pclose(p);
	C.bad_dev[strcspn(C.bad_dev, "\n")] = 0;
	assert_true(C.bad_dev[0] == '/');
	snprintf(cmd, sizeof(cmd), "dd if=/dev/zero of=%s bs=1M count=4 oflag=direct status=none",
		 C.bad_dev);
	assert_int_not_equal(sh_in_cg(cmd), 0); /* the device reports the failure */
}

static int segv(void *arg)
{
	struct rlimit no_core = { 0, 0 };

	setrlimit(RLIMIT_CORE, &no_core);
	*(volatile int *)arg = 1;
	return 0;
}

static int hog(void *arg)
{
	for (size_t n = 0; n < 4 * MEMCG_LIMIT; n += 4096) {
		char *p = malloc(4096);

		if (!p)
			return 1;
		p[0] = 1;
	}
	return 0;
}

/* exec of an argv larger than any record holds: 256 arguments of 1000 bytes */
static int long_exec(void *arg)
{
	static char args[256][1001];
	char *argv[258] = { "/bin/true" };

	for (int i = 0; i < 256; i++) {
		memset(args[i], 'a' + i % 26, 1000);
		args[i][0] = '"'; /* and characters JSON must escape */
		args[i][1] = '\\';
		args[i][2] = '\t';
		argv[i + 1] = args[i];
	}
	execv(argv[0], argv);
	return 127;
}

static int refused_connect(void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ? 0 : 1;
}

static pid_t C_segv, C_oom, C_exec;

static void process_workload(void)
{
	int st;

	C_segv = lmp_test_fork_in(C.cg, NULL, "lmp-json-segv", segv, NULL);
	st = lmp_test_wait_child(C_segv);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);

	assert_true(C.memcg[0] != 0);
	C_oom = lmp_test_fork_in(C.cg, C.memcg, "lmp-json-oom", hog, NULL);
	st = lmp_test_wait_child(C_oom);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	C_exec = lmp_test_fork_in(C.cg, NULL, "lmp-json-exec", long_exec, NULL);
	st = lmp_test_wait_child(C_exec);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	st = lmp_test_wait_child(
		lmp_test_fork_in(C.cg, NULL, "lmp-json-tcp", refused_connect, NULL));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static bool is(json_t *ev, const char *key, const char *want)
{
	const char *v = lmp_test_jstr(ev, key);

	return v && !strcmp(v, want);
}

/* Python's json, independently: duplicate keys, NaN/Infinity and integers beyond int64 fail */
static const char py_check[] =
	"import json, sys\n"
	"def pairs(kv):\n"
	"    if len({k for k, _ in kv}) != len(kv): raise ValueError('duplicate key')\n"
	"    return dict(kv)\n"
	"def pint(s):\n"
	"    v = int(s)\n"
	"    if not -2**63 <= v < 2**63: raise ValueError('integer beyond int64: ' + s)\n"
	"    return v\n"
	"def const(c): raise ValueError('not JSON: ' + c)\n"
	"n = 0\n"
	"with open(sys.argv[1], encoding='utf-8', errors='strict', newline='\\n') as f:\n"
	"    for i, line in enumerate(f, 1):\n"
	"        try:\n"
	"            o = json.loads(line, object_pairs_hook=pairs, parse_int=pint,\n"
	"                           parse_constant=const)\n"
	"            if not isinstance(o, dict): raise ValueError('not an object')\n"
	"        except ValueError as e:\n"
	"            sys.exit('line %d: %s: %s' % (i, e, line[:300]))\n"
	"        n += 1\n"
	"print(n)\n";

static void test_every_line_is_strict_json(void **state)
{
	char *line = NULL, cmd[512];
	size_t cap = 0, lines = 0;
	ssize_t len;
	json_error_t jerr;
	bool flush = false, discard = false, failed = false, segv_sig = false, segv_exit = false,
	     oom = false, exec = false, tcp = false;
	long py_lines = -1;
	FILE *f;

	start_agent();
	io_workload();
	process_workload();
	sleep(3); /* the ring buffers drained, summaries of at least two intervals */
	stop_agent();

	f = fopen(C.out, "r");
	assert_non_null(f);
	while ((len = getline(&line, &cap, f)) > 0) {
		json_t *ev;

		lines++;
		if (line[len - 1] != '\n')
			fail_msg("line %zu has no newline (cut short?)", lines);
		/* strict: one object per line, no duplicate key, no NUL; jansson refuses an
		 * integer beyond int64 ("too big integer") on its own */
		ev = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
		if (!ev || !json_is_object(ev))
			fail_msg("line %zu: %s: %.300s", lines, ev ? "not an object" : jerr.text,
				 line);
		if (is(ev, "probe", "biosnoop") && is(ev, "disk", C.fs.name)) {
			json_t *sector = json_object_get(ev, "sector");

			assert_non_null(sector); /* present, null or an integer */
			/* a flush without data has no sector: null, never (sector_t)-1 */
			if (is(ev, "op", "flush") && json_is_null(sector))
				flush = true;
			else if (is(ev, "op", "flush") &&
				 !json_integer_value(json_object_get(ev, "bytes")))
				fail_msg("flush without data has a sector: %.300s", line);
			discard |= is(ev, "op", "discard");
		}
		if (is(ev, "probe", "biosnoop") && is(ev, "disk", strrchr(C.bad_dev, '/') + 1) &&
		    json_is_string(json_object_get(ev, "error")))
			failed = true;
		if (lmp_test_jint(ev, "pid") == C_segv && is(ev, "signal", "SIGSEGV")) {
			segv_sig |= is(ev, "probe", "sigsnoop");
			segv_exit |= is(ev, "probe", "process") && is(ev, "event", "exit");
		}
		oom |= is(ev, "probe", "oomkill") && lmp_test_jint(ev, "pid") == C_oom;
		exec |= is(ev, "probe", "process") && is(ev, "event", "exec") &&
			lmp_test_jint(ev, "pid") == C_exec &&
			json_is_true(json_object_get(ev, "argv_truncated"));
		tcp |= is(ev, "probe", "tcp") && is(ev, "event", "connect") &&
		       (__u64)lmp_test_jint(ev, "cgroup_id") == C.cgid;
		json_decref(ev);
	}
	free(line);
	fclose(f);
	print_message("%zu lines\n", lines);
	assert_true(lines > 0);

	snprintf(cmd, sizeof(cmd), "%s/check.py", C.dir);
	f = fopen(cmd, "w");
	assert_non_null(f);
	fputs(py_check, f);
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "python3 %s/check.py %s", C.dir, C.out);
	f = popen(cmd, "r");
	assert_non_null(f);
	if (fscanf(f, "%ld", &py_lines) != 1)
		py_lines = -1;
	assert_int_equal(pclose(f), 0);
	assert_int_equal(py_lines, lines);

	/* the events this test caused, each with its unrepresentable value as null */
	assert_true(flush);
	assert_true(discard);
	assert_true(failed);
	assert_true(segv_sig);
	assert_true(segv_exit);
	assert_true(oom);
	assert_true(exec);
	assert_true(tcp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_line_is_strict_json),
	};

	return cmocka_run_group_tests_name("json_strict", tests, setup, teardown);
}
