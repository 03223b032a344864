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
#include <stdlib.h>
#include <string.h>

#include "lp_obs.h"
#include "lp_tap.h"
#include "peer_events.h"

#define STATUS_INTERVAL_DEFAULT (10 * LP_NS_PER_SEC)
#define IP_POLL_INTERVAL LP_NS_PER_SEC
#define ROUTE_CHECK_INTERVAL (5 * LP_NS_PER_SEC)
#define RELAY_MAX 8
#define TAP_RX_MAX 64 /* frames per wake-up before yielding */
#define TAP_BUF (LP_PROTO_PAYLOAD_MAX + 64u)
#define LOG_BURST 10
#define LOG_INTERVAL LP_NS_PER_SEC
#define ADAPTERS_MAX 16
/*
 * A low, fixed TAP interface metric: Windows sends limited broadcasts
 * (255.255.255.255, what LAN games use for discovery) out of the
 * lowest-metric interface, so they must leave through the TAP. That is safe
 * only because TAP default routes are removed and the relay is pinned.
 */
#define TAP_METRIC 5

struct lp_wclient {
	struct lp_loop *loop;
	struct lp_peer_events pe; /* the runner, finished sessions, event lines */
	const struct lp_logger *log;
	const struct lp_route *rt;
	struct lp_route_scope scope;

	char tap_arg[LP_TAP_NAME_MAX];
	bool have_tap_arg;
	char tap_device[LP_TAP_NAME_MAX * 2];
	bool stand_in;
	struct lp_mac mac;
	uint64_t status_interval;
	bool allow_unprotected;
	struct sockaddr_storage relay[RELAY_MAX];
	size_t relay_count;

	/* Bring-up results. */
	bool brought_up;
	bool unprotected; /* some route step was skipped (allowed) */
	struct lp_route_pin pins[RELAY_MAX];
	bool pin_ok[RELAY_MAX];
	size_t npins;
	uint32_t tap_ifindex; /* 0: unknown */
	uint64_t tap_luid;
	uint32_t tap_mtu; /* IP MTU set on the TAP interface (0: not set) */
	char tap_name[LP_TAP_NAME_MAX];
	char tap_id[LP_TAP_NAME_MAX];
	struct lp_tap *tap;
	HANDLE tap_ev;
	bool media_set;
	bool failed;
	bool stopping; /* shutdown began: no status lines, no route checks */

	uint64_t drops[LP_DROP__COUNT];
	struct lp_obs_diag prev;
	bool have_prev;
	struct lp_loop_timer status_timer;
	struct lp_loop_timer ip_timer;
	struct lp_loop_timer route_timer;
	struct lp_log_ratelimit rl_drop;
	uint8_t buf[TAP_BUF];
};

static void fail(struct lp_wclient *c)
{
	c->failed = true;
	lp_loop_stop(c->loop);
}

