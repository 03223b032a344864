/* test_backoff.c - lib/client-core reconnect backoff: doubling, cap, jitter, reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lp_client.h"

#define MS LP_NS_PER_MS
#define SEC LP_NS_PER_SEC

struct fake_rand {
	uint64_t value;
	unsigned calls;
};

static uint64_t fake_rand(void *user)
{
	struct fake_rand *f = user;

	f->calls++;
	return f->value;
}

static void init_fake(struct lp_backoff *b, struct fake_rand *f, uint64_t initial, uint64_t max,
                      uint64_t reset)
{
	struct lp_backoff_cfg cfg = { .initial_ns = initial,
		                      .max_ns = max,
		                      .reset_after_ns = reset,
		                      .rand = fake_rand,
		                      .rand_user = f };

	lp_backoff_init(b, &cfg);
}

/* rand 0 gives the lower jitter bound: half of the doubling base, capped at 30 s. */
static void test_sequence_lower_bound(void **state)
{
	struct fake_rand f = { .value = 0 };
	struct lp_backoff b;
	const uint64_t want_ms[] = { 250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000 };
	size_t i;

	(void)state;
	init_fake(&b, &f, 0, 0, 0); /* defaults: 500 ms, 30 s, 60 s */
	for (i = 0; i < LP_ARRAY_LEN(want_ms); i++)
		assert_int_equal(lp_backoff_next(&b, 1000 * SEC), want_ms[i] * MS);
	assert_int_equal(f.calls, LP_ARRAY_LEN(want_ms));
	assert_int_equal(lp_backoff_attempts(&b), LP_ARRAY_LEN(want_ms));
}

/* rand % (half + 1) == half gives the upper bound: the base itself. */
static void test_sequence_upper_bound(void **state)
{
	struct fake_rand f;
	struct lp_backoff b;
	const uint64_t want_ms[] = { 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000 };
	size_t i;

	(void)state;
	init_fake(&b, &f, 0, 0, 0);
	for (i = 0; i < LP_ARRAY_LEN(want_ms); i++) {
		f.value = want_ms[i] * MS / 2; /* exactly half of this base */
		assert_int_equal(lp_backoff_next(&b, 5 * SEC), want_ms[i] * MS);
	}
}

static void test_jitter_exact(void **state)
{
	struct fake_rand f = { .value = 12345 };
	struct lp_backoff b;

	(void)state;
	init_fake(&b, &f, 0, 0, 0);
	assert_int_equal(lp_backoff_next(&b, 0), 250 * MS + 12345);
	/* A value above the range wraps modulo (half + 1). */
	f.value = 500 * MS + 1 + 7;
	assert_int_equal(lp_backoff_next(&b, 0), 500 * MS + 7);
}

static void test_custom_limits(void **state)
{
	struct fake_rand f = { .value = UINT64_MAX };
	struct lp_backoff b;
	uint64_t d;

	(void)state;
	init_fake(&b, &f, 100 * MS, 250 * MS, 0);
	/* UINT64_MAX % (half + 1) for half = 50 ms, 100 ms, 125 ms. */
	d = lp_backoff_next(&b, 0);
	assert_int_equal(d, 50 * MS + UINT64_MAX % (50 * MS + 1));
	d = lp_backoff_next(&b, 0);
	assert_int_equal(d, 100 * MS + UINT64_MAX % (100 * MS + 1));
	d = lp_backoff_next(&b, 0);
	assert_int_equal(d, 125 * MS + UINT64_MAX % (125 * MS + 1));
	assert_true(d <= 250 * MS);
	/* max below initial is raised to initial. */
	init_fake(&b, &f, 2 * SEC, 1 * SEC, 0);
	f.value = 0;
	assert_int_equal(lp_backoff_next(&b, 0), 1 * SEC);
	assert_int_equal(lp_backoff_next(&b, 0), 1 * SEC);
}

/* 60 s admitted resets; shorter sessions keep growing the delay. */
static void test_reset_after_admitted(void **state)
{
	struct fake_rand f = { .value = 0 };
	struct lp_backoff b;
	uint64_t t = 100 * SEC;

	(void)state;
	init_fake(&b, &f, 0, 0, 0);
	assert_int_equal(lp_backoff_next(&b, t), 250 * MS);
	assert_int_equal(lp_backoff_next(&b, t), 500 * MS);
	assert_int_equal(lp_backoff_next(&b, t), 1000 * MS);
	/* Admitted for 59.999 s: no reset. */
	lp_backoff_admitted(&b, t);
	assert_int_equal(lp_backoff_next(&b, t + 60 * SEC - 1), 2000 * MS);
	assert_int_equal(lp_backoff_attempts(&b), 4);
	/* The admission is consumed by next(): a later call does not reset. */
	assert_int_equal(lp_backoff_next(&b, t + 500 * SEC), 4000 * MS);
	/* Admitted for exactly 60 s: reset to the initial delay. */
	t += 600 * SEC;
	lp_backoff_admitted(&b, t);
	assert_int_equal(lp_backoff_next(&b, t + 60 * SEC), 250 * MS);
	assert_int_equal(lp_backoff_attempts(&b), 1);
	assert_int_equal(lp_backoff_next(&b, t + 61 * SEC), 500 * MS);
	/* Explicit reset. */
	lp_backoff_reset(&b);
	assert_int_equal(lp_backoff_attempts(&b), 0);
	assert_int_equal(lp_backoff_next(&b, 0), 250 * MS);
}

/* The internal generator stays inside [base/2, base] and actually varies. */
static void test_default_rand_bounds(void **state)
{
	struct lp_backoff b;
	uint64_t base = 500 * MS, d, first = 0;
	bool varied = false;
	int i, round;

	(void)state;
	for (round = 0; round < 50; round++) {
		lp_backoff_init(&b, NULL);
		base = 500 * MS;
		for (i = 0; i < 10; i++) {
			d = lp_backoff_next(&b, 0);
			assert_true(d >= base / 2);
			assert_true(d <= base);
			if (i == 0) {
				if (round == 0)
					first = d;
				else if (d != first)
					varied = true;
			}
			base = base * 2 > 30 * SEC ? 30 * SEC : base * 2;
		}
	}
	assert_true(varied);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequence_lower_bound),
		cmocka_unit_test(test_sequence_upper_bound),
		cmocka_unit_test(test_jitter_exact),
		cmocka_unit_test(test_custom_limits),
		cmocka_unit_test(test_reset_after_admitted),
		cmocka_unit_test(test_default_rand_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
