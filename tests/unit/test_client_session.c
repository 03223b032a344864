/*
 * test_client_session.c - the sans-I/O session of lib/client-core against a
 * tiny relay built from lib/quic's server API in the same process, with no
 * socket and no real clock: packets travel through an in-memory wire and
 * time is a variable the test advances to the next deadline. Hello/welcome/
 * reject, frames both ways, budget refusals, stats timing, disconnect, peer
 * events, close reasons, timeouts. The same over loopback UDP with the real
 * clock, and the runner, are tests/integration/test_client_loopback.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lp_client.h"

#define MS LP_NS_PER_MS
#define RELAY_MSGS 64
#define EVENTS_MAX 64

static char cert_path[128];

/* ---- The in-test relay ---------------------------------------------------- */

enum relay_mode { RELAY_WELCOME = 0, RELAY_REJECT, RELAY_SILENT };

struct relay {
	struct lp_quic_ctx *ctx;
	bool owns_ctx;
	struct lp_quic_server *srv;
	struct sockaddr_storage addr; /* on the wire */
	struct lp_quic_conn *conn;    /* the latest accepted connection */
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
	uint8_t *txbuf;
};

/* ---- The injected clock and the in-memory wire ------------------------------ */

#define WIRE_MAX 1024
#define PKT_MAX LP_QUIC_MAX_UDP_PAYLOAD

/* Nanoseconds of the test's clock: only advance_to moves it. */
static uint64_t now_ns;

struct pkt {
	struct lp_quic_path path; /* as the receiver sees it: local = its address */
	size_t len;
	uint8_t data[PKT_MAX];
};

/* Packets in flight, in send order; delivered by wire_deliver. */
static struct {
	struct pkt q[WIRE_MAX];
	size_t head, n;
	uint64_t dropped; /* to an address nobody has */
} wire;

static void sockaddr_set(struct sockaddr_storage *ss, uint32_t ip, uint16_t port)
{
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(ip);
	a->sin_port = htons(port);
}

static bool same_addr(const struct sockaddr_storage *x, const struct sockaddr_storage *y)
{
	const struct sockaddr_in *a = (const struct sockaddr_in *)x;
	const struct sockaddr_in *b = (const struct sockaddr_in *)y;

	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

/* Puts what one write produced on the wire, cut into its GSO segments. */
static void wire_send(const struct lp_quic_path *from, const uint8_t *buf, size_t len, size_t gso)
{
	size_t seg = gso != 0 ? gso : len, off;

	for (off = 0; off < len; off += seg) {
		struct pkt *p;
		size_t n = len - off < seg ? len - off : seg;

		assert_true(wire.n < WIRE_MAX);
		assert_true(n <= PKT_MAX);
		p = &wire.q[(wire.head + wire.n++) % WIRE_MAX];
		p->path.local = from->remote;
		p->path.remote = from->local;
		p->len = n;
		memcpy(p->data, buf + off, n);
	}
}

static struct pkt *wire_pop(void)
{
	struct pkt *p;

	if (wire.n == 0)
		return NULL;
	p = &wire.q[wire.head];
	wire.head = (wire.head + 1) % WIRE_MAX;
	wire.n--;
	return p;
}

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

	while ((n = lp_quic_conn_write(c, r->txbuf, LP_QUIC_WRITE_BUF_MIN, &gso, &path, now_ns)) >
	       0)
		wire_send(&path, r->txbuf, (size_t)n, gso);
}

static void relay_read(struct relay *r, const struct pkt *p)
{
	assert_int_equal(lp_quic_server_read(r->srv, &p->path, p->data, p->len, now_ns, NULL), 0);
}

static void relay_service(struct relay *r)
{
	if (now_ns >= lp_quic_server_expiry(r->srv))
		lp_quic_server_handle_expiry(r->srv, now_ns);
	lp_quic_server_foreach_pending(r->srv, relay_write_one, r);
}

