/* The relay's room and forwarding engine (src/relay/room.h), with fake
 * connections, fake time and a capturing logger. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mactable.h"
#include "room.h"

#define SEC LP_NS_PER_SEC
#define MS LP_NS_PER_MS
#define T0 (1000 * SEC)

/* ---- Fake binary ----------------------------------------------------------- */

#define MAX_EV 256

struct sent {
	int conn;
	const uint8_t *data;
	size_t len;
};

struct fake {
	int conns[16];
	struct sent dg[MAX_EV];
	size_t ndg;
	int dg_rc[16]; /* what send_datagram returns per conn */
	int ctrl_conn[MAX_EV];
	struct lp_ctrl_msg ctrl[MAX_EV];
	size_t nctrl;
	int disc_conn[8];
	char disc_reason[8][LP_CTRL_TEXT_MAX + 1];
	size_t ndisc;
	char log[64][400];
	int log_level[64];
	size_t nlog;
	struct lp_logger logger;
	struct lp_relay *r;
};

static int conn_index(struct fake *fk, void *conn)
{
	return (int)((int *)conn - fk->conns);
}

static int cb_send_datagram(void *user, void *conn, const uint8_t *data, size_t len)
{
	struct fake *fk = user;
	int c = conn_index(fk, conn);

	if (fk->dg_rc[c] != 0)
		return fk->dg_rc[c];
	/* Counts everything, keeps the first MAX_EV for inspection. */
	if (fk->ndg < MAX_EV)
		fk->dg[fk->ndg] = (struct sent){ c, data, len };
	fk->ndg++;
	return 0;
}

static void cb_send_ctrl(void *user, void *conn, const struct lp_ctrl_msg *m)
{
	struct fake *fk = user;

	assert_true(fk->nctrl < MAX_EV);
	/* Whatever the engine sends must pass the control-plane validation. */
	assert_int_equal(lp_ctrl_msg_validate(m), 0);
	fk->ctrl_conn[fk->nctrl] = conn_index(fk, conn);
	fk->ctrl[fk->nctrl++] = *m;
}

static void cb_disconnect(void *user, void *conn, const char *reason)
{
	struct fake *fk = user;

	assert_true(fk->ndisc < 8);
	fk->disc_conn[fk->ndisc] = conn_index(fk, conn);
	(void)snprintf(fk->disc_reason[fk->ndisc++], LP_CTRL_TEXT_MAX + 1, "%s", reason);
}

static void cb_log(void *user, enum lp_log_level level, const char *fmt, va_list ap)
        LP_PRINTF(3, 0);

static void cb_log(void *user, enum lp_log_level level, const char *fmt, va_list ap)
{
	struct fake *fk = user;

	if (fk->nlog >= 64)
		return;
	fk->log_level[fk->nlog] = (int)level;
	(void)vsnprintf(fk->log[fk->nlog++], 400, fmt, ap);
}

static struct fake *fake_new(const struct lp_relay_cfg *cfg, enum lp_log_level level)
{
	static struct fake fk;
	struct lp_relay_callbacks cb = { cb_send_datagram, cb_send_ctrl, cb_disconnect, &fk };

	memset(&fk, 0, sizeof(fk));
	fk.logger = (struct lp_logger){ cb_log, &fk, level };
	assert_int_equal(lp_relay_new(&fk.r, cfg, &cb, &fk.logger), 0);
	return &fk;
}

static void fake_reset(struct fake *fk)
{
	fk->ndg = 0;
	fk->nctrl = 0;
	fk->ndisc = 0;
	fk->nlog = 0;
}

static int find_log(const struct fake *fk, const char *needle)
{
	for (size_t i = 0; i < fk->nlog; i++)
		if (strstr(fk->log[i], needle) != NULL)
			return (int)i;
	return -1;
}

static struct lp_mac mac_n(uint8_t kind, uint8_t n)
{
	struct lp_mac m = { { kind, 0x00, 0x00, 0x00, 0x00, n } };

	return m;
}

#define GW_MAC mac_n(0x02, 0x01)
#define A_MAC mac_n(0x02, 0x0a)
#define B_MAC mac_n(0x02, 0x0b)
/* LAN hosts with locally administered MACs (VMs, phones with private
 * addresses): the only kind a client may even claim. */
#define LAN1 mac_n(0x06, 0x51)
#define LAN2 mac_n(0x06, 0x52)
#define LAN3 mac_n(0x06, 0x53)
#define LAN_GLOBAL mac_n(0x00, 0x54)
#define BCAST mac_n(0xff, 0xff)

static const struct lp_mac bcast_mac = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

static struct lp_ctrl_hello hello(enum lp_role role, const char *room, struct lp_mac mac,
                                  uint32_t budget)
{
	struct lp_ctrl_hello h;

	memset(&h, 0, sizeof(h));
	h.version = LP_CTRL_VERSION;
	h.role = role;
	(void)snprintf(h.room, sizeof(h.room), "%s", room);
	h.mac = mac;
	h.datagram_budget = budget;
	(void)snprintf(h.software, sizeof(h.software), "test");
	return h;
}

static struct lp_relay_peer *join(struct fake *fk, int c, enum lp_role role, const char *room,
                                  struct lp_mac mac, size_t budget, uint64_t now)
{
	struct lp_ctrl_hello h = hello(role, room, mac, 1452);
	struct lp_relay_peer *p = NULL;

	assert_int_equal(lp_relay_admit(fk->r, &h, &fk->conns[c], budget, now, NULL, &p), 0);
	assert_non_null(p);
	return p;
}

static int try_join(struct fake *fk, int c, struct lp_ctrl_hello h, size_t budget,
                    struct lp_ctrl_msg *reply)
{
	struct lp_relay_peer *p = (struct lp_relay_peer *)&fk;
	int rc = lp_relay_admit(fk->r, &h, &fk->conns[c], budget, T0, reply, &p);

	if (rc != 0)
		assert_null(p);
	return rc;
}

/* ---- Frames ------------------------------------------------------------------ */

/* Overlay datagram around an Ethernet frame: header + payload_len bytes. */
static size_t dgram(uint8_t *out, struct lp_mac dst, struct lp_mac src, uint16_t type,
                    size_t payload_len)
{
	uint8_t frame[2048];
	ssize_t n;

	memset(frame, 0, sizeof(frame));
	memcpy(frame, dst.b, 6);
	memcpy(frame + 6, src.b, 6);
	lp_put_u16(frame + 12, type);
	n = lp_proto_overlay_encode(out, 2100, LP_PROTO_TYPE_ETHERNET, frame, 14 + payload_len);
	assert_true(n > 0);
	return (size_t)n;
}

/* ARP request from src (broadcast). */
static size_t arp(uint8_t *out, struct lp_mac src)
{
	return dgram(out, bcast_mac, src, LP_ETHERTYPE_ARP, 28);
}

/* Unicast IPv4-ish frame. */
static size_t ucast(uint8_t *out, struct lp_mac dst, struct lp_mac src, size_t payload)
{
	return dgram(out, dst, src, LP_ETHERTYPE_IPV4, payload);
}

/* DHCP offer (UDP 67 -> 68) from src, with n VLAN tags. */
static size_t dhcp_offer(uint8_t *out, struct lp_mac src, unsigned ntags)
{
	uint8_t f[600];
	size_t o = 12;
	ssize_t n;

	memset(f, 0, sizeof(f));
	memcpy(f, bcast_mac.b, 6);
	memcpy(f + 6, src.b, 6);
	for (unsigned i = 0; i < ntags; i++, o += 4) {
		lp_put_u16(f + o, LP_ETHERTYPE_VLAN);
		lp_put_u16(f + o + 2, (uint16_t)(100 + i));
	}
	lp_put_u16(f + o, LP_ETHERTYPE_IPV4);
	o += 2;
	f[o] = 0x45;
	lp_put_u16(f + o + 2, 328);
	f[o + 8] = 64;
	f[o + 9] = 17;
	lp_put_u16(f + o + 20, 67);
	lp_put_u16(f + o + 22, 68);
	n = lp_proto_overlay_encode(out, 2100, LP_PROTO_TYPE_ETHERNET, f, o + 328);
	assert_true(n > 0);
	return (size_t)n;
}

/* IPv6 router advertisement from src to all-nodes. */
static size_t router_adv(uint8_t *out, struct lp_mac src)
{
	uint8_t f[200];
	struct lp_mac dst = { { 0x33, 0x33, 0, 0, 0, 1 } };
	ssize_t n;

	memset(f, 0, sizeof(f));
	memcpy(f, dst.b, 6);
	memcpy(f + 6, src.b, 6);
	lp_put_u16(f + 12, LP_ETHERTYPE_IPV6);
	f[14] = 0x60;
	lp_put_u16(f + 18, 16);
	f[20] = 58;
	f[21] = 255;
	f[54] = 134;
	n = lp_proto_overlay_encode(out, 2100, LP_PROTO_TYPE_ETHERNET, f, 14 + 40 + 16);
	assert_true(n > 0);
	return (size_t)n;
}

/* STP BPDU (802.3 length + LLC) to 01:80:c2:00:00:00. */
static size_t stp_bpdu(uint8_t *out, struct lp_mac src)
{
	struct lp_mac dst = { { 0x01, 0x80, 0xc2, 0, 0, 0 } };

	return dgram(out, dst, src, 38, 38);
}

