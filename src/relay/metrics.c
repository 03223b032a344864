/*
 * metrics.c - Prometheus exposition and log snapshot (see metrics.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

#define PFX "lanparty_relay_"

/* Output into a caller buffer; errors stick. */
struct mw {
	char *buf;
	size_t cap;
	size_t len;
	int err;
};

static void mw_printf(struct mw *w, const char *fmt, ...) LP_PRINTF(2, 3);

static void mw_printf(struct mw *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->err != 0)
		return;
	va_start(ap, fmt);
	if (w->len >= w->cap) {
		w->err = LP_ERR_NOBUF;
	} else {
		n = vsnprintf(w->buf + w->len, w->cap - w->len, fmt, ap);
		if (n < 0 || (size_t)n >= w->cap - w->len)
			w->err = LP_ERR_NOBUF;
		else
			w->len += (size_t)n;
	}
	va_end(ap);
}

static void family(struct mw *w, const char *name, const char *type, const char *help)
{
	mw_printf(w, "# HELP " PFX "%s %s\n# TYPE " PFX "%s %s\n", name, help, name, type);
}

struct counter_field {
	const char *name;
	const char *help;
	size_t off;
};

static const struct counter_field counter_fields[] = {
	{ "datagrams_rx", "QUIC datagrams received", offsetof(struct lp_counters, datagrams_rx) },
	{ "datagrams_tx", "QUIC datagrams sent", offsetof(struct lp_counters, datagrams_tx) },
	{ "frames_rx", "Ethernet frames received", offsetof(struct lp_counters, frames_rx) },
	{ "frames_tx", "Ethernet frames sent", offsetof(struct lp_counters, frames_tx) },
	{ "bytes_rx", "bytes received", offsetof(struct lp_counters, bytes_rx) },
	{ "bytes_tx", "bytes sent", offsetof(struct lp_counters, bytes_tx) },
	{ "broadcast_rx", "broadcast/multicast frames received",
	  offsetof(struct lp_counters, broadcast_rx) },
};

static unsigned long long field(const struct lp_counters *c, const struct counter_field *f)
{
	uint64_t v;

	memcpy(&v, (const char *)c + f->off, sizeof(v));
	return (unsigned long long)v;
}

/* Peer labels: room="R",peer_id="3",role="gateway",mac="..." */
static void peer_labels(const struct lp_relay_peer *p, char *out, size_t cap)
{
	char mac[LP_MAC_STR_LEN];

	lp_proto_mac_format(lp_relay_peer_mac(p), mac);
	(void)snprintf(out, cap, "room=\"%s\",peer_id=\"%u\",role=\"%s\",mac=\"%s\"",
	               lp_relay_room_name(lp_relay_peer_room(p)), (unsigned)lp_relay_peer_id(p),
	               lp_ctrl_role_name(lp_relay_peer_role(p)), mac);
}

/* Calls fn for each peer of the relay with its label text. */
typedef void (*peer_fn)(struct mw *w, const struct lp_relay_peer *p, const char *labels,
                        const void *arg, uint64_t now_ns);

static void each_peer(struct mw *w, const struct lp_relay *r, peer_fn fn, const void *arg,
                      uint64_t now_ns)
{
	char labels[160];

	for (size_t i = 0; i < lp_relay_room_count(r); i++) {
		const struct lp_relay_room *room = lp_relay_room_at(r, i);

		for (size_t j = 0; j < lp_relay_room_peer_count(room); j++) {
			const struct lp_relay_peer *p = lp_relay_room_peer_at(room, j);

			peer_labels(p, labels, sizeof(labels));
			fn(w, p, labels, arg, now_ns);
		}
	}
}

static uint64_t ago_ms(uint64_t then_ns, uint64_t now_ns)
{
	return now_ns > then_ns ? (now_ns - then_ns) / LP_NS_PER_MS : 0;
}

enum peer_gauge { G_INFO, G_SEEN, G_BUDGET, G_MALFORMED, G_LEARNED };

