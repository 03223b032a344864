/*
 * test_relay_private_e2e.c - private rooms end to end: the real lanparty-relay
 * binary (a child process on 127.0.0.1) with real lib/client-core sessions
 * holding lib/room keys, and raw lib/quic peers that send hellos a session
 * never would (a proof made for another connection, a player's credentials
 * asking for the gateway slot).
 *
 *   sessions G (gateway), A, B; raw R1, R2          lanparty-relay (child)
 *   +------------------------------------+  QUIC  +----------------------------+
 *   | keys from room files / invites     | <----> | 127.0.0.1:<free>/udp        |
 *   | tap: every datagram as it arrived  |        | --state-dir <tmp>/state     |
 *   +------------------------------------+        | stderr -> relay.log (debug) |
 *                                                 +----------------------------+
 *
 * Relay blindness: a marker in a frame is readable in what the relay
 * forwards in an open room, never in a private one.
 * Tamper and replay: what the relay delivered to a receiver is injected
 * into that receiver again, as is and with one bit flipped in the clear
 * header or in the ciphertext - as a relay (or whoever holds it) could.
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

#include "lp_room.h"
#include "relay_proc.h"

#define MS LP_NS_PER_MS
#define SEC LP_NS_PER_SEC
#define ADMIT_TIMEOUT (20 * SEC)
#define ARRIVE_TIMEOUT (10 * SEC)
#define BCAST "ff:ff:ff:ff:ff:ff"

static struct rp_relay g_relay;
static struct rp_world g_w;

/* A room as its host has it: the room file's secret and host seed. */
struct room {
	uint8_t secret[32], host_seed[32], host_pub[32];
	struct lp_room_keys k;
};

static void room_make(struct room *rm)
{
	assert_int_equal(lp_room_random(rm->secret, sizeof(rm->secret)), 0);
	assert_int_equal(lp_room_random(rm->host_seed, sizeof(rm->host_seed)), 0);
	assert_int_equal(lp_room_host_pub_derive(rm->host_seed, rm->host_pub), 0);
	assert_int_equal(lp_room_keys_derive(rm->secret, rm->host_pub, &rm->k), 0);
}

static int setup(void **state)
{
	static const char *const args[] = { "--log-level", "debug", "--idle-timeout", "3", NULL };

	(void)state;
	if (rp_relay_start(&g_relay, args) != 0)
		return -1;
	return rp_world_init(&g_w, &g_relay);
}

static int teardown(void **state)
{
	(void)state;
	rp_world_free(&g_w);
	return rp_relay_stop(&g_relay) == 0 ? 0 : -1;
}

static int peers_teardown(void **state)
{
	(void)state;
	while (g_w.npeers > 0)
		rp_peer_del(g_w.peers[g_w.npeers - 1]);
	return 0;
}

static struct rp_peer *gateway(const struct room *rm, const char *name, const char *mac)
{
	struct rp_peer *p = rp_session_new_private(&g_w, name, LP_ROLE_GATEWAY, &rm->k,
	                                           rm->host_seed, mac, NULL);

	assert_non_null(p);
	return p;
}

static struct rp_peer *client(const struct lp_room_keys *k, const char *name, const char *mac)
{
	struct rp_peer *p = rp_session_new_private(&g_w, name, LP_ROLE_CLIENT, k, NULL, mac, NULL);

	assert_non_null(p);
	return p;
}

struct tag_wait {
	const struct rp_peer *p;
	uint32_t tag;
};

static bool has_tag(void *arg)
{
	const struct tag_wait *t = arg;

	return rp_has_tag(t->p, t->tag);
}

static void send_and_see(struct rp_peer *from, struct rp_peer *to, const char *src, uint32_t tag)
{
	uint8_t f[200];
	struct tag_wait t = { to, tag };

	rp_frame_build(f, sizeof(f), BCAST, src, 0x88b5, tag);
	assert_int_equal(rp_send_frame_wait(from, f, sizeof(f), 2 * SEC), 0);
	assert_true(rp_pump(&g_w, ARRIVE_TIMEOUT, has_tag, &t));
}