/* Each relay gets its own address on the wire and a new certificate
 * (written to cert_path, the file clients pin). */
static struct relay *relay_new(void)
{
	struct lp_quic_server_cfg cfg = { .dev_cert_names = "localhost,127.0.0.1",
		                          .dev_cert_der_out = cert_path,
		                          .idle_timeout_ns = 5000 * MS };
	/* lib/quic keeps this pointer: static storage. */
	static const struct lp_quic_server_cbs cbs = { .accept = relay_accept };
	static uint16_t port = 4433;
	struct relay *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->owns_ctx = true;
	assert_int_equal(lp_quic_ctx_new_server(&cfg, NULL, &r->ctx), 0);
	assert_int_equal(lp_quic_server_new(r->ctx, &cbs, r, &r->srv), 0);
	sockaddr_set(&r->addr, 0x0a000002, port++);
	r->txbuf = malloc(LP_QUIC_WRITE_BUF_MIN);
	assert_non_null(r->txbuf);
	r->echo = true;
	r->welcome.version = LP_CTRL_VERSION;
	r->welcome.mode = LP_CTRL_MODE_RELAY;
	r->welcome.peer_id = 3;
	r->welcome.mtu = 1280;
	r->welcome.gateway_present = true;
	return r;
}

static void relay_del(struct relay *r)
{
	if (r == NULL)
		return;
	lp_quic_server_del(r->srv);
	if (r->owns_ctx)
		lp_quic_ctx_del(r->ctx);
	free(r->txbuf);
	free(r);
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
	struct sockaddr_storage addr; /* the client's, on the wire */
	struct lp_client *s;
	struct ev_rec ev[EVENTS_MAX];
	size_t nev;
	unsigned frames;
	uint8_t last_frame[2048];
	size_t last_frame_len;
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
	struct lp_client_cbs cbs = { .frame = cli_frame, .event = cli_event };
	struct lp_quic_path path;

	e->cctx = client_ctx(cert_path);
	memset(&path, 0, sizeof(path));
	sockaddr_set(&e->addr, 0x0a000001, 40000);
	path.local = e->addr;
	path.remote = remote != NULL ? *remote : e->relay->addr;
	e->txbuf = malloc(LP_QUIC_WRITE_BUF_MIN);
	assert_non_null(e->txbuf);
	assert_int_equal(lp_client_new(e->cctx, cfg, &path, &cbs, e, NULL, now_ns, &e->s), 0);
}

static struct env *env_new(const struct lp_client_cfg *cfg)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->relay = relay_new();
	if (cfg != NULL)
		env_start(e, cfg, NULL);
	return e;
}

static void env_del(struct env *e)
{
	lp_client_del(e->s);
	lp_quic_ctx_del(e->cctx);
	relay_del(e->relay);
	free(e->txbuf);
	free(e);
	memset(&wire, 0, sizeof(wire));
}

static void client_service(struct env *e)
{
	struct lp_quic_path path;
	size_t gso = 0;
	ssize_t w;

	if (now_ns >= lp_client_expiry(e->s) && lp_client_handle_expiry(e->s, now_ns) < 0)
		e->closed_reads++;
	while ((w = lp_client_write(e->s, e->txbuf, LP_QUIC_WRITE_BUF_MIN, &gso, &path, now_ns)) >
	       0)
		wire_send(&path, e->txbuf, (size_t)w, gso);
}

/* Hands every packet in flight to its receiver, and what they write in
 * answer too, until the wire is quiet. No time passes meanwhile. */
static void wire_deliver(struct env *e)
{
	struct pkt *p;

	do {
		client_service(e);
		relay_service(e->relay);
		while ((p = wire_pop()) != NULL) {
			if (same_addr(&p->path.local, &e->addr)) {
				if (lp_client_read(e->s, &p->path, p->data, p->len, now_ns) < 0)
					e->closed_reads++;
			} else if (same_addr(&p->path.local, &e->relay->addr)) {
				relay_read(e->relay, p);
			} else {
				wire.dropped++;
			}
		}
		client_service(e);
		relay_service(e->relay);
	} while (wire.n > 0);
}

