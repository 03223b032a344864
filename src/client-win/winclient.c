/*
 * winclient.c - the Windows client's run phase; see winclient.h.
 *
 * Why the relay route is pinned: once the TAP is up and DHCP from the LAN
 * gives it an address (and perhaps a default route), Windows could start
 * sending the QUIC packets of the tunnel into the tunnel itself. A host
 * route for the relay on the pre-TAP interface, plus a fixed TAP metric
 * and no TAP default routes, keeps the relay path where it was.
 */
#include "winclient.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lp_loop.h"
#include "lp_obs.h"
#include "lp_route.h"
#include "lp_tap.h"
#include "peer_tap.h"

#define ROUTE_CHECK_INTERVAL (5 * LP_NS_PER_SEC)
#define ADAPTERS_MAX 16
/*
 * A low, fixed TAP interface metric: Windows sends limited broadcasts
 * (255.255.255.255, what LAN games use for discovery) out of the
 * lowest-metric interface, so they must leave through the TAP. That is safe
 * only because TAP default routes are removed and the relay is pinned.
 */
#define TAP_METRIC 5

/* The client once step 4 opened the route table; NULL before. */
static struct lp_wclient *wc(struct lp_boot *b)
{
	struct lp_wclient *c = b->app->user;

	return c->boot != NULL ? c : NULL;
}

/* ---- Route protection ------------------------------------------------------------- */

/*
 * A route-table step failed. Under --allow-no-route-protection (test rigs
 * such as Wine, whose iphlpapi lacks most of the route API) it becomes a
 * warning and the run continues unprotected; otherwise it ends the run.
 * winfn names the Windows function the step needs. Returns 0 to go on.
 */
static int route_failed(struct lp_wclient *c, int rc, const char *step, const char *winfn)
{
	const char *go_on = "continuing without it (--allow-no-route-protection)";

	if (rc == LP_ERR_UNSUPPORTED) {
		if (c->allow_no_route_protection) {
			lp_log(c->boot->log, LP_LOG_WARN,
			       "route protection unavailable: %s not supported on this system "
			       "(%s); "
			       "%s",
			       winfn, step, go_on);
			c->unprotected = true;
			return 0;
		}
		lp_log(c->boot->log, LP_LOG_ERROR,
		       "route protection unavailable: %s not supported on this system (%s). "
		       "Without it the tunnel's own packets could be routed into the TAP; "
		       "refusing to bridge. Test rigs (e.g. Wine) may pass "
		       "--allow-no-route-protection",
		       winfn, step);
		return rc;
	}
	if (c->allow_no_route_protection) {
		lp_log(c->boot->log, LP_LOG_WARN, "route protection: %s failed: %s; %s", step,
		       lp_strerror(rc), go_on);
		c->unprotected = true;
		return 0;
	}
	lp_log(c->boot->log, LP_LOG_ERROR, "route protection: %s failed: %s%s", step,
	       lp_strerror(rc), rc == LP_ERR_PERM ? " (run the client as Administrator)" : "");
	return rc;
}

static int route_addr_of(const struct sockaddr_storage *ss, struct lp_route_addr *out)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		return lp_route_addr_set(out, LP_ROUTE_INET, (const uint8_t *)&a->sin_addr, 0);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		return lp_route_addr_set(out, LP_ROUTE_INET6, (const uint8_t *)&a->sin6_addr,
		                         (uint32_t)a->sin6_scope_id);
	}
	return LP_ERR_INVAL;
}

static void addr_text(const struct lp_route_addr *a, char *out, size_t cap)
{
	if (lp_route_addr_format(a, out, cap) < 0)
		snprintf(out, cap, "?");
}

