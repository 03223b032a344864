/* test_base.c - lib/base: error text, the lp_buf cursor, log dispatch and rate limiting,
 * lp_strlcpy_checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lp_base.h"

static void test_strerror_every_code(void **state)
{
	const char *seen[64];
	int err, i;

	(void)state;
	assert_true(-LP_ERR__MIN <= (int)LP_ARRAY_LEN(seen));
	assert_string_equal(lp_strerror(LP_OK), "success");
	assert_string_equal(lp_strerror(LP_ERR_INVAL), "invalid argument");
	assert_string_equal(lp_strerror(LP_ERR_RUNT),
	                    "runt Ethernet frame (shorter than its header)");
	assert_string_equal(lp_strerror(LP_ERR_PERM), "permission denied");
	for (err = 0; err > LP_ERR__MIN; err--) {
		const char *s = lp_strerror(err);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
		assert_string_not_equal(s, "unknown error");
		/* Every code has its own text, so callers can tell them apart in logs. */
		for (i = 0; i < -err; i++)
			assert_string_not_equal(s, seen[i]);
		seen[-err] = s;
	}
}

static void test_strerror_unknown(void **state)
{
	(void)state;
	assert_string_equal(lp_strerror(LP_ERR__MIN), "unknown error");
	assert_string_equal(lp_strerror(LP_ERR__MIN - 1), "unknown error");
	assert_string_equal(lp_strerror(-1000), "unknown error");
	assert_string_equal(lp_strerror(1), "unknown error");
	assert_string_equal(lp_strerror(INT32_MAX), "unknown error");
	assert_string_equal(lp_strerror(INT32_MIN), "unknown error");
}

static void test_buf_getters(void **state)
{
	static const uint8_t d[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a };
	const uint8_t *p;
	struct lp_buf b;

	(void)state;
	lp_buf_init(&b, d, sizeof(d));
	assert_int_equal(lp_buf_left(&b), 10);
	assert_int_equal(lp_buf_u8(&b), 0x01);
	assert_int_equal(lp_buf_u16(&b), 0x0203);
	assert_int_equal(lp_buf_u32(&b), 0x04050607);
	assert_int_equal(lp_buf_left(&b), 3);
	lp_buf_bytes(&b, &p, 2);
	assert_ptr_equal(p, d + 7);
	assert_int_equal(lp_buf_left(&b), 1);
	assert_int_equal(b.err, 0);
	lp_buf_bytes(&b, &p, 0);
	assert_ptr_equal(p, d + 9);
	assert_int_equal(lp_buf_u8(&b), 0x0a);
	assert_int_equal(lp_buf_left(&b), 0);
	assert_int_equal(b.err, 0);
}

static void test_buf_sticky_error(void **state)
{
	static const uint8_t d[] = { 0xaa, 0xbb, 0xcc };
	const uint8_t *p = d;
	struct lp_buf b;

	(void)state;
	lp_buf_init(&b, d, sizeof(d));
	/* A read past the end fails without consuming anything ... */
	assert_int_equal(lp_buf_u32(&b), 0);
	assert_int_equal(b.err, LP_ERR_TRUNCATED);
	assert_int_equal(lp_buf_left(&b), 3);
	/* ... and every later read fails too, even one that would fit. */
	assert_int_equal(lp_buf_u8(&b), 0);
	assert_int_equal(lp_buf_u16(&b), 0);
	lp_buf_bytes(&b, &p, 1);
	assert_null(p);
	assert_int_equal(b.err, LP_ERR_TRUNCATED);
	assert_int_equal(lp_buf_left(&b), 3);

	lp_buf_init(&b, d, sizeof(d));
	assert_int_equal(lp_buf_u16(&b), 0xaabb);
	assert_int_equal(lp_buf_u16(&b), 0);
	assert_int_equal(b.err, LP_ERR_TRUNCATED);
	assert_int_equal(lp_buf_u8(&b), 0);
	lp_buf_bytes(&b, &p, 4);
	assert_null(p);

	lp_buf_init(&b, d, 0);
	assert_int_equal(lp_buf_u8(&b), 0);
	assert_int_equal(b.err, LP_ERR_TRUNCATED);
}

static void test_put_get(void **state)
{
	uint8_t o[4];

	(void)state;
	lp_put_u16(o, 0xbeef);
	assert_int_equal(o[0], 0xbe);
	assert_int_equal(o[1], 0xef);
	assert_int_equal(lp_get_u16(o), 0xbeef);
	lp_put_u32(o, 0xdeadbeef);
	assert_int_equal(o[0], 0xde);
	assert_int_equal(o[3], 0xef);
}

struct log_capture {
	int calls;
	enum lp_log_level level;
	char text[64];
};

LP_PRINTF(3, 0)
static void capture_fn(void *user, enum lp_log_level level, const char *fmt, va_list ap)
{
	struct log_capture *c = user;

	c->calls++;
	c->level = level;
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
}

