/*
 * heap.c - the binary min-heap of lp_base.h. Entries hold their own index
 * (slot = index + 1), so removal and re-keying need no search.
 */
#include <stdlib.h>

#include "lp_base.h"

static void set(struct lp_heap *h, size_t i, struct lp_heap_entry *e)
{
	h->q[i] = e;
	e->slot = i + 1;
}

static void sift_up(struct lp_heap *h, size_t i)
{
	struct lp_heap_entry *e = h->q[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!h->less(e, h->q[p]))
			break;
		set(h, i, h->q[p]);
		i = p;
	}
	set(h, i, e);
}

static void sift_down(struct lp_heap *h, size_t i)
{
	struct lp_heap_entry *e = h->q[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->len)
			break;
		if (c + 1 < h->len && h->less(h->q[c + 1], h->q[c]))
			c++;
		if (!h->less(h->q[c], e))
			break;
		set(h, i, h->q[c]);
		i = c;
	}
	set(h, i, e);
}

void lp_heap_init(struct lp_heap *h, lp_heap_less_fn less)
{
	h->q = NULL;
	h->len = h->cap = 0;
	h->less = less;
}

void lp_heap_free(struct lp_heap *h)
{
	if (h == NULL)
		return;
	free(h->q);
	h->q = NULL;
	h->len = h->cap = 0;
}

int lp_heap_reserve(struct lp_heap *h, size_t n)
{
	struct lp_heap_entry **nq;
	size_t ncap = h->cap ? h->cap : 16;

	if (n <= h->cap)
		return 0;
	while (ncap < n) {
		if (ncap > SIZE_MAX / 2 / sizeof(*nq))
			return LP_ERR_NOMEM;
		ncap *= 2;
	}
	nq = realloc(h->q, ncap * sizeof(*nq));
	if (nq == NULL)
		return LP_ERR_NOMEM;
	h->q = nq;
	h->cap = ncap;
	return 0;
}

int lp_heap_push(struct lp_heap *h, struct lp_heap_entry *e)
{
	int rc;

	if (h->len == h->cap && (rc = lp_heap_reserve(h, h->len + 1)) < 0)
		return rc;
	h->q[h->len] = e;
	sift_up(h, h->len++);
	return 0;
}

void lp_heap_remove(struct lp_heap *h, struct lp_heap_entry *e)
{
	size_t i = e->slot - 1;
	struct lp_heap_entry *last = h->q[--h->len];

	e->slot = 0;
	if (last == e)
		return;
	set(h, i, last);
	lp_heap_update(h, last);
}

void lp_heap_update(struct lp_heap *h, struct lp_heap_entry *e)
{
	size_t i = e->slot - 1;

	if (i > 0 && h->less(e, h->q[(i - 1) / 2]))
		sift_up(h, i);
	else
		sift_down(h, i);
}
