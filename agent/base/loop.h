/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's single-threaded epoll loop: everything runs from here, so no module locks. */
#ifndef LMP_LOOP_H
#define LMP_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct lmp_loop;

typedef void (*lmp_loop_fd_fn)(void *ctx, int fd, uint32_t events);
typedef void (*lmp_loop_timer_fn)(void *ctx);

int lmp_loop_new(struct lmp_loop **out);
void lmp_loop_free(struct lmp_loop *l);

int lmp_loop_add_fd(struct lmp_loop *l, int fd, uint32_t events, lmp_loop_fd_fn cb, void *ctx);
int lmp_loop_mod_fd(struct lmp_loop *l, int fd, uint32_t events);
int lmp_loop_del_fd(struct lmp_loop *l, int fd);

/* an id > 0, or -errno */
int lmp_loop_add_timer(struct lmp_loop *l, uint64_t ms, bool periodic, lmp_loop_timer_fn cb,
		       void *ctx);
/* ms = 0 disarms */
int lmp_loop_set_timer(struct lmp_loop *l, int id, uint64_t ms, bool periodic);
int lmp_loop_del_timer(struct lmp_loop *l, int id);

/* after each iteration's callbacks */
void lmp_loop_set_idle(struct lmp_loop *l, lmp_loop_timer_fn cb, void *ctx);

/* until lmp_loop_stop(); -errno if epoll failed */
int lmp_loop_run(struct lmp_loop *l);
void lmp_loop_stop(struct lmp_loop *l);

#endif /* LMP_LOOP_H */