static void peer_gauges(struct mw *w, const struct lp_relay_peer *p, const char *l, const void *arg,
                        uint64_t now_ns)
{
	const enum peer_gauge *which = arg;
	uint64_t ms;

	switch (*which) {
	case G_INFO:
		mw_printf(w, PFX "peer_info{%s} 1\n", l);
		break;
	case G_SEEN:
		ms = ago_ms(lp_relay_peer_last_seen_ns(p), now_ns);
		mw_printf(w, PFX "peer_last_seen_seconds{%s} %llu.%03llu\n", l,
		          (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000));
		break;
	case G_BUDGET:
		mw_printf(w, PFX "peer_datagram_budget_bytes{%s} %zu\n", l,
		          lp_relay_peer_budget(p));
		break;
	case G_MALFORMED:
		mw_printf(w, PFX "peer_malformed_total{%s} %llu\n", l,
		          (unsigned long long)lp_relay_peer_malformed(p));
		break;
	case G_LEARNED:
		mw_printf(w, PFX "peer_learned_macs{%s} %zu\n", l, lp_relay_peer_learned_count(p));
		break;
	}
}

static void peer_counter(struct mw *w, const struct lp_relay_peer *p, const char *l,
                         const void *arg, uint64_t now_ns)
{
	const struct counter_field *f = arg;

	(void)now_ns;
	mw_printf(w, PFX "peer_%s_total{%s} %llu\n", f->name, l,
	          field(lp_relay_peer_counters(p), f));
}

static void peer_reported(struct mw *w, const struct lp_relay_peer *p, const char *l,
                          const void *arg, uint64_t now_ns)
{
	const struct counter_field *f = arg;
	const struct lp_counters *stats = lp_relay_peer_stats(p);

	(void)now_ns;
	if (stats != NULL)
		mw_printf(w, PFX "peer_reported_%s_total{%s} %llu\n", f->name, l, field(stats, f));
}

static void drops_of(struct mw *w, const char *metric, const char *l, const struct lp_counters *c)
{
	for (int i = LP_DROP_NONE + 1; i < LP_DROP__COUNT; i++)
		if (c->drops[i] != 0)
			mw_printf(w, PFX "%s{%s,reason=\"%s\"} %llu\n", metric, l,
			          lp_obs_drop_name((enum lp_drop_reason)i),
			          (unsigned long long)c->drops[i]);
}

static void peer_drops(struct mw *w, const struct lp_relay_peer *p, const char *l, const void *arg,
                       uint64_t now_ns)
{
	(void)arg;
	(void)now_ns;
	drops_of(w, "peer_drops_total", l, lp_relay_peer_counters(p));
}

static void peer_reported_drops(struct mw *w, const struct lp_relay_peer *p, const char *l,
                                const void *arg, uint64_t now_ns)
{
	(void)arg;
	(void)now_ns;
	if (lp_relay_peer_stats(p) != NULL)
		drops_of(w, "peer_reported_drops_total", l, lp_relay_peer_stats(p));
}

static void write_relay(struct mw *w, const struct lp_relay *r)
{
	const struct lp_counters *t = lp_relay_counters(r);

	family(w, "rooms", "gauge", "Rooms currently open.");
	mw_printf(w, PFX "rooms %zu\n", lp_relay_room_count(r));
	family(w, "peers", "gauge", "Peers currently admitted.");
	mw_printf(w, PFX "peers %zu\n", lp_relay_peer_total(r));
	family(w, "admitted_total", "counter", "Peers admitted since start.");
	mw_printf(w, PFX "admitted_total %llu\n", (unsigned long long)lp_relay_admitted_total(r));
	family(w, "rejected_total", "counter", "Hellos rejected since start, by reason.");
	for (int i = LP_REJECT_BAD_HELLO; i <= LP_REJECT__MAX; i++)
		mw_printf(w, PFX "rejected_total{reason=\"%s\"} %llu\n",
		          lp_ctrl_reject_name((enum lp_reject_reason)i),
		          (unsigned long long)lp_relay_rejected_total(r, (enum lp_reject_reason)i));
	for (size_t i = 0; i < LP_ARRAY_LEN(counter_fields); i++) {
		const struct counter_field *f = &counter_fields[i];
		char name[64], help[128];

		(void)snprintf(name, sizeof(name), "%s_total", f->name);
		(void)snprintf(help, sizeof(help), "All peers: %s (rx from peers, tx to peers).",
		               f->help);
		family(w, name, "counter", help);
		mw_printf(w, PFX "%s %llu\n", name, field(t, f));
	}
	family(w, "drops_total", "counter", "Frames dropped, filtered or rate-limited, by reason.");
	for (int i = LP_DROP_NONE + 1; i < LP_DROP__COUNT; i++)
		mw_printf(w, PFX "drops_total{reason=\"%s\"} %llu\n",
		          lp_obs_drop_name((enum lp_drop_reason)i),
		          (unsigned long long)t->drops[i]);
}

