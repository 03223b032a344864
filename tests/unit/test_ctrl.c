/* test_ctrl.c - control message names, validation, JSON encoding and parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lp_ctrl.h"

static const struct lp_mac mac_client = { { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 } };
static const struct lp_mac mac_gw = { { 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc } };

static int parse_str(const char *json, struct lp_ctrl_msg *m)
{
	return lp_ctrl_parse_json((const uint8_t *)json, strlen(json), m);
}

static int parse_code(const char *json)
{
	struct lp_ctrl_msg m;
	int rc = parse_str(json, &m);

	/* A refused body leaves nothing behind. */
	if (rc != 0)
		assert_int_equal(m.type, LP_CTRL_NONE);
	return rc;
}

/* Encodes m and checks the prefix and the exact JSON text. */
static void assert_encodes_to(const struct lp_ctrl_msg *m, const char *want)
{
	uint8_t buf[LP_CTRL_PREFIX_LEN + LP_CTRL_FRAME_MAX];
	size_t wlen = strlen(want);
	ssize_t n = lp_ctrl_encode(m, buf, sizeof(buf));

	assert_int_equal(n, (ssize_t)(wlen + LP_CTRL_PREFIX_LEN));
	assert_int_equal(buf[0], (wlen >> 24) & 0xff);
	assert_int_equal(buf[1], (wlen >> 16) & 0xff);
	assert_int_equal(buf[2], (wlen >> 8) & 0xff);
	assert_int_equal(buf[3], wlen & 0xff);
	buf[n] = '\0';
	assert_string_equal((const char *)buf + LP_CTRL_PREFIX_LEN, want);
}

/* Encode then parse gives back the very same struct (m must be zeroed
 * before it was filled). */
static void assert_round_trip(const struct lp_ctrl_msg *m)
{
	uint8_t buf[LP_CTRL_PREFIX_LEN + LP_CTRL_FRAME_MAX];
	struct lp_ctrl_msg back;
	ssize_t n = lp_ctrl_encode(m, buf, sizeof(buf));

	assert_true(n > LP_CTRL_PREFIX_LEN);
	assert_int_equal(
	        lp_ctrl_parse_json(buf + LP_CTRL_PREFIX_LEN, (size_t)n - LP_CTRL_PREFIX_LEN, &back),
	        0);
	assert_memory_equal(&back, m, sizeof(*m));
}

static void hello_msg(struct lp_ctrl_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = LP_CTRL_HELLO;
	m->u.hello.version = LP_CTRL_VERSION;
	m->u.hello.role = LP_ROLE_CLIENT;
	strcpy(m->u.hello.room, "ROOM1");
	m->u.hello.mac = mac_client;
	m->u.hello.datagram_budget = 1407;
	strcpy(m->u.hello.software, "softlan-vpn 0.1 linux");
}

static void welcome_msg(struct lp_ctrl_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = LP_CTRL_WELCOME;
	m->u.welcome.version = LP_CTRL_VERSION;
	m->u.welcome.mode = LP_CTRL_MODE_RELAY;
	m->u.welcome.peer_id = 7;
	m->u.welcome.mtu = 1380;
	m->u.welcome.gateway_present = true;
}

/* ---- names and validators ------------------------------------------------ */

static void test_names(void **state)
{
	static const char *const rejects[] = { "bad_hello",      "version",
		                               "bad_room",       "gateway_exists",
		                               "duplicate_mac",  "room_full",
		                               "too_many_rooms", "budget_too_small",
		                               "shutting_down",  "not_admitted" };
	enum lp_reject_reason r;
	enum lp_role role;
	unsigned i;

	(void)state;
	assert_string_equal(lp_ctrl_type_name(LP_CTRL_HELLO), "hello");
	assert_string_equal(lp_ctrl_type_name(LP_CTRL_WELCOME), "welcome");
	assert_string_equal(lp_ctrl_type_name(LP_CTRL_REJECT), "reject");
	assert_string_equal(lp_ctrl_type_name(LP_CTRL_PEER_JOINED), "peer_joined");
	assert_string_equal(lp_ctrl_type_name(LP_CTRL_PEER_LEFT), "peer_left");
	assert_string_equal(lp_ctrl_type_name(LP_CTRL_STATS), "stats");
	assert_string_equal(lp_ctrl_type_name(LP_CTRL_DISCONNECT), "disconnect");
	assert_string_equal(lp_ctrl_type_name((enum lp_ctrl_type)42), "unknown");

	assert_string_equal(lp_ctrl_role_name(LP_ROLE_CLIENT), "client");
	assert_string_equal(lp_ctrl_role_name(LP_ROLE_GATEWAY), "gateway");
	assert_string_equal(lp_ctrl_role_name((enum lp_role)0), "unknown");
	assert_int_equal(lp_ctrl_role_parse("gateway", &role), 0);
	assert_int_equal(role, LP_ROLE_GATEWAY);
	assert_int_equal(lp_ctrl_role_parse("client", &role), 0);
	assert_int_equal(role, LP_ROLE_CLIENT);
	assert_int_equal(lp_ctrl_role_parse("Client", &role), LP_ERR_ROLE);
	assert_int_equal(lp_ctrl_role_parse("", &role), LP_ERR_ROLE);
	assert_int_equal(lp_ctrl_role_parse(NULL, &role), LP_ERR_ROLE);

	for (i = 0; i < LP_ARRAY_LEN(rejects); i++) {
		assert_string_equal(lp_ctrl_reject_name((enum lp_reject_reason)(i + 1)),
		                    rejects[i]);
		assert_int_equal(lp_ctrl_reject_parse(rejects[i], &r), 0);
		assert_int_equal(r, (enum lp_reject_reason)(i + 1));
	}
	assert_int_equal(LP_ARRAY_LEN(rejects), LP_REJECT__MAX);
	assert_string_equal(lp_ctrl_reject_name((enum lp_reject_reason)0), "unknown");
	assert_string_equal(lp_ctrl_reject_name((enum lp_reject_reason)(LP_REJECT__MAX + 1)),
	                    "unknown");
	assert_int_equal(lp_ctrl_reject_parse("room-full", &r), LP_ERR_FIELD_RANGE);
	assert_int_equal(lp_ctrl_reject_parse(NULL, &r), LP_ERR_FIELD_RANGE);
}

