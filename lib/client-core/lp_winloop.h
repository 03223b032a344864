/*
 * lp_winloop.h - the Windows counterpart of lib/evloop (lp_loop.h): the
 * one-thread loop the Windows client and its relay runner run on.
 *
 * Same model as the Linux loop - watchers, one-shot timers in caller
 * storage with nanosecond deadlines of lp_now_ns(), run_once / run / stop -
 * but it waits with WaitForMultipleObjects on Windows HANDLEs (a
 * WSAEventSelect event for a socket, an OVERLAPPED event for the TAP, a
 * plain event for Ctrl-C) instead of epoll on descriptors.
 *
 * Windows waits take whole milliseconds, so a timer fires up to 1 ms late
 * (the timeout is rounded up, never down: rounding down would spin until
 * the deadline). With the default 15.6 ms system tick it can be up to a
 * tick late; the client calls timeBeginPeriod(1). QUIC pacing then
 * releases packets in 1 ms bursts instead of microsecond steps, which caps
 * a paced flow at roughly one congestion-window burst per millisecond -
 * plenty for LAN-party traffic, but below what the Linux loop reaches.
 *
 * Watched handles must be manual-reset events or other objects whose wait
 * does not change their state (the loop also polls every watched handle
 * after a wake-up so one busy handle cannot starve the others); the
 * callback resets or re-arms the object (WSAEnumNetworkEvents, ResetEvent,
 * lp_tap_read). At most LP_LOOP_HANDLES_MAX handles (the
 * WaitForMultipleObjects limit).
 *
 * Callbacks may add/remove watchers, arm/cancel timers and call
 * lp_loop_stop. Everything is for one thread; a console control handler
 * (another thread) wakes the loop by setting a watched event.
 */
#ifndef LP_WINLOOP_H
#define LP_WINLOOP_H

/* winsock2.h before windows.h, or windows.h pulls in the old winsock.h. */
#include <winsock2.h>
#include <windows.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"

#define LP_LOOP_HANDLES_MAX MAXIMUM_WAIT_OBJECTS

struct lp_loop;
struct lp_loop_timer;

typedef void (*lp_loop_handle_fn)(struct lp_loop *l, HANDLE h, void *arg);
typedef void (*lp_loop_timer_fn)(struct lp_loop *l, struct lp_loop_timer *t, void *arg);

/* One-shot timer in caller storage; lp_loop_timer_init() it, fields are
 * private. It must stay valid (or be cancelled) while armed. */
struct lp_loop_timer {
	uint64_t deadline; /* ns of lp_now_ns() */
	uint64_t seq;      /* arm order: equal deadlines fire in arm order */
	bool armed;
	struct lp_loop_timer *next; /* list of armed timers */
	lp_loop_timer_fn fn;
	void *arg;
};

/* Creates a loop. Errors: LP_ERR_INVAL, LP_ERR_NOMEM. */
int lp_loop_new(struct lp_loop **out) LP_WUR;
/* Frees the loop; watched handles are not closed. Accepts NULL. */
void lp_loop_del(struct lp_loop *l);

/*
 * Watches h: fn(l, h, arg) runs whenever h is signaled. Errors:
 * LP_ERR_INVAL (NULL / INVALID_HANDLE_VALUE, already watched), LP_ERR_NOBUF
 * (LP_LOOP_HANDLES_MAX reached).
 */
int lp_loop_handle_add(struct lp_loop *l, HANDLE h, lp_loop_handle_fn fn, void *arg) LP_WUR;
/* Stops watching h (before closing it). No-op for an unknown handle. Safe
 * from any callback: a pending signal of the removed handle is not delivered. */
void lp_loop_handle_del(struct lp_loop *l, HANDLE h);

void lp_loop_timer_init(struct lp_loop_timer *t, lp_loop_timer_fn fn, void *arg);
/* Arms (or re-arms) t to fire once at deadline_ns; a deadline in the past
 * fires on the next iteration. A timer armed from a timer callback never
 * fires within the same iteration. Never fails (no allocation). */
void lp_loop_timer_arm(struct lp_loop *l, struct lp_loop_timer *t, uint64_t deadline_ns);
/* Disarms t; no-op when it is not armed. */
void lp_loop_timer_cancel(struct lp_loop *l, struct lp_loop_timer *t);
static inline bool lp_loop_timer_armed(const struct lp_loop_timer *t)
{
	return t->armed;
}

/* Makes lp_loop_run() return after the current iteration. */
void lp_loop_stop(struct lp_loop *l);

/*
 * One iteration: waits until a handle is signaled, a timer is due or
 * max_wait_ns passed (UINT64_MAX: no limit beyond the timers; 0: poll),
 * then runs the callbacks of signaled handles and the due timers. Returns
 * the number of callbacks run, or LP_ERR_IO (WaitForMultipleObjects
 * failed, e.g. a watched handle was closed; GetLastError() kept).
 */
int lp_loop_run_once(struct lp_loop *l, uint64_t max_wait_ns) LP_WUR;
/* Runs until lp_loop_stop(). Returns 0 or LP_ERR_IO. */
int lp_loop_run(struct lp_loop *l) LP_WUR;

/* lp_now_ns() sampled after the last wait. */
uint64_t lp_loop_now(const struct lp_loop *l);

/* Milliseconds to wait for a deadline ns_left away, rounded up and capped
 * below INFINITE (exposed for tests). */
DWORD lp_loop_wait_ms(uint64_t ns_left);

#endif /* LP_WINLOOP_H */
