/* Prometheus exposition and log snapshot of the relay (src/relay/metrics.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

#define SEC LP_NS_PER_SEC
#define T0 (1000 * SEC)

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

static int conns[4];

static struct lp_relay_peer *join(struct lp_relay *r, int c, enum lp_role role, const char *room,
                                  uint8_t last, size_t budget)
{
	struct lp_ctrl_hello h;
	struct lp_relay_peer *p = NULL;

	memset(&h, 0, sizeof(h));
	h.version = LP_CTRL_VERSION;
	h.role = role;
	(void)snprintf(h.room, sizeof(h.room), "%s", room);
	h.mac = (struct lp_mac){ { 0x02, 0, 0, 0, 0, last } };
	h.datagram_budget = (uint32_t)budget;
	assert_int_equal(lp_relay_admit(r, &h, &conns[c], budget, T0, NULL, &p), 0);
	return p;
}

static size_t arp(uint8_t *out, const uint8_t src[6])
{
	uint8_t f[42];
	ssize_t n;

	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	memcpy(f + 6, src, 6);
	lp_put_u16(f + 12, LP_ETHERTYPE_ARP);
	n = lp_proto_overlay_encode(out, 64, LP_PROTO_TYPE_ETHERNET, f, sizeof(f));
	assert_int_equal(n, 46);
	return (size_t)n;
}

/* ROOM1: gateway 1 (budget 1452), client 2 (budget 1400) with a stats
 * snapshot; the gateway learned one LAN MAC; the client sent one broadcast
 * and one spoofed frame. */
