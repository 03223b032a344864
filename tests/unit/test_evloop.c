/* test_evloop.c - lib/evloop on Linux (loop.c with loop_epoll.c): timers, fd
 * watchers, stop, signals. tests/wine/test_winloop.c checks loop_win32.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "lp_loop.h"

struct rec {
	int order[16];
	int n;
	uint64_t fired_at[16];
};

struct tctx {
	struct rec *r;
	int id;
};

static void rec_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct tctx *c = arg;

	(void)t;
	if (c->r->n < 16) {
		c->r->fired_at[c->r->n] = lp_loop_now(l);
		c->r->order[c->r->n++] = c->id;
	}
}

static int run_until(struct lp_loop *l, struct rec *r, int want, uint64_t limit_ns)
{
	uint64_t end = lp_now_ns() + limit_ns;

	while (r->n < want && lp_now_ns() < end)
		assert_true(lp_loop_run_once(l, 10 * LP_NS_PER_MS) >= 0);
	return r->n;
}

static void test_timers_fire_in_order(void **state)
{
	struct lp_loop *l;
	struct lp_loop_timer t[5];
	struct tctx c[5];
	struct rec r;
	/* Armed out of order; 3 and 4 share a deadline: arm order breaks ties. */
	const uint64_t off_us[5] = { 3000, 1000, 2000, 4000, 4000 };
	uint64_t base;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(lp_loop_new(&l), 0);
	base = lp_now_ns();
	for (int i = 0; i < 5; i++) {
		c[i].r = &r;
		c[i].id = i;
		lp_loop_timer_init(&t[i], rec_timer, &c[i]);
		assert_false(lp_loop_timer_armed(&t[i]));
		assert_int_equal(lp_loop_timer_arm(l, &t[i], base + off_us[i] * 1000), 0);
		assert_true(lp_loop_timer_armed(&t[i]));
	}
	assert_int_equal(lp_loop_timer_count(l), 5);
	assert_int_equal(run_until(l, &r, 5, LP_NS_PER_SEC), 5);
	assert_int_equal(r.order[0], 1);
	assert_int_equal(r.order[1], 2);
	assert_int_equal(r.order[2], 0);
	assert_int_equal(r.order[3], 3);
	assert_int_equal(r.order[4], 4);
	/* Never early. */
	for (int i = 0; i < 5; i++)
		assert_true(r.fired_at[i] >= base + off_us[r.order[i]] * 1000);
	for (int i = 0; i < 5; i++)
		assert_false(lp_loop_timer_armed(&t[i]));
	assert_int_equal(lp_loop_timer_count(l), 0);
	lp_loop_del(l);
}

static void test_timer_precision_sub_ms(void **state)
{
	struct lp_loop *l;
	struct lp_loop_timer t;
	struct tctx c;
	struct rec r;
	uint64_t start;

	(void)state;
	memset(&r, 0, sizeof(r));
	c.r = &r;
	c.id = 7;
	assert_int_equal(lp_loop_new(&l), 0);
	lp_loop_timer_init(&t, rec_timer, &c);
	/* 50 us timers: a millisecond-granular wait would take >= 1 ms each. */
	start = lp_now_ns();
	for (int i = 0; i < 10; i++) {
		int before = r.n;

		assert_int_equal(lp_loop_timer_arm(l, &t, lp_now_ns() + 50000), 0);
		while (r.n == before)
			assert_true(lp_loop_run_once(l, UINT64_MAX) >= 0);
	}
	assert_int_equal(r.n, 10);
	/* Generous bound for loaded CI machines, still far below 10 x 1 ms. */
	assert_true(lp_now_ns() - start < 8 * LP_NS_PER_MS);
	lp_loop_del(l);
}

static void test_cancel_and_rearm(void **state)
{
	struct lp_loop *l;
	struct lp_loop_timer t[3];
	struct tctx c[3];
	struct rec r;
	uint64_t base;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(lp_loop_new(&l), 0);
	base = lp_now_ns();
	for (int i = 0; i < 3; i++) {
		c[i].r = &r;
		c[i].id = i;
		lp_loop_timer_init(&t[i], rec_timer, &c[i]);
		assert_int_equal(
		        lp_loop_timer_arm(l, &t[i], base + (uint64_t)(i + 1) * LP_NS_PER_MS), 0);
	}
	lp_loop_timer_cancel(l, &t[0]);
	lp_loop_timer_cancel(l, &t[0]); /* second cancel is a no-op */
	assert_false(lp_loop_timer_armed(&t[0]));
	/* Re-arm t[1] later than t[2]. */
	assert_int_equal(lp_loop_timer_arm(l, &t[1], base + 6 * LP_NS_PER_MS), 0);
	assert_int_equal(lp_loop_timer_count(l), 2);
	assert_int_equal(run_until(l, &r, 2, LP_NS_PER_SEC), 2);
	assert_int_equal(r.order[0], 2);
	assert_int_equal(r.order[1], 1);
	assert_true(r.fired_at[1] >= base + 6 * LP_NS_PER_MS);
	/* Nothing else fires (t[0] was cancelled). */
	assert_int_equal(lp_loop_run_once(l, 3 * LP_NS_PER_MS), 0);
	assert_int_equal(r.n, 2);
	lp_loop_del(l);
}