/* Who owns mac in room at now (lp_relay_room_lookup with a MAC value). */
static const struct lp_relay_peer *who(const struct lp_relay_room *room, struct lp_mac mac,
                                       uint64_t now)
{
	return lp_relay_room_lookup(room, &mac, now);
}

static struct lp_relay_verdict feed(struct fake *fk, struct lp_relay_peer *p, const uint8_t *d,
                                    size_t len, uint64_t now)
{
	struct lp_relay_verdict v;

	memset(&v, 0xee, sizeof(v));
	lp_relay_datagram(fk->r, p, d, len, now, &v);
	return v;
}

static void assert_forwarded(struct lp_relay_verdict v, unsigned targets)
{
	assert_int_equal(v.action, LP_OBS_FORWARDED);
	assert_int_equal(v.reason, LP_DROP_NONE);
	assert_int_equal(v.targets, targets);
}

static void assert_dropped(struct lp_relay_verdict v, enum lp_obs_action a, enum lp_drop_reason r)
{
	assert_int_equal(v.action, a);
	assert_int_equal(v.reason, r);
	assert_int_equal(v.targets, 0);
}

/* A room ROOM1 with gateway (conn 0, id 1), clients A (conn 1, id 2) and B
 * (conn 2, id 3). */
struct room3 {
	struct fake *fk;
	struct lp_relay_peer *gw, *a, *b;
};

static struct room3 room3(const struct lp_relay_cfg *cfg, enum lp_log_level level)
{
	struct room3 s;

	s.fk = fake_new(cfg, level);
	s.gw = join(s.fk, 0, LP_ROLE_GATEWAY, "ROOM1", GW_MAC, 1452, T0);
	s.a = join(s.fk, 1, LP_ROLE_CLIENT, "ROOM1", A_MAC, 1452, T0);
	s.b = join(s.fk, 2, LP_ROLE_CLIENT, "ROOM1", B_MAC, 1452, T0);
	fake_reset(s.fk);
	return s;
}

/* ---- Admission ---------------------------------------------------------------- */

static void test_admission_and_catchup(void **state)
{
	struct fake *fk = fake_new(NULL, LP_LOG_INFO);
	struct lp_relay_peer *gw, *a, *b;
	struct lp_ctrl_hello h = hello(LP_ROLE_CLIENT, "ROOM1", A_MAC, 1452);
	struct lp_ctrl_msg reply;

	(void)state;
	gw = join(fk, 0, LP_ROLE_GATEWAY, "ROOM1", GW_MAC, 1452, T0);
	assert_int_equal(fk->nctrl, 1);
	assert_int_equal(fk->ctrl_conn[0], 0);
	assert_int_equal(fk->ctrl[0].type, LP_CTRL_WELCOME);
	assert_int_equal(fk->ctrl[0].u.welcome.peer_id, 1);
	assert_int_equal(fk->ctrl[0].u.welcome.mtu, 1380);
	assert_int_equal(fk->ctrl[0].u.welcome.mode, LP_CTRL_MODE_RELAY);
	assert_int_equal(fk->ctrl[0].u.welcome.version, LP_CTRL_VERSION);
	assert_true(fk->ctrl[0].u.welcome.gateway_present);
	assert_true(find_log(fk, "room ROOM1: peer 1 joined as gateway 02:00:00:00:00:01") >= 0);

	fake_reset(fk);
	assert_int_equal(lp_relay_admit(fk->r, &h, &fk->conns[1], 1452, T0, &reply, &a), 0);
	assert_int_equal(reply.type, LP_CTRL_WELCOME);
	assert_int_equal(reply.u.welcome.peer_id, 2);
	assert_true(reply.u.welcome.gateway_present);
	/* Welcome, then the catch-up, to the new peer; then the others hear. */
	assert_int_equal(fk->nctrl, 3);
	assert_int_equal(fk->ctrl_conn[0], 1);
	assert_memory_equal(&fk->ctrl[0], &reply, sizeof(reply));
	assert_int_equal(fk->ctrl_conn[1], 1);
	assert_int_equal(fk->ctrl[1].type, LP_CTRL_PEER_JOINED);
	assert_int_equal(fk->ctrl[1].u.peer.peer_id, 1);
	assert_int_equal(fk->ctrl[1].u.peer.role, LP_ROLE_GATEWAY);
	assert_true(lp_proto_mac_equal(&fk->ctrl[1].u.peer.mac, lp_relay_peer_mac(gw)));
	assert_int_equal(fk->ctrl_conn[2], 0);
	assert_int_equal(fk->ctrl[2].type, LP_CTRL_PEER_JOINED);
	assert_int_equal(fk->ctrl[2].u.peer.peer_id, 2);
	assert_int_equal(fk->ctrl[2].u.peer.role, LP_ROLE_CLIENT);
	assert_string_equal(fk->ctrl[2].u.peer.reason, "");

	fake_reset(fk);
	b = join(fk, 2, LP_ROLE_CLIENT, "ROOM1", B_MAC, 1452, T0);
	assert_int_equal(fk->nctrl, 5);
	assert_int_equal(fk->ctrl[0].u.welcome.peer_id, 3);
	assert_int_equal(fk->ctrl_conn[1], 2);
	assert_int_equal(fk->ctrl[1].u.peer.peer_id, 1);
	assert_int_equal(fk->ctrl_conn[2], 2);
	assert_int_equal(fk->ctrl[2].u.peer.peer_id, 2);
	assert_int_equal(fk->ctrl_conn[3], 0);
	assert_int_equal(fk->ctrl[3].u.peer.peer_id, 3);
	assert_int_equal(fk->ctrl_conn[4], 1);
	assert_int_equal(fk->ctrl[4].u.peer.peer_id, 3);

	assert_int_equal(lp_relay_room_count(fk->r), 1);
	assert_int_equal(lp_relay_peer_total(fk->r), 3);
	assert_int_equal(lp_relay_admitted_total(fk->r), 3);
	assert_ptr_equal(lp_relay_room_gateway(lp_relay_peer_room(a)), gw);
	assert_ptr_equal(lp_relay_room_peer_at(lp_relay_peer_room(b), 2), b);
	assert_ptr_equal(lp_relay_peer_conn(b), &fk->conns[2]);
	lp_relay_del(fk->r);
}

static void test_client_first_then_gateway(void **state)
{
	struct fake *fk = fake_new(NULL, LP_LOG_INFO);
	struct lp_relay_peer *a;

	(void)state;
	a = join(fk, 1, LP_ROLE_CLIENT, "ROOM1", A_MAC, 1452, T0);
	assert_false(fk->ctrl[0].u.welcome.gateway_present);
	assert_null(lp_relay_room_gateway(lp_relay_peer_room(a)));
	(void)join(fk, 0, LP_ROLE_GATEWAY, "ROOM1", GW_MAC, 1452, T0);
	assert_true(fk->ctrl[1].u.welcome.gateway_present);
	assert_non_null(lp_relay_room_gateway(lp_relay_peer_room(a)));
	/* Same MAC in another room is fine: rooms are separate LANs. */
	(void)join(fk, 2, LP_ROLE_CLIENT, "OTHER", A_MAC, 1452, T0);
	assert_int_equal(lp_relay_room_count(fk->r), 2);
	lp_relay_del(fk->r);
}

static void assert_reject(struct fake *fk, int rc, const struct lp_ctrl_msg *reply,
                          enum lp_reject_reason reason, const char *message)
{
	assert_int_equal(rc, LP_ERR_REJECTED);
	assert_int_equal(reply->type, LP_CTRL_REJECT);
	assert_int_equal(reply->u.reject.reason, reason);
	assert_string_equal(reply->u.reject.message, message);
	/* The reject went out on the connection, and only that. */
	assert_int_equal(fk->nctrl, 1);
	assert_memory_equal(&fk->ctrl[0], reply, sizeof(*reply));
	fake_reset(fk);
}

