/* test_impair_sched.c - tools/impair: the impairment model on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "impair_sched.h"

#define MS LP_NS_PER_MS
#define US UINT64_C(1000)

static struct lp_impair *model(const char *spec0, const char *spec1, uint64_t seed, size_t slots)
{
	struct lp_impair_config cfg = { .seed = seed, .pool_slots = slots, .slot_bytes = 1600 };
	struct lp_impair *m;

	if (spec0 != NULL)
		assert_int_equal(lp_impair_spec_parse(&cfg.dir[0], spec0), 0);
	if (spec1 != NULL)
		assert_int_equal(lp_impair_spec_parse(&cfg.dir[1], spec1), 0);
	assert_int_equal(lp_impair_new(&m, &cfg), 0);
	return m;
}

/* Submits a frame of len bytes whose first 4 bytes carry id. */
static int submit(struct lp_impair *m, int dir, uint64_t now, size_t len, uint32_t id)
{
	struct lp_impair_pkt *p = lp_impair_slot(m);

	if (p == NULL)
		return lp_impair_submit(m, NULL, dir, now);
	memset(p->data, 0, len);
	memcpy(p->data, &id, sizeof(id));
	p->len = len;
	return lp_impair_submit(m, p, dir, now);
}

/* Pops one frame due by now: its id, due time and direction. */
static int pop(struct lp_impair *m, uint64_t now, uint32_t *id, uint64_t *due, int *dir)
{
	struct lp_impair_pkt *p = lp_impair_pop(m, now);

	if (p == NULL)
		return 0;
	memcpy(id, p->data, sizeof(*id));
	*due = p->due_ns;
	if (dir != NULL)
		*dir = p->dir;
	lp_impair_done(m, p);
	return 1;
}

static void test_delay_per_direction(void **state)
{
	struct lp_impair *m = model("delay=10ms", "delay=30ms", 1, 16);
	uint32_t id;
	uint64_t due;
	int dir;

	(void)state;
	assert_int_equal(lp_impair_next_due(m), UINT64_MAX);
	assert_int_equal(submit(m, 0, 1000, 100, 1), 1);
	assert_int_equal(submit(m, 1, 1000, 100, 2), 1);
	assert_int_equal(submit(m, 0, 2000, 100, 3), 1);
	assert_int_equal(lp_impair_next_due(m), 1000 + 10 * MS);
	/* Nothing is early. */
	assert_int_equal(pop(m, 1000 + 10 * MS - 1, &id, &due, &dir), 0);
	assert_int_equal(pop(m, 1000 + 10 * MS, &id, &due, &dir), 1);
	assert_int_equal(id, 1);
	assert_int_equal(dir, 0);
	assert_int_equal(pop(m, 40 * MS, &id, &due, &dir), 1);
	assert_int_equal(id, 3);
	assert_int_equal(due, 2000 + 10 * MS);
	assert_int_equal(pop(m, 40 * MS, &id, &due, &dir), 1);
	assert_int_equal(id, 2);
	assert_int_equal(dir, 1);
	assert_int_equal(due, 1000 + 30 * MS);
	assert_int_equal(lp_impair_stats(m, 0)->out, 2);
	assert_int_equal(lp_impair_stats(m, 1)->out, 1);
	lp_impair_del(m);
}

/* 1000-byte frames at 8 Mbit/s take 1 ms each; a 3000-byte FIFO holds the
 * frame on the link and two behind it; the rest of a burst is tail-dropped. */
static void test_rate_cap_and_bounded_queue(void **state)
{
	struct lp_impair *m = model("rate=8mbit,queue=3000b,delay=5ms", NULL, 1, 64);
	const struct lp_impair_stats *st;
	uint32_t id;
	uint64_t due;

	(void)state;
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(submit(m, 0, 0, 1000, i), i < 3 ? 1 : 0);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(pop(m, UINT64_MAX, &id, &due, NULL), 1);
		assert_int_equal(id, i);
		assert_int_equal(due, (i + 1) * MS + 5 * MS);
	}
	st = lp_impair_stats(m, 0);
	assert_int_equal(st->queue_drops, 2);
	assert_int_equal(st->wait_max_ns, 3 * MS);
	/* Once the link drained, a frame goes at line rate again. */
	assert_int_equal(submit(m, 0, 100 * MS, 1000, 9), 1);
	assert_int_equal(pop(m, UINT64_MAX, &id, &due, NULL), 1);
	assert_int_equal(due, 101 * MS + 5 * MS);
	/* A steady stream at half the rate never waits behind another. */
	for (uint32_t i = 0; i < 100; i++) {
		assert_int_equal(submit(m, 0, 200 * MS + i * 2 * MS, 1000, i), 1);
		assert_int_equal(pop(m, UINT64_MAX, &id, &due, NULL), 1);
		assert_int_equal(due, 200 * MS + i * 2 * MS + MS + 5 * MS);
	}
	assert_int_equal(st->queue_drops, 2);
	assert_true(lp_impair_wait_quantile(m, 0, 0.5) <= MS + LP_IMPAIR_HIST_NS);
	lp_impair_del(m);
}

