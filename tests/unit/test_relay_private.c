/*
 * test_relay_private.c - private rooms in the relay engine (PRIVATE ROOMS
 * in src/relay/room.h) with real lib/room keys and proofs, fake connections
 * and fake exporter values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lp_room.h"
#include "room.h"

#define SEC LP_NS_PER_SEC
#define T0 (1000 * SEC)
#define BUDGET 1407u
#define NCONN 24

struct fake {
	int conns[NCONN];
	struct lp_ctrl_msg ctrl[256];
	int ctrl_conn[256];
	size_t nctrl;
	uint8_t dg[64][1600];
	size_t dg_len[64];
	int dg_conn[64];
	size_t ndg;
	int disc_conn[8];
	char disc_reason[8][LP_CTRL_TEXT_MAX + 1];
	size_t ndisc;
	struct lp_relay *r;
};

static struct fake g;

static int conn_index(void *conn)
{
	return (int)((int *)conn - g.conns);
}

static int cb_dg(void *user, void *conn, const uint8_t *data, size_t len)
{
	(void)user;
	assert_true(g.ndg < 64 && len <= sizeof(g.dg[0]));
	memcpy(g.dg[g.ndg], data, len);
	g.dg_len[g.ndg] = len;
	g.dg_conn[g.ndg++] = conn_index(conn);
	return 0;
}

static void cb_ctrl(void *user, void *conn, const struct lp_ctrl_msg *m)
{
	(void)user;
	assert_true(g.nctrl < 256);
	assert_int_equal(lp_ctrl_msg_validate(m), 0);
	g.ctrl_conn[g.nctrl] = conn_index(conn);
	g.ctrl[g.nctrl++] = *m;
}

static void cb_disc(void *user, void *conn, const char *reason)
{
	(void)user;
	assert_true(g.ndisc < 8);
	g.disc_conn[g.ndisc] = conn_index(conn);
	(void)snprintf(g.disc_reason[g.ndisc++], sizeof(g.disc_reason[0]), "%s", reason);
}

static void reset(void)
{
	g.nctrl = g.ndg = g.ndisc = 0;
}

static void setup_relay(const struct lp_relay_cfg *cfg)
{
	struct lp_relay_callbacks cb = { cb_dg, cb_ctrl, cb_disc, NULL };

	memset(&g, 0, sizeof(g));
	assert_int_equal(lp_relay_new(&g.r, cfg, &cb, NULL), 0);
}

/* A room: its file (secret, host seed) and derived keys. */
struct room {
	uint8_t secret[32], host_seed[32], host_pub[32];
	struct lp_room_keys k;
};

static void room_make(struct room *rm, uint8_t tag)
{
	memset(rm->secret, tag, sizeof(rm->secret));
	memset(rm->host_seed, tag ^ 0x5a, sizeof(rm->host_seed));
	assert_int_equal(lp_room_host_pub_derive(rm->host_seed, rm->host_pub), 0);
	assert_int_equal(lp_room_keys_derive(rm->secret, rm->host_pub, &rm->k), 0);
}

static void exporter_of(int conn, uint8_t e[32])
{
	memset(e, 0xe0 ^ conn, 32);
}

/* The hello a peer holding rm's invite (and, for the gateway, its room
 * file) sends on connection `conn` (which fixes the exporter). */
static void hello(struct lp_ctrl_hello *h, const struct room *rm, enum lp_role role, int conn,
                  uint8_t mac_last)
{
	uint8_t e[32];

	memset(h, 0, sizeof(*h));
	h->version = LP_CTRL_VERSION;
	h->role = role;
	h->private_room = true;
	h->mac = (struct lp_mac){ { 0x02, 0, 0, 0, 0, mac_last } };
	h->datagram_budget = BUDGET;
	exporter_of(conn, e);
	memcpy(h->priv.room_id, rm->k.room_id, 16);
	memcpy(h->priv.verifier, rm->k.verifier, 32);
	memcpy(h->priv.host, rm->k.host_pub, 32);
	assert_int_equal(lp_room_sign_admission(&rm->k, e, lp_ctrl_role_name(role), h->priv.proof),
	                 0);
	if (role == LP_ROLE_GATEWAY) {
		h->priv.has_host_proof = true;
		assert_int_equal(lp_room_sign_host(rm->host_seed, e, h->priv.host_proof), 0);
	}
}

