/* client_int.h - internals shared by the files of lib/client-core. */
#ifndef LP_CLIENT_INT_H
#define LP_CLIENT_INT_H

#include "lp_client.h"
#include "lp_l2filter.h"

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

	/* Private room (private.c). */
	bool private_room;
	struct lp_room_keys keys;
	uint8_t host_seed[LP_ROOM_SEED_LEN];
	struct lp_room_sealer *sealer;
	struct lp_room_opener *opener;
	bool own_opener;
	bool rx_from_gateway; /* of the frame being delivered */

	/* Encoded overlay datagram (sealed in place); the budget check keeps
	 * frames far below this. */
	uint8_t scratch[LP_PROTO_OVERLAY_HDR_LEN + LP_PROTO_PAYLOAD_MAX + LP_ROOM_SEAL_OVERHEAD];
	/* A received datagram opened in place (the ingress bytes are read-only). */
	uint8_t rx_scratch[LP_PROTO_OVERLAY_HDR_LEN + LP_PROTO_PAYLOAD_MAX];
};

/* private.c: the private-room half of the session. */
/* Copies the keys and makes the sealer (and an opener unless cfg has one);
 * the shown room name becomes "~" + 8 characters of the id. */
int lp_client_private_init(struct lp_client *s, const struct lp_client_cfg *cfg) LP_WUR;
void lp_client_private_free(struct lp_client *s);
/* Fills the private fields of h (role and the rest set) for this connection. */
int lp_client_private_hello(struct lp_client *s, struct lp_ctrl_hello *h) LP_WUR;
/* Opens a received datagram into rx_scratch: the plain datagram's length,
 * or a negative LP_ERR_* with the drop counted. */
ssize_t lp_client_private_open(struct lp_client *s, const uint8_t *data, size_t len) LP_WUR;

/* Adds or updates a known peer. LP_ERR_NOMEM when the table is full. */
int lp_client_peers_put(struct lp_client *s, const struct lp_client_peer *p) LP_WUR;
/* Removes a known peer, copying it to *out. LP_ERR_NOT_FOUND. */
int lp_client_peers_take(struct lp_client *s, uint32_t peer_id, struct lp_client_peer *out) LP_WUR;

/* Keeps the relay's latest peer_stats table (copied). LP_ERR_NOMEM. */
int lp_client_peers_set_stats(struct lp_client *s, const struct lp_ctrl_peer_stats *ps) LP_WUR;

#endif /* LP_CLIENT_INT_H */