static void test_rejections(void **state)
{
	struct lp_relay_cfg cfg;
	struct fake *fk;
	struct lp_ctrl_msg m;
	struct lp_ctrl_hello h;
	struct lp_relay_peer *gw;
	uint8_t d[2100];

	(void)state;
	lp_relay_cfg_defaults(&cfg);
	cfg.max_rooms = 2;
	cfg.max_peers_per_room = 3;
	fk = fake_new(&cfg, LP_LOG_INFO);
	gw = join(fk, 0, LP_ROLE_GATEWAY, "ROOM1", GW_MAC, 1452, T0);
	(void)join(fk, 1, LP_ROLE_CLIENT, "ROOM1", A_MAC, 1452, T0);
	fake_reset(fk);

	assert_reject(fk, try_join(fk, 5, hello(LP_ROLE_GATEWAY, "ROOM1", LAN1, 1452), 1452, &m),
	              &m, LP_REJECT_GATEWAY_EXISTS,
	              "room ROOM1 already has a LAN gateway (peer 1)");
	assert_reject(fk, try_join(fk, 5, hello(LP_ROLE_CLIENT, "ROOM1", A_MAC, 1452), 1452, &m),
	              &m, LP_REJECT_DUPLICATE_MAC,
	              "MAC 02:00:00:00:00:0a is already used in room ROOM1 by peer 2");
	/* A MAC the gateway's LAN uses right now is taken too. */
	lp_relay_datagram(fk->r, gw, d, arp(d, LAN1), T0, NULL);
	fake_reset(fk);
	assert_reject(fk, try_join(fk, 5, hello(LP_ROLE_CLIENT, "ROOM1", LAN1, 1452), 1452, &m), &m,
	              LP_REJECT_DUPLICATE_MAC,
	              "MAC 06:00:00:00:00:51 is already in use on the LAN behind the gateway of "
	              "room ROOM1 (peer 1)");
	/* A globally administered MAC is a NIC's: no client may claim one. */
	assert_reject(fk,
	              try_join(fk, 5, hello(LP_ROLE_CLIENT, "ROOM1", LAN_GLOBAL, 1452), 1452, &m),
	              &m, LP_REJECT_BAD_HELLO,
	              "client MAC is not locally administered (set bit 0x02 of the first octet, "
	              "e.g. 02:xx:xx:xx:xx:xx): a client may not claim a LAN host's MAC");
	assert_reject(fk, try_join(fk, 5, hello(LP_ROLE_CLIENT, "ROOM1", B_MAC, 1452), 1397, &m),
	              &m, LP_REJECT_BUDGET_TOO_SMALL,
	              "datagram budget 1397 bytes is smaller than the 1398 bytes room ROOM1 needs "
	              "for its MTU 1380");
	/* The hello's own budget counts as well. */
	assert_reject(fk, try_join(fk, 5, hello(LP_ROLE_CLIENT, "ROOM1", B_MAC, 1390), 1452, &m),
	              &m, LP_REJECT_BUDGET_TOO_SMALL,
	              "datagram budget 1390 bytes is smaller than the 1398 bytes room ROOM1 needs "
	              "for its MTU 1380");
	(void)join(fk, 2, LP_ROLE_CLIENT, "ROOM1", B_MAC, 1452, T0);
	fake_reset(fk);
	assert_reject(fk, try_join(fk, 5, hello(LP_ROLE_CLIENT, "ROOM1", LAN2, 1452), 1452, &m), &m,
	              LP_REJECT_ROOM_FULL, "room ROOM1 is full (3 peers)");
	assert_reject(fk, try_join(fk, 5, hello(LP_ROLE_CLIENT, "ROOM2", A_MAC, 1452), 1297, &m),
	              &m, LP_REJECT_BUDGET_TOO_SMALL,
	              "datagram budget 1297 bytes cannot carry the minimum MTU 1280 (needs 1298 "
	              "bytes)");
	assert_int_equal(lp_relay_room_count(fk->r), 1); /* no half-made room */
	(void)join(fk, 3, LP_ROLE_CLIENT, "ROOM2", A_MAC, 1298, T0);
	fake_reset(fk);
	assert_reject(fk, try_join(fk, 5, hello(LP_ROLE_CLIENT, "ROOM3", A_MAC, 1452), 1452, &m),
	              &m, LP_REJECT_TOO_MANY_ROOMS,
	              "relay already hosts 2 rooms (its limit); cannot open room ROOM3");
	h = hello(LP_ROLE_CLIENT, "ROOM2", B_MAC, 1452);
	h.version = 2;
	assert_reject(fk, try_join(fk, 5, h, 1452, &m), &m, LP_REJECT_VERSION,
	              "protocol version 2 is not supported (relay speaks 1)");
	assert_reject(fk, try_join(fk, 5, hello(LP_ROLE_CLIENT, "ROOM 2", B_MAC, 1452), 1452, &m),
	              &m, LP_REJECT_BAD_ROOM,
	              "room code must be 1..32 characters of A-Z a-z 0-9 _ -");
	assert_reject(fk, try_join(fk, 5, hello(LP_ROLE_CLIENT, "ROOM2", BCAST, 1452), 1452, &m),
	              &m, LP_REJECT_BAD_HELLO,
	              "role or MAC invalid: the MAC must be a unicast, non-zero address");

	assert_int_equal(lp_relay_rejected_total(fk->r, LP_REJECT_BUDGET_TOO_SMALL), 3);
	assert_int_equal(lp_relay_rejected_total(fk->r, LP_REJECT_DUPLICATE_MAC), 2);
	assert_int_equal(lp_relay_rejected_total(fk->r, LP_REJECT_GATEWAY_EXISTS), 1);
	assert_int_equal(lp_relay_peer_total(fk->r), 4);
	assert_int_equal(lp_relay_admitted_total(fk->r), 4);
	assert_int_equal(lp_relay_admit(fk->r, NULL, &fk->conns[5], 1452, T0, NULL, &gw),
	                 LP_ERR_INVAL);
	lp_relay_del(fk->r);
}

static void test_mtu_rule(void **state)
{
	struct fake *fk = fake_new(NULL, LP_LOG_INFO);
	struct lp_relay_peer *a, *b, *c;
	struct lp_ctrl_msg m;

	(void)state;
	/* First budget 1350 -> MTU 1332 (below the 1380 ceiling). */
	a = join(fk, 1, LP_ROLE_CLIENT, "R", A_MAC, 1350, T0);
	assert_int_equal(fk->ctrl[0].u.welcome.mtu, 1332);
	assert_int_equal(lp_relay_room_mtu(lp_relay_peer_room(a)), 1332);
	fake_reset(fk);
	assert_reject(fk, try_join(fk, 5, hello(LP_ROLE_CLIENT, "R", B_MAC, 1452), 1349, &m), &m,
	              LP_REJECT_BUDGET_TOO_SMALL,
	              "datagram budget 1349 bytes is smaller than the 1350 bytes room R needs for "
	              "its MTU 1332");
	/* A bigger budget does not raise the MTU either. */
	b = join(fk, 2, LP_ROLE_CLIENT, "R", B_MAC, 9000, T0);
	assert_int_equal(fk->ctrl[0].u.welcome.mtu, 1332);
	assert_int_equal(lp_relay_peer_budget(b), 1452); /* capped by the hello */
	lp_relay_peer_leave(fk->r, a, NULL);
	c = join(fk, 3, LP_ROLE_CLIENT, "R", LAN1, 1350, T0);
	assert_int_equal(lp_relay_room_mtu(lp_relay_peer_room(c)), 1332);
	/* Shrinking budgets never change the MTU. */
	lp_relay_peer_set_budget(b, 1300);
	assert_int_equal(lp_relay_peer_budget(b), 1300);
	lp_relay_peer_set_budget(b, 60000);
	assert_int_equal(lp_relay_peer_budget(b), 1452);
	assert_int_equal(lp_relay_room_mtu(lp_relay_peer_room(b)), 1332);
	/* Once empty, the room is gone; the next first peer picks again. */
	lp_relay_peer_leave(fk->r, b, NULL);
	lp_relay_peer_leave(fk->r, c, NULL);
	assert_int_equal(lp_relay_room_count(fk->r), 0);
	assert_null(lp_relay_room_find(fk->r, "R"));
	fake_reset(fk);
	a = join(fk, 1, LP_ROLE_CLIENT, "R", A_MAC, 1452, T0);
	assert_int_equal(fk->ctrl[0].u.welcome.mtu, 1380);
	/* Peer ids keep increasing across rooms and leaves. */
	assert_int_equal(lp_relay_peer_id(a), 4);
	lp_relay_del(fk->r);
}

static void test_cfg_validate(void **state)
{
	struct lp_relay_cfg cfg;
	struct lp_relay *r = NULL;
	struct lp_relay_callbacks cb = { cb_send_datagram, cb_send_ctrl, NULL, NULL };

	(void)state;
	lp_relay_cfg_defaults(&cfg);
	assert_int_equal(cfg.max_rooms, 256);
	assert_int_equal(cfg.max_peers_per_room, 32);
	assert_int_equal(cfg.mtu_ceiling, 1380);
	assert_int_equal(cfg.bcast_fps, 1000);
	assert_int_equal(cfg.bcast_burst, 2000);
	assert_int_equal(cfg.unknown_fps, 500);
	assert_int_equal(cfg.unknown_burst, 1000);
	assert_int_equal(cfg.bandwidth_mbps, 150);
	assert_int_equal(cfg.bandwidth_burst, 4000000);
	assert_int_equal(cfg.gw_bcast_fps, 5000);
	assert_int_equal(cfg.gw_bcast_burst, 10000);
	assert_int_equal(cfg.gw_bandwidth_mbps, 250);
	assert_int_equal(cfg.room_mbps, 300);
	assert_int_equal(cfg.room_burst, 8000000);
	assert_int_equal(cfg.malformed_threshold, 64);
	assert_int_equal(cfg.mac_limit, 4096);
	assert_int_equal(cfg.mac_aging_ns, 300 * SEC);
	assert_int_equal(lp_relay_cfg_validate(&cfg), 0);
	cfg.mtu_ceiling = 1279;
	assert_int_equal(lp_relay_cfg_validate(&cfg), LP_ERR_MTU_RANGE);
	assert_int_equal(lp_relay_new(&r, &cfg, &cb, NULL), LP_ERR_MTU_RANGE);
	assert_null(r);
	lp_relay_cfg_defaults(&cfg);
	cfg.malformed_threshold = 0;
	assert_int_equal(lp_relay_cfg_validate(&cfg), LP_ERR_INVAL);
	lp_relay_cfg_defaults(&cfg);
	cfg.bcast_burst = 0;
	assert_int_equal(lp_relay_cfg_validate(&cfg), LP_ERR_INVAL);
	cfg.bcast_fps = 0; /* unlimited needs no burst */
	assert_int_equal(lp_relay_cfg_validate(&cfg), 0);
	cfg.gw_bcast_burst = 0;
	assert_int_equal(lp_relay_cfg_validate(&cfg), LP_ERR_INVAL);
	cfg.gw_bcast_fps = 0;
	cfg.room_burst = 0;
	assert_int_equal(lp_relay_cfg_validate(&cfg), LP_ERR_INVAL);
	cfg.room_mbps = 0;
	cfg.bandwidth_burst = 0;
	cfg.bandwidth_mbps = 0; /* the gateway's bandwidth shares the burst */
	assert_int_equal(lp_relay_cfg_validate(&cfg), LP_ERR_INVAL);
	cfg.gw_bandwidth_mbps = 0;
	assert_int_equal(lp_relay_cfg_validate(&cfg), 0);
	cb.send_ctrl = NULL;
	assert_int_equal(lp_relay_new(&r, NULL, &cb, NULL), LP_ERR_INVAL);
	lp_relay_del(NULL);
}

