/* The relay's peer_stats table (src/relay/peer_stats.h): entries from the
 * engine's accounting and each connection's link, one encoding per room,
 * closing and backlogged peers skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "peer_stats.h"

#define T0 (1000 * LP_NS_PER_SEC)

struct fake_conn {
	struct relay_peer_link link;
	unsigned got;
	uint8_t last[LP_CTRL_PREFIX_LEN + LP_CTRL_FRAME_MAX];
	size_t last_len;
};

static struct fake_conn conns[3];

static int cb_dg(void *user, void *conn, const uint8_t *data, size_t len)
{
	(void)user;
	(void)conn;
	(void)data;
	(void)len;
	return 0;
}

static void cb_ctrl(void *user, void *conn, const struct lp_ctrl_msg *m)
{
	(void)user;
	(void)conn;
	(void)m;
}

static void hook_link(void *user, void *conn, struct relay_peer_link *out)
{
	(void)user;
	*out = ((struct fake_conn *)conn)->link;
}

static int hook_send(void *user, void *conn, const uint8_t *data, size_t len)
{
	struct fake_conn *c = conn;

	(*(unsigned *)user)++;
	c->got++;
	memcpy(c->last, data, len);
	c->last_len = len;
	return 0;
}

static struct lp_relay_peer *join(struct lp_relay *r, int c, enum lp_role role, uint8_t last)
{
	struct lp_ctrl_hello h;
	struct lp_relay_peer *p = NULL;

	memset(&h, 0, sizeof(h));
	h.version = LP_CTRL_VERSION;
	h.role = role;
	(void)snprintf(h.room, sizeof(h.room), "ROOM1");
	h.mac = (struct lp_mac){ { 0x02, 0, 0, 0, 0, last } };
	h.datagram_budget = 1400;
	assert_int_equal(lp_relay_admit(r, &h, &conns[c], 1400, T0, NULL, &p), 0);
	return p;
}

/* A client joins first, then the gateway: the table still lists the gateway
 * first; traffic counters are named from the peer's side. */
static void test_build_and_send(void **state)
{
	struct lp_relay_callbacks cb = { cb_dg, cb_ctrl, NULL, NULL };
	unsigned sends = 0;
	struct relay_peer_stats_hooks h = { hook_link, hook_send, &sends };
	struct lp_relay *r = NULL;
	struct lp_relay_peer *cli, *gw;
	struct lp_ctrl_msg *m = test_malloc(sizeof(*m)), back;
	uint8_t *buf = test_malloc(LP_CTRL_PREFIX_LEN + LP_CTRL_FRAME_MAX);
	uint8_t frame[64], dg[80];
	ssize_t n;

	(void)state;
	memset(conns, 0, sizeof(conns));
	assert_int_equal(lp_relay_new(&r, NULL, &cb, NULL), 0);
	cli = join(r, 0, LP_ROLE_CLIENT, 0x0a);
	gw = join(r, 1, LP_ROLE_GATEWAY, 0x01);
	/* One broadcast from the client reaches the gateway. */
	memset(frame, 0, sizeof(frame));
	memset(frame, 0xff, 6);
	memcpy(frame + 6, lp_relay_peer_mac(cli)->b, 6);
	lp_put_u16(frame + 12, LP_ETHERTYPE_ARP);
	n = lp_proto_overlay_encode(dg, sizeof(dg), LP_PROTO_TYPE_ETHERNET, frame, 60);
	assert_int_equal(n, 64);
	lp_relay_datagram(r, cli, dg, (size_t)n, T0, NULL);

	conns[0].link = (struct relay_peer_link){ .smoothed_rtt_ns = 1500000,
		                                  .min_rtt_ns = 900000,
		                                  .datagrams_sent = 10,
		                                  .datagrams_lost = 1 };
	/* An estimator quirk (min above smoothed) and an impossible loss are
	 * clamped, never sent as a message peers would refuse. */
	conns[1].link = (struct relay_peer_link){ .smoothed_rtt_ns = 2000000,
		                                  .min_rtt_ns = 2500000,
		                                  .datagrams_sent = 1,
		                                  .datagrams_lost = 5 };

	relay_peer_stats_build(lp_relay_peer_room(cli), &h, m);
	assert_int_equal(lp_ctrl_msg_validate(m), 0);
	assert_int_equal(m->u.peer_stats.peers_total, 2);
	assert_int_equal(m->u.peer_stats.count, 2);
	assert_int_equal(m->u.peer_stats.peers[0].peer_id, lp_relay_peer_id(gw));
	assert_int_equal(m->u.peer_stats.peers[0].role, LP_ROLE_GATEWAY);
	assert_int_equal(m->u.peer_stats.peers[0].rtt_us, 2000);
	assert_int_equal(m->u.peer_stats.peers[0].rtt_min_us, 2000);
	assert_int_equal(m->u.peer_stats.peers[0].dg_lost, 1);
	assert_int_equal(m->u.peer_stats.peers[0].rx_frames, 1); /* the broadcast */
	assert_int_equal(m->u.peer_stats.peers[1].peer_id, lp_relay_peer_id(cli));
	assert_int_equal(m->u.peer_stats.peers[1].rtt_us, 1500);
	assert_int_equal(m->u.peer_stats.peers[1].rtt_min_us, 900);
	assert_int_equal(m->u.peer_stats.peers[1].dg_sent, 10);
	assert_int_equal(m->u.peer_stats.peers[1].tx_frames, 1);
	assert_int_equal(m->u.peer_stats.peers[1].tx_bytes, 64);
	assert_int_equal(m->u.peer_stats.peers[1].rx_frames, 0);

	/* Sent to both; the same bytes to each; they parse back to the table. */
	assert_int_equal(relay_peer_stats_send(lp_relay_peer_room(cli), &h, m, buf,
	                                       LP_CTRL_PREFIX_LEN + LP_CTRL_FRAME_MAX),
	                 2);
	assert_int_equal(sends, 2);
	assert_int_equal(conns[0].last_len, conns[1].last_len);
	assert_memory_equal(conns[0].last, conns[1].last, conns[0].last_len);
	assert_int_equal(lp_ctrl_parse_json(conns[0].last + 4, conns[0].last_len - 4, &back), 0);
	assert_memory_equal(&back, m, sizeof(back));

	/* A closing peer and a peer that stopped reading get nothing. */
	conns[0].link.closing = true;
	conns[1].link.stream_unacked = RELAY_PEER_STATS_BACKLOG_MAX + 1;
	assert_int_equal(relay_peer_stats_send(lp_relay_peer_room(cli), &h, m, buf,
	                                       LP_CTRL_PREFIX_LEN + LP_CTRL_FRAME_MAX),
	                 0);
	assert_int_equal(sends, 2);
	lp_relay_del(r);
	test_free(buf);
	test_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_and_send),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