/* Step 1: pins every relay address that has a route now. */
static int pin_relay(struct lp_wclient *c)
{
	char dest[LP_ROUTE_ADDR_STRLEN], hop[LP_ROUTE_ADDR_STRLEN];
	struct lp_route_best best;
	struct lp_route_addr a;
	size_t i;
	int rc;

	for (i = 0; i < c->boot->relay_count; i++) {
		if (route_addr_of(&c->boot->relay[i], &a) < 0)
			continue;
		addr_text(&a, dest, sizeof(dest));
		rc = lp_route_best(&c->route, &a, &best);
		if (rc == LP_ERR_NOT_FOUND && c->boot->relay_count > 1) {
			lp_log(c->boot->log, LP_LOG_INFO, "relay address %s: no route, not pinned",
			       dest);
			continue;
		}
		if (rc < 0)
			return route_failed(c, rc, "looking up the route to the relay",
			                    "GetBestRoute2");
		addr_text(&best.next_hop, hop, sizeof(hop));
		rc = lp_route_scope_pin(&c->scope, &best, &c->pins[c->npins]);
		if (rc < 0)
			return route_failed(c, rc, "pinning the relay host route",
			                    "CreateIpForwardEntry2");
		c->pin_ok[c->npins] = true;
		lp_log(c->boot->log, LP_LOG_INFO,
		       "relay route pinned: %s via %s on interface %u (LUID 0x%016" PRIx64
		       "), metric %u%s",
		       dest, hop, (unsigned)best.if_index, best.if_luid, (unsigned)best.metric,
		       c->pins[c->npins].preexisting ? " (an identical route already existed)"
		                                     : "");
		c->npins++;
	}
	if (c->npins == 0 && c->boot->relay_count > 0 && !c->unprotected)
		return route_failed(c, LP_ERR_NOT_FOUND, "finding a route to any relay address",
		                    "GetBestRoute2");
	return 0;
}

/* Re-checks every pin; reports changes. Returns how many are lost. */
static size_t check_pins(struct lp_wclient *c, bool quiet_ok)
{
	char why[256];
	size_t i, lost = 0;
	bool ok;
	int rc;

	for (i = 0; i < c->npins; i++) {
		rc = lp_route_pin_check(&c->route, &c->pins[i], &ok, why, sizeof(why));
		if (rc < 0)
			ok = false;
		if (!ok)
			lost++;
		if (ok != c->pin_ok[i] || (!ok && !quiet_ok))
			lp_log(c->boot->log, ok ? LP_LOG_INFO : LP_LOG_WARN, "relay route: %s",
			       why);
		else if (ok && !quiet_ok)
			lp_log(c->boot->log, LP_LOG_INFO,
			       "relay route still uses the pinned route: %s", why);
		c->pin_ok[i] = ok;
	}
	return lost;
}

/* Removes TAP default routes (again: DHCP on the LAN may add one). */
static int suppress_defaults(struct lp_wclient *c, bool startup)
{
	bool had = false;
	int rc;

	rc = lp_route_scope_suppress_default_routes(&c->scope, c->tap_ifindex, &had);
	if (rc < 0)
		return rc;
	if (had && startup)
		lp_log(c->boot->log, LP_LOG_WARN,
		       "TAP default routes were enabled before protection: removed while the "
		       "client runs, restored on exit");
	else if (had)
		lp_log(c->boot->log, LP_LOG_WARN,
		       "TAP %s got a default route (DHCP on the LAN?): removed it so internet "
		       "traffic keeps its path",
		       c->tap_name);
	return 0;
}

static void arm_route_check(struct lp_wclient *c)
{
	if (lp_loop_timer_arm(c->boot->loop, &c->route_timer,
	                      lp_loop_now(c->boot->loop) + ROUTE_CHECK_INTERVAL) < 0)
		lp_log(c->boot->log, LP_LOG_WARN,
		       "cannot arm the route check timer: route changes are no longer re-checked");
}

static void on_route_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_wclient *c = arg;
	int rc;

	(void)l;
	(void)t;
	(void)check_pins(c, true);
	if (c->tap_ifindex != 0 && !c->unprotected) {
		rc = suppress_defaults(c, false);
		if (rc < 0)
			lp_log(c->boot->log, LP_LOG_WARN, "cannot re-check TAP default routes: %s",
			       lp_strerror(rc));
	}
	arm_route_check(c);
}

/* ---- Bring-up --------------------------------------------------------------------- */

