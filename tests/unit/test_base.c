/* test_base.c - lib/base: error text, the lp_buf cursor, log dispatch and rate limiting,
 * lp_strlcpy_checked, UTF-8, SipHash, the binary heap and the intrusive list. */
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

/* ---- UTF-8 ------------------------------------------------------------------ */

static void test_utf8(void **state)
{
	static const struct {
		const char *s;
		size_t seq; /* lp_utf8_seq at the start */
	} cases[] = {
		{ "a", 1 },
		{ "\xc3\xa9", 2 },         /* U+00E9 */
		{ "\xe2\x82\xac", 3 },     /* U+20AC */
		{ "\xf0\x9f\x98\x80", 4 }, /* U+1F600 */
		{ "\xf4\x8f\xbf\xbf", 4 }, /* U+10FFFF, the last one */
		{ "\xc0\xaf", 0 },         /* overlong '/' */
		{ "\xe0\x80\xaf", 0 },     /* overlong, 3 bytes */
		{ "\xed\xa0\x80", 0 },     /* surrogate U+D800 */
		{ "\xf4\x90\x80\x80", 0 }, /* above U+10FFFF */
		{ "\xf5\x80\x80\x80", 0 }, /* bad lead byte */
		{ "\x80", 0 },             /* lone continuation */
		{ "\xc3(", 0 },            /* bad continuation */
	};
	size_t i;

	(void)state;
	for (i = 0; i < LP_ARRAY_LEN(cases); i++) {
		size_t len = strlen(cases[i].s);

		assert_int_equal(lp_utf8_seq((const uint8_t *)cases[i].s, len), cases[i].seq);
		assert_int_equal(lp_utf8_valid(cases[i].s, len), cases[i].seq == len);
	}
	/* A sequence cut short by the end of the input. */
	assert_int_equal(lp_utf8_seq((const uint8_t *)"\xe2\x82", 2), 0);
	assert_false(lp_utf8_valid("ok \xe2\x82", 5));
	assert_true(lp_utf8_valid("caf\xc3\xa9 ok", 8));
	assert_true(lp_utf8_valid("", 0));
}

/* ---- SipHash ------------------------------------------------------------------ */

