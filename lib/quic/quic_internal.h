/*
 * quic_internal.h - what the parts of lib/quic share (not installed).
 *
 * Who calls whom (never back): server.c -> conn.c -> conn_send.c ->
 * conn_close.c, and conn.c -> conn_budget.c; ctx.c and the TLS and UDP
 * backends are leaves. A server
 * connection reaches the server only through struct lp_quic_conn_hooks.
 */
#ifndef LP_QUIC_INTERNAL_H
#define LP_QUIC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include "dgq.h"
#include "lp_quic.h"
#include "tls.h"

/* Length of the connection IDs we issue (both sides). Short: every byte
 * of it is taken from each packet's datagram budget. 8 random bytes are
 * plenty to route a relay's connections. */
#define LP_QUIC_CID_LEN 8
#define LP_QUIC_RESET_SECRET_LEN 32
/* max_datagram_frame_size we announce. */
#define LP_QUIC_DGRAM_FRAME_MAX 65535

struct lp_quic_ctx {
	bool server;
	const struct lp_logger *log;
	struct lp_tls_creds *creds;
	uint64_t idle_timeout_ns;
	uint64_t keepalive_ns; /* 0: none (server) */
	uint64_t handshake_timeout_ns;
	size_t datagram_queue;
	uint64_t dg_k0, dg_k1; /* the datagram queues' flow hash key */
	size_t max_connections;
	size_t retry_pending; /* 0: never Retry */
	size_t pending_per_source;
	size_t conns_per_source;
	uint8_t reset_secret[LP_QUIC_RESET_SECRET_LEN];
	uint8_t retry_secret[LP_QUIC_RESET_SECRET_LEN];
};

/* One block of control-stream bytes: stays allocated until acknowledged
 * (ngtcp2 keeps pointers into it for retransmission). */
struct stream_chunk {
	struct stream_chunk *next;
	size_t len;
	uint8_t data[];
};

/*
 * How a connection reaches its owner (ngtcp2 reaches its application the
 * same way): the server hands each of its connections these hooks and an
 * opaque owner pointer; a client connection has none. conn*.c never see
 * the owner's bookkeeping (expiry heap, pending list, CID map).
 */
struct lp_quic_conn_hooks {
	/* Route a connection ID to c. 0, LP_ERR_STATE (already routed: ngtcp2
	 * asks for another), LP_ERR_NOMEM, LP_ERR_INVAL. */
	int (*cid_add)(void *owner, const uint8_t *cid, size_t len);
	/* Stop routing a connection ID to c. */
	void (*cid_remove)(void *owner, const uint8_t *cid, size_t len);
	/* c may have something to write, and its expiry may have moved. */
	void (*touch)(void *owner);
	/* c wrote: only its expiry moved. */
	void (*reschedule)(void *owner);
};

/*
 * Closing (conn_close.c). The connection state says where a close is:
 *  - CLOSING with `wanted`: our CONNECTION_CLOSE is still to be written; an
 *    application close (`app`) first waits until the control stream is
 *    acknowledged or `flush_deadline`, and the connection keeps working
 *    meanwhile (lp_quic_conn_gone() is false);
 *  - CLOSING without `wanted`: the packet went out (a copy in `pkt`, sent
 *    again when the peer keeps talking), waiting for `deadline`;
 *  - DRAINING: the peer closed; waiting for `deadline`, silent;
 *  - CLOSED: done; the closed callback ran exactly once (`cb_done`),
 *    maybe from the next handle_expiry (`cb_deferred`) when the failure
 *    happened inside a write.
 */
struct lp_quic_close {
	bool wanted;
	bool app;
	bool resend;
	bool cb_done;
	bool cb_deferred;
	int err; /* what the closed callback reports */
	uint64_t code;
	char reason[128];
	ngtcp2_connection_close_error ccerr;
	uint64_t flush_deadline; /* application close: 0 until the first write */
	uint64_t deadline;       /* end of the closing / draining period */
	uint8_t *pkt;
	size_t pkt_len;
};

struct lp_quic_conn {
	struct lp_quic_ctx *ctx;
	ngtcp2_conn *q;
	struct lp_tls_session *tls;
	const struct lp_quic_conn_cbs *cbs;
	void *user;
	const struct lp_quic_conn_hooks *hooks; /* NULL: a client connection */
	void *owner;
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
	struct lp_dgq dgq; /* queued DATAGRAMs (flow-queued, CoDel; dgq.h) */
	uint64_t dg_id;
	uint64_t dg_lost;

	/* A packet written but not returned by the last write (different
	 * path or size than its GSO batch): sent first next time. */
	uint8_t *carry; /* NULL while nothing is carried */
	size_t carry_len;
	ngtcp2_path_storage carry_ps;

	bool hs_done;
	bool tls_shed; /* tls dropped after the handshake (lp_quic_conn_shed_tls) */
	uint8_t admission[LP_QUIC_EXPORTER_LEN]; /* its exporter, once tls_shed */
	int fail_err;                            /* set by a callback: LP_ERR_ALPN, ... */
	struct lp_quic_close cl;

	/* PMTUD heuristic (see conn.c). */
	uint64_t hs_done_ts;
	bool pmtud_done;

	ngtcp2_crypto_conn_ref ref;
};

