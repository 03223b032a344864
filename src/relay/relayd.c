/*
 * relayd.c - wires QUIC connections to the room engine.
 *
 * Per connection the relay keeps a control-stream decoder and, once the
 * hello is admitted, the engine's peer. The loop drains the UDP socket in
 * batches, hands every packet to the QUIC server (whose callbacks feed the
 * engine, which queues datagrams on the target connections), then writes
 * every connection that has something to send with GSO, and re-arms one
 * timer at the server's earliest deadline.
 */
#include "relayd.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit.h"
#include "lp_ctrl.h"
#include "lp_room.h"
#include "lp_obs.h"
#include "metrics.h"
#include "pcap.h"
#include "peer_stats.h"
#include "ratelimit.h"
#include "source.h"
#include "status_http.h"
#include "tamper.h"

#define RX_BATCH 32
#define RX_BUF_LEN 65536 /* one GRO super-datagram */
#define RX_ROUNDS 8      /* batches per wakeup before writing: fairness */
#define HOUSEKEEPING_NS (100 * LP_NS_PER_MS)
#define EXPIRE_EVERY_NS (10 * LP_NS_PER_SEC)
#define SHUTDOWN_GRACE_NS (300 * LP_NS_PER_MS)
/* A connection past its handshake has this long to send its hello. */
#define HELLO_DEADLINE_NS (3 * LP_NS_PER_SEC)
/* Control bytes queued towards a peer and not acknowledged: a peer that
 * does not read its control stream is closed above this (lifecycle
 * messages are ~150 bytes: a room's worth of churn fits many times). */
#define CTRL_OUT_MAX (32u * 1024)
/* After this many connections have gone since the last time, the heap's
 * free memory is handed back to the system (an attack's aftermath). */
#define TRIM_AFTER_CLOSED 256
/* Handshakes in progress above which Initials must answer a Retry first;
 * per source address (/32, /64): handshakes in progress and connections
 * (a LAN party behind one NAT address is at most a room or two). */
#define RETRY_PENDING 16
#define PENDING_PER_SOURCE 8
#define CONNS_PER_SOURCE 64
/* Rooms one source address (/32, /64) may have opened and still be in,
 * unless the configuration says otherwise. */
#define ROOMS_PER_SOURCE 16

struct rconn {
	struct relayd *d;
	struct lp_quic_conn *qc;
	struct lp_relay_peer *peer;
	struct lp_ctrl_decoder *dec; /* while a control message is partly read */
	struct lp_relay_ctrl_limit ctrl_limit;
	uint64_t established;       /* first seen established by hello_deadlines, 0 before */
	struct lp_ctrl_hello hello; /* waiting for our PMTUD while on d->hellos */
	uint64_t hello_deadline;
	bool closing;
	bool evict;       /* leaves its room at the next housekeeping, then closes */
	bool opened_room; /* counted in d->src.rooms[src] */
	size_t src;
	size_t budget_seen;
	struct lp_list_node hello_node; /* on d->hellos */
	struct lp_list_node all_node;   /* on d->all */
};

struct relayd {
	struct relayd_cfg cfg;
	struct lp_loop *loop;
	const struct lp_logger *log;
	struct lp_quic_ctx *ctx;
	struct lp_quic_server *server;
	struct lp_relay *engine;
	struct lp_udp *udp;
	struct status_http *http;
	struct relay_pcap *pcap; /* NULL without --pcap */
	struct lp_loop_timer quic_timer;
	struct lp_loop_timer house_timer;
	struct lp_loop_timer stop_timer;
	struct lp_list hellos; /* connections whose hello waits for our PMTUD */
	struct lp_list all;    /* every connection: freed at exit */
	uint64_t next_expire;
	uint64_t next_status;
	uint64_t next_peer_stats;
	bool shutting_down;
	size_t closed_since_trim;
	struct relay_src src; /* rooms opened per source address */
	struct lp_log_ratelimit proto_rl;
	uint8_t *rx_mem;
	struct lp_udp_rx rx[RX_BATCH];
	uint8_t tx[LP_QUIC_WRITE_BUF_MIN];
	struct relay_tamper tamper; /* --test-tamper */
	struct lp_ctrl_msg ps_msg;  /* peer_stats scratch: one encoding per room */
	uint8_t ps_buf[LP_CTRL_PREFIX_LEN + LP_CTRL_FRAME_MAX];
};

static void rearm(struct relayd *d);
static void protocol_error(struct relayd *d, struct rconn *rc, const char *what, int err);

/* ---- engine callbacks --------------------------------------------------- */

