/*
 * diag.c - the short status lines a LAN-party guest reads on the client.
 *
 * Wording is for people, not for us: say what works, what does not and
 * what to wait for. Announcements of a change come first (only when a
 * previous snapshot exists and the state really changed), then the current
 * status lines, then warnings.
 */
#include "lp_obs.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define DIAG_LINE_MAX 320

struct out {
	lp_obs_line_fn emit;
	void *user;
};

LP_PRINTF(2, 3)
static void line(const struct out *o, const char *fmt, ...)
{
	char buf[DIAG_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Every field is bounded (names and addresses are < 64 bytes), so a
	 * line always fits; a formatting failure drops the line rather than
	 * emitting garbage. */
	if (n < 0)
		return;
	o->emit(o->user, buf);
}

/* 1023 -> "1023 B", 15565 -> "15.2 KB"; binary units, one decimal, cut
 * (not rounded) so a value never shows more than it is. */
static void human_size(uint64_t bytes, char *out, size_t cap)
{
	static const char *const units[] = { "KB", "MB", "GB" };
	uint64_t unit = 1024;
	size_t i = 0;

	if (bytes < 1024) {
		snprintf(out, cap, "%" PRIu64 " B", bytes);
		return;
	}
	while (i + 1 < LP_ARRAY_LEN(units) && bytes / unit >= 1024) {
		unit *= 1024;
		i++;
	}
	snprintf(out, cap, "%" PRIu64 ".%" PRIu64 " %s", bytes / unit, (bytes % unit) * 10 / unit,
	         units[i]);
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void announce_changes(const struct lp_obs_diag *d, const struct lp_obs_diag *p,
                             const struct out *o)
{
	if (p->relay_connected && !d->relay_connected)
		line(o, "relay: connection lost, reconnecting...");
	if (!p->relay_connected && d->relay_connected)
		line(o, "relay: connection restored");
	/* Gateway presence is only known while connected to the relay. */
	if (p->relay_connected && d->relay_connected) {
		if (!p->gateway_present && d->gateway_present)
			line(o, "LAN gateway joined: the party LAN is now reachable");
		if (p->gateway_present && !d->gateway_present)
			line(o,
			     "LAN gateway left: the party LAN is unreachable until it comes back");
	}
	if (p->tap_ip[0] == '\0' && d->tap_ip[0] != '\0')
		line(o, "DHCP address acquired: %s", d->tap_ip);
	else if (p->tap_ip[0] != '\0' && d->tap_ip[0] != '\0' && strcmp(p->tap_ip, d->tap_ip) != 0)
		line(o, "DHCP address changed: %s -> %s", p->tap_ip, d->tap_ip);
	else if (p->tap_ip[0] != '\0' && d->tap_ip[0] == '\0')
		line(o, "warning: the TAP adapter lost its IPv4 address %s", p->tap_ip);
	if (p->counters.broadcast_rx == 0 && d->counters.broadcast_rx > 0)
		line(o, "broadcast flow confirmed: LAN broadcasts reach this computer");
	if (p->route == LP_OBS_ROUTE_LOST && d->route == LP_OBS_ROUTE_PINNED)
		line(o, "route: relay route restored");
}

static void status_lines(const struct lp_obs_diag *d, const struct out *o)
{
	const struct lp_counters *c = &d->counters;
	char rx[32], tx[32];
	uint64_t drops;

	if (d->relay_connected)
		line(o, "relay: connected; %s",
		     d->gateway_present ? "LAN gateway present"
		                        : "no LAN gateway in the room yet (the party LAN is not "
		                          "reachable)");
	else
		line(o, "relay: not connected, retrying (%" PRIu64 " %s so far)", d->reconnects,
		     plural(d->reconnects, "reconnect", "reconnects"));

	if (d->relay_connected)
		line(o, "tunnel: datagram budget %" PRIu64 " bytes, MTU %" PRIu32,
		     (uint64_t)d->datagram_budget, d->mtu);

	if (d->tap == LP_OBS_TAP_UP && d->tap_ip[0] != '\0')
		line(o, "tap: %s up, IPv4 %s", d->tap_name, d->tap_ip);
	else if (d->tap == LP_OBS_TAP_UP)
		line(o, "tap: %s up, no IPv4 address", d->tap_name);
	else if (d->tap == LP_OBS_TAP_DOWN)
		line(o, "tap: %s down", d->tap_name);
	else
		line(o, "tap: no TAP adapter");

	if (d->route == LP_OBS_ROUTE_PINNED)
		line(o, "route: relay traffic pinned to the original network");

	if (c->broadcast_rx > 0)
		line(o, "broadcast: %" PRIu64 " LAN broadcast %s seen", c->broadcast_rx,
		     plural(c->broadcast_rx, "frame", "frames"));
	else
		line(o, "broadcast: no LAN broadcast frames seen yet");

	human_size(c->bytes_rx, rx, sizeof(rx));
	human_size(c->bytes_tx, tx, sizeof(tx));
	drops = lp_obs_drops_total(c);
	line(o, "traffic: rx %" PRIu64 " %s / %s, tx %" PRIu64 " %s / %s, drops %" PRIu64,
	     c->frames_rx, plural(c->frames_rx, "frame", "frames"), rx, c->frames_tx,
	     plural(c->frames_tx, "frame", "frames"), tx, drops);
}

static void warning_lines(const struct lp_obs_diag *d, const struct out *o)
{
	if (d->tap == LP_OBS_TAP_ABSENT)
		line(o, "warning: no TAP adapter found; install or enable the TAP driver");
	else if (d->tap == LP_OBS_TAP_DOWN)
		line(o, "warning: TAP adapter %s is down; LAN traffic cannot reach this computer",
		     d->tap_name);
	else if (d->tap_ip[0] == '\0')
		line(o, "warning: TAP has no IPv4 address yet (waiting for DHCP from the LAN)");
	if (d->route == LP_OBS_ROUTE_LOST)
		line(o, "warning: relay route lost: traffic to the relay no longer uses the "
		        "original network and the tunnel may break");
}

void lp_obs_diag_lines(const struct lp_obs_diag *d, const struct lp_obs_diag *prev,
                       lp_obs_line_fn emit, void *user)
{
	struct out o = { emit, user };

	if (prev != NULL)
		announce_changes(d, prev, &o);
	status_lines(d, &o);
	warning_lines(d, &o);
}
