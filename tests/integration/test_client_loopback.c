/*
 * test_client_loopback.c - lib/client-core against a tiny relay built from
 * lib/quic's server API in the same process, over real loopback UDP and
 * the real clock: hello/welcome/reject, frames both ways, budget refusals,
 * stats, disconnect, peer events, close reasons, and the runner's
 * reconnects on the event loop. The same session behaviour on an injected
 * clock, without sockets, is tests/unit/test_client_session.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lp_client.h"
#include "lp_loop.h"

#define MS LP_NS_PER_MS
#define RELAY_MSGS 64
#define RX_BATCH 8
#define RX_BUF 65536
#define EVENTS_MAX 64

static char cert_path[128];

/* TEST_DEBUG=1 in the environment prints events and the runner's log. */
LP_PRINTF(3, 0)
static void dbg_fn(void *user, enum lp_log_level level, const char *fmt, va_list ap)
{
	(void)user;
	fprintf(stderr, "LOG%d ", (int)level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}
static const struct lp_logger dbg_log = { .fn = dbg_fn, .level = LP_LOG_TRACE };

/* ---- The in-test relay ---------------------------------------------------- */

enum relay_mode { RELAY_WELCOME = 0, RELAY_REJECT, RELAY_SILENT };

struct relay {
	struct lp_quic_ctx *ctx;
	bool owns_ctx;
	struct lp_quic_server *srv;
	struct lp_udp *udp;
	struct sockaddr_storage addr;
	struct lp_quic_conn *conn; /* the latest accepted connection */
	unsigned accepted;
	struct lp_ctrl_decoder dec;
	struct lp_ctrl_msg msgs[RELAY_MSGS];
	size_t nmsgs;
	enum relay_mode mode;
	struct lp_ctrl_welcome welcome;
	struct lp_ctrl_reject reject;
	bool echo;
	unsigned dgrams;
	uint8_t last_dgram[2048];
	size_t last_len;
	bool conn_closed;
	int close_err;
	uint64_t close_app;
	size_t msgs_at_close;
	uint8_t *rxbuf;
	struct lp_udp_rx rx[RX_BATCH];
	uint8_t *txbuf;
	/* runner test: the relay on the loop */
	struct lp_loop *loop;
	struct lp_loop_timer timer;
};

static void relay_send(struct relay *r, const struct lp_ctrl_msg *m)
{
	uint8_t buf[4096];
	ssize_t n = lp_ctrl_encode(m, buf, sizeof(buf));

	assert_true(n > 0);
	assert_non_null(r->conn);
	assert_int_equal(lp_quic_conn_stream_send(r->conn, buf, (size_t)n), 0);
}

static void relay_on_stream(struct lp_quic_conn *c, const uint8_t *data, size_t len, bool fin,
                            void *user)
{
	struct relay *r = user;
	struct lp_ctrl_msg m;

	(void)fin;
	if (c != r->conn)
		return;
	while (len > 0) {
		ssize_t n = lp_ctrl_decoder_feed(&r->dec, data, len, &m);

		assert_true(n >= 0);
		data += n;
		len -= (size_t)n;
		if (m.type == LP_CTRL_NONE)
			continue;
		if (r->nmsgs < RELAY_MSGS)
			r->msgs[r->nmsgs++] = m;
		if (m.type != LP_CTRL_HELLO)
			continue;
		if (r->mode == RELAY_WELCOME) {
			struct lp_ctrl_msg w = { .type = LP_CTRL_WELCOME };

			w.u.welcome = r->welcome;
			relay_send(r, &w);
		} else if (r->mode == RELAY_REJECT) {
			struct lp_ctrl_msg j = { .type = LP_CTRL_REJECT };

			j.u.reject = r->reject;
			relay_send(r, &j);
			lp_quic_conn_close(c, LP_QUIC_APP_REJECTED, "rejected");
		}
	}
}

static void relay_on_datagram(struct lp_quic_conn *c, const uint8_t *data, size_t len, void *user)
{
	struct relay *r = user;

	r->dgrams++;
	if (len <= sizeof(r->last_dgram)) {
		memcpy(r->last_dgram, data, len);
		r->last_len = len;
	}
	if (r->echo)
		assert_int_equal(lp_quic_conn_datagram_send(c, data, len), 0);
}

static void relay_on_closed(struct lp_quic_conn *c, int err, uint64_t app_code, const char *reason,
                            void *user)
{
	struct relay *r = user;

	(void)reason;
	if (c != r->conn)
		return;
	r->conn_closed = true;
	r->close_err = err;
	r->close_app = app_code;
	r->msgs_at_close = r->nmsgs;
	r->conn = NULL;
}

static const struct lp_quic_conn_cbs relay_conn_cbs = {
	.stream_data = relay_on_stream,
	.datagram = relay_on_datagram,
	.closed = relay_on_closed,
};

static int relay_accept(struct lp_quic_server *s, struct lp_quic_conn *c, void *user)
{
	struct relay *r = user;

	(void)s;
	lp_quic_conn_set_user(c, &relay_conn_cbs, r);
	r->conn = c;
	r->accepted++;
	r->conn_closed = false;
	r->nmsgs = 0;
	lp_ctrl_decoder_init(&r->dec);
	return 0;
}

static void relay_write_one(struct lp_quic_conn *c, void *arg)
{
	struct relay *r = arg;
	struct lp_quic_path path;
	size_t gso = 0;
	ssize_t n;

	while ((n = lp_quic_conn_write(c, r->txbuf, LP_QUIC_WRITE_BUF_MIN, &gso, &path,
	                               lp_now_ns())) > 0)
		assert_int_equal(lp_udp_send(r->udp, &path, r->txbuf, (size_t)n, gso), 0);
}

static void relay_service(struct relay *r)
{
	int n, i;

	while ((n = lp_udp_recv(r->udp, r->rx, RX_BATCH)) > 0) {
		for (i = 0; i < n; i++) {
			size_t seg = r->rx[i].segment_size ? r->rx[i].segment_size : r->rx[i].len;
			size_t off;

			for (off = 0; seg > 0 && off < r->rx[i].len; off += seg) {
				size_t len = r->rx[i].len - off < seg ? r->rx[i].len - off : seg;

				assert_int_equal(lp_quic_server_read(r->srv, &r->rx[i].path,
				                                     r->rx[i].data + off, len,
				                                     lp_now_ns(), NULL),
				                 0);
			}
		}
		if (n < RX_BATCH)
			break;
	}
	if (lp_now_ns() >= lp_quic_server_expiry(r->srv))
		lp_quic_server_handle_expiry(r->srv, lp_now_ns());
	lp_quic_server_foreach_pending(r->srv, relay_write_one, r);
}

static void relay_rearm(struct relay *r)
{
	uint64_t exp = lp_quic_server_expiry(r->srv);

	if (exp == UINT64_MAX)
		lp_loop_timer_cancel(r->loop, &r->timer);
	else
		assert_int_equal(lp_loop_timer_arm(r->loop, &r->timer, exp), 0);
}

static void relay_loop_fd(struct lp_loop *l, intptr_t fd, unsigned events, void *arg)
{
	(void)l;
	(void)fd;
	(void)events;
	relay_service(arg);
	relay_rearm(arg);
}

static void relay_loop_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	(void)l;
	(void)t;
	relay_service(arg);
	relay_rearm(arg);
}

