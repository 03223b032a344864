/*
 * loop_int.h - the seam between loop.c (timers, the iteration, the public
 * contract of lp_loop.h) and its platform backend (loop_epoll.c,
 * loop_win32.c). The backend also implements the source and signal calls
 * of lp_loop.h (lp_loop_watch*, lp_loop_unwatch, lp_loop_signal_add).
 */
#ifndef LP_LOOP_INT_H
#define LP_LOOP_INT_H

#include "lp_loop.h"

struct lp_loop_be;

struct lp_loop {
	struct lp_heap timers; /* of struct lp_loop_timer, by (deadline, seq) */
	uint64_t seq;
	uint64_t now;
	bool stop;
	struct lp_loop_be *be;
};

/* Creates the backend. Errors: LP_ERR_NOMEM, LP_ERR_IO. */
int lp_loop_be_new(struct lp_loop_be **out) LP_WUR;
/* Frees it (signals given back). Accepts NULL. */
void lp_loop_be_del(struct lp_loop_be *be);
/* Waits until a source is ready or `deadline` (ns of lp_now_ns();
 * UINT64_MAX: none) and records what is ready. 0, LP_ERR_IO or
 * LP_ERR_INVAL (nothing could end the wait); EINTR is 0. */
int lp_loop_be_wait(struct lp_loop *l, uint64_t deadline) LP_WUR;
/* Runs the callbacks of the sources the last wait found ready (skipping
 * those removed meanwhile). Returns how many ran. */
int lp_loop_be_dispatch(struct lp_loop *l);

#endif /* LP_LOOP_INT_H */
