/*
 * room_int.h - the engine's private state, shared by room.c (admission,
 * lifecycle, inspection) and forward.c (the datagram hot path). Not for
 * callers: use the accessors of room.h. forward.c calls room.c
 * (lp_relay_peer_close), never the other way; MAC lookups are mactable.c's.
 */
#ifndef LP_RELAY_ROOM_INT_H
#define LP_RELAY_ROOM_INT_H

#include "admit.h"
#include "mactable.h"
#include "ratelimit.h"
#include "room.h"

struct lp_relay_peer {
	uint32_t id;
	enum lp_role role;
	struct lp_mac mac;
	void *conn;
	struct lp_relay_room *room;
	size_t budget;       /* effective: min(QUIC budget, hello_budget) */
	size_t hello_budget; /* what the peer announced */
	uint64_t joined_ns;
	uint64_t last_seen_ns;
	uint64_t malformed;
	bool closing;  /* the engine asked the binary to disconnect it */
	bool detached; /* taken over: out of its room (room NULL), waiting for peer_leave */
	bool has_stats;
	struct lp_counters counters; /* relay's accounting */
	struct lp_counters stats;    /* peer's last STATS snapshot */
	struct lp_relay_tb tb_bcast;
	struct lp_relay_tb tb_unknown;
	struct lp_relay_tb tb_bytes;
	struct lp_log_ratelimit rl_malformed;
	struct lp_log_ratelimit rl_egress;
	struct lp_log_ratelimit rl_filter;       /* frames the L2 filters dropped */
	struct lp_log_ratelimit rl_rate;         /* frames the rate limits dropped */
	char close_reason[LP_CTRL_TEXT_MAX + 1]; /* the engine's disconnect reason */
	char bye_reason[LP_CTRL_TEXT_MAX + 1];   /* from the peer's DISCONNECT */
};

struct lp_relay_room {
	char name[LP_CTRL_ROOM_MAX + 1]; /* the code, or "~" + 8 id characters */
	bool private_room;
	uint8_t id[LP_CTRL_ROOM_ID_LEN]; /* private rooms */
	uint32_t mtu;
	size_t min_budget;            /* lp_proto_budget_for_mtu(mtu) (+ seal overhead) */
	struct lp_relay_peer **peers; /* join order, cfg.max_peers_per_room slots */
	size_t npeers;
	struct lp_relay_peer *gateway;
	struct lp_relay_mactab macs;
	size_t mac_limit;       /* cfg.mac_limit: learned entries at most */
	uint64_t last_sweep_ns; /* last expiry sweep forced by a full table */
	uint64_t table_full;    /* sources not learned because the table was full */
	struct lp_log_ratelimit rl_table_full;
	struct lp_relay_tb tb_room; /* cfg.room_mbps over what the relay sends here */
	uint64_t rate_limited;      /* frames refused by tb_room */
};

struct lp_relay {
	struct lp_relay_cfg cfg;
	struct lp_relay_callbacks cb;
	const struct lp_logger *log;
	struct lp_relay_room **rooms; /* creation order, cfg.max_rooms slots */
	size_t nrooms;
	size_t npeers;
	uint32_t next_peer_id;
	uint64_t mac_key[2]; /* SipHash key of every room's MAC table */
	uint64_t admitted;
	uint64_t rejected[LP_REJECT__MAX + 1];
	struct lp_counters totals;
	struct lp_relay_failtab fails;
	/* A gateway's datagram with FROM_GATEWAY set (the ingress bytes are
	 * read-only); the budget check bounds it far below this. */
	uint8_t scratch[LP_PROTO_OVERLAY_HDR_LEN + LP_PROTO_PAYLOAD_MAX];
};

/* Counts one drop on the relay totals and on peer p. */
static inline void lp_relay_count_drop(struct lp_relay *r, struct lp_relay_peer *p,
                                       enum lp_drop_reason reason)
{
	lp_obs_count_drop(&r->totals, reason);
	lp_obs_count_drop(&p->counters, reason);
}

/* The engine asks the binary to close p (once); reason is kept for the
 * PEER_LEFT that follows. */
void lp_relay_peer_close(struct lp_relay *r, struct lp_relay_peer *p, const char *reason);

#endif /* LP_RELAY_ROOM_INT_H */