typedef bool (*cond_fn)(struct env *e);

/* Runs both ends until cond holds (true) or limit passes on the test's
 * clock (false); between exchanges the clock jumps to the next deadline. */
static bool pump(struct env *e, uint64_t limit, cond_fn cond)
{
	uint64_t end = now_ns + limit, next;

	for (;;) {
		wire_deliver(e);
		if (cond != NULL && cond(e))
			return true;
		if (now_ns >= end)
			return false;
		next = lp_client_expiry(e->s);
		if (lp_quic_server_expiry(e->relay->srv) < next)
			next = lp_quic_server_expiry(e->relay->srv);
		/* A deadline now or in the past was just handled: step past it. */
		now_ns = next <= now_ns ? now_ns + 1 : next > end ? end : next;
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
	t0 = now_ns;
	make_frame(f, sizeof(f), "02:aa:bb:cc:dd:ee", 0);
	assert_int_equal(lp_client_send_frame(e->s, f, 64), 0);
	assert_int_equal(lp_client_send_frame(e->s, f, 64), 0);
	assert_int_equal(lp_client_send_frame(e->s, f, 2000), LP_ERR_TOO_BIG);
	assert_false(pump(e, 300 * MS - (now_ns - t0) - 1, got_stats));
	/* Exactly at the interval (from the welcome), not before. */
	assert_true(pump(e, 2000 * MS, got_stats));
	assert_int_equal(now_ns - t0, 300 * MS);
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
	assert_int_equal(lp_client_disconnect(e->s, "user quit", now_ns), 0);
	assert_int_equal(lp_client_state(e->s), LP_CLIENT_CLOSING);
	/* Idempotent. */
	assert_int_equal(lp_client_disconnect(e->s, "again", now_ns), 0);
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
	assert_int_equal(lp_client_disconnect(e->s, "cancelled", now_ns), 0);
	assert_true(pump(e, 2000 * MS, relay_closed));
	assert_int_equal(e->relay->msgs_at_close, 2);
	assert_int_equal(e->relay->msgs[1].type, LP_CTRL_DISCONNECT);
	assert_string_equal(e->relay->msgs[1].u.disconnect.reason, "cancelled");
	assert_true(pump(e, 3000 * MS, is_closed));
	assert_null(find_ev(e, LP_CLIENT_EV_WELCOME, 0));
	lp_client_del(e->s);
	e->s = NULL;
	lp_quic_ctx_del(e->cctx);
	free(e->txbuf);
	memset(&wire, 0, sizeof(wire));

	/* Still connecting: closes at once, nothing reaches the relay's control stream. */
	e->nev = 0;
	e->relay->nmsgs = 0;
	env_start(e, &cfg, NULL);
	assert_int_equal(lp_client_disconnect(e->s, "never mind", now_ns), 0);
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

/* The status document: ourselves and a peer that is not (or no longer)
 * announced are left out of the peer list; a LAN address the bridge saw is
 * shown; the estimated RTT through the relay is ours + theirs. */
static void status_fill_checks(struct env *e)
{
	static struct lp_ctrl_status st;
	static struct lp_lanip ips;
	struct lp_ctrl_msg m = { .type = LP_CTRL_PEER_STATS };
	struct lp_ctrl_peer_stats *ps = &m.u.peer_stats;
	struct lp_client_status_src src = { .program = "lanparty-client",
		                            .room = "ROOM1",
		                            .role = LP_ROLE_CLIENT,
		                            .session = e->s,
		                            .lanip = &ips };
	uint8_t arp[60] = { 0 };
	uint32_t self = lp_client_welcome(e->s)->peer_id;

	send_peer(e, LP_CTRL_PEER_JOINED, 7, LP_ROLE_GATEWAY, "00:1b:21:aa:bb:cc", "");
	ps->peers_total = 3;
	ps->count = 3;
	ps->peers[0] = (struct lp_ctrl_peer_stat){
		.peer_id = 7, .role = LP_ROLE_GATEWAY, .rtt_us = 1000, .tx_frames = 5
	};
	assert_int_equal(lp_proto_mac_parse("00:1b:21:aa:bb:cc", &ps->peers[0].mac), 0);
	ps->peers[1] = (struct lp_ctrl_peer_stat){ .peer_id = self, .role = LP_ROLE_CLIENT };
	ps->peers[1].mac = base_cfg().mac;
	ps->peers[2] = (struct lp_ctrl_peer_stat){ .peer_id = 99, .role = LP_ROLE_CLIENT };
	assert_int_equal(lp_proto_mac_parse("02:00:00:00:00:63", &ps->peers[2].mac), 0);
	relay_send(e->relay, &m);
	pump(e, 300 * MS, NULL);

	lp_lanip_init(&ips);
	/* The gateway's own ARP, and one from a LAN host behind it. */
	memset(arp, 0xff, 6);
	lp_put_u16(arp + 12, LP_ETHERTYPE_ARP);
	lp_put_u16(arp + 14, 1);
	lp_put_u16(arp + 16, LP_ETHERTYPE_IPV4);
	arp[18] = 6;
	arp[19] = 4;
	lp_put_u16(arp + 20, 1);
	memcpy(arp + 22, ps->peers[0].mac.b, 6);
	memcpy(arp + 28, (const uint8_t[4]){ 10, 77, 0, 9 }, 4);
	assert_int_equal(lp_lanip_observe(&ips, arp, sizeof(arp), 1), 1);
	memcpy(arp + 22, (const uint8_t[6]){ 0x52, 0x54, 0, 0, 0, 1 }, 6);
	memcpy(arp + 28, (const uint8_t[4]){ 10, 77, 0, 1 }, 4);
	assert_int_equal(lp_lanip_observe(&ips, arp, sizeof(arp), 2), 1);

	src.mac = base_cfg().mac;
	src.now = lp_now_ns();
	lp_client_status_fill(&src, &st);
	assert_string_equal(st.state, "admitted");
	assert_int_equal(st.peer_id, self);
	assert_true(st.has_table);
	assert_int_equal(st.peers_total, 3);
	assert_int_equal(st.count, 1);
	assert_int_equal(st.peers[0].peer_id, 7);
	assert_true(st.peers[0].has_ip);
	assert_memory_equal(st.peers[0].ip, ((const uint8_t[4]){ 10, 77, 0, 9 }), 4);
	/* Our own RTT unknown (0) makes the sum unknown too. */
	assert_int_equal(st.peers[0].est_rtt_us, st.link.rtt_us ? st.link.rtt_us + 1000 : 0);
	assert_int_equal(st.peers[0].link.tx_frames, 5);
	assert_int_equal(st.nhosts, 1);
	assert_memory_equal(st.hosts[0].ip, ((const uint8_t[4]){ 10, 77, 0, 1 }), 4);
	{
		static char doc[LP_CTRL_STATUS_MAX];

		assert_true(lp_ctrl_status_encode(&st, doc, sizeof(doc)) > 0);
	}
	/* While reconnecting there is no session: the document still says who
	 * we are. */
	src.session = NULL;
	lp_client_status_fill(&src, &st);
	assert_string_equal(st.state, "reconnecting");
	assert_int_equal(st.count, 0);
	assert_int_equal(st.nhosts, 2);
}

static bool has_peer_stats(struct env *e)
{
	return lp_client_peer_stats(e->s, NULL) != NULL;
}

/* The relay's peer_stats table is kept (the latest one) and exposed; before
 * the first one there is none. The session's own RTT comes from QUIC. */
static void test_peer_stats_kept(void **state)
{
	struct lp_client_cfg cfg = base_cfg();
	struct env *e = env_new(NULL);
	struct lp_ctrl_msg m = { .type = LP_CTRL_PEER_STATS };
	const struct lp_ctrl_peer_stats *ps;
	struct lp_quic_conn_info info;
	uint64_t at = 0;

	(void)state;
	env_start(e, &cfg, NULL);
	assert_true(pump(e, 3000 * MS, is_admitted));
	assert_null(lp_client_peer_stats(e->s, NULL));
	m.u.peer_stats.peers_total = 1;
	m.u.peer_stats.count = 1;
	m.u.peer_stats.peers[0].peer_id = 7;
	m.u.peer_stats.peers[0].role = LP_ROLE_GATEWAY;
	assert_int_equal(lp_proto_mac_parse("00:1b:21:aa:bb:cc", &m.u.peer_stats.peers[0].mac), 0);
	m.u.peer_stats.peers[0].rtt_us = 1234;
	relay_send(e->relay, &m);
	assert_true(pump(e, 2000 * MS, has_peer_stats));
	ps = lp_client_peer_stats(e->s, &at);
	assert_int_equal(ps->count, 1);
	assert_int_equal(ps->peers[0].rtt_us, 1234);
	assert_true(at > 0);
	/* A newer table replaces the old one. */
	m.u.peer_stats.peers[0].rtt_us = 4321;
	relay_send(e->relay, &m);
	pump(e, 300 * MS, NULL);
	assert_int_equal(lp_client_peer_stats(e->s, NULL)->peers[0].rtt_us, 4321);
	assert_int_equal(lp_client_state(e->s), LP_CLIENT_ADMITTED);
	/* The in-memory wire has no delay: RTT samples may be 0 here (the
	 * sum through the relay is checked against the real relay in
	 * tests/integration/test_relay_e2e.c). */
	lp_client_conn_info(e->s, &info);
	assert_true(info.min_rtt_ns <= info.smoothed_rtt_ns);
	status_fill_checks(e);
	env_del(e);
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
	other = relay_new();
	{
		struct lp_client_cbs cbs = { .frame = cli_frame, .event = cli_event };
		struct lp_quic_path path;

		memset(&path, 0, sizeof(path));
		path.local = e->addr;
		path.remote = other->addr;
		assert_int_equal(lp_client_new(e->cctx, &cfg, &path, &cbs, e, NULL, now_ns, &e->s),
		                 0);
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
	struct sockaddr_storage dead;
	const struct ev_rec *ev;
	uint64_t t0 = now_ns;

	(void)state;
	/* An address nobody has: packets vanish, no ICMP either. */
	sockaddr_set(&dead, 0x0a000009, 4433);
	env_start(e, &cfg, &dead);
	assert_true(pump(e, 3000 * MS, is_closed));
	/* The handshake timeout (400 ms), to the nanosecond of the test's clock. */
	assert_true(wire.dropped > 0);
	assert_int_equal(now_ns - t0, 400 * MS);
	ev = find_ev(e, LP_CLIENT_EV_CLOSED, 0);
	assert_non_null(ev);
	assert_int_equal(ev->err, LP_ERR_TIMEOUT);
	assert_string_equal(ev->text, "relay unreachable (QUIC handshake timed out)");
	assert_false(ev->was_admitted);
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

static void write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/*
 * The relay restarts with a new development certificate. While the pinned
 * file still holds the old one, the mismatch is retried with backoff; once
 * the file holds the new one, the runner rebuilds its context and
 * reconnects at once.
 */
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
	snprintf(cert_path, sizeof(cert_path), "/tmp/test_client_session_%ld.der", (long)getpid());
	/* Any start will do: nothing here reads the real clock. */
	now_ns = 1000 * LP_NS_PER_SEC;
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
		cmocka_unit_test(test_peer_stats_kept),
		cmocka_unit_test(test_welcome_mtu_too_big),
		cmocka_unit_test(test_cert_mismatch),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_new_invalid),
		cmocka_unit_test(test_pin_sig),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
