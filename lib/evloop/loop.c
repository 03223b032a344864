/*
 * loop.c - the platform-neutral half of lp_loop.h: the timer heap (on the
 * lib/base heap), the iteration and stop. The backend (loop_int.h) waits.
 */
#include <stdlib.h>

#include "loop_int.h"

static bool timer_less(const struct lp_heap_entry *a, const struct lp_heap_entry *b)
{
	const struct lp_loop_timer *x = LP_CONTAINER_OF(a, const struct lp_loop_timer, he);
	const struct lp_loop_timer *y = LP_CONTAINER_OF(b, const struct lp_loop_timer, he);

	return x->deadline < y->deadline || (x->deadline == y->deadline && x->seq < y->seq);
}

int lp_loop_new(struct lp_loop **out)
{
	struct lp_loop *l;
	int rc;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return LP_ERR_NOMEM;
	lp_heap_init(&l->timers, timer_less);
	rc = lp_loop_be_new(&l->be);
	if (rc < 0) {
		free(l);
		return rc;
	}
	l->now = lp_now_ns();
	*out = l;
	return 0;
}

void lp_loop_del(struct lp_loop *l)
{
	if (l == NULL)
		return;
	lp_loop_be_del(l->be);
	lp_heap_free(&l->timers);
	free(l);
}

void lp_loop_timer_init(struct lp_loop_timer *t, lp_loop_timer_fn fn, void *arg)
{
	t->he.slot = 0;
	t->deadline = 0;
	t->seq = 0;
	t->fn = fn;
	t->arg = arg;
}

int lp_loop_timer_arm(struct lp_loop *l, struct lp_loop_timer *t, uint64_t deadline_ns)
{
	uint64_t old_deadline = t->deadline, old_seq = t->seq;
	int rc;

	t->deadline = deadline_ns;
	t->seq = l->seq++;
	if (lp_heap_queued(&t->he)) {
		/* Re-arm in place: no allocation, cannot fail. */
		lp_heap_update(&l->timers, &t->he);
		return 0;
	}
	rc = lp_heap_push(&l->timers, &t->he);
	if (rc < 0) {
		t->deadline = old_deadline;
		t->seq = old_seq;
	}
	return rc;
}

void lp_loop_timer_cancel(struct lp_loop *l, struct lp_loop_timer *t)
{
	if (lp_heap_queued(&t->he))
		lp_heap_remove(&l->timers, &t->he);
}

size_t lp_loop_timer_count(const struct lp_loop *l)
{
	return lp_heap_len(&l->timers);
}

void lp_loop_stop(struct lp_loop *l)
{
	l->stop = true;
}

uint64_t lp_loop_now(const struct lp_loop *l)
{
	return l->now;
}

static struct lp_loop_timer *first_timer(const struct lp_loop *l)
{
	struct lp_heap_entry *e = lp_heap_top(&l->timers);

	return e != NULL ? LP_CONTAINER_OF(e, struct lp_loop_timer, he) : NULL;
}

int lp_loop_run_once(struct lp_loop *l, uint64_t max_wait_ns)
{
	struct lp_loop_timer *t = first_timer(l);
	uint64_t deadline = t != NULL ? t->deadline : UINT64_MAX, seq_limit;
	int rc, ran;

	if (max_wait_ns != UINT64_MAX) {
		uint64_t now = lp_now_ns();
		uint64_t lim = now + max_wait_ns < now ? UINT64_MAX : now + max_wait_ns;

		if (lim < deadline)
			deadline = lim;
	}
	rc = lp_loop_be_wait(l, deadline);
	if (rc < 0)
		return rc;
	l->now = lp_now_ns();
	ran = lp_loop_be_dispatch(l);
	/* Timers armed by the timer callbacks below wait for the next round;
	 * those the source callbacks armed may run now. */
	seq_limit = l->seq;
	while ((t = first_timer(l)) != NULL) {
		if (t->deadline > l->now || t->seq >= seq_limit)
			break;
		lp_heap_remove(&l->timers, &t->he);
		t->fn(l, t, t->arg);
		ran++;
	}
	return ran;
}

int lp_loop_run(struct lp_loop *l)
{
	l->stop = false;
	while (!l->stop) {
		int rc = lp_loop_run_once(l, UINT64_MAX);

		if (rc < 0)
			return rc;
	}
	return 0;
}