/* The reject a stranger's session saw: not_admitted and nothing more. */
static void assert_refused(struct rp_peer *p, char *msg_out, size_t cap)
{
	const struct rp_event *ev;

	assert_true(rp_pump_closed(&g_w, p, ADMIT_TIMEOUT));
	ev = rp_event_find(p, LP_CLIENT_EV_REJECTED, 0);
	assert_non_null(ev);
	assert_int_equal(ev->reject.reason, LP_REJECT_NOT_ADMITTED);
	assert_null(rp_event_find(p, LP_CLIENT_EV_WELCOME, 0));
	assert_int_equal(rp_event_count(p, LP_CLIENT_EV_PEER_JOINED), 0);
	if (msg_out != NULL)
		snprintf(msg_out, cap, "%s", ev->reject.message);
}

static void assert_log_clean(const struct room *rm)
{
	char b64[LP_ROOM_B64_32_LEN + 1];

	assert_true(lp_room_b64url_encode(rm->secret, 32, b64, sizeof(b64)) > 0);
	assert_int_equal(rp_relay_log_count(&g_relay, b64), 0);
	assert_true(lp_room_b64url_encode(rm->host_seed, 32, b64, sizeof(b64)) > 0);
	assert_int_equal(rp_relay_log_count(&g_relay, b64), 0);
	assert_true(lp_room_b64url_encode(rm->k.room_id, 16, b64, sizeof(b64)) > 0);
	assert_int_equal(rp_relay_log_count(&g_relay, b64), 0); /* only "~" + 8 of it */
	b64[8] = '\0';
	assert_true(rp_relay_log_count(&g_relay, b64) > 0);
}

/* The right secret admits; frames cross both ways, the gateway's marked. */
static void test_admitted(void **state)
{
	struct room rm;
	struct rp_peer *g, *a, *both[2];
	const struct rp_event *w;

	(void)state;
	room_make(&rm);
	g = gateway(&rm, "G", "02:00:00:00:01:01");
	a = client(&rm.k, "A", "02:00:00:00:01:0a");
	both[0] = g;
	both[1] = a;
	assert_true(rp_pump_admitted(&g_w, ADMIT_TIMEOUT, both, 2));
	w = rp_event_find(a, LP_CLIENT_EV_WELCOME, 0);
	assert_non_null(w);
	/* The room MTU leaves room for the seal on the budget A announced. */
	{
		size_t need = 0;

		assert_int_equal(lp_proto_budget_for_mtu(w->welcome.mtu, &need), 0);
		assert_true(need + LP_ROOM_SEAL_OVERHEAD <= lp_client_hello_budget(a->s));
	}
	send_and_see(g, a, "02:00:00:00:01:01", 0x1001);
	send_and_see(a, g, "02:00:00:00:01:0a", 0x1002);
	assert_int_equal(a->from_gateway, a->frames);
	assert_int_equal(g->from_gateway, 0);
	assert_true(a->last_dg_len > 0 && (a->last_dg[1] & LP_PROTO_FLAG_SEALED) != 0);
	assert_log_clean(&rm);
}

/*
 * A wrong secret, one room's id with another's secret, a proof replayed
 * from another connection: not_admitted, the same text, no member seen.
 */