/* port 0: any; otherwise that loopback port. ctx: reuse a TLS context (and so
 * its certificate) for a restart; NULL: a new one. */
static struct relay *relay_new_ctx(uint16_t port, struct lp_loop *loop, struct lp_quic_ctx *ctx)
{
	struct lp_quic_server_cfg cfg = { .dev_cert_names = "localhost,127.0.0.1",
		                          .dev_cert_der_out = cert_path,
		                          .idle_timeout_ns = 5000 * MS };
	/* lib/quic keeps this pointer: static storage. */
	static const struct lp_quic_server_cbs cbs = { .accept = relay_accept };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct relay *r = calloc(1, sizeof(*r));
	int i;

	assert_non_null(r);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->owns_ctx = true;
	if (ctx != NULL)
		r->ctx = ctx;
	else
		assert_int_equal(lp_quic_ctx_new_server(&cfg, NULL, &r->ctx), 0);
	assert_int_equal(lp_quic_server_new(r->ctx, &cbs, r, &r->srv), 0);
	assert_int_equal(lp_udp_open((const struct sockaddr *)&a, &r->udp), 0);
	assert_int_equal(lp_udp_local(r->udp, &r->addr), 0);
	r->rxbuf = malloc((size_t)RX_BATCH * RX_BUF);
	r->txbuf = malloc(LP_QUIC_WRITE_BUF_MIN);
	assert_non_null(r->rxbuf);
	assert_non_null(r->txbuf);
	for (i = 0; i < RX_BATCH; i++) {
		r->rx[i].data = r->rxbuf + (size_t)i * RX_BUF;
		r->rx[i].cap = RX_BUF;
	}
	r->echo = true;
	r->welcome.version = LP_CTRL_VERSION;
	r->welcome.mode = LP_CTRL_MODE_RELAY;
	r->welcome.peer_id = 3;
	r->welcome.mtu = 1280;
	r->welcome.gateway_present = true;
	r->loop = loop;
	if (loop != NULL) {
		lp_loop_timer_init(&r->timer, relay_loop_timer, r);
		assert_int_equal(
		        lp_loop_watch(loop, (int)lp_udp_fd(r->udp), LP_LOOP_READ, relay_loop_fd, r),
		        0);
	}
	return r;
}

static struct relay *relay_new(uint16_t port, struct lp_loop *loop)
{
	return relay_new_ctx(port, loop, NULL);
}

static void relay_del(struct relay *r)
{
	if (r == NULL)
		return;
	if (r->loop != NULL) {
		lp_loop_unwatch(r->loop, (int)lp_udp_fd(r->udp));
		lp_loop_timer_cancel(r->loop, &r->timer);
	}
	lp_quic_server_del(r->srv);
	if (r->owns_ctx)
		lp_quic_ctx_del(r->ctx);
	lp_udp_close(r->udp);
	free(r->rxbuf);
	free(r->txbuf);
	free(r);
}

static uint16_t relay_port(const struct relay *r)
{
	return ntohs(((const struct sockaddr_in *)&r->addr)->sin_port);
}

/* ---- The client side -------------------------------------------------------- */

struct ev_rec {
	enum lp_client_event_type type;
	int err;
	bool permanent, was_admitted, peer_known, gateway_present;
	struct lp_client_peer peer;
	char peer_reason[LP_CTRL_TEXT_MAX + 1];
	struct lp_ctrl_welcome welcome;
	struct lp_ctrl_reject reject;
	uint64_t delay_ns;
	char text[LP_CLIENT_TEXT_MAX];
};

struct env {
	struct relay *relay;
	struct lp_quic_ctx *cctx;
	struct lp_udp *cudp;
	struct lp_client *s;
	struct ev_rec ev[EVENTS_MAX];
	size_t nev;
	unsigned frames;
	uint8_t last_frame[2048];
	size_t last_frame_len;
	uint8_t *rxbuf;
	struct lp_udp_rx rx[RX_BATCH];
	uint8_t *txbuf;
	unsigned closed_reads; /* reads/expiries that reported LP_ERR_CLOSED */
};

static void cli_frame(struct lp_client *s, const uint8_t *frame, size_t len, void *user)
{
	struct env *e = user;

	(void)s;
	e->frames++;
	assert_true(len <= sizeof(e->last_frame));
	memcpy(e->last_frame, frame, len);
	e->last_frame_len = len;
}

static void cli_event(struct lp_client *s, const struct lp_client_event *ev, void *user)
{
	struct env *e = user;
	struct ev_rec *r;

	(void)s;
	assert_true(e->nev < EVENTS_MAX);
	r = &e->ev[e->nev++];
	memset(r, 0, sizeof(*r));
	r->type = ev->type;
	r->err = ev->err;
	r->permanent = ev->permanent;
	r->was_admitted = ev->was_admitted;
	r->peer_known = ev->peer_known;
	r->gateway_present = ev->gateway_present;
	r->peer = ev->peer;
	r->delay_ns = ev->delay_ns;
	assert_non_null(ev->peer_reason);
	snprintf(r->peer_reason, sizeof(r->peer_reason), "%s", ev->peer_reason);
	if (ev->welcome != NULL)
		r->welcome = *ev->welcome;
	if (ev->reject != NULL)
		r->reject = *ev->reject;
	snprintf(r->text, sizeof(r->text), "%s", ev->text);
	if (getenv("TEST_DEBUG"))
		fprintf(stderr, "EV %d %s\n", ev->type, ev->text);
}

static const struct ev_rec *find_ev(const struct env *e, enum lp_client_event_type t, size_t nth)
{
	size_t i;

	for (i = 0; i < e->nev; i++) {
		if (e->ev[i].type == t && nth-- == 0)
			return &e->ev[i];
	}
	return NULL;
}

static struct lp_quic_client_cfg client_tls_cfg(const char *pin)
{
	struct lp_quic_client_cfg cfg = { .server_name = "localhost",
		                          .pin_der_file = pin,
		                          .idle_timeout_ns = 1500 * MS,
		                          .handshake_timeout_ns = 400 * MS };

	return cfg;
}

static struct lp_quic_ctx *client_ctx(const char *pin)
{
	struct lp_quic_client_cfg cfg = client_tls_cfg(pin);
	struct lp_quic_ctx *ctx = NULL;

	assert_int_equal(lp_quic_ctx_new_client(&cfg, NULL, &ctx), 0);
	return ctx;
}

static struct lp_client_cfg base_cfg(void)
{
	struct lp_client_cfg cfg = { .role = LP_ROLE_CLIENT,
		                     .room = "ROOM1",
		                     .software = "softlan-vpn test",
		                     .stats_interval_ns = UINT64_MAX };

	assert_int_equal(lp_proto_mac_parse("02:11:22:33:44:55", &cfg.mac), 0);
	return cfg;
}