static void write_rooms(struct mw *w, const struct lp_relay *r)
{
	static const char *const names[] = { "room_peers",
		                             "room_mtu",
		                             "room_gateway_present",
		                             "room_learned_macs",
		                             "room_unlearned_macs_total",
		                             "room_rate_limited_total" };
	static const char *const helps[] = {
		"Peers in the room.",
		"Interface MTU fixed when the room was created.",
		"1 when the room has a LAN gateway.",
		"MACs learned behind the gateway.",
		"Gateway sources not learned because the MAC table was full.",
		"Frames dropped because the room was over its budget (--rate-room-mbit)."
	};

	for (size_t k = 0; k < LP_ARRAY_LEN(names); k++) {
		family(w, names[k], k >= 4 ? "counter" : "gauge", helps[k]);
		for (size_t i = 0; i < lp_relay_room_count(r); i++) {
			const struct lp_relay_room *room = lp_relay_room_at(r, i);
			unsigned long long v;

			switch (k) {
			case 0:
				v = lp_relay_room_peer_count(room);
				break;
			case 1:
				v = lp_relay_room_mtu(room);
				break;
			case 2:
				v = lp_relay_room_gateway(room) != NULL;
				break;
			case 3:
				v = lp_relay_room_learned_count(room);
				break;
			case 4:
				v = lp_relay_room_unlearned(room);
				break;
			default:
				v = lp_relay_room_rate_limited(room);
				break;
			}
			mw_printf(w, PFX "%s{room=\"%s\"} %llu\n", names[k],
			          lp_relay_room_name(room), v);
		}
	}
}

static void write_peers(struct mw *w, const struct lp_relay *r, uint64_t now_ns)
{
	static const struct {
		enum peer_gauge kind;
		const char *name, *type, *help;
	} gauges[] = {
		{ G_INFO, "peer_info", "gauge", "Admitted peer (always 1), with its identity." },
		{ G_SEEN, "peer_last_seen_seconds", "gauge",
		  "Seconds since the peer was last heard." },
		{ G_BUDGET, "peer_datagram_budget_bytes", "gauge", "Effective datagram budget." },
		{ G_MALFORMED, "peer_malformed_total", "counter", "Malformed datagrams received." },
		{ G_LEARNED, "peer_learned_macs", "gauge", "MACs learned behind the peer." },
	};
	char name[64], help[128];

	for (size_t i = 0; i < LP_ARRAY_LEN(gauges); i++) {
		family(w, gauges[i].name, gauges[i].type, gauges[i].help);
		each_peer(w, r, peer_gauges, &gauges[i].kind, now_ns);
	}
	for (size_t i = 0; i < LP_ARRAY_LEN(counter_fields); i++) {
		(void)snprintf(name, sizeof(name), "peer_%s_total", counter_fields[i].name);
		(void)snprintf(help, sizeof(help),
		               "Relay's accounting of the peer (rx from it, tx to it): %s.",
		               counter_fields[i].help);
		family(w, name, "counter", help);
		each_peer(w, r, peer_counter, &counter_fields[i], now_ns);
	}
	family(w, "peer_drops_total", "counter", "Drops of the peer's frames and towards it.");
	each_peer(w, r, peer_drops, NULL, now_ns);
	for (size_t i = 0; i < LP_ARRAY_LEN(counter_fields); i++) {
		(void)snprintf(name, sizeof(name), "peer_reported_%s_total",
		               counter_fields[i].name);
		(void)snprintf(help, sizeof(help), "Peer's own last stats report: %s.",
		               counter_fields[i].help);
		family(w, name, "counter", help);
		each_peer(w, r, peer_reported, &counter_fields[i], now_ns);
	}
	family(w, "peer_reported_drops_total", "counter",
	       "Peer's own last stats report: drops by reason.");
	each_peer(w, r, peer_reported_drops, NULL, now_ns);
}