static void test_siphash_vectors(void **state)
{
	const uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
	uint8_t msg[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	/* The reference vectors of the SipHash paper (key 00..0f, message 00..len-1). */
	assert_true(lp_siphash24(k0, k1, msg, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(lp_siphash24(k0, k1, msg, 8) == 0x93f5f5799a932462ULL);
	assert_true(lp_siphash24(k0, k1, msg, 15) == 0xa129ca6149be45e5ULL);
	/* Another key gives another hash. */
	assert_true(lp_siphash24(k0 ^ 1, k1, msg, 15) != 0xa129ca6149be45e5ULL);
}

/* ---- heap ------------------------------------------------------------------ */

struct item {
	uint64_t key;
	struct lp_heap_entry he;
	struct lp_list_node node;
};

static bool item_less(const struct lp_heap_entry *a, const struct lp_heap_entry *b)
{
	return LP_CONTAINER_OF(a, struct item, he)->key < LP_CONTAINER_OF(b, struct item, he)->key;
}

static uint64_t pop_key(struct lp_heap *h)
{
	struct lp_heap_entry *e = lp_heap_top(h);

	assert_non_null(e);
	lp_heap_remove(h, e);
	assert_false(lp_heap_queued(e));
	return LP_CONTAINER_OF(e, struct item, he)->key;
}

/* Pops everything and checks the keys come out sorted. */
static void drain_sorted(struct lp_heap *h, size_t expect)
{
	uint64_t prev = 0;
	size_t n = 0;

	while (lp_heap_top(h) != NULL) {
		uint64_t k = pop_key(h);

		assert_true(k >= prev);
		prev = k;
		n++;
	}
	assert_int_equal(n, expect);
	assert_int_equal(lp_heap_len(h), 0);
}

static void test_heap_order(void **state)
{
	static struct item it[500];
	struct lp_heap h;
	uint64_t x = 12345;
	size_t i;

	(void)state;
	lp_heap_init(&h, item_less);
	assert_null(lp_heap_top(&h));
	for (i = 0; i < LP_ARRAY_LEN(it); i++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		it[i].key = (x >> 33) % 100;             /* many ties */
		assert_false(lp_heap_queued(&it[i].he)); /* zeroed storage: unqueued */
		assert_int_equal(lp_heap_push(&h, &it[i].he), 0);
		assert_true(lp_heap_queued(&it[i].he));
	}
	assert_int_equal(lp_heap_len(&h), LP_ARRAY_LEN(it));
	drain_sorted(&h, LP_ARRAY_LEN(it));
	lp_heap_free(&h);
	lp_heap_free(NULL);
}

static void test_heap_remove_update(void **state)
{
	static struct item it[200];
	struct lp_heap h;
	size_t i, left = 0;

	(void)state;
	memset(it, 0, sizeof(it));
	lp_heap_init(&h, item_less);
	for (i = 0; i < LP_ARRAY_LEN(it); i++) {
		it[i].key = (i * 7919) % 211;
		assert_int_equal(lp_heap_push(&h, &it[i].he), 0);
	}
	/* Remove every third entry from the middle of the heap, re-key every
	 * fifth (up and down), and the order must still hold. */
	for (i = 0; i < LP_ARRAY_LEN(it); i++) {
		if (i % 3 == 0) {
			lp_heap_remove(&h, &it[i].he);
			assert_false(lp_heap_queued(&it[i].he));
			continue;
		}
		left++;
		if (i % 5 == 0) {
			it[i].key = i % 2 ? it[i].key + 1000 : 0;
			lp_heap_update(&h, &it[i].he);
		}
	}
	assert_int_equal(lp_heap_len(&h), left);
	assert_int_equal(LP_CONTAINER_OF(lp_heap_top(&h), struct item, he)->key, 0);
	drain_sorted(&h, left);
	/* A removed entry can be pushed again. */
	assert_int_equal(lp_heap_push(&h, &it[0].he), 0);
	assert_ptr_equal(lp_heap_top(&h), &it[0].he);
	lp_heap_free(&h);
}

static void test_heap_reserve_no_growth(void **state)
{
	static struct item it[40];
	struct lp_heap h;
	struct lp_heap_entry **q;
	size_t i, round;

	(void)state;
	lp_heap_init(&h, item_less);
	assert_int_equal(lp_heap_reserve(&h, LP_ARRAY_LEN(it)), 0);
	assert_true(h.cap >= LP_ARRAY_LEN(it));
	q = h.q;
	/* Pushes within the reserved size never move the array. */
	for (round = 0; round < 3; round++) {
		for (i = 0; i < LP_ARRAY_LEN(it); i++) {
			it[i].key = LP_ARRAY_LEN(it) - i;
			assert_int_equal(lp_heap_push(&h, &it[i].he), 0);
		}
		assert_ptr_equal(h.q, q);
		assert_int_equal(pop_key(&h), 1);
		drain_sorted(&h, LP_ARRAY_LEN(it) - 1);
	}
	lp_heap_free(&h);
}

/* ---- list ------------------------------------------------------------------ */

static void list_keys(const struct lp_list *l, uint64_t *out, size_t *n)
{
	const struct lp_list_node *p;

	*n = 0;
	for (p = lp_list_first(l); p != NULL; p = lp_list_next(l, p))
		out[(*n)++] = LP_CONTAINER_OF(p, const struct item, node)->key;
}

static void test_list(void **state)
{
	struct item it[5];
	struct lp_list l;
	struct lp_list_node *n, *tmp;
	uint64_t keys[8];
	size_t i, cnt;

	(void)state;
	memset(it, 0, sizeof(it));
	lp_list_init(&l);
	assert_true(lp_list_empty(&l));
	assert_null(lp_list_first(&l));
	for (i = 0; i < LP_ARRAY_LEN(it); i++) {
		it[i].key = i;
		assert_false(lp_list_linked(&it[i].node));
	}
	lp_list_insert_tail(&l, &it[1].node);
	lp_list_insert_tail(&l, &it[2].node);
	lp_list_insert_head(&l, &it[0].node);
	lp_list_insert_tail(&l, &it[4].node);
	lp_list_insert_before(&it[4].node, &it[3].node);
	assert_false(lp_list_empty(&l));
	list_keys(&l, keys, &cnt);
	assert_int_equal(cnt, 5);
	for (i = 0; i < cnt; i++)
		assert_int_equal(keys[i], i);

	/* Removing the visited node while walking is allowed. */
	LP_LIST_FOREACH_SAFE(n, tmp, &l)
	{
		if (LP_CONTAINER_OF(n, struct item, node)->key % 2 == 0)
			lp_list_remove(n);
	}
	assert_false(lp_list_linked(&it[0].node));
	assert_true(lp_list_linked(&it[1].node));
	list_keys(&l, keys, &cnt);
	assert_int_equal(cnt, 2);
	assert_int_equal(keys[0], 1);
	assert_int_equal(keys[1], 3);
	lp_list_remove(&it[3].node);
	lp_list_remove(&it[1].node);
	assert_true(lp_list_empty(&l));
	/* Unlinked nodes can go on again. */
	lp_list_insert_head(&l, &it[3].node);
	assert_ptr_equal(lp_list_first(&l), &it[3].node);
	assert_null(lp_list_next(&l, &it[3].node));
}

static void test_list_splice(void **state)
{
	struct item it[5];
	struct lp_list a, b;
	uint64_t keys[8];
	size_t i, cnt;

	(void)state;
	memset(it, 0, sizeof(it));
	lp_list_init(&a);
	lp_list_init(&b);
	lp_list_splice_tail(&a, &b); /* both empty */
	assert_true(lp_list_empty(&a) && lp_list_empty(&b));
	for (i = 0; i < 5; i++) {
		it[i].key = i;
		lp_list_insert_tail(i < 2 ? &a : &b, &it[i].node);
	}
	lp_list_splice_tail(&a, &b);
	assert_true(lp_list_empty(&b));
	list_keys(&a, keys, &cnt);
	assert_int_equal(cnt, 5);
	for (i = 0; i < cnt; i++)
		assert_int_equal(keys[i], i);
	/* Into an empty list, and the source is usable afterwards. */
	lp_list_splice_tail(&b, &a);
	assert_true(lp_list_empty(&a));
	list_keys(&b, keys, &cnt);
	assert_int_equal(cnt, 5);
	lp_list_remove(&it[0].node);
	lp_list_insert_tail(&a, &it[0].node);
	assert_ptr_equal(lp_list_first(&b), &it[1].node);
	assert_ptr_equal(lp_list_first(&a), &it[0].node);
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
		cmocka_unit_test(test_heap_order),
		cmocka_unit_test(test_heap_remove_update),
		cmocka_unit_test(test_heap_reserve_no_growth),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_list_splice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
