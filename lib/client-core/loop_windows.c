/*
 * loop_windows.c - the Windows event loop of lp_winloop.h:
 * WaitForMultipleObjects over the watched handles, timeout = the nearest
 * timer deadline in milliseconds rounded up.
 *
 * Timers are an unsorted list: the client arms a handful (session expiry,
 * reconnect, status, route check), so a linear scan beats a heap here.
 */
#include "lp_winloop.h"

#include <stdlib.h>
#include <string.h>

struct watcher {
	HANDLE h;
	lp_loop_handle_fn fn;
	void *arg;
	uint64_t gen; /* changes when the slot is reused: stale snapshots skip it */
	bool live;
};

struct lp_loop {
	struct watcher w[LP_LOOP_HANDLES_MAX];
	size_t nw; /* slots in use, live or waiting for compaction */
	uint64_t next_gen;
	struct lp_loop_timer *timers;
	uint64_t seq;
	uint64_t now;
	bool stop;
	bool dispatching; /* removed watchers are compacted only between iterations */
};

int lp_loop_new(struct lp_loop **out)
{
	struct lp_loop *l;

	if (out == NULL)
		return LP_ERR_INVAL;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return LP_ERR_NOMEM;
	l->now = lp_now_ns();
	*out = l;
	return 0;
}

void lp_loop_del(struct lp_loop *l)
{
	free(l);
}

static void compact(struct lp_loop *l)
{
	size_t i, j = 0;

	for (i = 0; i < l->nw; i++)
		if (l->w[i].live)
			l->w[j++] = l->w[i];
	l->nw = j;
}

int lp_loop_handle_add(struct lp_loop *l, HANDLE h, lp_loop_handle_fn fn, void *arg)
{
	size_t i;

	if (h == NULL || h == INVALID_HANDLE_VALUE || fn == NULL)
		return LP_ERR_INVAL;
	for (i = 0; i < l->nw; i++)
		if (l->w[i].live && l->w[i].h == h)
			return LP_ERR_INVAL;
	if (l->nw == LP_LOOP_HANDLES_MAX && !l->dispatching)
		compact(l);
	if (l->nw == LP_LOOP_HANDLES_MAX)
		return LP_ERR_NOBUF;
	l->w[l->nw].h = h;
	l->w[l->nw].fn = fn;
	l->w[l->nw].arg = arg;
	l->w[l->nw].gen = ++l->next_gen;
	l->w[l->nw].live = true;
	l->nw++;
	return 0;
}

void lp_loop_handle_del(struct lp_loop *l, HANDLE h)
{
	size_t i;

	for (i = 0; i < l->nw; i++) {
		if (l->w[i].live && l->w[i].h == h) {
			l->w[i].live = false;
			break;
		}
	}
	if (!l->dispatching)
		compact(l);
}

void lp_loop_timer_init(struct lp_loop_timer *t, lp_loop_timer_fn fn, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
}