/* ---- Forwarding ------------------------------------------------------------------ */

static void test_forwarding_rules(void **state)
{
	struct room3 s = room3(NULL, LP_LOG_INFO);
	struct fake *fk = s.fk;
	uint8_t d[2100];
	size_t n;

	(void)state;
	/* Broadcast from A: everyone else, the original bytes, not A. */
	n = arp(d, A_MAC);
	assert_forwarded(feed(fk, s.a, d, n, T0), 2);
	assert_int_equal(fk->ndg, 2);
	assert_int_equal(fk->dg[0].conn, 0);
	assert_int_equal(fk->dg[1].conn, 2);
	assert_ptr_equal(fk->dg[0].data, d);
	assert_int_equal(fk->dg[0].len, n);
	fake_reset(fk);
	/* Known unicast A -> B: B only. */
	assert_forwarded(feed(fk, s.a, d, ucast(d, B_MAC, A_MAC, 100), T0), 1);
	assert_int_equal(fk->ndg, 1);
	assert_int_equal(fk->dg[0].conn, 2);
	fake_reset(fk);
	/* Unknown unicast from a client: to the gateway only. */
	assert_forwarded(feed(fk, s.a, d, ucast(d, LAN1, A_MAC, 100), T0), 1);
	assert_int_equal(fk->ndg, 1);
	assert_int_equal(fk->dg[0].conn, 0);
	fake_reset(fk);
	/* Unknown unicast from the gateway: dropped, never flooded. */
	assert_dropped(feed(fk, s.gw, d, ucast(d, LAN2, LAN1, 100), T0), LP_OBS_DROPPED,
	               LP_DROP_UNKNOWN_DEST);
	assert_int_equal(fk->ndg, 0);
	/* ...but its source was learned: A -> LAN1 is known now, B still unknown. */
	assert_ptr_equal(who(lp_relay_peer_room(s.a), LAN1, T0), s.gw);
	assert_int_equal(lp_relay_room_learned_count(lp_relay_peer_room(s.a)), 1);
	assert_forwarded(feed(fk, s.a, d, ucast(d, LAN1, A_MAC, 100), T0), 1);
	assert_int_equal(fk->dg[0].conn, 0);
	fake_reset(fk);
	/* Gateway -> client: that client only. */
	assert_forwarded(feed(fk, s.gw, d, ucast(d, A_MAC, LAN1, 100), T0), 1);
	assert_int_equal(fk->dg[0].conn, 1);
	fake_reset(fk);
	/* Never reflect: to oneself, or LAN -> LAN through the gateway. */
	assert_dropped(feed(fk, s.a, d, ucast(d, A_MAC, A_MAC, 100), T0), LP_OBS_DROPPED,
	               LP_DROP_LOOP);
	assert_dropped(feed(fk, s.gw, d, ucast(d, LAN1, GW_MAC, 100), T0), LP_OBS_DROPPED,
	               LP_DROP_LOOP);
	/* A client's MAC seen from the LAN side is a bridge loop. */
	assert_dropped(feed(fk, s.gw, d, arp(d, A_MAC), T0), LP_OBS_DROPPED, LP_DROP_LOOP);
	assert_ptr_equal(who(lp_relay_peer_room(s.a), A_MAC, T0), s.a);
	/* Broadcast from the gateway reaches both clients. */
	assert_forwarded(feed(fk, s.gw, d, arp(d, LAN1), T0), 2);
	assert_int_equal(fk->ndg, 2);
	assert_int_equal(fk->dg[0].conn, 1);
	assert_int_equal(fk->dg[1].conn, 2);
	assert_int_equal(lp_relay_peer_counters(s.gw)->drops[LP_DROP_LOOP], 3 - 1);
	assert_int_equal(lp_relay_peer_counters(s.a)->drops[LP_DROP_LOOP], 1);
	assert_int_equal(lp_relay_counters(fk->r)->drops[LP_DROP_LOOP], 3);
	assert_int_equal(lp_relay_peer_counters(s.a)->frames_tx, 2);
	assert_int_equal(lp_relay_peer_counters(s.a)->frames_rx, 5);
	assert_int_equal(lp_relay_peer_counters(s.a)->broadcast_rx, 1);
	lp_relay_del(fk->r);
}

static void test_unknown_without_gateway(void **state)
{
	struct fake *fk = fake_new(NULL, LP_LOG_INFO);
	struct lp_relay_peer *a, *b;
	uint8_t d[2100];

	(void)state;
	a = join(fk, 1, LP_ROLE_CLIENT, "R", A_MAC, 1452, T0);
	assert_forwarded(feed(fk, a, d, arp(d, A_MAC), T0), 0); /* alone */
	b = join(fk, 2, LP_ROLE_CLIENT, "R", B_MAC, 1452, T0);
	fake_reset(fk);
	assert_dropped(feed(fk, a, d, ucast(d, LAN1, A_MAC, 60), T0), LP_OBS_DROPPED,
	               LP_DROP_UNKNOWN_DEST);
	assert_int_equal(fk->ndg, 0);
	assert_forwarded(feed(fk, b, d, ucast(d, A_MAC, B_MAC, 60), T0), 1);
	assert_int_equal(lp_relay_peer_counters(a)->drops[LP_DROP_UNKNOWN_DEST], 1);
	lp_relay_del(fk->r);
}

static void test_filters_in_path(void **state)
{
	struct room3 s = room3(NULL, LP_LOG_INFO);
	struct fake *fk = s.fk;
	uint8_t d[2100];
	size_t n;

	(void)state;
	assert_dropped(feed(fk, s.a, d, arp(d, B_MAC), T0), LP_OBS_FILTERED, LP_DROP_SPOOFED_SRC);
	assert_dropped(feed(fk, s.a, d, arp(d, BCAST), T0), LP_OBS_FILTERED, LP_DROP_INVALID_SRC);
	assert_dropped(feed(fk, s.gw, d, arp(d, mac_n(0, 0)), T0), LP_OBS_FILTERED,
	               LP_DROP_INVALID_SRC);
	assert_dropped(feed(fk, s.a, d, ucast(d, B_MAC, A_MAC, 1381), T0), LP_OBS_FILTERED,
	               LP_DROP_JUMBO);
	assert_forwarded(feed(fk, s.a, d, ucast(d, B_MAC, A_MAC, 1380), T0), 1);
	assert_dropped(feed(fk, s.gw, d, stp_bpdu(d, LAN1), T0), LP_OBS_FILTERED,
	               LP_DROP_SWITCH_CONTROL);
	assert_dropped(feed(fk, s.a, d, stp_bpdu(d, A_MAC), T0), LP_OBS_FILTERED,
	               LP_DROP_SWITCH_CONTROL);
	assert_dropped(feed(fk, s.a, d, dhcp_offer(d, A_MAC, 0), T0), LP_OBS_FILTERED,
	               LP_DROP_DHCP_SERVER);
	assert_dropped(feed(fk, s.a, d, dhcp_offer(d, A_MAC, 1), T0), LP_OBS_FILTERED,
	               LP_DROP_VLAN_TAGGED);
	assert_dropped(feed(fk, s.a, d, router_adv(d, A_MAC), T0), LP_OBS_FILTERED,
	               LP_DROP_IPV6_RA);
	/* Only the one forwarded frame went out. */
	assert_int_equal(fk->ndg, 1);
	/* From the gateway, DHCP offers and RAs are the LAN's own. */
	n = dhcp_offer(d, LAN1, 1);
	assert_forwarded(feed(fk, s.gw, d, n, T0), 2);
	assert_forwarded(feed(fk, s.gw, d, router_adv(d, LAN1), T0), 2);
	assert_int_equal(lp_relay_peer_counters(s.a)->drops[LP_DROP_DHCP_SERVER], 1);
	assert_int_equal(lp_relay_peer_counters(s.a)->drops[LP_DROP_VLAN_TAGGED], 1);
	assert_int_equal(lp_relay_peer_counters(s.a)->drops[LP_DROP_SWITCH_CONTROL], 1);
	assert_int_equal(lp_relay_counters(fk->r)->drops[LP_DROP_SWITCH_CONTROL], 2);
	assert_int_equal(lp_relay_counters(fk->r)->drops[LP_DROP_INVALID_SRC], 2);
	lp_relay_del(fk->r);
}

