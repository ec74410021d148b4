// SPDX-License-Identifier: Apache-2.0
/*
 * The threads only wait in the kernel; they compute nothing and share nothing but the
 * index of the next item. Signals stay with the main thread (its signalfd).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "probe/detach.h"

/* threads waiting in the kernel at once; measured in docs/hardening.md (shutdown) */
#define LMP_DETACH_THREADS 32
#define LMP_DETACH_STACK (64 * 1024)

struct detach_job {
	struct bpf_link **links;
	int *fds;
	size_t n;
	atomic_size_t next;
};

static void *detach_worker(void *arg)
{
	struct detach_job *j = arg;
	size_t k;

	while ((k = atomic_fetch_add(&j->next, 1)) < j->n) {
		if (j->links) {
			bpf_link__destroy(j->links[k]);
			j->links[k] = NULL;
		} else if (j->fds[k] >= 0) {
			close(j->fds[k]);
			j->fds[k] = -1;
		}
	}
	return NULL;
}

static void run(struct detach_job *j)
{
	pthread_t th[LMP_DETACH_THREADS];
	size_t started = 0, want = j->n / 2; /* one link is not worth a thread */
	pthread_attr_t attr;
	sigset_t all, old;

	if (want > LMP_DETACH_THREADS)
		want = LMP_DETACH_THREADS;
	if (want && pthread_attr_init(&attr) == 0) {
		pthread_attr_setstacksize(&attr, LMP_DETACH_STACK);
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		while (started < want && pthread_create(&th[started], &attr, detach_worker, j) == 0)
			started++;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
	}
	detach_worker(j); /* with no thread at all, this does them one by one */
	for (size_t t = 0; t < started; t++)
		pthread_join(th[t], NULL);
}

void lmp_links_destroy(struct bpf_link **links, size_t n)
{
	struct detach_job j = { .links = links, .n = n };

	run(&j);
}

void lmp_link_fds_close(int *fds, size_t n)
{
	struct detach_job j = { .fds = fds, .n = n };

	run(&j);
}
