/* msg.c - control message names and validation, shared by encode and parse. */
#include "lp_ctrl.h"

#include <string.h>

static const char *const type_names[] = {
	[LP_CTRL_NONE] = "none",
	[LP_CTRL_HELLO] = "hello",
	[LP_CTRL_WELCOME] = "welcome",
	[LP_CTRL_REJECT] = "reject",
	[LP_CTRL_PEER_JOINED] = "peer_joined",
	[LP_CTRL_PEER_LEFT] = "peer_left",
	[LP_CTRL_STATS] = "stats",
	[LP_CTRL_DISCONNECT] = "disconnect",
	[LP_CTRL_PEER_STATS] = "peer_stats",
};

static const char *const reject_names[] = {
	[LP_REJECT_BAD_HELLO] = "bad_hello",
	[LP_REJECT_VERSION] = "version",
	[LP_REJECT_BAD_ROOM] = "bad_room",
	[LP_REJECT_GATEWAY_EXISTS] = "gateway_exists",
	[LP_REJECT_DUPLICATE_MAC] = "duplicate_mac",
	[LP_REJECT_ROOM_FULL] = "room_full",
	[LP_REJECT_TOO_MANY_ROOMS] = "too_many_rooms",
	[LP_REJECT_BUDGET_TOO_SMALL] = "budget_too_small",
	[LP_REJECT_SHUTTING_DOWN] = "shutting_down",
	[LP_REJECT_NOT_ADMITTED] = "not_admitted",
};

_Static_assert(LP_ARRAY_LEN(reject_names) == LP_REJECT__MAX + 1, "one name per reject reason");

const char *lp_ctrl_type_name(enum lp_ctrl_type t)
{
	if ((unsigned)t >= LP_ARRAY_LEN(type_names))
		return "unknown";
	return type_names[t];
}

const char *lp_ctrl_role_name(enum lp_role r)
{
	switch (r) {
	case LP_ROLE_CLIENT:
		return "client";
	case LP_ROLE_GATEWAY:
		return "gateway";
	}
	return "unknown";
}

int lp_ctrl_role_parse(const char *s, enum lp_role *out)
{
	if (s == NULL)
		return LP_ERR_ROLE;
	if (strcmp(s, "client") == 0)
		*out = LP_ROLE_CLIENT;
	else if (strcmp(s, "gateway") == 0)
		*out = LP_ROLE_GATEWAY;
	else
		return LP_ERR_ROLE;
	return 0;
}

const char *lp_ctrl_reject_name(enum lp_reject_reason r)
{
	if ((unsigned)r < LP_REJECT_BAD_HELLO || (unsigned)r > LP_REJECT__MAX)
		return "unknown";
	return reject_names[r];
}

int lp_ctrl_reject_parse(const char *s, enum lp_reject_reason *out)
{
	unsigned i;

	if (s == NULL)
		return LP_ERR_FIELD_RANGE;
	for (i = LP_REJECT_BAD_HELLO; i <= LP_REJECT__MAX; i++) {
		if (strcmp(s, reject_names[i]) == 0) {
			*out = (enum lp_reject_reason)i;
			return 0;
		}
	}
	return LP_ERR_FIELD_RANGE;
}

int lp_ctrl_room_validate(const char *room)
{
	size_t i;

	if (room == NULL || room[0] == '\0')
		return LP_ERR_ROOM_EMPTY;
	for (i = 0; room[i] != '\0'; i++) {
		char c = room[i];

		if (i >= LP_CTRL_ROOM_MAX)
			return LP_ERR_ROOM_LONG;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return LP_ERR_ROOM_CHARS;
	}
	return 0;
}

int lp_ctrl_role_mac_validate(enum lp_role role, const struct lp_mac *mac)
{
	if (role != LP_ROLE_CLIENT && role != LP_ROLE_GATEWAY)
		return LP_ERR_ROLE;
	/* Both roles need a unicast identity: a client's generated MAC and a
	 * gateway's NIC MAC alike; only the generator insists on the local bit. */
	if (lp_proto_mac_validate_identity(mac) != 0)
		return LP_ERR_ROLE_MAC;
	return 0;
}

int lp_ctrl_peer_id_validate(uint64_t id)
{
	if (id < 1 || id > LP_CTRL_PEER_ID_MAX)
		return LP_ERR_PEER_ID;
	return 0;
}

int lp_ctrl_mtu_validate(uint64_t mtu)
{
	if (mtu < LP_MTU_MIN || mtu > LP_MTU_MAX)
		return LP_ERR_MTU_RANGE;
	return 0;
}

/* A text field must be terminated inside its array and be valid UTF-8
 * (lp_utf8_valid: Jansson's rule too, so a text that passes can always be
 * encoded). */
static int text_validate(const char *s, size_t cap)
{
	const char *nul = memchr(s, '\0', cap);

	if (nul == NULL || !lp_utf8_valid(s, (size_t)(nul - s)))
		return LP_ERR_FIELD_RANGE;
	return 0;
}

/* A private hello names no room code, and carries a host proof exactly
 * when it asks for the gateway slot. */
static int private_hello_validate(const struct lp_ctrl_hello *h)
{
	if (h->room[0] != '\0')
		return LP_ERR_FIELD_RANGE;
	if (h->priv.has_host_proof != (h->role == LP_ROLE_GATEWAY))
		return h->priv.has_host_proof ? LP_ERR_FIELD_RANGE : LP_ERR_FIELD_MISSING;
	return 0;
}