static void log_open_error(struct lp_wclient *c, int rc)
{
	struct lp_tap_adapter list[ADAPTERS_MAX];
	const char *which = c->tap_arg != NULL ? c->tap_arg : "(first TAP-Windows6 adapter)";
	char names[512];
	size_t total = 0, i, at = 0;

	if (rc == LP_ERR_PERM) {
		lp_log(c->boot->log, LP_LOG_ERROR,
		       "cannot open TAP adapter %s: access denied (run the client as "
		       "Administrator)",
		       which);
		return;
	}
	if (rc != LP_ERR_NOT_FOUND) {
		lp_log(c->boot->log, LP_LOG_ERROR, "cannot open TAP adapter %s: %s", which,
		       lp_strerror(rc));
		return;
	}
	if (lp_tap_list(list, ADAPTERS_MAX, &total) < 0 || total == 0) {
		lp_log(c->boot->log, LP_LOG_ERROR,
		       "no TAP-Windows6 adapter is installed: install the TAP-Windows6 driver "
		       "(tap0901, as shipped with OpenVPN) and create one adapter");
		return;
	}
	names[0] = '\0';
	for (i = 0; i < total && i < ADAPTERS_MAX && at < sizeof(names); i++) {
		int n = snprintf(names + at, sizeof(names) - at, "%s\"%s\" %s", i ? ", " : "",
		                 list[i].name, list[i].id);
		if (n < 0)
			break;
		at += (size_t)n;
	}
	if (c->tap_arg != NULL)
		lp_log(c->boot->log, LP_LOG_ERROR,
		       "no TAP-Windows6 adapter named %s (or its device is missing: adapter "
		       "disabled?); installed: %s",
		       c->tap_arg, names);
	else
		lp_log(c->boot->log, LP_LOG_ERROR,
		       "cannot open the TAP adapter (disabled in Network Connections?); "
		       "installed: %s",
		       names);
}

/* Step 2: NetworkAddress + open. */
static int open_tap(struct lp_wclient *c, uint32_t mtu)
{
	struct lp_tap_config cfg;
	struct lp_tap_info info;
	char mac[LP_MAC_STR_LEN];
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.name = c->tap_arg;
	cfg.mac = &c->boot->mac;
	cfg.mtu = mtu;
	cfg.device_path = c->tap_device;
	rc = lp_tap_open(&cfg, &c->tap);
	if (rc < 0) {
		log_open_error(c, rc);
		return rc;
	}
	rc = lp_tap_get_info(c->tap, &info);
	if (rc == 0 || rc == LP_ERR_UNSUPPORTED) {
		snprintf(c->tap_name, sizeof(c->tap_name), "%s", info.name);
		snprintf(c->tap_id, sizeof(c->tap_id), "%s", info.id);
		c->tap_ifindex = info.ifindex;
	}
	lp_proto_mac_format(&c->boot->mac, mac);
	lp_log(c->boot->log, LP_LOG_INFO,
	       "TAP adapter \"%s\" %s opened%s; NetworkAddress set to %s", c->tap_name, c->tap_id,
	       c->tap_device != NULL ? " through a test stand-in device" : "", mac);
	return 0;
}

/* The TAP's interface index and LUID from its GUID. */
static int tap_interface(struct lp_wclient *c)
{
	struct lp_route_guid guid;
	uint32_t idx = 0;
	int rc;

	rc = lp_route_guid_parse(c->tap_id, &guid);
	if (rc == 0)
		rc = lp_route_if_from_guid(&c->route, &guid, &idx, &c->tap_luid);
	if (rc == 0) {
		c->tap_ifindex = idx;
		return 0;
	}
	if (c->tap_ifindex != 0 && rc == LP_ERR_UNSUPPORTED)
		return 0; /* GetAdaptersAddresses named it: enough for the scoped steps */
	c->tap_ifindex = 0;
	return route_failed(c, rc, "finding the TAP adapter's IP interface",
	                    "ConvertInterfaceGuidToLuid");
}

