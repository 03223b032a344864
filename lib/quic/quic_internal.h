/*
 * quic_internal.h - what conn.c, server.c and ctx.c share (not installed).
 */
#ifndef LP_QUIC_INTERNAL_H
#define LP_QUIC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include "lp_quic.h"
#include "tls.h"

/* Length of the connection IDs we issue (both sides). Short: every byte
 * of it is taken from each packet's datagram budget. 8 random bytes are
 * plenty to route a relay's connections. */
#define LP_QUIC_CID_LEN 8
#define LP_QUIC_RESET_SECRET_LEN 32

struct lp_quic_ctx {
	bool server;
	const struct lp_logger *log;
	struct lp_tls_creds *creds;
	uint64_t idle_timeout_ns;
	uint64_t keepalive_ns; /* 0: none (server) */
	uint64_t handshake_timeout_ns;
	size_t datagram_queue;
	size_t max_connections;
	uint8_t reset_secret[LP_QUIC_RESET_SECRET_LEN];
};

/* One block of control-stream bytes: stays allocated until acknowledged
 * (ngtcp2 keeps pointers into it for retransmission). */
struct stream_chunk {
	struct stream_chunk *next;
	size_t len;
	uint8_t data[];
};

struct cid_entry;

struct lp_quic_conn {
	struct lp_quic_ctx *ctx;
	ngtcp2_conn *q;
	struct lp_tls_session *tls;
	const struct lp_quic_conn_cbs *cbs;
	void *user;
	enum lp_quic_state state;
	bool server;

	ngtcp2_path_storage ps; /* the current path (client: fixed) */

	uint64_t now;  /* `now` of the call in progress (for callbacks) */
	size_t budget; /* datagram budget, refreshed on timers */

	/* Control stream: id -1 until opened (client) or seen (server). */
	int64_t sid;
	bool sid_dead; /* reset or closed by the peer */
	struct stream_chunk *sq_head, *sq_tail;
	uint64_t sq_acked;    /* stream offset acknowledged so far */
	uint64_t sq_sent;     /* stream offset handed to ngtcp2 */
	uint64_t sq_total;    /* stream offset of the end of queued bytes */
	uint64_t sq_head_off; /* stream offset of sq_head->data[0] */

	/* Datagram FIFO: cap slots of LP_QUIC_MAX_UDP_PAYLOAD bytes. */
	uint8_t *dg_buf;
	uint16_t *dg_len;
	size_t dg_cap, dg_head, dg_count;
	uint64_t dg_id;
	uint64_t dg_lost, dg_drops;

	/* A packet written but not returned by the last write (different
	 * path or size than its GSO batch): sent first next time. */
	uint8_t *carry;
	size_t carry_len;
	ngtcp2_path_storage carry_ps;

	/* Close handling. */
	bool est_pending; /* handshake done, established cb not run yet */
	bool hs_done;
	int fail_err;      /* set by a callback: LP_ERR_ALPN, ... */
	bool close_wanted; /* lp_quic_conn_close called, packet not written */
	bool close_app;    /* the close is an application close */
	uint64_t close_code;
	char close_reason[128];
	int close_err; /* what the closed callback reports */
	ngtcp2_connection_close_error ccerr;
	uint64_t flush_deadline; /* close waits for stream acks until then */
	uint8_t *close_pkt;
	size_t close_pkt_len;
	bool resend_close;
	uint64_t close_deadline; /* end of closing/draining period */
	bool closed_cb_done;
	bool closed_cb_deferred; /* run it from the next handle_expiry */

	/* PMTUD heuristic (see conn.c). */
	uint64_t hs_done_ts;
	bool pmtud_done;

	/* Server bookkeeping (server.c). */
	struct lp_quic_server *srv;
	size_t heap_slot; /* index + 1 in the server's expiry heap; 0: none */
	uint64_t heap_key;
	uint8_t pending; /* 0: no, 1: on the server's list, 2: being iterated */
	struct lp_quic_conn *pend_next, *pend_prev;
	struct lp_quic_conn *exp_next; /* server_handle_expiry's due list */
	struct lp_quic_conn *all_prev, *all_next;
	struct cid_entry *cids;
	bool accepted; /* the accept callback took it */

	ngtcp2_crypto_conn_ref ref;
};

/* conn.c, for server.c: a server-side connection for a client Initial. */
int lp_quic_conn_new_server(struct lp_quic_ctx *ctx, struct lp_quic_server *srv,
                            const struct lp_quic_path *path, const ngtcp2_pkt_hd *hd, uint64_t now,
                            struct lp_quic_conn **out) LP_WUR;
void lp_quic_conn_free(struct lp_quic_conn *c);
/* Closes with a transport error (server refusing a connection). */
void lp_quic_conn_close_transport(struct lp_quic_conn *c, uint64_t error_code);

/* server.c, for conn.c's callbacks. */
int lp_quic_server_cid_add(struct lp_quic_server *s, struct lp_quic_conn *c, const uint8_t *cid,
                           size_t len) LP_WUR;
void lp_quic_server_cid_remove(struct lp_quic_server *s, const uint8_t *cid, size_t len);
/* Something changed on c: mark it pending and refresh its expiry. */
void lp_quic_server_touch(struct lp_quic_server *s, struct lp_quic_conn *c);
/* c wrote packets: refresh its expiry only. */
void lp_quic_server_reschedule(struct lp_quic_server *s, struct lp_quic_conn *c);

#endif /* LP_QUIC_INTERNAL_H */
