/*
 * runner_windows.c - the runner section of lp_client.h on the Windows loop
 * (lp_winloop.h): relay sessions over lp_udp with reconnects and backoff.
 *
 * Same behaviour as runner_linux.c; only the readiness plumbing differs.
 * The socket is watched through a WSAEventSelect event (FD_READ |
 * FD_WRITE). That event is manual-reset: WSAEnumNetworkEvents clears it,
 * and winsock sets it again after a recvfrom that leaves data queued, so
 * draining a bounded number of datagrams per wake-up never loses one.
 * FD_WRITE is only recorded after a send failed with WSAEWOULDBLOCK,
 * which is exactly when the runner waits for room (want_write).
 *
 * One session and one socket per attempt: a fresh socket gets a fresh
 * source port, so a NAT binding or an error state of the old path cannot
 * leak into the new connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lp_client.h"
#include "lp_net.h"
#include "lp_winloop.h"

#define RUNNER_RELAY_MAX 8
#define RUNNER_RX_BATCH 8
/* Each receive buffer holds a whole GRO train (up to 64 KiB). */
#define RUNNER_RX_BUF 65536
/* Reads per readiness callback before yielding to other watchers. */
#define RUNNER_RX_ROUNDS 8
#define RUNNER_DISCONNECT_WAIT_DEFAULT (1 * LP_NS_PER_SEC)

struct lp_client_runner {
	struct lp_loop *loop;
	const struct lp_logger *log;
	struct lp_client_cbs cbs;
	void *user;

	struct lp_client_cfg scfg;
	char room[LP_CTRL_ROOM_MAX + 1];
	char software[64];
	struct lp_quic_ctx *quic;
	struct sockaddr_storage relay[RUNNER_RELAY_MAX];
	size_t relay_count;
	size_t relay_next;
	bool retry_permanent;

	struct lp_backoff backoff;
	struct lp_loop_timer timer; /* session expiry */
	struct lp_loop_timer retry; /* next connection attempt */

	struct lp_client *session;
	struct lp_udp *udp;
	SOCKET sock;
	WSAEVENT ev; /* WSAEventSelect(sock, ev, FD_READ | FD_WRITE) */
	bool want_write;

	bool session_ended; /* the session delivered CLOSED: tear down when safe */
	bool stopping;      /* lp_client_runner_disconnect: no more attempts */
	bool stopped;
	bool ever_admitted;
	bool end_permanent; /* the ended session was refused for good */
	int end_err;
	unsigned attempt;
	uint64_t reconnects;

	uint8_t *txbuf;
	uint8_t *rxbuf;
	struct lp_udp_rx rx[RUNNER_RX_BATCH];
};

static void runner_flush(struct lp_client_runner *r);
static void runner_after_io(struct lp_client_runner *r);
static void runner_arm(struct lp_client_runner *r);

/* ---- Session callbacks: forwarded to the user -------------------------------- */

static void on_frame(struct lp_client *s, const uint8_t *frame, size_t len, void *user)
{
	struct lp_client_runner *r = user;

	if (r->cbs.frame != NULL)
		r->cbs.frame(s, frame, len, r->user);
}

static void emit(struct lp_client_runner *r, struct lp_client *s, const struct lp_client_event *ev)
{
	if (r->cbs.event != NULL)
		r->cbs.event(s, ev, r->user);
}

static void on_event(struct lp_client *s, const struct lp_client_event *ev, void *user)
{
	struct lp_client_runner *r = user;
	const struct lp_ctrl_reject *rej;
	bool own_stale;

	switch (ev->type) {
	case LP_CLIENT_EV_WELCOME:
		r->ever_admitted = true;
		lp_backoff_admitted(&r->backoff, lp_now_ns());
		break;
	case LP_CLIENT_EV_CLOSED:
		r->session_ended = true;
		r->end_err = ev->err;
		rej = ev->reject;
		/* After we were admitted once, gateway_exists / duplicate_mac most
		 * likely name our own previous session the relay has not timed out. */
		own_stale = rej != NULL && r->ever_admitted &&
		            (rej->reason == LP_REJECT_DUPLICATE_MAC ||
		             rej->reason == LP_REJECT_GATEWAY_EXISTS);
		r->end_permanent = rej != NULL && lp_client_reject_is_permanent(rej->reason) &&
		                   !r->retry_permanent && !own_stale;
		break;
	default:
		break;
	}
	emit(r, s, ev);
}

static const struct lp_client_cbs runner_session_cbs = { .frame = on_frame, .event = on_event };

/* ---- Socket and session lifetime --------------------------------------------- */

