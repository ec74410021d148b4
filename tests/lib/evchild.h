/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the event-probe integration tests (oomkill, sigsnoop, bindsnoop, mountsnoop,
 * opensnoop, capable): a child that runs a C function inside given cgroups under a chosen
 * comm, a cgroup v1 memory controller group with a limit, and matching/reading events by
 * field (nested keys with dots: "memcg.limit_bytes").
 */
#ifndef LMP_TEST_EVCHILD_H
#define LMP_TEST_EVCHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

/*
 * Fork; the child joins the cgroup v2 directory cg and the v1 memory cgroup memcg (either
 * NULL: stays), sets its comm, and exits with fn(arg). Returns the pid, -1 on error.
 */
pid_t lmp_test_fork_in(const char *cg, const char *memcg, const char *comm, int (*fn)(void *),
		       void *arg);

/* for a child that is to be OOM-killed: its /proc/self/oom_score_adj */
void lmp_test_oom_score_adj(int adj);
/* touch size bytes of fresh anonymous memory, one page at a time; _exit(status) when it
 * cannot be mapped */
void lmp_test_touch(size_t size, int status);

/* mount point of the cgroup v1 memory controller, or NULL when there is none */
const char *lmp_test_memcg_v1_root(void);
/* mkdir <v1 memory root>/name with memory.limit_in_bytes = limit (and the memory+swap
 * limit where swap accounting exists). 0 or -errno. */
int lmp_test_memcg_v1_create(const char *name, unsigned long long limit, char *path, size_t len);
void lmp_test_memcg_v1_remove(const char *path);

/* value at a dotted key ("memcg.limit_bytes"), NULL when absent */
json_t *lmp_test_jget(json_t *ev, const char *key);
long long lmp_test_jint(json_t *ev, const char *key);	/* 0 when absent */
const char *lmp_test_jstr(json_t *ev, const char *key); /* NULL when absent or not a string */

/* cmocka assertion on a string field that prints the event when it fails (needs cmocka.h) */
#define assert_jstr(ev, key, want)                                                                \
	do {                                                                                      \
		const char *v_ = lmp_test_jstr((ev), (key));                                      \
		if (!v_ || strcmp(v_, (want))) {                                                  \
			char *d_ = json_dumps((ev), JSON_COMPACT);                                \
			fail_msg("%s: got %s, want %s, in %s", (key), v_ ? v_ : "(none)", (want), \
				 d_ ? d_ : "(no event)");                                         \
		}                                                                                 \
	} while (0)

/* probe and event (NULL: any) and up to three integer fields (key NULL: unused) */
struct lmp_test_fields {
	const char *probe, *event;
	const char *k[3];
	long long v[3];
};
bool lmp_test_match_fields(json_t *ev, void *ctx);

/*
 * A fake kubelet serving a fixture PodList (tests/fixtures/kubelet/<name>, or under
 * $LMP_FIXTURES) with a bearer token, for tests that check the pods events name.
 */
struct fake_kubelet;
struct lmp_test_agent;
struct lmp_test_kube {
	struct fake_kubelet *fk;
	char dir[64], token_file[128];
};
int lmp_test_kube_start(struct lmp_test_kube *k, const char *fixture);
void lmp_test_kube_stop(struct lmp_test_kube *k);
/* append the six agent arguments that point it at this kubelet; returns n + 6 */
int lmp_test_kube_args(struct lmp_test_kube *k, const char **args, int n);
/* wait (up to 10 s) until the agent logged its first kubelet sync */
void lmp_test_kube_wait_sync(struct lmp_test_agent *a);

/* port of the agent's HTTP server started with --listen 127.0.0.1:0 (from its log), or -1 */
int lmp_test_agent_http_port(struct lmp_test_agent *a);
/*
 * Sum of the samples of a metric family on the agent's /metrics (it must listen on
 * 127.0.0.1:0) whose label set contains both l1 and l2 (substrings such as pod="x"; NULL:
 * no condition). -1 when no sample matched or the scrape failed. The agent's stdout is
 * drained meanwhile: an agent blocked on a full pipe could not answer.
 */
double lmp_test_metric(struct lmp_test_agent *a, const char *family, const char *l1,
		       const char *l2);

#endif /* LMP_TEST_EVCHILD_H */