static void test_room_validate(void **state)
{
	(void)state;
	assert_int_equal(lp_ctrl_room_validate("ROOM1"), 0);
	assert_int_equal(lp_ctrl_room_validate("a"), 0);
	assert_int_equal(lp_ctrl_room_validate("Az09_-"), 0);
	assert_int_equal(lp_ctrl_room_validate("abcdefghijklmnopqrstuvwxyz012345"), 0); /* 32 */
	assert_int_equal(lp_ctrl_room_validate("abcdefghijklmnopqrstuvwxyz0123456"),
	                 LP_ERR_ROOM_LONG);
	assert_int_equal(lp_ctrl_room_validate(""), LP_ERR_ROOM_EMPTY);
	assert_int_equal(lp_ctrl_room_validate(NULL), LP_ERR_ROOM_EMPTY);
	assert_int_equal(lp_ctrl_room_validate("a b"), LP_ERR_ROOM_CHARS);
	assert_int_equal(lp_ctrl_room_validate("a.b"), LP_ERR_ROOM_CHARS);
	assert_int_equal(lp_ctrl_room_validate("r\xc3\xa4um"), LP_ERR_ROOM_CHARS);
	assert_int_equal(lp_ctrl_room_validate("x/"), LP_ERR_ROOM_CHARS);
}

static void test_role_mac_validate(void **state)
{
	static const struct lp_mac zero = { { 0 } };
	static const struct lp_mac bcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	static const struct lp_mac mcast = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 } };

	(void)state;
	assert_int_equal(lp_ctrl_role_mac_validate(LP_ROLE_CLIENT, &mac_client), 0);
	assert_int_equal(lp_ctrl_role_mac_validate(LP_ROLE_GATEWAY, &mac_gw), 0);
	assert_int_equal(lp_ctrl_role_mac_validate(LP_ROLE_CLIENT, &mac_gw), 0);
	assert_int_equal(lp_ctrl_role_mac_validate((enum lp_role)0, &mac_client), LP_ERR_ROLE);
	assert_int_equal(lp_ctrl_role_mac_validate((enum lp_role)3, &mac_client), LP_ERR_ROLE);
	assert_int_equal(lp_ctrl_role_mac_validate(LP_ROLE_CLIENT, &zero), LP_ERR_ROLE_MAC);
	assert_int_equal(lp_ctrl_role_mac_validate(LP_ROLE_GATEWAY, &bcast), LP_ERR_ROLE_MAC);
	assert_int_equal(lp_ctrl_role_mac_validate(LP_ROLE_CLIENT, &mcast), LP_ERR_ROLE_MAC);
}

static void test_id_mtu_validate(void **state)
{
	(void)state;
	assert_int_equal(lp_ctrl_peer_id_validate(0), LP_ERR_PEER_ID);
	assert_int_equal(lp_ctrl_peer_id_validate(1), 0);
	assert_int_equal(lp_ctrl_peer_id_validate(0x7fffffff), 0);
	assert_int_equal(lp_ctrl_peer_id_validate(0x80000000u), LP_ERR_PEER_ID);
	assert_int_equal(lp_ctrl_peer_id_validate(UINT64_MAX), LP_ERR_PEER_ID);
	assert_int_equal(lp_ctrl_mtu_validate(1279), LP_ERR_MTU_RANGE);
	assert_int_equal(lp_ctrl_mtu_validate(1280), 0);
	assert_int_equal(lp_ctrl_mtu_validate(1500), 0);
	assert_int_equal(lp_ctrl_mtu_validate(65521), 0);
	assert_int_equal(lp_ctrl_mtu_validate(65522), LP_ERR_MTU_RANGE);
	assert_int_equal(lp_ctrl_mtu_validate(0), LP_ERR_MTU_RANGE);
	assert_int_equal(lp_ctrl_mtu_validate(UINT64_MAX), LP_ERR_MTU_RANGE);
}

