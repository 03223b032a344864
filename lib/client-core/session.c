/*
 * session.c - the sans-I/O relay session: hello/welcome admission, control
 * events, overlay frames over QUIC DATAGRAM, stats and graceful disconnect.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"

static void session_established(struct lp_quic_conn *c, void *user);
static void session_stream_data(struct lp_quic_conn *c, const uint8_t *data, size_t len, bool fin,
                                void *user);
static void session_datagram(struct lp_quic_conn *c, const uint8_t *data, size_t len, void *user);
static void session_closed(struct lp_quic_conn *c, int err, uint64_t app_code, const char *reason,
                           void *user);

static const struct lp_quic_conn_cbs session_quic_cbs = {
	.established = session_established,
	.stream_data = session_stream_data,
	.datagram = session_datagram,
	.closed = session_closed,
};

static const char *const state_names[] = {
	[LP_CLIENT_CONNECTING] = "connecting", [LP_CLIENT_WAIT_PMTUD] = "wait_pmtud",
	[LP_CLIENT_HELLO_SENT] = "hello_sent", [LP_CLIENT_ADMITTED] = "admitted",
	[LP_CLIENT_REJECTED] = "rejected",     [LP_CLIENT_CLOSING] = "closing",
	[LP_CLIENT_CLOSED] = "closed",
};

const char *lp_client_state_name(enum lp_client_state st)
{
	if ((unsigned)st < LP_ARRAY_LEN(state_names) && state_names[st] != NULL)
		return state_names[st];
	return "unknown";
}

bool lp_client_reject_is_permanent(enum lp_reject_reason r)
{
	switch (r) {
	case LP_REJECT_BAD_HELLO:
	case LP_REJECT_VERSION:
	case LP_REJECT_BAD_ROOM:
	case LP_REJECT_GATEWAY_EXISTS:
	case LP_REJECT_DUPLICATE_MAC:
	case LP_REJECT_NOT_ADMITTED: /* a wrong invite does not get better */
		return true;
	case LP_REJECT_ROOM_FULL:
	case LP_REJECT_TOO_MANY_ROOMS:
	case LP_REJECT_BUDGET_TOO_SMALL:
	case LP_REJECT_SHUTTING_DOWN:
		break;
	}
	return false;
}

static void ev_init(struct lp_client_event *ev, enum lp_client_event_type type,
                    const struct lp_client *s)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->peer_reason = "";
	ev->gateway_present = s->gateway_present;
}

static void emit(struct lp_client *s, struct lp_client_event *ev)
{
	if (s->cbs.event != NULL)
		s->cbs.event(s, ev, s->user);
}

/*
 * Closes the connection because of a local decision (protocol violation by
 * the relay, unusable welcome, disconnect). The error and text are what the
 * CLOSED event will carry.
 */
static void close_local(struct lp_client *s, int err, uint64_t app_code, const char *text)
{
	if (s->state == LP_CLIENT_CLOSED)
		return;
	if (!s->local_close) {
		s->local_close = true;
		s->close_err = err;
		snprintf(s->close_text, sizeof(s->close_text), "%s", text);
	}
	if (s->state != LP_CLIENT_REJECTED)
		s->state = LP_CLIENT_CLOSING;
	lp_quic_conn_close(s->conn, app_code, text);
}

/* Encodes m and queues it on the control stream. */
static int send_ctrl(struct lp_client *s, const struct lp_ctrl_msg *m)
{
	uint8_t buf[LP_CTRL_PREFIX_LEN + 2048];
	ssize_t n = lp_ctrl_encode(m, buf, sizeof(buf));
	int rc;

	if (n < 0) {
		lp_log(s->log, LP_LOG_ERROR, "client: cannot encode %s: %s",
		       lp_ctrl_type_name(m->type), lp_strerror((int)n));
		return (int)n;
	}
	rc = lp_quic_conn_stream_send(s->conn, buf, (size_t)n);
	if (rc < 0)
		lp_log(s->log, LP_LOG_WARN, "client: cannot send %s: %s",
		       lp_ctrl_type_name(m->type), lp_strerror(rc));
	return rc;
}

