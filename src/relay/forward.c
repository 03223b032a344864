/*
 * forward.c - the relay's datagram hot path (see FORWARDING in room.h).
 *
 * Per datagram: one overlay decode, one Ethernet parse, the filters, at most
 * two O(1) MAC lookups and the token buckets; no allocation (except the
 * rare doubling of a MAC table when the gateway's LAN grows) and no text
 * formatting unless the log level asks for it.
 */
#include <stdio.h>
#include <string.h>

#include "lp_l2filter.h"
#include "lp_room.h"
#include "room_int.h"

/* Forced expiry sweeps of a full MAC table: at most one per second. */
#define FULL_SWEEP_INTERVAL_NS LP_NS_PER_SEC

enum dest_class { DEST_GROUP, DEST_KNOWN, DEST_UNKNOWN };

static void log_frame(const struct lp_relay *r, const struct lp_relay_peer *p,
                      const struct lp_eth *eth, size_t len, const struct lp_relay_verdict *v)
{
	struct lp_obs_frame_event ev;
	char line[320];

	memset(&ev, 0, sizeof(ev));
	ev.dir = LP_OBS_DIR_RELAY_INGRESS;
	ev.room = p->room->name;
	ev.peer_id = p->id;
	ev.frame_len = len;
	if (eth != NULL) {
		ev.src = eth->src;
		ev.dst = eth->dst;
		ev.ethertype = eth->inner_ethertype;
		ev.frame_len = eth->frame_len;
	}
	ev.action = v->action;
	ev.reason = v->reason;
	ev.targets = v->targets;
	if (lp_obs_frame_event_format(&ev, line, sizeof(line)) < 0)
		return;
	lp_log(r->log, LP_LOG_DEBUG, "%s", line);
}

static void malformed(struct lp_relay *r, struct lp_relay_peer *p, int err, size_t len,
                      uint64_t now_ns)
{
	char reason[LP_CTRL_TEXT_MAX + 1];
	uint64_t skipped = 0;

	p->malformed++;
	lp_relay_count_drop(r, p, LP_DROP_MALFORMED);
	if (lp_log_enabled(r->log, LP_LOG_INFO) &&
	    lp_log_ratelimit_ok(&p->rl_malformed, now_ns, &skipped))
		lp_log(r->log, LP_LOG_INFO,
		       "room %s: peer %u sent a malformed datagram (%s, %zu bytes): %llu so far, "
		       "disconnect at %u (%llu similar lines suppressed)",
		       p->room->name, (unsigned)p->id, lp_strerror(err), len,
		       (unsigned long long)p->malformed, (unsigned)r->cfg.malformed_threshold,
		       (unsigned long long)skipped);
	if (p->malformed < r->cfg.malformed_threshold)
		return;
	(void)snprintf(reason, sizeof(reason), "too many malformed datagrams (%llu)",
	               (unsigned long long)p->malformed);
	lp_log(r->log, LP_LOG_WARN, "room %s: disconnecting peer %u: %s", p->room->name,
	       (unsigned)p->id, reason);
	lp_relay_peer_close(r, p, reason);
}

/* A frame the L2 filters dropped: an attack or a misconfigured player, so
 * worth an operator's eye, but rate-limited per peer. */
static void filtered(const struct lp_relay *r, struct lp_relay_peer *p, const struct lp_eth *eth,
                     enum lp_drop_reason why, uint64_t now_ns)
{
	char src[LP_MAC_STR_LEN], dst[LP_MAC_STR_LEN];
	uint64_t skipped = 0;

	/* At debug level every frame gets its own line already. */
	if (!lp_log_enabled(r->log, LP_LOG_INFO) || lp_log_enabled(r->log, LP_LOG_DEBUG) ||
	    !lp_log_ratelimit_ok(&p->rl_filter, now_ns, &skipped))
		return;
	lp_proto_mac_format(&eth->src, src);
	lp_proto_mac_format(&eth->dst, dst);
	lp_log(r->log, LP_LOG_INFO,
	       "room %s: filtered a frame from peer %u (%s): %s (src=%s dst=%s type=0x%04x "
	       "len=%zu) (%llu similar lines suppressed)",
	       p->room->name, (unsigned)p->id, lp_ctrl_role_name(p->role), lp_obs_drop_name(why),
	       src, dst, (unsigned)eth->inner_ethertype, eth->frame_len,
	       (unsigned long long)skipped);
}

