/*
 * lp_loop.h - a tiny single-threaded event loop in the spirit of Redis ae,
 * one contract for every platform: source watchers, one-shot timers with
 * nanosecond deadlines, and signals delivered as ordinary callbacks.
 *
 * The contract lives in loop.c (timers, the iteration, stop); a backend per
 * platform waits for the sources:
 *   - loop_epoll.c (Linux): epoll_pwait2() with a timespec, so a timer fires
 *     with nanosecond precision (QUIC pacing deadlines are microseconds
 *     apart); kernels without epoll_pwait2 fall back to a timerfd.
 *   - loop_win32.c (Windows): WaitForMultipleObjects. Its waits take whole
 *     milliseconds, rounded up (never down, which would spin until the
 *     deadline), so a timer fires up to 1 ms late - up to a system tick late
 *     unless the process called timeBeginPeriod(1). Paced QUIC then leaves
 *     in 1 ms bursts: plenty for LAN-party traffic, below the Linux figure.
 *
 * A source is an intptr_t: a file descriptor on Linux; on Windows a SOCKET
 * (lp_udp_fd()) or a waitable HANDLE (lp_tap_get_handle(), an event). The
 * Windows backend tells them apart itself: a socket is watched through a
 * WSAEventSelect event it owns and reports LP_LOOP_READ / LP_LOOP_WRITE like
 * epoll (LP_LOOP_WRITE once a send found the buffer full and room came
 * back); a HANDLE is reported as LP_LOOP_READ whenever it is signaled, and
 * it must be a manual-reset event (or another object whose wait does not
 * change it) that the callback resets or re-arms (ResetEvent, lp_tap_read).
 * Windows watches at most LP_LOOP_WATCH_MAX sources.
 *
 * Time is uint64_t nanoseconds of lp_now_ns(). Timers live in caller storage
 * (struct lp_loop_timer, usually embedded in their owner): arming never
 * allocates once the heap has grown to the number of armed timers. Each
 * timer is one-shot: re-arm it from its callback for periodic work.
 *
 * Callbacks may watch/unwatch sources, arm/cancel any timer and call
 * lp_loop_stop(). Everything here is for one thread.
 */
#ifndef LP_LOOP_H
#define LP_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"

struct lp_loop;
struct lp_loop_timer;

/* Event bits for watchers (and the `events` argument of callbacks). */
#define LP_LOOP_READ 0x1u
#define LP_LOOP_WRITE 0x2u
/* Only reported: error or hang-up on the source (also wakes readers). */
#define LP_LOOP_ERROR 0x4u

/* Windows: the WaitForMultipleObjects limit, one slot kept for signals. */
#define LP_LOOP_WATCH_MAX 63

typedef void (*lp_loop_src_fn)(struct lp_loop *l, intptr_t src, unsigned events, void *arg);
typedef void (*lp_loop_timer_fn)(struct lp_loop *l, struct lp_loop_timer *t, void *arg);
typedef void (*lp_loop_signal_fn)(struct lp_loop *l, int signo, void *arg);

/* One-shot timer in caller storage. Initialise with lp_loop_timer_init();
 * the fields are private. It must stay valid (or be cancelled) while armed. */
struct lp_loop_timer {
	struct lp_heap_entry he;
	uint64_t deadline; /* ns of lp_now_ns() */
	uint64_t seq;      /* arm order: equal deadlines fire in arm order */
	lp_loop_timer_fn fn;
	void *arg;
};

/* Creates a loop. Errors: LP_ERR_NOMEM, LP_ERR_IO (epoll, errno kept). */
int lp_loop_new(struct lp_loop **out) LP_WUR;
/* Frees the loop. Watched sources are not closed; armed timers are
 * forgotten; signals taken by lp_loop_signal_add are given back. Accepts
 * NULL. */
void lp_loop_del(struct lp_loop *l);