static void test_rejected(void **state)
{
	struct room rm, other;
	struct rp_peer *g, *a, *x, *r1, *r2, *both[2];
	struct lp_room_keys k;
	struct lp_ctrl_msg m;
	uint8_t e1[LP_QUIC_EXPORTER_LEN];
	char msg1[LP_CTRL_TEXT_MAX + 1], msg2[LP_CTRL_TEXT_MAX + 1];
	const struct lp_ctrl_msg *rej;

	(void)state;
	room_make(&rm);
	room_make(&other);
	g = gateway(&rm, "G", "02:00:00:00:02:01");
	a = client(&rm.k, "A", "02:00:00:00:02:0a");
	both[0] = g;
	both[1] = a;
	assert_true(rp_pump_admitted(&g_w, ADMIT_TIMEOUT, both, 2));

	/* The room's public parts, the admission key of another secret. */
	k = rm.k;
	memcpy(k.adm_seed, other.k.adm_seed, sizeof(k.adm_seed));
	x = client(&k, "wrong-secret", "02:00:00:00:02:0b");
	assert_refused(x, msg1, sizeof(msg1));
	/* The room's id with everything else of another room. */
	k = other.k;
	memcpy(k.room_id, rm.k.room_id, sizeof(k.room_id));
	x = client(&k, "id-of-one-secret-of-other", "02:00:00:00:02:0c");
	assert_refused(x, msg2, sizeof(msg2));
	assert_string_equal(msg1, msg2);
	assert_null(strstr(msg1, "02:00:00:00:02"));

	/* A proof made for connection 1, sent on connection 2: refused; the
	 * same proof on connection 1 admits (so it was a good proof). */
	r1 = rp_raw_new(&g_w, "R1");
	r2 = rp_raw_new(&g_w, "R2");
	assert_non_null(r1);
	assert_non_null(r2);
	while (!(r1->established && r2->established))
		assert_true(rp_pump(&g_w, 100 * MS, NULL, NULL));
	assert_int_equal(lp_quic_conn_exporter(r1->qc, LP_ROOM_EXPORTER_LABEL, e1, sizeof(e1)), 0);
	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_HELLO;
	m.u.hello.version = LP_CTRL_VERSION;
	m.u.hello.role = LP_ROLE_CLIENT;
	m.u.hello.private_room = true;
	assert_int_equal(lp_proto_mac_parse("02:00:00:00:02:0d", &m.u.hello.mac), 0);
	m.u.hello.datagram_budget = LP_QUIC_MAX_UDP_PAYLOAD;
	memcpy(m.u.hello.priv.room_id, rm.k.room_id, 16);
	memcpy(m.u.hello.priv.verifier, rm.k.verifier, 32);
	memcpy(m.u.hello.priv.host, rm.k.host_pub, 32);
	assert_int_equal(lp_room_sign_admission(&rm.k, e1, "client", m.u.hello.priv.proof), 0);
	assert_int_equal(rp_raw_ctrl_msg(r2, &m), 0);
	assert_true(rp_pump_closed(&g_w, r2, ADMIT_TIMEOUT));
	rej = rp_raw_msg(r2, LP_CTRL_REJECT);
	assert_non_null(rej);
	assert_int_equal(rej->u.reject.reason, LP_REJECT_NOT_ADMITTED);
	assert_string_equal(rej->u.reject.message, msg1);
	assert_null(rp_raw_msg(r2, LP_CTRL_PEER_JOINED));
	assert_int_equal(rp_raw_ctrl_msg(r1, &m), 0);
	while (rp_raw_msg(r1, LP_CTRL_WELCOME) == NULL && !r1->closed)
		assert_true(rp_pump(&g_w, 100 * MS, NULL, NULL));
	assert_non_null(rp_raw_msg(r1, LP_CTRL_WELCOME));
	assert_true(rp_relay_metric(&g_relay,
	                            "lanparty_relay_rejected_total{reason=\"not_admitted\"}") >= 3);
	assert_log_clean(&rm);
}

static bool knows_gateway(void *arg)
{
	const struct rp_peer *p = arg;

	return rp_event_find(p, LP_CLIENT_EV_WELCOME, 0)->welcome.gateway_present ||
	       rp_event_count(p, LP_CLIENT_EV_PEER_JOINED) > 0;
}

/* A player's credentials (the invite, no room file) cannot take the
 * gateway slot, not even arriving before the gateway. */
