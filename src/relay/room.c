/*
 * room.c - admission, lifecycle and inspection of the relay engine (see
 * room.h). The datagram hot path lives in forward.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lp_room.h"
#include "room_int.h"

/* Log lines about one peer's bad input: 5 at once, then one per 10 s. */
#define PEER_LOG_BURST 5u
#define PEER_LOG_INTERVAL_NS (10 * LP_NS_PER_SEC)

void lp_relay_cfg_defaults(struct lp_relay_cfg *cfg)
{
	cfg->max_rooms = LP_RELAY_DEFAULT_MAX_ROOMS;
	cfg->max_peers_per_room = LP_RELAY_DEFAULT_MAX_PEERS;
	cfg->mtu_ceiling = LP_RELAY_DEFAULT_MTU_CEILING;
	cfg->bcast_fps = LP_RELAY_DEFAULT_BCAST_FPS;
	cfg->bcast_burst = LP_RELAY_DEFAULT_BCAST_BURST;
	cfg->unknown_fps = LP_RELAY_DEFAULT_UNKNOWN_FPS;
	cfg->unknown_burst = LP_RELAY_DEFAULT_UNKNOWN_BURST;
	cfg->bandwidth_mbps = LP_RELAY_DEFAULT_BANDWIDTH_MBPS;
	cfg->bandwidth_burst = LP_RELAY_DEFAULT_BANDWIDTH_BURST;
	cfg->gw_bcast_fps = LP_RELAY_DEFAULT_GW_BCAST_FPS;
	cfg->gw_bcast_burst = LP_RELAY_DEFAULT_GW_BCAST_BURST;
	cfg->gw_bandwidth_mbps = LP_RELAY_DEFAULT_GW_BANDWIDTH_MBPS;
	cfg->room_mbps = LP_RELAY_DEFAULT_ROOM_MBPS;
	cfg->room_burst = LP_RELAY_DEFAULT_ROOM_BURST;
	cfg->malformed_threshold = LP_RELAY_DEFAULT_MALFORMED_MAX;
	cfg->mac_limit = LP_RELAY_DEFAULT_MAC_LIMIT;
	cfg->mac_aging_ns = LP_RELAY_DEFAULT_MAC_AGING_NS;
	cfg->private_rooms_only = false;
	cfg->fail_limit = LP_RELAY_DEFAULT_FAIL_LIMIT;
	cfg->fail_window_ns = LP_RELAY_DEFAULT_FAIL_WINDOW_NS;
}

int lp_relay_cfg_validate(const struct lp_relay_cfg *cfg)
{
	if (cfg->mtu_ceiling < LP_MTU_MIN || cfg->mtu_ceiling > LP_MTU_MAX)
		return LP_ERR_MTU_RANGE;
	if (cfg->max_rooms == 0 || cfg->max_peers_per_room < 2 ||
	    cfg->max_peers_per_room > LP_RELAY_MAX_PEERS_LIMIT || cfg->malformed_threshold == 0 ||
	    cfg->mac_limit == 0 || cfg->mac_limit > LP_RELAY_MAC_LIMIT_MAX ||
	    cfg->mac_aging_ns == 0 || cfg->fail_limit == 0 || cfg->fail_window_ns == 0)
		return LP_ERR_INVAL;
	if ((cfg->bcast_fps != 0 && cfg->bcast_burst == 0) ||
	    (cfg->unknown_fps != 0 && cfg->unknown_burst == 0) ||
	    ((cfg->bandwidth_mbps != 0 || cfg->gw_bandwidth_mbps != 0) &&
	     cfg->bandwidth_burst == 0) ||
	    (cfg->gw_bcast_fps != 0 && cfg->gw_bcast_burst == 0) ||
	    (cfg->room_mbps != 0 && cfg->room_burst == 0))
		return LP_ERR_INVAL;
	return 0;
}