static void send_hello(struct lp_client *s)
{
	struct lp_ctrl_msg m;
	size_t budget = lp_quic_conn_datagram_budget(s->conn);
	struct lp_quic_conn_info info;
	char text[LP_CLIENT_TEXT_MAX];
	int rc;

	lp_quic_conn_info(s->conn, &info);
	if (budget > LP_CTRL_BUDGET_MAX)
		budget = LP_CTRL_BUDGET_MAX;
	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_HELLO;
	m.u.hello.version = LP_CTRL_VERSION;
	m.u.hello.role = s->role;
	memcpy(m.u.hello.room, s->room, sizeof(m.u.hello.room));
	m.u.hello.mac = s->mac;
	m.u.hello.datagram_budget = (uint32_t)budget;
	memcpy(m.u.hello.software, s->software, sizeof(m.u.hello.software));
	if (s->private_room) {
		rc = lp_client_private_hello(s, &m.u.hello);
		if (rc < 0) {
			snprintf(text, sizeof(text), "cannot make the admission proof: %s",
			         lp_strerror(rc));
			close_local(s, rc, LP_QUIC_APP_PROTOCOL, text);
			return;
		}
	}
	lp_log(s->log, LP_LOG_DEBUG,
	       "client: hello room=%s role=%s budget=%zu (path max UDP payload %zu, PMTUD %s)",
	       s->room, lp_ctrl_role_name(s->role), budget, info.max_udp_payload,
	       info.pmtud_done ? "done" : "still running");
	rc = send_ctrl(s, &m);
	if (rc < 0) {
		snprintf(text, sizeof(text), "cannot send hello (datagram budget %zu): %s", budget,
		         lp_strerror(rc));
		close_local(s, rc, LP_QUIC_APP_PROTOCOL, text);
		return;
	}
	s->hello_budget = budget;
	s->state = LP_CLIENT_HELLO_SENT;
}

static void send_stats(struct lp_client *s)
{
	struct lp_ctrl_msg m;

	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_STATS;
	m.u.stats.counters = s->ctr;
	/* The wire cannot carry a "none" drop; nobody counts one, but stay safe. */
	m.u.stats.counters.drops[LP_DROP_NONE] = 0;
	if (send_ctrl(s, &m) == 0)
		s->stats_sent++;
}

/*
 * Moves on from WAIT_PMTUD once PMTUD settled or the wait is over. Only
 * called from lp_client_handle_expiry, right after lp_quic_conn_handle_expiry:
 * that is where lib/quic recomputes the datagram budget for the new path
 * MTU, so the hello advertises the settled budget. A read that sees PMTUD
 * settle only pulls the deadline in (see lp_client_read).
 */
static void maybe_send_hello(struct lp_client *s, uint64_t now)
{
	struct lp_quic_conn_info info;

	if (s->state != LP_CLIENT_WAIT_PMTUD)
		return;
	lp_quic_conn_info(s->conn, &info);
	if (info.pmtud_done || now >= s->pmtud_deadline)
		send_hello(s);
}

static void run_timers(struct lp_client *s, uint64_t now)
{
	maybe_send_hello(s, now);
	if (s->state == LP_CLIENT_ADMITTED && now >= s->stats_due) {
		send_stats(s);
		s->stats_due =
		        s->stats_interval == UINT64_MAX ? UINT64_MAX : now + s->stats_interval;
	}
}

/* ---- QUIC callbacks ------------------------------------------------------- */

static void session_established(struct lp_quic_conn *c, void *user)
{
	struct lp_client *s = user;
	struct lp_client_event ev;

	(void)c;
	s->established = true;
	if (s->state != LP_CLIENT_CONNECTING)
		return;
	s->state = LP_CLIENT_WAIT_PMTUD;
	s->pmtud_deadline = s->now + s->pmtud_wait;
	ev_init(&ev, LP_CLIENT_EV_CONNECTED, s);
	snprintf(ev.text, sizeof(ev.text), "connected to relay, joining room %s as %s", s->room,
	         lp_ctrl_role_name(s->role));
	emit(s, &ev);
}

