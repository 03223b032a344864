/*
 * runner.c - the runner section of lp_client.h: one session and one UDP
 * socket per attempt, events forwarded to the user, reconnects with
 * backoff, the permanent-reject decision, and the reload of a pinned relay
 * certificate, on the one event loop of lib/evloop (the same contract on
 * Linux and Windows).
 *
 * One session and one socket per attempt: a fresh socket gets a fresh
 * source port, so a NAT binding or an error state of the old path cannot
 * leak into the new connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lp_client.h"
#include "lp_loop.h"
#include "lp_net.h"

#define RUNNER_RELAY_MAX 8
#define RUNNER_RX_BATCH 8
/* Each receive buffer holds a whole GRO train (up to 64 KiB). */
#define RUNNER_RX_BUF 65536
/* Reads per readiness callback before yielding to other watchers. */
#ifndef RUNNER_RX_ROUNDS
#define RUNNER_RX_ROUNDS 8
#endif
#define RUNNER_DISCONNECT_WAIT_DEFAULT (1 * LP_NS_PER_SEC)

struct lp_client_runner {
	struct lp_loop *loop;
	struct lp_loop_timer session_timer; /* the session's next deadline */
	struct lp_loop_timer retry_timer;   /* the next connection attempt */
	const struct lp_logger *log;
	struct lp_client_cbs cbs;
	void *user;

	struct lp_client_cfg scfg;
	char room[LP_CTRL_ROOM_MAX + 1];
	char software[64];
	/* A private room: the keys sessions copy, and one opener for all of
	 * them, so a replay window survives a reconnect. */
	struct lp_room_keys room_keys;
	uint8_t host_seed[LP_ROOM_SEED_LEN];
	struct lp_room_opener *opener;
	/* TLS: the context sessions borrow, the settings it is rebuilt from
	 * (strings copied) and the pinned file's signature it was built with. */
	struct lp_quic_ctx *quic;
	struct lp_quic_client_cfg tls;
	char *tls_strings[3]; /* server_name, pin_der_file, ca_file */
	struct lp_client_pin_sig pin_sig;
	struct sockaddr_storage relay[RUNNER_RELAY_MAX];
	size_t relay_count;
	size_t relay_next;
	bool retry_permanent;

	struct lp_backoff backoff;

	struct lp_client *session;
	struct lp_udp *udp;
	bool watching; /* udp is watched by the loop */
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

/* The session's room settings, with the private room's keys copied. */
static int copy_room(struct lp_client_runner *r, const struct lp_client_cfg *c)
{
	r->scfg = *c;
	if (c->room_keys != NULL) {
		r->room_keys = *c->room_keys;
		r->scfg.room_keys = &r->room_keys;
		r->scfg.room = NULL;
		if (c->host_seed != NULL) {
			memcpy(r->host_seed, c->host_seed, sizeof(r->host_seed));
			r->scfg.host_seed = r->host_seed;
		}
		if (c->opener == NULL) {
			int rc = lp_room_opener_new(&r->room_keys, 0, &r->opener);

			if (rc < 0)
				return rc;
			r->scfg.opener = r->opener;
		}
		return 0;
	}
	if (lp_strlcpy_checked(r->room, sizeof(r->room), c->room) < 0)
		return LP_ERR_ROOM_LONG;
	r->scfg.room = r->room;
	return 0;
}
static void on_socket(struct lp_loop *l, intptr_t src, unsigned events, void *arg);
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
		 * likely name our own previous session the relay has not timed out;
		 * and not_admitted cannot mean a wrong invite any more (it admitted
		 * us): the relay's per-address limit, tripped by someone else behind
		 * our address, ends on its own. */
		own_stale = rej != NULL && r->ever_admitted &&
		            (rej->reason == LP_REJECT_DUPLICATE_MAC ||
		             rej->reason == LP_REJECT_GATEWAY_EXISTS ||
		             rej->reason == LP_REJECT_NOT_ADMITTED);
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
	lp_loop_timer_cancel(r->loop, &r->session_timer);
	if (r->watching)
		lp_loop_unwatch(r->loop, lp_udp_fd(r->udp));
	r->watching = false;
	r->want_write = false;
	lp_client_del(r->session);
	r->session = NULL;
	lp_udp_close(r->udp);
	r->udp = NULL;
	r->session_ended = false;
}

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
	rc = lp_client_new(r->quic, &r->scfg, &path, &runner_session_cbs, r, r->log, lp_now_ns(),
	                   &r->session);
	if (rc < 0) {
		lp_log(r->log, LP_LOG_ERROR, "client: cannot start a session to %s: %s", addr,
		       lp_strerror(rc));
		goto out;
	}
	rc = lp_loop_watch(r->loop, lp_udp_fd(r->udp), LP_LOOP_READ, on_socket, r);
	if (rc < 0) {
		lp_log(r->log, LP_LOG_ERROR, "client: cannot watch the UDP socket: %s",
		       lp_strerror(rc));
		goto out;
	}
	r->watching = true;
	runner_flush(r);
	runner_arm(r);
	return 0;
