/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration-test harness: run the real agent binary ($LMP) as a child, read its JSON
 * events, and make real cgroups and processes for it to observe. Used with cmocka.
 */
#ifndef LMP_TEST_HARNESS_H
#define LMP_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include <linux/types.h>

struct lmp_test_agent {
	pid_t pid;
	int out_fd, err_fd;
	char *outbuf, *errbuf; /* partial stdout line; all of stderr */
	size_t outlen, errlen, errcap;
	json_t *events;	  /* every event line seen so far, in order */
	size_t bad_lines; /* stdout lines that were not JSON objects */
	int status;	  /* exit status once stopped, -1 before */
};

/* Path of the agent binary: $LMP or build/lmp. */
const char *lmp_test_binary(void);

/*
 * Start `$LMP run --listen none <args...>` (args NULL-terminated) and wait until it logs
 * "ready:" (up to 30 s). Returns 0, or -1 if it exited or never got ready (stderr is
 * printed to help).
 */
int lmp_test_agent_start(struct lmp_test_agent *a, const char *const *args);
/* SIGTERM, wait up to timeout_ms; returns ms taken, or -1 on timeout (then SIGKILL). */
int lmp_test_agent_stop(struct lmp_test_agent *a, int timeout_ms);
void lmp_test_agent_free(struct lmp_test_agent *a);

typedef bool (*lmp_test_match_fn)(json_t *ev, void *ctx);
/* First event (old or new) for which match returns true, waiting up to timeout_ms. */
json_t *lmp_test_agent_wait(struct lmp_test_agent *a, int timeout_ms, lmp_test_match_fn match,
			    void *ctx);
/* Read whatever the agent printed in the next ms milliseconds. */
void lmp_test_agent_pump(struct lmp_test_agent *a, int ms);
/* Does stderr contain this text? */
bool lmp_test_agent_stderr_has(struct lmp_test_agent *a, const char *text);

/* is ev an event of probe and event (either NULL: any)? */
bool lmp_test_is_event(json_t *ev, const char *probe, const char *event);
/* match on probe, event and pid (pid 0: any) */
struct lmp_test_want {
	const char *probe, *event;
	pid_t pid;
};
bool lmp_test_match_want(json_t *ev, void *ctx);

/* cgroup v2 mount of this host: /sys/fs/cgroup/unified (hybrid) or /sys/fs/cgroup */
const char *lmp_test_cgroup2_root(void);
/* mkdir root/rel (parents too); id = inode of the directory. 0 or -errno */
int lmp_test_cgroup_create(const char *rel, char *path, size_t len, __u64 *id);
void lmp_test_cgroup_remove(const char *path);
/* move the calling process into the cgroup directory cg (open, write, close: no stdio);
 * 0, or -1 with a message on stderr */
int lmp_test_cgroup_join(const char *cg);
/* fork; the child joins cgroup path (NULL: stays) then execs argv. Returns the pid. */
pid_t lmp_test_spawn(const char *cgroup_path, char *const argv[]);
/* waitpid with the raw status; -1 on error */
int lmp_test_wait_child(pid_t pid);

/*
 * BPF objects a process holds, from /proc/<pid>/fdinfo: kind is "prog_id" or "link_id" or
 * "map_id". Returns how many ids were stored (distinct, at most max).
 */
int lmp_test_bpf_ids(pid_t pid, const char *kind, __u32 *ids, int max);

/*
 * GET path from 127.0.0.1:port, reading the agent's stdout meanwhile (a single-threaded
 * agent blocked on a full stdout pipe answers nobody). Returns the whole response (status
 * line, headers, body), malloc'd and NUL-terminated; NULL when no connection could be made
 * or the response did not end within timeout_ms.
 */
char *lmp_test_http_get(struct lmp_test_agent *a, int port, const char *path, int timeout_ms);
/* the body of such a response (NULL: none); its status code (-1: none) */
const char *lmp_test_http_body(const char *resp);
int lmp_test_http_status(const char *resp);
/* cmocka: lmp_test_http_get that must answer within 20 s; its body, malloc'd */
char *lmp_test_http_get_body(struct lmp_test_agent *a, int port, const char *path);

/*
 * Run a shell command and read its stdout, draining the agent a meanwhile (a command that
 * talks to the agent would otherwise wait on it). Returns the output, malloc'd and
 * NUL-terminated, or NULL when it could not run; *status: pclose()'s (status may be NULL).
 */
char *lmp_test_sh_read(struct lmp_test_agent *a, const char *cmd, int *status);

/* Run a shell command, return its exit status (-1 if it could not run). */
int lmp_test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cmocka: text contains every string of want (NULL-terminated); fails naming the first
 * one missing */
void lmp_test_assert_contains(const char *text, const char *const *want);

/* cmocka's assert for root: tests of real BPF fail loudly without it. */
void lmp_test_require_root(void);

#endif /* LMP_TEST_HARNESS_H */
