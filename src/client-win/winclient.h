/*
 * winclient.h - the Windows client's hooks on the startup order and run of
 * src/common/boot.h: what happens once the relay admits us (route pin, TAP
 * bring-up, checks), status lines and route re-checks, and the undo of
 * every scoped change on exit. Frames move through the pump of
 * lib/client-core, as for the Linux client.
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
 * A failure ends the run (lp_boot_fail); route-table steps the
 * system cannot do end it too, unless allow_no_route_protection.
 */
#ifndef LP_WINCLIENT_H
#define LP_WINCLIENT_H

#include <stdbool.h>

#include "boot.h"

struct lp_wclient;

/* The command line's choices; zero it before parsing. */
struct lp_wclient_args {
	const char *tap;        /* adapter name or {GUID}; NULL: the first TAP-Windows6 adapter */
	const char *tap_device; /* test stand-in device path (named pipe); NULL: the driver */
	bool allow_no_route_protection;
	struct lp_wclient *c; /* the run's state, from step 4 on */
};

/*
 * The peer table, for an app whose user is a struct lp_wclient_args: step
 * 4 opens the route table (the Windows client drops no privilege at step
 * 5: see boot_windows.c), the welcome runs the bring-up above, frames
 * move through the pump, and the shutdown undoes every scoped change -
 * after the relay disconnect, so the pinned relay route still holds while
 * it is sent; on console close also from the console control thread if
 * main() does not finish in time.
 */
extern const struct lp_boot_peer lp_wclient_peer;

#endif /* LP_WINCLIENT_H */
