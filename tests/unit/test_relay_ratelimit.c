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

static void test_ctrl_limit(void **state)
{
	struct lp_relay_ctrl_limit l;
	uint64_t t0 = 3 * SEC;
	unsigned ok = 0;

	(void)state;
	lp_relay_ctrl_limit_init(&l, LP_RELAY_CTRL_MSGS_PER_SEC, LP_RELAY_CTRL_MSGS_BURST,
	                         LP_RELAY_CTRL_BYTES_PER_SEC, LP_RELAY_CTRL_BYTES_BURST, t0);
	/* A legitimate peer: a 300-byte hello, then a 900-byte stats report
	 * every second for an hour, never refused. */
	assert_true(lp_relay_ctrl_limit_take(&l, t0, 300));
	for (uint64_t s = 1; s <= 3600; s++)
		assert_true(lp_relay_ctrl_limit_take(&l, t0 + s * SEC, 900));
	assert_int_equal(l.refused, 0);

	/* A spammer of small messages: the burst, then the message rate. */
	lp_relay_ctrl_limit_init(&l, LP_RELAY_CTRL_MSGS_PER_SEC, LP_RELAY_CTRL_MSGS_BURST,
	                         LP_RELAY_CTRL_BYTES_PER_SEC, LP_RELAY_CTRL_BYTES_BURST, t0);
	for (unsigned i = 0; i < 1000; i++)
		ok += lp_relay_ctrl_limit_take(&l, t0, 40);
	assert_int_equal(ok, LP_RELAY_CTRL_MSGS_BURST);
	assert_int_equal(l.refused, 1000 - LP_RELAY_CTRL_MSGS_BURST);
	assert_false(lp_relay_ctrl_limit_take(&l, t0 + 49 * MS, 40));
	assert_true(lp_relay_ctrl_limit_take(&l, t0 + 50 * MS, 40)); /* 1 / 20 s later */

	/* A spammer of large messages: the byte bucket refuses first, and a
	 * refused frame takes no message token. */
	lp_relay_ctrl_limit_init(&l, LP_RELAY_CTRL_MSGS_PER_SEC, LP_RELAY_CTRL_MSGS_BURST,
	                         LP_RELAY_CTRL_BYTES_PER_SEC, LP_RELAY_CTRL_BYTES_BURST, t0);
	ok = 0;
	for (unsigned i = 0; i < 10; i++)
		ok += lp_relay_ctrl_limit_take(&l, t0, 16384);
	assert_int_equal(ok, LP_RELAY_CTRL_BYTES_BURST / 16384);
	assert_int_equal(lp_relay_tb_available(&l.msgs, t0), LP_RELAY_CTRL_MSGS_BURST - ok);

	/* Rates of 0: unlimited. */
	lp_relay_ctrl_limit_init(&l, 0, 0, 0, 0, t0);
	for (unsigned i = 0; i < 10000; i++)
		assert_true(lp_relay_ctrl_limit_take(&l, t0, 16384));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_refill_caps_at_burst),
		cmocka_unit_test(test_byte_costs),
		cmocka_unit_test(test_disabled_and_clock_back),
		cmocka_unit_test(test_ctrl_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