static struct lp_relay *scenario(void)
{
	static const uint8_t lan[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
	static const uint8_t cli[6] = { 0x02, 0, 0, 0, 0, 0x0a };
	static const uint8_t spoof[6] = { 0x02, 0, 0, 0, 0, 0x0b };
	struct lp_relay_callbacks cb = { cb_dg, cb_ctrl, NULL, NULL };
	struct lp_relay *r = NULL;
	struct lp_relay_peer *gw, *a;
	struct lp_ctrl_msg m;
	uint8_t d[64];

	assert_int_equal(lp_relay_new(&r, NULL, &cb, NULL), 0);
	gw = join(r, 0, LP_ROLE_GATEWAY, "ROOM1", 0x01, 1452);
	a = join(r, 1, LP_ROLE_CLIENT, "ROOM1", 0x0a, 1400);
	lp_relay_datagram(r, gw, d, arp(d, lan), T0 + SEC, NULL);
	lp_relay_datagram(r, a, d, arp(d, cli), T0 + 2 * SEC, NULL);
	lp_relay_datagram(r, a, d, arp(d, spoof), T0 + 2 * SEC, NULL);
	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_STATS;
	m.u.stats.counters.frames_rx = 7;
	m.u.stats.counters.frames_tx = 5;
	m.u.stats.counters.bytes_rx = 700;
	m.u.stats.counters.bytes_tx = 500;
	m.u.stats.counters.datagrams_rx = 7;
	m.u.stats.counters.datagrams_tx = 5;
	m.u.stats.counters.broadcast_rx = 2;
	m.u.stats.counters.drops[LP_DROP_QUEUE_FULL] = 3;
	assert_int_equal(lp_relay_peer_ctrl(r, a, &m, T0 + 2 * SEC + 250 * LP_NS_PER_MS), 0);
	return r;
}

static const char expected_metrics[] =
        "# HELP lanparty_relay_rooms Rooms currently open.\n"
        "# TYPE lanparty_relay_rooms gauge\n"
        "lanparty_relay_rooms 1\n"
        "# HELP lanparty_relay_peers Peers currently admitted.\n"
        "# TYPE lanparty_relay_peers gauge\n"
        "lanparty_relay_peers 2\n"
        "# HELP lanparty_relay_admitted_total Peers admitted since start.\n"
        "# TYPE lanparty_relay_admitted_total counter\n"
        "lanparty_relay_admitted_total 2\n"
        "# HELP lanparty_relay_rejected_total Hellos rejected since start, by reason.\n"
        "# TYPE lanparty_relay_rejected_total counter\n"
        "lanparty_relay_rejected_total{reason=\"bad_hello\"} 0\n"
        "lanparty_relay_rejected_total{reason=\"version\"} 0\n"
        "lanparty_relay_rejected_total{reason=\"bad_room\"} 0\n"
        "lanparty_relay_rejected_total{reason=\"gateway_exists\"} 0\n"
        "lanparty_relay_rejected_total{reason=\"duplicate_mac\"} 0\n"
        "lanparty_relay_rejected_total{reason=\"room_full\"} 0\n"
        "lanparty_relay_rejected_total{reason=\"too_many_rooms\"} 0\n"
        "lanparty_relay_rejected_total{reason=\"budget_too_small\"} 0\n"
        "lanparty_relay_rejected_total{reason=\"shutting_down\"} 0\n"
        "lanparty_relay_rejected_total{reason=\"not_admitted\"} 0\n"
        "# HELP lanparty_relay_datagrams_rx_total All peers: QUIC datagrams received (rx from "
        "peers, tx to peers).\n"
        "# TYPE lanparty_relay_datagrams_rx_total counter\n"
        "lanparty_relay_datagrams_rx_total 3\n"
        "# HELP lanparty_relay_datagrams_tx_total All peers: QUIC datagrams sent (rx from peers, "
        "tx to peers).\n"
        "# TYPE lanparty_relay_datagrams_tx_total counter\n"
        "lanparty_relay_datagrams_tx_total 2\n"
        "# HELP lanparty_relay_frames_rx_total All peers: Ethernet frames received (rx from peers, "
        "tx to peers).\n"
        "# TYPE lanparty_relay_frames_rx_total counter\n"
        "lanparty_relay_frames_rx_total 3\n"
        "# HELP lanparty_relay_frames_tx_total All peers: Ethernet frames sent (rx from peers, tx "
        "to peers).\n"
        "# TYPE lanparty_relay_frames_tx_total counter\n"
        "lanparty_relay_frames_tx_total 2\n"
        "# HELP lanparty_relay_bytes_rx_total All peers: bytes received (rx from peers, tx to "
        "peers).\n"
        "# TYPE lanparty_relay_bytes_rx_total counter\n"
        "lanparty_relay_bytes_rx_total 138\n"
        "# HELP lanparty_relay_bytes_tx_total All peers: bytes sent (rx from peers, tx to peers).\n"
        "# TYPE lanparty_relay_bytes_tx_total counter\n"
        "lanparty_relay_bytes_tx_total 92\n"
        "# HELP lanparty_relay_broadcast_rx_total All peers: broadcast/multicast frames received "
        "(rx from peers, tx to peers).\n"
        "# TYPE lanparty_relay_broadcast_rx_total counter\n"
        "lanparty_relay_broadcast_rx_total 3\n"
        "# HELP lanparty_relay_drops_total Frames dropped, filtered or rate-limited, by reason.\n"
        "# TYPE lanparty_relay_drops_total counter\n"
        "lanparty_relay_drops_total{reason=\"too_big\"} 0\n"
        "lanparty_relay_drops_total{reason=\"malformed\"} 0\n"
        "lanparty_relay_drops_total{reason=\"truncated\"} 0\n"
        "lanparty_relay_drops_total{reason=\"queue_full\"} 0\n"
        "lanparty_relay_drops_total{reason=\"unknown_dest\"} 0\n"
        "lanparty_relay_drops_total{reason=\"not_ready\"} 0\n"
        "lanparty_relay_drops_total{reason=\"io\"} 0\n"
        "lanparty_relay_drops_total{reason=\"loop\"} 0\n"
        "lanparty_relay_drops_total{reason=\"invalid_src\"} 0\n"
        "lanparty_relay_drops_total{reason=\"spoofed_src\"} 1\n"
        "lanparty_relay_drops_total{reason=\"jumbo\"} 0\n"
        "lanparty_relay_drops_total{reason=\"switch_control\"} 0\n"
        "lanparty_relay_drops_total{reason=\"dhcp_server\"} 0\n"
        "lanparty_relay_drops_total{reason=\"ipv6_ra\"} 0\n"
        "lanparty_relay_drops_total{reason=\"dhcpv6_server\"} 0\n"
        "lanparty_relay_drops_total{reason=\"ipv6_fragment\"} 0\n"
        "lanparty_relay_drops_total{reason=\"vlan_tagged\"} 0\n"
        "lanparty_relay_drops_total{reason=\"lan_mac\"} 0\n"
        "lanparty_relay_drops_total{reason=\"icmp_router\"} 0\n"
        "lanparty_relay_drops_total{reason=\"rate_broadcast\"} 0\n"
        "lanparty_relay_drops_total{reason=\"rate_unknown\"} 0\n"
        "lanparty_relay_drops_total{reason=\"rate_total\"} 0\n"
        "lanparty_relay_drops_total{reason=\"rate_room\"} 0\n"
        "lanparty_relay_drops_total{reason=\"unsealed\"} 0\n"
        "lanparty_relay_drops_total{reason=\"auth\"} 0\n"
        "lanparty_relay_drops_total{reason=\"replay\"} 0\n"
        "lanparty_relay_drops_total{reason=\"too_old\"} 0\n"
        "lanparty_relay_drops_total{reason=\"retired_epoch\"} 0\n"
        "# HELP lanparty_relay_room_peers Peers in the room.\n"
        "# TYPE lanparty_relay_room_peers gauge\n"
        "lanparty_relay_room_peers{room=\"ROOM1\"} 2\n"
        "# HELP lanparty_relay_room_mtu Interface MTU fixed when the room was created.\n"
        "# TYPE lanparty_relay_room_mtu gauge\n"
        "lanparty_relay_room_mtu{room=\"ROOM1\"} 1380\n"
        "# HELP lanparty_relay_room_gateway_present 1 when the room has a LAN gateway.\n"
        "# TYPE lanparty_relay_room_gateway_present gauge\n"
        "lanparty_relay_room_gateway_present{room=\"ROOM1\"} 1\n"
        "# HELP lanparty_relay_room_learned_macs MACs learned behind the gateway.\n"
        "# TYPE lanparty_relay_room_learned_macs gauge\n"
        "lanparty_relay_room_learned_macs{room=\"ROOM1\"} 1\n"
        "# HELP lanparty_relay_room_unlearned_macs_total Gateway sources not learned because the "
        "MAC table was full.\n"
        "# TYPE lanparty_relay_room_unlearned_macs_total counter\n"
        "lanparty_relay_room_unlearned_macs_total{room=\"ROOM1\"} 0\n"
        "# HELP lanparty_relay_room_rate_limited_total Frames dropped because the room was over "
        "its "
        "budget (--rate-room-mbit).\n"
        "# TYPE lanparty_relay_room_rate_limited_total counter\n"
        "lanparty_relay_room_rate_limited_total{room=\"ROOM1\"} 0\n"
        "# HELP lanparty_relay_peer_info Admitted peer (always 1), with its identity.\n"
        "# TYPE lanparty_relay_peer_info gauge\n"
        "lanparty_relay_peer_info{room=\"ROOM1\",peer_id=\"1\",role=\"gateway\",mac=\"02:00:00:00:"
        "00:01\"} 1\n"
        "lanparty_relay_peer_info{room=\"ROOM1\",peer_id=\"2\",role=\"client\",mac=\"02:00:00:00:"
        "00:0a\"} 1\n"
        "# HELP lanparty_relay_peer_last_seen_seconds Seconds since the peer was last heard.\n"
        "# TYPE lanparty_relay_peer_last_seen_seconds gauge\n"
        "lanparty_relay_peer_last_seen_seconds{room=\"ROOM1\",peer_id=\"1\",role=\"gateway\",mac="
        "\"02:00:00:00:00:01\"} 2.500\n"
        "lanparty_relay_peer_last_seen_seconds{room=\"ROOM1\",peer_id=\"2\",role=\"client\",mac="
        "\"02:00:00:00:00:0a\"} 1.250\n"
        "# HELP lanparty_relay_peer_datagram_budget_bytes Effective datagram budget.\n"
        "# TYPE lanparty_relay_peer_datagram_budget_bytes gauge\n"
        "lanparty_relay_peer_datagram_budget_bytes{room=\"ROOM1\",peer_id=\"1\",role=\"gateway\","
        "mac=\"02:00:00:00:00:01\"} 1452\n"
        "lanparty_relay_peer_datagram_budget_bytes{room=\"ROOM1\",peer_id=\"2\",role=\"client\","
        "mac=\"02:00:00:00:00:0a\"} 1400\n"
        "# HELP lanparty_relay_peer_malformed_total Malformed datagrams received.\n"
        "# TYPE lanparty_relay_peer_malformed_total counter\n"
        "lanparty_relay_peer_malformed_total{room=\"ROOM1\",peer_id=\"1\",role=\"gateway\",mac="
        "\"02:00:00:00:00:01\"} 0\n"
        "lanparty_relay_peer_malformed_total{room=\"ROOM1\",peer_id=\"2\",role=\"client\",mac=\"02:"
        "00:00:00:00:0a\"} 0\n"
        "# HELP lanparty_relay_peer_learned_macs MACs learned behind the peer.\n"
        "# TYPE lanparty_relay_peer_learned_macs gauge\n"
        "lanparty_relay_peer_learned_macs{room=\"ROOM1\",peer_id=\"1\",role=\"gateway\",mac=\"02:"
        "00:00:00:00:01\"} 1\n"
        "lanparty_relay_peer_learned_macs{room=\"ROOM1\",peer_id=\"2\",role=\"client\",mac=\"02:00:"
        "00:00:00:0a\"} 0\n"
        "# HELP lanparty_relay_peer_datagrams_rx_total Relay's accounting of the peer (rx from it, "
        "tx to it): QUIC datagrams received.\n"
        "# TYPE lanparty_relay_peer_datagrams_rx_total counter\n"
        "lanparty_relay_peer_datagrams_rx_total{room=\"ROOM1\",peer_id=\"1\",role=\"gateway\",mac="
        "\"02:00:00:00:00:01\"} 1\n"
        "lanparty_relay_peer_datagrams_rx_total{room=\"ROOM1\",peer_id=\"2\",role=\"client\",mac="
        "\"02:00:00:00:00:0a\"} 2\n"
        "# HELP lanparty_relay_peer_datagrams_tx_total Relay's accounting of the peer (rx from it, "
        "tx to it): QUIC datagrams sent.\n"
        "# TYPE lanparty_relay_peer_datagrams_tx_total counter\n"
        "lanparty_relay_peer_datagrams_tx_total{room=\"ROOM1\",peer_id=\"1\",role=\"gateway\",mac="
        "\"02:00:00:00:00:01\"} 1\n"
        "lanparty_relay_peer_datagrams_tx_total{room=\"ROOM1\",peer_id=\"2\",role=\"client\",mac="
        "\"02:00:00:00:00:0a\"} 1\n"
        "# HELP lanparty_relay_peer_frames_rx_total Relay's accounting of the peer (rx from it, tx "
        "to it): Ethernet frames received.\n"
        "# TYPE lanparty_relay_peer_frames_rx_total counter\n"
        "lanparty_relay_peer_frames_rx_total{room=\"ROOM1\",peer_id=\"1\",role=\"gateway\",mac="
        "\"02:00:00:00:00:01\"} 1\n"
        "lanparty_relay_peer_frames_rx_total{room=\"ROOM1\",peer_id=\"2\",role=\"client\",mac=\"02:"
        "00:00:00:00:0a\"} 2\n"
        "# HELP lanparty_relay_peer_frames_tx_total Relay's accounting of the peer (rx from it, tx "
        "to it): Ethernet frames sent.\n"
        "# TYPE lanparty_relay_peer_frames_tx_total counter\n"
        "lanparty_relay_peer_frames_tx_total{room=\"ROOM1\",peer_id=\"1\",role=\"gateway\",mac="
        "\"02:00:00:00:00:01\"} 1\n"
        "lanparty_relay_peer_frames_tx_total{room=\"ROOM1\",peer_id=\"2\",role=\"client\",mac=\"02:"
        "00:00:00:00:0a\"} 1\n"
        "# HELP lanparty_relay_peer_bytes_rx_total Relay's accounting of the peer (rx from it, tx "
        "to it): bytes received.\n"
        "# TYPE lanparty_relay_peer_bytes_rx_total counter\n"
        "lanparty_relay_peer_bytes_rx_total{room=\"ROOM1\",peer_id=\"1\",role=\"gateway\",mac=\"02:"
        "00:00:00:00:01\"} 46\n"
        "lanparty_relay_peer_bytes_rx_total{room=\"ROOM1\",peer_id=\"2\",role=\"client\",mac=\"02:"
        "00:00:00:00:0a\"} 92\n"
        "# HELP lanparty_relay_peer_bytes_tx_total Relay's accounting of the peer (rx from it, tx "
        "to it): bytes sent.\n"
        "# TYPE lanparty_relay_peer_bytes_tx_total counter\n"
        "lanparty_relay_peer_bytes_tx_total{room=\"ROOM1\",peer_id=\"1\",role=\"gateway\",mac=\"02:"
        "00:00:00:00:01\"} 46\n"
        "lanparty_relay_peer_bytes_tx_total{room=\"ROOM1\",peer_id=\"2\",role=\"client\",mac=\"02:"
        "00:00:00:00:0a\"} 46\n"
        "# HELP lanparty_relay_peer_broadcast_rx_total Relay's accounting of the peer (rx from it, "
        "tx to it): broadcast/multicast frames received.\n"
        "# TYPE lanparty_relay_peer_broadcast_rx_total counter\n"
        "lanparty_relay_peer_broadcast_rx_total{room=\"ROOM1\",peer_id=\"1\",role=\"gateway\",mac="
        "\"02:00:00:00:00:01\"} 1\n"
        "lanparty_relay_peer_broadcast_rx_total{room=\"ROOM1\",peer_id=\"2\",role=\"client\",mac="
        "\"02:00:00:00:00:0a\"} 2\n"
        "# HELP lanparty_relay_peer_drops_total Drops of the peer's frames and towards it.\n"
        "# TYPE lanparty_relay_peer_drops_total counter\n"
        "lanparty_relay_peer_drops_total{room=\"ROOM1\",peer_id=\"2\",role=\"client\",mac=\"02:00:"
        "00:00:00:0a\",reason=\"spoofed_src\"} 1\n"
        "# HELP lanparty_relay_peer_reported_datagrams_rx_total Peer's own last stats report: QUIC "
        "datagrams received.\n"
        "# TYPE lanparty_relay_peer_reported_datagrams_rx_total counter\n"
        "lanparty_relay_peer_reported_datagrams_rx_total{room=\"ROOM1\",peer_id=\"2\",role="
        "\"client\",mac=\"02:00:00:00:00:0a\"} 7\n"
        "# HELP lanparty_relay_peer_reported_datagrams_tx_total Peer's own last stats report: QUIC "
        "datagrams sent.\n"
        "# TYPE lanparty_relay_peer_reported_datagrams_tx_total counter\n"
        "lanparty_relay_peer_reported_datagrams_tx_total{room=\"ROOM1\",peer_id=\"2\",role="
        "\"client\",mac=\"02:00:00:00:00:0a\"} 5\n"
        "# HELP lanparty_relay_peer_reported_frames_rx_total Peer's own last stats report: "
        "Ethernet frames received.\n"
        "# TYPE lanparty_relay_peer_reported_frames_rx_total counter\n"
        "lanparty_relay_peer_reported_frames_rx_total{room=\"ROOM1\",peer_id=\"2\",role=\"client\","
        "mac=\"02:00:00:00:00:0a\"} 7\n"
        "# HELP lanparty_relay_peer_reported_frames_tx_total Peer's own last stats report: "
        "Ethernet frames sent.\n"
        "# TYPE lanparty_relay_peer_reported_frames_tx_total counter\n"
        "lanparty_relay_peer_reported_frames_tx_total{room=\"ROOM1\",peer_id=\"2\",role=\"client\","
        "mac=\"02:00:00:00:00:0a\"} 5\n"
        "# HELP lanparty_relay_peer_reported_bytes_rx_total Peer's own last stats report: bytes "
        "received.\n"
        "# TYPE lanparty_relay_peer_reported_bytes_rx_total counter\n"
        "lanparty_relay_peer_reported_bytes_rx_total{room=\"ROOM1\",peer_id=\"2\",role=\"client\","
        "mac=\"02:00:00:00:00:0a\"} 700\n"
        "# HELP lanparty_relay_peer_reported_bytes_tx_total Peer's own last stats report: bytes "
        "sent.\n"
        "# TYPE lanparty_relay_peer_reported_bytes_tx_total counter\n"
        "lanparty_relay_peer_reported_bytes_tx_total{room=\"ROOM1\",peer_id=\"2\",role=\"client\","
        "mac=\"02:00:00:00:00:0a\"} 500\n"
        "# HELP lanparty_relay_peer_reported_broadcast_rx_total Peer's own last stats report: "
        "broadcast/multicast frames received.\n"
        "# TYPE lanparty_relay_peer_reported_broadcast_rx_total counter\n"
        "lanparty_relay_peer_reported_broadcast_rx_total{room=\"ROOM1\",peer_id=\"2\",role="
        "\"client\",mac=\"02:00:00:00:00:0a\"} 2\n"
        "# HELP lanparty_relay_peer_reported_drops_total Peer's own last stats report: drops by "
        "reason.\n"
        "# TYPE lanparty_relay_peer_reported_drops_total counter\n"
        "lanparty_relay_peer_reported_drops_total{room=\"ROOM1\",peer_id=\"2\",role=\"client\",mac="
        "\"02:00:00:00:00:0a\",reason=\"queue_full\"} 3\n";

#define NOW (T0 + 3 * SEC + 500 * LP_NS_PER_MS)

static void test_metrics_exact(void **state)
{
	struct lp_relay *r = scenario();
	char buf[16384];
	ssize_t n;

	(void)state;
	n = lp_relay_metrics_write(r, NOW, buf, sizeof(buf));
	assert_int_equal(n, (ssize_t)strlen(expected_metrics));
	assert_string_equal(buf, expected_metrics);
	lp_relay_del(r);
}

static void test_metrics_buffer_edges(void **state)
{
	struct lp_relay *r = scenario();
	size_t len = strlen(expected_metrics);
	char *buf = malloc(len + 1);

	(void)state;
	assert_non_null(buf);
	/* Exactly enough for the text and its NUL. */
	assert_int_equal(lp_relay_metrics_write(r, NOW, buf, len + 1), (ssize_t)len);
	assert_string_equal(buf, expected_metrics);
	/* One byte less, a small buffer, none at all. */
	assert_int_equal(lp_relay_metrics_write(r, NOW, buf, len), LP_ERR_NOBUF);
	assert_int_equal(lp_relay_metrics_write(r, NOW, buf, 100), LP_ERR_NOBUF);
	assert_int_equal(lp_relay_metrics_write(r, NOW, NULL, 0), LP_ERR_NOBUF);
	free(buf);
	lp_relay_del(r);
}

static void test_metrics_empty_relay(void **state)
{
	struct lp_relay_callbacks cb = { cb_dg, cb_ctrl, NULL, NULL };
	struct lp_relay *r = NULL;
	struct lp_relay_peer *a;
	char buf[16384];

	(void)state;
	assert_int_equal(lp_relay_new(&r, NULL, &cb, NULL), 0);
	a = join(r, 0, LP_ROLE_CLIENT, "GONE", 0x0c, 1452);
	lp_relay_peer_leave(r, a, NULL);
	assert_true(lp_relay_metrics_write(r, T0, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\nlanparty_relay_rooms 0\n"));
	assert_non_null(strstr(buf, "\nlanparty_relay_peers 0\n"));
	assert_non_null(strstr(buf, "\nlanparty_relay_admitted_total 1\n"));
	/* Families stay declared; no sample names a room or peer that left. */
	assert_non_null(strstr(buf, "# TYPE lanparty_relay_peer_info gauge\n"));
	assert_null(strstr(buf, "GONE"));
	lp_relay_del(r);
}

struct lines {
	char l[8][512];
	int n;
};

static void collect(void *user, const char *l)
{
	struct lines *ls = user;

	assert_true(ls->n < 8);
	(void)snprintf(ls->l[ls->n++], sizeof(ls->l[0]), "%s", l);
}

static void test_snapshot_lines(void **state)
{
	struct lp_relay *r = scenario();
	struct lines ls;

	(void)state;
	memset(&ls, 0, sizeof(ls));
	lp_relay_snapshot_lines(r, NOW, collect, &ls);
	assert_int_equal(ls.n, 3);
	assert_string_equal(ls.l[0], "relay: 1 room, 2 peers, rx 3 frames, tx 2 frames, drops 1");
	assert_string_equal(ls.l[1],
	                    "room ROOM1 peer 1 gateway 02:00:00:00:00:01: budget 1452, last seen "
	                    "2.500 s ago, rx 1 frames / 46 B, tx 1 frames / 46 B, drops 0, learned "
	                    "1 MACs");
	assert_string_equal(ls.l[2],
	                    "room ROOM1 peer 2 client 02:00:00:00:00:0a: budget 1400, last seen "
	                    "1.250 s ago, rx 2 frames / 92 B, tx 1 frames / 46 B, drops 1 "
	                    "(spoofed_src 1); reports rx 7 tx 5 drops 3");
	lp_relay_del(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_exact),
		cmocka_unit_test(test_metrics_buffer_edges),
		cmocka_unit_test(test_metrics_empty_relay),
		cmocka_unit_test(test_snapshot_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