/* ---- encoding: exact wire text ------------------------------------------- */

static void test_encode_hello(void **state)
{
	struct lp_ctrl_msg m;

	(void)state;
	hello_msg(&m);
	assert_encodes_to(&m, "{\"type\":\"hello\",\"version\":1,\"role\":\"client\",\"room\":"
	                      "\"ROOM1\",\"mac\":\"02:11:22:33:44:55\",\"datagram_budget\":1407,"
	                      "\"software\":\"softlan-vpn 0.1 linux\"}");
	assert_round_trip(&m);
	/* software is optional: omitted when empty. */
	memset(m.u.hello.software, 0, sizeof(m.u.hello.software));
	m.u.hello.role = LP_ROLE_GATEWAY;
	m.u.hello.mac = mac_gw;
	m.u.hello.datagram_budget = LP_CTRL_BUDGET_MAX;
	assert_encodes_to(&m, "{\"type\":\"hello\",\"version\":1,\"role\":\"gateway\",\"room\":"
	                      "\"ROOM1\",\"mac\":\"00:1b:21:aa:bb:cc\",\"datagram_budget\":65535}");
	assert_round_trip(&m);
}

static void test_encode_welcome(void **state)
{
	struct lp_ctrl_msg m;

	(void)state;
	welcome_msg(&m);
	assert_encodes_to(&m,
	                  "{\"type\":\"welcome\",\"version\":1,\"mode\":\"relay\",\"peer_id\":7,"
	                  "\"mtu\":1380,\"gateway_present\":true}");
	assert_round_trip(&m);
	m.u.welcome.gateway_present = false;
	m.u.welcome.peer_id = LP_CTRL_PEER_ID_MAX;
	m.u.welcome.mtu = LP_MTU_MIN;
	assert_encodes_to(&m, "{\"type\":\"welcome\",\"version\":1,\"mode\":\"relay\",\"peer_id\":"
	                      "2147483647,\"mtu\":1280,\"gateway_present\":false}");
	assert_round_trip(&m);
}

static void test_encode_reject_disconnect(void **state)
{
	struct lp_ctrl_msg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_REJECT;
	m.u.reject.reason = LP_REJECT_DUPLICATE_MAC;
	strcpy(m.u.reject.message, "MAC \"02:11\" already\tin room\n\xc3\xa9");
	assert_encodes_to(&m, "{\"type\":\"reject\",\"reason\":\"duplicate_mac\",\"message\":"
	                      "\"MAC \\\"02:11\\\" already\\tin room\\n\xc3\xa9\"}");
	assert_round_trip(&m);

	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_DISCONNECT;
	strcpy(m.u.disconnect.reason, "shutdown");
	assert_encodes_to(&m, "{\"type\":\"disconnect\",\"reason\":\"shutdown\"}");
	assert_round_trip(&m);
	memset(m.u.disconnect.reason, 0, sizeof(m.u.disconnect.reason));
	assert_encodes_to(&m, "{\"type\":\"disconnect\",\"reason\":\"\"}");
	assert_round_trip(&m);
}

static void test_encode_peers(void **state)
{
	struct lp_ctrl_msg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_PEER_JOINED;
	m.u.peer.peer_id = 12;
	m.u.peer.role = LP_ROLE_GATEWAY;
	m.u.peer.mac = mac_gw;
	assert_encodes_to(&m, "{\"type\":\"peer_joined\",\"peer_id\":12,\"role\":\"gateway\","
	                      "\"mac\":\"00:1b:21:aa:bb:cc\"}");
	assert_round_trip(&m);

	m.type = LP_CTRL_PEER_LEFT;
	m.u.peer.role = LP_ROLE_CLIENT;
	m.u.peer.mac = mac_client;
	strcpy(m.u.peer.reason, "idle timeout");
	assert_encodes_to(&m, "{\"type\":\"peer_left\",\"peer_id\":12,\"role\":\"client\","
	                      "\"mac\":\"02:11:22:33:44:55\",\"reason\":\"idle timeout\"}");
	assert_round_trip(&m);
}

