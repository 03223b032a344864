/*
 * test_relay_e2e.c - the real lanparty-relay binary (a child process on
 * 127.0.0.1) with real lib/client-core sessions and raw lib/quic peers in
 * this process: admission, every reject, forwarding rules, every L2 filter,
 * every rate limit, the egress budget skip, the malformed-datagram
 * disconnect, graceful and idle leaves.
 *
 *   session/raw peers (one UDP socket each)          lanparty-relay (child)
 *   +---------------------------------+   QUIC     +--------------------------+
 *   | gateway G, clients A B C, raw R | <--------> | 127.0.0.1:<free>/udp      |
 *   +---------------------------------+            | GET /metrics on :<free>   |
 *                                                  | stderr -> relay.log       |
 *                                                  +--------------------------+
 *
 * Two relays: "main" (--log-level debug --idle-timeout 2 --malformed-limit 5)
 * and "limits" (--max-peers 2, small rate limits). Each test uses its own
 * room. "Does not arrive" is asserted after a later marker frame on the same
 * path did arrive, plus a grace period, or after the relay's metrics show
 * the frame was processed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relay_proc.h"

#define MS LP_NS_PER_MS
#define SEC LP_NS_PER_SEC
#define ADMIT_TIMEOUT (20 * SEC)
#define ARRIVE_TIMEOUT (10 * SEC)
#define GRACE (300 * MS)
#define BCAST "ff:ff:ff:ff:ff:ff"

struct env {
	struct rp_relay relay;
	struct rp_world w;
	bool relay_up;
};

static struct env main_env, limits_env, budget_env;

/* ---- fixtures ---------------------------------------------------------------- */

static int env_setup(struct env *e, const char *const *args)
{
	memset(e, 0, sizeof(*e));
	if (rp_relay_start(&e->relay, args) != 0)
		return -1;
	e->relay_up = true;
	if (rp_world_init(&e->w, &e->relay) != 0)
		return -1;
	return 0;
}

static int env_teardown(struct env *e)
{
	int status;

	rp_world_free(&e->w);
	if (!e->relay_up)
		return -1;
	status = rp_relay_stop(&e->relay);
	if (status != 0) {
		fprintf(stderr, "relay exit status %d (want 0: clean SIGTERM shutdown)\n", status);
		return -1;
	}
	return 0;
}

static int main_setup(void **state)
{
	static const char *const args[] = {
		"--log-level", "debug", "--idle-timeout", "2", "--malformed-limit", "5", NULL
	};

	*state = &main_env;
	return env_setup(&main_env, args);
}

static int main_teardown(void **state)
{
	(void)state;
	return env_teardown(&main_env);
}

static int limits_setup(void **state)
{
	static const char *const args[] = { "--max-peers",
		                            "2",
		                            "--rate-broadcast",
		                            "20",
		                            "--rate-unknown",
		                            "20",
		                            "--rate-total-mbit",
		                            "1",
		                            NULL };

	*state = &limits_env;
	return env_setup(&limits_env, args);
}

static int limits_teardown(void **state)
{
	(void)state;
	return env_teardown(&limits_env);
}

/* The gateway's broadcast limit and the room budget, with the per-client
 * byte limit off so the room's is the one that bites (its burst: 8 MB). */
static int budget_setup(void **state)
{
	static const char *const args[] = { "--rate-total-mbit",
		                            "0",
		                            "--rate-gateway-broadcast",
		                            "20",
		                            "--rate-room-mbit",
		                            "1",
		                            NULL };

	*state = &budget_env;
	return env_setup(&budget_env, args);
}

static int budget_teardown(void **state)
{
	(void)state;
	return env_teardown(&budget_env);
}