static void env_start(struct env *e, const struct lp_client_cfg *cfg,
                      const struct sockaddr_storage *remote)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct lp_client_cbs cbs = { .frame = cli_frame, .event = cli_event };
	struct lp_quic_path path;
	int i;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	e->cctx = client_ctx(cert_path);
	assert_int_equal(lp_udp_open((const struct sockaddr *)&a, &e->cudp), 0);
	memset(&path, 0, sizeof(path));
	assert_int_equal(lp_udp_local(e->cudp, &path.local), 0);
	path.remote = remote != NULL ? *remote : e->relay->addr;
	e->rxbuf = malloc((size_t)RX_BATCH * RX_BUF);
	e->txbuf = malloc(LP_QUIC_WRITE_BUF_MIN);
	assert_non_null(e->rxbuf);
	assert_non_null(e->txbuf);
	for (i = 0; i < RX_BATCH; i++) {
		e->rx[i].data = e->rxbuf + (size_t)i * RX_BUF;
		e->rx[i].cap = RX_BUF;
	}
	assert_int_equal(lp_client_new(e->cctx, cfg, &path, &cbs, e, NULL, lp_now_ns(), &e->s), 0);
}

static struct env *env_new(const struct lp_client_cfg *cfg)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->relay = relay_new(0, NULL);
	if (cfg != NULL)
		env_start(e, cfg, NULL);
	return e;
}

static void env_del(struct env *e)
{
	lp_client_del(e->s);
	lp_udp_close(e->cudp);
	lp_quic_ctx_del(e->cctx);
	relay_del(e->relay);
	free(e->rxbuf);
	free(e->txbuf);
	free(e);
}

static void client_service(struct env *e)
{
	struct lp_quic_path path;
	size_t gso = 0;
	ssize_t w;
	int n, i;

	while ((n = lp_udp_recv(e->cudp, e->rx, RX_BATCH)) > 0) {
		for (i = 0; i < n; i++) {
			size_t seg = e->rx[i].segment_size ? e->rx[i].segment_size : e->rx[i].len;
			size_t off;

			for (off = 0; seg > 0 && off < e->rx[i].len; off += seg) {
				size_t len = e->rx[i].len - off < seg ? e->rx[i].len - off : seg;
				if (lp_client_read(e->s, &e->rx[i].path, e->rx[i].data + off, len,
				                   lp_now_ns()) < 0)
					e->closed_reads++;
			}
		}
		if (n < RX_BATCH)
			break;
	}
	if (lp_now_ns() >= lp_client_expiry(e->s) && lp_client_handle_expiry(e->s, lp_now_ns()) < 0)
		e->closed_reads++;
	while ((w = lp_client_write(e->s, e->txbuf, LP_QUIC_WRITE_BUF_MIN, &gso, &path,
	                            lp_now_ns())) > 0)
		assert_int_equal(lp_udp_send(e->cudp, &path, e->txbuf, (size_t)w, gso), 0);
}

typedef bool (*cond_fn)(struct env *e);

/* Runs both ends until cond holds (true) or limit passes (false). */
static bool pump(struct env *e, uint64_t limit, cond_fn cond)
{
	uint64_t end = lp_now_ns() + limit;

	for (;;) {
		struct pollfd p[2] = { { .fd = (int)lp_udp_fd(e->cudp), .events = POLLIN },
			               { .fd = (int)lp_udp_fd(e->relay->udp), .events = POLLIN } };

		client_service(e);
		relay_service(e->relay);
		client_service(e);
		if (cond != NULL && cond(e))
			return true;
		if (lp_now_ns() >= end)
			return false;
		(void)poll(p, 2, 2);
	}
}

static bool is_admitted(struct env *e)
{
	return lp_client_state(e->s) == LP_CLIENT_ADMITTED;
}

static bool is_closed(struct env *e)
{
	return lp_client_state(e->s) == LP_CLIENT_CLOSED;
}

static bool relay_got_hello(struct env *e)
{
	return e->relay->nmsgs >= 1;
}

static bool relay_closed(struct env *e)
{
	return e->relay->conn_closed;
}

static bool relay_got_3_dgrams(struct env *e)
{
	return e->relay->dgrams >= 3;
}

static unsigned want_frames;
static bool got_frames(struct env *e)
{
	return e->frames >= want_frames;
}

static size_t want_events;
static bool got_events(struct env *e)
{
	return e->nev >= want_events;
}

static void make_frame(uint8_t *f, size_t len, const char *dst, uint8_t fill)
{
	struct lp_mac d, s;

	assert_int_equal(lp_proto_mac_parse(dst, &d), 0);
	assert_int_equal(lp_proto_mac_parse("02:11:22:33:44:55", &s), 0);
	memset(f, fill, len);
	memcpy(f, d.b, 6);
	memcpy(f + 6, s.b, 6);
	f[12] = 0x08;
	f[13] = 0x00;
}

/* ---- Tests -------------------------------------------------------------------- */

