/*
 * test_ctrl_private.c - the private-room hello (room_id, verifier, host,
 * proof, host_proof) and the not_admitted reject of lib/ctrl.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lp_ctrl.h"

static const struct lp_mac mac_client = { { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 } };

/* base64url of 16 bytes 0x01.., 32 bytes 0x02.., 32 bytes 0x03.., 64 bytes 0x04.. */
#define ID "AQEBAQEBAQEBAQEBAQEBAQ"
#define V "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI"
#define PH "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM"
#define SIG "BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBA"
#define HEAD "{\"type\":\"hello\",\"version\":1,\"role\":"
#define TAIL ",\"mac\":\"02:11:22:33:44:55\",\"datagram_budget\":1407}"
#define PRIV                                                                                       \
	"\"room_id\":\"" ID "\",\"verifier\":\"" V "\",\"host\":\"" PH "\",\"proof\":\"" SIG "\""

static void private_hello(struct lp_ctrl_msg *m, enum lp_role role)
{
	memset(m, 0, sizeof(*m));
	m->type = LP_CTRL_HELLO;
	m->u.hello.version = LP_CTRL_VERSION;
	m->u.hello.role = role;
	m->u.hello.private_room = true;
	memset(m->u.hello.priv.room_id, 1, sizeof(m->u.hello.priv.room_id));
	memset(m->u.hello.priv.verifier, 2, sizeof(m->u.hello.priv.verifier));
	memset(m->u.hello.priv.host, 3, sizeof(m->u.hello.priv.host));
	memset(m->u.hello.priv.proof, 4, sizeof(m->u.hello.priv.proof));
	if (role == LP_ROLE_GATEWAY) {
		m->u.hello.priv.has_host_proof = true;
		memset(m->u.hello.priv.host_proof, 4, sizeof(m->u.hello.priv.host_proof));
	}
	m->u.hello.mac = mac_client;
	m->u.hello.datagram_budget = 1407;
}

static int parse(const char *json, struct lp_ctrl_msg *m)
{
	return lp_ctrl_parse_json((const uint8_t *)json, strlen(json), m);
}

static void test_encode_and_parse(void **state)
{
	static const char want_client[] = HEAD "\"client\"," PRIV TAIL;
	static const char want_gw[] = HEAD "\"gateway\"," PRIV ",\"host_proof\":\"" SIG "\"" TAIL;
	uint8_t buf[LP_CTRL_PREFIX_LEN + 4096];
	struct lp_ctrl_msg m, back;
	ssize_t n;

	(void)state;
	private_hello(&m, LP_ROLE_CLIENT);
	n = lp_ctrl_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, (ssize_t)(LP_CTRL_PREFIX_LEN + strlen(want_client)));
	assert_memory_equal(buf + LP_CTRL_PREFIX_LEN, want_client, strlen(want_client));
	assert_int_equal(parse(want_client, &back), 0);
	assert_memory_equal(&back, &m, sizeof(m));

	private_hello(&m, LP_ROLE_GATEWAY);
	n = lp_ctrl_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, (ssize_t)(LP_CTRL_PREFIX_LEN + strlen(want_gw)));
	assert_memory_equal(buf + LP_CTRL_PREFIX_LEN, want_gw, strlen(want_gw));
	assert_int_equal(parse(want_gw, &back), 0);
	assert_memory_equal(&back, &m, sizeof(m));
}

static void test_refused(void **state)
{
	static const struct {
		const char *json;
		int err;
	} bad[] = {
		/* both a code and an id */
		{ HEAD "\"client\",\"room\":\"R1\"," PRIV TAIL, LP_ERR_FIELD_RANGE },
		/* a client with a host proof; a gateway without one */
		{ HEAD "\"client\"," PRIV ",\"host_proof\":\"" SIG "\"" TAIL, LP_ERR_FIELD_RANGE },
		{ HEAD "\"gateway\"," PRIV TAIL, LP_ERR_FIELD_MISSING },
		/* a private member in an open hello */
		{ HEAD "\"client\",\"room\":\"R1\",\"proof\":\"" SIG "\"" TAIL,
		  LP_ERR_FIELD_RANGE },
		{ HEAD "\"client\",\"room\":\"R1\",\"verifier\":\"" V "\"" TAIL,
		  LP_ERR_FIELD_RANGE },
		/* a member missing */
		{ HEAD "\"client\",\"room_id\":\"" ID "\",\"verifier\":\"" V "\",\"host\":\"" PH
		       "\"" TAIL,
		  LP_ERR_FIELD_MISSING },
		/* wrong lengths, padding, a foreign alphabet, not a string */
		{ HEAD "\"client\",\"room_id\":\"AQEBAQEBAQEBAQEBAQEBAQE\",\"verifier\":\"" V
		       "\",\"host\":\"" PH "\",\"proof\":\"" SIG "\"" TAIL,
		  LP_ERR_FIELD_RANGE },
		{ HEAD "\"client\",\"room_id\":\"" ID "==\",\"verifier\":\"" V "\",\"host\":\"" PH
		       "\",\"proof\":\"" SIG "\"" TAIL,
		  LP_ERR_FIELD_RANGE },
		{ HEAD "\"client\",\"room_id\":\"" ID "\",\"verifier\":\"" V "\",\"host\":\""
		       "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA+M\",\"proof\":\"" SIG "\"" TAIL,
		  LP_ERR_FIELD_RANGE },
		{ HEAD "\"client\",\"room_id\":\"" ID "\",\"verifier\":\"" V "\",\"host\":\"" PH
		       "\",\"proof\":\"" SIG "A\"" TAIL,
		  LP_ERR_FIELD_RANGE },
		{ HEAD "\"client\",\"room_id\":16,\"verifier\":\"" V "\",\"host\":\"" PH
		       "\",\"proof\":\"" SIG "\"" TAIL,
		  LP_ERR_FIELD_TYPE },
	};
	struct lp_ctrl_msg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i].json, &m);

		if (rc != bad[i].err)
			print_error("case %zu: %d, want %d\n", i, rc, bad[i].err);
		assert_int_equal(rc, bad[i].err);
		assert_int_equal(m.type, LP_CTRL_NONE);
	}
}

/* The encoder refuses what the parser would. */
static void test_encode_validates(void **state)
{
	uint8_t buf[4096];
	struct lp_ctrl_msg m;

	(void)state;
	private_hello(&m, LP_ROLE_CLIENT);
	m.u.hello.priv.has_host_proof = true;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);
	private_hello(&m, LP_ROLE_GATEWAY);
	m.u.hello.priv.has_host_proof = false;
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_MISSING);
	private_hello(&m, LP_ROLE_CLIENT);
	snprintf(m.u.hello.room, sizeof(m.u.hello.room), "R1");
	assert_int_equal(lp_ctrl_encode(&m, buf, sizeof(buf)), LP_ERR_FIELD_RANGE);
}

static void test_not_admitted(void **state)
{
	struct lp_ctrl_msg m;
	enum lp_reject_reason r;

	(void)state;
	assert_string_equal(lp_ctrl_reject_name(LP_REJECT_NOT_ADMITTED), "not_admitted");
	assert_int_equal(lp_ctrl_reject_parse("not_admitted", &r), 0);
	assert_int_equal(r, LP_REJECT_NOT_ADMITTED);
	assert_int_equal(parse("{\"type\":\"reject\",\"reason\":\"not_admitted\",\"message\":"
	                       "\"not admitted\"}",
	                       &m),
	                 0);
	assert_int_equal(m.u.reject.reason, LP_REJECT_NOT_ADMITTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_and_parse),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_encode_validates),
		cmocka_unit_test(test_not_admitted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
