/*
 * client.c - the Linux client's hooks; see client.h.
 *
 * The TAP is created at step 4 of the startup order, while still root,
 * with LP_MTU_MIN and left down: the room MTU is only known from the
 * welcome, and a down interface carries no traffic meanwhile. At the
 * welcome the kept CAP_NET_ADMIN sets the room MTU and brings the link up;
 * after a reconnect to a room with another MTU (the relay restarted and
 * chose another) it resizes the TAP - a stale, larger MTU would have the
 * kernel hand us frames the tunnel must drop, and TCP would stall on them.
 *
 * Why resize and not re-create: re-creating the TAP needs CAP_NET_ADMIN
 * just the same (TUNSETIFF on a new device), so it would keep no less
 * privilege, and it would take the interface away under the user: its
 * address, its routes and the DHCP client bound to it would be lost at
 * every MTU change. Resizing keeps the interface as the user set it up.
 */
#include "client.h"

#include <stdio.h>
#include <string.h>

#include "lp_proto.h"
#include "peer_tap.h"
#include "privdrop.h"

static struct lp_lclient *cl(struct lp_boot *b)
{
	return b->app->user;
}

/* ---- Status lines ---------------------------------------------------------------- */

static void on_status(struct lp_boot *b)
{
	struct lp_lclient *c = cl(b);
	struct lp_obs_diag d;
	struct lp_tap_info info;

	/* Totals over every session, plus what the pump dropped itself. */
	lp_peer_events_diag(&b->pe, b->pump != NULL ? lp_pump_drops(b->pump) : NULL, &d);
	snprintf(d.tap_name, sizeof(d.tap_name), "%s", c->tap_name);
	if (c->tap != NULL && lp_tap_get_info(c->tap, &info) == 0) {
		d.tap = info.up ? LP_OBS_TAP_UP : LP_OBS_TAP_DOWN;
		snprintf(d.tap_name, sizeof(d.tap_name), "%s", info.name);
	}
	if (c->tap != NULL && lp_tap_ipv4(c->tap, d.tap_ip, sizeof(d.tap_ip)) < 0)
		d.tap_ip[0] = '\0';
	if (!c->up)
		lp_log(b->log, LP_LOG_INFO,
		       "tap: %s is brought up once the relay admits this client", c->tap_name);
	lp_peer_status_log(&b->pe, &d, !c->up);
}

/* ---- Step 4: the TAP, as root ----------------------------------------------------- */

static int on_open(struct lp_boot *b)
{
	struct lp_lclient *c = cl(b);
	struct lp_tap_config cfg = {
		.name = c->tap_arg,
		.mac = &b->mac,
		.mtu = LP_MTU_MIN,
		.coalesce = true,
		.authenticated = b->args.private_room,
	};
	struct lp_tap_info info;
	int rc;

	snprintf(c->tap_name, sizeof(c->tap_name), "%s", c->tap_arg);
	rc = lp_tap_open(&cfg, &c->tap);
	if (rc == LP_ERR_PERM)
		lp_log(b->log, LP_LOG_ERROR,
		       "cannot create TAP %s: needs root or CAP_NET_ADMIN (run with sudo)",
		       c->tap_name);
	else if (rc == LP_ERR_NOT_FOUND)
		lp_log(b->log, LP_LOG_ERROR,
		       "cannot create TAP %s: no TUN/TAP support (/dev/net/tun; modprobe tun?)",
		       c->tap_name);
	else if (rc < 0)
		lp_log(b->log, LP_LOG_ERROR,
		       "cannot create TAP %s: %s (is another client using that name?)", c->tap_name,
		       lp_strerror(rc));
	if (rc < 0)
		return rc;
	c->tap_mtu = LP_MTU_MIN;
	if (lp_tap_get_info(c->tap, &info) == 0)
		snprintf(c->tap_name, sizeof(c->tap_name), "%s", info.name);
	lp_log(b->log, LP_LOG_INFO, "TAP %s created (down until the relay admits this client)",
	       c->tap_name);
	if (info.offloads & LP_TAP_OFFLOAD_TSO4)
		lp_log(b->log, LP_LOG_INFO, "TAP %s offloads: checksum, TSO%s%s", c->tap_name,
		       info.offloads & LP_TAP_OFFLOAD_USO ? ", USO" : "",
		       info.offloads & LP_TAP_OFFLOAD_COALESCE ? ", coalesced writes" : "");
	else
		lp_log(b->log, LP_LOG_INFO,
		       "TAP %s: the kernel refused TSO offloads; one frame per read and write",
		       c->tap_name);
	return 0;
}