static void test_encode_stats(void **state)
{
	struct lp_ctrl_msg m;
	struct lp_counters *c = &m.u.stats.counters;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_STATS;
	assert_encodes_to(&m, "{\"type\":\"stats\",\"frames_rx\":0,\"frames_tx\":0,"
	                      "\"datagrams_rx\":0,\"datagrams_tx\":0,\"bytes_rx\":0,"
	                      "\"bytes_tx\":0,\"broadcast_rx\":0,\"drops\":{}}");
	assert_round_trip(&m);
	c->frames_rx = 1;
	c->frames_tx = 2;
	c->datagrams_rx = 3;
	c->datagrams_tx = 4;
	c->bytes_rx = 5;
	c->bytes_tx = (uint64_t)INT64_MAX;
	c->broadcast_rx = 7;
	c->drops[LP_DROP_TOO_BIG] = 3;
	c->drops[LP_DROP_RATE_TOTAL] = 9;
	assert_encodes_to(&m, "{\"type\":\"stats\",\"frames_rx\":1,\"frames_tx\":2,"
	                      "\"datagrams_rx\":3,\"datagrams_tx\":4,\"bytes_rx\":5,"
	                      "\"bytes_tx\":9223372036854775807,\"broadcast_rx\":7,"
	                      "\"drops\":{\"too_big\":3,\"rate_total\":9}}");
	assert_round_trip(&m);
}

static void test_encode_errors(void **state)
{
	uint8_t buf[512];
	struct lp_ctrl_msg m;
	ssize_t full;

	(void)state;
	hello_msg(&m);
	full = lp_ctrl_encode(&m, buf, sizeof(buf));
	assert_true(full > 0);
	assert_int_equal(lp_ctrl_encode(&m, buf, (size_t)full), full);
	assert_int_equal(lp_ctrl_encode(&m, buf, (size_t)full - 1), LP_ERR_NOBUF);
	assert_int_equal(lp_ctrl_encode(&m, buf, LP_CTRL_PREFIX_LEN), LP_ERR_NOBUF);
	assert_int_equal(lp_ctrl_encode(&m, buf, 0), LP_ERR_NOBUF);

	/* Validation comes first, with the specific code. */
	m.u.hello.version = 2;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_VERSION);
	hello_msg(&m);
	m.u.hello.room[0] = '\0';
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_ROOM_EMPTY);
	memset(m.u.hello.room, 'a', sizeof(m.u.hello.room)); /* unterminated */
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_ROOM_LONG);
	strcpy(m.u.hello.room, "a!");
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_ROOM_CHARS);
	hello_msg(&m);
	m.u.hello.role = (enum lp_role)0;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_ROLE);
	hello_msg(&m);
	memset(&m.u.hello.mac, 0xff, sizeof(m.u.hello.mac));
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_ROLE_MAC);
	hello_msg(&m);
	m.u.hello.datagram_budget = 0;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);
	m.u.hello.datagram_budget = LP_CTRL_BUDGET_MAX + 1;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);
	hello_msg(&m);
	memset(m.u.hello.software, 'a', sizeof(m.u.hello.software)); /* unterminated */
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);
	strcpy(m.u.hello.software, "bad \xff utf-8");
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);
	strcpy(m.u.hello.software, "surrogate \xed\xa0\x80");
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);
	strcpy(m.u.hello.software, "overlong \xc0\xaf");
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);
	strcpy(m.u.hello.software, "4-byte \xf0\x9f\x8e\xae ok");
	assert_true(lp_ctrl_encode(&m, buf, sizeof(buf)) > 0);

	welcome_msg(&m);
	m.u.welcome.mode = (enum lp_ctrl_mode)2;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);
	welcome_msg(&m);
	m.u.welcome.version = 0;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_VERSION);
	welcome_msg(&m);
	m.u.welcome.peer_id = 0;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_PEER_ID);
	welcome_msg(&m);
	m.u.welcome.mtu = 1279;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_MTU_RANGE);

	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_REJECT;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);
	m.u.reject.reason = (enum lp_reject_reason)(LP_REJECT__MAX + 1);
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);

	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_PEER_LEFT;
	m.u.peer.peer_id = 1;
	m.u.peer.role = LP_ROLE_CLIENT;
	m.u.peer.mac = mac_client;
	memset(m.u.peer.reason, 'r', sizeof(m.u.peer.reason));
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);

	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_STATS;
	m.u.stats.counters.bytes_rx = (uint64_t)INT64_MAX + 1;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);
	m.u.stats.counters.bytes_rx = 0;
	m.u.stats.counters.drops[LP_DROP_JUMBO] = UINT64_MAX;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);
	m.u.stats.counters.drops[LP_DROP_JUMBO] = 0;
	m.u.stats.counters.drops[LP_DROP_NONE] = 1;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);

	memset(&m, 0, sizeof(m));
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_TYPE);
	m.type = (enum lp_ctrl_type)99;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_TYPE);
	assert_int_equal(lp_ctrl_msg_validate(&m), LP_ERR_TYPE);
}

/* ---- parsing --------------------------------------------------------------- */