static int eng_send_datagram(void *user, void *conn, const uint8_t *data, size_t len)
{
	struct relayd *d = user;
	struct rconn *rc = conn;

	if (d->cfg.test_tamper != 0 && ++d->tamper.sent % d->cfg.test_tamper == 0)
		return relay_tamper_send(&d->tamper, rc->qc, data, len, d->cfg.test_tamper, d->log);
	return lp_quic_conn_datagram_send(rc->qc, data, len);
}

static void eng_send_ctrl(void *user, void *conn, const struct lp_ctrl_msg *m)
{
	struct relayd *d = user;
	struct rconn *rc = conn;
	uint8_t buf[LP_CTRL_PREFIX_LEN + LP_CTRL_FRAME_MAX];
	struct lp_quic_conn_info info;
	ssize_t n;
	int rv;

	n = lp_ctrl_encode(m, buf, sizeof(buf));
	if (n < 0) {
		lp_log(d->log, LP_LOG_ERROR, "cannot encode %s: %s", lp_ctrl_type_name(m->type),
		       lp_strerror((int)n));
		return;
	}
	lp_quic_conn_info(rc->qc, &info);
	if (info.stream_unacked + (size_t)n > CTRL_OUT_MAX) {
		/* The engine may be iterating its peers right now: the peer
		 * leaves its room from the housekeeping timer. */
		rc->evict = true;
		if (!rc->closing)
			protocol_error(d, rc, "peer does not read its control stream",
			               LP_ERR_AGAIN);
		return;
	}
	rv = lp_quic_conn_stream_send(rc->qc, buf, (size_t)n);
	if (rv != 0)
		lp_log(d->log, LP_LOG_DEBUG, "control message %s not sent: %s",
		       lp_ctrl_type_name(m->type), lp_strerror(rv));
}

static void eng_disconnect(void *user, void *conn, const char *reason)
{
	struct rconn *rc = conn;

	(void)user;
	rc->closing = true;
	lp_quic_conn_close(rc->qc, LP_QUIC_APP_MALFORMED, reason);
}

/* ---- peer_stats ------------------------------------------------------------ */

static void ps_link(void *user, void *conn, struct relay_peer_link *out)
{
	struct rconn *rc = conn;
	struct lp_quic_conn_info info;

	(void)user;
	lp_quic_conn_info(rc->qc, &info);
	out->smoothed_rtt_ns = info.smoothed_rtt_ns;
	out->min_rtt_ns = info.min_rtt_ns;
	out->datagrams_sent = info.datagrams_sent;
	out->datagrams_lost = info.datagrams_lost;
	out->stream_unacked = info.stream_unacked;
	out->closing = rc->closing;
}

static int ps_send(void *user, void *conn, const uint8_t *data, size_t len)
{
	(void)user;
	return lp_quic_conn_stream_send(((struct rconn *)conn)->qc, data, len);
}

static void peer_stats_room(struct relayd *d, const struct lp_relay_room *room)
{
	const struct relay_peer_stats_hooks h = { ps_link, ps_send, d };
	int rv = relay_peer_stats_send(room, &h, &d->ps_msg, d->ps_buf, sizeof(d->ps_buf));

	if (rv < 0)
		lp_log(d->log, LP_LOG_ERROR, "room %s: cannot encode peer_stats: %s",
		       lp_relay_room_name(room), lp_strerror(rv));
}

/* ---- pending hellos ------------------------------------------------------ */

static bool hello_waiting(const struct rconn *rc)
{
	return lp_list_linked(&rc->hello_node);
}

static void hello_unqueue(struct rconn *rc)
{
	if (hello_waiting(rc))
		lp_list_remove(&rc->hello_node);
}

/* The keyed bucket of the peer's source address: IPv4 /32, IPv6 /64. */
/* A hello that would open a room from a source already in
 * cfg.rooms_per_source rooms it opened: refused like a full relay, so one
 * address cannot take every room slot. */
static bool room_quota_refused(struct relayd *d, struct rconn *rc)
{
	struct lp_ctrl_msg rej = { .type = LP_CTRL_REJECT };

	/* Private rooms are opened with an invite's proof and limited by the
	 * engine's own admission rules. */
	if (rc->hello.private_room || lp_relay_room_find(d->engine, rc->hello.room) != NULL)
		return false;
	rc->src = relay_src_bucket(&d->src, rc->qc);
	if (d->src.rooms[rc->src] < d->cfg.rooms_per_source)
		return false;
	rej.u.reject.reason = LP_REJECT_TOO_MANY_ROOMS;
	snprintf(rej.u.reject.message, sizeof(rej.u.reject.message),
	         "too many rooms opened from your address (%u)", (unsigned)d->cfg.rooms_per_source);
	eng_send_ctrl(d, rc, &rej);
	lp_log(d->log, LP_LOG_INFO, "room %s: refused: %s", rc->hello.room, rej.u.reject.message);
	rc->closing = true;
	lp_quic_conn_close(rc->qc, LP_QUIC_APP_REJECTED, rej.u.reject.message);
	return true;
}