static void drop_session(struct lp_client_runner *r)
{
	lp_loop_timer_cancel(r->loop, &r->timer);
	if (r->ev != WSA_INVALID_EVENT) {
		lp_loop_handle_del(r->loop, r->ev);
		if (r->sock != INVALID_SOCKET)
			WSAEventSelect(r->sock, NULL, 0);
		WSACloseEvent(r->ev);
	}
	r->ev = WSA_INVALID_EVENT;
	r->sock = INVALID_SOCKET;
	r->want_write = false;
	lp_client_del(r->session);
	r->session = NULL;
	lp_udp_close(r->udp);
	r->udp = NULL;
	r->session_ended = false;
}

static void on_socket(struct lp_loop *l, HANDLE h, void *arg);

static int wildcard_for(const struct sockaddr_storage *remote, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (remote->ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)out;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	if (remote->ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_any;
		return 0;
	}
	return LP_ERR_INVAL;
}

/* Opens a socket and a session to the next relay address. */
static int start_attempt(struct lp_client_runner *r)
{
	const struct sockaddr_storage *remote = &r->relay[r->relay_next++ % r->relay_count];
	struct lp_client_event ev;
	struct sockaddr_storage any;
	struct lp_quic_path path;
	char addr[80];
	int rc;

	r->attempt++;
	if (lp_net_addr_format((const struct sockaddr *)remote, addr, sizeof(addr)) < 0)
		snprintf(addr, sizeof(addr), "(address)");
	memset(&ev, 0, sizeof(ev));
	ev.type = LP_CLIENT_EV_CONNECTING;
	ev.peer_reason = "";
	ev.attempt = r->attempt;
	snprintf(ev.text, sizeof(ev.text), "connecting to relay %s (attempt %u)", addr, r->attempt);
	emit(r, NULL, &ev);

	memset(&path, 0, sizeof(path));
	rc = wildcard_for(remote, &any);
	if (rc == 0)
		rc = lp_udp_open((const struct sockaddr *)&any, &r->udp);
	if (rc == 0)
		rc = lp_udp_local(r->udp, &path.local);
	if (rc < 0) {
		lp_log(r->log, LP_LOG_ERROR, "client: cannot open a UDP socket for %s: %s", addr,
		       lp_strerror(rc));
		goto out;
	}
	path.remote = *remote;
	r->sock = (SOCKET)lp_udp_fd(r->udp);
	rc = lp_client_new(r->quic, &r->scfg, &path, &runner_session_cbs, r, r->log, lp_now_ns(),
	                   &r->session);
	if (rc < 0) {
		lp_log(r->log, LP_LOG_ERROR, "client: cannot start a session to %s: %s", addr,
		       lp_strerror(rc));
		goto out;
	}
	r->ev = WSACreateEvent();
	if (r->ev == WSA_INVALID_EVENT ||
	    WSAEventSelect(r->sock, r->ev, FD_READ | FD_WRITE) == SOCKET_ERROR) {
		lp_log(r->log, LP_LOG_ERROR,
		       "client: cannot watch the UDP socket: winsock error %d", WSAGetLastError());
		rc = LP_ERR_IO;
		goto out;
	}
	rc = lp_loop_handle_add(r->loop, r->ev, on_socket, r);
	if (rc < 0)
		goto out;
	runner_flush(r);
	runner_arm(r);
	return 0;
out:
	drop_session(r);
	return rc;
}

static void on_retry(struct lp_loop *l, struct lp_loop_timer *t, void *arg);

static void schedule_retry(struct lp_client_runner *r, int err)
{
	struct lp_client_event ev;
	uint64_t now = lp_now_ns(), delay;

	memset(&ev, 0, sizeof(ev));
	ev.peer_reason = "";
	ev.err = err;
	if (r->end_permanent) {
		r->stopped = true;
		ev.type = LP_CLIENT_EV_STOPPED;
		snprintf(ev.text, sizeof(ev.text),
		         "not retrying: the relay refused this peer permanently (%s)",
		         lp_strerror(err));
		emit(r, NULL, &ev);
		return;
	}
	delay = lp_backoff_next(&r->backoff, now);
	ev.type = LP_CLIENT_EV_RECONNECTING;
	ev.attempt = r->attempt + 1;
	ev.delay_ns = delay;
	snprintf(ev.text, sizeof(ev.text), "reconnecting in %.1f s",
	         (double)delay / (double)LP_NS_PER_SEC);
	lp_loop_timer_arm(r->loop, &r->retry, now + delay);
	emit(r, NULL, &ev);
}

/* The session closed: drop it and plan the next attempt. */
static void session_finished(struct lp_client_runner *r)
{
	int err = r->end_err;

	drop_session(r);
	if (r->stopping)
		return;
	schedule_retry(r, err);
}