/* Deletes every peer of the world after a test (the relay idles them out). */
static int peers_teardown(void **state)
{
	struct env *e = *state;

	while (e->w.npeers > 0)
		rp_peer_del(e->w.peers[e->w.npeers - 1]);
	return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static struct rp_peer *session(struct env *e, const char *name, enum lp_role role, const char *room,
                               const char *mac)
{
	struct rp_peer *p = rp_session_new(&e->w, name, role, room, mac, NULL);

	assert_non_null(p);
	return p;
}

static void admit_all(struct env *e, struct rp_peer *const *peers, size_t n)
{
	assert_true(rp_pump_admitted(&e->w, ADMIT_TIMEOUT, peers, n));
}

static void admit(struct env *e, struct rp_peer *p)
{
	admit_all(e, &p, 1);
}

static bool established_cond(void *arg)
{
	const struct rp_peer *p = arg;

	return p->established || p->closed;
}

/* A raw peer that completed its handshake and sent the given hello; waits
 * for the welcome or the reject. */
static struct rp_peer *raw_joined(struct env *e, const char *name, enum lp_role role,
                                  const char *room, const char *mac, uint32_t budget)
{
	struct rp_peer *p = rp_raw_new(&e->w, name);

	assert_non_null(p);
	assert_true(rp_pump(&e->w, ADMIT_TIMEOUT, established_cond, p));
	assert_true(p->established);
	assert_int_equal(rp_raw_hello(p, role, room, mac, budget), 0);
	(void)rp_pump_admitted(&e->w, ADMIT_TIMEOUT, &p, 1);
	return p;
}

static uint32_t peer_id_of(const struct rp_peer *p)
{
	if (p->kind == RP_SESSION) {
		const struct lp_ctrl_welcome *wl = lp_client_welcome(p->s);

		assert_non_null(wl);
		return wl->peer_id;
	}
	assert_non_null(rp_raw_msg(p, LP_CTRL_WELCOME));
	return rp_raw_msg(p, LP_CTRL_WELCOME)->u.welcome.peer_id;
}

struct ev_wait {
	const struct rp_peer *p;
	enum lp_client_event_type type;
	size_t count;
};

static bool ev_cond(void *arg)
{
	const struct ev_wait *ew = arg;

	return rp_event_count(ew->p, ew->type) >= ew->count;
}

static void wait_events(struct env *e, const struct rp_peer *p, enum lp_client_event_type type,
                        size_t count, uint64_t timeout)
{
	struct ev_wait ew = { p, type, count };

	assert_true(rp_pump(&e->w, timeout, ev_cond, &ew));
}

struct tag_wait {
	struct rp_peer *const *peers;
	size_t n;
	uint32_t tag;
};

static bool tag_cond(void *arg)
{
	const struct tag_wait *tw = arg;

	for (size_t i = 0; i < tw->n; i++)
		if (!rp_has_tag(tw->peers[i], tw->tag))
			return false;
	return true;
}

/* Pumps until every listed peer received the frame tagged tag. */
static void wait_tag(struct env *e, struct rp_peer *const *peers, size_t n, uint32_t tag)
{
	struct tag_wait tw = { peers, n, tag };

	assert_true(rp_pump(&e->w, ARRIVE_TIMEOUT, tag_cond, &tw));
}

static size_t tag_count(const struct rp_peer *p, uint32_t tag)
{
	size_t n = 0;

	for (size_t i = 0; i < p->ntags; i++)
		n += p->tags[i] == tag;
	return n;
}

static void send_frame(struct rp_peer *p, const uint8_t *frame, size_t len)
{
	assert_int_equal(rp_send_frame_wait(p, frame, len, 5 * SEC), 0);
}

static void send_simple(struct rp_peer *p, const char *dst, const char *src, size_t len,
                        uint32_t tag)
{
	uint8_t f[1600];

	assert_true(len <= sizeof(f));
	rp_frame_build(f, len, dst, src, LP_ETHERTYPE_IPV4, tag);
	send_frame(p, f, len);
}

static uint64_t metric(struct env *e, const char *key)
{
	uint64_t v = rp_relay_metric(&e->relay, key);

	if (v == UINT64_MAX)
		fail_msg("metric %s missing", key);
	return v;
}

static uint64_t drops(struct env *e, const char *reason)
{
	char key[128];

	snprintf(key, sizeof(key), "lanparty_relay_drops_total{reason=\"%s\"}", reason);
	return metric(e, key);
}

static uint64_t rejected(struct env *e, const char *reason)
{
	char key[128];

	snprintf(key, sizeof(key), "lanparty_relay_rejected_total{reason=\"%s\"}", reason);
	return metric(e, key);
}

/* Pumps until the metric reaches at least want; returns its last value. */
static uint64_t wait_metric(struct env *e, const char *key, uint64_t want, uint64_t timeout)
{
	uint64_t deadline = lp_now_ns() + timeout, v;

	for (;;) {
		v = metric(e, key);
		if (v >= want || lp_now_ns() >= deadline)
			return v;
		(void)rp_pump(&e->w, 50 * MS, NULL, NULL);
	}
}

static uint64_t wait_drops(struct env *e, const char *reason, uint64_t want)
{
	char key[128];

	snprintf(key, sizeof(key), "lanparty_relay_drops_total{reason=\"%s\"}", reason);
	return wait_metric(e, key, want, ARRIVE_TIMEOUT);
}

/* The relay-side label set of a peer, as in its per-peer metrics. */
static void peer_key(char *out, size_t cap, const char *metric_name, const char *room,
                     const struct rp_peer *p, enum lp_role role, const char *mac)
{
	snprintf(out, cap, "lanparty_relay_%s{room=\"%s\",peer_id=\"%u\",role=\"%s\",mac=\"%s\"}",
	         metric_name, room, (unsigned)peer_id_of(p), lp_ctrl_role_name(role), mac);
}

static void grace(struct env *e)
{
	(void)rp_pump(&e->w, GRACE, NULL, NULL);
}

/* ---- admission ------------------------------------------------------------------ */

static void test_admission(void **state)
{
	struct env *e = *state;
	struct rp_peer *a, *g, *b;
	const struct lp_ctrl_welcome *wa, *wg, *wb;
	const struct rp_event *ev;
	uint64_t admitted0 = metric(e, "lanparty_relay_admitted_total");

	/* First peer: creates the room, no gateway yet. */
	a = session(e, "A", LP_ROLE_CLIENT, "ADM", "02:00:00:00:0a:01");
	admit(e, a);
	wa = lp_client_welcome(a->s);
	assert_non_null(wa);
	assert_int_equal(wa->version, LP_CTRL_VERSION);
	assert_int_equal(wa->mode, LP_CTRL_MODE_RELAY);
	assert_true(wa->peer_id >= 1);
	assert_int_equal(wa->mtu, 1380);
	assert_false(wa->gateway_present);
	assert_false(lp_client_gateway_present(a->s));
	assert_int_equal(rp_event_count(a, LP_CLIENT_EV_PEER_JOINED), 0);

	/* The gateway: its welcome says a gateway is present (itself), its
	 * catch-up names A, and A hears about it. */
	g = session(e, "G", LP_ROLE_GATEWAY, "ADM", "02:00:00:00:0a:02");
	admit(e, g);
	wg = lp_client_welcome(g->s);
	assert_non_null(wg);
	assert_true(wg->peer_id > wa->peer_id);
	assert_int_equal(wg->mtu, 1380);
	assert_true(wg->gateway_present);
	wait_events(e, g, LP_CLIENT_EV_PEER_JOINED, 1, ARRIVE_TIMEOUT);
	ev = rp_event_find(g, LP_CLIENT_EV_PEER_JOINED, 0);
	assert_int_equal(ev->peer.peer_id, wa->peer_id);
	assert_int_equal(ev->peer.role, LP_ROLE_CLIENT);
	assert_int_equal(ev->peer.mac.b[5], 0x01);
	wait_events(e, a, LP_CLIENT_EV_PEER_JOINED, 1, ARRIVE_TIMEOUT);
	ev = rp_event_find(a, LP_CLIENT_EV_PEER_JOINED, 0);
	assert_int_equal(ev->peer.peer_id, wg->peer_id);
	assert_int_equal(ev->peer.role, LP_ROLE_GATEWAY);
	assert_int_equal(ev->peer.mac.b[5], 0x02);
	assert_true(ev->gateway_present);
	assert_true(lp_client_gateway_present(a->s));

	/* A second client: gateway present; catch-up in join order A, G; both
	 * existing peers get its PEER_JOINED. */
	b = session(e, "B", LP_ROLE_CLIENT, "ADM", "02:00:00:00:0a:03");
	admit(e, b);
	wb = lp_client_welcome(b->s);
	assert_non_null(wb);
	assert_true(wb->peer_id > wg->peer_id);
	assert_int_equal(wb->mtu, 1380);
	assert_true(wb->gateway_present);
	wait_events(e, b, LP_CLIENT_EV_PEER_JOINED, 2, ARRIVE_TIMEOUT);
	assert_int_equal(rp_event_find(b, LP_CLIENT_EV_PEER_JOINED, 0)->peer.peer_id, wa->peer_id);
	assert_int_equal(rp_event_find(b, LP_CLIENT_EV_PEER_JOINED, 1)->peer.peer_id, wg->peer_id);
	wait_events(e, a, LP_CLIENT_EV_PEER_JOINED, 2, ARRIVE_TIMEOUT);
	wait_events(e, g, LP_CLIENT_EV_PEER_JOINED, 2, ARRIVE_TIMEOUT);
	assert_int_equal(rp_event_find(a, LP_CLIENT_EV_PEER_JOINED, 1)->peer.peer_id, wb->peer_id);
	assert_int_equal(rp_event_find(g, LP_CLIENT_EV_PEER_JOINED, 1)->peer.peer_id, wb->peer_id);
	assert_int_equal(lp_client_peer_count(b->s), 2);

	/* The relay's own view. */
	assert_int_equal(metric(e, "lanparty_relay_room_peers{room=\"ADM\"}"), 3);
	assert_int_equal(metric(e, "lanparty_relay_room_mtu{room=\"ADM\"}"), 1380);
	assert_int_equal(metric(e, "lanparty_relay_room_gateway_present{room=\"ADM\"}"), 1);
	assert_int_equal(metric(e, "lanparty_relay_admitted_total"), admitted0 + 3);
	assert_true(rp_relay_log_count(&e->relay, "room ADM: admitted gateway 02:00:00:00:0a:02") ==
	            1);
}

/* ---- peer_stats and the status document ------------------------------------ */

struct table_wait {
	const struct rp_peer *p;
	uint32_t entries;
	uint64_t last_tx_frames; /* at least this many from the last entry */
};

static bool table_cond(void *arg)
{
	const struct table_wait *tw = arg;
	const struct lp_ctrl_peer_stats *ps = lp_client_peer_stats(tw->p->s, NULL);

	if (ps == NULL || ps->count != tw->entries)
		return false;
	for (uint32_t i = 0; i < ps->count; i++) {
		if (ps->peers[i].rtt_us == 0)
			return false;
	}
	return ps->count == 0 || ps->peers[ps->count - 1].tx_frames >= tw->last_tx_frames;
}

/* The relay sends every peer the room's table (gateway first) with each
 * peer's RTT from the relay's QUIC estimator and its traffic; a client's
 * status document shows the gateway with the estimated RTT through the
 * relay = our RTT + the gateway's. */
static void test_peer_stats(void **state)
{
	struct env *e = *state;
	struct rp_peer *a, *g;
	struct table_wait tw;
	const struct lp_ctrl_peer_stats *ps;
	static struct lp_ctrl_status st;
	static char doc[LP_CTRL_STATUS_MAX];
	struct lp_client_status_src src = { .program = "test",
		                            .room = "PST",
		                            .role = LP_ROLE_CLIENT };
	uint8_t frame[60];

	g = session(e, "G", LP_ROLE_GATEWAY, "PST", "02:00:00:00:0c:01");
	admit(e, g);
	a = session(e, "A", LP_ROLE_CLIENT, "PST", "02:00:00:00:0c:02");
	admit(e, a);
	rp_frame_build(frame, sizeof(frame), "ff:ff:ff:ff:ff:ff", "02:00:00:00:0c:02", 0x0806, 1);
	assert_int_equal(rp_send_frame(a, frame, sizeof(frame)), 0);
	/* On join at once, then every 2 s: within 5 s both entries carry RTTs
	 * and A's broadcast is counted. */
	tw = (struct table_wait){ a, 2, 1 };
	assert_true(rp_pump(&e->w, 5 * LP_NS_PER_SEC, table_cond, &tw));
	ps = lp_client_peer_stats(a->s, NULL);
	assert_int_equal(ps->peers_total, 2);
	assert_int_equal(ps->peers[0].role, LP_ROLE_GATEWAY);
	assert_int_equal(ps->peers[0].peer_id, lp_client_welcome(g->s)->peer_id);
	assert_int_equal(ps->peers[1].peer_id, lp_client_welcome(a->s)->peer_id);
	assert_true(ps->peers[0].rtt_min_us <= ps->peers[0].rtt_us);
	assert_true(ps->peers[0].rtt_us < 1000000); /* loopback: well below a second */
	assert_true(ps->peers[1].tx_frames >= 1);   /* the broadcast A sent */
	/* The gateway gets the same table; the relay delivered it the broadcast. */
	tw = (struct table_wait){ g, 2, 1 };
	assert_true(rp_pump(&e->w, 5 * LP_NS_PER_SEC, table_cond, &tw));

	assert_int_equal(lp_proto_mac_parse("02:00:00:00:0c:02", &src.mac), 0);
	src.session = a->s;
	src.now = lp_now_ns();
	lp_client_status_fill(&src, &st);
	assert_string_equal(st.state, "admitted");
	assert_true(st.link.rtt_us > 0);
	assert_int_equal(st.count, 1);
	assert_int_equal(st.peers[0].role, LP_ROLE_GATEWAY);
	assert_int_equal(st.peers[0].est_rtt_us, st.link.rtt_us + st.peers[0].link.rtt_us);
	assert_true(lp_ctrl_status_encode(&st, doc, sizeof(doc)) > 0);
}

/* ---- rejects ------------------------------------------------------------------------ */

static void expect_session_reject(struct env *e, struct rp_peer *p, enum lp_reject_reason why)
{
	const struct rp_event *ev;

	assert_true(rp_pump_closed(&e->w, p, ADMIT_TIMEOUT));
	ev = rp_event_find(p, LP_CLIENT_EV_REJECTED, 0);
	assert_non_null(ev);
	assert_int_equal(ev->reject.reason, why);
	assert_true(ev->reject.message[0] != '\0');
	assert_null(rp_event_find(p, LP_CLIENT_EV_WELCOME, 0));
	ev = rp_event_find(p, LP_CLIENT_EV_CLOSED, 0);
	assert_non_null(ev);
	assert_int_equal(ev->err, LP_ERR_REJECTED);
	assert_non_null(lp_client_reject(p->s));
	assert_int_equal(lp_client_reject(p->s)->reason, why);
}

static void test_reject_gateway_and_mac(void **state)
{
	struct env *e = *state;
	struct rp_peer *g1, *c1, *g2, *c2, *c3;
	uint64_t gw0 = rejected(e, "gateway_exists"), dup0 = rejected(e, "duplicate_mac");
	struct rp_peer *ok[2];

	g1 = session(e, "G1", LP_ROLE_GATEWAY, "REJ", "02:00:00:00:0b:01");
	c1 = session(e, "C1", LP_ROLE_CLIENT, "REJ", "02:00:00:00:0b:03");
	ok[0] = g1;
	ok[1] = c1;
	admit_all(e, ok, 2);

	g2 = session(e, "G2", LP_ROLE_GATEWAY, "REJ", "02:00:00:00:0b:02");
	expect_session_reject(e, g2, LP_REJECT_GATEWAY_EXISTS);
	assert_true(lp_client_reject_is_permanent(LP_REJECT_GATEWAY_EXISTS));

	c2 = session(e, "C2", LP_ROLE_CLIENT, "REJ", "02:00:00:00:0b:03");
	expect_session_reject(e, c2, LP_REJECT_DUPLICATE_MAC);
	/* The gateway's identity MAC is taken too. */
	c3 = session(e, "C3", LP_ROLE_CLIENT, "REJ", "02:00:00:00:0b:01");
	expect_session_reject(e, c3, LP_REJECT_DUPLICATE_MAC);

	assert_int_equal(rejected(e, "gateway_exists"), gw0 + 1);
	assert_int_equal(rejected(e, "duplicate_mac"), dup0 + 2);
	/* The admitted peers were not disturbed. */
	assert_true(rp_admitted(g1));
	assert_true(rp_admitted(c1));
	assert_int_equal(metric(e, "lanparty_relay_room_peers{room=\"REJ\"}"), 2);
}

static bool reject_or_closed(void *arg)
{
	const struct rp_peer *p = arg;

	return p->closed && rp_raw_msg(p, LP_CTRL_REJECT) != NULL;
}

/* The session refuses an invalid room code itself, so a raw peer sends the
 * hello JSON by hand. */
static void test_reject_bad_room(void **state)
{
	struct env *e = *state;
	struct lp_client *s = NULL;
	struct lp_client_cfg cfg = { .role = LP_ROLE_CLIENT, .room = "bad room!" };
	struct lp_quic_path path = { 0 };
	const struct lp_ctrl_msg *rej;
	struct rp_peer *r;

	assert_int_equal(lp_proto_mac_parse("02:00:00:00:0c:01", &cfg.mac), 0);
	path.remote = e->relay.addr;
	path.local = e->relay.addr;
	assert_int_equal(lp_client_new(e->w.ctx, &cfg, &path, NULL, NULL, NULL, lp_now_ns(), &s),
	                 LP_ERR_ROOM_CHARS);
	assert_null(s);

	r = rp_raw_new(&e->w, "R");
	assert_non_null(r);
	assert_true(rp_pump(&e->w, ADMIT_TIMEOUT, established_cond, r));
	assert_true(r->established);
	assert_int_equal(rp_raw_ctrl_json(r,
	                                  "{\"type\":\"hello\",\"version\":1,\"role\":\"client\","
	                                  "\"room\":\"bad room!\",\"mac\":\"02:00:00:00:0c:01\","
	                                  "\"datagram_budget\":1400,\"software\":\"raw\"}"),
	                 0);
	assert_true(rp_pump(&e->w, ARRIVE_TIMEOUT, reject_or_closed, r));
	rej = rp_raw_msg(r, LP_CTRL_REJECT);
	assert_non_null(rej);
	if (rej->u.reject.reason != LP_REJECT_BAD_ROOM)
		fail_msg("reject reason %s (%s), want bad_room",
		         lp_ctrl_reject_name(rej->u.reject.reason), rej->u.reject.message);
	assert_null(rp_raw_msg(r, LP_CTRL_WELCOME));
	assert_int_equal(r->close_app, LP_QUIC_APP_REJECTED);
}

static void test_wrong_certificate(void **state)
{
	struct env *e = *state;
	struct lp_quic_server_cfg scfg = { 0 };
	struct lp_quic_client_cfg ccfg = { .server_name = "localhost",
		                           .handshake_timeout_ns = 10 * SEC };
	struct lp_quic_ctx *other = NULL, *pinned = NULL;
	char der[192];
	const struct rp_event *ev;
	struct rp_peer *p;
	struct stat st;

	/* A development certificate that is not the relay's. */
	snprintf(der, sizeof(der), "%s/other.der", e->relay.dir);
	scfg.dev_cert_der_out = der;
	assert_int_equal(lp_quic_ctx_new_server(&scfg, NULL, &other), 0);
	lp_quic_ctx_del(other);
	assert_int_equal(stat(der, &st), 0);
	assert_true(st.st_size > 0);
	ccfg.pin_der_file = der;
	assert_int_equal(lp_quic_ctx_new_client(&ccfg, NULL, &pinned), 0);

	p = rp_session_new(&e->w, "X", LP_ROLE_CLIENT, "CERT", "02:00:00:00:0d:01", pinned);
	assert_non_null(p);
	assert_true(rp_pump_closed(&e->w, p, ADMIT_TIMEOUT));
	ev = rp_event_find(p, LP_CLIENT_EV_CLOSED, 0);
	assert_non_null(ev);
	assert_int_equal(ev->err, LP_ERR_CERT);
	assert_null(rp_event_find(p, LP_CLIENT_EV_CONNECTED, 0));
	assert_null(lp_client_welcome(p->s));
	rp_peer_del(p);
	lp_quic_ctx_del(pinned);
	(void)unlink(der);
}

/* ---- forwarding ------------------------------------------------------------------------- */

#define F_G "02:00:00:00:f0:01"
#define F_A "02:00:00:00:f0:0a"
#define F_B "02:00:00:00:f0:0b"
#define F_C "02:00:00:00:f0:0c"
#define F_LAN "00:1b:21:00:00:01" /* a host on the gateway's LAN */

static void test_forwarding(void **state)
{
	struct env *e = *state;
	struct rp_peer *g, *a, *b, *c, *all[4];
	uint64_t unknown0 = drops(e, "unknown_dest"), loop0 = drops(e, "loop");

	g = session(e, "G", LP_ROLE_GATEWAY, "FWD", F_G);
	a = session(e, "A", LP_ROLE_CLIENT, "FWD", F_A);
	b = session(e, "B", LP_ROLE_CLIENT, "FWD", F_B);
	c = session(e, "C", LP_ROLE_CLIENT, "FWD", F_C);
	all[0] = g;
	all[1] = a;
	all[2] = b;
	all[3] = c;
	admit_all(e, all, 4);

	/* Unicast to a known MAC: that peer only. */
	send_simple(a, F_B, F_A, 200, 0x100);
	wait_tag(e, &b, 1, 0x100);
	grace(e);
	assert_int_equal(tag_count(b, 0x100), 1);
	assert_false(rp_has_tag(g, 0x100));
	assert_false(rp_has_tag(c, 0x100));
	assert_false(rp_has_tag(a, 0x100));

	/* Broadcast: every other peer, never the sender. */
	send_simple(a, BCAST, F_A, 300, 0x101);
	{
		struct rp_peer *others[3] = { g, b, c };

		wait_tag(e, others, 3, 0x101);
	}
	grace(e);
	assert_false(rp_has_tag(a, 0x101));
	assert_int_equal(tag_count(b, 0x101), 1);

	/* Unknown unicast from a client: the gateway only. */
	send_simple(a, "02:00:00:00:99:99", F_A, 120, 0x102);
	wait_tag(e, &g, 1, 0x102);
	grace(e);
	assert_false(rp_has_tag(b, 0x102));
	assert_false(rp_has_tag(c, 0x102));
	assert_false(rp_has_tag(a, 0x102));

	/* The gateway's LAN host talks to A: learned behind G, A only. */
	send_simple(g, F_A, F_LAN, 150, 0x103);
	wait_tag(e, &a, 1, 0x103);
	/* ... and A answers the LAN host: known (learned) unicast, G only. */
	send_simple(a, F_LAN, F_A, 150, 0x104);
	wait_tag(e, &g, 1, 0x104);
	grace(e);
	assert_false(rp_has_tag(b, 0x103));
	assert_false(rp_has_tag(c, 0x103));
	assert_false(rp_has_tag(b, 0x104));
	assert_false(rp_has_tag(c, 0x104));
	assert_int_equal(metric(e, "lanparty_relay_room_learned_macs{room=\"FWD\"}"), 1);

	/* Unknown unicast from the gateway: dropped, never flooded. */
	send_simple(g, "02:00:00:00:99:98", F_LAN, 150, 0x105);
	assert_int_equal(wait_drops(e, "unknown_dest", unknown0 + 1), unknown0 + 1);

	/* No reflection: a client to its own MAC, the gateway to a MAC learned
	 * behind itself, and a gateway frame carrying a client's own MAC as
	 * source (a bridge loop) are all dropped as "loop". */
	send_simple(a, F_A, F_A, 100, 0x106);
	send_simple(g, F_LAN, F_LAN, 100, 0x107);
	send_simple(g, BCAST, F_B, 100, 0x108);
	assert_int_equal(wait_drops(e, "loop", loop0 + 3), loop0 + 3);
	grace(e);
	for (size_t i = 0; i < 4; i++) {
		assert_false(rp_has_tag(all[i], 0x105));
		assert_false(rp_has_tag(all[i], 0x106));
		assert_false(rp_has_tag(all[i], 0x107));
		assert_false(rp_has_tag(all[i], 0x108));
	}
	assert_true(rp_relay_log_count(&e->relay, "action=dropped reason=unknown_dest") >= 1);
	assert_true(rp_relay_log_count(&e->relay, "action=dropped reason=loop") >= 3);
}

/* ---- filters ------------------------------------------------------------------------------ */

#define L_G "02:00:00:00:e0:01"
#define L_A "02:00:00:00:e0:0a"
#define L_B "02:00:00:00:e0:0b"
#define L_LAN_DHCP "00:1b:21:00:00:67"

/* IPv4/UDP 67 -> 68 (a DHCP server reply) inside a frame built by
 * rp_frame_build (the tag at the end stays). */
static void make_dhcp_offer(uint8_t *f, size_t len)
{
	uint8_t *ip = f + LP_ETH_HDR_LEN;
	size_t iplen = len - LP_ETH_HDR_LEN;

	memset(ip, 0, 28);
	ip[0] = 0x45;
	lp_put_u16(ip + 2, (uint16_t)iplen);
	ip[8] = 64;
	ip[9] = 17; /* UDP */
	ip[12] = 192, ip[13] = 168, ip[14] = 1, ip[15] = 1;
	ip[16] = 255, ip[17] = 255, ip[18] = 255, ip[19] = 255;
	lp_put_u16(ip + 20, 67);
	lp_put_u16(ip + 22, 68);
	lp_put_u16(ip + 24, (uint16_t)(iplen - 20));
}

/* IPv6 ICMPv6 router advertisement (type 134). */
static void make_ra(uint8_t *f, size_t len)
{
	uint8_t *ip = f + LP_ETH_HDR_LEN;

	memset(ip, 0, 48);
	ip[0] = 0x60;
	lp_put_u16(ip + 4, (uint16_t)(len - LP_ETH_HDR_LEN - 40));
	ip[6] = 58; /* ICMPv6 */
	ip[7] = 255;
	ip[8] = 0xfe, ip[9] = 0x80, ip[23] = 1;   /* fe80::1 */
	ip[24] = 0xff, ip[25] = 0x02, ip[39] = 1; /* ff02::1 */
	ip[40] = 134;
}

struct filter_case {
	const char *reason;
	uint32_t tag;
	unsigned count; /* frames sent for this reason */
};

static void test_filters(void **state)
{
	struct env *e = *state;
	static const struct filter_case cases[] = {
		{ "invalid_src", 0x300, 2 }, { "spoofed_src", 0x302, 1 },
		{ "jumbo", 0x303, 1 },       { "switch_control", 0x304, 1 },
		{ "dhcp_server", 0x305, 1 }, { "ipv6_ra", 0x306, 1 },
	};
	uint64_t before[LP_ARRAY_LEN(cases)];
	struct rp_peer *g, *a, *b, *all[3], *others[2];
	uint8_t f[1600];

	g = session(e, "G", LP_ROLE_GATEWAY, "FLT", L_G);
	a = session(e, "A", LP_ROLE_CLIENT, "FLT", L_A);
	b = session(e, "B", LP_ROLE_CLIENT, "FLT", L_B);
	all[0] = g;
	all[1] = a;
	all[2] = b;
	others[0] = g;
	others[1] = b;
	admit_all(e, all, 3);
	for (size_t i = 0; i < LP_ARRAY_LEN(cases); i++)
		before[i] = drops(e, cases[i].reason);

	/* From client A, each frame matching exactly one filter. */
	rp_frame_build(f, 100, BCAST, "01:00:5e:00:00:01", LP_ETHERTYPE_IPV4, 0x300);
	send_frame(a, f, 100);
	rp_frame_build(f, 100, BCAST, "00:00:00:00:00:00", LP_ETHERTYPE_IPV4, 0x301);
	send_frame(a, f, 100);
	rp_frame_build(f, 100, BCAST, L_B, LP_ETHERTYPE_IPV4, 0x302);
	send_frame(a, f, 100);
	/* Room MTU 1380: the largest untagged frame is 1394 bytes. */
	rp_frame_build(f, 1395, BCAST, L_A, LP_ETHERTYPE_IPV4, 0x303);
	send_frame(a, f, 1395);
	rp_frame_build(f, 64, "01:80:c2:00:00:00", L_A, 0x0027, 0x304);
	send_frame(a, f, 64);
	rp_frame_build(f, 342, BCAST, L_A, LP_ETHERTYPE_IPV4, 0x305);
	make_dhcp_offer(f, 342);
	send_frame(a, f, 342);
	rp_frame_build(f, 120, "33:33:00:00:00:01", L_A, LP_ETHERTYPE_IPV6, 0x306);
	make_ra(f, 120);
	send_frame(a, f, 120);

	/* A marker broadcast sent after them arrives; the filtered ones never. */
	send_simple(a, BCAST, L_A, 90, 0x3ff);
	wait_tag(e, others, 2, 0x3ff);
	for (size_t i = 0; i < LP_ARRAY_LEN(cases); i++) {
		char needle[96];

		assert_int_equal(wait_drops(e, cases[i].reason, before[i] + cases[i].count),
		                 before[i] + cases[i].count);
		snprintf(needle, sizeof(needle), "action=filtered reason=%s", cases[i].reason);
		if (rp_relay_log_count(&e->relay, needle) < cases[i].count)
			fail_msg("relay log lacks '%s'", needle);
	}
	grace(e);
	for (uint32_t tag = 0x300; tag <= 0x306; tag++)
		for (size_t i = 0; i < 3; i++)
			assert_false(rp_has_tag(all[i], tag));

	/* The same DHCP reply and RA from the gateway are the LAN's own: they
	 * pass to every client. */
	rp_frame_build(f, 342, BCAST, L_LAN_DHCP, LP_ETHERTYPE_IPV4, 0x310);
	make_dhcp_offer(f, 342);
	send_frame(g, f, 342);
	rp_frame_build(f, 120, "33:33:00:00:00:01", L_LAN_DHCP, LP_ETHERTYPE_IPV6, 0x311);
	make_ra(f, 120);
	send_frame(g, f, 120);
	{
		struct rp_peer *clients[2] = { a, b };

		wait_tag(e, clients, 2, 0x310);
		wait_tag(e, clients, 2, 0x311);
	}
	assert_int_equal(drops(e, "dhcp_server"), before[4] + 1);
	assert_int_equal(drops(e, "ipv6_ra"), before[5] + 1);
}

/* ---- filter bypasses (issue 12) ---------------------------------------------------------- */

#define Y_G "02:00:00:00:e1:01"
#define Y_A "02:00:00:00:e1:0a"
#define Y_B "02:00:00:00:e1:0b"
#define Y_LAN_ROUTER "00:1b:21:00:01:01" /* a LAN host, globally administered */
#define Y_LAN_PHONE "06:1b:21:00:01:02"  /* a LAN host with a private MAC */
#define Y_ALL_NODES "33:33:00:00:00:01"

/* IPv4/UDP sport -> dport with a BOOTP body: op, and DHCP message type
 * (option 53) msg, inside a frame built by rp_frame_build. */
static void make_bootp(uint8_t *f, size_t len, uint16_t sport, uint16_t dport, uint8_t op,
                       uint8_t msg)
{
	uint8_t *ip = f + LP_ETH_HDR_LEN;
	size_t iplen = len - LP_ETH_HDR_LEN;

	assert_true(iplen >= 28 + 236 + 8 + 4);
	memset(ip, 0, 28 + 236 + 8);
	ip[0] = 0x45;
	lp_put_u16(ip + 2, (uint16_t)iplen);
	ip[8] = 64;
	ip[9] = 17; /* UDP */
	ip[12] = 192, ip[13] = 168, ip[14] = 1, ip[15] = 66;
	ip[16] = 255, ip[17] = 255, ip[18] = 255, ip[19] = 255;
	lp_put_u16(ip + 20, sport);
	lp_put_u16(ip + 22, dport);
	lp_put_u16(ip + 24, (uint16_t)(iplen - 20));
	ip[28] = op;
	ip[29] = 1;
	ip[30] = 6;
	lp_put_u32(ip + 28 + 236, 0x63825363u);
	ip[28 + 240] = 53;
	ip[28 + 241] = 1;
	ip[28 + 242] = msg;
	ip[28 + 243] = 255;
}

/* IPv6 fe80::1 -> ff02::1 with next header nh; returns the offset of the
 * first byte after the fixed header. */
static size_t make_ipv6(uint8_t *f, size_t len, uint8_t nh)
{
	uint8_t *ip = f + LP_ETH_HDR_LEN;

	memset(ip, 0, 40);
	ip[0] = 0x60;
	lp_put_u16(ip + 4, (uint16_t)(len - LP_ETH_HDR_LEN - 40));
	ip[6] = nh;
	ip[7] = 255;
	ip[8] = 0xfe, ip[9] = 0x80, ip[23] = 1;
	ip[24] = 0xff, ip[25] = 0x02, ip[39] = 1;
	return LP_ETH_HDR_LEN + 40;
}

/* RA behind a destination-options header (8 bytes of padding). */
static void make_ra_dstopts(uint8_t *f, size_t len)
{
	size_t o = make_ipv6(f, len, 60);

	memset(f + o, 0, 16);
	f[o] = 58;    /* then ICMPv6 */
	f[o + 2] = 1; /* PadN */
	f[o + 3] = 4;
	f[o + 8] = 134;
}

/* DHCPv6 message msg from UDP sport to dport. */
static void make_dhcpv6(uint8_t *f, size_t len, uint16_t sport, uint16_t dport, uint8_t msg)
{
	size_t o = make_ipv6(f, len, 17);

	memset(f + o, 0, 12);
	lp_put_u16(f + o, sport);
	lp_put_u16(f + o + 2, dport);
	lp_put_u16(f + o + 4, (uint16_t)(len - o));
	f[o + 8] = msg;
}

static void test_filter_bypasses(void **state)
{
	struct env *e = *state;
	static const struct filter_case cases[] = {
		{ "dhcp_server", 0x330, 2 },   { "ipv6_ra", 0x332, 1 },
		{ "dhcpv6_server", 0x333, 2 }, { "vlan_tagged", 0x335, 2 },
		{ "ipv6_fragment", 0x337, 1 }, { "icmp_router", 0x338, 1 },
	};
	uint64_t before[LP_ARRAY_LEN(cases)];
	uint64_t bad0 = rejected(e, "bad_hello"), dup0 = rejected(e, "duplicate_mac");
	struct rp_peer *g, *a, *b, *all[3], *others[2], *clients[2], *m1, *m2;
	uint8_t f[1600];

	g = session(e, "G", LP_ROLE_GATEWAY, "BYP", Y_G);
	a = session(e, "A", LP_ROLE_CLIENT, "BYP", Y_A);
	b = session(e, "B", LP_ROLE_CLIENT, "BYP", Y_B);
	all[0] = g, all[1] = a, all[2] = b;
	others[0] = g, others[1] = b;
	clients[0] = a, clients[1] = b;
	admit_all(e, all, 3);
	for (size_t i = 0; i < LP_ARRAY_LEN(cases); i++)
		before[i] = drops(e, cases[i].reason);

	/* Rogue DHCP from a player via another source port: an OFFER from
	 * 6767 to 68, and an ACK to the server port. */
	rp_frame_build(f, 342, BCAST, Y_A, LP_ETHERTYPE_IPV4, 0x330);
	make_bootp(f, 342, 6767, 68, 2, 2);
	send_frame(a, f, 342);
	rp_frame_build(f, 342, BCAST, Y_A, LP_ETHERTYPE_IPV4, 0x331);
	make_bootp(f, 342, 68, 67, 1, 5);
	send_frame(a, f, 342);
	/* RA behind an extension header. */
	rp_frame_build(f, 120, Y_ALL_NODES, Y_A, LP_ETHERTYPE_IPV6, 0x332);
	make_ra_dstopts(f, 120);
	send_frame(a, f, 120);
	/* DHCPv6 ADVERTISE to the client port, REPLY from another port. */
	rp_frame_build(f, 120, "33:33:00:01:00:02", Y_A, LP_ETHERTYPE_IPV6, 0x333);
	make_dhcpv6(f, 120, 547, 546, 2);
	send_frame(a, f, 120);
	rp_frame_build(f, 120, "33:33:00:01:00:02", Y_A, LP_ETHERTYPE_IPV6, 0x334);
	make_dhcpv6(f, 120, 40000, 546, 7);
	send_frame(a, f, 120);
	/* 802.1Q and 802.1ad tagged frames from a client. */
	for (uint32_t t = 0x335; t <= 0x336; t++) {
		rp_frame_build(f, 100, BCAST, Y_A,
		               t == 0x335 ? LP_ETHERTYPE_VLAN : LP_ETHERTYPE_QINQ, t);
		lp_put_u16(f + 14, 10); /* VID 10 */
		lp_put_u16(f + 16, LP_ETHERTYPE_ARP);
		send_frame(a, f, 100);
	}
	/* A non-first fragment of ICMPv6. */
	rp_frame_build(f, 120, Y_ALL_NODES, Y_A, LP_ETHERTYPE_IPV6, 0x337);
	{
		size_t o = make_ipv6(f, 120, 44);

		memset(f + o, 0, 8);
		f[o] = 58;
		lp_put_u16(f + o + 2, 1u << 3); /* offset 8 bytes */
	}
	send_frame(a, f, 120);
	/* An ICMP redirect to player B "from the router" (the relay never
	 * checks IP sources). */
	rp_frame_build(f, 98, Y_B, Y_A, LP_ETHERTYPE_IPV4, 0x338);
	memset(f + LP_ETH_HDR_LEN, 0, 28);
	f[LP_ETH_HDR_LEN] = 0x45;
	lp_put_u16(f + LP_ETH_HDR_LEN + 2, 98 - LP_ETH_HDR_LEN);
	f[LP_ETH_HDR_LEN + 8] = 64;
	f[LP_ETH_HDR_LEN + 9] = 1;  /* ICMP */
	f[LP_ETH_HDR_LEN + 20] = 5; /* redirect */
	f[LP_ETH_HDR_LEN + 21] = 1; /* for the host */
	send_frame(a, f, 98);

	/* A marker sent after them arrives; the filtered frames never do. */
	send_simple(a, BCAST, Y_A, 90, 0x33f);
	wait_tag(e, others, 2, 0x33f);
	for (size_t i = 0; i < LP_ARRAY_LEN(cases); i++) {
		char needle[96];

		assert_int_equal(wait_drops(e, cases[i].reason, before[i] + cases[i].count),
		                 before[i] + cases[i].count);
		snprintf(needle, sizeof(needle), "action=filtered reason=%s", cases[i].reason);
		if (rp_relay_log_count(&e->relay, needle) < cases[i].count)
			fail_msg("relay log lacks '%s'", needle);
	}
	grace(e);
	for (uint32_t tag = 0x330; tag <= 0x338; tag++)
		for (size_t i = 0; i < 3; i++)
			if (rp_has_tag(all[i], tag))
				fail_msg("frame 0x%x reached peer %zu", (unsigned)tag, i);

	/* What must still pass: the gateway's DHCP offer, its RA behind a
	 * header and its DHCPv6 ADVERTISE reach every client. */
	rp_frame_build(f, 342, BCAST, Y_LAN_ROUTER, LP_ETHERTYPE_IPV4, 0x340);
	make_bootp(f, 342, 67, 68, 2, 2);
	send_frame(g, f, 342);
	rp_frame_build(f, 120, Y_ALL_NODES, Y_LAN_ROUTER, LP_ETHERTYPE_IPV6, 0x341);
	make_ra_dstopts(f, 120);
	send_frame(g, f, 120);
	rp_frame_build(f, 120, "33:33:00:01:00:02", Y_LAN_ROUTER, LP_ETHERTYPE_IPV6, 0x342);
	make_dhcpv6(f, 120, 547, 546, 2);
	send_frame(g, f, 120);
	/* A player's own DHCP DISCOVER and DHCPv6 SOLICIT reach the gateway. */
	rp_frame_build(f, 342, BCAST, Y_A, LP_ETHERTYPE_IPV4, 0x343);
	make_bootp(f, 342, 68, 67, 1, 1);
	send_frame(a, f, 342);
	rp_frame_build(f, 120, "33:33:00:01:00:02", Y_A, LP_ETHERTYPE_IPV6, 0x344);
	make_dhcpv6(f, 120, 546, 547, 1);
	send_frame(a, f, 120);
	for (uint32_t tag = 0x340; tag <= 0x342; tag++)
		wait_tag(e, clients, 2, tag);
	wait_tag(e, &g, 1, 0x343);
	wait_tag(e, &g, 1, 0x344);
	for (size_t i = 0; i < LP_ARRAY_LEN(cases); i++)
		assert_int_equal(drops(e, cases[i].reason), before[i] + cases[i].count);

	/* A claimed LAN-host MAC: a NIC's (global) MAC is refused at the hello;
	 * a LAN host's private MAC the relay learned behind the gateway too. */
	m1 = session(e, "M1", LP_ROLE_CLIENT, "BYP", Y_LAN_ROUTER);
	expect_session_reject(e, m1, LP_REJECT_BAD_HELLO);
	assert_non_null(strstr(lp_client_reject(m1->s)->message, "not locally administered"));
	send_simple(g, BCAST, Y_LAN_PHONE, 90, 0x345);
	wait_tag(e, clients, 2, 0x345);
	m2 = session(e, "M2", LP_ROLE_CLIENT, "BYP", Y_LAN_PHONE);
	expect_session_reject(e, m2, LP_REJECT_DUPLICATE_MAC);
	assert_int_equal(rejected(e, "bad_hello"), bad0 + 1);
	assert_int_equal(rejected(e, "duplicate_mac"), dup0 + 1);
	assert_true(rp_admitted(a) && rp_admitted(b) && rp_admitted(g));
}

/* ---- egress budget skip ------------------------------------------------------------------- */

static void test_egress_budget_skip(void **state)
{
	struct env *e = *state;
	struct rp_peer *a, *c, *b, *small, *two[2];
	const struct lp_ctrl_msg *wl, *rej;
	char needle[200], key[200];
	uint64_t too_big0 = drops(e, "too_big");
	uint8_t f[1600];

	/* A is the gateway: only its side of the room may send tagged frames. */
	a = session(e, "A", LP_ROLE_GATEWAY, "SKIP", "02:00:00:00:50:0a");
	c = session(e, "C", LP_ROLE_CLIENT, "SKIP", "02:00:00:00:50:0c");
	two[0] = a;
	two[1] = c;
	admit_all(e, two, 2);
	assert_int_equal(lp_client_welcome(a->s)->mtu, 1380);
	/* The sender's path must carry a VLAN-tagged room-MTU frame (1402). */
	assert_true(lp_client_datagram_budget(a->s) >= 1402);

	/* Room MTU 1380 needs a budget of 1380 + 14 + 4 = 1398: one byte less
	 * is refused, exactly that is admitted. */
	small = raw_joined(e, "small", LP_ROLE_CLIENT, "SKIP", "02:00:00:00:50:0d", 1397);
	rej = rp_raw_msg(small, LP_CTRL_REJECT);
	assert_non_null(rej);
	assert_int_equal(rej->u.reject.reason, LP_REJECT_BUDGET_TOO_SMALL);
	b = raw_joined(e, "B", LP_ROLE_CLIENT, "SKIP", "02:00:00:00:50:0b", 1398);
	wl = rp_raw_msg(b, LP_CTRL_WELCOME);
	assert_non_null(wl);
	assert_int_equal(wl->u.welcome.mtu, 1380);
	peer_key(key, sizeof(key), "peer_datagram_budget_bytes", "SKIP", b, LP_ROLE_CLIENT,
	         "02:00:00:00:50:0b");
	assert_int_equal(metric(e, key), 1398);

	/* A full-MTU untagged frame (1394 bytes, datagram 1398) fits everyone. */
	rp_frame_build(f, 1394, BCAST, "02:00:00:00:50:0a", LP_ETHERTYPE_IPV4, 0x500);
	send_frame(a, f, 1394);
	{
		struct rp_peer *rx[2] = { b, c };

		wait_tag(e, rx, 2, 0x500);
	}

	/* A VLAN-tagged full-MTU frame (1398 bytes) passes the jumbo filter
	 * (the tag is allowed on top of the MTU) but its 1402-byte datagram
	 * exceeds B's budget: skipped for B only, still delivered to C. */
	rp_frame_build(f, 1398, BCAST, "02:00:00:00:50:0a", LP_ETHERTYPE_VLAN, 0x501);
	lp_put_u16(f + 14, 0x0005);
	lp_put_u16(f + 16, LP_ETHERTYPE_IPV4);
	send_frame(a, f, 1398);
	wait_tag(e, &c, 1, 0x501);
	assert_int_equal(wait_drops(e, "too_big", too_big0 + 1), too_big0 + 1);
	grace(e);
	assert_false(rp_has_tag(b, 0x501));
	snprintf(needle, sizeof(needle),
	         "room SKIP: skipped frame from peer %u to peer %u: datagram of 1402 bytes exceeds "
	         "the target budget of 1398 bytes",
	         (unsigned)peer_id_of(a), (unsigned)peer_id_of(b));
	if (rp_relay_log_count(&e->relay, needle) != 1)
		fail_msg("relay log lacks '%s'", needle);
	peer_key(key, sizeof(key), "peer_drops_total", "SKIP", b, LP_ROLE_CLIENT,
	         "02:00:00:00:50:0b");
	key[strlen(key) - 1] = '\0';
	strncat(key, ",reason=\"too_big\"}", sizeof(key) - strlen(key) - 1);
	assert_int_equal(metric(e, key), 1);
}

/* ---- malformed datagrams -------------------------------------------------------------------- */

static void test_malformed_disconnect(void **state)
{
	struct env *e = *state;
	static const uint8_t garbage[][8] = {
		{ 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 }, /* bad overlay version/type */
		{ 0x10, 0x01, 0x00, 0x04, 1, 2, 3, 4 }, /* overlay with a 4-byte "frame" */
		{ 0x00 },
		{ 0x10, 0x01, 0x00, 0x40, 1, 2, 3, 4 }, /* length beyond the datagram */
		{ 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef },
	};
	static const size_t glen[] = { 8, 8, 1, 8, 8 };
	struct rp_peer *a, *m;
	const struct rp_event *ev;
	uint64_t malformed0 = drops(e, "malformed");
	uint32_t mid;

	a = session(e, "A", LP_ROLE_CLIENT, "MAL", "02:00:00:00:60:0a");
	admit(e, a);
	m = raw_joined(e, "M", LP_ROLE_CLIENT, "MAL", "02:00:00:00:60:0b", 1400);
	assert_true(rp_admitted(m));
	mid = peer_id_of(m);
	wait_events(e, a, LP_CLIENT_EV_PEER_JOINED, 1, ARRIVE_TIMEOUT);

	/* Four of five (--malformed-limit 5): counted, still connected. */
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(rp_raw_datagram(m, garbage[i], glen[i]), 0);
	assert_int_equal(wait_drops(e, "malformed", malformed0 + 4), malformed0 + 4);
	grace(e);
	assert_false(m->closed);
	assert_int_equal(rp_event_count(a, LP_CLIENT_EV_PEER_LEFT), 0);

	/* The fifth: the relay closes M with application error 0x3. */
	assert_int_equal(rp_raw_datagram(m, garbage[4], glen[4]), 0);
	assert_true(rp_pump_closed(&e->w, m, ARRIVE_TIMEOUT));
	assert_int_equal(m->close_app, LP_QUIC_APP_MALFORMED);
	assert_non_null(strstr(m->close_reason, "malformed"));
	wait_events(e, a, LP_CLIENT_EV_PEER_LEFT, 1, ARRIVE_TIMEOUT);
	ev = rp_event_find(a, LP_CLIENT_EV_PEER_LEFT, 0);
	assert_int_equal(ev->peer.peer_id, mid);
	assert_true(ev->peer_known);
	if (strstr(ev->peer_reason, "malformed") == NULL)
		fail_msg("PEER_LEFT reason '%s' does not mention malformed", ev->peer_reason);
	assert_int_equal(drops(e, "malformed"), malformed0 + 5);
	assert_true(rp_relay_log_count(&e->relay, "room MAL: disconnecting peer") == 1);
	assert_true(rp_admitted(a));
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static void test_lifecycle(void **state)
{
	struct env *e = *state;
	struct rp_peer *a, *b, *v, *two[2];
	const struct rp_event *ev;
	uint32_t bid, vid;
	uint64_t t0;

	a = session(e, "A", LP_ROLE_CLIENT, "LIFE", "02:00:00:00:70:0a");
	b = session(e, "B", LP_ROLE_GATEWAY, "LIFE", "02:00:00:00:70:0b");
	two[0] = a;
	two[1] = b;
	admit_all(e, two, 2);
	bid = peer_id_of(b);

	/* Graceful: the DISCONNECT reason reaches the others. */
	assert_int_equal(lp_client_disconnect(b->s, "bye from test", lp_now_ns()), 0);
	assert_true(rp_pump_closed(&e->w, b, ARRIVE_TIMEOUT));
	ev = rp_event_find(b, LP_CLIENT_EV_CLOSED, 0);
	assert_int_equal(ev->err, LP_OK);
	wait_events(e, a, LP_CLIENT_EV_PEER_LEFT, 1, ARRIVE_TIMEOUT);
	ev = rp_event_find(a, LP_CLIENT_EV_PEER_LEFT, 0);
	assert_int_equal(ev->peer.peer_id, bid);
	assert_string_equal(ev->peer_reason, "bye from test");
	assert_false(ev->gateway_present);
	assert_false(lp_client_gateway_present(a->s));

	/* A peer that just vanishes: --idle-timeout 2 turns it into a leave. */
	v = raw_joined(e, "V", LP_ROLE_CLIENT, "LIFE", "02:00:00:00:70:0c", 1400);
	assert_true(rp_admitted(v));
	vid = peer_id_of(v);
	wait_events(e, a, LP_CLIENT_EV_PEER_JOINED, 2, ARRIVE_TIMEOUT);
	v->frozen = true;
	t0 = lp_now_ns();
	wait_events(e, a, LP_CLIENT_EV_PEER_LEFT, 2, 15 * SEC);
	ev = rp_event_find(a, LP_CLIENT_EV_PEER_LEFT, 1);
	assert_int_equal(ev->peer.peer_id, vid);
	assert_string_equal(ev->peer_reason, "idle timeout");
	/* Not before the idle timeout. */
	assert_true(lp_now_ns() - t0 >= 1500 * MS);
	/* A itself, kept alive by its keepalives, stays admitted. */
	assert_true(rp_admitted(a));
	assert_int_equal(metric(e, "lanparty_relay_room_peers{room=\"LIFE\"}"), 1);
}

/* ---- limits relay: room full and rate limits ------------------------------------------------- */

static void test_room_full(void **state)
{
	struct env *e = *state;
	struct rp_peer *a, *b, *c, *two[2];
	uint64_t full0 = rejected(e, "room_full");

	a = session(e, "A", LP_ROLE_CLIENT, "FULL", "02:00:00:00:80:0a");
	b = session(e, "B", LP_ROLE_GATEWAY, "FULL", "02:00:00:00:80:0b");
	two[0] = a;
	two[1] = b;
	admit_all(e, two, 2);
	c = session(e, "C", LP_ROLE_CLIENT, "FULL", "02:00:00:00:80:0c");
	expect_session_reject(e, c, LP_REJECT_ROOM_FULL);
	assert_int_equal(rejected(e, "room_full"), full0 + 1);
	/* Another room still opens. */
	c = session(e, "D", LP_ROLE_CLIENT, "FULL2", "02:00:00:00:80:0c");
	admit(e, c);
}

struct burst_result {
	uint64_t elapsed_ns; /* first send until the relay counted every frame */
	uint64_t forwarded;  /* handed to the target's QUIC connection by the relay */
	uint64_t received;   /* arrived at the target */
	uint64_t dropped;    /* the rate limit's drop counter */
	uint64_t queue_full; /* egress tail drops at the relay (not the limit's doing) */
};

/*
 * Sends n frames from `from` as fast as the QUIC queue takes them, waits
 * until the relay has counted all n as received from that peer, then lets
 * the forwarded ones arrive at `to`. Every frame is accounted for exactly:
 * forwarded + rate-limited + egress queue drops == n.
 */
static struct burst_result burst(struct env *e, struct rp_peer *from, enum lp_role from_role,
                                 const char *from_mac, const char *room, struct rp_peer *to,
                                 enum lp_role to_role, const char *to_mac, const char *dst,
                                 size_t len, unsigned n, uint32_t tag0, const char *reason)
{
	struct burst_result res = { 0 };
	uint64_t before = drops(e, reason), qf0 = drops(e, "queue_full"), t0 = lp_now_ns();
	char key[200];
	uint8_t f[1600];

	to->record_tags = false;
	for (unsigned i = 0; i < n; i++) {
		rp_frame_build(f, len, dst, from_mac, LP_ETHERTYPE_IPV4, tag0 + i);
		send_frame(from, f, len);
	}
	peer_key(key, sizeof(key), "peer_frames_rx_total", room, from, from_role, from_mac);
	assert_int_equal(wait_metric(e, key, n, 20 * SEC), n);
	res.elapsed_ns = lp_now_ns() - t0;
	grace(e);
	peer_key(key, sizeof(key), "peer_frames_tx_total", room, to, to_role, to_mac);
	res.forwarded = metric(e, key);
	res.received = to->frames;
	res.dropped = drops(e, reason) - before;
	res.queue_full = drops(e, "queue_full") - qf0;
	printf("  %s: sent %u, forwarded %llu, received %llu, rate-limited %llu, egress "
	       "queue drops %llu, in %.3f s\n",
	       reason, n, (unsigned long long)res.forwarded, (unsigned long long)res.received,
	       (unsigned long long)res.dropped, (unsigned long long)res.queue_full,
	       (double)res.elapsed_ns / 1e9);
	assert_int_equal(res.forwarded + res.dropped + res.queue_full, n);
	assert_true(res.received <= res.forwarded);
	return res;
}

/* --rate-broadcast 20: bucket of 40 frames, refilled at 20/s. */
static void test_rate_broadcast(void **state)
{
	struct env *e = *state;
	struct rp_peer *a, *b, *two[2];
	struct burst_result r;
	double bound;

	a = session(e, "A", LP_ROLE_CLIENT, "RB", "02:00:00:00:90:0a");
	b = session(e, "B", LP_ROLE_CLIENT, "RB", "02:00:00:00:90:0b");
	two[0] = a;
	two[1] = b;
	admit_all(e, two, 2);
	r = burst(e, a, LP_ROLE_CLIENT, "02:00:00:00:90:0a", "RB", b, LP_ROLE_CLIENT,
	          "02:00:00:00:90:0b", BCAST, 200, 200, 0x1000, "rate_broadcast");
	bound = 40.0 + 20.0 * ((double)r.elapsed_ns / 1e9) + 1.0;
	assert_true((double)(r.forwarded + r.queue_full) <= bound);
	assert_true(r.forwarded + r.queue_full >= 40);
	assert_true(r.received >= 32);
	assert_int_equal(metric(e, "lanparty_relay_drops_total{reason=\"rate_unknown\"}"), 0);
}

/* --rate-unknown 20: unknown unicast from a client, to the gateway only. */
static void test_rate_unknown(void **state)
{
	struct env *e = *state;
	struct rp_peer *a, *g, *two[2];
	struct burst_result r;
	double bound;

	a = session(e, "A", LP_ROLE_CLIENT, "RU", "02:00:00:00:91:0a");
	g = session(e, "G", LP_ROLE_GATEWAY, "RU", "02:00:00:00:91:01");
	two[0] = a;
	two[1] = g;
	admit_all(e, two, 2);
	r = burst(e, a, LP_ROLE_CLIENT, "02:00:00:00:91:0a", "RU", g, LP_ROLE_GATEWAY,
	          "02:00:00:00:91:01", "02:00:00:00:77:77", 200, 200, 0x2000, "rate_unknown");
	bound = 40.0 + 20.0 * ((double)r.elapsed_ns / 1e9) + 1.0;
	assert_true((double)(r.forwarded + r.queue_full) <= bound);
	assert_true(r.forwarded + r.queue_full >= 40);
	assert_true(r.received >= 32);
}

/* --rate-total-mbit 1: 125000 bytes/s on top of the 4 MB default burst,
 * counted in datagram bytes (1000-byte frames are 1004-byte datagrams). */
static void test_rate_total(void **state)
{
	struct env *e = *state;
	struct rp_peer *a, *b, *two[2];
	struct burst_result r;
	double bucket = 4000000.0 / 1004.0, bound;

	a = session(e, "A", LP_ROLE_CLIENT, "RT", "02:00:00:00:92:0a");
	b = session(e, "B", LP_ROLE_CLIENT, "RT", "02:00:00:00:92:0b");
	two[0] = a;
	two[1] = b;
	admit_all(e, two, 2);
	r = burst(e, a, LP_ROLE_CLIENT, "02:00:00:00:92:0a", "RT", b, LP_ROLE_CLIENT,
	          "02:00:00:00:92:0b", "02:00:00:00:92:0b", 1000, 6000, 0x30000, "rate_total");
	bound = bucket + 125000.0 / 1004.0 * ((double)r.elapsed_ns / 1e9) + 1.0;
	assert_true((double)(r.forwarded + r.queue_full) <= bound);
	assert_true((double)(r.forwarded + r.queue_full) >= bucket - 1.0);
	assert_true(r.received > 0);
}

/* --rate-gateway-broadcast 20: a broadcast flood from the LAN is cut to
 * the gateway's bucket (40, refilled at 20/s), counted and logged. */
static void test_rate_gateway_broadcast(void **state)
{
	struct env *e = *state;
	struct rp_peer *g, *a, *two[2];
	struct burst_result r;
	double bound;

	g = session(e, "G", LP_ROLE_GATEWAY, "GB", "02:00:00:00:93:01");
	a = session(e, "A", LP_ROLE_CLIENT, "GB", "02:00:00:00:93:0a");
	two[0] = g;
	two[1] = a;
	admit_all(e, two, 2);
	r = burst(e, g, LP_ROLE_GATEWAY, "02:00:00:00:93:01", "GB", a, LP_ROLE_CLIENT,
	          "02:00:00:00:93:0a", BCAST, 200, 500, 0x4000, "rate_broadcast");
	bound = 40.0 + 20.0 * ((double)r.elapsed_ns / 1e9) + 1.0;
	assert_true((double)(r.forwarded + r.queue_full) <= bound);
	assert_true(r.forwarded + r.queue_full >= 40);
	assert_true(r.dropped >= 400);
	assert_true(r.received >= 32);
	assert_true(rp_relay_log_count(&e->relay, "(gateway): rate_broadcast") >= 1);
}

/* --rate-room-mbit 1: a room that sends more than its 8 MB burst and
 * 125000 bytes/s is cut (rate_room, on the room and the sender), and a
 * room next to it forwards every frame. */
static void test_rate_room(void **state)
{
	struct env *e = *state;
	struct rp_peer *a, *b, *c, *d, *two[2];
	struct burst_result r;
	double bucket = 8000000.0 / 1004.0, bound;

	a = session(e, "A", LP_ROLE_CLIENT, "R1", "02:00:00:00:94:0a");
	b = session(e, "B", LP_ROLE_CLIENT, "R1", "02:00:00:00:94:0b");
	two[0] = a;
	two[1] = b;
	admit_all(e, two, 2);
	c = session(e, "C", LP_ROLE_CLIENT, "R2", "02:00:00:00:95:0c");
	d = session(e, "D", LP_ROLE_CLIENT, "R2", "02:00:00:00:95:0d");
	two[0] = c;
	two[1] = d;
	admit_all(e, two, 2);

	r = burst(e, a, LP_ROLE_CLIENT, "02:00:00:00:94:0a", "R1", b, LP_ROLE_CLIENT,
	          "02:00:00:00:94:0b", "02:00:00:00:94:0b", 1000, 10000, 0x50000, "rate_room");
	bound = bucket + 125000.0 / 1004.0 * ((double)r.elapsed_ns / 1e9) + 1.0;
	assert_true((double)(r.forwarded + r.queue_full) <= bound);
	assert_true((double)(r.forwarded + r.queue_full) >= bucket - 1.0);
	assert_true(r.dropped >= 1000);
	assert_int_equal(metric(e, "lanparty_relay_room_rate_limited_total{room=\"R1\"}"),
	                 r.dropped);
	assert_true(rp_relay_log_count(&e->relay, "(client): rate_room") >= 1);

	/* The room next door, right after: all of it goes through. */
	r = burst(e, c, LP_ROLE_CLIENT, "02:00:00:00:95:0c", "R2", d, LP_ROLE_CLIENT,
	          "02:00:00:00:95:0d", "02:00:00:00:95:0d", 1000, 500, 0x60000, "rate_room");
	assert_int_equal(r.dropped, 0);
	assert_int_equal(r.forwarded + r.queue_full, 500);
	assert_int_equal(metric(e, "lanparty_relay_room_rate_limited_total{room=\"R2\"}"), 0);
}

int main(void)
{
	const struct CMUnitTest main_tests[] = {
		cmocka_unit_test_teardown(test_admission, peers_teardown),
		cmocka_unit_test_teardown(test_peer_stats, peers_teardown),
		cmocka_unit_test_teardown(test_reject_gateway_and_mac, peers_teardown),
		cmocka_unit_test_teardown(test_reject_bad_room, peers_teardown),
		cmocka_unit_test_teardown(test_wrong_certificate, peers_teardown),
		cmocka_unit_test_teardown(test_forwarding, peers_teardown),
		cmocka_unit_test_teardown(test_filters, peers_teardown),
		cmocka_unit_test_teardown(test_filter_bypasses, peers_teardown),
		cmocka_unit_test_teardown(test_egress_budget_skip, peers_teardown),
		cmocka_unit_test_teardown(test_malformed_disconnect, peers_teardown),
		cmocka_unit_test_teardown(test_lifecycle, peers_teardown),
	};
	const struct CMUnitTest limits_tests[] = {
		cmocka_unit_test_teardown(test_room_full, peers_teardown),
		cmocka_unit_test_teardown(test_rate_broadcast, peers_teardown),
		cmocka_unit_test_teardown(test_rate_unknown, peers_teardown),
		cmocka_unit_test_teardown(test_rate_total, peers_teardown),
	};
	const struct CMUnitTest budget_tests[] = {
		cmocka_unit_test_teardown(test_rate_gateway_broadcast, peers_teardown),
		cmocka_unit_test_teardown(test_rate_room, peers_teardown),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("relay_e2e_main", main_tests, main_setup,
	                                      main_teardown);
	failed += cmocka_run_group_tests_name("relay_e2e_limits", limits_tests, limits_setup,
	                                      limits_teardown);
	failed += cmocka_run_group_tests_name("relay_e2e_budget", budget_tests, budget_setup,
	                                      budget_teardown);
	return failed;
}