static int admit(const struct lp_ctrl_hello *h, int conn, uint8_t src, uint64_t now,
                 struct lp_ctrl_msg *reply, struct lp_relay_peer **p)
{
	uint8_t e[32], key[4] = { 192, 0, 2, src };
	struct lp_relay_conn_info ci = { e, key, sizeof(key) };

	exporter_of(conn, e);
	return lp_relay_admit_conn(g.r, h, &ci, &g.conns[conn], BUDGET, now, reply, p);
}

/* The one answer a failed private hello gets: not_admitted, nothing else
 * sent to it, nothing sent to anyone else. */
static void assert_not_admitted(const struct lp_ctrl_hello *h, int conn, uint8_t src,
                                const char *want_msg)
{
	struct lp_ctrl_msg reply;
	struct lp_relay_peer *p = (struct lp_relay_peer *)1;

	reset();
	assert_int_equal(admit(h, conn, src, T0, &reply, &p), LP_ERR_REJECTED);
	assert_null(p);
	assert_int_equal(reply.type, LP_CTRL_REJECT);
	assert_int_equal(reply.u.reject.reason, LP_REJECT_NOT_ADMITTED);
	if (want_msg != NULL)
		assert_string_equal(reply.u.reject.message, want_msg);
	assert_int_equal(g.nctrl, 1);
	assert_int_equal(g.ctrl_conn[0], conn);
}

static void test_admission(void **state)
{
	struct room a, b;
	struct lp_ctrl_hello h, x;
	struct lp_ctrl_msg reply;
	struct lp_relay_peer *gw, *c1, *p;
	const struct lp_relay_room *room;
	char msg[LP_CTRL_TEXT_MAX + 1];
	size_t need;

	(void)state;
	setup_relay(NULL);
	room_make(&a, 0x11);
	room_make(&b, 0x22);

	/* A stranger first, before the room exists: the same answer as later. */
	hello(&h, &b, LP_ROLE_CLIENT, 1, 1);
	memcpy(h.priv.room_id, a.k.room_id, 16); /* room A's id, room B's secret */
	reset();
	assert_int_equal(admit(&h, 1, 1, T0, &reply, &p), LP_ERR_REJECTED);
	assert_int_equal(reply.u.reject.reason, LP_REJECT_NOT_ADMITTED);
	snprintf(msg, sizeof(msg), "%s", reply.u.reject.message);
	assert_null(strstr(msg, "~"));

	hello(&h, &a, LP_ROLE_GATEWAY, 2, 0x10);
	reset();
	assert_int_equal(admit(&h, 2, 2, T0, &reply, &gw), 0);
	assert_int_equal(reply.type, LP_CTRL_WELCOME);
	room = lp_relay_peer_room(gw);
	assert_true(lp_relay_room_is_private(room));
	assert_int_equal(lp_relay_room_name(room)[0], '~');
	assert_int_equal(strlen(lp_relay_room_name(room)), 9);
	/* The seal's 32 bytes come off the MTU the budget allows. */
	assert_int_equal(lp_proto_budget_for_mtu(reply.u.welcome.mtu, &need), 0);
	assert_true(need + LP_ROOM_SEAL_OVERHEAD <= BUDGET);
	assert_true(need + LP_ROOM_SEAL_OVERHEAD + 1 > BUDGET ||
	            reply.u.welcome.mtu == LP_RELAY_DEFAULT_MTU_CEILING);

	hello(&h, &a, LP_ROLE_CLIENT, 3, 0x20);
	assert_int_equal(admit(&h, 3, 3, T0, &reply, &c1), 0);
	assert_int_equal(lp_relay_room_peer_count(room), 2);

	/* Now that the room exists: wrong secret, A's id with B's secret, a
	 * proof recorded on connection 3 replayed on connection 4, a proof for
	 * the other role: the same reject, the same text, nothing to others. */
	hello(&h, &a, LP_ROLE_CLIENT, 4, 0x30);
	hello(&x, &b, LP_ROLE_CLIENT, 4, 0x30);
	memcpy(h.priv.proof, x.priv.proof, sizeof(h.priv.proof)); /* signed with B's secret */
	assert_not_admitted(&h, 4, 4, msg);
	memcpy(x.priv.room_id, a.k.room_id, 16);
	assert_not_admitted(&x, 4, 4, msg);
	hello(&h, &a, LP_ROLE_CLIENT, 3, 0x30); /* signed for connection 3 */
	assert_not_admitted(&h, 4, 4, msg);
	/* A's id and verifier with another host key: the id does not match. */
	hello(&h, &a, LP_ROLE_CLIENT, 4, 0x30);
	memcpy(h.priv.host, b.k.host_pub, 32);
	assert_not_admitted(&h, 4, 4, msg);
	/* A client's proof cannot ask for the gateway slot, with or without a
	 * host proof of its own making. */
	hello(&x, &a, LP_ROLE_CLIENT, 4, 0x31);
	x.role = LP_ROLE_GATEWAY;
	x.priv.has_host_proof = true;
	assert_int_equal(lp_room_sign_host(b.host_seed, (uint8_t[32]){ 0 }, x.priv.host_proof), 0);
	assert_not_admitted(&x, 4, 5, msg);
	assert_int_equal(lp_relay_room_peer_count(room), 2);
	assert_ptr_equal(lp_relay_room_gateway(room), gw);
	assert_int_equal(lp_relay_rejected_total(g.r, LP_REJECT_NOT_ADMITTED), 6);
	lp_relay_del(g.r);
}