static void on_welcome(struct lp_client *s, const struct lp_ctrl_welcome *w)
{
	struct lp_client_event ev;
	size_t need = 0, budget = lp_quic_conn_datagram_budget(s->conn);
	char text[LP_CLIENT_TEXT_MAX];
	int rc;

	rc = lp_proto_budget_for_mtu(w->mtu, &need);
	if (s->private_room)
		need += LP_ROOM_SEAL_OVERHEAD;
	if (rc < 0 || need > budget) {
		snprintf(
		        text, sizeof(text),
		        "room MTU %u needs a datagram budget of %zu bytes but the path carries %zu",
		        (unsigned)w->mtu, need, budget);
		lp_log(s->log, LP_LOG_ERROR, "client: %s", text);
		close_local(s, LP_ERR_BUDGET_SMALL, LP_QUIC_APP_PROTOCOL, text);
		return;
	}
	s->welcome = *w;
	s->have_welcome = true;
	s->gateway_present = w->gateway_present;
	s->state = LP_CLIENT_ADMITTED;
	s->stats_due = s->stats_interval == UINT64_MAX ? UINT64_MAX : s->now + s->stats_interval;
	ev_init(&ev, LP_CLIENT_EV_WELCOME, s);
	ev.welcome = &s->welcome;
	snprintf(ev.text, sizeof(ev.text), "admitted to room %s as peer %u, MTU %u, %s", s->room,
	         (unsigned)w->peer_id, (unsigned)w->mtu,
	         w->gateway_present ? "LAN gateway present" : "no LAN gateway yet");
	emit(s, &ev);
}

static void on_reject(struct lp_client *s, const struct lp_ctrl_reject *r)
{
	struct lp_client_event ev;

	s->reject = *r;
	s->have_reject = true;
	s->state = LP_CLIENT_REJECTED;
	s->close_err = LP_ERR_REJECTED;
	snprintf(s->close_text, sizeof(s->close_text), "rejected by relay: %s%s%s",
	         lp_ctrl_reject_name(r->reason), r->message[0] != '\0' ? ": " : "", r->message);
	s->local_close = true;
	ev_init(&ev, LP_CLIENT_EV_REJECTED, s);
	ev.reject = &s->reject;
	ev.err = LP_ERR_REJECTED;
	ev.permanent = lp_client_reject_is_permanent(r->reason);
	snprintf(ev.text, sizeof(ev.text), "%s", s->close_text);
	emit(s, &ev);
	/* The relay closes too; closing ourselves bounds the wait if it does not. */
	if (s->state == LP_CLIENT_REJECTED)
		lp_quic_conn_close(s->conn, LP_QUIC_APP_NO_ERROR, "rejected");
}

static void peer_describe(const struct lp_client_peer *p, char *out, size_t cap)
{
	char mac[LP_MAC_STR_LEN];

	if (p->role == LP_ROLE_GATEWAY) {
		snprintf(out, cap, "LAN gateway");
		return;
	}
	lp_proto_mac_format(&p->mac, mac);
	snprintf(out, cap, "client %s", mac);
}

static void on_peer_joined(struct lp_client *s, const struct lp_ctrl_peer *m)
{
	struct lp_client_event ev;
	struct lp_client_peer p = { .peer_id = m->peer_id, .role = m->role, .mac = m->mac };
	char who[64];

	if (lp_client_peers_put(s, &p) < 0)
		lp_log(s->log, LP_LOG_WARN, "client: peer table full, peer %u not remembered",
		       (unsigned)p.peer_id);
	if (p.role == LP_ROLE_GATEWAY)
		s->gateway_present = true;
	ev_init(&ev, LP_CLIENT_EV_PEER_JOINED, s);
	ev.peer = p;
	ev.peer_known = true;
	peer_describe(&p, who, sizeof(who));
	snprintf(ev.text, sizeof(ev.text), "%s joined (peer %u)", who, (unsigned)p.peer_id);
	emit(s, &ev);
}