/* A big pseudo-random heap fires in deadline order, also after cancels. */
static uint64_t g_prev_deadline;
static int g_heap_fired;

static void heap_cb(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	(void)l;
	(void)arg;
	assert_true(t->deadline >= g_prev_deadline);
	g_prev_deadline = t->deadline;
	g_heap_fired++;
}

static void test_heap_many(void **state)
{
	enum { N = 300 };
	static struct lp_loop_timer t[N];
	struct lp_loop *l;
	uint64_t base;
	uint32_t x = 12345;

	(void)state;
	g_prev_deadline = 0;
	g_heap_fired = 0;
	assert_int_equal(lp_loop_new(&l), 0);
	base = lp_now_ns() - LP_NS_PER_SEC; /* all in the past: fire at once */
	for (int i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		lp_loop_timer_init(&t[i], heap_cb, NULL);
		assert_int_equal(lp_loop_timer_arm(l, &t[i], base + (x >> 8) % 100000), 0);
	}
	for (int i = 0; i < N; i += 3)
		lp_loop_timer_cancel(l, &t[i]);
	/* Re-arm a few in place to other deadlines. */
	for (int i = 1; i < N; i += 7)
		if (i % 3 != 0)
			assert_int_equal(lp_loop_timer_arm(l, &t[i], base + (uint64_t)i * 300), 0);
	assert_int_equal(lp_loop_timer_count(l), N - N / 3);
	assert_int_equal(lp_loop_run_once(l, 0), N - N / 3);
	assert_int_equal(g_heap_fired, N - N / 3);
	assert_int_equal(lp_loop_timer_count(l), 0);
	for (int i = 0; i < N; i++)
		assert_false(lp_loop_timer_armed(&t[i]));
	lp_loop_del(l);
}

struct self_rearm {
	int count;
	int fd_seen;
};

static void rearm_cb(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct self_rearm *s = arg;

	s->count++;
	/* In the past: must not fire again within the same iteration. */
	assert_int_equal(lp_loop_timer_arm(l, t, 0), 0);
}

static void fd_seen_cb(struct lp_loop *l, intptr_t fd, unsigned events, void *arg)
{
	struct self_rearm *s = arg;
	char b[8];

	(void)l;
	assert_true(events & LP_LOOP_READ);
	assert_true(read(fd, b, sizeof(b)) > 0);
	s->fd_seen++;
}

static void test_self_rearm_no_starvation(void **state)
{
	struct lp_loop *l;
	struct lp_loop_timer t;
	struct self_rearm s = { 0, 0 };
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(lp_loop_new(&l), 0);
	assert_int_equal(lp_loop_watch(l, p[0], LP_LOOP_READ, fd_seen_cb, &s), 0);
	lp_loop_timer_init(&t, rearm_cb, &s);
	assert_int_equal(lp_loop_timer_arm(l, &t, 0), 0);
	assert_int_equal(lp_loop_run_once(l, 0), 1);
	assert_int_equal(s.count, 1);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(lp_loop_run_once(l, 0), 2);
	assert_int_equal(s.count, 2);
	assert_int_equal(s.fd_seen, 1);
	lp_loop_timer_cancel(l, &t);
	lp_loop_del(l);
	close(p[0]);
	close(p[1]);
}

struct fdctx {
	int reads, writes;
	int other_fd;
	struct lp_loop *l;
};

static void rw_cb(struct lp_loop *l, intptr_t fd, unsigned events, void *arg)
{
	struct fdctx *f = arg;
	char b[64];

	(void)l;
	if (events & LP_LOOP_READ) {
		assert_true(read(fd, b, sizeof(b)) > 0);
		f->reads++;
	}
	if (events & LP_LOOP_WRITE)
		f->writes++;
}