static void test_hello_welcome_frames(void **state)
{
	struct lp_client_cfg cfg = base_cfg();
	struct env *e = env_new(&cfg);
	const struct lp_ctrl_hello *h;
	const struct ev_rec *ev;
	struct lp_obs_diag d;
	struct lp_quic_conn_info info;
	uint8_t f[2048], bad[32];
	size_t budget;

	(void)state;
	/* Not admitted yet: refused and counted. */
	make_frame(f, 60, "02:aa:bb:cc:dd:ee", 0x11);
	assert_int_equal(lp_client_send_frame(e->s, f, 60), LP_ERR_STATE);
	assert_int_equal(lp_client_counters(e->s)->drops[LP_DROP_NOT_READY], 1);
	assert_null(lp_client_welcome(e->s));

	assert_true(pump(e, 3000 * MS, is_admitted));
	/* The hello, field by field. */
	assert_true(e->relay->nmsgs >= 1);
	assert_int_equal(e->relay->msgs[0].type, LP_CTRL_HELLO);
	h = &e->relay->msgs[0].u.hello;
	assert_int_equal(h->version, LP_CTRL_VERSION);
	assert_int_equal(h->role, LP_ROLE_CLIENT);
	assert_string_equal(h->room, "ROOM1");
	assert_memory_equal(h->mac.b, cfg.mac.b, 6);
	assert_string_equal(h->software, "softlan-vpn test");
	assert_int_equal(h->datagram_budget, lp_client_hello_budget(e->s));
	/* PMTUD ran before the hello: the budget carries more than a 1200-byte path. */
	lp_client_conn_info(e->s, &info);
	assert_true(info.pmtud_done);
	assert_true(h->datagram_budget > 1200);
	assert_true(h->datagram_budget <= LP_QUIC_MAX_UDP_PAYLOAD);

	/* The welcome. */
	ev = find_ev(e, LP_CLIENT_EV_CONNECTED, 0);
	assert_non_null(ev);
	ev = find_ev(e, LP_CLIENT_EV_WELCOME, 0);
	assert_non_null(ev);
	assert_int_equal(ev->welcome.peer_id, 3);
	assert_int_equal(ev->welcome.mtu, 1280);
	assert_true(ev->gateway_present);
	assert_string_equal(ev->text,
	                    "admitted to room ROOM1 as peer 3, MTU 1280, LAN gateway present");
	assert_non_null(lp_client_welcome(e->s));
	assert_int_equal(lp_client_welcome(e->s)->peer_id, 3);
	assert_true(lp_client_gateway_present(e->s));
	memset(&d, 0, sizeof(d));
	lp_client_fill_diag(e->s, &d);
	assert_true(d.relay_connected);
	assert_true(d.gateway_present);
	assert_int_equal(d.mtu, 1280);
	assert_int_equal(d.datagram_budget, lp_client_datagram_budget(e->s));
	assert_int_equal(d.counters.drops[LP_DROP_NOT_READY], 1);

	/* A unicast frame goes out and comes back (the relay echoes). */
	assert_int_equal(lp_client_send_frame(e->s, f, 60), 0);
	want_frames = 1;
	assert_true(pump(e, 2000 * MS, got_frames));
	assert_int_equal(e->relay->dgrams, 1);
	assert_int_equal(e->relay->last_len, 64);
	assert_int_equal(e->relay->last_dgram[0], (LP_PROTO_VERSION << 4) | LP_PROTO_TYPE_ETHERNET);
	assert_int_equal(lp_get_u16(e->relay->last_dgram + 2), 60);
	assert_memory_equal(e->relay->last_dgram + 4, f, 60);
	assert_int_equal(e->last_frame_len, 60);
	assert_memory_equal(e->last_frame, f, 60);

	/* A broadcast frame is counted as such on receive. */
	make_frame(f, 100, "ff:ff:ff:ff:ff:ff", 0x22);
	assert_int_equal(lp_client_send_frame(e->s, f, 100), 0);
	want_frames = 2;
	assert_true(pump(e, 2000 * MS, got_frames));
	assert_int_equal(lp_client_counters(e->s)->frames_tx, 2);
	assert_int_equal(lp_client_counters(e->s)->datagrams_tx, 2);
	assert_int_equal(lp_client_counters(e->s)->bytes_tx, 160);
	assert_int_equal(lp_client_counters(e->s)->frames_rx, 2);
	assert_int_equal(lp_client_counters(e->s)->datagrams_rx, 2);
	assert_int_equal(lp_client_counters(e->s)->bytes_rx, 160);
	assert_int_equal(lp_client_counters(e->s)->broadcast_rx, 1);

	/* Budget: a frame whose datagram is exactly the budget passes, one byte more is refused. */
	budget = lp_client_datagram_budget(e->s);
	assert_true(budget - 4 <= sizeof(f));
	make_frame(f, budget - 3, "02:aa:bb:cc:dd:ee", 0x33);
	assert_int_equal(lp_client_send_frame(e->s, f, budget - 3), LP_ERR_TOO_BIG);
	assert_int_equal(lp_client_counters(e->s)->drops[LP_DROP_TOO_BIG], 1);
	assert_int_equal(lp_client_counters(e->s)->frames_tx, 2);
	/* The relay's own budget towards us may still be smaller: no echo here. */
	e->relay->echo = false;
	assert_int_equal(lp_client_send_frame(e->s, f, budget - 4), 0);
	assert_true(pump(e, 2000 * MS, relay_got_3_dgrams));
	assert_int_equal(e->relay->last_len, budget);
	assert_memory_equal(e->relay->last_dgram + 4, f, budget - 4);
	assert_int_equal(lp_client_counters(e->s)->frames_tx, 3);
	assert_int_equal(lp_client_counters(e->s)->bytes_tx, 160 + budget - 4);
	/* Runts are refused. */
	assert_int_equal(lp_client_send_frame(e->s, f, 13), LP_ERR_RUNT);
	assert_int_equal(lp_client_counters(e->s)->drops[LP_DROP_MALFORMED], 1);

	/* Malformed datagrams from the relay are dropped and counted. */
	memset(bad, 0, sizeof(bad));
	bad[0] = 0x21; /* version 2 */
	lp_put_u16(bad + 2, 28);
	assert_int_equal(lp_quic_conn_datagram_send(e->relay->conn, bad, sizeof(bad)), 0);
	bad[0] = 0x11;
	lp_put_u16(bad + 2, 10); /* valid overlay but an Ethernet runt */
	assert_int_equal(lp_quic_conn_datagram_send(e->relay->conn, bad, 14), 0);
	pump(e, 300 * MS, NULL);
	assert_int_equal(lp_client_counters(e->s)->drops[LP_DROP_MALFORMED], 3);
	assert_int_equal(lp_client_counters(e->s)->frames_rx, 2);
	assert_int_equal(lp_client_counters(e->s)->datagrams_rx, 4);
	assert_int_equal(e->frames, 2);
	env_del(e);
}

static void test_reject(void **state)
{
	struct lp_client_cfg cfg = base_cfg();
	struct env *e = env_new(NULL);
	const struct ev_rec *ev;
	struct lp_obs_diag d;

	(void)state;
	e->relay->mode = RELAY_REJECT;
	e->relay->reject.reason = LP_REJECT_DUPLICATE_MAC;
	snprintf(e->relay->reject.message, sizeof(e->relay->reject.message),
	         "MAC 02:11:22:33:44:55 is already in room ROOM1");
	env_start(e, &cfg, NULL);
	assert_true(pump(e, 3000 * MS, is_closed));
	ev = find_ev(e, LP_CLIENT_EV_REJECTED, 0);
	assert_non_null(ev);
	assert_int_equal(ev->reject.reason, LP_REJECT_DUPLICATE_MAC);
	assert_true(ev->permanent);
	assert_int_equal(ev->err, LP_ERR_REJECTED);
	assert_string_equal(ev->text, "rejected by relay: duplicate_mac: MAC 02:11:22:33:44:55 "
	                              "is already in room ROOM1");
	ev = find_ev(e, LP_CLIENT_EV_CLOSED, 0);
	assert_non_null(ev);
	assert_int_equal(ev->err, LP_ERR_REJECTED);
	assert_false(ev->was_admitted);
	assert_int_equal(ev->reject.reason, LP_REJECT_DUPLICATE_MAC);
	assert_int_equal(lp_client_close_err(e->s), LP_ERR_REJECTED);
	assert_non_null(strstr(lp_client_close_text(e->s), "duplicate_mac"));
	assert_non_null(lp_client_reject(e->s));
	assert_string_equal(lp_client_reject(e->s)->message, e->relay->reject.message);
	assert_null(lp_client_welcome(e->s));
	memset(&d, 0, sizeof(d));
	lp_client_fill_diag(e->s, &d);
	assert_false(d.relay_connected);
	assert_int_equal(d.mtu, 0);
	/* Retryable reasons are not permanent. */
	assert_false(lp_client_reject_is_permanent(LP_REJECT_ROOM_FULL));
	assert_false(lp_client_reject_is_permanent(LP_REJECT_SHUTTING_DOWN));
	assert_true(lp_client_reject_is_permanent(LP_REJECT_GATEWAY_EXISTS));
	assert_true(lp_client_reject_is_permanent(LP_REJECT_BAD_ROOM));
	env_del(e);
}

static bool got_stats(struct env *e)
{
	size_t i;

	for (i = 0; i < e->relay->nmsgs; i++) {
		if (e->relay->msgs[i].type == LP_CTRL_STATS)
			return true;
	}
	return false;
}

