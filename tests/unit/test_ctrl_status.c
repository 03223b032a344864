/* test_ctrl_status.c - the local status document (lp_ctrl_status_*). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lp_ctrl.h"

static void sample(struct lp_ctrl_status *st)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->program, sizeof(st->program), "lanparty-client");
	snprintf(st->state, sizeof(st->state), "admitted");
	snprintf(st->room, sizeof(st->room), "LAN1");
	st->role = LP_ROLE_CLIENT;
	assert_int_equal(lp_proto_mac_parse("02:5e:10:aa:bb:cc", &st->mac), 0);
	st->peer_id = 3;
	st->mtu = 1380;
	st->has_ip = true;
	memcpy(st->ip, (const uint8_t[4]){ 10, 77, 0, 101 }, 4);
	st->link = (struct lp_ctrl_status_link){ 900, 700, 10, 1, 12, 3400, 15, 5000 };
	st->has_table = true;
	st->table_age_ms = 1200;
	st->peers_total = 3;
	st->count = 2;
	st->peers[0].peer_id = 1;
	st->peers[0].role = LP_ROLE_GATEWAY;
	assert_int_equal(lp_proto_mac_parse("52:54:00:12:34:56", &st->peers[0].mac), 0);
	st->peers[0].link.rtt_us = 800;
	st->peers[0].est_rtt_us = 1700;
	st->peers[1].peer_id = 2;
	st->peers[1].role = LP_ROLE_CLIENT;
	assert_int_equal(lp_proto_mac_parse("02:00:00:00:00:02", &st->peers[1].mac), 0);
	st->peers[1].has_ip = true;
	memcpy(st->peers[1].ip, (const uint8_t[4]){ 10, 77, 0, 102 }, 4);
	st->nhosts = 1;
	assert_int_equal(lp_proto_mac_parse("52:54:00:aa:bb:01", &st->hosts[0].mac), 0);
	memcpy(st->hosts[0].ip, (const uint8_t[4]){ 10, 77, 0, 1 }, 4);
}

static void test_round_trip(void **state)
{
	static char buf[LP_CTRL_STATUS_MAX];
	struct lp_ctrl_status st, back;
	ssize_t n;

	(void)state;
	sample(&st);
	n = lp_ctrl_status_encode(&st, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(buf[n - 1], '\n');
	assert_non_null(strstr(buf, "\"lan_ip\":\"10.77.0.101\""));
	assert_non_null(strstr(buf, "\"role\":\"gateway\",\"mac\":\"52:54:00:12:34:56\","
	                            "\"lan_ip\":null"));
	assert_non_null(strstr(buf, "\"est_rtt_us\":1700"));
	assert_int_equal(lp_ctrl_status_parse((const uint8_t *)buf, (size_t)n, &back), 0);
	assert_memory_equal(&back, &st, sizeof(st));
	/* Before the relay's first table the age is null. */
	st.has_table = false;
	st.table_age_ms = 0;
	n = lp_ctrl_status_encode(&st, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"table_age_ms\":null"));
	assert_int_equal(lp_ctrl_status_parse((const uint8_t *)buf, (size_t)n, &back), 0);
	assert_false(back.has_table);
	/* Too small a buffer. */
	assert_int_equal(lp_ctrl_status_encode(&st, buf, 64), LP_ERR_NOBUF);
}

static int parse_edit(const char *from, const char *to)
{
	static char buf[LP_CTRL_STATUS_MAX], text[LP_CTRL_STATUS_MAX];
	struct lp_ctrl_status st;
	ssize_t n;
	const char *at;

	sample(&st);
	n = lp_ctrl_status_encode(&st, buf, sizeof(buf));
	assert_true(n > 0);
	at = strstr(buf, from);
	assert_non_null(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - buf), buf, to, at + strlen(from));
	return lp_ctrl_status_parse((const uint8_t *)text, strlen(text), &st);
}

static void test_parse_strict(void **state)
{
	(void)state;
	assert_int_equal(parse_edit("\"version\":1", "\"version\":2"), LP_ERR_VERSION);
	assert_int_equal(parse_edit("\"10.77.0.101\"", "\"10.77.0.256\""), LP_ERR_FIELD_RANGE);
	assert_int_equal(parse_edit("\"10.77.0.101\"", "\"10.77.0\""), LP_ERR_FIELD_RANGE);
	assert_int_equal(parse_edit("\"10.77.0.101\"", "\"10.77.0.1x\""), LP_ERR_FIELD_RANGE);
	assert_int_equal(parse_edit("\"10.77.0.101\"", "101"), LP_ERR_FIELD_TYPE);
	assert_int_equal(parse_edit("\"room\":\"LAN1\"", "\"room\":\"L N\""), LP_ERR_ROOM_CHARS);
	assert_int_equal(parse_edit("\"peer_id\":1,", "\"peer_id\":0,"), LP_ERR_PEER_ID);
	assert_int_equal(parse_edit("\"est_rtt_us\":1700", "\"est_rtt_us\":-1"),
	                 LP_ERR_FIELD_RANGE);
	assert_int_equal(parse_edit("\"lan_hosts\":[", "\"lan_hosts\":[7,"), LP_ERR_FIELD_TYPE);
	assert_int_equal(parse_edit("\"state\":\"admitted\"", "\"state\":\"a-very-long-state\""),
	                 LP_ERR_FIELD_RANGE);
	assert_int_equal(parse_edit(",\"mtu\":1380", ""), LP_ERR_FIELD_MISSING);
	assert_int_equal(parse_edit("{", "["), LP_ERR_JSON);
	/* A private room's label: "~" and 8 base64url characters. */
	assert_int_equal(parse_edit("\"room\":\"LAN1\"", "\"room\":\"~Ab-_0z9Q\""), 0);
	assert_int_equal(parse_edit("\"room\":\"LAN1\"", "\"room\":\"~Ab-_0z9\""),
	                 LP_ERR_ROOM_CHARS);
	assert_int_equal(parse_edit("\"room\":\"LAN1\"", "\"room\":\"~Ab-_0z9Q.\""),
	                 LP_ERR_ROOM_CHARS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse_strict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