int lp_relay_new(struct lp_relay **out, const struct lp_relay_cfg *cfg,
                 const struct lp_relay_callbacks *cb, const struct lp_logger *log)
{
	struct lp_relay *r = NULL;
	int rc;

	*out = NULL;
	if (cb == NULL || cb->send_datagram == NULL || cb->send_ctrl == NULL)
		return LP_ERR_INVAL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return LP_ERR_NOMEM;
	if (cfg != NULL)
		r->cfg = *cfg;
	else
		lp_relay_cfg_defaults(&r->cfg);
	rc = lp_relay_cfg_validate(&r->cfg);
	if (rc != 0)
		goto out;
	/* One key per engine: MAC table slots are unpredictable from outside. */
	rc = lp_os_random(r->mac_key, sizeof(r->mac_key));
	if (rc != 0)
		goto out;
	r->rooms = calloc(r->cfg.max_rooms, sizeof(*r->rooms));
	if (r->rooms == NULL) {
		rc = LP_ERR_NOMEM;
		goto out;
	}
	rc = lp_relay_failtab_init(&r->fails, LP_RELAY_FAIL_SLOTS, r->cfg.fail_limit,
	                           r->cfg.fail_window_ns);
	if (rc != 0)
		goto out;
	r->cb = *cb;
	r->log = log;
	r->next_peer_id = 1;
	*out = r;
	r = NULL;
out:
	lp_relay_del(r);
	return rc;
}

static void room_free(struct lp_relay_room *room)
{
	if (room == NULL)
		return;
	for (size_t i = 0; i < room->npeers; i++)
		free(room->peers[i]);
	free(room->peers);
	lp_relay_mactab_free(&room->macs);
	free(room);
}

void lp_relay_del(struct lp_relay *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nrooms; i++)
		room_free(r->rooms[i]);
	free(r->rooms);
	lp_relay_failtab_free(&r->fails);
	free(r);
}

/* By name: an open room's code (never matches a private room: "~" is not
 * a code character), or a private room's shown name. */
static struct lp_relay_room *room_find(const struct lp_relay *r, const char *name)
{
	for (size_t i = 0; i < r->nrooms; i++)
		if (strcmp(r->rooms[i]->name, name) == 0)
			return r->rooms[i];
	return NULL;
}

static struct lp_relay_room *room_find_private(const struct lp_relay *r,
                                               const uint8_t id[LP_CTRL_ROOM_ID_LEN])
{
	for (size_t i = 0; i < r->nrooms; i++)
		if (r->rooms[i]->private_room &&
		    memcmp(r->rooms[i]->id, id, LP_CTRL_ROOM_ID_LEN) == 0)
			return r->rooms[i];
	return NULL;
}

static struct lp_relay_room *room_new(const struct lp_relay *r, const char *name, size_t mtu,
                                      size_t overhead, uint64_t now_ns)
{
	struct lp_relay_room *room = calloc(1, sizeof(*room));
	uint64_t burst;

	if (room == NULL)
		return NULL;
	if (lp_strlcpy_checked(room->name, sizeof(room->name), name) != 0)
		goto fail;
	room->mtu = (uint32_t)mtu;
	room->mac_limit = r->cfg.mac_limit;
	if (lp_proto_budget_for_mtu(mtu, &room->min_budget) != 0)
		goto fail;
	room->min_budget += overhead;
	room->peers = calloc(r->cfg.max_peers_per_room, sizeof(*room->peers));
	if (room->peers == NULL)
		goto fail;
	if (lp_relay_mactab_init(&room->macs, (size_t)r->cfg.mac_limit + r->cfg.max_peers_per_room,
	                         r->cfg.mac_aging_ns, r->mac_key[0], r->mac_key[1]) != 0)
		goto fail;
	lp_log_ratelimit_init(&room->rl_table_full, PEER_LOG_BURST, PEER_LOG_INTERVAL_NS);
	/* A group frame of the room's largest datagram to every other peer
	 * must fit the bucket, or it could never pass. */
	burst = (uint64_t)(r->cfg.max_peers_per_room - 1) * room->min_budget;
	if (burst < r->cfg.room_burst)
		burst = r->cfg.room_burst;
	lp_relay_tb_init(&room->tb_room, (uint64_t)r->cfg.room_mbps * 125000u, burst, now_ns);
	return room;
fail:
	free(room->peers);
	free(room);
	return NULL;
}