static void arm_timer(struct lp_wclient *c, struct lp_loop_timer *t, uint64_t deadline)
{
	if (lp_loop_timer_arm(c->loop, t, deadline) < 0)
		lp_log(c->log, LP_LOG_ERROR, "cannot arm a timer: out of memory");
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
		if (c->allow_unprotected) {
			lp_log(c->log, LP_LOG_WARN,
			       "route protection unavailable: %s not supported on this system "
			       "(%s); "
			       "%s",
			       winfn, step, go_on);
			c->unprotected = true;
			return 0;
		}
		lp_log(c->log, LP_LOG_ERROR,
		       "route protection unavailable: %s not supported on this system (%s). "
		       "Without it the tunnel's own packets could be routed into the TAP; "
		       "refusing to bridge. Test rigs (e.g. Wine) may pass "
		       "--allow-no-route-protection",
		       winfn, step);
		return rc;
	}
	if (c->allow_unprotected) {
		lp_log(c->log, LP_LOG_WARN, "route protection: %s failed: %s; %s", step,
		       lp_strerror(rc), go_on);
		c->unprotected = true;
		return 0;
	}
	lp_log(c->log, LP_LOG_ERROR, "route protection: %s failed: %s%s", step, lp_strerror(rc),
	       rc == LP_ERR_PERM ? " (run the client as Administrator)" : "");
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

	for (i = 0; i < c->relay_count; i++) {
		if (route_addr_of(&c->relay[i], &a) < 0)
			continue;
		addr_text(&a, dest, sizeof(dest));
		rc = lp_route_best(c->rt, &a, &best);
		if (rc == LP_ERR_NOT_FOUND && c->relay_count > 1) {
			lp_log(c->log, LP_LOG_INFO, "relay address %s: no route, not pinned", dest);
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
		lp_log(c->log, LP_LOG_INFO,
		       "relay route pinned: %s via %s on interface %u (LUID 0x%016" PRIx64
		       "), metric %u%s",
		       dest, hop, (unsigned)best.if_index, best.if_luid, (unsigned)best.metric,
		       c->pins[c->npins].preexisting ? " (an identical route already existed)"
		                                     : "");
		c->npins++;
	}
	if (c->npins == 0 && c->relay_count > 0 && !c->unprotected)
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
		rc = lp_route_pin_check(c->rt, &c->pins[i], &ok, why, sizeof(why));
		if (rc < 0)
			ok = false;
		if (!ok)
			lost++;
		if (ok != c->pin_ok[i] || (!ok && !quiet_ok))
			lp_log(c->log, ok ? LP_LOG_INFO : LP_LOG_WARN, "relay route: %s", why);
		else if (ok && !quiet_ok)
			lp_log(c->log, LP_LOG_INFO, "relay route still uses the pinned route: %s",
			       why);
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
		lp_log(c->log, LP_LOG_WARN,
		       "TAP default routes were enabled before protection: removed while the "
		       "client runs, restored on exit");
	else if (had)
		lp_log(c->log, LP_LOG_WARN,
		       "TAP %s got a default route (DHCP on the LAN?): removed it so internet "
		       "traffic keeps its path",
		       c->tap_name);
	return 0;
}

static void on_route_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_wclient *c = arg;
	int rc;

	(void)check_pins(c, true);
	if (c->tap_ifindex != 0 && !c->unprotected) {
		rc = suppress_defaults(c, false);
		if (rc < 0)
			lp_log(c->log, LP_LOG_WARN, "cannot re-check TAP default routes: %s",
			       lp_strerror(rc));
	}
	arm_timer(c, t, lp_loop_now(l) + ROUTE_CHECK_INTERVAL);
}

/* ---- Status lines ----------------------------------------------------------------- */

static void snapshot(struct lp_wclient *c, struct lp_obs_diag *d)
{
	size_t i;

	lp_peer_events_diag(&c->pe, c->drops, d);
	if (c->npins > 0) {
		d->route = LP_OBS_ROUTE_PINNED;
		for (i = 0; i < c->npins; i++)
			if (!c->pin_ok[i])
				d->route = LP_OBS_ROUTE_LOST;
	}
	snprintf(d->tap_name, sizeof(d->tap_name), "%s", c->tap_name);
	if (c->tap != NULL) {
		/* Media state as we set it: the stand-in has none to read back. */
		d->tap = c->brought_up ? LP_OBS_TAP_UP : LP_OBS_TAP_DOWN;
		if (lp_tap_ipv4(c->tap, d->tap_ip, sizeof(d->tap_ip)) < 0)
			d->tap_ip[0] = '\0';
	}
}

void lp_wclient_log_status(struct lp_wclient *c)
{
	struct lp_obs_diag d;

	if (c->failed || c->stopping)
		return; /* the error said it all; "waiting for ..." lines would contradict it */
	snapshot(c, &d);
	if (c->tap == NULL)
		lp_log(c->log, LP_LOG_INFO,
		       "tap: the TAP adapter is opened once the relay admits "
		       "this client");
	if (c->unprotected)
		lp_log(c->log, LP_LOG_INFO,
		       "warning: running without relay route protection "
		       "(--allow-no-route-protection)");
	/* Before the first welcome the adapter is not opened by design. */
	lp_peer_status_lines(c->log, &d, c->have_prev ? &c->prev : NULL, c->tap == NULL);
	c->prev = d;
	c->have_prev = true;
}