static void test_rate_limits(void **state)
{
	struct lp_relay_cfg cfg;
	struct room3 s;
	struct fake *fk;
	uint8_t d[2100];
	size_t n;

	(void)state;
	lp_relay_cfg_defaults(&cfg);
	cfg.bcast_fps = 10;
	cfg.bcast_burst = 5;
	cfg.unknown_fps = 100;
	cfg.unknown_burst = 3;
	cfg.bandwidth_mbps = 1; /* 125000 bytes/s */
	cfg.bandwidth_burst = 3000;
	/* The gateway's own limits: test_gateway_rate_limits. */
	cfg.gw_bcast_fps = 0;
	cfg.gw_bandwidth_mbps = 0;
	s = room3(&cfg, LP_LOG_INFO);
	fk = s.fk;

	/* Broadcast: 5 at once, then one per 100 ms. */
	n = arp(d, A_MAC);
	for (int i = 0; i < 5; i++)
		assert_forwarded(feed(fk, s.a, d, n, T0), 2);
	assert_dropped(feed(fk, s.a, d, n, T0), LP_OBS_RATE_LIMITED, LP_DROP_RATE_BROADCAST);
	assert_dropped(feed(fk, s.a, d, n, T0 + 99 * MS), LP_OBS_RATE_LIMITED,
	               LP_DROP_RATE_BROADCAST);
	assert_forwarded(feed(fk, s.a, d, n, T0 + 100 * MS), 2);
	/* Per client: B has its own bucket; the client limits are not the gateway's. */
	assert_forwarded(feed(fk, s.b, d, arp(d, B_MAC), T0 + 100 * MS), 2);
	for (int i = 0; i < 50; i++)
		assert_forwarded(feed(fk, s.gw, d, arp(d, LAN1), T0 + 100 * MS), 2);
	assert_int_equal(lp_relay_peer_counters(s.a)->drops[LP_DROP_RATE_BROADCAST], 2);

	/* Unknown unicast: 3 at once, then one per 10 ms; known unicast unaffected. */
	n = ucast(d, LAN2, B_MAC, 10);
	for (int i = 0; i < 3; i++)
		assert_forwarded(feed(fk, s.b, d, n, T0 + SEC), 1);
	assert_dropped(feed(fk, s.b, d, n, T0 + SEC), LP_OBS_RATE_LIMITED, LP_DROP_RATE_UNKNOWN);
	assert_forwarded(feed(fk, s.b, d, ucast(d, A_MAC, B_MAC, 10), T0 + SEC), 1);
	assert_forwarded(feed(fk, s.b, d, ucast(d, LAN1, B_MAC, 10), T0 + SEC), 1);
	assert_forwarded(feed(fk, s.b, d, n, T0 + SEC + 10 * MS), 1);

	/* Total bytes: burst 3000, 125 bytes per ms, counted on datagram bytes. */
	n = ucast(d, A_MAC, B_MAC, 982); /* 4 + 14 + 982 = 1000 bytes */
	assert_int_equal(n, 1000);
	assert_forwarded(feed(fk, s.b, d, n, T0 + 10 * SEC), 1);
	assert_forwarded(feed(fk, s.b, d, n, T0 + 10 * SEC), 1);
	assert_forwarded(feed(fk, s.b, d, n, T0 + 10 * SEC), 1);
	assert_dropped(feed(fk, s.b, d, n, T0 + 10 * SEC), LP_OBS_RATE_LIMITED, LP_DROP_RATE_TOTAL);
	assert_dropped(feed(fk, s.b, d, n, T0 + 10 * SEC + 7 * MS), LP_OBS_RATE_LIMITED,
	               LP_DROP_RATE_TOTAL);
	assert_forwarded(feed(fk, s.b, d, n, T0 + 10 * SEC + 8 * MS), 1);
	/* Nor is the client byte limit. */
	for (int i = 0; i < 10; i++)
		assert_forwarded(feed(fk, s.gw, d, ucast(d, A_MAC, LAN1, 982), T0 + 10 * SEC), 1);
	assert_int_equal(lp_relay_peer_counters(s.b)->drops[LP_DROP_RATE_UNKNOWN], 1);
	assert_int_equal(lp_relay_peer_counters(s.b)->drops[LP_DROP_RATE_TOTAL], 2);
	assert_int_equal(lp_obs_drops_total(lp_relay_peer_counters(s.gw)), 0);
	lp_relay_del(fk->r);
}

/* The gateway's frames have limits of their own: a LAN flooding
 * broadcasts, or pushing more bytes than allowed, is cut to its rate,
 * counted and logged; the clients' buckets are untouched. */
static void test_gateway_rate_limits(void **state)
{
	struct lp_relay_cfg cfg;
	struct room3 s;
	struct fake *fk;
	uint8_t d[2100];
	size_t n;
	int forwarded = 0;

	(void)state;
	lp_relay_cfg_defaults(&cfg);
	cfg.bcast_fps = 10;
	cfg.bcast_burst = 5;
	cfg.gw_bcast_fps = 100; /* one per 10 ms */
	cfg.gw_bcast_burst = 20;
	cfg.bandwidth_mbps = 0;
	cfg.gw_bandwidth_mbps = 1; /* 125000 bytes/s */
	cfg.bandwidth_burst = 3000;
	s = room3(&cfg, LP_LOG_INFO);
	fk = s.fk;

	/* A broadcast flood from the LAN: the burst passes, the rest is cut. */
	n = arp(d, LAN1);
	for (int i = 0; i < 1000; i++) {
		struct lp_relay_verdict v = feed(fk, s.gw, d, n, T0);

		if (v.action == LP_OBS_FORWARDED)
			forwarded++;
		else
			assert_dropped(v, LP_OBS_RATE_LIMITED, LP_DROP_RATE_BROADCAST);
	}
	assert_int_equal(forwarded, 20);
	assert_forwarded(feed(fk, s.gw, d, n, T0 + 10 * MS), 2);
	assert_dropped(feed(fk, s.gw, d, n, T0 + 10 * MS), LP_OBS_RATE_LIMITED,
	               LP_DROP_RATE_BROADCAST);
	assert_int_equal(lp_relay_peer_counters(s.gw)->drops[LP_DROP_RATE_BROADCAST], 981);
	assert_int_equal(lp_relay_counters(fk->r)->drops[LP_DROP_RATE_BROADCAST], 981);
	/* Logged, and rate-limited: a thousand drops, a handful of lines. */
	assert_true(find_log(fk, "rate-limited a frame from peer 1 (gateway): rate_broadcast") >=
	            0);
	assert_true(fk->nlog <= 6);
	/* The clients still have their whole broadcast burst. */
	for (int i = 0; i < 5; i++)
		assert_forwarded(feed(fk, s.a, d, arp(d, A_MAC), T0 + 10 * MS), 2);

	/* Bytes: burst 3000, then 125 bytes per ms. */
	n = ucast(d, A_MAC, LAN1, 982); /* 1000-byte datagram */
	for (int i = 0; i < 3; i++)
		assert_forwarded(feed(fk, s.gw, d, n, T0 + 10 * SEC), 1);
	assert_dropped(feed(fk, s.gw, d, n, T0 + 10 * SEC), LP_OBS_RATE_LIMITED,
	               LP_DROP_RATE_TOTAL);
	assert_forwarded(feed(fk, s.gw, d, n, T0 + 10 * SEC + 8 * MS), 1);
	assert_int_equal(lp_relay_peer_counters(s.gw)->drops[LP_DROP_RATE_TOTAL], 1);
	/* Clients have no byte limit here. */
	for (int i = 0; i < 10; i++)
		assert_forwarded(feed(fk, s.a, d, ucast(d, B_MAC, A_MAC, 982), T0 + 10 * SEC), 1);
	/* The gateway's unknown unicast is dropped before any bucket. */
	assert_dropped(feed(fk, s.gw, d, ucast(d, LAN3, LAN1, 10), T0 + 20 * SEC), LP_OBS_DROPPED,
	               LP_DROP_UNKNOWN_DEST);
	lp_relay_del(fk->r);
}

/* A room over its budget is cut (counted on the room, on the sender and
 * in the totals, logged), and another room is not touched. */