/* What a private hello is checked against: this connection's exporter
 * and its source address. */
struct conn_info {
	struct lp_relay_conn_info ci;
	uint8_t exporter[LP_QUIC_EXPORTER_LEN];
	uint8_t key[LP_RELAY_SRC_KEY_MAX];
};

static const struct lp_relay_conn_info *conn_info(struct rconn *rc, struct conn_info *out)
{
	struct sockaddr_storage ss;

	memset(out, 0, sizeof(*out));
	if (lp_quic_conn_exporter(rc->qc, LP_QUIC_EXPORTER_ADMISSION, out->exporter,
	                          sizeof(out->exporter)) == 0)
		out->ci.exporter = out->exporter;
	if (lp_quic_conn_remote(rc->qc, &ss) == 0) {
		out->ci.src_key = out->key;
		out->ci.src_key_len = lp_relay_src_key((const struct sockaddr *)&ss, out->key);
	}
	return &out->ci;
}

static void admit(struct relayd *d, struct rconn *rc, uint64_t now)
{
	struct conn_info ci;
	struct lp_ctrl_msg reply;
	char mac[LP_MAC_STR_LEN], room[LP_CTRL_ROOM_MAX + 1];
	size_t budget = lp_quic_conn_datagram_budget(rc->qc);
	bool new_room;
	int rv;

	hello_unqueue(rc);
	if (room_quota_refused(d, rc))
		return;
	new_room = !rc->hello.private_room && lp_relay_room_find(d->engine, rc->hello.room) == NULL;
	lp_proto_mac_format(&rc->hello.mac, mac);
	/* A private room is logged by a short name, never by its id. */
	if (rc->hello.private_room)
		lp_relay_private_name(rc->hello.priv.room_id, room);
	else
		snprintf(room, sizeof(room), "%s", rc->hello.room);
	rv = lp_relay_admit_conn(d->engine, &rc->hello, conn_info(rc, &ci), rc, budget, now, &reply,
	                         &rc->peer);
	if (rv == 0) {
		if (new_room) {
			rc->opened_room = true;
			d->src.rooms[rc->src]++;
		}
		rc->budget_seen = budget;
		/* The exporter was the last use of TLS: drop ~10 KiB per peer. */
		if (lp_quic_conn_shed_tls(rc->qc) != 0)
			lp_log(d->log, LP_LOG_DEBUG, "TLS session kept");
		lp_log(d->log, LP_LOG_INFO,
		       "room %s: admitted %s %s as peer %u (budget %zu, MTU %u%s)", room,
		       lp_ctrl_role_name(rc->hello.role), mac, reply.u.welcome.peer_id,
		       lp_relay_peer_budget(rc->peer), reply.u.welcome.mtu,
		       reply.u.welcome.gateway_present ? ", gateway present" : "");
		peer_stats_room(d, lp_relay_peer_room(rc->peer)); /* everyone sees the newcomer */
		return;
	}
	rc->peer = NULL;
	if (rv == LP_ERR_REJECTED) {
		lp_log(d->log, LP_LOG_INFO, "room %s: rejected %s %s: %s (%s)", room,
		       lp_ctrl_role_name(rc->hello.role), mac,
		       lp_ctrl_reject_name(reply.u.reject.reason), reply.u.reject.message);
		rc->closing = true;
		lp_quic_conn_close(rc->qc, LP_QUIC_APP_REJECTED, reply.u.reject.message);
		return;
	}
	lp_log(d->log, LP_LOG_ERROR, "admission failed: %s", lp_strerror(rv));
	rc->closing = true;
	lp_quic_conn_close(rc->qc, LP_QUIC_APP_SHUTDOWN, "relay out of resources");
}

/* A hello waits until our own PMTUD towards the peer has settled, so the
 * budget the engine sees (the smaller of both directions) is the path's
 * real one and not the 1200-byte starting size. */