static void on_status_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_wclient *c = arg;

	lp_wclient_log_status(c);
	arm_timer(c, t, lp_loop_now(l) + c->status_interval);
}

/* DHCP runs in Windows, not here: poll so a new address is reported at once. */
static void on_ip_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_wclient *c = arg;
	char ip[64];

	if (c->tap != NULL && lp_tap_ipv4(c->tap, ip, sizeof(ip)) == 0 &&
	    strcmp(ip, c->prev.tap_ip) != 0)
		lp_wclient_log_status(c);
	arm_timer(c, t, lp_loop_now(l) + IP_POLL_INTERVAL);
}

/* ---- Frames ----------------------------------------------------------------------- */

static void log_drop(struct lp_wclient *c, enum lp_obs_dir dir, const uint8_t *frame, size_t len,
                     enum lp_drop_reason reason)
{
	lp_peer_log_drop(c->log, &c->rl_drop, lp_loop_now(c->loop), dir, frame, len, reason);
}

static void log_frame(struct lp_wclient *c, enum lp_obs_dir dir, const uint8_t *frame, size_t len)
{
	struct lp_obs_frame_event ev;
	char line[256];

	if (!lp_log_enabled(c->log, LP_LOG_TRACE))
		return;
	memset(&ev, 0, sizeof(ev));
	ev.dir = dir;
	ev.peer_id = -1;
	ev.action = LP_OBS_FORWARDED;
	lp_obs_frame_event_from_frame(&ev, frame, len);
	if (lp_obs_frame_event_format(&ev, line, sizeof(line)) >= 0)
		lp_log(c->log, LP_LOG_TRACE, "%s", line);
}

static void on_frame(struct lp_client *s, const uint8_t *frame, size_t len, void *user)
{
	struct lp_wclient *c = user;
	ssize_t n;

	(void)s;
	if (c->tap == NULL || !c->brought_up) {
		c->drops[LP_DROP_NOT_READY]++;
		return;
	}
	n = lp_tap_write(c->tap, frame, len);
	if (n >= 0) {
		log_frame(c, LP_OBS_DIR_FROM_RELAY, frame, len);
		return;
	}
	if (n == LP_ERR_AGAIN) {
		c->drops[LP_DROP_QUEUE_FULL]++;
		log_drop(c, LP_OBS_DIR_FROM_RELAY, frame, len, LP_DROP_QUEUE_FULL);
	} else {
		c->drops[LP_DROP_IO]++;
		log_drop(c, LP_OBS_DIR_FROM_RELAY, frame, len, LP_DROP_IO);
	}
}

static void tap_frame(struct lp_wclient *c, const uint8_t *frame, size_t len)
{
	enum lp_drop_reason why;
	int rc;

	if (lp_peer_events_session(&c->pe) == NULL) {
		c->drops[LP_DROP_NOT_READY]++;
		return;
	}
	/* The session counts its refusals in its own counters. */
	rc = lp_client_runner_send_frame(c->pe.runner, frame, len);
	why = lp_peer_send_drop(rc);
	if (rc == 0)
		log_frame(c, LP_OBS_DIR_TO_RELAY, frame, len);
	else if (why != LP_DROP_NONE)
		log_drop(c, LP_OBS_DIR_TO_RELAY, frame, len, why);
}