static void test_room_budget(void **state)
{
	struct lp_relay_cfg cfg;
	struct room3 s;
	struct fake *fk;
	struct lp_relay_peer *c, *d2;
	const struct lp_relay_room *room1, *room2;
	uint8_t d[2100];
	size_t n;

	(void)state;
	lp_relay_cfg_defaults(&cfg);
	cfg.max_peers_per_room = 3; /* the burst floor: 2 x 1402-byte datagrams */
	cfg.bcast_fps = cfg.unknown_fps = cfg.gw_bcast_fps = 0;
	cfg.bandwidth_mbps = cfg.gw_bandwidth_mbps = 0;
	cfg.room_mbps = 1; /* 125000 bytes/s, i.e. 125 bytes per ms */
	cfg.room_burst = 5000;
	s = room3(&cfg, LP_LOG_INFO);
	fk = s.fk;
	c = join(fk, 3, LP_ROLE_CLIENT, "ROOM2", mac_n(0x02, 0x0c), 1452, T0);
	d2 = join(fk, 4, LP_ROLE_CLIENT, "ROOM2", mac_n(0x02, 0x0d), 1452, T0);
	room1 = lp_relay_peer_room(s.a);
	room2 = lp_relay_peer_room(c);
	fake_reset(fk);

	/* 1000-byte unicasts: five fit the burst, whoever sends them. */
	n = ucast(d, B_MAC, A_MAC, 982);
	for (int i = 0; i < 3; i++)
		assert_forwarded(feed(fk, s.a, d, n, T0), 1);
	n = ucast(d, A_MAC, B_MAC, 982);
	for (int i = 0; i < 2; i++)
		assert_forwarded(feed(fk, s.b, d, n, T0), 1);
	assert_dropped(feed(fk, s.b, d, n, T0), LP_OBS_RATE_LIMITED, LP_DROP_RATE_ROOM);
	/* The gateway's frames count too. */
	assert_dropped(feed(fk, s.gw, d, ucast(d, A_MAC, LAN1, 982), T0), LP_OBS_RATE_LIMITED,
	               LP_DROP_RATE_ROOM);
	/* The other room has its own budget. */
	n = ucast(d, mac_n(0x02, 0x0d), mac_n(0x02, 0x0c), 982);
	for (int i = 0; i < 5; i++)
		assert_forwarded(feed(fk, c, d, n, T0), 1);
	(void)d2;
	/* Refill: 1000 bytes after 8 ms. */
	n = ucast(d, A_MAC, B_MAC, 982);
	assert_dropped(feed(fk, s.b, d, n, T0 + 7 * MS), LP_OBS_RATE_LIMITED, LP_DROP_RATE_ROOM);
	assert_forwarded(feed(fk, s.b, d, n, T0 + 8 * MS), 1);
	/* A broadcast costs its length once per receiver: 2 x 1000 > 1000. */
	assert_dropped(feed(fk, s.a, d, ucast(d, bcast_mac, A_MAC, 982), T0 + 16 * MS),
	               LP_OBS_RATE_LIMITED, LP_DROP_RATE_ROOM);
	assert_forwarded(feed(fk, s.a, d, ucast(d, bcast_mac, A_MAC, 982), T0 + 24 * MS), 2);

	assert_int_equal(lp_relay_room_rate_limited(room1), 4);
	assert_int_equal(lp_relay_room_rate_limited(room2), 0);
	assert_int_equal(lp_relay_peer_counters(s.b)->drops[LP_DROP_RATE_ROOM], 2);
	assert_int_equal(lp_relay_peer_counters(s.gw)->drops[LP_DROP_RATE_ROOM], 1);
	assert_int_equal(lp_relay_peer_counters(s.a)->drops[LP_DROP_RATE_ROOM], 1);
	assert_int_equal(lp_obs_drops_total(lp_relay_peer_counters(c)), 0);
	assert_int_equal(lp_relay_counters(fk->r)->drops[LP_DROP_RATE_ROOM], 4);
	assert_true(find_log(fk, "rate-limited a frame from peer 3 (client): rate_room") >= 0);
	lp_relay_del(fk->r);
}

static void test_bandwidth_disabled(void **state)
{
	struct lp_relay_cfg cfg;
	struct room3 s;
	uint8_t d[2100];
	size_t n;

	(void)state;
	lp_relay_cfg_defaults(&cfg);
	cfg.bandwidth_mbps = 0;
	cfg.gw_bandwidth_mbps = 0;
	cfg.bandwidth_burst = 0;
	cfg.room_mbps = 0;
	s = room3(&cfg, LP_LOG_INFO);
	n = ucast(d, A_MAC, B_MAC, 1380);
	for (int i = 0; i < 10000; i++)
		assert_forwarded(feed(s.fk, s.b, d, n, T0), 1);
	assert_int_equal(s.fk->ndg, 10000);
	assert_int_equal(lp_relay_peer_counters(s.a)->bytes_tx, 10000 * n);
	lp_relay_del(s.fk->r);
}

static void test_egress_budget_skip(void **state)
{
	struct room3 s = room3(NULL, LP_LOG_INFO);
	struct fake *fk = s.fk;
	uint8_t d[2100];
	size_t n;

	(void)state;
	lp_relay_peer_set_budget(s.b, 1000);
	n = ucast(d, bcast_mac, A_MAC, 1200); /* 1218-byte datagram */
	assert_forwarded(feed(fk, s.a, d, n, T0), 1);
	assert_int_equal(fk->ndg, 1);
	assert_int_equal(fk->dg[0].conn, 0);
	assert_true(find_log(fk, "skipped frame from peer 2 to peer 3: datagram of 1218 bytes "
	                         "exceeds the target budget of 1000 bytes") >= 0);
	assert_int_equal(lp_relay_peer_counters(s.b)->drops[LP_DROP_TOO_BIG], 1);
	assert_int_equal(lp_relay_peer_counters(s.a)->drops[LP_DROP_TOO_BIG], 0);
	/* A unicast whose only target cannot take it is a drop. */
	assert_dropped(feed(fk, s.a, d, ucast(d, B_MAC, A_MAC, 1200), T0), LP_OBS_DROPPED,
	               LP_DROP_TOO_BIG);
	/* Exactly the budget fits, one byte more does not. */
	assert_forwarded(feed(fk, s.a, d, ucast(d, B_MAC, A_MAC, 1000 - 18), T0), 1);
	assert_dropped(feed(fk, s.a, d, ucast(d, B_MAC, A_MAC, 1001 - 18), T0), LP_OBS_DROPPED,
	               LP_DROP_TOO_BIG);
	/* The log is rate-limited: many skips, few lines. */
	fake_reset(fk);
	for (int i = 0; i < 100; i++)
		(void)feed(fk, s.a, d, ucast(d, B_MAC, A_MAC, 1200), T0 + 1 * MS);
	assert_true(fk->nlog < 10);
	assert_int_equal(lp_relay_peer_counters(s.b)->drops[LP_DROP_TOO_BIG], 103);
	lp_relay_del(fk->r);
}

static void test_queue_full_and_io(void **state)
{
	struct room3 s = room3(NULL, LP_LOG_INFO);
	struct fake *fk = s.fk;
	uint8_t d[2100];

	(void)state;
	fk->dg_rc[2] = LP_ERR_AGAIN;
	assert_forwarded(feed(fk, s.a, d, arp(d, A_MAC), T0), 1);
	assert_dropped(feed(fk, s.a, d, ucast(d, B_MAC, A_MAC, 50), T0), LP_OBS_DROPPED,
	               LP_DROP_QUEUE_FULL);
	assert_int_equal(lp_relay_peer_counters(s.b)->drops[LP_DROP_QUEUE_FULL], 2);
	fk->dg_rc[2] = LP_ERR_CLOSED;
	assert_dropped(feed(fk, s.a, d, ucast(d, B_MAC, A_MAC, 50), T0), LP_OBS_DROPPED,
	               LP_DROP_IO);
	assert_int_equal(lp_relay_peer_counters(s.b)->drops[LP_DROP_IO], 1);
	assert_int_equal(lp_relay_peer_counters(s.b)->frames_tx, 0);
	lp_relay_del(fk->r);
}

static void test_malformed_threshold(void **state)
{
	struct lp_relay_cfg cfg;
	struct room3 s;
	struct fake *fk;
	uint8_t d[2100] = { 0x11, 0, 0, 5 }; /* declares 5 bytes, has 3 */

	(void)state;
	lp_relay_cfg_defaults(&cfg);
	cfg.malformed_threshold = 3;
	s = room3(&cfg, LP_LOG_INFO);
	fk = s.fk;
	assert_dropped(feed(fk, s.a, d, 7, T0), LP_OBS_DROPPED, LP_DROP_MALFORMED);
	/* A runt Ethernet frame inside a good overlay header is malformed too. */
	assert_dropped(
	        feed(fk, s.a, d, (size_t)lp_proto_overlay_encode(d, sizeof(d), 1, d + 100, 10), T0),
	        LP_OBS_DROPPED, LP_DROP_MALFORMED);
	assert_int_equal(lp_relay_peer_malformed(s.a), 2);
	assert_int_equal(fk->ndisc, 0);
	assert_true(find_log(fk, "room ROOM1: peer 2 sent a malformed datagram") >= 0);
	assert_true(find_log(fk, ": 2 so far, disconnect at 3") >= 0);
	d[0] = 0x21; /* version 2 */
	assert_dropped(feed(fk, s.a, d, 8, T0), LP_OBS_DROPPED, LP_DROP_MALFORMED);
	assert_int_equal(fk->ndisc, 1);
	assert_int_equal(fk->disc_conn[0], 1);
	assert_string_equal(fk->disc_reason[0], "too many malformed datagrams (3)");
	assert_true(lp_relay_peer_closing(s.a));
	/* Nothing more is processed from it, and no second disconnect. */
	assert_dropped(feed(fk, s.a, d, arp(d, A_MAC), T0), LP_OBS_DROPPED, LP_DROP_NOT_READY);
	assert_int_equal(fk->ndisc, 1);
	assert_int_equal(fk->ndg, 0);
	/* Nor sent to it. */
	assert_forwarded(feed(fk, s.b, d, arp(d, B_MAC), T0), 1);
	assert_dropped(feed(fk, s.b, d, ucast(d, A_MAC, B_MAC, 40), T0), LP_OBS_DROPPED,
	               LP_DROP_NOT_READY);
	/* Its leave carries the engine's reason, not the generic one. */
	fake_reset(fk);
	lp_relay_peer_leave(fk->r, s.a, "connection closed");
	assert_int_equal(fk->nctrl, 2);
	assert_int_equal(fk->ctrl[0].type, LP_CTRL_PEER_LEFT);
	assert_string_equal(fk->ctrl[0].u.peer.reason, "too many malformed datagrams (3)");
	assert_int_equal(lp_relay_counters(fk->r)->drops[LP_DROP_MALFORMED], 3);
	lp_relay_del(fk->r);
}