static void on_hello(struct relayd *d, struct rconn *rc, const struct lp_ctrl_hello *h,
                     uint64_t now)
{
	struct lp_quic_conn_info info;

	rc->hello = *h;
	lp_quic_conn_info(rc->qc, &info);
	if (info.pmtud_done || d->cfg.pmtud_wait_ns == 0) {
		admit(d, rc, now);
		return;
	}
	rc->hello_deadline = now + d->cfg.pmtud_wait_ns;
	lp_list_insert_head(&d->hellos, &rc->hello_node);
}

static void hellos_poll(struct relayd *d, uint64_t now)
{
	struct lp_list_node *n, *next;
	struct lp_quic_conn_info info;

	/* admit() unqueues the connection it admits, and only that one. */
	LP_LIST_FOREACH_SAFE(n, next, &d->hellos)
	{
		struct rconn *rc = LP_CONTAINER_OF(n, struct rconn, hello_node);

		lp_quic_conn_info(rc->qc, &info);
		if (info.pmtud_done || now >= rc->hello_deadline)
			admit(d, rc, now);
	}
}

/* ---- connection callbacks -------------------------------------------------- */

static void protocol_error(struct relayd *d, struct rconn *rc, const char *what, int err)
{
	uint64_t skipped = 0;

	if (lp_log_ratelimit_ok(&d->proto_rl, lp_loop_now(d->loop), &skipped))
		lp_log(d->log, LP_LOG_WARN, "closing a connection: %s: %s (%llu similar skipped)",
		       what, lp_strerror(err), (unsigned long long)skipped);
	rc->closing = true;
	lp_quic_conn_close(rc->qc, LP_QUIC_APP_PROTOCOL, what);
}

static void on_ctrl(struct relayd *d, struct rconn *rc, const struct lp_ctrl_msg *m, uint64_t now)
{
	int rv;

	if (rc->peer != NULL) {
		rv = lp_relay_peer_ctrl(d->engine, rc->peer, m, now);
		if (rv != 0)
			protocol_error(d, rc, "unexpected control message", rv);
		return;
	}
	if (hello_waiting(rc)) /* nothing but the hello is expected before the welcome */
		return;
	if (m->type != LP_CTRL_HELLO) {
		protocol_error(d, rc, "first control message is not a hello", LP_ERR_TYPE);
		return;
	}
	on_hello(d, rc, &m->u.hello, now);
}

/* A first message that fails validation is answered with a reject naming
 * the reason, like any other refused hello. */
static void reject_bad_hello(struct relayd *d, struct rconn *rc, int err)
{
	struct lp_ctrl_msg rej = { .type = LP_CTRL_REJECT };

	switch (err) {
	case LP_ERR_VERSION:
		rej.u.reject.reason = LP_REJECT_VERSION;
		break;
	case LP_ERR_ROOM_EMPTY:
	case LP_ERR_ROOM_LONG:
	case LP_ERR_ROOM_CHARS:
		rej.u.reject.reason = LP_REJECT_BAD_ROOM;
		break;
	default:
		rej.u.reject.reason = LP_REJECT_BAD_HELLO;
		break;
	}
	snprintf(rej.u.reject.message, sizeof(rej.u.reject.message), "invalid hello: %s",
	         lp_strerror(err));
	eng_send_ctrl(d, rc, &rej);
	lp_log(d->log, LP_LOG_INFO, "rejected a hello: %s (%s)",
	       lp_ctrl_reject_name(rej.u.reject.reason), lp_strerror(err));
	rc->closing = true;
	lp_quic_conn_close(rc->qc, LP_QUIC_APP_REJECTED, rej.u.reject.message);
}

static void cb_stream(struct lp_quic_conn *c, const uint8_t *data, size_t len, bool fin, void *user)
{
	struct rconn *rc = user;
	struct relayd *d = rc->d;
	uint64_t now = lp_loop_now(d->loop);
	struct lp_ctrl_msg m;
	ssize_t n;

	(void)c;
	(void)fin;
	if (rc->closing)
		return;
	/* Every byte is counted before it is parsed; a peer past its budget
	 * is closed, so a flood of control messages costs one refusal. */
	if (!lp_relay_ctrl_limit_take(&rc->ctrl_limit, now, len)) {
		protocol_error(d, rc, "control messages too fast", LP_ERR_AGAIN);
		return;
	}
	if (rc->dec == NULL && (rc->dec = lp_ctrl_decoder_new()) == NULL) {
		protocol_error(d, rc, "out of memory", LP_ERR_NOMEM);
		return;
	}
	while (len > 0 && !rc->closing) {
		n = lp_ctrl_decoder_feed(rc->dec, data, len, &m);
		if (n < 0) {
			if (rc->peer == NULL && !hello_waiting(rc)) {
				reject_bad_hello(d, rc, (int)n);
				return;
			}
			protocol_error(d, rc, "invalid control message", (int)n);
			return;
		}
		data += n;
		len -= (size_t)n;
		if (m.type == LP_CTRL_NONE)
			continue;
		/* Bytes were taken above; each message also takes a token. */
		if (!lp_relay_ctrl_limit_take(&rc->ctrl_limit, now, 0)) {
			protocol_error(d, rc, "control messages too fast", LP_ERR_AGAIN);
			return;
		}
		on_ctrl(d, rc, &m, now);
	}
	/* Between messages the decoder holds nothing: an idle peer keeps no
	 * 16 KiB frame buffer (control messages are rare after the hello). */
	if (!rc->closing && rc->dec != NULL && lp_ctrl_decoder_idle(rc->dec)) {
		free(rc->dec);
		rc->dec = NULL;
	}
}