static void test_stats(void **state)
{
	struct lp_client_cfg cfg = base_cfg();
	struct env *e;
	const struct lp_counters *c = NULL;
	uint8_t f[2048];
	uint64_t t0;
	size_t i;

	(void)state;
	cfg.stats_interval_ns = 300 * MS;
	e = env_new(&cfg);
	e->relay->echo = false;
	assert_true(pump(e, 3000 * MS, is_admitted));
	t0 = lp_now_ns();
	make_frame(f, sizeof(f), "02:aa:bb:cc:dd:ee", 0);
	assert_int_equal(lp_client_send_frame(e->s, f, 64), 0);
	assert_int_equal(lp_client_send_frame(e->s, f, 64), 0);
	assert_int_equal(lp_client_send_frame(e->s, f, 2000), LP_ERR_TOO_BIG);
	assert_true(pump(e, 2000 * MS, got_stats));
	/* Not before the interval. */
	assert_true(lp_now_ns() - t0 >= 200 * MS);
	for (i = 0; i < e->relay->nmsgs; i++) {
		if (e->relay->msgs[i].type == LP_CTRL_STATS)
			c = &e->relay->msgs[i].u.stats.counters;
	}
	assert_non_null(c);
	assert_int_equal(c->frames_tx, 2);
	assert_int_equal(c->datagrams_tx, 2);
	assert_int_equal(c->bytes_tx, 128);
	assert_int_equal(c->frames_rx, 0);
	assert_int_equal(c->drops[LP_DROP_TOO_BIG], 1);
	assert_int_equal(lp_obs_drops_total(c), 1);
	env_del(e);
}

static void test_disconnect(void **state)
{
	struct lp_client_cfg cfg = base_cfg();
	struct env *e = env_new(&cfg);
	const struct lp_ctrl_msg *last;

	(void)state;
	assert_true(pump(e, 3000 * MS, is_admitted));
	assert_int_equal(lp_client_disconnect(e->s, "user quit", lp_now_ns()), 0);
	assert_int_equal(lp_client_state(e->s), LP_CLIENT_CLOSING);
	/* Idempotent. */
	assert_int_equal(lp_client_disconnect(e->s, "again", lp_now_ns()), 0);
	assert_int_equal(lp_client_send_frame(e->s, (const uint8_t *)"0123456789abcdef", 16),
	                 LP_ERR_STATE);
	assert_true(pump(e, 2000 * MS, relay_closed));
	/* The DISCONNECT arrived before the connection closed, with our reason. */
	assert_int_equal(e->relay->msgs_at_close, 2);
	last = &e->relay->msgs[1];
	assert_int_equal(last->type, LP_CTRL_DISCONNECT);
	assert_string_equal(last->u.disconnect.reason, "user quit");
	assert_int_equal(e->relay->close_err, LP_OK);
	assert_int_equal(e->relay->close_app, LP_QUIC_APP_NO_ERROR);
	pump(e, 3000 * MS, is_closed);
	assert_int_equal(lp_client_state(e->s), LP_CLIENT_CLOSED);
	assert_int_equal(lp_client_close_err(e->s), LP_OK);
	assert_string_equal(lp_client_close_text(e->s), "disconnected (user quit)");
	env_del(e);
}

/* Before the welcome: waiting for admission, and still in the handshake. */
static void test_disconnect_early(void **state)
{
	struct lp_client_cfg cfg = base_cfg();
	struct env *e = env_new(NULL);
	const struct ev_rec *ev;

	(void)state;
	e->relay->mode = RELAY_SILENT;
	env_start(e, &cfg, NULL);
	assert_true(pump(e, 3000 * MS, relay_got_hello));
	assert_int_equal(lp_client_state(e->s), LP_CLIENT_HELLO_SENT);
	assert_int_equal(lp_client_disconnect(e->s, "cancelled", lp_now_ns()), 0);
	assert_true(pump(e, 2000 * MS, relay_closed));
	assert_int_equal(e->relay->msgs_at_close, 2);
	assert_int_equal(e->relay->msgs[1].type, LP_CTRL_DISCONNECT);
	assert_string_equal(e->relay->msgs[1].u.disconnect.reason, "cancelled");
	assert_true(pump(e, 3000 * MS, is_closed));
	assert_null(find_ev(e, LP_CLIENT_EV_WELCOME, 0));
	lp_client_del(e->s);
	e->s = NULL;
	lp_udp_close(e->cudp);
	e->cudp = NULL;
	lp_quic_ctx_del(e->cctx);
	free(e->rxbuf);
	free(e->txbuf);

	/* Still connecting: closes at once, nothing reaches the relay's control stream. */
	e->nev = 0;
	e->relay->nmsgs = 0;
	env_start(e, &cfg, NULL);
	assert_int_equal(lp_client_disconnect(e->s, "never mind", lp_now_ns()), 0);
	assert_int_equal(lp_client_state(e->s), LP_CLIENT_CLOSING);
	assert_true(pump(e, 3000 * MS, is_closed));
	ev = find_ev(e, LP_CLIENT_EV_CLOSED, 0);
	assert_non_null(ev);
	assert_int_equal(ev->err, LP_OK);
	assert_string_equal(ev->text, "disconnected (never mind)");
	assert_int_equal(e->relay->nmsgs, 0);
	env_del(e);
}

static void send_peer(struct env *e, enum lp_ctrl_type t, uint32_t id, enum lp_role role,
                      const char *mac, const char *reason)
{
	struct lp_ctrl_msg m = { .type = t };

	m.u.peer.peer_id = id;
	m.u.peer.role = role;
	assert_int_equal(lp_proto_mac_parse(mac, &m.u.peer.mac), 0);
	snprintf(m.u.peer.reason, sizeof(m.u.peer.reason), "%s", reason);
	relay_send(e->relay, &m);
}