void lp_loop_timer_cancel(struct lp_loop *l, struct lp_loop_timer *t)
{
	struct lp_loop_timer **p;

	if (!t->armed)
		return;
	for (p = &l->timers; *p != NULL; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	t->armed = false;
	t->next = NULL;
}

void lp_loop_timer_arm(struct lp_loop *l, struct lp_loop_timer *t, uint64_t deadline_ns)
{
	lp_loop_timer_cancel(l, t);
	t->deadline = deadline_ns;
	t->seq = ++l->seq;
	t->armed = true;
	t->next = l->timers;
	l->timers = t;
}

void lp_loop_stop(struct lp_loop *l)
{
	l->stop = true;
}

uint64_t lp_loop_now(const struct lp_loop *l)
{
	return l->now;
}

DWORD lp_loop_wait_ms(uint64_t ns_left)
{
	uint64_t ms = ns_left / LP_NS_PER_MS + (ns_left % LP_NS_PER_MS != 0);

	/* INFINITE is 0xffffffff; stay one below so a far deadline still ends. */
	return ms >= INFINITE ? INFINITE - 1 : (DWORD)ms;
}

static uint64_t earliest(const struct lp_loop *l)
{
	const struct lp_loop_timer *t;
	uint64_t e = UINT64_MAX;

	for (t = l->timers; t != NULL; t = t->next)
		if (t->deadline < e)
			e = t->deadline;
	return e;
}

/* The earliest timer due at now armed before this iteration (seq <= max_seq). */
static struct lp_loop_timer *next_due(const struct lp_loop *l, uint64_t now, uint64_t max_seq)
{
	struct lp_loop_timer *t, *best = NULL;

	for (t = l->timers; t != NULL; t = t->next) {
		if (t->deadline > now || t->seq > max_seq)
			continue;
		if (best == NULL || t->deadline < best->deadline ||
		    (t->deadline == best->deadline && t->seq < best->seq))
			best = t;
	}
	return best;
}

/* Runs the callback of snapshot entry i if its watcher still exists. */
static int dispatch(struct lp_loop *l, const HANDLE *hs, const uint64_t *gens, size_t i)
{
	size_t k;

	for (k = 0; k < l->nw; k++) {
		struct watcher *w = &l->w[k];

		if (w->live && w->h == hs[i] && w->gen == gens[i]) {
			w->fn(l, w->h, w->arg);
			return 1;
		}
	}
	return 0;
}

int lp_loop_run_once(struct lp_loop *l, uint64_t max_wait_ns)
{
	HANDLE hs[LP_LOOP_HANDLES_MAX];
	uint64_t gens[LP_LOOP_HANDLES_MAX];
	uint64_t now, due, wait_ns, max_seq;
	struct lp_loop_timer *t;
	DWORD ms, r, n = 0;
	size_t i, first;
	int ran = 0;

	compact(l);
	for (i = 0; i < l->nw; i++) {
		hs[n] = l->w[i].h;
		gens[n] = l->w[i].gen;
		n++;
	}
	now = lp_now_ns();
	due = earliest(l);
	wait_ns = due == UINT64_MAX ? UINT64_MAX : due <= now ? 0 : due - now;
	if (max_wait_ns < wait_ns)
		wait_ns = max_wait_ns;
	ms = wait_ns == UINT64_MAX ? INFINITE : lp_loop_wait_ms(wait_ns);

	if (n == 0) {
		if (ms == INFINITE)
			return LP_ERR_INVAL; /* nothing could ever wake us */
		Sleep(ms);
		r = WAIT_TIMEOUT;
	} else {
		r = WaitForMultipleObjects(n, hs, FALSE, ms);
		if (r == WAIT_FAILED)
			return LP_ERR_IO;
	}
	l->now = lp_now_ns();
	max_seq = l->seq;

	l->dispatching = true;
	/* WAIT_OBJECT_0 is 0: r < n means "handle r was signaled". */
	if (r < WAIT_OBJECT_0 + n) {
		first = (size_t)(r - WAIT_OBJECT_0);
		ran += dispatch(l, hs, gens, first);
		/* WaitForMultipleObjects names only the lowest signaled index: poll
		 * the rest so a busy handle early in the array cannot starve them. */
		for (i = first + 1; i < n; i++)
			if (WaitForSingleObject(hs[i], 0) == WAIT_OBJECT_0)
				ran += dispatch(l, hs, gens, i);
	}
	/* Timers armed by the callbacks above (seq > max_seq) wait for the next
	 * iteration, so a timer re-arming itself in the past cannot starve handles. */
	while ((t = next_due(l, l->now, max_seq)) != NULL) {
		lp_loop_timer_cancel(l, t);
		t->fn(l, t, t->arg);
		ran++;
	}
	l->dispatching = false;
	compact(l);
	return ran;
}

int lp_loop_run(struct lp_loop *l)
{
	int rc;

	l->stop = false;
	while (!l->stop) {
		rc = lp_loop_run_once(l, UINT64_MAX);
		if (rc < 0)
			return LP_ERR_IO;
	}
	return 0;
}