static void cb_datagram(struct lp_quic_conn *c, const uint8_t *data, size_t len, void *user)
{
	struct rconn *rc = user;
	struct lp_relay_verdict v;

	(void)c;
	if (rc->peer == NULL)
		return;
	lp_relay_datagram(rc->d->engine, rc->peer, data, len, lp_loop_now(rc->d->loop), &v);
	if (v.targets > 0)
		relay_pcap_datagram(rc->d->pcap, data, len);
}

static const char *close_text(int err, const char *reason)
{
	switch (err) {
	case LP_OK:
		return reason != NULL && reason[0] != '\0' ? reason : "connection closed";
	case LP_ERR_TIMEOUT:
		return "idle timeout";
	default:
		return lp_strerror(err);
	}
}

static void rconn_free(struct rconn *rc)
{
	hello_unqueue(rc);
	lp_list_remove(&rc->all_node);
	free(rc->dec);
	free(rc);
}

static void cb_closed(struct lp_quic_conn *c, int err, uint64_t app_code, const char *reason,
                      void *user)
{
	struct rconn *rc = user;
	struct relayd *d = rc->d;

	(void)app_code;
	hello_unqueue(rc);
	if (rc->peer != NULL) {
		lp_relay_peer_leave(d->engine, rc->peer, close_text(err, reason));
		rc->peer = NULL;
	}
	if (rc->opened_room)
		d->src.rooms[rc->src]--;
	lp_quic_conn_set_user(c, NULL, NULL);
	rconn_free(rc);
	d->closed_since_trim++;
}

static const struct lp_quic_conn_cbs conn_cbs = {
	.stream_data = cb_stream,
	.datagram = cb_datagram,
	.closed = cb_closed,
};

static int cb_accept(struct lp_quic_server *s, struct lp_quic_conn *c, void *user)
{
	struct relayd *d = user;
	struct rconn *rc;

	(void)s;
	if (d->shutting_down)
		return -1;
	rc = calloc(1, sizeof(*rc));
	if (rc == NULL)
		return -1;
	lp_relay_ctrl_limit_init(&rc->ctrl_limit, LP_RELAY_CTRL_MSGS_PER_SEC,
	                         LP_RELAY_CTRL_MSGS_BURST, LP_RELAY_CTRL_BYTES_PER_SEC,
	                         LP_RELAY_CTRL_BYTES_BURST, lp_loop_now(d->loop));
	rc->d = d;
	rc->qc = c;
	lp_list_insert_head(&d->all, &rc->all_node);
	lp_quic_conn_set_user(c, &conn_cbs, rc);
	return 0;
}

/* ---- I/O ----------------------------------------------------------------- */

static void write_conn(struct lp_quic_conn *c, void *arg)
{
	struct relayd *d = arg;
	struct rconn *rc = lp_quic_conn_user(c);
	uint64_t now = lp_loop_now(d->loop);
	struct lp_quic_path path;
	size_t gso = 0;
	ssize_t n;
	int rv;

	for (;;) {
		n = lp_quic_conn_write(c, d->tx, sizeof(d->tx), &gso, &path, now);
		if (n <= 0)
			break;
		rv = lp_udp_send(d->udp, &path, d->tx, (size_t)n, gso);
		if (rv != 0 && rv != LP_ERR_AGAIN)
			lp_log(d->log, LP_LOG_DEBUG, "udp send: %s", lp_strerror(rv));
	}
	/* PMTUD may raise (or a path change lower) the budget towards a peer. */
	if (rc != NULL && rc->peer != NULL) {
		size_t budget = lp_quic_conn_datagram_budget(c);

		if (budget != rc->budget_seen) {
			rc->budget_seen = budget;
			lp_relay_peer_set_budget(rc->peer, budget);
		}
	}
}