/* A player's credentials cannot take the gateway slot, not even first. */
static void test_player_cannot_be_gateway(void **state)
{
	struct room a;
	struct lp_ctrl_hello h;
	struct lp_ctrl_msg reply;
	struct lp_relay_peer *p = NULL;
	uint8_t e[32];

	(void)state;
	setup_relay(NULL);
	room_make(&a, 0x33);
	/* Everything an invite gives, and a host proof signed with the
	 * admission key (the only private key a player has). */
	hello(&h, &a, LP_ROLE_CLIENT, 1, 1);
	h.role = LP_ROLE_GATEWAY;
	h.priv.has_host_proof = true;
	exporter_of(1, e);
	assert_int_equal(lp_room_sign_host(a.k.adm_seed, e, h.priv.host_proof), 0);
	assert_not_admitted(&h, 1, 1, NULL);
	assert_int_equal(lp_relay_room_count(g.r), 0);
	/* The player joins as a client; the real gateway still gets its slot. */
	hello(&h, &a, LP_ROLE_CLIENT, 2, 2);
	assert_int_equal(admit(&h, 2, 2, T0, &reply, &p), 0);
	hello(&h, &a, LP_ROLE_GATEWAY, 3, 3);
	assert_int_equal(admit(&h, 3, 3, T0, &reply, &p), 0);
	assert_true(reply.u.welcome.gateway_present);
	lp_relay_del(g.r);
}

/* The host's gateway reconnects while its stale connection holds the slot
 * (same MAC): it takes over, the old one is told "replaced". */
static void test_gateway_takeover(void **state)
{
	struct room a;
	struct lp_ctrl_hello h;
	struct lp_ctrl_msg reply;
	struct lp_relay_peer *old, *c1, *nu;
	const struct lp_relay_room *room;
	uint8_t d[64];
	struct lp_relay_verdict v;
	bool left = false, joined = false;

	(void)state;
	setup_relay(NULL);
	room_make(&a, 0x44);
	hello(&h, &a, LP_ROLE_GATEWAY, 1, 0x10);
	assert_int_equal(admit(&h, 1, 1, T0, &reply, &old), 0);
	hello(&h, &a, LP_ROLE_CLIENT, 2, 0x20);
	assert_int_equal(admit(&h, 2, 2, T0, &reply, &c1), 0);
	room = lp_relay_peer_room(c1);
	reset();
	hello(&h, &a, LP_ROLE_GATEWAY, 3, 0x10);
	assert_int_equal(admit(&h, 3, 3, T0 + SEC, &reply, &nu), 0);
	assert_ptr_equal(lp_relay_room_gateway(room), nu);
	assert_int_equal(lp_relay_room_peer_count(room), 2);
	assert_int_equal(g.ndisc, 1);
	assert_int_equal(g.disc_conn[0], 1);
	assert_string_equal(g.disc_reason[0], "replaced");
	assert_null(lp_relay_peer_room(old));
	for (size_t i = 0; i < g.nctrl; i++) {
		if (g.ctrl_conn[i] != 2)
			continue;
		if (g.ctrl[i].type == LP_CTRL_PEER_LEFT &&
		    g.ctrl[i].u.peer.peer_id == lp_relay_peer_id(old))
			left = true;
		if (g.ctrl[i].type == LP_CTRL_PEER_JOINED &&
		    g.ctrl[i].u.peer.peer_id == lp_relay_peer_id(nu))
			joined = left;
	}
	assert_true(left);
	assert_true(joined);
	/* The stale connection's datagrams go nowhere; its leave frees it only. */
	memset(d, 0, sizeof(d));
	lp_relay_datagram(g.r, old, d, sizeof(d), T0 + SEC, &v);
	assert_int_equal(v.reason, LP_DROP_NOT_READY);
	reset();
	lp_relay_peer_leave(g.r, old, "idle timeout");
	assert_int_equal(g.nctrl, 0);
	assert_int_equal(lp_relay_room_peer_count(room), 2);
	/* An open room keeps the old rule: a second gateway is refused. */
	lp_relay_del(g.r);
}