/* ---- Step 6: frames through the pump ------------------------------------------- */

static int on_start(struct lp_boot *b)
{
	struct lp_lclient *c = cl(b);
	int rc;

	rc = lp_pump_attach(b->pump, &lp_peer_tap_ops, c->tap, lp_tap_get_handle(c->tap),
	                    c->tap_name);
	if (rc < 0)
		lp_log(b->log, LP_LOG_ERROR, "cannot watch TAP %s: %s", c->tap_name,
		       lp_strerror(rc));
	return rc;
}

/* ---- The welcome: room MTU and link up, with CAP_NET_ADMIN ------------------------ */

static int set_mtu(struct lp_boot *b, uint32_t mtu)
{
	struct lp_lclient *c = cl(b);
	int rc;

	if (mtu == c->tap_mtu)
		return 0;
	rc = lp_tap_set_mtu(c->tap, mtu);
	if (rc < 0) {
		lp_log(b->log, c->up ? LP_LOG_WARN : LP_LOG_ERROR,
		       "room MTU is %u but TAP %s stays at MTU %u: %s", (unsigned)mtu, c->tap_name,
		       (unsigned)c->tap_mtu, lp_strerror(rc));
		return rc;
	}
	if (c->up)
		lp_log(b->log, LP_LOG_INFO, "room MTU changed: TAP %s MTU %u -> %u", c->tap_name,
		       (unsigned)c->tap_mtu, (unsigned)mtu);
	c->tap_mtu = mtu;
	return 0;
}

static void on_welcome(struct lp_boot *b, struct lp_client *s, const struct lp_client_event *ev)
{
	struct lp_lclient *c = cl(b);
	char mac[LP_MAC_STR_LEN];
	int rc;

	(void)s;
	lp_log(b->log, LP_LOG_INFO, "%s", ev->text);
	rc = set_mtu(b, ev->welcome->mtu);
	if (!c->up) {
		/* The first admission: a TAP with the wrong MTU is not brought up. */
		if (rc == 0)
			rc = lp_tap_set_up(c->tap, true);
		if (rc < 0) {
			lp_log(b->log, LP_LOG_ERROR, "cannot bring TAP %s up: %s", c->tap_name,
			       lp_strerror(rc));
			lp_boot_fail(b);
			return;
		}
		c->up = true;
		lp_proto_mac_format(&b->mac, mac);
		lp_log(b->log, LP_LOG_INFO, "TAP %s up: MAC %s, MTU %u", c->tap_name, mac,
		       (unsigned)c->tap_mtu);
	}
	on_status(b);
}

static void on_cleanup(struct lp_boot *b)
{
	struct lp_lclient *c = cl(b);

	/* The pump let go of the TAP before (lp_boot_main frees it first). */
	lp_tap_close(c->tap);
	c->tap = NULL;
}

const struct lp_boot_peer lp_lclient_peer = {
	.role = LP_ROLE_CLIENT,
	.keep = LP_PRIVDROP_KEEP_NET_ADMIN, /* see the top of this file */
	.open = on_open,
	.start = on_start,
	.session = { .welcome = on_welcome, .status = on_status },
	.cleanup = on_cleanup,
};