static void test_peer_events(void **state)
{
	struct lp_client_cfg cfg = base_cfg();
	struct env *e = env_new(NULL);
	const struct ev_rec *ev;
	struct lp_client_peer p;
	struct lp_obs_diag d;

	(void)state;
	e->relay->welcome.gateway_present = false;
	env_start(e, &cfg, NULL);
	assert_true(pump(e, 3000 * MS, is_admitted));
	assert_false(lp_client_gateway_present(e->s));
	want_events = e->nev + 2;
	send_peer(e, LP_CTRL_PEER_JOINED, 7, LP_ROLE_GATEWAY, "00:1b:21:aa:bb:cc", "");
	send_peer(e, LP_CTRL_PEER_JOINED, 9, LP_ROLE_CLIENT, "02:00:00:00:00:09", "");
	assert_true(pump(e, 2000 * MS, got_events));
	ev = find_ev(e, LP_CLIENT_EV_PEER_JOINED, 0);
	assert_non_null(ev);
	assert_int_equal(ev->peer.peer_id, 7);
	assert_int_equal(ev->peer.role, LP_ROLE_GATEWAY);
	assert_true(ev->gateway_present);
	assert_string_equal(ev->text, "LAN gateway joined (peer 7)");
	ev = find_ev(e, LP_CLIENT_EV_PEER_JOINED, 1);
	assert_non_null(ev);
	assert_string_equal(ev->text, "client 02:00:00:00:00:09 joined (peer 9)");
	assert_true(lp_client_gateway_present(e->s));
	assert_int_equal(lp_client_peer_count(e->s), 2);
	assert_int_equal(lp_client_peer_lookup(e->s, 7, &p), 0);
	assert_int_equal(p.role, LP_ROLE_GATEWAY);
	assert_int_equal(p.mac.b[5], 0xcc);
	assert_int_equal(lp_client_peer_lookup(e->s, 8, &p), LP_ERR_NOT_FOUND);

	want_events = e->nev + 3;
	send_peer(e, LP_CTRL_PEER_LEFT, 7, LP_ROLE_GATEWAY, "00:1b:21:aa:bb:cc", "shutdown");
	send_peer(e, LP_CTRL_PEER_LEFT, 9, LP_ROLE_CLIENT, "02:00:00:00:00:09", "");
	send_peer(e, LP_CTRL_PEER_LEFT, 11, LP_ROLE_CLIENT, "02:00:00:00:00:0b", "idle timeout");
	assert_true(pump(e, 2000 * MS, got_events));
	ev = find_ev(e, LP_CLIENT_EV_PEER_LEFT, 0);
	assert_non_null(ev);
	assert_string_equal(ev->text, "LAN gateway left (shutdown)");
	assert_string_equal(ev->peer_reason, "shutdown");
	assert_true(ev->peer_known);
	assert_false(ev->gateway_present);
	ev = find_ev(e, LP_CLIENT_EV_PEER_LEFT, 1);
	assert_non_null(ev);
	assert_string_equal(ev->text, "client 02:00:00:00:00:09 left");
	assert_true(ev->peer_known);
	ev = find_ev(e, LP_CLIENT_EV_PEER_LEFT, 2);
	assert_non_null(ev);
	assert_false(ev->peer_known);
	assert_string_equal(ev->text, "client 02:00:00:00:00:0b left (idle timeout)");
	assert_false(lp_client_gateway_present(e->s));
	assert_int_equal(lp_client_peer_count(e->s), 0);
	memset(&d, 0, sizeof(d));
	lp_client_fill_diag(e->s, &d);
	assert_false(d.gateway_present);
	assert_true(d.relay_connected);
	env_del(e);
}

/* A welcome whose MTU the path cannot carry ends the session with a clear error. */
static void test_welcome_mtu_too_big(void **state)
{
	struct lp_client_cfg cfg = base_cfg();
	struct env *e = env_new(NULL);
	const struct ev_rec *ev;

	(void)state;
	e->relay->welcome.mtu = 9000;
	env_start(e, &cfg, NULL);
	assert_true(pump(e, 3000 * MS, is_closed));
	assert_null(find_ev(e, LP_CLIENT_EV_WELCOME, 0));
	ev = find_ev(e, LP_CLIENT_EV_CLOSED, 0);
	assert_non_null(ev);
	assert_int_equal(ev->err, LP_ERR_BUDGET_SMALL);
	assert_non_null(strstr(ev->text, "room MTU 9000 needs a datagram budget of 9018 bytes"));
	env_del(e);
}

/* The relay presents another certificate than the pinned one. */
static void test_cert_mismatch(void **state)
{
	struct lp_client_cfg cfg = base_cfg();
	struct env *e = env_new(NULL);
	struct relay *other;
	const struct ev_rec *ev;

	(void)state;
	env_start(e, &cfg, NULL); /* pins the first relay's certificate */
	lp_client_del(e->s);
	e->s = NULL;
	/* A second relay generates (and writes) a new certificate; the pin is already loaded. */
	other = relay_new(0, NULL);
	{
		struct lp_client_cbs cbs = { .frame = cli_frame, .event = cli_event };
		struct lp_quic_path path;

		memset(&path, 0, sizeof(path));
		assert_int_equal(lp_udp_local(e->cudp, &path.local), 0);
		path.remote = other->addr;
		assert_int_equal(
		        lp_client_new(e->cctx, &cfg, &path, &cbs, e, NULL, lp_now_ns(), &e->s), 0);
	}
	relay_del(e->relay);
	e->relay = other;
	assert_true(pump(e, 3000 * MS, is_closed));
	ev = find_ev(e, LP_CLIENT_EV_CLOSED, 0);
	assert_non_null(ev);
	assert_int_equal(ev->err, LP_ERR_CERT);
	assert_non_null(strstr(ev->text, "certificate mismatch"));
	assert_null(find_ev(e, LP_CLIENT_EV_CONNECTED, 0));
	env_del(e);
}

/* Nobody listens: the handshake timeout says "relay unreachable". */
static void test_unreachable(void **state)
{
	struct lp_client_cfg cfg = base_cfg();
	struct env *e = env_new(NULL);
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sockaddr_storage dead;
	struct lp_udp *hole;
	const struct ev_rec *ev;
	uint64_t t0 = lp_now_ns();

	(void)state;
	/* A bound socket nobody reads: packets vanish, no ICMP either. */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(lp_udp_open((const struct sockaddr *)&a, &hole), 0);
	assert_int_equal(lp_udp_local(hole, &dead), 0);
	env_start(e, &cfg, &dead);
	assert_true(pump(e, 3000 * MS, is_closed));
	assert_true(lp_now_ns() - t0 >= 350 * MS);
	ev = find_ev(e, LP_CLIENT_EV_CLOSED, 0);
	assert_non_null(ev);
	assert_int_equal(ev->err, LP_ERR_TIMEOUT);
	assert_string_equal(ev->text, "relay unreachable (QUIC handshake timed out)");
	assert_false(ev->was_admitted);
	lp_udp_close(hole);
	env_del(e);
}

static void test_new_invalid(void **state)
{
	struct lp_client_cfg cfg = base_cfg();
	struct env *e = env_new(NULL);
	struct lp_client *s = (struct lp_client *)1;
	struct lp_quic_path path;

	(void)state;
	e->cctx = client_ctx(cert_path);
	memset(&path, 0, sizeof(path));
	path.remote = e->relay->addr;
	cfg.room = "bad room!";
	assert_int_equal(lp_client_new(e->cctx, &cfg, &path, NULL, NULL, NULL, 0, &s),
	                 LP_ERR_ROOM_CHARS);
	assert_null(s);
	cfg = base_cfg();
	assert_int_equal(lp_proto_mac_parse("01:00:5e:00:00:01", &cfg.mac), 0);
	assert_int_equal(lp_client_new(e->cctx, &cfg, &path, NULL, NULL, NULL, 0, &s),
	                 LP_ERR_ROLE_MAC);
	assert_int_equal(lp_client_new(NULL, &cfg, &path, NULL, NULL, NULL, 0, &s), LP_ERR_INVAL);
	env_del(e);
}

/* ---- Runner ------------------------------------------------------------------- */

struct runner_env {
	struct env e; /* event recording only */
	struct lp_loop *loop;
	struct relay *relay;
	struct lp_client_runner *r;
};

static bool run_until(struct runner_env *re, uint64_t limit, enum lp_client_event_type t,
                      size_t nth)
{
	uint64_t end = lp_now_ns() + limit;

	while (find_ev(&re->e, t, nth) == NULL) {
		if (lp_now_ns() >= end)
			return false;
		assert_true(lp_loop_run_once(re->loop, 20 * MS) >= 0);
	}
	return true;
}

/* The runner builds its own context from the TLS settings (cctx NULL), or
 * takes cctx over (made by lp_client_tls_new). */