static void flush(struct relayd *d)
{
	struct lp_quic_path path;
	ssize_t n;

	/* Retries first: they answer the packets just read. */
	while ((n = lp_quic_server_stateless_pop(d->server, d->tx, sizeof(d->tx), &path)) > 0)
		(void)!lp_udp_send(d->udp, &path, d->tx, (size_t)n, 0);
	lp_quic_server_foreach_pending(d->server, write_conn, d);
	rearm(d);
}

static void on_udp(struct lp_loop *l, intptr_t fd, unsigned events, void *arg)
{
	struct relayd *d = arg;
	uint64_t now = lp_loop_now(l);

	(void)fd;
	(void)events;
	for (int round = 0; round < RX_ROUNDS; round++) {
		int n = lp_udp_recv(d->udp, d->rx, RX_BATCH);

		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			struct lp_udp_rx *rx = &d->rx[i];
			size_t seg = rx->segment_size ? rx->segment_size : rx->len;

			for (size_t off = 0; off < rx->len; off += seg) {
				size_t len = rx->len - off < seg ? rx->len - off : seg;

				if (lp_quic_server_read(d->server, &rx->path, rx->data + off, len,
				                        now, NULL) != 0)
					lp_log(d->log, LP_LOG_WARN,
					       "out of memory reading a packet");
			}
		}
		if (n < RX_BATCH)
			break;
	}
	flush(d);
}

static void on_quic_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct relayd *d = arg;

	(void)t;
	lp_quic_server_handle_expiry(d->server, lp_loop_now(l));
	flush(d);
}

static void rearm(struct relayd *d)
{
	uint64_t when = lp_quic_server_expiry(d->server);

	if (when == UINT64_MAX) {
		lp_loop_timer_cancel(d->loop, &d->quic_timer);
		return;
	}
	if (lp_loop_timer_arm(d->loop, &d->quic_timer, when) != 0)
		lp_log(d->log, LP_LOG_ERROR, "cannot arm the QUIC timer");
}

static void status_line(void *user, const char *line)
{
	struct relayd *d = user;

	lp_log(d->log, LP_LOG_INFO, "%s", line);
}

/* Connections that completed the handshake but sent no hello within
 * HELLO_DEADLINE_NS of it (seen at housekeeping resolution) are closed:
 * keep-alives alone do not buy a slot. Peers found not reading their
 * control stream leave their room here. */
static void hello_deadlines(struct relayd *d, uint64_t now)
{
	struct lp_list_node *n, *next;

	LP_LIST_FOREACH_SAFE(n, next, &d->all)
	{
		struct rconn *rc = LP_CONTAINER_OF(n, struct rconn, all_node);

		if (rc->evict && rc->peer != NULL) {
			lp_relay_peer_leave(d->engine, rc->peer,
			                    "does not read its control stream");
			rc->peer = NULL;
		}
		if (rc->peer != NULL || rc->closing || hello_waiting(rc) ||
		    lp_quic_conn_state(rc->qc) != LP_QUIC_ESTABLISHED)
			continue;
		if (rc->established == 0)
			rc->established = now;
		if (now - rc->established < d->cfg.hello_timeout_ns)
			continue;
		protocol_error(d, rc, "no hello in time after the handshake", LP_ERR_TIMEOUT);
	}
}

static void on_house_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct relayd *d = arg;
	uint64_t now = lp_loop_now(l);

	hellos_poll(d, now);
	hello_deadlines(d, now);
	if (d->closed_since_trim >= TRIM_AFTER_CLOSED) {
		/* An attack's connections are gone: give their memory back. */
		d->closed_since_trim = 0;
		(void)malloc_trim(0);
	}
	relay_pcap_flush(d->pcap);
	if (now >= d->next_expire) {
		lp_relay_expire(d->engine, now);
		d->next_expire = now + EXPIRE_EVERY_NS;
	}
	if (now >= d->next_peer_stats) {
		for (size_t i = 0; i < lp_relay_room_count(d->engine); i++)
			peer_stats_room(d, lp_relay_room_at(d->engine, i));
		d->next_peer_stats = now + RELAY_PEER_STATS_INTERVAL_NS;
	}
	if (d->cfg.status_interval_ns != 0 && now >= d->next_status) {
		const struct lp_counters *c = lp_relay_counters(d->engine);

		lp_log(d->log, LP_LOG_INFO,
		       "status: %zu rooms, %zu peers, %zu connections, %llu datagrams in, %llu "
		       "out, %llu dropped, %llu garbage packets",
		       lp_relay_room_count(d->engine), lp_relay_peer_total(d->engine),
		       lp_quic_server_conn_count(d->server), (unsigned long long)c->datagrams_rx,
		       (unsigned long long)c->datagrams_tx,
		       (unsigned long long)lp_obs_drops_total(c),
		       (unsigned long long)lp_quic_server_dropped(d->server));
		d->next_status = now + d->cfg.status_interval_ns;
	}
	flush(d);
	if (lp_loop_timer_arm(l, t, now + HOUSEKEEPING_NS) != 0)
		lp_log(d->log, LP_LOG_ERROR, "cannot arm the housekeeping timer");
}