static void on_retry(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_client_runner *r = arg;
	int rc;

	(void)l;
	(void)t;
	if (r->stopping || r->session != NULL)
		return;
	r->reconnects++;
	r->end_permanent = false;
	rc = start_attempt(r);
	if (rc < 0)
		schedule_retry(r, rc);
}

/* ---- I/O --------------------------------------------------------------------- */

static void runner_flush(struct lp_client_runner *r)
{
	struct lp_quic_path path;
	size_t gso = 0;
	ssize_t n;
	int rc;

	if (r->session == NULL || r->want_write)
		return;
	for (;;) {
		n = lp_client_write(r->session, r->txbuf, LP_QUIC_WRITE_BUF_MIN, &gso, &path,
		                    lp_now_ns());
		if (n <= 0)
			break;
		rc = lp_udp_send(r->udp, &path, r->txbuf, (size_t)n, gso);
		if (rc == LP_ERR_AGAIN) {
			/* The socket buffer is full: these packets are lost (QUIC
			 * recovers); FD_WRITE tells when there is room again. */
			r->want_write = true;
			break;
		}
		if (rc < 0)
			lp_log(r->log, LP_LOG_DEBUG, "client: UDP send failed: %s",
			       lp_strerror(rc));
	}
}

static void on_expiry(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_client_runner *r = arg;

	(void)l;
	(void)t;
	if (r->session == NULL)
		return; /* LP_ERR_CLOSED also arrives as the CLOSED event (session_ended). */
	if (lp_client_handle_expiry(r->session, lp_now_ns()) == 0)
		runner_flush(r);
	runner_after_io(r);
}

/* Tears down a finished session, or re-arms the timer of a live one. */
static void runner_after_io(struct lp_client_runner *r)
{
	if (r->session == NULL)
		return;
	if (r->session_ended) {
		session_finished(r);
		return;
	}
	runner_arm(r);
}

/* Arms the loop timer on the session's next deadline. */
static void runner_arm(struct lp_client_runner *r)
{
	uint64_t exp = lp_client_expiry(r->session);

	if (exp == UINT64_MAX)
		lp_loop_timer_cancel(r->loop, &r->timer);
	else
		lp_loop_timer_arm(r->loop, &r->timer, exp);
}

static void read_batch(struct lp_client_runner *r, int n)
{
	int i;

	for (i = 0; i < n && !r->session_ended; i++) {
		const struct lp_udp_rx *rx = &r->rx[i];
		size_t seg = rx->segment_size ? rx->segment_size : rx->len;
		size_t off;

		if (seg == 0)
			continue;
		/* A GRO train: every segment was its own UDP datagram. */
		for (off = 0; off < rx->len && !r->session_ended; off += seg) {
			size_t len = rx->len - off < seg ? rx->len - off : seg;
			if (lp_client_read(r->session, &rx->path, rx->data + off, len,
			                   lp_now_ns()) < 0 &&
			    r->session_ended)
				break;
		}
	}
}

static void on_socket(struct lp_loop *l, HANDLE h, void *arg)
{
	struct lp_client_runner *r = arg;
	WSANETWORKEVENTS ne;
	int round, n;

	(void)l;
	(void)h;
	if (r->session == NULL)
		return;
	/* Clears the event; reads are attempted whatever it reports, since a
	 * drain cut short by RUNNER_RX_ROUNDS leaves FD_READ to winsock. */
	memset(&ne, 0, sizeof(ne));
	if (WSAEnumNetworkEvents(r->sock, r->ev, &ne) == SOCKET_ERROR)
		WSAResetEvent(r->ev);
	if ((ne.lNetworkEvents & FD_WRITE) != 0)
		r->want_write = false;
	for (round = 0; round < RUNNER_RX_ROUNDS && !r->session_ended; round++) {
		n = lp_udp_recv(r->udp, r->rx, RUNNER_RX_BATCH);
		if (n < 0) {
			/* ICMP errors surface here on some kernels; the handshake and
			 * idle timers decide whether the relay is really gone. */
			lp_log(r->log, LP_LOG_DEBUG, "client: UDP receive failed: %s",
			       lp_strerror(n));
			break;
		}
		read_batch(r, n);
		if (n < RUNNER_RX_BATCH)
			break;
	}
	if (!r->session_ended)
		runner_flush(r);
	runner_after_io(r);
}

/* ---- Public API ---------------------------------------------------------------- */