static void test_player_not_gateway(void **state)
{
	struct room rm;
	struct rp_peer *r, *g, *a, *both[2];
	struct lp_ctrl_msg m;
	uint8_t e[LP_QUIC_EXPORTER_LEN];
	const struct lp_ctrl_msg *rej;

	(void)state;
	room_make(&rm);
	r = rp_raw_new(&g_w, "player-as-gateway");
	assert_non_null(r);
	while (!r->established)
		assert_true(rp_pump(&g_w, 100 * MS, NULL, NULL));
	assert_int_equal(lp_quic_conn_exporter(r->qc, LP_ROOM_EXPORTER_LABEL, e, sizeof(e)), 0);
	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_HELLO;
	m.u.hello.version = LP_CTRL_VERSION;
	m.u.hello.role = LP_ROLE_GATEWAY;
	m.u.hello.private_room = true;
	assert_int_equal(lp_proto_mac_parse("02:00:00:00:03:0e", &m.u.hello.mac), 0);
	m.u.hello.datagram_budget = 1200;
	memcpy(m.u.hello.priv.room_id, rm.k.room_id, 16);
	memcpy(m.u.hello.priv.verifier, rm.k.verifier, 32);
	memcpy(m.u.hello.priv.host, rm.k.host_pub, 32);
	assert_int_equal(lp_room_sign_admission(&rm.k, e, "gateway", m.u.hello.priv.proof), 0);
	/* The best host proof a player can make: with the key it has. */
	m.u.hello.priv.has_host_proof = true;
	assert_int_equal(lp_room_sign_host(rm.k.adm_seed, e, m.u.hello.priv.host_proof), 0);
	assert_int_equal(rp_raw_ctrl_msg(r, &m), 0);
	assert_true(rp_pump_closed(&g_w, r, ADMIT_TIMEOUT));
	rej = rp_raw_msg(r, LP_CTRL_REJECT);
	assert_non_null(rej);
	assert_int_equal(rej->u.reject.reason, LP_REJECT_NOT_ADMITTED);

	g = gateway(&rm, "G", "02:00:00:00:03:01");
	a = client(&rm.k, "A", "02:00:00:00:03:0a");
	both[0] = g;
	both[1] = a;
	assert_true(rp_pump_admitted(&g_w, ADMIT_TIMEOUT, both, 2));
	/* A admitted first learns of G from a PEER_JOINED the relay sends with
	 * G's welcome: it may still be on its way. */
	assert_true(rp_pump(&g_w, ARRIVE_TIMEOUT, knows_gateway, a));
}

static bool joined_twice(void *arg)
{
	return rp_event_count(arg, LP_CLIENT_EV_PEER_JOINED) >= 2;
}

/* The host's gateway comes back while its old connection still holds the
 * slot (it vanished without a close): the new one takes over. */
static void test_takeover(void **state)
{
	struct room rm;
	struct rp_peer *g1, *g2, *a, *both[2];
	const struct rp_event *left;

	(void)state;
	room_make(&rm);
	g1 = gateway(&rm, "G1", "02:00:00:00:04:01");
	a = client(&rm.k, "A", "02:00:00:00:04:0a");
	both[0] = g1;
	both[1] = a;
	assert_true(rp_pump_admitted(&g_w, ADMIT_TIMEOUT, both, 2));
	g1->frozen = true;
	g2 = gateway(&rm, "G2", "02:00:00:00:04:01");
	assert_true(rp_pump_admitted(&g_w, ADMIT_TIMEOUT, &g2, 1));
	assert_true(rp_pump(&g_w, ARRIVE_TIMEOUT, joined_twice, a));
	left = rp_event_find(a, LP_CLIENT_EV_PEER_LEFT, 0);
	assert_non_null(left);
	assert_string_equal(left->peer_reason, "replaced");
	send_and_see(g2, a, "02:00:00:00:04:01", 0x4001);
	send_and_see(a, g2, "02:00:00:00:04:0a", 0x4002);
}

/*
 * Tamper and replay between relay and receiver: the datagram the relay
 * delivered, injected again as is, with a bit of the clear header flipped
 * and with a bit of the ciphertext flipped: each dropped and counted. The
 * same replay in an open room is delivered again (what this guards).
 */