/* ---- Lifecycle ------------------------------------------------------------------- */

static void test_leave_and_reasons(void **state)
{
	struct room3 s = room3(NULL, LP_LOG_INFO);
	struct fake *fk = s.fk;
	struct lp_ctrl_msg m;
	struct lp_counters c;

	(void)state;
	/* Stats and goodbye update last-seen; the goodbye reason wins. */
	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_STATS;
	memset(&c, 0, sizeof(c));
	c.frames_rx = 42;
	c.drops[LP_DROP_QUEUE_FULL] = 7;
	m.u.stats.counters = c;
	assert_null(lp_relay_peer_stats(s.a));
	assert_int_equal(lp_relay_peer_ctrl(fk->r, s.a, &m, T0 + 5 * SEC), 0);
	assert_int_equal(lp_relay_peer_stats(s.a)->frames_rx, 42);
	assert_int_equal(lp_relay_peer_stats(s.a)->drops[LP_DROP_QUEUE_FULL], 7);
	assert_int_equal(lp_relay_peer_last_seen_ns(s.a), T0 + 5 * SEC);
	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_DISCONNECT;
	(void)snprintf(m.u.disconnect.reason, sizeof(m.u.disconnect.reason), "user quit");
	assert_int_equal(lp_relay_peer_ctrl(fk->r, s.a, &m, T0 + 6 * SEC), 0);
	m.type = LP_CTRL_HELLO;
	assert_int_equal(lp_relay_peer_ctrl(fk->r, s.b, &m, T0 + 6 * SEC), LP_ERR_TYPE);
	m.type = LP_CTRL_PEER_JOINED;
	assert_int_equal(lp_relay_peer_ctrl(fk->r, s.b, &m, T0 + 6 * SEC), LP_ERR_TYPE);
	m.type = LP_CTRL_PEER_STATS; /* the relay's own message, never a peer's */
	assert_int_equal(lp_relay_peer_ctrl(fk->r, s.b, &m, T0 + 6 * SEC), LP_ERR_TYPE);

	fake_reset(fk);
	lp_relay_peer_leave(fk->r, s.a, "connection closed");
	assert_int_equal(fk->nctrl, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fk->ctrl[i].type, LP_CTRL_PEER_LEFT);
		assert_int_equal(fk->ctrl[i].u.peer.peer_id, 2);
		assert_int_equal(fk->ctrl[i].u.peer.role, LP_ROLE_CLIENT);
		assert_string_equal(fk->ctrl[i].u.peer.reason, "user quit");
	}
	assert_int_equal(fk->ctrl_conn[0], 0);
	assert_int_equal(fk->ctrl_conn[1], 2);
	assert_true(find_log(fk, "peer 2 (client 02:00:00:00:00:0a) left: user quit") >= 0);
	/* Without goodbye, the caller's reason; without one, a default. */
	fake_reset(fk);
	lp_relay_peer_leave(fk->r, s.b, "idle timeout");
	assert_int_equal(fk->nctrl, 1);
	assert_string_equal(fk->ctrl[0].u.peer.reason, "idle timeout");
	assert_int_equal(lp_relay_room_peer_count(lp_relay_peer_room(s.gw)), 1);
	fake_reset(fk);
	lp_relay_peer_leave(fk->r, s.gw, NULL);
	assert_int_equal(fk->nctrl, 0); /* nobody left to tell */
	assert_true(find_log(fk, "left: connection closed") >= 0);
	assert_int_equal(lp_relay_room_count(fk->r), 0);
	assert_int_equal(lp_relay_peer_total(fk->r), 0);
	lp_relay_del(fk->r);
}

static void test_gateway_leave_cleans_macs(void **state)
{
	struct room3 s = room3(NULL, LP_LOG_INFO);
	struct fake *fk = s.fk;
	const struct lp_relay_room *room = lp_relay_peer_room(s.a);
	struct lp_relay_peer *gw2;
	struct lp_mac lan;
	uint8_t d[2100];

	(void)state;
	for (unsigned i = 0; i < 200; i++) {
		lan = mac_n(0x06, (uint8_t)i);
		lan.b[4] = 0x77;
		assert_forwarded(feed(fk, s.gw, d, arp(d, lan), T0), 2);
	}
	assert_int_equal(lp_relay_room_learned_count(room), 200);
	assert_int_equal(lp_relay_peer_learned_count(s.gw), 200);
	assert_int_equal(lp_relay_peer_learned_count(s.a), 0);
	lp_relay_peer_leave(fk->r, s.gw, "connection closed");
	assert_int_equal(lp_relay_room_learned_count(room), 0);
	for (unsigned i = 0; i < 200; i++) {
		lan = mac_n(0x06, (uint8_t)i);
		lan.b[4] = 0x77;
		assert_null(lp_relay_room_lookup(room, &lan, T0));
	}
	assert_null(who(room, GW_MAC, T0));
	assert_ptr_equal(who(room, A_MAC, T0), s.a);
	assert_ptr_equal(who(room, B_MAC, T0), s.b);
	/* A former LAN MAC may now join as a client; a new gateway may join. */
	lan.b[5] = 3;
	(void)join(fk, 4, LP_ROLE_CLIENT, "ROOM1", lan, 1452, T0);
	gw2 = join(fk, 5, LP_ROLE_GATEWAY, "ROOM1", GW_MAC, 1452, T0);
	fake_reset(fk);
	assert_forwarded(feed(fk, s.a, d, ucast(d, LAN1, A_MAC, 50), T0), 1);
	assert_int_equal(fk->dg[0].conn, 5);
	assert_ptr_equal(lp_relay_room_gateway(room), gw2);
	lp_relay_del(fk->r);
}

static void test_mac_aging_and_limit(void **state)
{
	struct lp_relay_cfg cfg;
	struct room3 s;
	struct fake *fk;
	const struct lp_relay_room *room;
	uint8_t d[2100];
	uint64_t age = 300 * SEC;

	(void)state;
	lp_relay_cfg_defaults(&cfg);
	cfg.mac_limit = 2;
	s = room3(&cfg, LP_LOG_INFO);
	fk = s.fk;
	room = lp_relay_peer_room(s.a);
	(void)feed(fk, s.gw, d, arp(d, LAN1), T0);
	(void)feed(fk, s.gw, d, arp(d, LAN2), T0 + 10 * SEC);
	/* Table full: LAN3 still flows but is not learned. */
	assert_forwarded(feed(fk, s.gw, d, arp(d, LAN3), T0 + 10 * SEC), 2);
	assert_null(who(room, LAN3, T0 + 10 * SEC));
	assert_int_equal(lp_relay_room_unlearned(room), 1);
	assert_true(find_log(fk, "learned-MAC table full (2 entries), not learning "
	                         "06:00:00:00:00:53") >= 0);
	/* Aging: alive until 300 s after the last frame. */
	assert_ptr_equal(who(room, LAN1, T0 + age - 1), s.gw);
	assert_null(who(room, LAN1, T0 + age));
	/* Traffic refreshes LAN2. */
	(void)feed(fk, s.gw, d, arp(d, LAN2), T0 + age);
	/* An aged destination is unknown again (to the gateway as unknown unicast). */
	fake_reset(fk);
	assert_forwarded(feed(fk, s.a, d, ucast(d, LAN1, A_MAC, 50), T0 + age), 1);
	assert_int_equal(fk->dg[0].conn, 0);
	/* The full table makes room by sweeping aged entries: LAN3 learned now. */
	(void)feed(fk, s.gw, d, arp(d, LAN3), T0 + age + 1);
	assert_ptr_equal(who(room, LAN3, T0 + age + 1), s.gw);
	assert_int_equal(lp_relay_room_learned_count(room), 2);
	/* The periodic sweep frees aged slots; peers' own MACs never age. */
	assert_int_equal(lp_relay_expire(fk->r, T0 + age + 1), 0);
	assert_int_equal(lp_relay_expire(fk->r, T0 + 2 * age + 1), 2);
	assert_int_equal(lp_relay_room_learned_count(room), 0);
	assert_ptr_equal(who(room, A_MAC, T0 + 10 * age), s.a);
	assert_ptr_equal(who(room, GW_MAC, T0 + 10 * age), s.gw);
	lp_relay_del(fk->r);
}

static void test_aged_mac_can_join(void **state)
{
	struct room3 s = room3(NULL, LP_LOG_INFO);
	struct lp_relay_peer *c;
	uint8_t d[2100];

	(void)state;
	(void)feed(s.fk, s.gw, d, arp(d, LAN1), T0);
	/* Aged but not swept: the client takes the MAC over. */
	c = join(s.fk, 4, LP_ROLE_CLIENT, "ROOM1", LAN1, 1452, T0 + 300 * SEC);
	assert_ptr_equal(who(lp_relay_peer_room(c), LAN1, T0 + 300 * SEC), c);
	assert_int_equal(lp_relay_room_learned_count(lp_relay_peer_room(c)), 0);
	/* Now the LAN side using it is a loop. */
	assert_dropped(feed(s.fk, s.gw, d, arp(d, LAN1), T0 + 300 * SEC), LP_OBS_DROPPED,
	               LP_DROP_LOOP);
	lp_relay_del(s.fk->r);
}

