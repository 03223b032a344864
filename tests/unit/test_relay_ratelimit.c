/* Token buckets of the relay (src/relay/ratelimit.h), with fake time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ratelimit.h"

#define SEC LP_NS_PER_SEC
#define MS LP_NS_PER_MS

static void test_burst_then_rate(void **state)
{
	struct lp_relay_tb tb;
	uint64_t t0 = 5 * SEC;

	(void)state;
	lp_relay_tb_init(&tb, 1000, 2000, t0);
	for (int i = 0; i < 2000; i++)
		assert_true(lp_relay_tb_take(&tb, t0, 1));
	assert_false(lp_relay_tb_take(&tb, t0, 1));
	/* 1000 per second: 1 ms buys exactly one token, 0.999 ms none. */
	assert_false(lp_relay_tb_take(&tb, t0 + MS - 1, 1));
	assert_true(lp_relay_tb_take(&tb, t0 + MS, 1));
	assert_false(lp_relay_tb_take(&tb, t0 + MS, 1));
	/* Half a second later: 500 more. */
	assert_int_equal(lp_relay_tb_available(&tb, t0 + MS + SEC / 2), 500);
}

static void test_refill_caps_at_burst(void **state)
{
	struct lp_relay_tb tb;

	(void)state;
	lp_relay_tb_init(&tb, 500, 1000, 0);
	assert_true(lp_relay_tb_take(&tb, 0, 1000));
	/* Idle for an hour: full again, not more. Also no overflow. */
	assert_int_equal(lp_relay_tb_available(&tb, 3600 * SEC), 1000);
	assert_true(lp_relay_tb_take(&tb, 3600 * SEC, 1000));
	assert_false(lp_relay_tb_take(&tb, 3600 * SEC, 1));
	/* Decades of idle time at a huge rate stay exact. */
	lp_relay_tb_init(&tb, UINT64_C(250000000000), 4000000, 0);
	assert_true(lp_relay_tb_take(&tb, 0, 4000000));
	assert_int_equal(lp_relay_tb_available(&tb, UINT64_MAX), 4000000);
}

static void test_byte_costs(void **state)
{
	struct lp_relay_tb tb;

	(void)state;
	/* 2000 Mbit/s = 250e6 bytes/s, burst 4 MB. */
	lp_relay_tb_init(&tb, 250000000, 4000000, 0);
	assert_true(lp_relay_tb_take(&tb, 0, 3999000));
	assert_false(lp_relay_tb_take(&tb, 0, 1001)); /* not taken partially */
	assert_true(lp_relay_tb_take(&tb, 0, 1000));
	/* 4 us at 250 bytes/us = 1000 bytes. */
	assert_false(lp_relay_tb_take(&tb, 3999, 1000));
	assert_true(lp_relay_tb_take(&tb, 4000, 1000));
	/* A cost above the burst can never pass. */
	assert_false(lp_relay_tb_take(&tb, 100 * SEC, 4000001));
	assert_true(lp_relay_tb_take(&tb, 100 * SEC, 4000000));
}

static void test_disabled_and_clock_back(void **state)
{
	struct lp_relay_tb tb;

	(void)state;
	lp_relay_tb_init(&tb, 0, 1, 0);
	for (int i = 0; i < 100000; i++)
		assert_true(lp_relay_tb_take(&tb, 0, 65535));
	lp_relay_tb_init(&tb, 10, 10, 10 * SEC);
	assert_true(lp_relay_tb_take(&tb, 10 * SEC, 10));
	/* Time going backwards adds nothing and does not wrap. */
	assert_false(lp_relay_tb_take(&tb, 1 * SEC, 1));
	assert_int_equal(lp_relay_tb_available(&tb, 10 * SEC), 0);
	assert_int_equal(lp_relay_tb_available(&tb, 10 * SEC + SEC / 10), 1);
	/* Burst 0 is clamped to 1. */
	lp_relay_tb_init(&tb, 1, 0, 0);
	assert_true(lp_relay_tb_take(&tb, 0, 1));
	assert_false(lp_relay_tb_take(&tb, 0, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_refill_caps_at_burst),
		cmocka_unit_test(test_byte_costs),
		cmocka_unit_test(test_disabled_and_clock_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