static void test_parse_hello(void **state)
{
	struct lp_ctrl_msg m;
	/* Upper-case dashed MAC, members in another order, an unknown member. */
	static const char body[] =
	        "{ \"mac\": \"02-AA-bb-CC-dd-EE\", \"room\": \"lan_party-7\", \"future\": [1, {}],"
	        "  \"datagram_budget\": 1, \"role\": \"gateway\", \"version\": 1,"
	        "  \"type\": \"hello\" }";
	static const struct lp_mac want = { { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee } };

	(void)state;
	assert_int_equal(parse_str(body, &m), 0);
	assert_int_equal(m.type, LP_CTRL_HELLO);
	assert_int_equal(m.u.hello.version, 1);
	assert_int_equal(m.u.hello.role, LP_ROLE_GATEWAY);
	assert_string_equal(m.u.hello.room, "lan_party-7");
	assert_memory_equal(&m.u.hello.mac, &want, sizeof(want));
	assert_int_equal(m.u.hello.datagram_budget, 1);
	assert_string_equal(m.u.hello.software, "");
}

static void test_parse_not_nul_terminated(void **state)
{
	/* The body is followed by bytes that are not part of it. */
	static const char buf[] = "{\"type\":\"disconnect\",\"reason\":\"bye\"}GARBAGE";
	struct lp_ctrl_msg m;

	(void)state;
	assert_int_equal(lp_ctrl_parse_json((const uint8_t *)buf, strlen(buf) - 7, &m), 0);
	assert_int_equal(m.type, LP_CTRL_DISCONNECT);
	assert_string_equal(m.u.disconnect.reason, "bye");
	assert_int_equal(lp_ctrl_parse_json((const uint8_t *)buf, strlen(buf), &m), LP_ERR_JSON);
	assert_int_equal(lp_ctrl_parse_json((const uint8_t *)buf, 10, &m), LP_ERR_JSON);
	assert_int_equal(lp_ctrl_parse_json(NULL, 0, &m), LP_ERR_JSON);
}

static void test_parse_welcome_peer_stats(void **state)
{
	struct lp_ctrl_msg m;

	(void)state;
	assert_int_equal(
	        parse_str("{\"type\":\"welcome\",\"version\":1,\"mode\":\"relay\","
	                  "\"peer_id\":2147483647,\"mtu\":65521,\"gateway_present\":false}",
	                  &m),
	        0);
	assert_int_equal(m.type, LP_CTRL_WELCOME);
	assert_int_equal(m.u.welcome.mode, LP_CTRL_MODE_RELAY);
	assert_int_equal(m.u.welcome.peer_id, 2147483647u);
	assert_int_equal(m.u.welcome.mtu, 65521);
	assert_false(m.u.welcome.gateway_present);

	/* peer_joined ignores a reason member. */
	assert_int_equal(parse_str("{\"type\":\"peer_joined\",\"peer_id\":1,\"role\":\"client\","
	                           "\"mac\":\"02:11:22:33:44:55\",\"reason\":\"x\"}",
	                           &m),
	                 0);
	assert_int_equal(m.type, LP_CTRL_PEER_JOINED);
	assert_int_equal(m.u.peer.peer_id, 1);
	assert_string_equal(m.u.peer.reason, "");

	assert_int_equal(parse_str("{\"type\":\"reject\",\"reason\":\"room_full\",\"message\":"
	                           "\"\\u00e9\\ud83c\\udfae\"}",
	                           &m),
	                 0);
	assert_int_equal(m.u.reject.reason, LP_REJECT_ROOM_FULL);
	assert_string_equal(m.u.reject.message, "\xc3\xa9\xf0\x9f\x8e\xae");

	/* Unknown and "none" drop names are ignored whatever their value;
	 * zero counts are accepted. */
	assert_int_equal(parse_str("{\"type\":\"stats\",\"frames_rx\":9223372036854775807,"
	                           "\"frames_tx\":0,\"datagrams_rx\":1,\"datagrams_tx\":2,"
	                           "\"bytes_rx\":3,\"bytes_tx\":4,\"broadcast_rx\":5,\"drops\":"
	                           "{\"none\":5,\"from_the_future\":\"x\",\"jumbo\":0,"
	                           "\"dhcp_server\":6}}",
	                           &m),
	                 0);
	assert_int_equal(m.type, LP_CTRL_STATS);
	assert_true(m.u.stats.counters.frames_rx == (uint64_t)INT64_MAX);
	assert_int_equal(m.u.stats.counters.broadcast_rx, 5);
	assert_int_equal(m.u.stats.counters.drops[LP_DROP_NONE], 0);
	assert_int_equal(m.u.stats.counters.drops[LP_DROP_DHCP_SERVER], 6);
	assert_int_equal(lp_obs_drops_total(&m.u.stats.counters), 6);
}

struct bad {
	const char *json;
	int err;
};