/* Steps 4-5: media, report, MAC check. */
static int tap_media_and_check(struct lp_wclient *c)
{
	struct lp_tap_info info;
	char want[LP_MAC_STR_LEN], got[LP_MAC_STR_LEN];
	int rc;

	rc = lp_tap_set_up(c->tap, true);
	if (rc == LP_ERR_UNSUPPORTED && c->tap_device != NULL) {
		lp_log(c->boot->log, LP_LOG_WARN,
		       "TAP media state not set: the test stand-in does not answer driver IOCTLs");
	} else if (rc < 0) {
		lp_log(c->boot->log, LP_LOG_ERROR, "cannot mark TAP adapter %s media connected: %s",
		       c->tap_name, lp_strerror(rc));
		return rc;
	}
	c->media_set = rc == 0;
	lp_proto_mac_format(&c->boot->mac, want);
	rc = lp_tap_get_info(c->tap, &info);
	if (rc == LP_ERR_UNSUPPORTED && c->tap_device != NULL) {
		lp_log(c->boot->log, LP_LOG_WARN,
		       "TAP %s: driver MAC/MTU unknown (the test stand-in does not answer driver "
		       "IOCTLs); interface index %u, LUID 0x%016" PRIx64 "; assuming MAC %s",
		       c->tap_name, (unsigned)c->tap_ifindex, c->tap_luid, want);
		return 0;
	}
	if (rc < 0) {
		lp_log(c->boot->log, LP_LOG_ERROR, "cannot read TAP adapter %s from its driver: %s",
		       c->tap_name, lp_strerror(rc));
		return rc;
	}
	lp_proto_mac_format(&info.mac, got);
	lp_log(c->boot->log, LP_LOG_INFO,
	       "TAP %s: driver MAC %s, driver MTU %u, interface index %u, LUID 0x%016" PRIx64
	       ", media %s",
	       c->tap_name, got, (unsigned)info.mtu, (unsigned)c->tap_ifindex, c->tap_luid,
	       c->media_set ? "connected" : "unknown");
	if (!lp_proto_mac_equal(&info.mac, &c->boot->mac)) {
		lp_log(c->boot->log, LP_LOG_ERROR,
		       "TAP adapter \"%s\" reports MAC %s but this client's tunnel MAC is %s: the "
		       "driver reads NetworkAddress only when the adapter starts. Disable and "
		       "enable the adapter (Network Connections, or netsh interface set "
		       "interface \"%s\" disable, then enable), or reinstall it, then start the "
		       "client again. Not bridging with a MAC the relay does not know.",
		       c->tap_name, got, want, c->tap_name);
		return LP_ERR_STATE;
	}
	return 0;
}

/* Steps 3 and 6, on the TAP interface. */
static int tap_routes(struct lp_wclient *c, uint32_t mtu)
{
	int rc;

	rc = lp_route_scope_set_mtu(&c->scope, c->tap_ifindex, mtu);
	if (rc < 0)
		return route_failed(c, rc, "setting the TAP IP MTU", "SetIpInterfaceEntry");
	c->tap_mtu = mtu;
	lp_log(c->boot->log, LP_LOG_INFO, "TAP %s: IP MTU %u (the room MTU), restored on exit",
	       c->tap_name, (unsigned)mtu);
	return 0;
}

static int tap_policy(struct lp_wclient *c)
{
	int rc;

	rc = lp_route_scope_set_metric(&c->scope, c->tap_ifindex, TAP_METRIC);
	if (rc < 0) {
		rc = route_failed(c, rc, "setting the TAP interface metric", "SetIpInterfaceEntry");
		if (rc < 0)
			return rc;
	} else {
		lp_log(c->boot->log, LP_LOG_INFO, "TAP %s: interface metric %u, restored on exit",
		       c->tap_name, TAP_METRIC);
	}
	rc = suppress_defaults(c, true);
	if (rc < 0)
		return route_failed(c, rc, "removing TAP default routes", "DeleteIpForwardEntry2");
	return 0;
}

