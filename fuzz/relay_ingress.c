/*
 * relay_ingress: arbitrary datagrams from an admitted client and the
 * gateway into a room of four peers. Asserts that the engine never sends a
 * datagram back to its sender, hands out a client's ingress bytes
 * themselves and the gateway's with only FROM_GATEWAY added, and survives
 * malformed-input disconnects and rejoins.
 *
 * Input: a sequence of records
 *   byte 0     bit 0: sender (0 client A, 1 gateway), bit 1: wrap the bytes
 *              in a valid overlay header, bits 2-7: milliseconds to advance
 *   bytes 1-2  record length N, big-endian (clamped to what is left)
 *   N bytes    the datagram (or, with bit 1, the Ethernet frame)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "room.h"

static int conns[4];
static void *ingress_conn;
static const uint8_t *ingress_data;
static size_t ingress_len;
static int want_close[4];

static int send_dg(void *user, void *conn, const uint8_t *data, size_t len)
{
	(void)user;
	if (conn == ingress_conn || len != ingress_len || len < LP_PROTO_OVERLAY_HDR_LEN)
		abort();
	if (ingress_conn != &conns[0] && data != ingress_data)
		abort();
	if (ingress_conn == &conns[0] &&
	    (data[0] != ingress_data[0] ||
	     data[1] != (ingress_data[1] | LP_PROTO_FLAG_FROM_GATEWAY) ||
	     memcmp(data + 2, ingress_data + 2, len - 2) != 0))
		abort();
	return conn == &conns[3] ? LP_ERR_AGAIN : 0;
}

static void send_ctrl(void *user, void *conn, const struct lp_ctrl_msg *m)
{
	(void)user;
	(void)conn;
	if (lp_ctrl_msg_validate(m) != 0)
		abort();
}

static void disconnect(void *user, void *conn, const char *reason)
{
	(void)user;
	if (reason == NULL || reason[0] == '\0')
		abort();
	want_close[(int *)conn - conns] = 1;
}

static struct lp_relay_peer *join(struct lp_relay *r, int c, enum lp_role role, uint8_t last,
                                  size_t budget, uint64_t now)
{
	struct lp_ctrl_hello h;
	struct lp_relay_peer *p = NULL;

	memset(&h, 0, sizeof(h));
	h.version = LP_CTRL_VERSION;
	h.role = role;
	memcpy(h.room, "FUZZ", 5);
	h.mac = (struct lp_mac){ { 0x02, 0, 0, 0, 0, last } };
	h.datagram_budget = 1452;
	if (lp_relay_admit(r, &h, &conns[c], budget, now, NULL, &p) != 0)
		abort();
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lp_relay_callbacks cb = { send_dg, send_ctrl, disconnect, NULL };
	struct lp_relay_cfg cfg;
	struct lp_relay *r = NULL;
	struct lp_relay_peer *peers[4];
	uint8_t buf[LP_PROTO_OVERLAY_HDR_LEN + 2048];
	uint64_t now = LP_NS_PER_SEC;

	lp_relay_cfg_defaults(&cfg);
	cfg.bcast_burst = 20;
	cfg.unknown_burst = 10;
	cfg.bandwidth_burst = 20000;
	cfg.malformed_threshold = 8;
	cfg.mac_limit = 16;
	cfg.mac_aging_ns = 50 * LP_NS_PER_MS;
	if (lp_relay_new(&r, &cfg, &cb, NULL) != 0)
		abort();
	peers[0] = join(r, 0, LP_ROLE_GATEWAY, 0x01, 1452, now);
	peers[1] = join(r, 1, LP_ROLE_CLIENT, 0x0a, 1452, now);
	peers[2] = join(r, 2, LP_ROLE_CLIENT, 0x0b, 1400, now);
	peers[3] = join(r, 3, LP_ROLE_CLIENT, 0x0c, 1452, now);
	lp_relay_peer_set_budget(peers[2], 600);

	while (size >= 3) {
		int who = data[0] & 1 ? 0 : 1;
		size_t len = (size_t)data[1] << 8 | data[2];

		now += (uint64_t)(data[0] >> 2) * LP_NS_PER_MS;
		if (len > size - 3)
			len = size - 3;
		if ((data[0] & 2) != 0 && len <= 2048) {
			ssize_t n = lp_proto_overlay_encode(buf, sizeof(buf),
			                                    LP_PROTO_TYPE_ETHERNET, data + 3, len);
			if (n < 0)
				abort();
			ingress_data = buf;
			ingress_len = (size_t)n;
		} else {
			ingress_data = data + 3;
			ingress_len = len;
		}
		ingress_conn = &conns[who];
		lp_relay_datagram(r, peers[who], ingress_data, ingress_len, now, NULL);
		if (want_close[who]) {
			want_close[who] = 0;
			lp_relay_peer_leave(r, peers[who], "connection closed");
			peers[who] = join(r, who, who == 0 ? LP_ROLE_GATEWAY : LP_ROLE_CLIENT,
			                  who == 0 ? 0x01 : 0x0a, 1452, now);
		}
		(void)lp_relay_expire(r, now);
		data += 3 + len;
		size -= 3 + len;
	}
	lp_relay_del(r);
	return 0;
}