static void room_remove(struct lp_relay *r, struct lp_relay_room *room)
{
	for (size_t i = 0; i < r->nrooms; i++) {
		if (r->rooms[i] != room)
			continue;
		/* Keep creation order for stable metrics output. */
		memmove(&r->rooms[i], &r->rooms[i + 1], (r->nrooms - i - 1) * sizeof(*r->rooms));
		r->nrooms--;
		break;
	}
	room_free(room);
}

/* ---- Admission ------------------------------------------------------------ */

static int reject(struct lp_relay *r, void *conn, const struct lp_ctrl_hello *h,
                  enum lp_reject_reason reason, struct lp_ctrl_msg *reply, const char *fmt, ...)
        LP_PRINTF(6, 7);

static int reject(struct lp_relay *r, void *conn, const struct lp_ctrl_hello *h,
                  enum lp_reject_reason reason, struct lp_ctrl_msg *reply, const char *fmt, ...)
{
	struct lp_ctrl_msg m;
	char mac[LP_MAC_STR_LEN];
	va_list ap;

	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_REJECT;
	m.u.reject.reason = reason;
	va_start(ap, fmt);
	/* A message cut at LP_CTRL_TEXT_MAX still says the essential first. */
	(void)vsnprintf(m.u.reject.message, sizeof(m.u.reject.message), fmt, ap);
	va_end(ap);
	r->rejected[reason]++;
	if (lp_log_enabled(r->log, LP_LOG_INFO)) {
		char label[LP_CTRL_ROOM_MAX + 1];

		lp_proto_mac_format(&h->mac, mac);
		if (h->private_room)
			lp_relay_private_name(h->priv.room_id, label);
		else
			(void)snprintf(label, sizeof(label), "%.32s", h->room);
		lp_log(r->log, LP_LOG_INFO, "reject %s %s for room %s: %s (%s)",
		       lp_ctrl_role_name(h->role), mac, label, lp_ctrl_reject_name(reason),
		       m.u.reject.message);
	}
	r->cb.send_ctrl(r->cb.user, conn, &m);
	if (reply != NULL)
		*reply = m;
	return LP_ERR_REJECTED;
}

static void peer_msg(struct lp_ctrl_msg *m, enum lp_ctrl_type type, const struct lp_relay_peer *p,
                     const char *reason)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->u.peer.peer_id = p->id;
	m->u.peer.role = p->role;
	m->u.peer.mac = p->mac;
	if (reason != NULL)
		(void)snprintf(m->u.peer.reason, sizeof(m->u.peer.reason), "%s", reason);
}

/* Checks that do not depend on an existing room. 0 or a reject. */
static int admit_check_hello(struct lp_relay *r, const struct lp_ctrl_hello *h, void *conn,
                             struct lp_ctrl_msg *reply)
{
	if (h->version != LP_CTRL_VERSION)
		return reject(r, conn, h, LP_REJECT_VERSION, reply,
		              "protocol version %u is not supported (relay speaks %u)",
		              (unsigned)h->version, (unsigned)LP_CTRL_VERSION);
	if (!h->private_room && lp_ctrl_room_validate(h->room) != 0)
		return reject(r, conn, h, LP_REJECT_BAD_ROOM, reply,
		              "room code must be 1..%d characters of A-Z a-z 0-9 _ -",
		              LP_CTRL_ROOM_MAX);
	if (!h->private_room && r->cfg.private_rooms_only)
		return reject(r, conn, h, LP_REJECT_BAD_ROOM, reply,
		              "this relay hosts private rooms only: join with an invite");
	if (lp_ctrl_role_mac_validate(h->role, &h->mac) != 0)
		return reject(r, conn, h, LP_REJECT_BAD_HELLO, reply,
		              "role or MAC invalid: the MAC must be a unicast, non-zero address");
	/* A LAN host's MAC is globally administered: a client claiming one
	 * would take the host's frames in the room and on the switch. */
	if (h->role == LP_ROLE_CLIENT && !lp_proto_mac_is_local(&h->mac))
		return reject(r, conn, h, LP_REJECT_BAD_HELLO, reply,
		              "client MAC is not locally administered (set bit 0x02 of the first "
		              "octet, e.g. 02:xx:xx:xx:xx:xx): a client may not claim a LAN host's "
		              "MAC");
	if (r->next_peer_id == 0 || r->next_peer_id > LP_CTRL_PEER_ID_MAX)
		return reject(r, conn, h, LP_REJECT_SHUTTING_DOWN, reply,
		              "relay ran out of peer ids; it must be restarted");
	return 0;
}