static void runner_start(struct runner_env *re, struct lp_quic_ctx *cctx,
                         const struct lp_client_pin_sig *sig, bool retry_permanent)
{
	struct lp_client_runner_cfg rc = { .session = base_cfg(),
		                           .tls = client_tls_cfg(cert_path),
		                           .quic = cctx,
		                           .relay = &re->relay->addr,
		                           .relay_count = 1,
		                           .backoff = { .initial_ns = 100 * MS,
		                                        .max_ns = 200 * MS },
		                           .retry_permanent = retry_permanent };
	struct lp_client_cbs cbs = { .frame = cli_frame, .event = cli_event };

	if (sig != NULL)
		rc.pin_sig = *sig;
	assert_int_equal(lp_client_runner_new(re->loop, &rc, &cbs, &re->e,
	                                      getenv("TEST_DEBUG") ? &dbg_log : NULL, &re->r),
	                 0);
}

static void test_runner_reconnect(void **state)
{
	struct runner_env re;
	struct lp_quic_ctx *cctx, *sctx;
	const struct ev_rec *ev;
	uint16_t port;
	uint8_t f[64];
	size_t i, n_reconnecting = 0;

	(void)state;
	memset(&re, 0, sizeof(re));
	assert_int_equal(lp_loop_new(&re.loop), 0);
	re.relay = relay_new(0, re.loop);
	port = relay_port(re.relay);
	{
		struct lp_quic_client_cfg tls = client_tls_cfg(cert_path);
		struct lp_client_pin_sig sig;

		assert_int_equal(lp_client_tls_new(&tls, NULL, &cctx, &sig), 0);
		assert_true(sig.valid);
		runner_start(&re, cctx, &sig, false); /* the runner owns cctx now */
	}
	assert_non_null(find_ev(&re.e, LP_CLIENT_EV_CONNECTING, 0));
	assert_true(run_until(&re, 3000 * MS, LP_CLIENT_EV_WELCOME, 0));
	assert_non_null(lp_client_runner_session(re.r));

	/* Frames through the runner, flushed as a batch. */
	make_frame(f, sizeof(f), "02:aa:bb:cc:dd:ee", 1);
	assert_int_equal(lp_client_runner_send_frame(re.r, f, sizeof(f)), 0);
	assert_int_equal(lp_client_runner_send_frame(re.r, f, sizeof(f)), 0);
	lp_client_runner_flush(re.r);
	for (i = 0; i < 100 && re.e.frames < 2; i++)
		assert_true(lp_loop_run_once(re.loop, 20 * MS) >= 0);
	assert_int_equal(re.e.frames, 2);

	/* The relay shuts down: the runner reports the loss and retries. */
	lp_quic_server_close_all(re.relay->srv, LP_QUIC_APP_SHUTDOWN, "relay restart");
	lp_quic_server_foreach_pending(re.relay->srv, relay_write_one, re.relay);
	assert_true(run_until(&re, 3000 * MS, LP_CLIENT_EV_CLOSED, 0));
	ev = find_ev(&re.e, LP_CLIENT_EV_CLOSED, 0);
	assert_true(ev->was_admitted);
	assert_int_equal(ev->err, LP_ERR_CLOSED);
	assert_non_null(strstr(ev->text, "shutting down"));
	sctx = re.relay->ctx;
	re.relay->owns_ctx = false; /* the restarted relay keeps the pinned certificate */
	relay_del(re.relay);
	re.relay = NULL;
	assert_true(run_until(&re, 1000 * MS, LP_CLIENT_EV_RECONNECTING, 0));
	ev = find_ev(&re.e, LP_CLIENT_EV_RECONNECTING, 0);
	assert_true(ev->delay_ns >= 50 * MS && ev->delay_ns <= 100 * MS);
	assert_null(lp_client_runner_session(re.r));
	/* Nobody answers for a while: handshake timeouts, more retries. */
	assert_true(run_until(&re, 3000 * MS, LP_CLIENT_EV_CLOSED, 1));
	ev = find_ev(&re.e, LP_CLIENT_EV_CLOSED, 1);
	assert_int_equal(ev->err, LP_ERR_TIMEOUT);
	assert_false(ev->was_admitted);
	assert_string_equal(ev->text, "relay unreachable (QUIC handshake timed out)");
	/* The relay comes back on the same port: admitted again. */
	re.relay = relay_new_ctx(port, re.loop, sctx);
	assert_true(run_until(&re, 5000 * MS, LP_CLIENT_EV_WELCOME, 1));
	assert_true(lp_client_runner_reconnects(re.r) >= 2);
	assert_false(lp_client_runner_stopped(re.r));
	for (i = 0; i < re.e.nev; i++) {
		if (re.e.ev[i].type == LP_CLIENT_EV_RECONNECTING) {
			n_reconnecting++;
			assert_true(re.e.ev[i].delay_ns <= 200 * MS);
		}
	}
	assert_true(n_reconnecting >= 2);

	/* Graceful stop: the relay hears the reason, no reconnect follows. */
	assert_int_equal(lp_client_runner_disconnect(re.r, "shutting down client", 0), 0);
	assert_null(lp_client_runner_session(re.r));
	assert_true(lp_client_runner_stopped(re.r));
	for (i = 0; i < 50 && !re.relay->conn_closed; i++)
		assert_true(lp_loop_run_once(re.loop, 20 * MS) >= 0);
	assert_true(re.relay->conn_closed);
	assert_int_equal(re.relay->msgs[re.relay->msgs_at_close - 1].type, LP_CTRL_DISCONNECT);
	assert_string_equal(re.relay->msgs[re.relay->msgs_at_close - 1].u.disconnect.reason,
	                    "shutting down client");
	n_reconnecting = re.e.nev;
	for (i = 0; i < 20; i++)
		assert_true(lp_loop_run_once(re.loop, 20 * MS) >= 0);
	for (i = n_reconnecting; i < re.e.nev; i++)
		assert_int_not_equal(re.e.ev[i].type, LP_CLIENT_EV_CONNECTING);

	lp_client_runner_del(re.r);
	relay_del(re.relay);
	lp_loop_del(re.loop);
}