/*
 * Learns a gateway-side source. Returns LP_DROP_LOOP when the source is
 * another peer's own MAC, otherwise LP_DROP_NONE (also when the table is
 * full: the frame still flows, the source is just not remembered).
 */
static enum lp_drop_reason learn(struct lp_relay *r, struct lp_relay_room *room,
                                 struct lp_relay_peer *p, const struct lp_mac *src, uint64_t now_ns)
{
	struct lp_relay_mac_entry *e = lp_relay_mactab_find(&room->macs, src);
	char mac[LP_MAC_STR_LEN];
	uint64_t skipped = 0;

	if (e != NULL) {
		if (e->is_static)
			return e->peer == p ? LP_DROP_NONE : LP_DROP_LOOP;
		e->peer = p;
		e->seen_ns = now_ns;
		return LP_DROP_NONE;
	}
	if (room->macs.learned >= room->mac_limit &&
	    now_ns - room->last_sweep_ns >= FULL_SWEEP_INTERVAL_NS) {
		room->last_sweep_ns = now_ns;
		(void)lp_relay_mactab_expire(&room->macs, now_ns);
	}
	if (room->macs.learned < room->mac_limit &&
	    lp_relay_mactab_insert(&room->macs, src, p, false, now_ns) != NULL)
		return LP_DROP_NONE;
	room->table_full++;
	if (lp_log_enabled(r->log, LP_LOG_INFO) &&
	    lp_log_ratelimit_ok(&room->rl_table_full, now_ns, &skipped)) {
		lp_proto_mac_format(src, mac);
		lp_log(r->log, LP_LOG_INFO,
		       "room %s: learned-MAC table full (%zu entries), not learning %s "
		       "(%llu similar lines suppressed)",
		       room->name, room->macs.learned, mac, (unsigned long long)skipped);
	}
	return LP_DROP_NONE;
}

/* Hands the datagram to target t. LP_DROP_NONE when accepted, else the skip
 * reason, counted on t. */
static enum lp_drop_reason send_one(struct lp_relay *r, const struct lp_relay_peer *p,
                                    struct lp_relay_peer *t, const uint8_t *data, size_t len,
                                    uint64_t now_ns)
{
	uint64_t skipped = 0;
	int rc;

	if (len > t->budget) {
		lp_relay_count_drop(r, t, LP_DROP_TOO_BIG);
		if (lp_log_enabled(r->log, LP_LOG_INFO) &&
		    lp_log_ratelimit_ok(&t->rl_egress, now_ns, &skipped))
			lp_log(r->log, LP_LOG_INFO,
			       "room %s: skipped frame from peer %u to peer %u: datagram of %zu "
			       "bytes exceeds the target budget of %zu bytes (%llu similar lines "
			       "suppressed)",
			       p->room->name, (unsigned)p->id, (unsigned)t->id, len, t->budget,
			       (unsigned long long)skipped);
		return LP_DROP_TOO_BIG;
	}
	rc = r->cb.send_datagram(r->cb.user, t->conn, data, len);
	if (rc < 0) {
		enum lp_drop_reason why = rc == LP_ERR_AGAIN ? LP_DROP_QUEUE_FULL : LP_DROP_IO;

		lp_relay_count_drop(r, t, why);
		return why;
	}
	t->counters.datagrams_tx++;
	t->counters.frames_tx++;
	t->counters.bytes_tx += len;
	r->totals.datagrams_tx++;
	r->totals.frames_tx++;
	r->totals.bytes_tx += len;
	return LP_DROP_NONE;
}

/* Resolves where a frame goes. Returns LP_DROP_NONE with *cls and *target
 * (NULL for group frames), or the drop reason. */
static enum lp_drop_reason route(const struct lp_relay_room *room, const struct lp_relay_peer *p,
                                 const struct lp_eth *eth, uint64_t now_ns, enum dest_class *cls,
                                 struct lp_relay_peer **target)
{
	struct lp_relay_peer *owner;