static inline void lp_quic_conn_touch(struct lp_quic_conn *c)
{
	if (c->hooks != NULL)
		c->hooks->touch(c->owner);
}

static inline void lp_quic_conn_reschedule(struct lp_quic_conn *c)
{
	if (c->hooks != NULL)
		c->hooks->reschedule(c->owner);
}

/* ---- paths: struct lp_quic_path <-> ngtcp2_path ------------------------------ */

static inline socklen_t lp_quic_sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? (socklen_t)sizeof(struct sockaddr_in6)
	                                 : (socklen_t)sizeof(struct sockaddr_in);
}

static inline void lp_quic_path_to_ngtcp2(ngtcp2_path_storage *ps, const struct lp_quic_path *p)
{
	ngtcp2_path_storage_init(ps, (const ngtcp2_sockaddr *)&p->local, lp_quic_sa_len(&p->local),
	                         (const ngtcp2_sockaddr *)&p->remote, lp_quic_sa_len(&p->remote),
	                         NULL);
}

static inline void lp_quic_path_from_ngtcp2(struct lp_quic_path *out, const ngtcp2_path *p)
{
	memset(out, 0, sizeof(*out));
	/* ngtcp2_socklen is int on Windows: compare as size_t. */
	if ((size_t)p->local.addrlen <= sizeof(out->local))
		memcpy(&out->local, p->local.addr, (size_t)p->local.addrlen);
	if ((size_t)p->remote.addrlen <= sizeof(out->remote))
		memcpy(&out->remote, p->remote.addr, (size_t)p->remote.addrlen);
}

/* ---- conn.c, for server.c ---------------------------------------------------- */

/* A server-side connection for a client Initial; it reaches its owner
 * through hooks (routing the first two CIDs before it returns). */
/* odcid: the original destination CID from a valid Retry token (the
 * client's Initial then carries our Retry's source CID as its DCID); NULL
 * without Retry. */
int lp_quic_conn_new_server(struct lp_quic_ctx *ctx, const struct lp_quic_conn_hooks *hooks,
                            void *owner, const struct lp_quic_path *path, const ngtcp2_pkt_hd *hd,
                            const ngtcp2_cid *odcid, uint64_t now,
                            struct lp_quic_conn **out) LP_WUR;
void lp_quic_conn_free(struct lp_quic_conn *c);

/* ---- conn_budget.c, for conn.c ------------------------------------------------ */

/* The DATAGRAM payload c can send on its current path (0: none). */
size_t lp_quic_budget(const struct lp_quic_conn *c);
/* After the handshake: marks PMTUD settled once the path reached the top
 * probe size or the give-up time passed. */
void lp_quic_pmtud_update(struct lp_quic_conn *c, uint64_t now);
/* When PMTUD is given up at the latest; UINT64_MAX once settled or before
 * the handshake. */
uint64_t lp_quic_pmtud_deadline(const struct lp_quic_conn *c);

/* ---- conn_close.c, for conn.c, conn_send.c and server.c ---------------------- */

/*
 * The one exit test: true once the application must treat c as closed
 * (lp_quic_conn_read / _handle_expiry then return LP_ERR_CLOSED). An
 * application close still flushing its control stream is not gone yet.
 */
bool lp_quic_conn_gone(const struct lp_quic_conn *c);
/* Maps a fatal ngtcp2 error of read / expiry / write and starts the close;
 * defer_cb: run the closed callback from the next handle_expiry. Returns
 * LP_ERR_CLOSED. */
int lp_quic_close_fatal(struct lp_quic_conn *c, int rv, uint64_t now, bool defer_cb);
/* Closes with a transport error (server refusing a connection); the
 * closed callback is not run (the application never saw it). */
void lp_quic_conn_close_transport(struct lp_quic_conn *c, uint64_t error_code);
/* A packet arrived for a closing connection. True: take it (an application
 * close still flushing); false: drop it (LP_ERR_CLOSED), maybe answering
 * with our close again. */
bool lp_quic_close_on_read(struct lp_quic_conn *c);
/* handle_expiry of a closing / draining connection: ends the period and
 * reports. True: also run ngtcp2's timers (still flushing). */
bool lp_quic_close_on_expiry(struct lp_quic_conn *c, uint64_t now);
/* The close's share of lp_quic_conn_expiry, in *e (UINT64_MAX: none).
 * True when it alone decides (the closing or draining period, a close
 * packet or callback due now); false when ngtcp2's timers count too. */
bool lp_quic_close_expiry(const struct lp_quic_conn *c, uint64_t *e);
/* Writes the close packet when one is due. Returns true when the write is
 * handled here (*ret: bytes or 0), false when ordinary packets go out. */
bool lp_quic_close_write(struct lp_quic_conn *c, uint8_t *buf, size_t *gso_size,
                         struct lp_quic_path *path_out, uint64_t now, ssize_t *ret);
/* Writes CONNECTION_CLOSE after a fatal write error. Bytes or 0. */
ssize_t lp_quic_close_write_now(struct lp_quic_conn *c, uint8_t *buf, struct lp_quic_path *path_out,
                                uint64_t now);
/* Forgets the queued datagrams (closing connections send none). */
void lp_quic_conn_drop_datagrams(struct lp_quic_conn *c);

#endif /* LP_QUIC_INTERNAL_H */