/* Checks against an existing room, as if `replacing` (the gateway a valid
 * host takes over from, or NULL) had left already. 0 or a reject. */
static int admit_check_room(struct lp_relay *r, const struct lp_relay_room *room,
                            const struct lp_relay_peer *replacing, const struct lp_ctrl_hello *h,
                            void *conn, size_t budget, uint64_t now_ns, struct lp_ctrl_msg *reply)
{
	const struct lp_relay_peer *owner;
	char mac[LP_MAC_STR_LEN];

	if (room->npeers - (replacing != NULL) >= r->cfg.max_peers_per_room)
		return reject(r, conn, h, LP_REJECT_ROOM_FULL, reply, "room %s is full (%u peers)",
		              room->name, (unsigned)r->cfg.max_peers_per_room);
	if (h->role == LP_ROLE_GATEWAY && room->gateway != NULL && room->gateway != replacing)
		return reject(r, conn, h, LP_REJECT_GATEWAY_EXISTS, reply,
		              "room %s already has a LAN gateway (peer %u)", room->name,
		              (unsigned)room->gateway->id);
	owner = lp_relay_room_lookup(room, &h->mac, now_ns);
	if (owner != NULL && owner != replacing) {
		lp_proto_mac_format(&h->mac, mac);
		if (lp_proto_mac_equal(&owner->mac, &h->mac))
			return reject(r, conn, h, LP_REJECT_DUPLICATE_MAC, reply,
			              "MAC %s is already used in room %s by peer %u", mac,
			              room->name, (unsigned)owner->id);
		return reject(r, conn, h, LP_REJECT_DUPLICATE_MAC, reply,
		              "MAC %s is already in use on the LAN behind the gateway of room %s "
		              "(peer %u)",
		              mac, room->name, (unsigned)owner->id);
	}
	if (budget < room->min_budget)
		return reject(
		        r, conn, h, LP_REJECT_BUDGET_TOO_SMALL, reply,
		        "datagram budget %zu bytes is smaller than the %zu bytes room %s needs "
		        "for its MTU %u",
		        budget, room->min_budget, room->name, (unsigned)room->mtu);
	return 0;
}

static struct lp_relay_peer *peer_new(struct lp_relay *r, const struct lp_ctrl_hello *h, void *conn,
                                      size_t budget, uint64_t now_ns)
{
	struct lp_relay_peer *p = calloc(1, sizeof(*p));
	bool gw = h->role == LP_ROLE_GATEWAY;
	uint64_t bytes_per_s =
	        (uint64_t)(gw ? r->cfg.gw_bandwidth_mbps : r->cfg.bandwidth_mbps) * 125000u;

	if (p == NULL)
		return NULL;
	p->role = h->role;
	p->mac = h->mac;
	p->conn = conn;
	p->budget = budget;
	p->hello_budget = h->datagram_budget;
	p->joined_ns = now_ns;
	p->last_seen_ns = now_ns;
	lp_relay_tb_init(&p->tb_bcast, gw ? r->cfg.gw_bcast_fps : r->cfg.bcast_fps,
	                 gw ? r->cfg.gw_bcast_burst : r->cfg.bcast_burst, now_ns);
	/* The gateway's unknown unicast is dropped before the limits. */
	lp_relay_tb_init(&p->tb_unknown, gw ? 0 : r->cfg.unknown_fps, r->cfg.unknown_burst, now_ns);
	lp_relay_tb_init(&p->tb_bytes, bytes_per_s, r->cfg.bandwidth_burst, now_ns);
	lp_log_ratelimit_init(&p->rl_malformed, PEER_LOG_BURST, PEER_LOG_INTERVAL_NS);
	lp_log_ratelimit_init(&p->rl_egress, PEER_LOG_BURST, PEER_LOG_INTERVAL_NS);
	lp_log_ratelimit_init(&p->rl_filter, PEER_LOG_BURST, PEER_LOG_INTERVAL_NS);
	lp_log_ratelimit_init(&p->rl_rate, PEER_LOG_BURST, PEER_LOG_INTERVAL_NS);
	return p;
}

