/* client_int.h - internals shared by the files of lib/client-core. */
#ifndef LP_CLIENT_INT_H
#define LP_CLIENT_INT_H

#include "lp_client.h"

struct lp_client {
	struct lp_quic_conn *conn;
	const struct lp_logger *log;
	struct lp_client_cbs cbs;
	void *user;

	enum lp_role role;
	char room[LP_CTRL_ROOM_MAX + 1];
	struct lp_mac mac;
	char software[64];
	uint64_t stats_interval;
	uint64_t pmtud_wait;

	enum lp_client_state state;
	uint64_t now; /* time of the call in progress, for callbacks */
	uint64_t pmtud_deadline;
	uint64_t stats_due;
	bool established;   /* the handshake completed once */
	bool local_close;   /* close_err/close_text were decided locally */
	bool disconnecting; /* lp_client_disconnect was called */
	bool dec_broken;
	int close_err;
	char close_text[LP_CLIENT_TEXT_MAX];
	size_t hello_budget;
	uint64_t stats_sent;

	struct lp_ctrl_welcome welcome;
	bool have_welcome;
	struct lp_ctrl_reject reject;
	bool have_reject;
	bool gateway_present;

	struct lp_client_peer *peers;
	size_t npeers;
	size_t peers_cap;
	struct lp_ctrl_peer_stats *peer_stats; /* the relay's latest table, NULL before one */
	uint64_t peer_stats_at;                /* when it arrived */

	struct lp_counters ctr;
	struct lp_log_ratelimit rl;
	struct lp_ctrl_decoder dec;
	/* Encoded overlay datagram; the budget check keeps frames far below this. */
	uint8_t scratch[LP_PROTO_OVERLAY_HDR_LEN + LP_PROTO_PAYLOAD_MAX];
};

/* Adds or updates a known peer. LP_ERR_NOMEM when the table is full. */
int lp_client_peers_put(struct lp_client *s, const struct lp_client_peer *p) LP_WUR;
/* Removes a known peer, copying it to *out. LP_ERR_NOT_FOUND. */
int lp_client_peers_take(struct lp_client *s, uint32_t peer_id, struct lp_client_peer *out) LP_WUR;

/* Keeps the relay's latest peer_stats table (copied). LP_ERR_NOMEM. */
int lp_client_peers_set_stats(struct lp_client *s, const struct lp_ctrl_peer_stats *ps) LP_WUR;

#endif /* LP_CLIENT_INT_H */