#define HELLO_PRE "{\"type\":\"hello\",\"version\":1,"
#define HELLO_OK_REST "\"role\":\"client\",\"room\":\"R\",\"mac\":\"02:00:00:00:00:01\""
#define WELCOME_PRE "{\"type\":\"welcome\",\"version\":1,\"mode\":\"relay\","
#define STATS_PRE                                                                                  \
	"{\"type\":\"stats\",\"frames_tx\":0,\"datagrams_rx\":0,\"datagrams_tx\":0,"               \
	"\"bytes_rx\":0,\"bytes_tx\":0,\"broadcast_rx\":0,"
#define PEER_PRE "{\"type\":\"peer_left\",\"role\":\"client\",\"mac\":\"02:00:00:00:00:01\","

static const struct bad bad_bodies[] = {
	/* not a control message at all */
	{ "not json", LP_ERR_JSON },
	{ "[1,2]", LP_ERR_JSON },
	{ "\"hello\"", LP_ERR_JSON },
	{ "42", LP_ERR_JSON },
	{ "{\"type\":\"disconnect\",\"reason\":\"a\",\"reason\":\"b\"}", LP_ERR_JSON },
	{ "{\"type\":\"disconnect\",\"reason\":\"a\\u0000b\"}", LP_ERR_JSON },
	{ "{\"type\":\"disconnect\",\"reason\":\"\xff\"}", LP_ERR_JSON },
	{ "{\"type\":\"disconnect\",\"reason\":\"\\ud800\"}", LP_ERR_JSON },
	{ "{\"type\":\"disconnect\",\"reason\":\"x\"} {}", LP_ERR_JSON },
	{ "{\"type\":\"disconnect\",\"reason\":\"x\"", LP_ERR_JSON },
	/* type */
	{ "{}", LP_ERR_FIELD_MISSING },
	{ "{\"type\":1}", LP_ERR_FIELD_TYPE },
	{ "{\"type\":null}", LP_ERR_FIELD_TYPE },
	{ "{\"type\":\"bogus\"}", LP_ERR_TYPE },
	{ "{\"type\":\"none\"}", LP_ERR_TYPE },
	{ "{\"type\":\"Hello\"}", LP_ERR_TYPE },
	/* hello: version first, so a future hello says VERSION */
	{ "{\"type\":\"hello\",\"version\":2}", LP_ERR_VERSION },
	{ "{\"type\":\"hello\",\"version\":0," HELLO_OK_REST ",\"datagram_budget\":1}",
	  LP_ERR_VERSION },
	{ "{\"type\":\"hello\",\"version\":-1}", LP_ERR_VERSION },
	{ "{\"type\":\"hello\",\"version\":\"1\"}", LP_ERR_FIELD_TYPE },
	{ "{\"type\":\"hello\",\"version\":1.0}", LP_ERR_FIELD_TYPE },
	{ "{\"type\":\"hello\",\"version\":true}", LP_ERR_FIELD_TYPE },
	{ "{\"type\":\"hello\"}", LP_ERR_FIELD_MISSING },
	{ HELLO_PRE "\"role\":\"admin\",\"room\":\"R\"}", LP_ERR_ROLE },
	{ HELLO_PRE "\"role\":1}", LP_ERR_FIELD_TYPE },
	{ HELLO_PRE "\"room\":\"R\",\"mac\":\"02:00:00:00:00:01\",\"datagram_budget\":1}",
	  LP_ERR_FIELD_MISSING },
	{ HELLO_PRE "\"role\":\"client\",\"room\":\"\"}", LP_ERR_ROOM_EMPTY },
	{ HELLO_PRE "\"role\":\"client\",\"room\":\"abcdefghijklmnopqrstuvwxyz0123456\"}",
	  LP_ERR_ROOM_LONG },
	{ HELLO_PRE "\"role\":\"client\",\"room\":\"a b\"}", LP_ERR_ROOM_CHARS },
	{ HELLO_PRE "\"role\":\"client\",\"room\":[]}", LP_ERR_FIELD_TYPE },
	{ HELLO_PRE "\"role\":\"client\",\"room\":\"R\",\"mac\":\"02:00:00:00:00\"}",
	  LP_ERR_MAC_SYNTAX },
	{ HELLO_PRE "\"role\":\"client\",\"room\":\"R\",\"mac\":\"02:00:00:00:00:01\","
	            "\"datagram_budget\":1400}" /* valid but for the MAC below */
	  ,
	  0 },
	{ HELLO_PRE "\"role\":\"client\",\"room\":\"R\",\"mac\":\"ff:ff:ff:ff:ff:ff\","
	            "\"datagram_budget\":1400}",
	  LP_ERR_ROLE_MAC },
	{ HELLO_PRE "\"role\":\"gateway\",\"room\":\"R\",\"mac\":\"00:00:00:00:00:00\","
	            "\"datagram_budget\":1400}",
	  LP_ERR_ROLE_MAC },
	{ HELLO_PRE HELLO_OK_REST "}", LP_ERR_FIELD_MISSING },
	{ HELLO_PRE HELLO_OK_REST ",\"datagram_budget\":0}", LP_ERR_FIELD_RANGE },
	{ HELLO_PRE HELLO_OK_REST ",\"datagram_budget\":65536}", LP_ERR_FIELD_RANGE },
	{ HELLO_PRE HELLO_OK_REST ",\"datagram_budget\":-1}", LP_ERR_FIELD_RANGE },
	{ HELLO_PRE HELLO_OK_REST ",\"datagram_budget\":4294967296}", LP_ERR_FIELD_RANGE },
	{ HELLO_PRE HELLO_OK_REST ",\"datagram_budget\":99999999999999999999}", LP_ERR_JSON },
	{ HELLO_PRE HELLO_OK_REST ",\"datagram_budget\":1400.5}", LP_ERR_FIELD_TYPE },
	{ HELLO_PRE HELLO_OK_REST ",\"datagram_budget\":1e3}", LP_ERR_FIELD_TYPE },
	{ HELLO_PRE HELLO_OK_REST ",\"datagram_budget\":false}", LP_ERR_FIELD_TYPE },
	{ HELLO_PRE HELLO_OK_REST
	  ",\"datagram_budget\":65535,\"software\":"
	  "\"123456789012345678901234567890123456789012345678901234567890123\"}",
	  0 },
	{ HELLO_PRE HELLO_OK_REST
	  ",\"datagram_budget\":1,\"software\":"
	  "\"1234567890123456789012345678901234567890123456789012345678901234\"}",
	  LP_ERR_FIELD_RANGE },
	{ HELLO_PRE HELLO_OK_REST ",\"datagram_budget\":1,\"software\":null}", LP_ERR_FIELD_TYPE },
	{ HELLO_PRE HELLO_OK_REST ",\"datagram_budget\":1,\"software\":5}", LP_ERR_FIELD_TYPE },
	/* welcome */
	{ "{\"type\":\"welcome\",\"version\":7}", LP_ERR_VERSION },
	{ WELCOME_PRE "\"peer_id\":1,\"mtu\":1280,\"gateway_present\":true}", 0 },
	{ "{\"type\":\"welcome\",\"version\":1,\"mode\":\"p2p\"}", LP_ERR_FIELD_RANGE },
	{ "{\"type\":\"welcome\",\"version\":1,\"mode\":1}", LP_ERR_FIELD_TYPE },
	{ "{\"type\":\"welcome\",\"version\":1,\"peer_id\":1}", LP_ERR_FIELD_MISSING },
	{ WELCOME_PRE "\"peer_id\":0}", LP_ERR_PEER_ID },
	{ WELCOME_PRE "\"peer_id\":-5}", LP_ERR_PEER_ID },
	{ WELCOME_PRE "\"peer_id\":2147483648}", LP_ERR_PEER_ID },
	{ WELCOME_PRE "\"peer_id\":\"1\"}", LP_ERR_FIELD_TYPE },
	{ WELCOME_PRE "\"peer_id\":1,\"mtu\":1279}", LP_ERR_MTU_RANGE },
	{ WELCOME_PRE "\"peer_id\":1,\"mtu\":65522}", LP_ERR_MTU_RANGE },
	{ WELCOME_PRE "\"peer_id\":1,\"mtu\":-1380}", LP_ERR_MTU_RANGE },
	{ WELCOME_PRE "\"peer_id\":1,\"mtu\":1380.0}", LP_ERR_FIELD_TYPE },
	{ WELCOME_PRE "\"peer_id\":1,\"mtu\":1380}", LP_ERR_FIELD_MISSING },
	{ WELCOME_PRE "\"peer_id\":1,\"mtu\":1380,\"gateway_present\":1}", LP_ERR_FIELD_TYPE },
	{ WELCOME_PRE "\"peer_id\":1,\"mtu\":1380,\"gateway_present\":\"true\"}",
	  LP_ERR_FIELD_TYPE },
	/* reject */
	{ "{\"type\":\"reject\",\"reason\":\"nope\",\"message\":\"\"}", LP_ERR_FIELD_RANGE },
	{ "{\"type\":\"reject\",\"reason\":2,\"message\":\"\"}", LP_ERR_FIELD_TYPE },
	{ "{\"type\":\"reject\",\"reason\":\"version\"}", LP_ERR_FIELD_MISSING },
	/* peers */
	{ PEER_PRE "\"peer_id\":3}", LP_ERR_FIELD_MISSING },
	{ PEER_PRE "\"peer_id\":3,\"reason\":\"\"}", 0 },
	{ PEER_PRE "\"peer_id\":3,\"reason\":false}", LP_ERR_FIELD_TYPE },
	{ PEER_PRE "\"peer_id\":0,\"reason\":\"\"}", LP_ERR_PEER_ID },
	{ "{\"type\":\"peer_joined\",\"peer_id\":3,\"role\":\"relay\"}", LP_ERR_ROLE },
	{ "{\"type\":\"peer_joined\",\"peer_id\":3,\"role\":\"client\",\"mac\":\"01:00:5e:00:00:"
	  "01\"}",
	  LP_ERR_ROLE_MAC },
	{ "{\"type\":\"peer_joined\",\"peer_id\":3,\"role\":\"client\"}", LP_ERR_FIELD_MISSING },
	/* stats */
	{ STATS_PRE "\"frames_rx\":-1,\"drops\":{}}", LP_ERR_FIELD_RANGE },
	{ STATS_PRE "\"frames_rx\":1.5,\"drops\":{}}", LP_ERR_FIELD_TYPE },
	{ STATS_PRE "\"drops\":{}}", LP_ERR_FIELD_MISSING },
	{ STATS_PRE "\"frames_rx\":0}", LP_ERR_FIELD_MISSING },
	{ STATS_PRE "\"frames_rx\":0,\"drops\":[]}", LP_ERR_FIELD_TYPE },
	{ STATS_PRE "\"frames_rx\":0,\"drops\":{\"too_big\":-1}}", LP_ERR_FIELD_RANGE },
	{ STATS_PRE "\"frames_rx\":0,\"drops\":{\"too_big\":\"3\"}}", LP_ERR_FIELD_TYPE },
	{ STATS_PRE "\"frames_rx\":0,\"drops\":{\"too_big\":3.0}}", LP_ERR_FIELD_TYPE },
	{ STATS_PRE "\"frames_rx\":0,\"drops\":{\"too_big\":1,\"too_big\":2}}", LP_ERR_JSON },
	/* disconnect */
	{ "{\"type\":\"disconnect\"}", LP_ERR_FIELD_MISSING },
	{ "{\"type\":\"disconnect\",\"reason\":1}", LP_ERR_FIELD_TYPE },
};