/* The proofs of a private hello, before any lookup; see PRIVATE ROOMS. */
static int admit_check_private(struct lp_relay *r, const struct lp_ctrl_hello *h,
                               const struct lp_relay_conn_info *ci, void *conn, uint64_t now_ns,
                               struct lp_ctrl_msg *reply)
{
	const uint8_t *src = ci != NULL ? ci->src_key : NULL;
	size_t src_len = ci != NULL && ci->src_key != NULL ? ci->src_key_len : 0;

	if (!lp_relay_failtab_over(&r->fails, src, src_len, now_ns) &&
	    lp_relay_private_verify(h, ci != NULL ? ci->exporter : NULL) == 0)
		return 0;
	lp_relay_failtab_record(&r->fails, src, src_len, now_ns);
	/* One answer for every failure: it must not tell a wrong secret from
	 * a missing room, nor a player from a stranger. */
	return reject(r, conn, h, LP_REJECT_NOT_ADMITTED, reply,
	              "not admitted: the invite is wrong or outdated, or the relay refused "
	              "too many attempts from this address");
}

/*
 * A valid host's gateway takes the slot of the one the room has (most
 * likely a connection that died without a close): the old one is asked to
 * close and leaves the room now, so the new one can take its MAC.
 */
static void detach_gateway(struct lp_relay *r, struct lp_relay_room *room)
{
	struct lp_relay_peer *old = room->gateway;
	struct lp_ctrl_msg m;

	lp_log(r->log, LP_LOG_INFO, "room %s: the host's gateway reconnected, replacing peer %u",
	       room->name, (unsigned)old->id);
	lp_relay_peer_close(r, old, "replaced");
	for (size_t i = 0; i < room->npeers; i++) {
		if (room->peers[i] != old)
			continue;
		memmove(&room->peers[i], &room->peers[i + 1],
		        (room->npeers - i - 1) * sizeof(*room->peers));
		room->npeers--;
		break;
	}
	room->gateway = NULL;
	r->npeers--;
	(void)lp_relay_mactab_remove_peer(&room->macs, old);
	peer_msg(&m, LP_CTRL_PEER_LEFT, old, "replaced");
	for (size_t i = 0; i < room->npeers; i++)
		r->cb.send_ctrl(r->cb.user, room->peers[i]->conn, &m);
	old->room = NULL;
	old->detached = true;
}

int lp_relay_admit(struct lp_relay *r, const struct lp_ctrl_hello *h, void *conn, size_t budget,
                   uint64_t now_ns, struct lp_ctrl_msg *reply, struct lp_relay_peer **out)
{
	return lp_relay_admit_conn(r, h, NULL, conn, budget, now_ns, reply, out);
}