static void test_tamper_replay(void **state)
{
	struct room rm;
	struct rp_peer *g, *a, *og, *oa, *both[2];
	const struct lp_counters *c;
	uint8_t d[2048];
	size_t n;
	uint64_t frames;

	(void)state;
	room_make(&rm);
	g = gateway(&rm, "G", "02:00:00:00:05:01");
	a = client(&rm.k, "A", "02:00:00:00:05:0a");
	both[0] = g;
	both[1] = a;
	assert_true(rp_pump_admitted(&g_w, ADMIT_TIMEOUT, both, 2));
	send_and_see(g, a, "02:00:00:00:05:01", 0x5001);
	n = a->last_dg_len;
	assert_true(n > 4 + 14 + LP_ROOM_SEAL_OVERHEAD && n <= sizeof(d));
	memcpy(d, a->last_dg, n);
	frames = a->frames;
	c = lp_client_counters(a->s);

	/* What the relay delivered, again: a replay. */
	lp_client_inject_datagram(a->s, d, n);
	assert_int_equal(c->drops[LP_DROP_REPLAY], 1);
	/* The clear source MAC changed: no sender with that key. */
	d[4 + 6 + 5] ^= 0x01;
	lp_client_inject_datagram(a->s, d, n);
	assert_int_equal(c->drops[LP_DROP_AUTH], 1);
	assert_int_equal(a->frames, frames);

	/* A fresh datagram of the room (a LAN host behind the gateway, sealed
	 * with the room's key: what the gateway would send next), altered on
	 * its way: a header bit, a payload bit; then as sent, then again. */
	{
		struct lp_room_sealer *sl = NULL;
		uint8_t f[200], orig[2048];
		ssize_t m;

		assert_int_equal(lp_room_sealer_new(&rm.k, &sl), 0);
		rp_frame_build(f, sizeof(f), BCAST, "02:00:00:00:05:99", 0x88b5, 0x5010);
		m = lp_proto_overlay_encode(orig, sizeof(orig), LP_PROTO_TYPE_ETHERNET, f,
		                            sizeof(f));
		assert_true(m > 0);
		m = lp_room_seal(sl, orig, (size_t)m, sizeof(orig));
		assert_true(m > 0);
		n = (size_t)m;
		orig[1] |= LP_PROTO_FLAG_FROM_GATEWAY; /* as the relay marks it */
		memcpy(d, orig, n);
		d[4 + 12] ^= 0x01; /* ethertype, clear but authenticated */
		lp_client_inject_datagram(a->s, d, n);
		assert_int_equal(c->drops[LP_DROP_AUTH], 2);
		memcpy(d, orig, n);
		d[n - LP_ROOM_SEAL_OVERHEAD - 1] ^= 0x80; /* the last ciphertext byte */
		lp_client_inject_datagram(a->s, d, n);
		assert_int_equal(c->drops[LP_DROP_AUTH], 3);
		memcpy(d, orig, n);
		d[1] &= (uint8_t)~LP_PROTO_FLAG_SEALED;
		lp_client_inject_datagram(a->s, d, n);
		assert_int_equal(c->drops[LP_DROP_UNSEALED], 1);
		assert_int_equal(a->frames, frames);
		lp_client_inject_datagram(a->s, orig, n);
		assert_int_equal(a->frames, frames + 1);
		assert_true(rp_has_tag(a, 0x5010));
		lp_client_inject_datagram(a->s, orig, n);
		assert_int_equal(c->drops[LP_DROP_REPLAY], 2);
		assert_int_equal(a->frames, frames + 1);
		lp_room_sealer_del(sl);
	}
	/* The session goes on: the next real frame still arrives. */
	send_and_see(g, a, "02:00:00:00:05:01", 0x5002);

	/* Control: an open room has no such protection. */
	og = rp_session_new(&g_w, "OG", LP_ROLE_GATEWAY, "OPEN5", "02:00:00:00:05:11", NULL);
	oa = rp_session_new(&g_w, "OA", LP_ROLE_CLIENT, "OPEN5", "02:00:00:00:05:1a", NULL);
	assert_non_null(og);
	assert_non_null(oa);
	both[0] = og;
	both[1] = oa;
	assert_true(rp_pump_admitted(&g_w, ADMIT_TIMEOUT, both, 2));
	send_and_see(og, oa, "02:00:00:00:05:11", 0x5003);
	{
		uint8_t f[200];
		ssize_t m;

		rp_frame_build(f, sizeof(f), BCAST, "02:00:00:00:05:11", 0x88b5, 0x5003);
		m = lp_proto_overlay_encode(d, sizeof(d), LP_PROTO_TYPE_ETHERNET, f, sizeof(f));
		assert_true(m > 0);
		d[1] = LP_PROTO_FLAG_FROM_GATEWAY;
		frames = oa->frames;
		lp_client_inject_datagram(oa->s, d, (size_t)m);
		assert_int_equal(oa->frames, frames + 1);
	}
}

static bool memmem_has(const uint8_t *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);

	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return true;
	return false;
}

/* A frame carrying `marker` from one peer to another; whether the marker
 * was readable in the datagram as the relay handed it on (the receiver's
 * tap sees exactly what the relay process forwarded) and in the frame the
 * receiver delivered. */
