/* status.c - a peer's local status document; see lp_client.h. */
#include <stdio.h>
#include <string.h>

#include "client_int.h"

static uint64_t ns_to_us(uint64_t ns)
{
	uint64_t us = ns / 1000;

	return us > LP_CTRL_RTT_US_MAX ? LP_CTRL_RTT_US_MAX : us;
}

static void fill_self(const struct lp_client *s, struct lp_ctrl_status *out)
{
	const struct lp_counters *c = lp_client_counters(s);
	struct lp_quic_conn_info info;

	snprintf(out->state, sizeof(out->state), "%s", lp_client_state_name(s->state));
	if (s->have_welcome && s->state == LP_CLIENT_ADMITTED) {
		out->peer_id = s->welcome.peer_id;
		out->mtu = s->welcome.mtu;
	}
	lp_client_conn_info(s, &info);
	out->link.rtt_us = ns_to_us(info.smoothed_rtt_ns);
	out->link.rtt_min_us = ns_to_us(info.min_rtt_ns);
	if (out->link.rtt_min_us > out->link.rtt_us)
		out->link.rtt_min_us = out->link.rtt_us;
	out->link.dg_sent = info.datagrams_sent;
	out->link.dg_lost = info.datagrams_lost;
	out->link.tx_frames = c->frames_tx;
	out->link.tx_bytes = c->bytes_tx;
	out->link.rx_frames = c->frames_rx;
	out->link.rx_bytes = c->bytes_rx;
}

static void fill_peers(const struct lp_client *s, const struct lp_lanip *ips, uint64_t now,
                       struct lp_ctrl_status *out)
{
	uint64_t at = 0;
	const struct lp_ctrl_peer_stats *ps = lp_client_peer_stats(s, &at);
	struct lp_client_peer known;

	if (ps == NULL || s->state != LP_CLIENT_ADMITTED)
		return;
	out->has_table = true;
	out->table_age_ms = now > at ? (now - at) / LP_NS_PER_MS : 0;
	out->peers_total = ps->peers_total;
	for (uint32_t i = 0; i < ps->count; i++) {
		const struct lp_ctrl_peer_stat *e = &ps->peers[i];
		struct lp_ctrl_status_peer *p;

		/* Ourselves, and a peer that left since the table was sent. */
		if (e->peer_id == out->peer_id || lp_client_peer_lookup(s, e->peer_id, &known) != 0)
			continue;
		p = &out->peers[out->count++];
		p->peer_id = e->peer_id;
		p->role = e->role;
		p->mac = e->mac;
		p->has_ip = ips != NULL && lp_lanip_lookup(ips, &e->mac, p->ip) == 0;
		p->link = (struct lp_ctrl_status_link){
			.rtt_us = e->rtt_us,
			.rtt_min_us = e->rtt_min_us,
			.dg_sent = e->dg_sent,
			.dg_lost = e->dg_lost,
			.tx_frames = e->tx_frames,
			.tx_bytes = e->tx_bytes,
			.rx_frames = e->rx_frames,
			.rx_bytes = e->rx_bytes,
		};
		if (out->link.rtt_us != 0 && e->rtt_us != 0)
			p->est_rtt_us = out->link.rtt_us + e->rtt_us;
	}
}

static bool is_peer(const struct lp_ctrl_status *st, const struct lp_mac *mac)
{
	if (lp_proto_mac_equal(&st->mac, mac))
		return true;
	for (uint32_t i = 0; i < st->count; i++) {
		if (lp_proto_mac_equal(&st->peers[i].mac, mac))
			return true;
	}
	return false;
}

/* The most recently seen hosts first, so a full list shows the live ones. */
static void fill_hosts(const struct lp_lanip *ips, struct lp_ctrl_status *out)
{
	bool used[LP_LANIP_MAX] = { false };

	while (out->nhosts < LP_CTRL_STATUS_HOSTS_MAX) {
		size_t best = SIZE_MAX;

		for (size_t i = 0; i < ips->n; i++) {
			if (!used[i] && !is_peer(out, &ips->e[i].mac) &&
			    (best == SIZE_MAX || ips->e[i].seen_ns > ips->e[best].seen_ns))
				best = i;
		}
		if (best == SIZE_MAX)
			break;
		used[best] = true;
		out->hosts[out->nhosts].mac = ips->e[best].mac;
		memcpy(out->hosts[out->nhosts].ip, ips->e[best].ip, 4);
		out->nhosts++;
	}
}

void lp_client_status_fill(const struct lp_client_status_src *src, struct lp_ctrl_status *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->program, sizeof(out->program), "%s", src->program);
	snprintf(out->room, sizeof(out->room), "%s", src->room);
	out->role = src->role;
	out->mac = src->mac;
	snprintf(out->state, sizeof(out->state), "reconnecting");
	if (src->lanip != NULL)
		out->has_ip = lp_lanip_lookup(src->lanip, &src->mac, out->ip) == 0;
	if (src->session != NULL) {
		fill_self(src->session, out);
		fill_peers(src->session, src->lanip, src->now, out);
	}
	if (src->lanip != NULL)
		fill_hosts(src->lanip, out);
}
