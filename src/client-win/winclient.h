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
#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "lp_loop.h"
#include "lp_route.h"
#include "lp_tap.h"

/* The client's state: the command line's choices (zero it before
 * parsing), then what the run opened. */
struct lp_wclient {
	const char *tap_arg;    /* adapter name or {GUID}; NULL: the first TAP-Windows6 adapter */
	const char *tap_device; /* test stand-in device path (named pipe); NULL: the driver */
	bool allow_no_route_protection;

	struct lp_boot *boot;  /* from step 4 on: the route table is open */
	struct lp_route route; /* the route table */
	struct lp_route_scope scope;
	/* Bring-up results. */
	bool brought_up;
	bool unprotected; /* some route step was skipped (allowed) */
	struct lp_route_pin pins[LP_BOOT_RELAY_MAX];
	bool pin_ok[LP_BOOT_RELAY_MAX];
	size_t npins;
	uint32_t tap_ifindex; /* 0: unknown */
	uint64_t tap_luid;
	uint32_t tap_mtu; /* IP MTU set on the TAP interface (0: not set) */
	char tap_name[LP_TAP_NAME_MAX];
	char tap_id[LP_TAP_NAME_MAX];
	struct lp_tap *tap;
	bool media_set;
	bool stopping; /* shutdown began: no status lines, no route checks */
	struct lp_loop_timer route_timer;
};

/*
 * The peer table, for an app whose user is a struct lp_wclient: step
 * 4 opens the route table (the Windows client drops no privilege at step
 * 5: see boot_windows.c), the welcome runs the bring-up above, frames
 * move through the pump, and the shutdown undoes every scoped change -
 * after the relay disconnect, so the pinned relay route still holds while
 * it is sent; on console close also from the console control thread if
 * main() does not finish in time.
 */
extern const struct lp_boot_peer lp_wclient_peer;

#endif /* LP_WINCLIENT_H */
