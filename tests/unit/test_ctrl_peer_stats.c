/* test_ctrl_peer_stats.c - the relay's peer_stats message: encoding, parsing,
 * strict validation and the size bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lp_ctrl.h"

static int parse_str(const char *json, struct lp_ctrl_msg *m)
{
	return lp_ctrl_parse_json((const uint8_t *)json, strlen(json), m);
}

static void two_peers(struct lp_ctrl_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = LP_CTRL_PEER_STATS;
	m->u.peer_stats.peers_total = 2;
	m->u.peer_stats.count = 2;
	m->u.peer_stats.peers[0] = (struct lp_ctrl_peer_stat){
		.peer_id = 1,
		.role = LP_ROLE_GATEWAY,
		.mac = { { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } },
		.rtt_us = 840,
		.rtt_min_us = 610,
		.dg_sent = 5120,
		.dg_lost = 3,
		.tx_frames = 5210,
		.tx_bytes = 4100321,
		.rx_frames = 5101,
		.rx_bytes = 612004,
	};
	m->u.peer_stats.peers[1] = (struct lp_ctrl_peer_stat){
		.peer_id = 2,
		.role = LP_ROLE_CLIENT,
		.mac = { { 0x02, 0x5e, 0x10, 0xaa, 0xbb, 0xcc } },
	};
}

static const char two_json[] =
        "{\"type\":\"peer_stats\",\"peers_total\":2,\"peers\":["
        "{\"peer_id\":1,\"role\":\"gateway\",\"mac\":\"52:54:00:12:34:56\",\"rtt_us\":840,"
        "\"rtt_min_us\":610,\"dg_sent\":5120,\"dg_lost\":3,\"tx_frames\":5210,"
        "\"tx_bytes\":4100321,\"rx_frames\":5101,\"rx_bytes\":612004},"
        "{\"peer_id\":2,\"role\":\"client\",\"mac\":\"02:5e:10:aa:bb:cc\",\"rtt_us\":0,"
        "\"rtt_min_us\":0,\"dg_sent\":0,\"dg_lost\":0,\"tx_frames\":0,\"tx_bytes\":0,"
        "\"rx_frames\":0,\"rx_bytes\":0}]}";

static void test_encode_exact(void **state)
{
	uint8_t buf[LP_CTRL_PREFIX_LEN + LP_CTRL_FRAME_MAX];
	struct lp_ctrl_msg m;
	ssize_t n;

	(void)state;
	two_peers(&m);
	n = lp_ctrl_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, (ssize_t)(strlen(two_json) + LP_CTRL_PREFIX_LEN));
	assert_memory_equal(buf + LP_CTRL_PREFIX_LEN, two_json, strlen(two_json));
	assert_string_equal(lp_ctrl_type_name(LP_CTRL_PEER_STATS), "peer_stats");
}

static void test_parse_round_trip(void **state)
{
	struct lp_ctrl_msg m, want;

	(void)state;
	two_peers(&want);
	assert_int_equal(parse_str(two_json, &m), 0);
	assert_memory_equal(&m, &want, sizeof(m));
	/* An empty room list is valid (the relay's view before anyone else). */
	assert_int_equal(parse_str("{\"type\":\"peer_stats\",\"peers_total\":0,\"peers\":[]}", &m),
	                 0);
	assert_int_equal(m.u.peer_stats.count, 0);
}

/* Replaces the first occurrence of from by to in two_json and parses it. */
static int parse_edited(const char *from, const char *to)
{
	char text[4096];
	const char *at = strstr(two_json, from);
	struct lp_ctrl_msg m;
	int rc;

	assert_non_null(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - two_json), two_json, to,
	         at + strlen(from));
	rc = parse_str(text, &m);
	if (rc != 0)
		assert_int_equal(m.type, LP_CTRL_NONE);
	return rc;
}