static ssize_t render_metrics(void *user, char *buf, size_t cap)
{
	struct relayd *d = user;
	uint64_t now = lp_loop_now(d->loop);
	ssize_t n = lp_relay_metrics_write(d->engine, now, buf, cap);
	ssize_t m;

	if (n < 0)
		return n;
	m = lp_quic_server_metrics_write(d->server, buf + n, cap - (size_t)n);
	if (m < 0)
		return m;
	return n + m;
}

/* ---- lifetime --------------------------------------------------------------- */

int relayd_new(const struct relayd_cfg *cfg, struct lp_loop *loop, const struct lp_logger *log,
               struct relayd **out)
{
	static const struct lp_quic_server_cbs srv_cbs = { .accept = cb_accept };
	struct lp_relay_callbacks ecb = {
		.send_datagram = eng_send_datagram,
		.send_ctrl = eng_send_ctrl,
		.disconnect = eng_disconnect,
	};
	struct relayd *d;
	char addr[80];
	int rv;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return LP_ERR_NOMEM;
	d->cfg = *cfg;
	d->loop = loop;
	d->log = log;
	lp_list_init(&d->hellos);
	lp_list_init(&d->all);
	ecb.user = d;
	lp_log_ratelimit_init(&d->proto_rl, 10, 10 * LP_NS_PER_SEC);
	lp_loop_timer_init(&d->quic_timer, on_quic_timer, d);
	lp_loop_timer_init(&d->house_timer, on_house_timer, d);
	rv = relay_src_init(&d->src);
	if (rv != 0)
		goto fail;

	d->rx_mem = malloc((size_t)RX_BATCH * RX_BUF_LEN);
	if (d->rx_mem == NULL) {
		rv = LP_ERR_NOMEM;
		goto fail;
	}
	for (size_t i = 0; i < RX_BATCH; i++) {
		d->rx[i].data = d->rx_mem + i * RX_BUF_LEN;
		d->rx[i].cap = RX_BUF_LEN;
	}
	if (d->cfg.rooms_per_source == 0)
		d->cfg.rooms_per_source = ROOMS_PER_SOURCE;
	if (d->cfg.hello_timeout_ns == 0)
		d->cfg.hello_timeout_ns = HELLO_DEADLINE_NS;
	if (d->cfg.quic.retry_pending == 0)
		d->cfg.quic.retry_pending = RETRY_PENDING;
	if (d->cfg.quic.pending_per_source == 0)
		d->cfg.quic.pending_per_source = PENDING_PER_SOURCE;
	if (d->cfg.quic.conns_per_source == 0)
		d->cfg.quic.conns_per_source = CONNS_PER_SOURCE;
	rv = lp_quic_ctx_new_server(&d->cfg.quic, log, &d->ctx);
	if (rv != 0)
		goto fail;
	rv = lp_quic_server_new(d->ctx, &srv_cbs, d, &d->server);
	if (rv != 0)
		goto fail;
	rv = lp_relay_new(&d->engine, &cfg->engine, &ecb, log);
	if (rv != 0) {
		lp_log(log, LP_LOG_ERROR, "invalid relay settings: %s", lp_strerror(rv));
		goto fail;
	}
	rv = lp_udp_open((const struct sockaddr *)&cfg->listen, &d->udp);
	if (rv != 0) {
		if (lp_net_addr_format((const struct sockaddr *)&cfg->listen, addr, sizeof(addr)) !=
		    0)
			snprintf(addr, sizeof(addr), "?");
		lp_log(log, LP_LOG_ERROR, "cannot listen on %s/udp: %s", addr, strerror(errno));
		goto fail;
	}
	rv = lp_loop_watch(loop, (int)lp_udp_fd(d->udp), LP_LOOP_READ, on_udp, d);
	if (rv != 0)
		goto fail;
	if (cfg->metrics_enabled) {
		rv = status_http_new(loop, (const struct sockaddr *)&cfg->metrics_listen,
		                     render_metrics, d, log, &d->http);
		if (rv != 0)
			goto fail;
	}
	if (cfg->pcap_path != NULL) {
		rv = relay_pcap_open(cfg->pcap_path, cfg->pcap_max_bytes, log, &d->pcap);
		if (rv != 0)
			goto fail;
	}
	d->next_expire = lp_loop_now(loop) + EXPIRE_EVERY_NS;
	d->next_status = lp_loop_now(loop) + cfg->status_interval_ns;
	rv = lp_loop_timer_arm(loop, &d->house_timer, lp_loop_now(loop) + HOUSEKEEPING_NS);
	if (rv != 0)
		goto fail;
	*out = d;
	return 0;
fail:
	relayd_del(d);
	return rv;
}