out:
	drop_session(r);
	return rc;
}

/*
 * A relay started with a development certificate makes a new one at every
 * restart and rewrites the file peers pin. After a certificate mismatch the
 * pinned file is read again; when its content changed, the context is
 * rebuilt from it and the next attempt starts at once with a fresh backoff.
 * Runs with no session left, so no session borrows the old context. The
 * file must stay readable after a privilege drop. Returns true when the
 * context was replaced.
 */
static bool reload_pin(struct lp_client_runner *r)
{
	struct lp_client_pin_sig sig;
	struct lp_quic_ctx *q = NULL;

	if (r->tls.pin_der_file == NULL)
		return false;
	if (lp_client_pin_sig_read(r->tls.pin_der_file, &sig) < 0) {
		lp_log(r->log, LP_LOG_WARN, "cannot read the pinned certificate %s again: %s",
		       r->tls.pin_der_file, strerror(errno));
		return false;
	}
	if (r->pin_sig.valid && sig.hash == r->pin_sig.hash && sig.len == r->pin_sig.len)
		return false;
	if (lp_quic_ctx_new_client(&r->tls, r->log, &q) < 0)
		return false; /* lib/quic logged why; the next mismatch tries again */
	lp_log(r->log, LP_LOG_INFO, "pinned certificate %s changed; reconnecting with it",
	       r->tls.pin_der_file);
	lp_quic_ctx_del(r->quic);
	r->quic = q;
	r->pin_sig = sig;
	return true;
}

static void schedule_retry(struct lp_client_runner *r, int err, bool at_once)
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
	if (at_once)
		lp_backoff_reset(&r->backoff);
	delay = at_once ? 0 : lp_backoff_next(&r->backoff, now);
	ev.type = LP_CLIENT_EV_RECONNECTING;
	ev.attempt = r->attempt + 1;
	ev.delay_ns = delay;
	snprintf(ev.text, sizeof(ev.text), "reconnecting in %.1f s",
	         (double)delay / (double)LP_NS_PER_SEC);
	if (lp_loop_timer_arm(r->loop, &r->retry_timer, now + delay) < 0) {
		r->stopped = true;
		ev.type = LP_CLIENT_EV_STOPPED;
		ev.err = LP_ERR_NOMEM;
		snprintf(ev.text, sizeof(ev.text), "not retrying: cannot arm the reconnect timer");
	}
	emit(r, NULL, &ev);
}

/* The session closed: drop it and plan the next attempt. */
static void session_finished(struct lp_client_runner *r)
{
	int err = r->end_err;

	drop_session(r);
	if (r->stopping)
		return;
	schedule_retry(r, err, err == LP_ERR_CERT && reload_pin(r));
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
		schedule_retry(r, rc, false);
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
			 * recovers); wait for room before producing more. */
			if (lp_loop_watch_mod(r->loop, lp_udp_fd(r->udp),
			                      LP_LOOP_READ | LP_LOOP_WRITE) == 0)
				r->want_write = true;
			break;
		}
		if (rc < 0)
			lp_log(r->log, LP_LOG_DEBUG, "client: UDP send failed: %s",
			       lp_strerror(rc));
	}
	if (r->cbs.writable != NULL)
		r->cbs.writable(r->user);
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
		lp_loop_timer_cancel(r->loop, &r->session_timer);
	else if (lp_loop_timer_arm(r->loop, &r->session_timer, exp) < 0)
		lp_log(r->log, LP_LOG_ERROR, "client: cannot arm the session timer");
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