/* A permanent reject stops the runner unless retrying was asked for. */
static void test_runner_permanent_reject(void **state)
{
	struct runner_env re;
	const struct ev_rec *ev;

	(void)state;
	memset(&re, 0, sizeof(re));
	assert_int_equal(lp_loop_new(&re.loop), 0);
	re.relay = relay_new(0, re.loop);
	re.relay->mode = RELAY_REJECT;
	re.relay->reject.reason = LP_REJECT_BAD_ROOM;
	runner_start(&re, NULL, NULL, false);
	assert_true(run_until(&re, 3000 * MS, LP_CLIENT_EV_STOPPED, 0));
	ev = find_ev(&re.e, LP_CLIENT_EV_STOPPED, 0);
	assert_int_equal(ev->err, LP_ERR_REJECTED);
	assert_true(lp_client_runner_stopped(re.r));
	assert_null(find_ev(&re.e, LP_CLIENT_EV_RECONNECTING, 0));
	assert_true(find_ev(&re.e, LP_CLIENT_EV_REJECTED, 0)->permanent);
	lp_client_runner_del(re.r);

	/* room_full is retried with backoff. */
	memset(&re.e, 0, sizeof(re.e));
	re.relay->reject.reason = LP_REJECT_ROOM_FULL;
	runner_start(&re, NULL, NULL, false);
	assert_true(run_until(&re, 3000 * MS, LP_CLIENT_EV_REJECTED, 1));
	assert_null(find_ev(&re.e, LP_CLIENT_EV_STOPPED, 0));
	assert_false(find_ev(&re.e, LP_CLIENT_EV_REJECTED, 0)->permanent);
	assert_non_null(find_ev(&re.e, LP_CLIENT_EV_RECONNECTING, 0));
	lp_client_runner_del(re.r);

	/* retry_permanent keeps trying even after bad_room. */
	memset(&re.e, 0, sizeof(re.e));
	re.relay->reject.reason = LP_REJECT_BAD_ROOM;
	runner_start(&re, NULL, NULL, true);
	assert_true(run_until(&re, 3000 * MS, LP_CLIENT_EV_REJECTED, 1));
	assert_null(find_ev(&re.e, LP_CLIENT_EV_STOPPED, 0));
	lp_client_runner_del(re.r);

	relay_del(re.relay);
	lp_loop_del(re.loop);
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static size_t count_ev(const struct env *e, enum lp_client_event_type t)
{
	size_t i, n = 0;

	for (i = 0; i < e->nev; i++)
		n += e->ev[i].type == t;
	return n;
}

/*
 * The relay restarts with a new development certificate. While the pinned
 * file still holds the old one, the mismatch is retried with backoff; once
 * the file holds the new one, the runner rebuilds its context and
 * reconnects at once.
 */
static void test_runner_pin_reload(void **state)
{
	struct runner_env re;
	struct lp_client_pin_sig old_sig, sig;
	const struct ev_rec *ev;
	const uint8_t *der;
	uint8_t *old_der;
	size_t old_len, len, nrec, i;
	uint16_t port;

	(void)state;
	memset(&re, 0, sizeof(re));
	assert_int_equal(lp_loop_new(&re.loop), 0);
	re.relay = relay_new(0, re.loop);
	port = relay_port(re.relay);
	assert_int_equal(lp_quic_ctx_cert_der(re.relay->ctx, &der, &old_len), 0);
	old_der = malloc(old_len);
	assert_non_null(old_der);
	memcpy(old_der, der, old_len);
	assert_int_equal(lp_client_pin_sig_read(cert_path, &old_sig), 0);
	assert_true(old_sig.valid);
	assert_int_equal(old_sig.len, old_len);
	runner_start(&re, NULL, NULL, false);
	assert_true(run_until(&re, 3000 * MS, LP_CLIENT_EV_WELCOME, 0));

	/* Restart with a new certificate, but the pinned file keeps the old one. */
	lp_quic_server_close_all(re.relay->srv, LP_QUIC_APP_SHUTDOWN, "relay restart");
	lp_quic_server_foreach_pending(re.relay->srv, relay_write_one, re.relay);
	assert_true(run_until(&re, 3000 * MS, LP_CLIENT_EV_CLOSED, 0));
	relay_del(re.relay);
	re.relay = relay_new(port, re.loop); /* writes its certificate to cert_path */
	assert_int_equal(lp_client_pin_sig_read(cert_path, &sig), 0);
	assert_true(sig.hash != old_sig.hash);
	write_file(cert_path, old_der, old_len);
	assert_true(run_until(&re, 3000 * MS, LP_CLIENT_EV_CLOSED, 1));
	ev = find_ev(&re.e, LP_CLIENT_EV_CLOSED, 1);
	assert_int_equal(ev->err, LP_ERR_CERT);
	assert_true(run_until(&re, 1000 * MS, LP_CLIENT_EV_RECONNECTING, 1));
	assert_true(find_ev(&re.e, LP_CLIENT_EV_RECONNECTING, 1)->delay_ns >= 50 * MS);
	assert_null(find_ev(&re.e, LP_CLIENT_EV_WELCOME, 1));

	/* The file now holds the new certificate: the next mismatch reloads it. */
	assert_int_equal(lp_quic_ctx_cert_der(re.relay->ctx, &der, &len), 0);
	write_file(cert_path, der, len);
	assert_true(run_until(&re, 5000 * MS, LP_CLIENT_EV_WELCOME, 1));
	nrec = 0;
	for (i = 0; i < re.e.nev; i++) {
		if (re.e.ev[i].type == LP_CLIENT_EV_RECONNECTING && re.e.ev[i].delay_ns == 0) {
			nrec++;
			/* Right after a certificate mismatch. */
			assert_true(i > 0 && re.e.ev[i - 1].type == LP_CLIENT_EV_CLOSED);
			assert_int_equal(re.e.ev[i - 1].err, LP_ERR_CERT);
		}
	}
	assert_int_equal(nrec, 1);
	assert_int_equal(count_ev(&re.e, LP_CLIENT_EV_STOPPED), 0);
	assert_true(lp_client_runner_reconnects(re.r) >= 2);

	lp_client_runner_del(re.r);
	relay_del(re.relay);
	lp_loop_del(re.loop);
	free(old_der);
}

/* The pinned file's signature: content hash and length; errors leave *out alone. */
static void test_pin_sig(void **state)
{
	struct lp_client_pin_sig a, b, keep = { .hash = 7, .len = 9, .valid = false };
	const uint8_t x[] = { 1, 2, 3 }, y[] = { 1, 2, 4 };
	char path[160];

	(void)state;
	snprintf(path, sizeof(path), "%s.sig", cert_path);
	write_file(path, x, sizeof(x));
	assert_int_equal(lp_client_pin_sig_read(path, &a), 0);
	assert_true(a.valid);
	assert_int_equal(a.len, 3);
	write_file(path, y, sizeof(y));
	assert_int_equal(lp_client_pin_sig_read(path, &b), 0);
	assert_int_equal(b.len, 3);
	assert_true(a.hash != b.hash);
	write_file(path, x, 0);
	assert_int_equal(lp_client_pin_sig_read(path, &b), 0);
	assert_int_equal(b.len, 0);
	assert_true(b.hash == UINT64_C(0xcbf29ce484222325)); /* FNV-1a offset basis */
	unlink(path);
	assert_int_equal(lp_client_pin_sig_read(path, &keep), LP_ERR_IO);
	assert_int_equal(keep.hash, 7);
	assert_false(keep.valid);
	assert_int_equal(lp_client_pin_sig_read(NULL, &keep), LP_ERR_INVAL);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(cert_path, sizeof(cert_path), "/tmp/test_client_loopback_%ld.der", (long)getpid());
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	unlink(cert_path);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_welcome_frames),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_disconnect),
		cmocka_unit_test(test_disconnect_early),
		cmocka_unit_test(test_peer_events),
		cmocka_unit_test(test_welcome_mtu_too_big),
		cmocka_unit_test(test_cert_mismatch),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_new_invalid),
		cmocka_unit_test(test_runner_reconnect),
		cmocka_unit_test(test_runner_permanent_reject),
		cmocka_unit_test(test_runner_pin_reload),
		cmocka_unit_test(test_pin_sig),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