static void test_token_bucket_burst(void **state)
{
	struct lp_impair *m = model("rate=8mbit,burst=2000b,queue=100kb", NULL, 1, 64);
	uint32_t id;
	uint64_t due;

	(void)state;
	/* A full bucket lets two frames through at once, then line spacing. */
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(submit(m, 0, 0, 1000, i), 1);
	const uint64_t want[4] = { 0, 0, MS, 2 * MS };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pop(m, UINT64_MAX, &id, &due, NULL), 1);
		assert_int_equal(due, want[i]);
	}
	/* 10 ms idle refills the bucket up to its depth only. */
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(submit(m, 0, 12 * MS, 1000, i), 1);
	const uint64_t want2[3] = { 12 * MS, 12 * MS, 13 * MS };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pop(m, UINT64_MAX, &id, &due, NULL), 1);
		assert_int_equal(due, want2[i]);
	}
	lp_impair_del(m);
}

/* Loss hits its rate and the same seed loses the same frames. */
static void test_loss_rate_and_seed(void **state)
{
	struct lp_impair *a = model("loss=2%", NULL, 42, 4);
	struct lp_impair *b = model("loss=2%", NULL, 42, 4);
	struct lp_impair *c = model("loss=2%", NULL, 43, 4);
	int differ = 0;
	uint32_t id;
	uint64_t due;

	(void)state;
	for (uint32_t i = 0; i < 100000; i++) {
		int ra = submit(a, 0, i * US, 100, i), rb = submit(b, 0, i * US, 100, i);
		int rc = submit(c, 0, i * US, 100, i);

		assert_int_equal(ra, rb);
		differ += ra != rc;
		while (pop(a, UINT64_MAX, &id, &due, NULL) || pop(b, UINT64_MAX, &id, &due, NULL) ||
		       pop(c, UINT64_MAX, &id, &due, NULL))
			;
	}
	assert_in_range(lp_impair_stats(a, 0)->lost, 1800, 2200);
	assert_true(differ > 1000);
	/* The other direction has its own settings: no loss. */
	assert_int_equal(lp_impair_stats(a, 1)->lost, 0);
	lp_impair_del(a);
	lp_impair_del(b);
	lp_impair_del(c);
}

/* Jitter spreads due times but keeps the order; reorder lets frames
 * overtake the held ones. */
static void test_jitter_keeps_order_reorder_breaks_it(void **state)
{
	struct lp_impair *m =
	        model("delay=10ms,jitter=5ms", "delay=10ms,reorder=10%,reorder-gap=2ms", 7, 4096);
	uint64_t due, last = 0, lo = UINT64_MAX, hi = 0;
	uint32_t id, next = 0;
	int inversions = 0;

	(void)state;
	/* Frames 11 ms apart: the jitter window (10 ms) never makes one wait
	 * for the one before, so the latencies span the whole window. */
	for (uint32_t i = 0; i < 2000; i++)
		assert_int_equal(submit(m, 0, i * 11 * MS, 100, i), 1);
	while (pop(m, UINT64_MAX, &id, &due, NULL)) {
		uint64_t lat = due - id * 11 * MS;

		assert_int_equal(id, next++);
		assert_true(due >= last);
		last = due;
		lo = lat < lo ? lat : lo;
		hi = lat > hi ? lat : hi;
	}
	assert_int_equal(next, 2000);
	assert_in_range(lo, 5 * MS, 6 * MS);
	assert_in_range(hi, 14 * MS, 15 * MS);
	/* Frames 100 us apart: still in order. */
	for (uint32_t i = 0; i < 2000; i++)
		assert_int_equal(submit(m, 0, 30 * LP_NS_PER_SEC + i * 100 * US, 100, i), 1);
	next = 0;
	while (pop(m, UINT64_MAX, &id, &due, NULL))
		assert_int_equal(id, next++);
	assert_int_equal(next, 2000);

	for (uint32_t i = 0; i < 2000; i++)
		assert_int_equal(submit(m, 1, i * 100 * US, 100, i), 1);
	next = 0;
	while (pop(m, UINT64_MAX, &id, &due, NULL)) {
		inversions += id < next;
		next = id > next ? id : next;
	}
	assert_in_range(lp_impair_stats(m, 1)->reordered, 150, 250);
	assert_true(inversions > 100);
	lp_impair_del(m);
}