static void on_peer_left(struct lp_client *s, const struct lp_ctrl_peer *m)
{
	struct lp_client_event ev;
	struct lp_client_peer p = { .peer_id = m->peer_id, .role = m->role, .mac = m->mac };
	bool known = lp_client_peers_take(s, m->peer_id, &p) == 0;
	char who[64];

	if (p.role == LP_ROLE_GATEWAY || m->role == LP_ROLE_GATEWAY)
		s->gateway_present = false;
	ev_init(&ev, LP_CLIENT_EV_PEER_LEFT, s);
	ev.peer = p;
	ev.peer_known = known;
	ev.peer_reason = m->reason;
	peer_describe(&p, who, sizeof(who));
	if (m->reason[0] != '\0')
		snprintf(ev.text, sizeof(ev.text), "%s left (%s)", who, m->reason);
	else
		snprintf(ev.text, sizeof(ev.text), "%s left", who);
	emit(s, &ev);
}

/* One complete control message from the relay. */
static void on_ctrl(struct lp_client *s, const struct lp_ctrl_msg *m)
{
	char text[LP_CLIENT_TEXT_MAX];

	lp_log(s->log, LP_LOG_DEBUG, "client: control message %s in state %s",
	       lp_ctrl_type_name(m->type), lp_client_state_name(s->state));
	if (m->type == LP_CTRL_WELCOME && s->state == LP_CLIENT_HELLO_SENT) {
		on_welcome(s, &m->u.welcome);
		return;
	}
	if (m->type == LP_CTRL_REJECT && s->state == LP_CLIENT_HELLO_SENT) {
		on_reject(s, &m->u.reject);
		return;
	}
	if (m->type == LP_CTRL_PEER_JOINED && s->state == LP_CLIENT_ADMITTED) {
		on_peer_joined(s, &m->u.peer);
		return;
	}
	if (m->type == LP_CTRL_PEER_LEFT && s->state == LP_CLIENT_ADMITTED) {
		on_peer_left(s, &m->u.peer);
		return;
	}
	if (m->type == LP_CTRL_PEER_STATS && s->state == LP_CLIENT_ADMITTED) {
		if (lp_client_peers_set_stats(s, &m->u.peer_stats) < 0)
			lp_log(s->log, LP_LOG_WARN, "client: no memory for the peer table");
		return;
	}
	if (s->state == LP_CLIENT_CLOSING || s->state == LP_CLIENT_REJECTED)
		return; /* late messages while we leave are harmless */
	snprintf(text, sizeof(text), "relay sent an unexpected %s message in state %s",
	         lp_ctrl_type_name(m->type), lp_client_state_name(s->state));
	lp_log(s->log, LP_LOG_ERROR, "client: %s", text);
	close_local(s, LP_ERR_TYPE, LP_QUIC_APP_PROTOCOL, text);
}

static void session_stream_data(struct lp_quic_conn *c, const uint8_t *data, size_t len, bool fin,
                                void *user)
{
	struct lp_client *s = user;
	struct lp_ctrl_msg m;
	char text[LP_CLIENT_TEXT_MAX];

	(void)c;
	while (len > 0 && s->state != LP_CLIENT_CLOSED && !s->dec_broken) {
		ssize_t n = lp_ctrl_decoder_feed(&s->dec, data, len, &m);

		if (n < 0) {
			s->dec_broken = true;
			snprintf(text, sizeof(text), "malformed control message from relay: %s",
			         lp_strerror((int)n));
			lp_log(s->log, LP_LOG_ERROR, "client: %s", text);
			close_local(s, (int)n, LP_QUIC_APP_PROTOCOL, text);
			return;
		}
		data += n;
		len -= (size_t)n;
		if (m.type != LP_CTRL_NONE)
			on_ctrl(s, &m);
	}
	if (fin)
		lp_log(s->log, LP_LOG_DEBUG, "client: relay finished the control stream");
}