static int bring_up(struct lp_wclient *c, uint32_t mtu)
{
	int rc;

	rc = pin_relay(c);
	if (rc == 0)
		rc = open_tap(c, mtu);
	if (rc == 0)
		rc = tap_interface(c);
	if (rc == 0 && c->tap_ifindex != 0)
		rc = tap_routes(c, mtu);
	if (rc == 0)
		rc = tap_media_and_check(c);
	if (rc == 0 && c->tap_ifindex != 0)
		rc = tap_policy(c);
	if (rc < 0)
		return rc;
	if (c->npins > 0 && check_pins(c, false) > 0) {
		rc = route_failed(c, LP_ERR_STATE,
		                  "keeping the relay on its pinned route after TAP activation",
		                  "GetBestRoute2");
		if (rc < 0)
			return rc;
	}
	/* Step 8: the pump drains what the adapter queued meanwhile. */
	c->brought_up = true;
	lp_log(c->boot->log, LP_LOG_INFO, "bridging TAP adapter \"%s\" with the room%s",
	       c->tap_name, c->unprotected ? " WITHOUT relay route protection" : "");
	rc = lp_pump_attach(c->boot->pump, &lp_peer_tap_ops, c->tap, lp_tap_get_handle(c->tap),
	                    c->tap_name);
	if (rc < 0) {
		c->brought_up = false;
		lp_log(c->boot->log, LP_LOG_ERROR, "cannot watch the TAP adapter: %s",
		       lp_strerror(rc));
		return rc;
	}
	if (c->npins > 0 || c->tap_ifindex != 0)
		arm_route_check(c);
	return 0;
}

/* ---- Status lines ----------------------------------------------------------------- */

static void on_status(struct lp_boot *b)
{
	struct lp_wclient *c = wc(b);
	struct lp_obs_diag d;
	size_t i;

	if (c == NULL || b->failed || c->stopping)
		return; /* the error said it all; "waiting for ..." lines would contradict it */
	lp_peer_events_diag(&b->pe, b->pump != NULL ? lp_pump_drops(b->pump) : NULL, &d);
	if (c->npins > 0) {
		d.route = LP_OBS_ROUTE_PINNED;
		for (i = 0; i < c->npins; i++)
			if (!c->pin_ok[i])
				d.route = LP_OBS_ROUTE_LOST;
	}
	snprintf(d.tap_name, sizeof(d.tap_name), "%s", c->tap_name);
	if (c->tap != NULL) {
		/* Media state as we set it: the stand-in has none to read back. */
		d.tap = c->brought_up ? LP_OBS_TAP_UP : LP_OBS_TAP_DOWN;
		if (lp_tap_ipv4(c->tap, d.tap_ip, sizeof(d.tap_ip)) < 0)
			d.tap_ip[0] = '\0';
	} else {
		lp_log(c->boot->log, LP_LOG_INFO,
		       "tap: the TAP adapter is opened once the relay admits this client");
	}
	if (c->unprotected)
		lp_log(c->boot->log, LP_LOG_INFO,
		       "warning: running without relay route protection "
		       "(--allow-no-route-protection)");
	/* Before the first welcome the adapter is not opened by design. */
	lp_peer_status_log(&b->pe, &d, c->tap == NULL);
}

/* ---- The welcome: bring-up, or a new room MTU ------------------------------------ */

static void on_welcome(struct lp_boot *b, struct lp_client *s, const struct lp_client_event *ev)
{
	struct lp_wclient *c = wc(b);
	uint32_t mtu = ev->welcome->mtu;
	int rc;

	(void)s;
	lp_log(b->log, LP_LOG_INFO, "%s", ev->text);
	if (!c->brought_up) {
		if (c->tap != NULL || bring_up(c, mtu) < 0) {
			lp_boot_fail(b);
			return;
		}
	} else if (mtu != c->tap_mtu && c->tap_ifindex != 0 && !c->unprotected) {
		/* A new room (the relay restarted) may have another MTU. */
		rc = lp_route_scope_set_mtu(&c->scope, c->tap_ifindex, mtu);
		if (rc < 0) {
			lp_log(c->boot->log, LP_LOG_WARN,
			       "room MTU is now %u but TAP %s stays at IP MTU %u: %s",
			       (unsigned)mtu, c->tap_name, (unsigned)c->tap_mtu, lp_strerror(rc));
		} else {
			lp_log(c->boot->log, LP_LOG_INFO,
			       "room MTU changed: TAP %s IP MTU %u -> %u", c->tap_name,
			       (unsigned)c->tap_mtu, (unsigned)mtu);
			c->tap_mtu = mtu;
		}
	}
	on_status(b);
}