	*target = NULL;
	if (lp_proto_mac_is_group(&eth->dst)) {
		*cls = DEST_GROUP;
		return LP_DROP_NONE;
	}
	owner = lp_relay_mactab_lookup(&room->macs, &eth->dst, now_ns);
	if (owner != NULL) {
		*cls = DEST_KNOWN;
		if (owner == p)
			return LP_DROP_LOOP;
		*target = owner;
		return LP_DROP_NONE;
	}
	*cls = DEST_UNKNOWN;
	/* Unknown unicast from the gateway is LAN traffic for a host the room
	 * has never seen: flooding it to every client leaks LAN unicast. */
	if (p->role == LP_ROLE_GATEWAY || room->gateway == NULL)
		return LP_DROP_UNKNOWN_DEST;
	*target = room->gateway;
	return LP_DROP_NONE;
}

/* The peer's buckets, then the room's (see FORWARDING in room.h). The room
 * is charged what the relay will send: len to each receiver. */
static enum lp_drop_reason rate_limit(struct lp_relay_room *room, struct lp_relay_peer *p,
                                      enum dest_class cls, size_t len, uint64_t now_ns)
{
	uint64_t receivers = cls == DEST_GROUP ? room->npeers - 1 : 1;

	if (cls == DEST_GROUP && !lp_relay_tb_take(&p->tb_bcast, now_ns, 1))
		return LP_DROP_RATE_BROADCAST;
	if (cls == DEST_UNKNOWN && !lp_relay_tb_take(&p->tb_unknown, now_ns, 1))
		return LP_DROP_RATE_UNKNOWN;
	if (!lp_relay_tb_take(&p->tb_bytes, now_ns, len))
		return LP_DROP_RATE_TOTAL;
	if (!lp_relay_tb_take(&room->tb_room, now_ns, receivers * len)) {
		room->rate_limited++;
		return LP_DROP_RATE_ROOM;
	}
	return LP_DROP_NONE;
}

/* A frame a rate limit dropped: a flood worth an operator's eye (whose,
 * which limit), rate-limited per peer like the other drop lines. */
static void rate_limited(const struct lp_relay *r, struct lp_relay_peer *p, enum lp_drop_reason why,
                         uint64_t now_ns)
{
	uint64_t skipped = 0;

	if (!lp_log_enabled(r->log, LP_LOG_INFO) || lp_log_enabled(r->log, LP_LOG_DEBUG) ||
	    !lp_log_ratelimit_ok(&p->rl_rate, now_ns, &skipped))
		return;
	lp_log(r->log, LP_LOG_INFO,
	       "room %s: rate-limited a frame from peer %u (%s): %s, %llu so far (%llu similar "
	       "lines suppressed)",
	       p->room->name, (unsigned)p->id, lp_ctrl_role_name(p->role), lp_obs_drop_name(why),
	       (unsigned long long)p->counters.drops[why], (unsigned long long)skipped);
}

/*
 * The overlay header, its flags and the Ethernet header of a datagram (see
 * PRIVATE ROOMS in room.h): FROM_GATEWAY is the relay's to set, never a
 * peer's; SEALED is required in a private room and refused in an open one.
 * In a private room only the clear header is parsed (lp_room_sealed_parse:
 * the seal's trailer is not part of the frame) and *eth carries no L3
 * bytes, so the filters see no payload to judge. Returns LP_DROP_NONE,
 * LP_DROP_UNSEALED, or LP_DROP_MALFORMED with *err.
 */
static enum lp_drop_reason ingress_parse(const struct lp_relay_room *room, const uint8_t *data,
                                         size_t len, struct lp_eth *eth, int *err)
{
	struct lp_proto_overlay ov;
	uint8_t flags = 0;

	if (room->private_room) {
		*err = lp_room_sealed_parse(data, len, &flags, eth);
		if (*err == LP_ERR_STATE)
			return LP_DROP_UNSEALED;
		eth->l3_len = 0;
	} else {
		*err = lp_proto_overlay_decode(data, len, &ov);
		flags = ov.flags;
		if (*err == 0 && (flags & LP_PROTO_FLAG_SEALED) != 0)
			*err = LP_ERR_INVAL;
		if (*err == 0)
			*err = lp_proto_eth_parse(ov.payload, ov.payload_len, eth);
	}
	if (*err == 0 && (flags & LP_PROTO_FLAG_FROM_GATEWAY) != 0)
		*err = LP_ERR_INVAL;
	return *err == 0 ? LP_DROP_NONE : LP_DROP_MALFORMED;
}