static void write_all(struct mw *w, const struct lp_relay *r, uint64_t now_ns)
{
	write_relay(w, r);
	write_rooms(w, r);
	write_peers(w, r, now_ns);
}

ssize_t lp_relay_metrics_write(const struct lp_relay *r, uint64_t now_ns, char *buf, size_t cap)
{
	struct mw w = { .buf = buf, .cap = cap };

	if (cap > 0)
		buf[0] = '\0';
	write_all(&w, r, now_ns);
	if (w.err != 0)
		return w.err;
	return (ssize_t)w.len;
}

/* ---- Human snapshot ---------------------------------------------------------- */

static void peer_line(const struct lp_relay_peer *p, uint64_t now_ns, char *line, size_t cap)
{
	const struct lp_counters *c = lp_relay_peer_counters(p);
	const struct lp_counters *s = lp_relay_peer_stats(p);
	struct mw w = { .buf = line, .cap = cap };
	char mac[LP_MAC_STR_LEN];
	uint64_t ms = ago_ms(lp_relay_peer_last_seen_ns(p), now_ns);
	const char *sep = " (";

	lp_proto_mac_format(lp_relay_peer_mac(p), mac);
	mw_printf(&w,
	          "room %s peer %u %s %s: budget %zu, last seen %llu.%03llu s ago, "
	          "rx %llu frames / %llu B, tx %llu frames / %llu B, drops %llu",
	          lp_relay_room_name(lp_relay_peer_room(p)), (unsigned)lp_relay_peer_id(p),
	          lp_ctrl_role_name(lp_relay_peer_role(p)), mac, lp_relay_peer_budget(p),
	          (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000),
	          (unsigned long long)c->frames_rx, (unsigned long long)c->bytes_rx,
	          (unsigned long long)c->frames_tx, (unsigned long long)c->bytes_tx,
	          (unsigned long long)lp_obs_drops_total(c));
	for (int i = LP_DROP_NONE + 1; i < LP_DROP__COUNT; i++) {
		if (c->drops[i] == 0)
			continue;
		mw_printf(&w, "%s%s %llu", sep, lp_obs_drop_name((enum lp_drop_reason)i),
		          (unsigned long long)c->drops[i]);
		sep = ", ";
	}
	if (sep[0] == ',')
		mw_printf(&w, ")");
	if (lp_relay_peer_role(p) == LP_ROLE_GATEWAY)
		mw_printf(&w, ", learned %zu MACs", lp_relay_peer_learned_count(p));
	if (s != NULL)
		mw_printf(&w, "; reports rx %llu tx %llu drops %llu",
		          (unsigned long long)s->frames_rx, (unsigned long long)s->frames_tx,
		          (unsigned long long)lp_obs_drops_total(s));
	/* A line cut at the buffer end still carries the essentials first. */
}

void lp_relay_snapshot_lines(const struct lp_relay *r, uint64_t now_ns, lp_obs_line_fn emit,
                             void *user)
{
	const struct lp_counters *t = lp_relay_counters(r);
	char line[512];
	size_t nrooms = lp_relay_room_count(r), npeers = lp_relay_peer_total(r);

	(void)snprintf(line, sizeof(line),
	               "relay: %zu room%s, %zu peer%s, rx %llu frames, tx %llu frames, drops %llu",
	               nrooms, nrooms == 1 ? "" : "s", npeers, npeers == 1 ? "" : "s",
	               (unsigned long long)t->frames_rx, (unsigned long long)t->frames_tx,
	               (unsigned long long)lp_obs_drops_total(t));
	emit(user, line);
	for (size_t i = 0; i < nrooms; i++) {
		const struct lp_relay_room *room = lp_relay_room_at(r, i);

		for (size_t j = 0; j < lp_relay_room_peer_count(room); j++) {
			peer_line(lp_relay_room_peer_at(room, j), now_ns, line, sizeof(line));
			emit(user, line);
		}
	}
}
