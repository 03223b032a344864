/*
 * runner_int.h - the seam between the platform-neutral runner (runner.c:
 * session lifecycle, event forwarding, backoff, reconnect decisions, the
 * pinned-certificate reload) and its event-loop binding (runner_linux.c on
 * lib/evloop, runner_windows.c on lp_winloop.h).
 *
 * The binding owns the readiness plumbing of the UDP socket and the two
 * loop timers; runner.c owns everything else and calls the hooks below.
 * The binding reports back through lp_runner_socket_ready and
 * lp_runner_timer_fired, always from loop callbacks.
 */
#ifndef LP_CLIENT_RUNNER_INT_H
#define LP_CLIENT_RUNNER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "lp_client.h"

struct lp_runner_io;

enum lp_runner_timer {
	LP_RUNNER_TIMER_SESSION = 0, /* the session's next deadline */
	LP_RUNNER_TIMER_RETRY,       /* the next connection attempt */
	LP_RUNNER_TIMER__COUNT
};

/* ---- Binding: implemented once per platform ---------------------------------- */

/* Creates the binding of runner r on loop (both borrowed). Errors:
 * LP_ERR_NOMEM. */
int lp_runner_io_new(struct lp_loop *loop, struct lp_client_runner *r, const struct lp_logger *log,
                     struct lp_runner_io **out) LP_WUR;
/* Cancels the timers, stops watching, frees. Accepts NULL. */
void lp_runner_io_del(struct lp_runner_io *io);
/* Watches udp for readability (one socket at a time). 0 or LP_ERR_IO /
 * LP_ERR_NOMEM (logged by the binding when it has more to say). */
int lp_runner_io_watch(struct lp_runner_io *io, struct lp_udp *udp) LP_WUR;
/* Stops watching the socket (before it is closed); no-op when not watching. */
void lp_runner_io_unwatch(struct lp_runner_io *io);
/* on: a send found the socket buffer full - also report writability.
 * off: back to readability only. 0, or an error when the loop refused
 * (the caller then keeps its previous state). */
int lp_runner_io_want_write(struct lp_runner_io *io, bool on) LP_WUR;
/* Arms (re-arms) timer t at deadline_ns of lp_now_ns(). 0 or LP_ERR_NOMEM. */
int lp_runner_io_timer_arm(struct lp_runner_io *io, enum lp_runner_timer t,
                           uint64_t deadline_ns) LP_WUR;
void lp_runner_io_timer_cancel(struct lp_runner_io *io, enum lp_runner_timer t);
/* One loop iteration of at most max_wait_ns. >= 0, or LP_ERR_IO. */
int lp_runner_io_run_once(struct lp_runner_io *io, uint64_t max_wait_ns) LP_WUR;

/* ---- Runner: called by the binding from loop callbacks ----------------------- */

/* The socket is readable (or writable, when asked for). */
void lp_runner_socket_ready(struct lp_client_runner *r, bool writable);
void lp_runner_timer_fired(struct lp_client_runner *r, enum lp_runner_timer t);

#endif /* LP_CLIENT_RUNNER_INT_H */