int lp_client_runner_new(struct lp_loop *loop, const struct lp_client_runner_cfg *cfg,
                         const struct lp_client_cbs *cbs, void *user, const struct lp_logger *log,
                         struct lp_client_runner **out)
{
	struct lp_client_runner *r = NULL;
	size_t i;
	int rc = LP_ERR_INVAL;

	if (out == NULL)
		return LP_ERR_INVAL;
	*out = NULL;
	if (loop == NULL || cfg == NULL || cfg->quic == NULL || cfg->relay == NULL ||
	    cfg->relay_count == 0 || cfg->relay_count > RUNNER_RELAY_MAX ||
	    cfg->session.room == NULL)
		return LP_ERR_INVAL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return LP_ERR_NOMEM;
	r->sock = INVALID_SOCKET;
	r->ev = WSA_INVALID_EVENT;
	r->loop = loop;
	r->log = log;
	if (cbs != NULL)
		r->cbs = *cbs;
	r->user = user;
	r->quic = cfg->quic;
	r->retry_permanent = cfg->retry_permanent;
	r->scfg = cfg->session;
	if (lp_strlcpy_checked(r->room, sizeof(r->room), cfg->session.room) < 0) {
		rc = LP_ERR_ROOM_LONG;
		goto out;
	}
	r->scfg.room = r->room;
	if (cfg->session.software != NULL) {
		snprintf(r->software, sizeof(r->software), "%s", cfg->session.software);
		r->scfg.software = r->software;
	}
	for (i = 0; i < cfg->relay_count; i++)
		r->relay[i] = cfg->relay[i];
	r->relay_count = cfg->relay_count;
	lp_backoff_init(&r->backoff, &cfg->backoff);
	lp_loop_timer_init(&r->timer, on_expiry, r);
	lp_loop_timer_init(&r->retry, on_retry, r);
	r->txbuf = malloc(LP_QUIC_WRITE_BUF_MIN);
	r->rxbuf = malloc((size_t)RUNNER_RX_BATCH * RUNNER_RX_BUF);
	if (r->txbuf == NULL || r->rxbuf == NULL) {
		rc = LP_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < RUNNER_RX_BATCH; i++) {
		r->rx[i].data = r->rxbuf + i * RUNNER_RX_BUF;
		r->rx[i].cap = RUNNER_RX_BUF;
	}
	rc = start_attempt(r);
	if (rc < 0)
		goto out;
	*out = r;
	r = NULL;
out:
	lp_client_runner_del(r);
	return rc;
}

int lp_client_runner_send_frame(struct lp_client_runner *r, const uint8_t *frame, size_t len)
{
	if (r->session == NULL || r->session_ended)
		return LP_ERR_STATE;
	return lp_client_send_frame(r->session, frame, len);
}

void lp_client_runner_flush(struct lp_client_runner *r)
{
	if (r->session == NULL || r->session_ended)
		return;
	runner_flush(r);
	runner_after_io(r);
}

/* The session reported CLOSED: the close went out (after the relay
 * acknowledged the DISCONNECT) or the relay closed first. */
static bool close_done(const struct lp_client_runner *r)
{
	return r->session == NULL || r->session_ended;
}

int lp_client_runner_disconnect(struct lp_client_runner *r, const char *reason,
                                uint64_t max_wait_ns)
{
	uint64_t deadline, now;
	int rc = 0;

	r->stopping = true;
	r->stopped = true;
	lp_loop_timer_cancel(r->loop, &r->retry);
	if (r->session == NULL)
		return 0;
	deadline = lp_now_ns() + (max_wait_ns ? max_wait_ns : RUNNER_DISCONNECT_WAIT_DEFAULT);
	(void)lp_client_disconnect(r->session, reason, lp_now_ns());
	runner_flush(r);
	runner_after_io(r);
	while (!close_done(r)) {
		now = lp_now_ns();
		if (now >= deadline) {
			rc = LP_ERR_TIMEOUT;
			break;
		}
		if (lp_loop_run_once(r->loop, deadline - now) < 0) {
			rc = LP_ERR_IO;
			break;
		}
	}
	drop_session(r);
	return rc;
}

struct lp_client *lp_client_runner_session(const struct lp_client_runner *r)
{
	return r->session_ended ? NULL : r->session;
}

uint64_t lp_client_runner_reconnects(const struct lp_client_runner *r)
{
	return r->reconnects;
}

bool lp_client_runner_stopped(const struct lp_client_runner *r)
{
	return r->stopped;
}

void lp_client_runner_del(struct lp_client_runner *r)
{
	if (r == NULL)
		return;
	lp_loop_timer_cancel(r->loop, &r->retry);
	drop_session(r);
	free(r->txbuf);
	free(r->rxbuf);
	free(r);
}