void lp_relay_datagram(struct lp_relay *r, struct lp_relay_peer *p, const uint8_t *data, size_t len,
                       uint64_t now_ns, struct lp_relay_verdict *out)
{
	struct lp_relay_room *room = p->room;
	struct lp_relay_verdict v = { LP_OBS_FORWARDED, LP_DROP_NONE, 0 };
	struct lp_relay_peer *target = NULL;
	enum lp_drop_reason why, skip = LP_DROP_NONE;
	enum dest_class cls = DEST_GROUP;
	struct lp_eth eth;
	const struct lp_eth *parsed = NULL;
	int rc;

	p->last_seen_ns = now_ns;
	p->counters.datagrams_rx++;
	p->counters.bytes_rx += len;
	r->totals.datagrams_rx++;
	r->totals.bytes_rx += len;
	if (p->detached) {
		/* Replaced by its host's new gateway: no room to log against. */
		lp_relay_count_drop(r, p, LP_DROP_NOT_READY);
		if (out != NULL)
			*out = (struct lp_relay_verdict){ LP_OBS_DROPPED, LP_DROP_NOT_READY, 0 };
		return;
	}
	if (p->closing) {
		why = LP_DROP_NOT_READY;
		lp_relay_count_drop(r, p, why);
		goto drop;
	}
	why = ingress_parse(room, data, len, &eth, &rc);
	if (why == LP_DROP_MALFORMED) {
		malformed(r, p, rc, len, now_ns);
		goto drop;
	}
	if (why != LP_DROP_NONE) {
		lp_relay_count_drop(r, p, why);
		goto drop;
	}
	parsed = &eth;
	p->counters.frames_rx++;
	r->totals.frames_rx++;
	if (lp_proto_mac_is_group(&eth.dst)) {
		p->counters.broadcast_rx++;
		r->totals.broadcast_rx++;
	}

	/* A private room's payload is sealed: the receivers filter it. */
	why = room->private_room
	              ? lp_l2filter_header(&eth, p->role == LP_ROLE_GATEWAY, &p->mac, room->mtu)
	              : lp_l2filter_relay(&eth, p->role == LP_ROLE_GATEWAY, &p->mac, room->mtu);
	if (why != LP_DROP_NONE)
		filtered(r, p, &eth, why, now_ns);
	if (why == LP_DROP_NONE && p->role == LP_ROLE_GATEWAY)
		why = learn(r, room, p, &eth.src, now_ns);
	if (why == LP_DROP_NONE)
		why = route(room, p, &eth, now_ns, &cls, &target);
	if (why == LP_DROP_NONE)
		why = rate_limit(room, p, cls, len, now_ns);
	if (why != LP_DROP_NONE) {
		lp_relay_count_drop(r, p, why);
		if (lp_obs_action_for(why) == LP_OBS_RATE_LIMITED)
			rate_limited(r, p, why, now_ns);
		goto drop;
	}
	/* The relay's attestation of where a frame came from: receivers let
	 * DHCP and router advertisements in only with it. */
	if (p->role == LP_ROLE_GATEWAY) {
		memcpy(r->scratch, data, len);
		r->scratch[1] |= LP_PROTO_FLAG_FROM_GATEWAY;
		data = r->scratch;
	}

	if (target != NULL) {
		if (target->closing) {
			skip = LP_DROP_NOT_READY;
			lp_relay_count_drop(r, target, skip);
		} else {
			skip = send_one(r, p, target, data, len, now_ns);
		}
		if (skip == LP_DROP_NONE)
			v.targets = 1;
	} else {
		for (size_t i = 0; i < room->npeers; i++) {
			struct lp_relay_peer *t = room->peers[i];
			enum lp_drop_reason s;

			/* Never back to the ingress peer; skip peers being closed. */
			if (t == p || t->closing)
				continue;
			s = send_one(r, p, t, data, len, now_ns);
			if (s == LP_DROP_NONE)
				v.targets++;
			else
				skip = s;
		}
	}
	if (v.targets == 0 && skip != LP_DROP_NONE) {
		why = skip;
		goto drop;
	}
	goto done;
drop:
	v.action = lp_obs_action_for(why);
	v.reason = why;
	v.targets = 0;
done:
	if (lp_log_enabled(r->log, LP_LOG_DEBUG))
		log_frame(r, p, parsed, len, &v);
	if (out != NULL)
		*out = v;
}