int lp_relay_admit_conn(struct lp_relay *r, const struct lp_ctrl_hello *h,
                        const struct lp_relay_conn_info *ci, void *conn, size_t budget,
                        uint64_t now_ns, struct lp_ctrl_msg *reply, struct lp_relay_peer **out)
{
	struct lp_relay_room *room, *created = NULL;
	struct lp_relay_peer *p = NULL, *replacing = NULL;
	struct lp_relay_mac_entry *stale;
	struct lp_ctrl_msg m;
	char mac[LP_MAC_STR_LEN], name[LP_CTRL_ROOM_MAX + 1];
	size_t mtu, need, overhead = 0;
	int rc;

	*out = NULL;
	if (h == NULL || conn == NULL)
		return LP_ERR_INVAL;
	if (h->datagram_budget < budget)
		budget = h->datagram_budget;
	rc = admit_check_hello(r, h, conn, reply);
	if (rc != 0)
		return rc;
	if (h->private_room) {
		rc = admit_check_private(r, h, ci, conn, now_ns, reply);
		if (rc != 0)
			return rc;
		overhead = LP_ROOM_SEAL_OVERHEAD;
		lp_relay_private_name(h->priv.room_id, name);
		room = room_find_private(r, h->priv.room_id);
	} else {
		(void)snprintf(name, sizeof(name), "%s", h->room);
		room = room_find(r, h->room);
	}
	if (room != NULL) {
		/* Only the holder of the host key passed a private gateway hello. */
		if (room->private_room && h->role == LP_ROLE_GATEWAY)
			replacing = room->gateway;
		rc = admit_check_room(r, room, replacing, h, conn, budget, now_ns, reply);
		if (rc != 0)
			return rc;
	} else {
		if (r->nrooms >= r->cfg.max_rooms)
			return reject(
			        r, conn, h, LP_REJECT_TOO_MANY_ROOMS, reply,
			        "relay already hosts %u rooms (its limit); cannot open room %s",
			        (unsigned)r->cfg.max_rooms, h->room);
		if (budget < overhead || lp_proto_mtu_from_budget(budget - overhead, &mtu) != 0) {
			if (lp_proto_budget_for_mtu(LP_MTU_MIN, &need) != 0)
				need = 0;
			need += overhead;
			return reject(r, conn, h, LP_REJECT_BUDGET_TOO_SMALL, reply,
			              "datagram budget %zu bytes cannot carry the minimum MTU %u "
			              "(needs %zu bytes)",
			              budget, LP_MTU_MIN, need);
		}
		if (mtu > r->cfg.mtu_ceiling)
			mtu = r->cfg.mtu_ceiling;
		room = created = room_new(r, name, mtu, overhead, now_ns);
		if (room == NULL)
			return LP_ERR_NOMEM;
		if (h->private_room) {
			room->private_room = true;
			memcpy(room->id, h->priv.room_id, sizeof(room->id));
		} else {
			lp_log(r->log, LP_LOG_WARN,
			       "room %s: open room: anyone who knows or guesses its code can join "
			       "(private rooms with an invite cannot be joined that way)",
			       room->name);
		}
	}
	p = peer_new(r, h, conn, budget, now_ns);
	if (p == NULL) {
		rc = LP_ERR_NOMEM;
		goto fail;
	}
	if (replacing != NULL)
		detach_gateway(r, room);
	/* A live entry for this MAC was refused as duplicate above, so one
	 * still in the table is an aged learned entry not swept yet. */
	stale = lp_relay_mactab_find(&room->macs, &h->mac);
	if (stale != NULL)
		lp_relay_mactab_remove(&room->macs, stale);
	if (lp_relay_mactab_insert(&room->macs, &h->mac, p, true, now_ns) == NULL) {
		rc = LP_ERR_NOMEM;
		/* A takeover already emptied the slot: a room left empty goes. */
		if (created == NULL && room->npeers == 0)
			room_remove(r, room);
		goto fail;
	}
	if (created != NULL)
		r->rooms[r->nrooms++] = created;

	p->id = r->next_peer_id++;
	p->room = room;
	room->peers[room->npeers++] = p;
	if (p->role == LP_ROLE_GATEWAY)
		room->gateway = p;
	r->npeers++;
	r->admitted++;

	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_WELCOME;
	m.u.welcome.version = LP_CTRL_VERSION;
	m.u.welcome.mode = LP_CTRL_MODE_RELAY;
	m.u.welcome.peer_id = p->id;
	m.u.welcome.mtu = room->mtu;
	m.u.welcome.gateway_present = room->gateway != NULL;
	if (reply != NULL)
		*reply = m;
	if (lp_log_enabled(r->log, LP_LOG_INFO)) {
		lp_proto_mac_format(&p->mac, mac);
		lp_log(r->log, LP_LOG_INFO,
		       "room %s: peer %u joined as %s %s (budget %zu, room MTU %u, %zu peers%s)",
		       room->name, (unsigned)p->id, lp_ctrl_role_name(p->role), mac, p->budget,
		       (unsigned)room->mtu, room->npeers, created != NULL ? ", new room" : "");
	}
	r->cb.send_ctrl(r->cb.user, conn, &m);
	for (size_t i = 0; i + 1 < room->npeers; i++) {
		peer_msg(&m, LP_CTRL_PEER_JOINED, room->peers[i], NULL);
		r->cb.send_ctrl(r->cb.user, conn, &m);
	}
	peer_msg(&m, LP_CTRL_PEER_JOINED, p, NULL);
	for (size_t i = 0; i + 1 < room->npeers; i++)
		r->cb.send_ctrl(r->cb.user, room->peers[i]->conn, &m);
	*out = p;
	return 0;
fail:
	free(p);
	room_free(created);
	return rc;
}

