/*
 * winclient.h - the Windows client's run phase: what happens once the
 * relay admits us (route pin, TAP bring-up, checks), the frame bridge
 * between the TAP-Windows6 adapter and the relay session, status lines and
 * route re-checks, and the undo of every scoped change on exit.
 *
 * Bring-up runs from the first welcome, in this order (each step logged):
 *   1. pin a host route for every resolved relay address on the interface
 *      the system uses for it now, before the TAP exists;
 *   2. write the tunnel MAC as the adapter's NetworkAddress and open it;
 *   3. set the TAP IP interface MTU to the room MTU (scoped);
 *   4. mark the media connected and report driver MAC/MTU, interface
 *      index and LUID;
 *   5. refuse to bridge if the driver MAC is not the tunnel MAC;
 *   6. apply the TAP interface metric and remove TAP default routes
 *      (scoped), warning when some existed;
 *   7. check that the relay still routes through the pinned route;
 *   8. bridge frames.
 * A failure ends the run (lp_wclient_failed); route-table steps the
 * system cannot do end it too, unless allow_no_route_protection.
 */
#ifndef LP_WINCLIENT_H
#define LP_WINCLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "lp_client.h"
#include "lp_route.h"
#include "lp_loop.h"

struct lp_wclient;

struct lp_wclient_cfg {
	const char *tap;        /* adapter name or {GUID}; NULL: the first TAP-Windows6 adapter */
	const char *tap_device; /* test stand-in device path (named pipe); NULL: the driver */
	struct lp_mac mac;      /* tunnel identity */
	uint64_t status_interval_ns;
	bool allow_no_route_protection;
	/* Resolved relay addresses to pin (copied, 1..8). */
	const struct sockaddr_storage *relay;
	size_t relay_count;
	/* Bound route table (lp_route_open); borrowed, must outlive the client. */
	const struct lp_route *route;
};

/* Errors: LP_ERR_INVAL, LP_ERR_NOMEM. Arms the status timer. */
int lp_wclient_new(struct lp_loop *loop, const struct lp_wclient_cfg *cfg,
                   const struct lp_logger *log, struct lp_wclient **out) LP_WUR;
/* The session callbacks to give lp_client_runner_new with the client as user. */
const struct lp_client_cbs *lp_wclient_cbs(void);
void lp_wclient_set_runner(struct lp_wclient *c, struct lp_client_runner *r);
/* Shutdown begins (before the relay disconnect): stops status lines and
 * route re-checks; frames still flow until lp_wclient_teardown. */
void lp_wclient_stopping(struct lp_wclient *c);
/* True once the client stopped the loop because of a failure. */
bool lp_wclient_failed(const struct lp_wclient *c) LP_WUR;
void lp_wclient_log_status(struct lp_wclient *c);
/*
 * Undoes what bring-up changed: media disconnected, adapter closed, then
 * every scoped route change restored (newest first). Call after the relay
 * disconnect, so the pinned relay route is still there while it is sent.
 * Returns the number of route steps that failed to restore.
 */
size_t lp_wclient_teardown(struct lp_wclient *c);
/* Restores the route changes only; safe from a console control handler
 * thread while the main thread runs (each step runs exactly once). */
void lp_wclient_restore_routes(struct lp_wclient *c);
void lp_wclient_del(struct lp_wclient *c);

#endif /* LP_WINCLIENT_H */
