/* test_mtu.c - datagram budget, frame size and MTU arithmetic at its edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lp_proto.h"

/* 4-byte overlay header + 14-byte Ethernet header. */
#define OVERHEAD 18u

static void test_constants(void **state)
{
	(void)state;
	assert_int_equal(LP_MTU_MAX, 65521);
	assert_int_equal(LP_MTU_MIN, 1280);
}

static void test_frame_max(void **state)
{
	size_t f = 777;

	(void)state;
	assert_int_equal(lp_proto_frame_max_from_budget(0, &f), LP_ERR_BUDGET_SMALL);
	assert_int_equal(lp_proto_frame_max_from_budget(4, &f), LP_ERR_BUDGET_SMALL);
	assert_int_equal(lp_proto_frame_max_from_budget(OVERHEAD - 1, &f), LP_ERR_BUDGET_SMALL);
	assert_int_equal(f, 777); /* untouched on error */
	assert_int_equal(lp_proto_frame_max_from_budget(OVERHEAD, &f), 0);
	assert_int_equal(f, 14);
	assert_int_equal(lp_proto_frame_max_from_budget(1518, &f), 0);
	assert_int_equal(f, 1514);
	assert_int_equal(lp_proto_frame_max_from_budget(4 + 65535, &f), 0);
	assert_int_equal(f, 65535);
	assert_int_equal(lp_proto_frame_max_from_budget(4 + 65536, &f), 0);
	assert_int_equal(f, 65535);
	assert_int_equal(lp_proto_frame_max_from_budget(SIZE_MAX, &f), 0);
	assert_int_equal(f, LP_PROTO_PAYLOAD_MAX);
}

static void test_mtu_from_budget(void **state)
{
	size_t m = 777;

	(void)state;
	assert_int_equal(lp_proto_mtu_from_budget(0, &m), LP_ERR_BUDGET_SMALL);
	assert_int_equal(lp_proto_mtu_from_budget(OVERHEAD - 1, &m), LP_ERR_BUDGET_SMALL);
	assert_int_equal(lp_proto_mtu_from_budget(OVERHEAD, &m), LP_ERR_BUDGET_SMALL);
	/* One byte below the threshold, then exactly at it. */
	assert_int_equal(lp_proto_mtu_from_budget(OVERHEAD + LP_MTU_MIN - 1, &m),
	                 LP_ERR_BUDGET_SMALL);
	assert_int_equal(m, 777);
	assert_int_equal(lp_proto_mtu_from_budget(OVERHEAD + LP_MTU_MIN, &m), 0);
	assert_int_equal(m, 1280);
	assert_int_equal(lp_proto_mtu_from_budget(1518, &m), 0);
	assert_int_equal(m, 1500);
	/* A typical QUIC datagram budget on a 1500-byte path. */
	assert_int_equal(lp_proto_mtu_from_budget(1452, &m), 0);
	assert_int_equal(m, 1434);
	assert_int_equal(lp_proto_mtu_from_budget(4 + 65535, &m), 0);
	assert_int_equal(m, LP_MTU_MAX);
	assert_int_equal(lp_proto_mtu_from_budget(1000000, &m), 0);
	assert_int_equal(m, LP_MTU_MAX);
	assert_int_equal(lp_proto_mtu_from_budget(SIZE_MAX, &m), 0);
	assert_int_equal(m, LP_MTU_MAX);
}

static void test_budget_for_mtu(void **state)
{
	size_t b = 777;

	(void)state;
	assert_int_equal(lp_proto_budget_for_mtu(0, &b), LP_ERR_MTU_RANGE);
	assert_int_equal(lp_proto_budget_for_mtu(LP_MTU_MIN - 1, &b), LP_ERR_MTU_RANGE);
	assert_int_equal(lp_proto_budget_for_mtu(LP_MTU_MAX + 1, &b), LP_ERR_MTU_RANGE);
	assert_int_equal(lp_proto_budget_for_mtu(SIZE_MAX, &b), LP_ERR_MTU_RANGE);
	assert_int_equal(b, 777);
	assert_int_equal(lp_proto_budget_for_mtu(LP_MTU_MIN, &b), 0);
	assert_int_equal(b, 1298);
	assert_int_equal(lp_proto_budget_for_mtu(1500, &b), 0);
	assert_int_equal(b, 1518);
	assert_int_equal(lp_proto_budget_for_mtu(LP_MTU_MAX, &b), 0);
	assert_int_equal(b, 4 + 65535);
}

static void test_roundtrip(void **state)
{
	size_t mtu, b, back;

	(void)state;
	for (mtu = LP_MTU_MIN; mtu <= LP_MTU_MAX; mtu += 97) {
		assert_int_equal(lp_proto_budget_for_mtu(mtu, &b), 0);
		assert_int_equal(lp_proto_mtu_from_budget(b, &back), 0);
		assert_int_equal(back, mtu);
		/* And the largest frame at that MTU passes the send-side budget check. */
		assert_int_equal(lp_proto_check_budget(mtu + LP_ETH_HDR_LEN, b), 0);
		assert_int_equal(lp_proto_check_budget(mtu + LP_ETH_HDR_LEN + 1, b),
		                 LP_ERR_TOO_BIG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants),       cmocka_unit_test(test_frame_max),
		cmocka_unit_test(test_mtu_from_budget), cmocka_unit_test(test_budget_for_mtu),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