static void session_datagram(struct lp_quic_conn *c, const uint8_t *data, size_t len, void *user)
{
	struct lp_client *s = user;
	struct lp_proto_overlay ov;
	struct lp_eth eth;
	uint64_t skipped = 0;
	int rc;

	(void)c;
	s->ctr.datagrams_rx++;
	if (s->cbs.datagram_rx != NULL)
		s->cbs.datagram_rx(s, data, len, s->user);
	if (s->state != LP_CLIENT_ADMITTED) {
		lp_obs_count_drop(&s->ctr, LP_DROP_NOT_READY);
		return;
	}
	if (s->private_room) {
		ssize_t n = lp_client_private_open(s, data, len);

		if (n < 0)
			return; /* counted by reason */
		data = s->rx_scratch;
		len = (size_t)n;
	}
	rc = lp_proto_overlay_decode(data, len, &ov);
	/* A sealed datagram in an open room is nobody's frame. */
	if (rc == 0 && (ov.flags & LP_PROTO_FLAG_SEALED) != 0)
		rc = LP_ERR_INVAL;
	if (rc == 0)
		rc = lp_proto_eth_parse(ov.payload, ov.payload_len, &eth);
	if (rc < 0) {
		lp_obs_count_drop(&s->ctr, LP_DROP_MALFORMED);
		if (lp_log_ratelimit_ok(&s->rl, s->now, &skipped))
			lp_log(s->log, LP_LOG_WARN,
			       "client: malformed datagram from relay (%zu bytes): %s "
			       "(%llu similar skipped)",
			       len, lp_strerror(rc), (unsigned long long)skipped);
		return;
	}
	s->ctr.frames_rx++;
	s->ctr.bytes_rx += ov.payload_len;
	if (lp_proto_mac_is_group(&eth.dst))
		s->ctr.broadcast_rx++;
	s->rx_from_gateway = (ov.flags & LP_PROTO_FLAG_FROM_GATEWAY) != 0;
	/* A client lets DHCP, DHCPv6 and router advertisements in from the
	 * gateway's side only: in a private room nobody else can check (the
	 * relay reads no payload), in an open room it is a second line. The
	 * gateway filters room frames itself (every one comes from a client). */
	if (s->role == LP_ROLE_CLIENT) {
		enum lp_drop_reason why =
		        lp_l2filter_rx(ov.payload, ov.payload_len, s->rx_from_gateway);

		if (why != LP_DROP_NONE) {
			lp_obs_count_drop(&s->ctr, why);
			if (lp_log_ratelimit_ok(&s->rl, s->now, &skipped))
				lp_log(s->log, LP_LOG_INFO,
				       "client: filtered a frame of room %s not from the gateway's "
				       "side (%s, %zu bytes; %llu similar skipped)",
				       s->room, lp_obs_drop_name(why), (size_t)ov.payload_len,
				       (unsigned long long)skipped);
			s->rx_from_gateway = false;
			return;
		}
	}
	if (s->cbs.frame != NULL)
		s->cbs.frame(s, ov.payload, ov.payload_len, s->user);
	s->rx_from_gateway = false;
}

bool lp_client_frame_from_gateway(const struct lp_client *s)
{
	return s->rx_from_gateway;
}

int lp_client_relay_pin(const struct lp_client *s, uint8_t pin[LP_QUIC_PIN_LEN])
{
	return lp_quic_conn_peer_pin(s->conn, pin);
}

void lp_client_inject_datagram(struct lp_client *s, const uint8_t *dgram, size_t len)
{
	session_datagram(s->conn, dgram, len, s);
}

/* Human reason for a close we did not initiate. */
static int remote_close_reason(const struct lp_client *s, int err, uint64_t app_code,
                               const char *reason, char *out, size_t cap)
{
	const char *r = reason != NULL && reason[0] != '\0' ? reason : NULL;

	switch (err) {
	case LP_OK:
		if (app_code == LP_QUIC_APP_SHUTDOWN)
			snprintf(out, cap, "relay closed the connection: shutting down%s%s",
			         r ? " - " : "", r ? r : "");
		else if (app_code == LP_QUIC_APP_REJECTED)
			snprintf(out, cap, "relay closed the connection: rejected%s%s",
			         r ? " - " : "", r ? r : "");
		else
			snprintf(out, cap, "relay closed the connection (code %llu%s%s)",
			         (unsigned long long)app_code, r ? ": " : "", r ? r : "");
		return app_code == LP_QUIC_APP_REJECTED ? LP_ERR_REJECTED : LP_ERR_CLOSED;
	case LP_ERR_TIMEOUT:
		if (!s->established)
			snprintf(out, cap, "relay unreachable (QUIC handshake timed out)");
		else
			snprintf(out, cap, "relay timed out (no packets within the idle timeout)");
		return err;
	case LP_ERR_CERT:
		snprintf(out, cap,
		         "certificate mismatch: the relay did not present the pinned "
		         "or a trusted certificate");
		return err;
	case LP_ERR_ALPN:
		snprintf(out, cap, "relay does not speak %s (ALPN mismatch)", LP_QUIC_ALPN);
		return err;
	case LP_ERR_NO_DATAGRAM:
		snprintf(out, cap, "relay did not enable QUIC DATAGRAM frames");
		return err;
	case LP_ERR_TLS:
		snprintf(out, cap, "TLS handshake with the relay failed");
		return err;
	default:
		snprintf(out, cap, "relay connection failed: %s%s%s", lp_strerror(err),
		         r ? ": " : "", r ? r : "");
		return err;
	}
}