static void test_duplicates(void **state)
{
	struct lp_impair *m = model("dup=100%,delay=1ms", NULL, 1, 8);
	uint32_t id;
	uint64_t due;

	(void)state;
	assert_int_equal(submit(m, 0, 0, 200, 77), 2);
	assert_int_equal(pop(m, UINT64_MAX, &id, &due, NULL), 1);
	assert_int_equal(id, 77);
	assert_int_equal(pop(m, UINT64_MAX, &id, &due, NULL), 1);
	assert_int_equal(id, 77);
	assert_int_equal(pop(m, UINT64_MAX, &id, &due, NULL), 0);
	assert_int_equal(lp_impair_stats(m, 0)->dups, 1);
	lp_impair_del(m);
}

/* The pool is the only memory: when it is full, frames are dropped and
 * counted, and the slots come back once sent. */
static void test_pool_bound(void **state)
{
	struct lp_impair *m = model("delay=50ms", NULL, 1, 4);
	uint32_t id;
	uint64_t due;

	(void)state;
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(submit(m, 0, i, 100, i), i < 4 ? 1 : 0);
	assert_null(lp_impair_slot(m));
	assert_int_equal(lp_impair_stats(m, 0)->pool_drops, 2);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pop(m, UINT64_MAX, &id, &due, NULL), 1);
	assert_non_null(lp_impair_slot(m));
	assert_int_equal(submit(m, 0, 100 * MS, 100, 9), 1);
	lp_impair_del(m);
}

static void test_spec_parse(void **state)
{
	struct lp_impair_spec s = { 0 };
	struct lp_impair_config cfg = { .pool_slots = 1, .slot_bytes = 1 };
	struct lp_impair *m;

	(void)state;
	assert_int_equal(lp_impair_spec_parse(&s, "delay=10ms,jitter=500us,loss=0.5%,dup=1,"
	                                          "reorder=2%,rate=100mbit,queue=20ms,burst=3kb"),
	                 0);
	assert_int_equal(s.delay_ns, 10 * MS);
	assert_int_equal(s.jitter_ns, 500 * US);
	assert_int_equal(s.loss_ppm, 5000);
	assert_int_equal(s.dup_ppm, 10000);
	assert_int_equal(s.reorder_ppm, 20000);
	assert_int_equal(s.reorder_ns, MS);
	assert_int_equal(s.rate_bps, 100000000);
	assert_int_equal(s.queue_bytes, 250000);
	assert_int_equal(s.burst_bytes, 3000);
	/* Later specs change only the keys they name. */
	assert_int_equal(lp_impair_spec_parse(&s, "delay=1s"), 0);
	assert_int_equal(s.delay_ns, LP_NS_PER_SEC);
	assert_int_equal(s.loss_ppm, 5000);
	assert_int_equal(lp_impair_spec_parse(&s, "rate=2gbit"), 0);
	assert_int_equal(s.rate_bps, 2000000000);

	const char *bad[] = { "delay",     "delay=",    "delay=5parsecs",
		              "loss=101%", "loss=-1",   "colour=blue",
		              "rate=fast", "queue=9zb", "queue=5ms" /* no rate */,
		              "loss=1%%" };
	for (size_t i = 0; i < LP_ARRAY_LEN(bad); i++) {
		struct lp_impair_spec t = { 0 };

		assert_int_not_equal(lp_impair_spec_parse(&t, bad[i]), 0);
	}
	cfg.dir[0].loss_ppm = 1000001;
	assert_int_equal(lp_impair_new(&m, &cfg), LP_ERR_INVAL);
	cfg.dir[0].loss_ppm = 0;
	cfg.pool_slots = 0;
	assert_int_equal(lp_impair_new(&m, &cfg), LP_ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delay_per_direction),
		cmocka_unit_test(test_rate_cap_and_bounded_queue),
		cmocka_unit_test(test_token_bucket_burst),
		cmocka_unit_test(test_loss_rate_and_seed),
		cmocka_unit_test(test_jitter_keeps_order_reorder_breaks_it),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_pool_bound),
		cmocka_unit_test(test_spec_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