static void test_frame_event_logging(void **state)
{
	struct room3 s = room3(NULL, LP_LOG_DEBUG);
	struct fake *fk = s.fk;
	uint8_t d[2100];
	int i;

	(void)state;
	assert_forwarded(feed(fk, s.a, d, arp(d, A_MAC), T0), 2);
	i = find_log(fk, "frame ");
	assert_true(i >= 0);
	assert_int_equal(fk->log_level[i], LP_LOG_DEBUG);
	assert_non_null(strstr(fk->log[i], "room=ROOM1"));
	assert_non_null(strstr(fk->log[i], "peer=2"));
	assert_non_null(strstr(fk->log[i], "src=02:00:00:00:00:0a"));
	assert_non_null(strstr(fk->log[i], "dst=ff:ff:ff:ff:ff:ff"));
	assert_non_null(strstr(fk->log[i], "0x0806"));
	assert_non_null(strstr(fk->log[i], "action=forwarded"));
	assert_non_null(strstr(fk->log[i], "targets=2"));
	fake_reset(fk);
	(void)feed(fk, s.a, d, arp(d, B_MAC), T0);
	assert_int_equal(fk->nlog, 1);
	assert_non_null(strstr(fk->log[0], "action=filtered"));
	assert_non_null(strstr(fk->log[0], "reason=spoofed_src"));
	lp_relay_del(fk->r);

	/* At info level no frame line is produced. */
	s = room3(NULL, LP_LOG_INFO);
	for (int k = 0; k < 10; k++)
		(void)feed(s.fk, s.a, d, arp(d, A_MAC), T0);
	assert_int_equal(s.fk->nlog, 0);
	/* A filtered frame gets one info line, rate-limited per peer. */
	for (int k = 0; k < 50; k++)
		(void)feed(s.fk, s.a, d, dhcp_offer(d, A_MAC, 0), T0);
	assert_true(s.fk->nlog >= 1 && s.fk->nlog < 50);
	assert_int_equal(s.fk->log_level[0], LP_LOG_INFO);
	assert_non_null(strstr(s.fk->log[0], "filtered a frame from peer 2 (client): dhcp_server"));
	lp_relay_del(s.fk->r);
}

/* ---- MAC table ------------------------------------------------------------------- */

static void test_mactable_consistency(void **state)
{
	struct lp_relay_mactab t;
	struct lp_relay_peer *owner[2] = { (struct lp_relay_peer *)&t,
		                           (struct lp_relay_peer *)state };
	static bool present[1000];
	struct lp_mac m;
	uint32_t x = 12345;

	(void)state;
	memset(present, 0, sizeof(present));
	assert_int_equal(lp_relay_mactab_init(&t, 1000, LP_NS_PER_SEC, 1, 2), 0);
	/* Random inserts and removes, checked against a reference set. */
	for (int step = 0; step < 20000; step++) {
		unsigned k;
		struct lp_relay_mac_entry *e;

		x = x * 1103515245u + 12345u;
		k = (x >> 8) % 1000;
		m = mac_n(0x00, (uint8_t)k);
		m.b[4] = (uint8_t)(k >> 8);
		e = lp_relay_mactab_find(&t, &m);
		assert_int_equal(e != NULL, present[k]);
		if (e != NULL) {
			lp_relay_mactab_remove(&t, e);
			present[k] = false;
		} else {
			assert_non_null(lp_relay_mactab_insert(&t, &m, owner[k & 1], false, 0));
			present[k] = true;
		}
	}
	for (unsigned k = 0; k < 1000; k++) {
		m = mac_n(0x00, (uint8_t)k);
		m.b[4] = (uint8_t)(k >> 8);
		assert_int_equal(lp_relay_mactab_find(&t, &m) != NULL, present[k]);
	}
	/* Removing one owner's entries leaves exactly the other's. */
	(void)lp_relay_mactab_remove_peer(&t, owner[1]);
	for (unsigned k = 0; k < 1000; k++) {
		m = mac_n(0x00, (uint8_t)k);
		m.b[4] = (uint8_t)(k >> 8);
		assert_int_equal(lp_relay_mactab_find(&t, &m) != NULL, present[k] && (k & 1) == 0);
	}
	assert_int_equal(t.count, t.learned);
	assert_int_equal(lp_relay_mactab_count_peer(&t, owner[0]), t.count);
	/* Filling to the limit works; one more does not fit. */
	(void)lp_relay_mactab_remove_peer(&t, owner[0]);
	assert_int_equal(t.count, 0);
	for (unsigned k = 0; k < 1000; k++) {
		m = mac_n(0x04, (uint8_t)k);
		m.b[4] = (uint8_t)(k >> 8);
		assert_non_null(lp_relay_mactab_insert(&t, &m, owner[0], true, 0));
	}
	m = mac_n(0x06, 0);
	assert_int_equal(t.cap, 2048);
	for (int k = 0; k < 24; k++) {
		m.b[5] = (uint8_t)k;
		assert_non_null(lp_relay_mactab_insert(&t, &m, owner[0], true, 0));
	}
	m.b[5] = 99;
	assert_null(lp_relay_mactab_insert(&t, &m, owner[0], true, 0));
	lp_relay_mactab_free(&t);
}

/* The longest run of used slots: what a lookup may have to walk. */
static size_t longest_run(const struct lp_relay_mactab *t)
{
	size_t run = 0, best = 0;

	for (size_t i = 0; i < t->cap; i++) {
		run = t->slots[i].used ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

/*
 * MACs chosen to share one slot under an unkeyed hash (here the Fibonacci
 * hash the table used before: (mac * 2^64/phi) >> shift, all in slot 0 at
 * every capacity up to 512) pile up in one probe run of all of them there.
 * Under SipHash with the relay's key they spread like any other MACs, and
 * where a MAC lands depends on the key, so nobody can precompute such a set.
 */
static void test_mactable_keyed_hash(void **state)
{
	enum { N = 200 };
	struct lp_relay_mactab t, u;
	struct lp_relay_peer *owner = (struct lp_relay_peer *)state;
	static struct lp_mac macs[N];
	size_t n = 0, same = 0;
	uint64_t k;

	(void)state;
	for (k = 0x020000000000ULL; n < N; k++) {
		if ((k * UINT64_C(0x9E3779B97F4A7C15)) >> 55 != 0)
			continue;
		for (int i = 0; i < LP_MAC_LEN; i++)
			macs[n].b[i] = (uint8_t)(k >> (8 * (LP_MAC_LEN - 1 - i)));
		n++;
	}
	assert_int_equal(lp_relay_mactab_init(&t, 4096, LP_NS_PER_SEC, 1, 2), 0);
	assert_int_equal(lp_relay_mactab_init(&u, 4096, LP_NS_PER_SEC, 3, 4), 0);
	for (n = 0; n < N; n++) {
		assert_non_null(lp_relay_mactab_insert(&t, &macs[n], owner, false, 0));
		assert_non_null(lp_relay_mactab_insert(&u, &macs[n], owner, false, 0));
	}
	assert_int_equal(t.cap, 512);
	/* Random placement of 200 keys in 512 slots: runs of a dozen or so. */
	assert_true(longest_run(&t) < 48);
	assert_true(longest_run(&u) < 48);
	for (n = 0; n < N; n++) {
		const struct lp_relay_mac_entry *a = lp_relay_mactab_find(&t, &macs[n]);
		const struct lp_relay_mac_entry *b = lp_relay_mactab_find(&u, &macs[n]);

		assert_non_null(a);
		assert_non_null(b);
		same += a - t.slots == b - u.slots;
	}
	assert_true(same < N / 4);
	/* Every MAC still resolves to its peer. */
	for (n = 0; n < N; n++)
		assert_ptr_equal(lp_relay_mactab_lookup(&t, &macs[n], 0), owner);
	lp_relay_mactab_free(&t);
	lp_relay_mactab_free(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admission_and_catchup),
		cmocka_unit_test(test_client_first_then_gateway),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_mtu_rule),
		cmocka_unit_test(test_cfg_validate),
		cmocka_unit_test(test_forwarding_rules),
		cmocka_unit_test(test_unknown_without_gateway),
		cmocka_unit_test(test_filters_in_path),
		cmocka_unit_test(test_rate_limits),
		cmocka_unit_test(test_gateway_rate_limits),
		cmocka_unit_test(test_room_budget),
		cmocka_unit_test(test_bandwidth_disabled),
		cmocka_unit_test(test_egress_budget_skip),
		cmocka_unit_test(test_queue_full_and_io),
		cmocka_unit_test(test_malformed_threshold),
		cmocka_unit_test(test_leave_and_reasons),
		cmocka_unit_test(test_gateway_leave_cleans_macs),
		cmocka_unit_test(test_mac_aging_and_limit),
		cmocka_unit_test(test_aged_mac_can_join),
		cmocka_unit_test(test_frame_event_logging),
		cmocka_unit_test(test_mactable_consistency),
		cmocka_unit_test(test_mactable_keyed_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