static void session_closed(struct lp_quic_conn *c, int err, uint64_t app_code, const char *reason,
                           void *user)
{
	struct lp_client *s = user;
	struct lp_client_event ev;

	(void)c;
	if (s->state == LP_CLIENT_CLOSED)
		return;
	if (!s->local_close) {
		s->close_err = remote_close_reason(s, err, app_code, reason, s->close_text,
		                                   sizeof(s->close_text));
		/* A peer close with the REJECTED code but no reject message still counts. */
	} else if (err != LP_OK && s->close_err == LP_OK && !s->disconnecting) {
		s->close_err = err;
	}
	s->state = LP_CLIENT_CLOSED;
	ev_init(&ev, LP_CLIENT_EV_CLOSED, s);
	ev.err = s->close_err;
	ev.was_admitted = s->have_welcome;
	ev.reject = s->have_reject ? &s->reject : NULL;
	snprintf(ev.text, sizeof(ev.text), "%s", s->close_text);
	lp_log(s->log, s->close_err == LP_OK ? LP_LOG_INFO : LP_LOG_WARN, "client: closed: %s",
	       s->close_text);
	emit(s, &ev);
}

/* ---- Public API ------------------------------------------------------------- */

int lp_client_new(struct lp_quic_ctx *quic, const struct lp_client_cfg *cfg,
                  const struct lp_quic_path *path, const struct lp_client_cbs *cbs, void *user,
                  const struct lp_logger *log, uint64_t now, struct lp_client **out)
{
	struct lp_client *s = NULL;
	int rc;

	if (out == NULL)
		return LP_ERR_INVAL;
	*out = NULL;
	if (quic == NULL || cfg == NULL || (cfg->room == NULL && cfg->room_keys == NULL) ||
	    path == NULL)
		return LP_ERR_INVAL;
	rc = cfg->room_keys != NULL ? 0 : lp_ctrl_room_validate(cfg->room);
	if (rc < 0)
		return rc;
	rc = lp_ctrl_role_mac_validate(cfg->role, &cfg->mac);
	if (rc < 0)
		return rc;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return LP_ERR_NOMEM;
	s->log = log;
	if (cbs != NULL)
		s->cbs = *cbs;
	s->user = user;
	s->role = cfg->role;
	if (cfg->room_keys != NULL) {
		rc = lp_client_private_init(s, cfg);
		if (rc < 0)
			goto out;
	} else {
		snprintf(s->room, sizeof(s->room), "%s", cfg->room);
	}
	s->mac = cfg->mac;
	/* Truncation is fine for an informational string, but not mid-character. */
	if (cfg->software != NULL) {
		size_t n = strlen(cfg->software);

		if (n >= sizeof(s->software)) {
			n = sizeof(s->software) - 1;
			while (n > 0 && ((unsigned char)cfg->software[n] & 0xc0) == 0x80)
				n--;
		}
		memcpy(s->software, cfg->software, n);
	}
	s->stats_interval =
	        cfg->stats_interval_ns ? cfg->stats_interval_ns : LP_CLIENT_STATS_INTERVAL_DEFAULT;
	s->pmtud_wait = cfg->pmtud_wait_ns ? cfg->pmtud_wait_ns : LP_CLIENT_PMTUD_WAIT_DEFAULT;
	s->state = LP_CLIENT_CONNECTING;
	s->now = now;
	s->pmtud_deadline = UINT64_MAX;
	s->stats_due = UINT64_MAX;
	lp_ctrl_decoder_init(&s->dec);
	lp_log_ratelimit_init(&s->rl, 5, 10 * LP_NS_PER_SEC);
	rc = lp_quic_conn_connect(quic, path, &session_quic_cbs, s, now, &s->conn);
	if (rc < 0)
		goto out;
	*out = s;
	s = NULL;
out:
	lp_client_del(s);
	return rc;
}