/* Failures count per source: over the limit even a valid hello is refused
 * from that source, while other sources go on; the window ends it. */
static void test_failure_limit(void **state)
{
	struct room a, b;
	struct lp_ctrl_hello good, bad;
	struct lp_ctrl_msg reply;
	struct lp_relay_peer *p;
	uint32_t i;

	(void)state;
	setup_relay(NULL);
	room_make(&a, 0x55);
	room_make(&b, 0x66);
	hello(&bad, &b, LP_ROLE_CLIENT, 1, 1);
	memcpy(bad.priv.room_id, a.k.room_id, 16);
	for (i = 0; i < LP_RELAY_DEFAULT_FAIL_LIMIT; i++)
		assert_int_equal(admit(&bad, 1, 7, T0, &reply, &p), LP_ERR_REJECTED);
	hello(&good, &a, LP_ROLE_CLIENT, 1, 1);
	assert_int_equal(admit(&good, 1, 7, T0 + SEC, &reply, &p), LP_ERR_REJECTED);
	assert_int_equal(reply.u.reject.reason, LP_REJECT_NOT_ADMITTED);
	assert_int_equal(lp_relay_fail_limited_total(g.r), 1);
	assert_int_equal(admit(&good, 1, 8, T0 + SEC, &reply, &p), 0);
	hello(&good, &a, LP_ROLE_CLIENT, 2, 2);
	assert_int_equal(admit(&good, 2, 7, T0 + LP_RELAY_DEFAULT_FAIL_WINDOW_NS, &reply, &p), 0);
	lp_relay_del(g.r);
}

static size_t datagram(uint8_t *d, uint8_t flags, uint8_t src_last, size_t payload)
{
	memset(d, 0, LP_PROTO_OVERLAY_HDR_LEN + payload);
	d[0] = 0x11;
	d[1] = flags;
	d[2] = (uint8_t)(payload >> 8);
	d[3] = (uint8_t)payload;
	memset(d + 4, 0xff, 6); /* broadcast */
	d[10] = 0x02;
	d[15] = src_last;
	d[16] = 0x08;
	return LP_PROTO_OVERLAY_HDR_LEN + payload;
}

/* SEALED required in a private room, refused in an open one; FROM_GATEWAY
 * set by the relay on the gateway's frames, refused from any peer. */