static void test_parse_strict(void **state)
{
	(void)state;
	assert_int_equal(parse_edited("\"peers_total\":2", "\"peers_total\":1"),
	                 LP_ERR_FIELD_RANGE); /* fewer than listed */
	assert_int_equal(parse_edited("\"peers_total\":2,", ""), LP_ERR_FIELD_MISSING);
	assert_int_equal(parse_edited("\"peers_total\":2", "\"peers_total\":\"2\""),
	                 LP_ERR_FIELD_TYPE);
	assert_int_equal(parse_edited("\"peers_total\":2", "\"peers_total\":65536"),
	                 LP_ERR_FIELD_RANGE);
	assert_int_equal(parse_edited("\"peer_id\":2", "\"peer_id\":1"),
	                 LP_ERR_FIELD_RANGE); /* duplicate */
	assert_int_equal(parse_edited("\"peer_id\":2", "\"peer_id\":0"), LP_ERR_PEER_ID);
	assert_int_equal(parse_edited("\"peer_id\":2", "\"peer_id\":2147483648"), LP_ERR_PEER_ID);
	assert_int_equal(parse_edited("\"role\":\"client\"", "\"role\":\"relay\""), LP_ERR_ROLE);
	assert_int_equal(parse_edited("\"02:5e:10:aa:bb:cc\"", "\"01:5e:10:aa:bb:cc\""),
	                 LP_ERR_ROLE_MAC);
	assert_int_equal(parse_edited("\"02:5e:10:aa:bb:cc\"", "\"02:5e:10:aa:bb\""),
	                 LP_ERR_MAC_SYNTAX);
	assert_int_equal(parse_edited("\"dg_lost\":3", "\"dg_lost\":5121"), LP_ERR_FIELD_RANGE);
	assert_int_equal(parse_edited("\"rtt_min_us\":610", "\"rtt_min_us\":841"),
	                 LP_ERR_FIELD_RANGE);
	assert_int_equal(parse_edited("\"rtt_us\":840", "\"rtt_us\":600000001"),
	                 LP_ERR_FIELD_RANGE);
	assert_int_equal(parse_edited("\"rtt_us\":840", "\"rtt_us\":840.5"), LP_ERR_FIELD_TYPE);
	assert_int_equal(parse_edited("\"tx_bytes\":4100321", "\"tx_bytes\":-1"),
	                 LP_ERR_FIELD_RANGE);
	assert_int_equal(parse_edited("\"tx_bytes\":4100321,", ""), LP_ERR_FIELD_MISSING);
	assert_int_equal(parse_edited("\"rx_bytes\":0", "\"rx_bytes\":true"), LP_ERR_FIELD_TYPE);
	assert_int_equal(parse_edited("\"peers\":[", "\"peers\":{\"a\":["), LP_ERR_JSON);
	assert_int_equal(parse_edited("{\"peer_id\":2", "7,{\"peer_id\":2"), LP_ERR_FIELD_TYPE);
	/* Unknown members are ignored, in the message and in entries. */
	assert_int_equal(parse_edited("\"peer_id\":2", "\"later\":[1],\"peer_id\":2"), 0);
}

static void test_array_cap(void **state)
{
	char text[LP_CTRL_FRAME_MAX * 2];
	struct lp_ctrl_msg m;
	size_t off;
	int i;

	(void)state;
	off = (size_t)snprintf(text, sizeof(text),
	                       "{\"type\":\"peer_stats\",\"peers_total\":100,\"peers\":[");
	for (i = 0; i < LP_CTRL_PEER_STATS_MAX + 1; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s{}", i ? "," : "");
	snprintf(text + off, sizeof(text) - off, "]}");
	/* Refused on the length alone, before any (empty, invalid) entry is read. */
	assert_int_equal(parse_str(text, &m), LP_ERR_FIELD_RANGE);
}

/* The largest message the relay can produce still fits one control frame,
 * so a full room never makes the encoder fail. */
static void test_worst_case_fits(void **state)
{
	uint8_t buf[LP_CTRL_PREFIX_LEN + LP_CTRL_FRAME_MAX];
	struct lp_ctrl_msg m, back;
	ssize_t n;
	uint32_t i;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_PEER_STATS;
	m.u.peer_stats.peers_total = LP_CTRL_PEERS_TOTAL_MAX;
	m.u.peer_stats.count = LP_CTRL_PEER_STATS_MAX;
	for (i = 0; i < LP_CTRL_PEER_STATS_MAX; i++) {
		struct lp_ctrl_peer_stat *e = &m.u.peer_stats.peers[i];

		e->peer_id = LP_CTRL_PEER_ID_MAX - i;
		e->role = LP_ROLE_GATEWAY;
		e->mac = (struct lp_mac){ { 0x02, 0xff, 0xff, 0xff, 0xff, (uint8_t)i } };
		e->rtt_us = LP_CTRL_RTT_US_MAX;
		e->rtt_min_us = LP_CTRL_RTT_US_MAX;
		e->dg_sent = e->dg_lost = e->tx_frames = e->tx_bytes = (uint64_t)INT64_MAX;
		e->rx_frames = e->rx_bytes = (uint64_t)INT64_MAX;
	}
	n = lp_ctrl_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	assert_true((size_t)n <= LP_CTRL_PREFIX_LEN + LP_CTRL_FRAME_MAX);
	assert_int_equal(lp_ctrl_parse_json(buf + 4, (size_t)n - 4, &back), 0);
	assert_memory_equal(&back, &m, sizeof(m));
	/* One more entry than the cap is refused by the encoder's validation. */
	m.u.peer_stats.count = LP_CTRL_PEER_STATS_MAX + 1;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);
}

static void test_decoder_stream(void **state)
{
	uint8_t buf[LP_CTRL_PREFIX_LEN + LP_CTRL_FRAME_MAX];
	struct lp_ctrl_decoder *d = test_malloc(sizeof(*d));
	struct lp_ctrl_msg m, got;
	ssize_t n, used;

	(void)state;
	two_peers(&m);
	n = lp_ctrl_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	lp_ctrl_decoder_init(d);
	used = lp_ctrl_decoder_feed(d, buf, (size_t)n, &got);
	assert_int_equal(used, n);
	assert_int_equal(got.type, LP_CTRL_PEER_STATS);
	assert_int_equal(got.u.peer_stats.peers[0].rtt_us, 840);
	test_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_exact),    cmocka_unit_test(test_parse_round_trip),
		cmocka_unit_test(test_parse_strict),    cmocka_unit_test(test_array_cap),
		cmocka_unit_test(test_worst_case_fits), cmocka_unit_test(test_decoder_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