static void marker_cross(struct rp_peer *from, struct rp_peer *to, const char *src, uint32_t tag,
                         const char *marker, bool *on_wire, bool *delivered)
{
	uint8_t f[300];
	struct tag_wait t = { to, tag };

	rp_frame_build(f, sizeof(f), BCAST, src, 0x88b5, tag);
	memcpy(f + 40, marker, strlen(marker));
	to->last_dg_len = 0;
	assert_int_equal(rp_send_frame_wait(from, f, sizeof(f), 2 * SEC), 0);
	assert_true(rp_pump(&g_w, ARRIVE_TIMEOUT, has_tag, &t));
	*on_wire = memmem_has(to->last_dg, to->last_dg_len, marker);
	*delivered = rp_has_tag(to, tag);
}

/*
 * Relay blindness: a marker the gateway sends to a player, and one sent
 * back, are in plaintext in what the relay forwards in an open room and
 * never in a private room (where both still arrive).
 */
static void test_blind_relay(void **state)
{
	struct room rm;
	struct rp_peer *g, *a, *og, *oa, *both[2];
	bool wire, got;

	(void)state;
	og = rp_session_new(&g_w, "OG", LP_ROLE_GATEWAY, "OPEN7", "02:00:00:00:07:11", NULL);
	oa = rp_session_new(&g_w, "OA", LP_ROLE_CLIENT, "OPEN7", "02:00:00:00:07:1a", NULL);
	assert_non_null(og);
	assert_non_null(oa);
	both[0] = og;
	both[1] = oa;
	assert_true(rp_pump_admitted(&g_w, ADMIT_TIMEOUT, both, 2));
	marker_cross(og, oa, "02:00:00:00:07:11", 0x7001, "MARKER-LAN-TO-PLAYER", &wire, &got);
	assert_true(got);
	assert_true(wire); /* what this test guards: an open room is readable */
	marker_cross(oa, og, "02:00:00:00:07:1a", 0x7004, "MARKER-PLAYER-TO-LAN", &wire, &got);
	assert_true(got);
	assert_true(wire);

	room_make(&rm);
	g = gateway(&rm, "G", "02:00:00:00:07:01");
	a = client(&rm.k, "A", "02:00:00:00:07:0a");
	both[0] = g;
	both[1] = a;
	assert_true(rp_pump_admitted(&g_w, ADMIT_TIMEOUT, both, 2));
	marker_cross(g, a, "02:00:00:00:07:01", 0x7002, "MARKER-LAN-TO-PLAYER", &wire, &got);
	assert_true(got);
	assert_false(wire);
	marker_cross(a, g, "02:00:00:00:07:0a", 0x7003, "MARKER-PLAYER-TO-LAN", &wire, &got);
	assert_true(got);
	assert_false(wire);
}

/* A DHCP offer (UDP 67 -> 68, BOOTREPLY) broadcast from src, with tag. */
static void dhcp_offer(uint8_t *f, size_t len, const char *src, uint32_t tag)
{
	rp_frame_build(f, len, BCAST, src, 0x0800, tag);
	memset(f + 14, 0, 28);
	f[14] = 0x45;
	f[16] = (uint8_t)((len - 14) >> 8);
	f[17] = (uint8_t)(len - 14);
	f[22] = 64;
	f[23] = 17;
	f[26] = 10;
	f[29] = 1;
	memset(f + 30, 0xff, 4);
	f[35] = 67;
	f[37] = 68;
	f[38] = (uint8_t)((len - 34) >> 8);
	f[39] = (uint8_t)(len - 34);
	f[42] = 2; /* BOOTREPLY */
}

/*
 * The relay cannot read a private room's payloads, so the clients filter:
 * a player's DHCP offer is dropped by the other player (dhcp_server), the
 * gateway's (FROM_GATEWAY) is delivered.
 */