/* The socket is readable (or writable, after a send found it full). */
static void on_socket(struct lp_loop *l, intptr_t src, unsigned events, void *arg)
{
	struct lp_client_runner *r = arg;
	int round, n;

	(void)l;
	if (r->session == NULL)
		return;
	if ((events & LP_LOOP_WRITE) && r->want_write) {
		r->want_write = false;
		if (lp_loop_watch_mod(r->loop, src, LP_LOOP_READ) < 0)
			r->want_write = true; /* keep waiting for writability */
	}
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
	if (r->cbs.frames_end != NULL)
		r->cbs.frames_end(r->user);
	if (!r->session_ended)
		runner_flush(r);
	runner_after_io(r);
}

/* ---- Public API ---------------------------------------------------------------- */

/* Copies the strings of the TLS settings so the context can be rebuilt. */
static int copy_tls(struct lp_client_runner *r, const struct lp_quic_client_cfg *tls)
{
	const char *src[3] = { tls->server_name, tls->pin_der_file, tls->ca_file };
	size_t i, len;

	r->tls = *tls;
	for (i = 0; i < LP_ARRAY_LEN(src); i++) {
		if (src[i] == NULL)
			continue;
		len = strlen(src[i]) + 1;
		r->tls_strings[i] = malloc(len);
		if (r->tls_strings[i] == NULL)
			return LP_ERR_NOMEM;
		memcpy(r->tls_strings[i], src[i], len);
	}
	r->tls.server_name = r->tls_strings[0];
	r->tls.pin_der_file = r->tls_strings[1];
	r->tls.ca_file = r->tls_strings[2];
	return 0;
}

int lp_client_runner_new(struct lp_loop *loop, const struct lp_client_runner_cfg *cfg,
                         const struct lp_client_cbs *cbs, void *user, const struct lp_logger *log,
                         struct lp_client_runner **out)
{
	struct lp_client_runner *r = NULL;
	struct lp_quic_ctx *quic = cfg != NULL ? cfg->quic : NULL;
	size_t i;
	int rc = LP_ERR_INVAL;

	if (out == NULL)
		goto out;
	*out = NULL;
	if (loop == NULL || cfg == NULL || cfg->relay == NULL || cfg->relay_count == 0 ||
	    cfg->relay_count > RUNNER_RELAY_MAX ||
	    (cfg->session.room == NULL && cfg->session.room_keys == NULL))
		goto out;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		rc = LP_ERR_NOMEM;
		goto out;
	}
	r->loop = loop;
	lp_loop_timer_init(&r->session_timer, on_expiry, r);
	lp_loop_timer_init(&r->retry_timer, on_retry, r);
	r->quic = quic;
	quic = NULL; /* the runner owns it now */
	r->log = log;
	if (cbs != NULL)
		r->cbs = *cbs;
	r->user = user;
	r->retry_permanent = cfg->retry_permanent;
	rc = copy_room(r, &cfg->session);
	if (rc < 0)
		goto out;
	if (cfg->session.software != NULL) {
		snprintf(r->software, sizeof(r->software), "%s", cfg->session.software);
		r->scfg.software = r->software;
	}
	rc = copy_tls(r, &cfg->tls);
	if (rc < 0)
		goto out;
	if (r->quic != NULL)
		r->pin_sig = cfg->pin_sig;
	else if ((rc = lp_client_tls_new(&r->tls, log, &r->quic, &r->pin_sig)) < 0)
		goto out;
	for (i = 0; i < cfg->relay_count; i++)
		r->relay[i] = cfg->relay[i];
	r->relay_count = cfg->relay_count;
	lp_backoff_init(&r->backoff, &cfg->backoff);
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
	lp_quic_ctx_del(quic);
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
	lp_loop_timer_cancel(r->loop, &r->retry_timer);
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
	size_t i;

	if (r == NULL)
		return;
	lp_loop_timer_cancel(r->loop, &r->retry_timer);
	drop_session(r);
	lp_quic_ctx_del(r->quic);
	lp_room_opener_del(r->opener);
	lp_room_keys_wipe(&r->room_keys);
	lp_room_wipe(r->host_seed, sizeof(r->host_seed));
	for (i = 0; i < LP_ARRAY_LEN(r->tls_strings); i++)
		free(r->tls_strings[i]);
	free(r->txbuf);
	free(r->rxbuf);
	free(r);
}