static void on_tap(struct lp_loop *l, intptr_t src, unsigned events, void *arg)
{
	struct lp_wclient *c = arg;
	ssize_t n;
	int i;

	(void)l;
	(void)src;
	(void)events;
	for (i = 0; i < TAP_RX_MAX && c->tap != NULL; i++) {
		n = lp_tap_read(c->tap, c->buf, sizeof(c->buf));
		if (n == LP_ERR_AGAIN)
			break;
		if (n == LP_ERR_TRUNCATED) {
			c->drops[LP_DROP_TRUNCATED]++;
			continue;
		}
		if (n < 0) {
			/* Sticky on Windows: the adapter was disabled or removed. */
			lp_log(c->log, LP_LOG_ERROR,
			       "TAP adapter %s stopped working (%s): was it disabled or its driver "
			       "removed?",
			       c->tap_name, lp_strerror((int)n));
			lp_loop_unwatch(c->loop, (intptr_t)c->tap_ev);
			c->tap_ev = NULL;
			fail(c);
			break;
		}
		tap_frame(c, c->buf, (size_t)n);
	}
	if (c->pe.runner != NULL)
		lp_client_runner_flush(c->pe.runner);
}

/* ---- Bring-up --------------------------------------------------------------------- */

static void log_open_error(struct lp_wclient *c, int rc)
{
	struct lp_tap_adapter list[ADAPTERS_MAX];
	const char *which = c->have_tap_arg ? c->tap_arg : "(first TAP-Windows6 adapter)";
	char names[512];
	size_t total = 0, i, at = 0;

	if (rc == LP_ERR_PERM) {
		lp_log(c->log, LP_LOG_ERROR,
		       "cannot open TAP adapter %s: access denied (run the client as "
		       "Administrator)",
		       which);
		return;
	}
	if (rc != LP_ERR_NOT_FOUND) {
		lp_log(c->log, LP_LOG_ERROR, "cannot open TAP adapter %s: %s", which,
		       lp_strerror(rc));
		return;
	}
	if (lp_tap_list(list, ADAPTERS_MAX, &total) < 0 || total == 0) {
		lp_log(c->log, LP_LOG_ERROR,
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
	if (c->have_tap_arg)
		lp_log(c->log, LP_LOG_ERROR,
		       "no TAP-Windows6 adapter named %s (or its device is missing: adapter "
		       "disabled?); installed: %s",
		       c->tap_arg, names);
	else
		lp_log(c->log, LP_LOG_ERROR,
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
	cfg.name = c->have_tap_arg ? c->tap_arg : NULL;
	cfg.mac = &c->mac;
	cfg.mtu = mtu;
	cfg.device_path = c->stand_in ? c->tap_device : NULL;
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
	lp_proto_mac_format(&c->mac, mac);
	lp_log(c->log, LP_LOG_INFO, "TAP adapter \"%s\" %s opened%s; NetworkAddress set to %s",
	       c->tap_name, c->tap_id, c->stand_in ? " through a test stand-in device" : "", mac);
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
		rc = lp_route_if_from_guid(c->rt, &guid, &idx, &c->tap_luid);
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
	if (rc == LP_ERR_UNSUPPORTED && c->stand_in) {
		lp_log(c->log, LP_LOG_WARN,
		       "TAP media state not set: the test stand-in does not answer driver IOCTLs");
	} else if (rc < 0) {
		lp_log(c->log, LP_LOG_ERROR, "cannot mark TAP adapter %s media connected: %s",
		       c->tap_name, lp_strerror(rc));
		return rc;
	}
	c->media_set = rc == 0;
	lp_proto_mac_format(&c->mac, want);
	rc = lp_tap_get_info(c->tap, &info);
	if (rc == LP_ERR_UNSUPPORTED && c->stand_in) {
		lp_log(c->log, LP_LOG_WARN,
		       "TAP %s: driver MAC/MTU unknown (the test stand-in does not answer driver "
		       "IOCTLs); interface index %u, LUID 0x%016" PRIx64 "; assuming MAC %s",
		       c->tap_name, (unsigned)c->tap_ifindex, c->tap_luid, want);
		return 0;
	}
	if (rc < 0) {
		lp_log(c->log, LP_LOG_ERROR, "cannot read TAP adapter %s from its driver: %s",
		       c->tap_name, lp_strerror(rc));
		return rc;
	}
	lp_proto_mac_format(&info.mac, got);
	lp_log(c->log, LP_LOG_INFO,
	       "TAP %s: driver MAC %s, driver MTU %u, interface index %u, LUID 0x%016" PRIx64
	       ", media %s",
	       c->tap_name, got, (unsigned)info.mtu, (unsigned)c->tap_ifindex, c->tap_luid,
	       c->media_set ? "connected" : "unknown");
	if (!lp_proto_mac_equal(&info.mac, &c->mac)) {
		lp_log(c->log, LP_LOG_ERROR,
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
	lp_log(c->log, LP_LOG_INFO, "TAP %s: IP MTU %u (the room MTU), restored on exit",
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
		lp_log(c->log, LP_LOG_INFO, "TAP %s: interface metric %u, restored on exit",
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
	c->tap_ev = (HANDLE)lp_tap_get_handle(c->tap);
	rc = lp_loop_watch(c->loop, (intptr_t)c->tap_ev, LP_LOOP_READ, on_tap, c);
	if (rc < 0) {
		c->tap_ev = NULL;
		lp_log(c->log, LP_LOG_ERROR, "cannot watch the TAP adapter: %s", lp_strerror(rc));
		return rc;
	}
	c->brought_up = true;
	lp_log(c->log, LP_LOG_INFO, "bridging TAP adapter \"%s\" with the room%s", c->tap_name,
	       c->unprotected ? " WITHOUT relay route protection" : "");
	arm_timer(c, &c->ip_timer, lp_loop_now(c->loop) + IP_POLL_INTERVAL);
	if (c->npins > 0 || c->tap_ifindex != 0)
		arm_timer(c, &c->route_timer, lp_loop_now(c->loop) + ROUTE_CHECK_INTERVAL);
	/* Frames the adapter queued meanwhile. */
	on_tap(c->loop, (intptr_t)c->tap_ev, LP_LOOP_READ, c);
	return 0;
}

static void on_welcome(struct lp_wclient *c, const struct lp_ctrl_welcome *w)
{
	int rc;

	if (!c->brought_up) {
		if (c->tap != NULL || bring_up(c, w->mtu) < 0) {
			fail(c);
			return;
		}
	} else if (w->mtu != c->tap_mtu && c->tap_ifindex != 0 && !c->unprotected) {
		/* A new room (the relay restarted) may have another MTU. */
		rc = lp_route_scope_set_mtu(&c->scope, c->tap_ifindex, w->mtu);
		if (rc < 0) {
			lp_log(c->log, LP_LOG_WARN,
			       "room MTU is now %u but TAP %s stays at IP MTU %u: %s",
			       (unsigned)w->mtu, c->tap_name, (unsigned)c->tap_mtu,
			       lp_strerror(rc));
		} else {
			lp_log(c->log, LP_LOG_INFO, "room MTU changed: TAP %s IP MTU %u -> %u",
			       c->tap_name, (unsigned)c->tap_mtu, (unsigned)w->mtu);
			c->tap_mtu = w->mtu;
		}
	}
	lp_wclient_log_status(c);
}

/* ---- Session events --------------------------------------------------------------- */

static void on_event(struct lp_client *s, const struct lp_client_event *ev, void *user)
{
	struct lp_wclient *c = user;

	if (ev->type == LP_CLIENT_EV_WELCOME) {
		lp_log(c->log, LP_LOG_INFO, "%s", ev->text);
		on_welcome(c, ev->welcome);
		return;
	}
	switch (lp_peer_events_log(&c->pe, s, ev)) {
	case LP_PEER_ACT_STATUS:
		lp_wclient_log_status(c);
		break;
	case LP_PEER_ACT_FAILED:
		fail(c);
		break;
	case LP_PEER_ACT_NONE:
		break;
	}
}

static const struct lp_client_cbs wclient_cbs = { .frame = on_frame, .event = on_event };

const struct lp_client_cbs *lp_wclient_cbs(void)
{
	return &wclient_cbs;
}

/* ---- Lifetime --------------------------------------------------------------------- */

int lp_wclient_new(struct lp_loop *loop, const struct lp_wclient_cfg *cfg,
                   const struct lp_logger *log, struct lp_wclient **out)
{
	struct lp_wclient *c;
	size_t i;

	if (loop == NULL || cfg == NULL || out == NULL || cfg->route == NULL ||
	    cfg->relay_count > RELAY_MAX || (cfg->relay_count > 0 && cfg->relay == NULL))
		return LP_ERR_INVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return LP_ERR_NOMEM;
	c->loop = loop;
	c->log = log;
	lp_peer_events_init(&c->pe, log);
	c->rt = cfg->route;
	lp_route_scope_init(&c->scope, c->rt);
	c->mac = cfg->mac;
	c->allow_unprotected = cfg->allow_no_route_protection;
	if ((cfg->tap != NULL &&
	     lp_strlcpy_checked(c->tap_arg, sizeof(c->tap_arg), cfg->tap) < 0) ||
	    (cfg->tap_device != NULL &&
	     lp_strlcpy_checked(c->tap_device, sizeof(c->tap_device), cfg->tap_device) < 0)) {
		free(c);
		return LP_ERR_INVAL;
	}
	c->have_tap_arg = cfg->tap != NULL;
	c->stand_in = cfg->tap_device != NULL;
	snprintf(c->tap_name, sizeof(c->tap_name), "%s",
	         cfg->tap != NULL ? cfg->tap : "(TAP-Windows6)");
	for (i = 0; i < cfg->relay_count; i++)
		c->relay[i] = cfg->relay[i];
	c->relay_count = cfg->relay_count;
	c->status_interval =
	        cfg->status_interval_ns ? cfg->status_interval_ns : STATUS_INTERVAL_DEFAULT;
	lp_loop_timer_init(&c->status_timer, on_status_timer, c);
	lp_loop_timer_init(&c->ip_timer, on_ip_timer, c);
	lp_loop_timer_init(&c->route_timer, on_route_timer, c);
	lp_log_ratelimit_init(&c->rl_drop, LOG_BURST, LOG_INTERVAL);
	arm_timer(c, &c->status_timer, lp_now_ns() + c->status_interval);
	*out = c;
	return 0;
}

void lp_wclient_set_runner(struct lp_wclient *c, struct lp_client_runner *r)
{
	c->pe.runner = r;
}

void lp_wclient_stopping(struct lp_wclient *c)
{
	c->stopping = true;
	lp_loop_timer_cancel(c->loop, &c->status_timer);
	lp_loop_timer_cancel(c->loop, &c->ip_timer);
	lp_loop_timer_cancel(c->loop, &c->route_timer);
}

bool lp_wclient_failed(const struct lp_wclient *c)
{
	return c->failed;
}

void lp_wclient_restore_routes(struct lp_wclient *c)
{
	(void)lp_route_scope_restore_all(&c->scope, NULL);
}

size_t lp_wclient_teardown(struct lp_wclient *c)
{
	size_t failures = 0;

	lp_loop_timer_cancel(c->loop, &c->ip_timer);
	lp_loop_timer_cancel(c->loop, &c->route_timer);
	if (c->tap_ev != NULL)
		lp_loop_unwatch(c->loop, (intptr_t)c->tap_ev);
	c->tap_ev = NULL;
	c->brought_up = false;
	if (c->tap != NULL && c->media_set && lp_tap_set_up(c->tap, false) < 0)
		lp_log(c->log, LP_LOG_WARN, "cannot mark TAP adapter %s media disconnected",
		       c->tap_name);
	c->media_set = false;
	lp_tap_close(c->tap);
	c->tap = NULL;
	/* Each failing step is logged by lib/client-route with what it restores. */
	(void)lp_route_scope_restore_all(&c->scope, &failures);
	return failures;
}

void lp_wclient_del(struct lp_wclient *c)
{
	if (c == NULL)
		return;
	(void)lp_wclient_teardown(c);
	lp_loop_timer_cancel(c->loop, &c->status_timer);
	free(c);
}