/* ---- Lifecycle ---------------------------------------------------------------- */

void lp_relay_peer_close(struct lp_relay *r, struct lp_relay_peer *p, const char *reason)
{
	if (p->closing)
		return;
	p->closing = true;
	(void)snprintf(p->close_reason, sizeof(p->close_reason), "%s", reason);
	if (r->cb.disconnect != NULL)
		r->cb.disconnect(r->cb.user, p->conn, p->close_reason);
}

void lp_relay_peer_leave(struct lp_relay *r, struct lp_relay_peer *p, const char *reason)
{
	struct lp_relay_room *room = p->room;
	struct lp_ctrl_msg m;
	char mac[LP_MAC_STR_LEN];
	size_t learned;

	if (p->detached) {
		/* It left its room at the takeover already. */
		free(p);
		return;
	}
	if (p->bye_reason[0] != '\0')
		reason = p->bye_reason;
	else if (p->close_reason[0] != '\0')
		reason = p->close_reason;
	else if (reason == NULL || reason[0] == '\0')
		reason = "connection closed";

	for (size_t i = 0; i < room->npeers; i++) {
		if (room->peers[i] != p)
			continue;
		memmove(&room->peers[i], &room->peers[i + 1],
		        (room->npeers - i - 1) * sizeof(*room->peers));
		room->npeers--;
		break;
	}
	if (room->gateway == p)
		room->gateway = NULL;
	r->npeers--;
	learned = lp_relay_mactab_remove_peer(&room->macs, p) - 1;

	if (lp_log_enabled(r->log, LP_LOG_INFO)) {
		lp_proto_mac_format(&p->mac, mac);
		lp_log(r->log, LP_LOG_INFO,
		       "room %s: peer %u (%s %s) left: %s (%zu learned MACs removed, %zu peers "
		       "left)",
		       room->name, (unsigned)p->id, lp_ctrl_role_name(p->role), mac, reason,
		       learned, room->npeers);
	}
	peer_msg(&m, LP_CTRL_PEER_LEFT, p, reason);
	for (size_t i = 0; i < room->npeers; i++)
		r->cb.send_ctrl(r->cb.user, room->peers[i]->conn, &m);
	free(p);
	if (room->npeers == 0)
		room_remove(r, room);
}

int lp_relay_peer_ctrl(struct lp_relay *r, struct lp_relay_peer *p, const struct lp_ctrl_msg *m,
                       uint64_t now_ns)
{
	p->last_seen_ns = now_ns;
	if (p->detached)
		return 0; /* on its way out */
	switch (m->type) {
	case LP_CTRL_STATS:
		p->stats = m->u.stats.counters;
		p->has_stats = true;
		return 0;
	case LP_CTRL_DISCONNECT:
		(void)snprintf(p->bye_reason, sizeof(p->bye_reason), "%s", m->u.disconnect.reason);
		lp_log(r->log, LP_LOG_DEBUG, "room %s: peer %u says goodbye: %s", p->room->name,
		       (unsigned)p->id, p->bye_reason);
		return 0;
	default:
		lp_log(r->log, LP_LOG_INFO, "room %s: peer %u sent unexpected %s message",
		       p->room->name, (unsigned)p->id, lp_ctrl_type_name(m->type));
		return LP_ERR_TYPE;
	}
}

void lp_relay_peer_set_budget(struct lp_relay_peer *p, size_t budget)
{
	p->budget = budget < p->hello_budget ? budget : p->hello_budget;
}

size_t lp_relay_expire(struct lp_relay *r, uint64_t now_ns)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nrooms; i++)
		n += lp_relay_mactab_expire(&r->rooms[i]->macs, now_ns);
	return n;
}

