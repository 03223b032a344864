/*
 * lp_loop.h - a tiny single-threaded event loop in the spirit of Redis ae:
 * one epoll descriptor, fd watchers, one-shot timers with nanosecond
 * deadlines and signals delivered as ordinary callbacks.
 *
 * Time is uint64_t nanoseconds of CLOCK_MONOTONIC (lp_now_ns()). The wait
 * uses epoll_pwait2() with a timespec, so a timer fires with nanosecond
 * precision (QUIC pacing deadlines are a few microseconds apart; a
 * millisecond poll timeout halves QUIC throughput). Kernels without
 * epoll_pwait2 fall back to one timerfd armed on the nearest deadline.
 *
 * Timers live in caller storage (struct lp_loop_timer, usually embedded in
 * the object that owns it): arming never allocates once the heap has grown
 * to the number of armed timers. Each timer is one-shot: re-arm it from its
 * callback for periodic work.
 *
 * Callbacks may add/remove fd watchers, arm/cancel any timer and call
 * lp_loop_stop(). Everything here is for one thread; only lp_loop_wake()
 * may be called from a signal handler (or another thread).
 */
#ifndef LP_LOOP_H
#define LP_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"

struct lp_loop;
struct lp_loop_timer;

/* Event bits for fd watchers (and the `events` argument of callbacks). */
#define LP_LOOP_READ 0x1u
#define LP_LOOP_WRITE 0x2u
/* Only reported: error or hang-up on the descriptor (also wakes readers). */
#define LP_LOOP_ERROR 0x4u

typedef void (*lp_loop_fd_fn)(struct lp_loop *l, int fd, unsigned events, void *arg);
typedef void (*lp_loop_timer_fn)(struct lp_loop *l, struct lp_loop_timer *t, void *arg);
typedef void (*lp_loop_signal_fn)(struct lp_loop *l, int signo, void *arg);

/* One-shot timer in caller storage. Initialise with lp_loop_timer_init();
 * the fields are private. It must stay valid (or be cancelled) while armed. */
struct lp_loop_timer {
	uint64_t deadline; /* ns, CLOCK_MONOTONIC */
	uint64_t seq;      /* arm order: equal deadlines fire in arm order */
	size_t slot;       /* heap index + 1; 0 = not armed */
	lp_loop_timer_fn fn;
	void *arg;
};

/* Creates a loop. Errors: LP_ERR_NOMEM, LP_ERR_IO (epoll/eventfd, errno kept). */
int lp_loop_new(struct lp_loop **out) LP_WUR;
/* Frees the loop. Watched fds are not closed; armed timers are forgotten;
 * signals taken by lp_loop_signal_add are unblocked again. Accepts NULL. */
void lp_loop_del(struct lp_loop *l);

/*
 * Watches fd for `events` (LP_LOOP_READ / LP_LOOP_WRITE, level-triggered).
 * fn(l, fd, revents, arg) runs when it is ready; revents may include
 * LP_LOOP_ERROR. Errors: LP_ERR_INVAL (fd < 0, already watched, no events),
 * LP_ERR_NOMEM, LP_ERR_IO (epoll_ctl, errno kept).
 */
int lp_loop_fd_add(struct lp_loop *l, int fd, unsigned events, lp_loop_fd_fn fn, void *arg) LP_WUR;
/* Changes the watched events of fd (0 = pause it). Errors: LP_ERR_NOT_FOUND,
 * LP_ERR_IO. */
int lp_loop_fd_mod(struct lp_loop *l, int fd, unsigned events) LP_WUR;
/* Stops watching fd (before closing it). No-op for an unknown fd. Safe from
 * any callback: a pending event of the removed fd is not delivered. */
void lp_loop_fd_del(struct lp_loop *l, int fd);

void lp_loop_timer_init(struct lp_loop_timer *t, lp_loop_timer_fn fn, void *arg);
/*
 * Arms (or re-arms) t to fire once at deadline_ns. A deadline in the past
 * fires on the next iteration. A timer armed from a timer callback fires
 * on the next iteration at the earliest, never within the same one, so a
 * timer re-arming itself in the past cannot starve fd events.
 * Errors: LP_ERR_NOMEM (the timer stays as it was).
 */
int lp_loop_timer_arm(struct lp_loop *l, struct lp_loop_timer *t, uint64_t deadline_ns) LP_WUR;
/* Disarms t; no-op when it is not armed. */
void lp_loop_timer_cancel(struct lp_loop *l, struct lp_loop_timer *t);
static inline bool lp_loop_timer_armed(const struct lp_loop_timer *t)
{
	return t->slot != 0;
}

/*
 * Delivers signo through the loop: blocks it for the process (call before
 * starting threads) and reads it from a signalfd, so fn runs as a normal
 * callback, race-free. Errors: LP_ERR_INVAL (bad signo, already added),
 * LP_ERR_IO.
 */
int lp_loop_signal_add(struct lp_loop *l, int signo, lp_loop_signal_fn fn, void *arg) LP_WUR;

/*
 * Optional flag checked before every wait: when *flag != 0 lp_loop_run()
 * returns. For a flag set by a plain signal handler, have the handler also
 * call lp_loop_wake() so a sleeping loop notices at once. NULL: none.
 */
void lp_loop_set_stop_flag(struct lp_loop *l, volatile sig_atomic_t *flag);
/* Makes lp_loop_run() return after the current iteration. */
void lp_loop_stop(struct lp_loop *l);
/* Wakes a sleeping loop (an eventfd write): async-signal-safe. */
void lp_loop_wake(struct lp_loop *l);

/*
 * Runs one iteration: waits until an fd is ready, a timer is due, or
 * max_wait_ns passed (UINT64_MAX: no limit beyond the timers; 0: poll),
 * then runs the fd callbacks and the due timers. Returns the number of
 * callbacks run (>= 0) or LP_ERR_IO (epoll failed, errno kept; EINTR is
 * not an error).
 */
int lp_loop_run_once(struct lp_loop *l, uint64_t max_wait_ns) LP_WUR;
/* Runs until lp_loop_stop() or the stop flag. Returns 0 or LP_ERR_IO. */
int lp_loop_run(struct lp_loop *l) LP_WUR;

/* The time sampled after the last wait (cheaper than lp_now_ns() for
 * callbacks that need "now" and tolerate a few microseconds of age). */
uint64_t lp_loop_now(const struct lp_loop *l);
/* Number of armed timers (tests, diagnostics). */
size_t lp_loop_timer_count(const struct lp_loop *l);

#endif /* LP_LOOP_H */
