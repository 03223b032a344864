/* peer_stats.c - the relay's per-room peer_stats message; see peer_stats.h. */
#include "peer_stats.h"

#include <string.h>

static uint64_t to_us(uint64_t ns)
{
	uint64_t us = ns / 1000;

	return us > LP_CTRL_RTT_US_MAX ? LP_CTRL_RTT_US_MAX : us;
}

static void fill_entry(const struct lp_relay_peer *p, const struct relay_peer_stats_hooks *h,
                       struct lp_ctrl_peer_stat *e)
{
	const struct lp_counters *c = lp_relay_peer_counters(p);
	struct relay_peer_link link;

	memset(&link, 0, sizeof(link));
	h->link(h->user, lp_relay_peer_conn(p), &link);
	memset(e, 0, sizeof(*e));
	e->peer_id = lp_relay_peer_id(p);
	e->role = lp_relay_peer_role(p);
	e->mac = *lp_relay_peer_mac(p);
	e->rtt_us = to_us(link.smoothed_rtt_ns);
	e->rtt_min_us = to_us(link.min_rtt_ns);
	/* The wire promises min <= smoothed; a microsecond rounding or an
	 * estimator quirk must not make a message peers refuse. */
	if (e->rtt_min_us > e->rtt_us)
		e->rtt_min_us = e->rtt_us;
	e->dg_sent = link.datagrams_sent;
	e->dg_lost = link.datagrams_lost < link.datagrams_sent ? link.datagrams_lost
	                                                       : link.datagrams_sent;
	/* The engine counts from its own side; the wire names the peer's. */
	e->tx_frames = c->frames_rx;
	e->tx_bytes = c->bytes_rx;
	e->rx_frames = c->frames_tx;
	e->rx_bytes = c->bytes_tx;
}

void relay_peer_stats_build(const struct lp_relay_room *room,
                            const struct relay_peer_stats_hooks *h, struct lp_ctrl_msg *m)
{
	struct lp_ctrl_peer_stats *ps = &m->u.peer_stats;
	const struct lp_relay_peer *gw = lp_relay_room_gateway(room);
	size_t n = lp_relay_room_peer_count(room), i;

	memset(m, 0, sizeof(*m));
	m->type = LP_CTRL_PEER_STATS;
	ps->peers_total = n > LP_CTRL_PEERS_TOTAL_MAX ? LP_CTRL_PEERS_TOTAL_MAX : (uint32_t)n;
	if (gw != NULL)
		fill_entry(gw, h, &ps->peers[ps->count++]);
	for (i = 0; i < n && ps->count < LP_CTRL_PEER_STATS_MAX; i++) {
		const struct lp_relay_peer *p = lp_relay_room_peer_at(room, i);

		if (p != gw)
			fill_entry(p, h, &ps->peers[ps->count++]);
	}
}

int relay_peer_stats_send(const struct lp_relay_room *room, const struct relay_peer_stats_hooks *h,
                          struct lp_ctrl_msg *m, uint8_t *buf, size_t cap)
{
	size_t n = lp_relay_room_peer_count(room), i;
	struct relay_peer_link link;
	ssize_t len;
	int sent = 0;

	relay_peer_stats_build(room, h, m);
	len = lp_ctrl_encode(m, buf, cap);
	if (len < 0)
		return (int)len;
	for (i = 0; i < n; i++) {
		void *conn = lp_relay_peer_conn(lp_relay_room_peer_at(room, i));

		memset(&link, 0, sizeof(link));
		h->link(h->user, conn, &link);
		if (link.closing || link.stream_unacked > RELAY_PEER_STATS_BACKLOG_MAX)
			continue;
		if (h->send(h->user, conn, buf, (size_t)len) == 0)
			sent++;
	}
	return sent;
}