static void test_fd_readiness(void **state)
{
	struct lp_loop *l;
	struct fdctx f;
	int p[2];

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(pipe(p), 0);
	assert_int_equal(lp_loop_new(&l), 0);
	assert_int_equal(lp_loop_watch(l, p[0], LP_LOOP_READ, rw_cb, &f), 0);
	/* Double add and bad arguments are refused. */
	assert_int_equal(lp_loop_watch(l, p[0], LP_LOOP_READ, rw_cb, &f), LP_ERR_INVAL);
	assert_int_equal(lp_loop_watch(l, -1, LP_LOOP_READ, rw_cb, &f), LP_ERR_INVAL);
	assert_int_equal(lp_loop_watch(l, p[1], 0, rw_cb, &f), LP_ERR_INVAL);
	assert_int_equal(lp_loop_watch_mod(l, 999, LP_LOOP_READ), LP_ERR_NOT_FOUND);

	/* Not readable yet: times out with nothing run. */
	assert_int_equal(lp_loop_run_once(l, 2 * LP_NS_PER_MS), 0);
	assert_int_equal(f.reads, 0);
	assert_int_equal(write(p[1], "hello", 5), 5);
	assert_int_equal(lp_loop_run_once(l, LP_NS_PER_SEC), 1);
	assert_int_equal(f.reads, 1);

	/* Writable end. */
	assert_int_equal(lp_loop_watch(l, p[1], LP_LOOP_WRITE, rw_cb, &f), 0);
	assert_int_equal(lp_loop_run_once(l, LP_NS_PER_SEC), 1);
	assert_int_equal(f.writes, 1);
	/* Paused: no more write events. */
	assert_int_equal(lp_loop_watch_mod(l, p[1], 0), 0);
	assert_int_equal(lp_loop_run_once(l, 0), 0);
	assert_int_equal(f.writes, 1);
	assert_int_equal(lp_loop_watch_mod(l, p[1], LP_LOOP_WRITE), 0);
	assert_int_equal(lp_loop_run_once(l, 0), 1);
	assert_int_equal(f.writes, 2);

	/* Removed: data pending but no callback. */
	lp_loop_unwatch(l, p[1]);
	lp_loop_unwatch(l, p[0]);
	lp_loop_unwatch(l, p[0]);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(lp_loop_run_once(l, 0), 0);
	assert_int_equal(f.reads, 1);
	lp_loop_del(l);
	close(p[0]);
	close(p[1]);
}

/* The first callback of a batch removes the other fd: its event is dropped. */
static void remover_cb(struct lp_loop *l, intptr_t fd, unsigned events, void *arg)
{
	struct fdctx *f = arg;
	char b[8];

	(void)events;
	assert_true(read(fd, b, sizeof(b)) > 0);
	f->reads++;
	lp_loop_unwatch(l, f->other_fd);
}

static void test_fd_del_in_batch(void **state)
{
	struct lp_loop *l;
	struct fdctx fa, fb;
	int a[2], b[2];

	(void)state;
	memset(&fa, 0, sizeof(fa));
	memset(&fb, 0, sizeof(fb));
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	fa.other_fd = b[0];
	fb.other_fd = a[0];
	assert_int_equal(lp_loop_new(&l), 0);
	assert_int_equal(lp_loop_watch(l, a[0], LP_LOOP_READ, remover_cb, &fa), 0);
	assert_int_equal(lp_loop_watch(l, b[0], LP_LOOP_READ, remover_cb, &fb), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(lp_loop_run_once(l, LP_NS_PER_SEC), 1);
	assert_int_equal(fa.reads + fb.reads, 1);
	lp_loop_del(l);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

static void stop_timer_cb(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	int *n = arg;

	(*n)++;
	if (*n < 3)
		assert_int_equal(lp_loop_timer_arm(l, t, lp_now_ns() + 100000), 0);
	else
		lp_loop_stop(l);
}

static void test_stop(void **state)
{
	struct lp_loop *l;
	struct lp_loop_timer t;
	int n = 0;

	(void)state;
	assert_int_equal(lp_loop_new(&l), 0);
	lp_loop_timer_init(&t, stop_timer_cb, &n);
	assert_int_equal(lp_loop_timer_arm(l, &t, lp_now_ns()), 0);
	assert_int_equal(lp_loop_run(l), 0);
	assert_int_equal(n, 3);
	lp_loop_del(l);
}

static void on_signal(struct lp_loop *l, int signo, void *arg)
{
	int *got = arg;

	*got = signo;
	lp_loop_stop(l);
}

static void test_signalfd(void **state)
{
	struct lp_loop *l;
	int got = 0;

	(void)state;
	assert_int_equal(lp_loop_new(&l), 0);
	assert_int_equal(lp_loop_signal_add(l, SIGUSR1, on_signal, &got), 0);
	assert_int_equal(lp_loop_signal_add(l, SIGUSR1, on_signal, &got), LP_ERR_INVAL);
	assert_int_equal(lp_loop_signal_add(l, 0, on_signal, &got), LP_ERR_INVAL);
	/* Blocked now: raise() only makes it pending; the loop delivers it. */
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(got, 0);
	assert_int_equal(lp_loop_run(l), 0);
	assert_int_equal(got, SIGUSR1);
	lp_loop_del(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_order),
		cmocka_unit_test(test_timer_precision_sub_ms),
		cmocka_unit_test(test_cancel_and_rearm),
		cmocka_unit_test(test_heap_many),
		cmocka_unit_test(test_self_rearm_no_starvation),
		cmocka_unit_test(test_fd_readiness),
		cmocka_unit_test(test_fd_del_in_batch),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_signalfd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