static void test_flags(void **state)
{
	struct room a;
	struct lp_ctrl_hello h;
	struct lp_ctrl_msg reply;
	struct lp_relay_peer *gw, *c1, *og, *oc;
	struct lp_relay_verdict v;
	uint8_t d[200];
	size_t n;

	(void)state;
	setup_relay(NULL);
	room_make(&a, 0x77);
	hello(&h, &a, LP_ROLE_GATEWAY, 1, 0x10);
	assert_int_equal(admit(&h, 1, 1, T0, &reply, &gw), 0);
	hello(&h, &a, LP_ROLE_CLIENT, 2, 0x20);
	assert_int_equal(admit(&h, 2, 2, T0, &reply, &c1), 0);

	reset();
	n = datagram(d, 0, 0x20, 100);
	lp_relay_datagram(g.r, c1, d, n, T0, &v);
	assert_int_equal(v.reason, LP_DROP_UNSEALED);
	assert_int_equal(lp_relay_peer_counters(c1)->drops[LP_DROP_UNSEALED], 1);
	n = datagram(d, LP_PROTO_FLAG_SEALED | LP_PROTO_FLAG_FROM_GATEWAY, 0x20, 100);
	lp_relay_datagram(g.r, c1, d, n, T0, &v);
	assert_int_equal(v.reason, LP_DROP_MALFORMED);
	/* Shorter than a header and the seal's trailer. */
	n = datagram(d, LP_PROTO_FLAG_SEALED, 0x20, 14 + 31);
	lp_relay_datagram(g.r, c1, d, n, T0, &v);
	assert_int_equal(v.reason, LP_DROP_MALFORMED);
	assert_int_equal(g.ndg, 0);
	/* A sealed frame whose ciphertext happens to read as a DHCP offer is
	 * not judged by the relay: it cannot read a payload. */
	n = datagram(d, LP_PROTO_FLAG_SEALED, 0x20, 100);
	lp_relay_datagram(g.r, c1, d, n, T0, &v);
	assert_int_equal(v.action, LP_OBS_FORWARDED);
	assert_int_equal(g.ndg, 1);
	assert_int_equal(g.dg_conn[0], 1);
	assert_memory_equal(g.dg[0], d, n); /* untouched: not from the gateway */
	n = datagram(d, LP_PROTO_FLAG_SEALED, 0x10, 100);
	lp_relay_datagram(g.r, gw, d, n, T0, &v);
	assert_int_equal(v.action, LP_OBS_FORWARDED);
	assert_int_equal(g.ndg, 2);
	assert_int_equal(g.dg[1][1], LP_PROTO_FLAG_SEALED | LP_PROTO_FLAG_FROM_GATEWAY);
	assert_memory_equal(g.dg[1] + 2, d + 2, n - 2);
	assert_int_equal(d[1], LP_PROTO_FLAG_SEALED); /* the ingress bytes stay as they were */

	/* An open room: SEALED refused, FROM_GATEWAY set on the gateway's. */
	memset(&h, 0, sizeof(h));
	h.version = LP_CTRL_VERSION;
	h.role = LP_ROLE_GATEWAY;
	snprintf(h.room, sizeof(h.room), "OPEN1");
	h.mac = (struct lp_mac){ { 0x02, 0, 0, 0, 1, 0x10 } };
	h.datagram_budget = BUDGET;
	assert_int_equal(lp_relay_admit(g.r, &h, &g.conns[5], BUDGET, T0, &reply, &og), 0);
	h.role = LP_ROLE_CLIENT;
	h.mac.b[5] = 0x20;
	assert_int_equal(lp_relay_admit(g.r, &h, &g.conns[6], BUDGET, T0, &reply, &oc), 0);
	reset();
	n = datagram(d, LP_PROTO_FLAG_SEALED, 0x20, 100);
	d[8] = 1; /* src 02:00:00:00:01:20 */
	lp_relay_datagram(g.r, oc, d, n, T0, &v);
	assert_int_equal(v.reason, LP_DROP_MALFORMED);
	n = datagram(d, 0, 0x10, 100);
	d[8] = 1;
	lp_relay_datagram(g.r, og, d, n, T0, &v);
	assert_int_equal(v.action, LP_OBS_FORWARDED);
	assert_int_equal(g.dg[0][1], LP_PROTO_FLAG_FROM_GATEWAY);
	lp_relay_del(g.r);
}

static void test_private_only(void **state)
{
	struct lp_relay_cfg cfg;
	struct room a;
	struct lp_ctrl_hello h;
	struct lp_ctrl_msg reply;
	struct lp_relay_peer *p;

	(void)state;
	lp_relay_cfg_defaults(&cfg);
	cfg.private_rooms_only = true;
	setup_relay(&cfg);
	memset(&h, 0, sizeof(h));
	h.version = LP_CTRL_VERSION;
	h.role = LP_ROLE_CLIENT;
	snprintf(h.room, sizeof(h.room), "PARTY1");
	h.mac = (struct lp_mac){ { 0x02, 0, 0, 0, 1, 1 } };
	h.datagram_budget = BUDGET;
	assert_int_equal(lp_relay_admit(g.r, &h, &g.conns[1], BUDGET, T0, &reply, &p),
	                 LP_ERR_REJECTED);
	assert_int_equal(reply.u.reject.reason, LP_REJECT_BAD_ROOM);
	assert_non_null(strstr(reply.u.reject.message, "private rooms only"));
	room_make(&a, 0x12);
	hello(&h, &a, LP_ROLE_CLIENT, 2, 2);
	assert_int_equal(admit(&h, 2, 2, T0, &reply, &p), 0);
	/* Without the connection's exporter a private hello cannot pass. */
	hello(&h, &a, LP_ROLE_CLIENT, 3, 3);
	assert_int_equal(lp_relay_admit(g.r, &h, &g.conns[3], BUDGET, T0, &reply, &p),
	                 LP_ERR_REJECTED);
	assert_int_equal(reply.u.reject.reason, LP_REJECT_NOT_ADMITTED);
	lp_relay_del(g.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admission),
		cmocka_unit_test(test_player_cannot_be_gateway),
		cmocka_unit_test(test_gateway_takeover),
		cmocka_unit_test(test_failure_limit),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_private_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