void relayd_reload(struct relayd *d)
{
	uint8_t before[LP_QUIC_PIN_LEN], after[LP_QUIC_PIN_LEN];
	char text[LP_ROOM_PIN_STR_SIZE];
	bool had = false;
	int rv;

	if (d->cfg.quic.cert_file == NULL) {
		lp_log(d->log, LP_LOG_INFO,
		       "SIGHUP: development certificate in use, nothing to reload");
		return;
	}
	had = lp_quic_ctx_cert_pin(d->ctx, before) == 0;
	rv = lp_quic_ctx_reload_cert(d->ctx, d->cfg.quic.cert_file, d->cfg.quic.key_file);
	if (rv != 0) {
		lp_log(d->log, LP_LOG_ERROR,
		       "SIGHUP: certificate not reloaded, keeping the old one: %s",
		       lp_strerror(rv));
		return;
	}
	lp_log(d->log, LP_LOG_INFO, "SIGHUP: certificate reloaded from %s; rooms kept",
	       d->cfg.quic.cert_file);
	/* Invites carry the key's pin: say whether they still hold. */
	if (lp_quic_ctx_cert_pin(d->ctx, after) == 0 && lp_room_pin_format(after, text) == 0)
		lp_log(d->log, had && lp_quic_pin_equal(before, after) ? LP_LOG_INFO : LP_LOG_WARN,
		       "relay pin: %s (%s)", text,
		       had && lp_quic_pin_equal(before, after)
		               ? "same key: invites stay valid"
		               : "a new key: peers pinning the old one must get a new invite");
}

int relayd_cert_pin(const struct relayd *d, uint8_t pin[LP_QUIC_PIN_LEN])
{
	return lp_quic_ctx_cert_pin(d->ctx, pin);
}

void relayd_log_snapshot(struct relayd *d)
{
	lp_relay_snapshot_lines(d->engine, lp_loop_now(d->loop), status_line, d);
}

static void on_stop_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	lp_loop_stop(l);
}

void relayd_shutdown(struct relayd *d)
{
	if (d->shutting_down) {
		lp_loop_stop(d->loop);
		return;
	}
	d->shutting_down = true;
	lp_log(d->log, LP_LOG_INFO, "shutting down: closing %zu connections",
	       lp_quic_server_conn_count(d->server));
	lp_quic_server_close_all(d->server, LP_QUIC_APP_SHUTDOWN, "relay shutting down");
	flush(d);
	lp_loop_timer_init(&d->stop_timer, on_stop_timer, d);
	if (lp_loop_timer_arm(d->loop, &d->stop_timer, lp_loop_now(d->loop) + SHUTDOWN_GRACE_NS) !=
	    0)
		lp_loop_stop(d->loop);
}

void relayd_del(struct relayd *d)
{
	if (d == NULL)
		return;
	lp_loop_timer_cancel(d->loop, &d->quic_timer);
	lp_loop_timer_cancel(d->loop, &d->house_timer);
	if (d->shutting_down)
		lp_loop_timer_cancel(d->loop, &d->stop_timer);
	status_http_del(d->http);
	relay_pcap_close(d->pcap);
	if (d->udp != NULL) {
		lp_loop_unwatch(d->loop, (int)lp_udp_fd(d->udp));
		lp_udp_close(d->udp);
	}
	/* The server frees its connections without callbacks; the state we
	 * hung on them goes with the engine, which frees its peers itself. */
	lp_quic_server_del(d->server);
	while (!lp_list_empty(&d->all))
		rconn_free(LP_CONTAINER_OF(lp_list_first(&d->all), struct rconn, all_node));
	lp_relay_del(d->engine);
	lp_quic_ctx_del(d->ctx);
	free(d->rx_mem);
	free(d);
}