static void test_parse_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < LP_ARRAY_LEN(bad_bodies); i++) {
		int rc = parse_code(bad_bodies[i].json);

		if (rc != bad_bodies[i].err)
			fail_msg("body %zu %s: got %d, want %d", i, bad_bodies[i].json, rc,
			         bad_bodies[i].err);
	}
}

static void test_parse_text_limits(void **state)
{
	char body[600], msg[LP_CTRL_TEXT_MAX + 2];
	struct lp_ctrl_msg m;

	(void)state;
	memset(msg, 'm', sizeof(msg) - 1);
	msg[LP_CTRL_TEXT_MAX] = '\0'; /* exactly 200 */
	snprintf(body, sizeof(body),
	         "{\"type\":\"reject\",\"reason\":\"room_full\",\"message\":\"%s\"}", msg);
	assert_int_equal(parse_str(body, &m), 0);
	assert_int_equal(strlen(m.u.reject.message), LP_CTRL_TEXT_MAX);
	assert_round_trip(&m);

	msg[LP_CTRL_TEXT_MAX] = 'm';
	msg[LP_CTRL_TEXT_MAX + 1] = '\0'; /* 201 */
	snprintf(body, sizeof(body),
	         "{\"type\":\"reject\",\"reason\":\"room_full\",\"message\":\"%s\"}", msg);
	assert_int_equal(parse_code(body), LP_ERR_FIELD_RANGE);
	snprintf(body, sizeof(body), "{\"type\":\"disconnect\",\"reason\":\"%s\"}", msg);
	assert_int_equal(parse_code(body), LP_ERR_FIELD_RANGE);
	snprintf(body, sizeof(body),
	         "{\"type\":\"peer_left\",\"peer_id\":1,\"role\":\"client\","
	         "\"mac\":\"02:00:00:00:00:01\",\"reason\":\"%s\"}",
	         msg);
	assert_int_equal(parse_code(body), LP_ERR_FIELD_RANGE);

	/* 200 bytes of escaped control characters: 1200 bytes of JSON, still
	 * one field of 200 bytes. */
	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_DISCONNECT;
	memset(m.u.disconnect.reason, '\x01', LP_CTRL_TEXT_MAX);
	assert_round_trip(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_room_validate),
		cmocka_unit_test(test_role_mac_validate),
		cmocka_unit_test(test_id_mtu_validate),
		cmocka_unit_test(test_encode_hello),
		cmocka_unit_test(test_encode_welcome),
		cmocka_unit_test(test_encode_reject_disconnect),
		cmocka_unit_test(test_encode_peers),
		cmocka_unit_test(test_encode_stats),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_parse_hello),
		cmocka_unit_test(test_parse_not_nul_terminated),
		cmocka_unit_test(test_parse_welcome_peer_stats),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_text_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