static int hello_validate(const struct lp_ctrl_hello *h)
{
	int rc;

	if (h->version != LP_CTRL_VERSION)
		return LP_ERR_VERSION;
	if (memchr(h->room, '\0', sizeof(h->room)) == NULL)
		return LP_ERR_ROOM_LONG;
	if (!h->private_room && h->priv.has_host_proof)
		return LP_ERR_FIELD_RANGE;
	rc = h->private_room ? private_hello_validate(h) : lp_ctrl_room_validate(h->room);
	if (rc == 0)
		rc = lp_ctrl_role_mac_validate(h->role, &h->mac);
	if (rc == 0 && (h->datagram_budget < 1 || h->datagram_budget > LP_CTRL_BUDGET_MAX))
		rc = LP_ERR_FIELD_RANGE;
	if (rc == 0)
		rc = text_validate(h->software, sizeof(h->software));
	return rc;
}

static int welcome_validate(const struct lp_ctrl_welcome *w)
{
	int rc;

	if (w->version != LP_CTRL_VERSION)
		return LP_ERR_VERSION;
	if (w->mode != LP_CTRL_MODE_RELAY)
		return LP_ERR_FIELD_RANGE;
	rc = lp_ctrl_peer_id_validate(w->peer_id);
	if (rc == 0)
		rc = lp_ctrl_mtu_validate(w->mtu);
	return rc;
}

static int peer_validate(const struct lp_ctrl_peer *p)
{
	int rc = lp_ctrl_peer_id_validate(p->peer_id);

	if (rc == 0)
		rc = lp_ctrl_role_mac_validate(p->role, &p->mac);
	if (rc == 0)
		rc = text_validate(p->reason, sizeof(p->reason));
	return rc;
}

static int stats_validate(const struct lp_ctrl_stats *s)
{
	const struct lp_counters *c = &s->counters;
	const uint64_t top = (uint64_t)INT64_MAX; /* JSON integers are signed 64-bit */
	size_t i;

	if (c->frames_rx > top || c->frames_tx > top || c->datagrams_rx > top ||
	    c->datagrams_tx > top || c->bytes_rx > top || c->bytes_tx > top ||
	    c->broadcast_rx > top)
		return LP_ERR_FIELD_RANGE;
	/* "none" is not a drop: a count there is a caller bug the wire cannot carry. */
	if (c->drops[LP_DROP_NONE] != 0)
		return LP_ERR_FIELD_RANGE;
	for (i = 1; i < LP_DROP__COUNT; i++) {
		if (c->drops[i] > top)
			return LP_ERR_FIELD_RANGE;
	}
	return 0;
}

/* Every entry a valid, distinct peer; counters in JSON's range; RTTs
 * plausible and ordered; no more lost than sent. */
static int peer_stats_validate(const struct lp_ctrl_peer_stats *ps)
{
	const uint64_t top = (uint64_t)INT64_MAX;
	size_t i, j;
	int rc;

	if (ps->count > LP_CTRL_PEER_STATS_MAX || ps->peers_total > LP_CTRL_PEERS_TOTAL_MAX ||
	    ps->count > ps->peers_total)
		return LP_ERR_FIELD_RANGE;
	for (i = 0; i < ps->count; i++) {
		const struct lp_ctrl_peer_stat *e = &ps->peers[i];

		rc = lp_ctrl_peer_id_validate(e->peer_id);
		if (rc == 0)
			rc = lp_ctrl_role_mac_validate(e->role, &e->mac);
		if (rc != 0)
			return rc;
		if (e->rtt_us > LP_CTRL_RTT_US_MAX || e->rtt_min_us > LP_CTRL_RTT_US_MAX ||
		    (e->rtt_us != 0 && e->rtt_min_us > e->rtt_us) || e->dg_lost > e->dg_sent ||
		    e->dg_sent > top || e->tx_frames > top || e->tx_bytes > top ||
		    e->rx_frames > top || e->rx_bytes > top)
			return LP_ERR_FIELD_RANGE;
		for (j = 0; j < i; j++) {
			if (ps->peers[j].peer_id == e->peer_id)
				return LP_ERR_FIELD_RANGE;
		}
	}
	return 0;
}

int lp_ctrl_msg_validate(const struct lp_ctrl_msg *m)
{
	switch (m->type) {
	case LP_CTRL_HELLO:
		return hello_validate(&m->u.hello);
	case LP_CTRL_WELCOME:
		return welcome_validate(&m->u.welcome);
	case LP_CTRL_REJECT:
		if ((unsigned)m->u.reject.reason < LP_REJECT_BAD_HELLO ||
		    (unsigned)m->u.reject.reason > LP_REJECT__MAX)
			return LP_ERR_FIELD_RANGE;
		return text_validate(m->u.reject.message, sizeof(m->u.reject.message));
	case LP_CTRL_PEER_JOINED:
	case LP_CTRL_PEER_LEFT:
		return peer_validate(&m->u.peer);
	case LP_CTRL_STATS:
		return stats_validate(&m->u.stats);
	case LP_CTRL_DISCONNECT:
		return text_validate(m->u.disconnect.reason, sizeof(m->u.disconnect.reason));
	case LP_CTRL_PEER_STATS:
		return peer_stats_validate(&m->u.peer_stats);
	case LP_CTRL_NONE:
		break;
	}
	return LP_ERR_TYPE;
}