/* ---- Step 4: the route table ----------------------------------------------------- */

static int on_open(struct lp_boot *b)
{
	struct lp_wclient *c = b->app->user;
	int rc;

	c->boot = b;
	lp_route_scope_init(&c->scope, &c->route);
	lp_loop_timer_init(&c->route_timer, on_route_timer, c);
	snprintf(c->tap_name, sizeof(c->tap_name), "%s",
	         c->tap_arg != NULL ? c->tap_arg : "(TAP-Windows6)");
	/* Missing functions are logged here (INFO) and again by each step needing one;
	 * whether that ends the run is decided per step (--allow-no-route-protection). */
	rc = lp_route_open(&c->route, b->log);
	if (rc < 0 && rc != LP_ERR_UNSUPPORTED) {
		lp_log(b->log, LP_LOG_ERROR, "cannot open the route table: %s", lp_strerror(rc));
		return rc;
	}
	return 0;
}

/* ---- Shutdown -------------------------------------------------------------------- */

static void on_stopping(struct lp_boot *b)
{
	struct lp_wclient *c = wc(b);

	if (c == NULL)
		return;
	c->stopping = true;
	lp_loop_timer_cancel(c->boot->loop, &c->route_timer);
}

/*
 * Undoes what bring-up changed: media disconnected, adapter closed, then
 * every scoped route change restored (newest first). Runs after the relay
 * disconnect, so the pinned relay route was still there while it was
 * sent. Returns the number of route steps that failed to restore.
 */
static size_t teardown(struct lp_wclient *c)
{
	size_t failures = 0;

	lp_loop_timer_cancel(c->boot->loop, &c->route_timer);
	if (c->boot->pump != NULL)
		lp_pump_detach(c->boot->pump);
	c->brought_up = false;
	if (c->tap != NULL && c->media_set && lp_tap_set_up(c->tap, false) < 0)
		lp_log(c->boot->log, LP_LOG_WARN, "cannot mark TAP adapter %s media disconnected",
		       c->tap_name);
	c->media_set = false;
	lp_tap_close(c->tap);
	c->tap = NULL;
	/* Each failing step is logged by lib/client-route with what it restores. */
	(void)lp_route_scope_restore_all(&c->scope, &failures);
	return failures;
}

static int on_finish(struct lp_boot *b)
{
	struct lp_wclient *c = wc(b);
	size_t failures = c != NULL ? teardown(c) : 0;

	if (failures == 0)
		return 0;
	lp_log(b->log, LP_LOG_ERROR,
	       "%zu route change(s) could not be restored (see above): check 'route print' and "
	       "the TAP adapter's IP settings",
	       failures);
	return 1;
}

/* Whatever a failed run left (a second teardown finds nothing to undo). */
static void on_cleanup(struct lp_boot *b)
{
	struct lp_wclient *c = wc(b);

	if (c == NULL)
		return;
	(void)teardown(c);
	lp_route_close(&c->route);
	c->boot = NULL;
}

/* The console control thread: restores the route changes only (each step
 * runs exactly once, also while the main thread restores too). */
static void on_emergency(struct lp_boot *b)
{
	struct lp_wclient *c = wc(b);

	if (c != NULL)
		(void)lp_route_scope_restore_all(&c->scope, NULL);
}

const struct lp_boot_peer lp_wclient_peer = {
	.role = LP_ROLE_CLIENT,
	.open = on_open,
	.session = { .welcome = on_welcome, .status = on_status },
	.stopping = on_stopping,
	.finish = on_finish,
	.cleanup = on_cleanup,
	.emergency = on_emergency,
};