/* ---- Inspection ------------------------------------------------------------------ */

const struct lp_counters *lp_relay_counters(const struct lp_relay *r)
{
	return &r->totals;
}

uint64_t lp_relay_admitted_total(const struct lp_relay *r)
{
	return r->admitted;
}

uint64_t lp_relay_rejected_total(const struct lp_relay *r, enum lp_reject_reason reason)
{
	if ((unsigned)reason > LP_REJECT__MAX)
		return 0;
	return r->rejected[reason];
}

size_t lp_relay_peer_total(const struct lp_relay *r)
{
	return r->npeers;
}

size_t lp_relay_room_count(const struct lp_relay *r)
{
	return r->nrooms;
}

const struct lp_relay_room *lp_relay_room_at(const struct lp_relay *r, size_t i)
{
	return i < r->nrooms ? r->rooms[i] : NULL;
}

const struct lp_relay_room *lp_relay_room_find(const struct lp_relay *r, const char *name)
{
	return room_find(r, name);
}

const char *lp_relay_room_name(const struct lp_relay_room *room)
{
	return room->name;
}

uint32_t lp_relay_room_mtu(const struct lp_relay_room *room)
{
	return room->mtu;
}

bool lp_relay_room_is_private(const struct lp_relay_room *room)
{
	return room->private_room;
}

uint64_t lp_relay_fail_limited_total(const struct lp_relay *r)
{
	return r->fails.limited;
}

const struct lp_relay_peer *lp_relay_room_gateway(const struct lp_relay_room *room)
{
	return room->gateway;
}

size_t lp_relay_room_peer_count(const struct lp_relay_room *room)
{
	return room->npeers;
}

const struct lp_relay_peer *lp_relay_room_peer_at(const struct lp_relay_room *room, size_t i)
{
	return i < room->npeers ? room->peers[i] : NULL;
}

size_t lp_relay_room_learned_count(const struct lp_relay_room *room)
{
	return room->macs.learned;
}

uint64_t lp_relay_room_rate_limited(const struct lp_relay_room *room)
{
	return room->rate_limited;
}

uint64_t lp_relay_room_unlearned(const struct lp_relay_room *room)
{
	return room->table_full;
}

const struct lp_relay_peer *lp_relay_room_lookup(const struct lp_relay_room *room,
                                                 const struct lp_mac *mac, uint64_t now_ns)
{
	return lp_relay_mactab_lookup(&room->macs, mac, now_ns);
}

uint32_t lp_relay_peer_id(const struct lp_relay_peer *p)
{
	return p->id;
}

enum lp_role lp_relay_peer_role(const struct lp_relay_peer *p)
{
	return p->role;
}

const struct lp_mac *lp_relay_peer_mac(const struct lp_relay_peer *p)
{
	return &p->mac;
}

void *lp_relay_peer_conn(const struct lp_relay_peer *p)
{
	return p->conn;
}

const struct lp_relay_room *lp_relay_peer_room(const struct lp_relay_peer *p)
{
	return p->room;
}

size_t lp_relay_peer_budget(const struct lp_relay_peer *p)
{
	return p->budget;
}

uint64_t lp_relay_peer_joined_ns(const struct lp_relay_peer *p)
{
	return p->joined_ns;
}

uint64_t lp_relay_peer_last_seen_ns(const struct lp_relay_peer *p)
{
	return p->last_seen_ns;
}

uint64_t lp_relay_peer_malformed(const struct lp_relay_peer *p)
{
	return p->malformed;
}

size_t lp_relay_peer_learned_count(const struct lp_relay_peer *p)
{
	return p->room != NULL ? lp_relay_mactab_count_peer(&p->room->macs, p) : 0;
}

const struct lp_counters *lp_relay_peer_counters(const struct lp_relay_peer *p)
{
	return &p->counters;
}

const struct lp_counters *lp_relay_peer_stats(const struct lp_relay_peer *p)
{
	return p->has_stats ? &p->stats : NULL;
}

bool lp_relay_peer_closing(const struct lp_relay_peer *p)
{
	return p->closing;
}