/*
 * Watches src for `events` (LP_LOOP_READ / LP_LOOP_WRITE, level-triggered
 * on Linux; see the top of the file for Windows). fn(l, src, revents, arg)
 * runs when it is ready; revents may include LP_LOOP_ERROR. Errors:
 * LP_ERR_INVAL (bad source, already watched, no events, fn NULL),
 * LP_ERR_NOMEM, LP_ERR_NOBUF (Windows: LP_LOOP_WATCH_MAX reached),
 * LP_ERR_IO (epoll_ctl / WSAEventSelect failed, errno / WSA error kept).
 */
int lp_loop_watch(struct lp_loop *l, intptr_t src, unsigned events, lp_loop_src_fn fn,
                  void *arg) LP_WUR;
/* Changes the watched events of src (0 = pause it). Errors:
 * LP_ERR_NOT_FOUND, LP_ERR_IO. */
int lp_loop_watch_mod(struct lp_loop *l, intptr_t src, unsigned events) LP_WUR;
/* Stops watching src (before closing it). No-op for an unknown source.
 * Safe from any callback: a pending event of the removed source is not
 * delivered. */
void lp_loop_unwatch(struct lp_loop *l, intptr_t src);

void lp_loop_timer_init(struct lp_loop_timer *t, lp_loop_timer_fn fn, void *arg);
/*
 * Arms (or re-arms) t to fire once at deadline_ns. A deadline in the past
 * fires on the next iteration (or in this one, when a source callback arms
 * it). A timer armed from a timer callback fires on the next iteration at
 * the earliest, so a timer re-arming itself in the past cannot starve the
 * sources.
 * Errors: LP_ERR_NOMEM (only when t was not armed; it stays disarmed).
 */
int lp_loop_timer_arm(struct lp_loop *l, struct lp_loop_timer *t, uint64_t deadline_ns) LP_WUR;
/* Disarms t; no-op when it is not armed. */
void lp_loop_timer_cancel(struct lp_loop *l, struct lp_loop_timer *t);
static inline bool lp_loop_timer_armed(const struct lp_loop_timer *t)
{
	return lp_heap_queued(&t->he);
}

/*
 * Delivers signo through the loop as a normal callback, race-free.
 * Linux: any signal (the daemons take SIGINT, SIGTERM, SIGHUP, SIGUSR1); it
 * is blocked for the process (call before starting threads) and read from a
 * signalfd. Windows: SIGINT (Ctrl-C, Ctrl-Break) and SIGTERM (console
 * close, logoff, shutdown) from a console control handler; for the close
 * events Windows ends the process once the handler returns, so the handler
 * waits (up to 4 s) for lp_loop_del, leaving the owner time to clean up.
 * One loop per process takes signals on Windows. Errors: LP_ERR_INVAL (bad
 * or unsupported signo, already added, fn NULL), LP_ERR_IO.
 */
int lp_loop_signal_add(struct lp_loop *l, int signo, lp_loop_signal_fn fn, void *arg) LP_WUR;

/* Makes lp_loop_run() return after the current iteration. */
void lp_loop_stop(struct lp_loop *l);

/*
 * Runs one iteration: waits until a source is ready, a timer is due, or
 * max_wait_ns passed (UINT64_MAX: no limit beyond the timers; 0: poll),
 * then runs the source callbacks and the due timers. Returns the number of
 * callbacks run (>= 0), LP_ERR_IO (the wait failed, e.g. a watched handle
 * was closed; errno / GetLastError kept; EINTR is not an error) or
 * LP_ERR_INVAL (Windows: nothing watched and no deadline, so nothing could
 * ever end the wait).
 */
int lp_loop_run_once(struct lp_loop *l, uint64_t max_wait_ns) LP_WUR;
/* Runs until lp_loop_stop(). Returns 0 or the error of lp_loop_run_once. */
int lp_loop_run(struct lp_loop *l) LP_WUR;

/* lp_now_ns() sampled after the last wait (cheaper for callbacks that need
 * "now" and tolerate a few microseconds of age). */
uint64_t lp_loop_now(const struct lp_loop *l);
/* Number of armed timers (tests, diagnostics). */
size_t lp_loop_timer_count(const struct lp_loop *l);

#endif /* LP_LOOP_H */