static void test_client_filters(void **state)
{
	struct room rm;
	struct rp_peer *g, *a, *b, *all[3];
	uint8_t f[300];
	struct tag_wait t;

	(void)state;
	room_make(&rm);
	g = gateway(&rm, "G", "02:00:00:00:08:01");
	a = client(&rm.k, "A", "02:00:00:00:08:0a");
	b = client(&rm.k, "B", "02:00:00:00:08:0b");
	all[0] = g;
	all[1] = a;
	all[2] = b;
	assert_true(rp_pump_admitted(&g_w, ADMIT_TIMEOUT, all, 3));
	dhcp_offer(f, sizeof(f), "02:00:00:00:08:0b", 0x8001);
	assert_int_equal(rp_send_frame_wait(b, f, sizeof(f), 2 * SEC), 0);
	t = (struct tag_wait){ g, 0x8001 }; /* the relay forwarded it (G is a bare session) */
	assert_true(rp_pump(&g_w, ARRIVE_TIMEOUT, has_tag, &t));
	dhcp_offer(f, sizeof(f), "02:00:00:00:08:01", 0x8002);
	assert_int_equal(rp_send_frame_wait(g, f, sizeof(f), 2 * SEC), 0);
	t = (struct tag_wait){ a, 0x8002 };
	assert_true(rp_pump(&g_w, ARRIVE_TIMEOUT, has_tag, &t));
	/* B's offer reached A before G's (same path, in order) and was dropped. */
	assert_false(rp_has_tag(a, 0x8001));
	assert_int_equal(lp_client_counters(a->s)->drops[LP_DROP_DHCP_SERVER], 1);
	assert_int_equal(a->from_gateway, a->frames);
}

/* A relay restarted with its state directory keeps its pin: a peer that
 * trusts only the pin (no certificate file) joins before and after. */
static void test_restart_keeps_pin(void **state)
{
	char dir[] = "/tmp/lp_private_state.XXXXXX";
	const char *args[] = { "--state-dir", dir, "--idle-timeout", "3", NULL };
	struct rp_relay r;
	struct rp_world w;
	struct lp_quic_client_cfg tls;
	struct lp_quic_ctx *ctx = NULL;
	struct room rm;
	uint8_t pin1[32], pin2[32], der[4096];
	char key[128];
	FILE *f;
	size_t len;

	(void)state;
	room_make(&rm);
	assert_non_null(mkdtemp(dir));
	for (int round = 0; round < 2; round++) {
		struct rp_peer *a;

		assert_int_equal(rp_relay_start(&r, args), 0);
		f = fopen(r.der_path, "rb");
		assert_non_null(f);
		len = fread(der, 1, sizeof(der), f);
		fclose(f);
		assert_int_equal(lp_quic_cert_pin(der, len, round == 0 ? pin1 : pin2), 0);
		if (round == 0) {
			memset(&tls, 0, sizeof(tls));
			tls.spki_pin_set = true;
			memcpy(tls.spki_pin, pin1, sizeof(pin1));
			assert_int_equal(lp_quic_ctx_new_client(&tls, NULL, &ctx), 0);
		}
		assert_int_equal(rp_world_init(&w, &r), 0);
		a = rp_session_new_private(&w, "A", LP_ROLE_CLIENT, &rm.k, NULL,
		                           "02:00:00:00:06:0a", ctx);
		assert_non_null(a);
		assert_true(rp_pump_admitted(&w, ADMIT_TIMEOUT, &a, 1));
		{
			char line[80], text[LP_ROOM_PIN_STR_SIZE];

			assert_int_equal(lp_room_pin_format(round == 0 ? pin1 : pin2, text), 0);
			snprintf(line, sizeof(line), "relay pin: %s", text);
			assert_int_equal(rp_relay_log_count(&r, line), 1);
		}
		rp_peer_del(a);
		rp_world_free(&w);
		assert_int_equal(rp_relay_stop(&r), 0);
	}
	assert_memory_equal(pin1, pin2, 32);
	lp_quic_ctx_del(ctx);
	snprintf(key, sizeof(key), "%s/%s", dir, LP_QUIC_DEV_KEY_FILE);
	assert_int_equal(unlink(key), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_admitted, peers_teardown),
		cmocka_unit_test_teardown(test_rejected, peers_teardown),
		cmocka_unit_test_teardown(test_player_not_gateway, peers_teardown),
		cmocka_unit_test_teardown(test_takeover, peers_teardown),
		cmocka_unit_test_teardown(test_tamper_replay, peers_teardown),
		cmocka_unit_test_teardown(test_blind_relay, peers_teardown),
		cmocka_unit_test_teardown(test_client_filters, peers_teardown),
	};
	const struct CMUnitTest restart[] = {
		cmocka_unit_test(test_restart_keeps_pin),
	};
	int failed = cmocka_run_group_tests_name("relay_private", tests, setup, teardown);

	return failed + cmocka_run_group_tests_name("relay_restart", restart, NULL, NULL);
}