static void test_log_dispatch(void **state)
{
	struct log_capture c = { 0 };
	struct lp_logger lg = { capture_fn, &c, LP_LOG_INFO };

	(void)state;
	lp_log(&lg, LP_LOG_WARN, "peer %d dropped %s", 7, "frame");
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.level, LP_LOG_WARN);
	assert_string_equal(c.text, "peer 7 dropped frame");
	lp_log(&lg, LP_LOG_INFO, "x");
	assert_int_equal(c.calls, 2);
	lp_log(&lg, LP_LOG_DEBUG, "skipped");
	assert_int_equal(c.calls, 2);
	assert_false(lp_log_enabled(&lg, LP_LOG_DEBUG));
	assert_true(lp_log_enabled(&lg, LP_LOG_ERROR));
	lp_log(NULL, LP_LOG_ERROR, "nowhere");
	lg.fn = NULL;
	lp_log(&lg, LP_LOG_ERROR, "nowhere");
	assert_int_equal(c.calls, 2);
	assert_false(lp_log_enabled(NULL, LP_LOG_ERROR));
}

static void test_ratelimit(void **state)
{
	const uint64_t s = LP_NS_PER_SEC;
	struct lp_log_ratelimit rl;
	uint64_t supp = 99;
	int i;

	(void)state;
	lp_log_ratelimit_init(&rl, 3, 5 * s);
	/* The first interval starts at t=0: the burst is available at once. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(lp_log_ratelimit_ok(&rl, 1 * s, &supp), 1);
		assert_int_equal(supp, 0);
	}
	for (i = 0; i < 10; i++)
		assert_int_equal(lp_log_ratelimit_ok(&rl, 2 * s, &supp), 0);
	/* Still inside the interval started at t=0. */
	assert_int_equal(lp_log_ratelimit_ok(&rl, 5 * s - 1, &supp), 0);
	/* A new interval refills the burst; the first line reports all 11 suppressed. */
	assert_int_equal(lp_log_ratelimit_ok(&rl, 5 * s, &supp), 1);
	assert_int_equal(supp, 11);
	assert_int_equal(lp_log_ratelimit_ok(&rl, 5 * s, &supp), 1);
	assert_int_equal(supp, 0);
	assert_int_equal(lp_log_ratelimit_ok(&rl, 6 * s, NULL), 1);
	assert_int_equal(lp_log_ratelimit_ok(&rl, 6 * s, &supp), 0);
	/* The next interval counts from the refill at 5 s, not from the last call. */
	assert_int_equal(lp_log_ratelimit_ok(&rl, 10 * s - 1, &supp), 0);
	assert_int_equal(lp_log_ratelimit_ok(&rl, 10 * s, &supp), 1);
	assert_int_equal(supp, 2);
}

static void test_ratelimit_zero_burst(void **state)
{
	struct lp_log_ratelimit rl;
	uint64_t supp = 0;

	(void)state;
	lp_log_ratelimit_init(&rl, 0, LP_NS_PER_SEC);
	assert_int_equal(lp_log_ratelimit_ok(&rl, 0, &supp), 0);
	assert_int_equal(lp_log_ratelimit_ok(&rl, 10 * LP_NS_PER_SEC, &supp), 0);
	assert_int_equal(rl.suppressed, 2);
}

static void test_strlcpy_checked(void **state)
{
	char d[6];

	(void)state;
	memset(d, 'x', sizeof(d));
	assert_int_equal(lp_strlcpy_checked(d, sizeof(d), "hello"), 0);
	assert_string_equal(d, "hello");
	assert_int_equal(lp_strlcpy_checked(d, sizeof(d), ""), 0);
	assert_string_equal(d, "");
	/* Truncated, but still NUL-terminated. */
	assert_int_equal(lp_strlcpy_checked(d, sizeof(d), "hello!"), LP_ERR_NOBUF);
	assert_string_equal(d, "hello");
	assert_int_equal(lp_strlcpy_checked(d, 1, "a"), LP_ERR_NOBUF);
	assert_string_equal(d, "");
	d[0] = 'q';
	assert_int_equal(lp_strlcpy_checked(d, 0, "a"), LP_ERR_NOBUF);
	assert_int_equal(d[0], 'q');
}

static void test_now_monotonic(void **state)
{
	uint64_t a, b;

	(void)state;
	a = lp_now_ns();
	b = lp_now_ns();
	assert_true(a > 0);
	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror_every_code),
		cmocka_unit_test(test_strerror_unknown),
		cmocka_unit_test(test_buf_getters),
		cmocka_unit_test(test_buf_sticky_error),
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_log_dispatch),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_ratelimit_zero_burst),
		cmocka_unit_test(test_strlcpy_checked),
		cmocka_unit_test(test_now_monotonic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