void lp_client_del(struct lp_client *s)
{
	if (s == NULL)
		return;
	lp_quic_conn_del(s->conn);
	lp_client_private_free(s);
	free(s->peers);
	free(s->peer_stats);
	free(s);
}

int lp_client_read(struct lp_client *s, const struct lp_quic_path *path, const uint8_t *pkt,
                   size_t len, uint64_t now)
{
	struct lp_quic_conn_info info;
	int rc;

	s->now = now;
	rc = lp_quic_conn_read(s->conn, path, pkt, len, now);
	if (rc == 0 && s->state == LP_CLIENT_WAIT_PMTUD) {
		lp_quic_conn_info(s->conn, &info);
		if (info.pmtud_done && s->pmtud_deadline > now)
			s->pmtud_deadline = now; /* hello from the next handle_expiry */
	}
	return rc;
}

ssize_t lp_client_write(struct lp_client *s, uint8_t *buf, size_t cap, size_t *gso_size,
                        struct lp_quic_path *path_out, uint64_t now)
{
	s->now = now;
	return lp_quic_conn_write(s->conn, buf, cap, gso_size, path_out, now);
}

uint64_t lp_client_expiry(const struct lp_client *s)
{
	uint64_t t = lp_quic_conn_expiry(s->conn);

	if (s->state == LP_CLIENT_WAIT_PMTUD && s->pmtud_deadline < t)
		t = s->pmtud_deadline;
	if (s->state == LP_CLIENT_ADMITTED && s->stats_due < t)
		t = s->stats_due;
	return t;
}

int lp_client_handle_expiry(struct lp_client *s, uint64_t now)
{
	int rc;

	s->now = now;
	rc = lp_quic_conn_handle_expiry(s->conn, now);
	if (rc < 0)
		return rc;
	run_timers(s, now);
	return s->state == LP_CLIENT_CLOSED ? LP_ERR_CLOSED : 0;
}

int lp_client_send_frame(struct lp_client *s, const uint8_t *frame, size_t len)
{
	size_t budget;
	ssize_t n;
	int rc;

	if (s->state != LP_CLIENT_ADMITTED) {
		lp_obs_count_drop(&s->ctr, LP_DROP_NOT_READY);
		return LP_ERR_STATE;
	}
	if (len < LP_ETH_HDR_LEN) {
		lp_obs_count_drop(&s->ctr, LP_DROP_MALFORMED);
		return LP_ERR_RUNT;
	}
	budget = lp_quic_conn_datagram_budget(s->conn);
	if (s->private_room)
		budget = budget > LP_ROOM_SEAL_OVERHEAD ? budget - LP_ROOM_SEAL_OVERHEAD : 0;
	rc = lp_proto_check_budget(len, budget);
	if (rc < 0) {
		lp_obs_count_drop(&s->ctr, LP_DROP_TOO_BIG);
		return rc;
	}
	n = lp_proto_overlay_encode(s->scratch, sizeof(s->scratch), LP_PROTO_TYPE_ETHERNET, frame,
	                            len);
	assert(n > 0); /* the budget check above bounds len far below the scratch size */
	if (s->private_room) {
		n = lp_room_seal(s->sealer, s->scratch, (size_t)n, sizeof(s->scratch));
		if (n < 0) {
			lp_obs_count_drop(&s->ctr, LP_DROP_MALFORMED);
			return (int)n;
		}
	}
	rc = lp_quic_conn_datagram_send(s->conn, s->scratch, (size_t)n);
	switch (rc) {
	case 0:
		s->ctr.frames_tx++;
		s->ctr.datagrams_tx++;
		s->ctr.bytes_tx += len;
		return 0;
	case LP_ERR_TOO_BIG:
		lp_obs_count_drop(&s->ctr, LP_DROP_TOO_BIG);
		return rc;
	case LP_ERR_AGAIN:
		lp_obs_count_drop(&s->ctr, LP_DROP_QUEUE_FULL);
		return rc;
	default:
		lp_obs_count_drop(&s->ctr, LP_DROP_NOT_READY);
		return rc;
	}
}

int lp_client_disconnect(struct lp_client *s, const char *reason, uint64_t now)
{
	struct lp_ctrl_msg m;
	char text[LP_CLIENT_TEXT_MAX];
	size_t n;

	s->now = now;
	if (s->state == LP_CLIENT_CLOSING || s->state == LP_CLIENT_CLOSED ||
	    s->state == LP_CLIENT_REJECTED)
		return 0;
	if (reason == NULL)
		reason = "";
	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_DISCONNECT;
	if (lp_strlcpy_checked(m.u.disconnect.reason, sizeof(m.u.disconnect.reason), reason) < 0) {
		/* Cut at a character boundary: the wire wants valid UTF-8. */
		n = sizeof(m.u.disconnect.reason) - 1;
		while (n > 0 && ((unsigned char)reason[n] & 0xc0) == 0x80)
			n--;
		m.u.disconnect.reason[n] = '\0';
	}
	snprintf(text, sizeof(text), "disconnected%s%s%s", m.u.disconnect.reason[0] ? " (" : "",
	         m.u.disconnect.reason, m.u.disconnect.reason[0] ? ")" : "");
	s->disconnecting = true;
	/* lib/quic holds the CONNECTION_CLOSE back until the control stream,
	 * DISCONNECT included, is acknowledged (bounded by its flush deadline). */
	if (s->state == LP_CLIENT_HELLO_SENT || s->state == LP_CLIENT_ADMITTED)
		(void)send_ctrl(s, &m);
	close_local(s, LP_OK, LP_QUIC_APP_NO_ERROR, text);
	return 0;
}

/* ---- Diagnostics -------------------------------------------------------------- */

enum lp_client_state lp_client_state(const struct lp_client *s)
{
	return s->state;
}

const struct lp_counters *lp_client_counters(const struct lp_client *s)
{
	return &s->ctr;
}

const struct lp_ctrl_welcome *lp_client_welcome(const struct lp_client *s)
{
	return s->have_welcome ? &s->welcome : NULL;
}

const struct lp_ctrl_reject *lp_client_reject(const struct lp_client *s)
{
	return s->have_reject ? &s->reject : NULL;
}

size_t lp_client_datagram_budget(const struct lp_client *s)
{
	if (s->state == LP_CLIENT_CLOSED)
		return 0;
	return lp_quic_conn_datagram_budget(s->conn);
}

size_t lp_client_datagram_room(const struct lp_client *s)
{
	if (s->state != LP_CLIENT_ADMITTED)
		return SIZE_MAX;
	return lp_quic_conn_datagram_room(s->conn);
}

size_t lp_client_hello_budget(const struct lp_client *s)
{
	return s->hello_budget;
}

void lp_client_conn_info(const struct lp_client *s, struct lp_quic_conn_info *out)
{
	lp_quic_conn_info(s->conn, out);
}

bool lp_client_gateway_present(const struct lp_client *s)
{
	return s->gateway_present;
}

int lp_client_close_err(const struct lp_client *s)
{
	return s->state == LP_CLIENT_CLOSED ? s->close_err : LP_OK;
}

const char *lp_client_close_text(const struct lp_client *s)
{
	return s->state == LP_CLIENT_CLOSED ? s->close_text : "";
}

void lp_client_fill_diag(const struct lp_client *s, struct lp_obs_diag *d)
{
	d->relay_connected = s->state == LP_CLIENT_ADMITTED;
	d->gateway_present = s->state == LP_CLIENT_ADMITTED && s->gateway_present;
	d->datagram_budget = lp_client_datagram_budget(s);
	d->mtu = s->have_welcome ? s->welcome.mtu : 0;
	d->counters = s->ctr;
}
