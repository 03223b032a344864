/*
 * dgq.c - flow-queued DATAGRAMs with CoDel; see dgq.h.
 */
#include <stdlib.h>
#include <string.h>

#include "dgq.h"

#define OVERLAY_HDR 4     /* LP_PROTO_OVERLAY_HDR_LEN */
#define OVERLAY_SEALED 1u /* LP_PROTO_FLAG_SEALED */
#define ETH_HDR 14

struct lp_dgq_item {
	struct lp_dgq_item *next;
	uint64_t ts; /* enqueued */
	uint16_t len;
	uint8_t data[];
};

enum { LIST_NONE, LIST_NEW, LIST_OLD };

struct lp_dgq_flow {
	struct lp_dgq_item *head, *tail;
	struct lp_dgq_flow *next; /* in its list */
	size_t bytes;
	int32_t deficit;
	uint8_t list;
	bool dropping;
	uint32_t drop_count, last_count;
	uint64_t first_above, drop_next;
};

void lp_dgq_init(struct lp_dgq *q, size_t cap, uint64_t k0, uint64_t k1)
{
	memset(q, 0, sizeof(*q));
	q->cap = cap ? cap : 1;
	q->k0 = k0;
	q->k1 = k1;
	q->target_ns = LP_DGQ_TARGET_NS;
	q->interval_ns = LP_DGQ_INTERVAL_NS;
}

void lp_dgq_clear(struct lp_dgq *q)
{
	if (q->flows != NULL) {
		for (size_t i = 0; i < LP_DGQ_FLOWS; i++) {
			struct lp_dgq_item *it = q->flows[i].head;

			while (it != NULL) {
				struct lp_dgq_item *next = it->next;

				free(it);
				it = next;
			}
		}
		free(q->flows);
	}
	q->flows = NULL;
	q->new_head = q->new_tail = q->old_head = q->old_tail = q->cur = NULL;
	q->count = q->bytes = 0;
}

/* ---- Classification ---------------------------------------------------------- */

static size_t put(uint8_t *key, size_t n, const uint8_t *src, size_t len)
{
	memcpy(key + n, src, len);
	return n + len;
}

size_t lp_dgq_flow_key(const uint8_t *data, size_t len, uint8_t key[LP_DGQ_FLOW_KEY_MAX])
{
	const uint8_t *f, *l3;
	size_t flen, off = 12, n = 0;
	unsigned type, proto;

	if (len < OVERLAY_HDR + ETH_HDR) {
		key[0] = 0;
		return 1;
	}
	f = data + OVERLAY_HDR;
	flen = len - OVERLAY_HDR;
	type = (unsigned)f[off] << 8 | f[off + 1];
	for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8) && off + 6 <= flen;
	     tags++) {
		off += 4;
		type = (unsigned)f[off] << 8 | f[off + 1];
	}
	l3 = f + off + 2;
	flen -= off + 2;
	if (!(data[1] & OVERLAY_SEALED)) {
		if (type == 0x0800 && flen >= 20 && (l3[0] >> 4) == 4) {
			size_t ihl = (size_t)(l3[0] & 15) * 4;
			bool frag = (l3[6] & 0x3f) != 0 || l3[7] != 0;

			proto = l3[9];
			key[n++] = 4;
			key[n++] = (uint8_t)proto;
			n = put(key, n, l3 + 12, 8);
			if (!frag && ihl >= 20 && flen >= ihl + 4 && (proto == 6 || proto == 17))
				n = put(key, n, l3 + ihl, 4);
			return n;
		}
		if (type == 0x86dd && flen >= 40 && (l3[0] >> 4) == 6) {
			proto = l3[6];
			key[n++] = 6;
			key[n++] = (uint8_t)proto;
			n = put(key, n, l3 + 8, 32);
			if ((proto == 6 || proto == 17) && flen >= 44)
				n = put(key, n, l3 + 40, 4);
			return n;
		}
	}
	/* Sealed, not IP, or too short: the frame's MACs and EtherType. */
	key[n++] = 2;
	n = put(key, n, f, 12);
	key[n++] = (uint8_t)(type >> 8);
	key[n++] = (uint8_t)type;
	return n;
}

/* ---- Lists ------------------------------------------------------------------- */

static void list_append(struct lp_dgq *q, struct lp_dgq_flow *f, uint8_t which)
{
	struct lp_dgq_flow **head = which == LIST_NEW ? &q->new_head : &q->old_head;
	struct lp_dgq_flow **tail = which == LIST_NEW ? &q->new_tail : &q->old_tail;

	f->next = NULL;
	f->list = which;
	if (*tail != NULL)
		(*tail)->next = f;
	else
		*head = f;
	*tail = f;
}

/* Removes the head of its list (f is it). */
static void list_pop_head(struct lp_dgq *q, struct lp_dgq_flow *f)
{
	struct lp_dgq_flow **head = f->list == LIST_NEW ? &q->new_head : &q->old_head;
	struct lp_dgq_flow **tail = f->list == LIST_NEW ? &q->new_tail : &q->old_tail;

	*head = f->next;
	if (*head == NULL)
		*tail = NULL;
	f->next = NULL;
	f->list = LIST_NONE;
}

/* ---- Queue ------------------------------------------------------------------- */

static struct lp_dgq_item *flow_unlink_head(struct lp_dgq *q, struct lp_dgq_flow *f)
{
	struct lp_dgq_item *it = f->head;

	f->head = it->next;
	if (f->head == NULL)
		f->tail = NULL;
	f->bytes -= it->len;
	q->bytes -= it->len;
	q->count--;
	return it;
}

static void drop_head(struct lp_dgq *q, struct lp_dgq_flow *f, enum lp_dgq_drop why, uint64_t now)
{
	free(flow_unlink_head(q, f));
	q->drops[why]++;
	if (q->count == 0)
		q->empty_since = now ? now : 1;
}

int lp_dgq_push(struct lp_dgq *q, const uint8_t *data, size_t len, uint64_t now)
{
	uint8_t key[LP_DGQ_FLOW_KEY_MAX];
	struct lp_dgq_flow *f;
	struct lp_dgq_item *it;
	size_t klen;

	if (data == NULL || len == 0 || len > UINT16_MAX)
		return LP_ERR_INVAL;
	if (q->flows == NULL) {
		q->flows = calloc(LP_DGQ_FLOWS, sizeof(*q->flows));
		if (q->flows == NULL)
			return LP_ERR_NOMEM;
	}
	klen = lp_dgq_flow_key(data, len, key);
	f = &q->flows[lp_siphash24(q->k0, q->k1, key, klen) % LP_DGQ_FLOWS];
	if (q->count >= q->cap) {
		struct lp_dgq_flow *fat = f;

		for (size_t i = 0; i < LP_DGQ_FLOWS; i++)
			if (q->flows[i].bytes > fat->bytes)
				fat = &q->flows[i];
		if (fat == f) {
			q->drops[LP_DGQ_DROP_FULL]++;
			return LP_ERR_AGAIN;
		}
		drop_head(q, fat, LP_DGQ_DROP_OVERFLOW, now);
	}
	it = malloc(sizeof(*it) + len);
	if (it == NULL)
		return LP_ERR_NOMEM;
	it->next = NULL;
	it->ts = now;
	it->len = (uint16_t)len;
	memcpy(it->data, data, len);
	if (f->tail != NULL)
		f->tail->next = it;
	else
		f->head = it;
	f->tail = it;
	f->bytes += len;
	q->bytes += len;
	q->count++;
	q->empty_since = 0;
	if (f->list == LIST_NONE) {
		f->deficit = (int32_t)LP_DGQ_QUANTUM;
		list_append(q, f, LIST_NEW);
	}
	return 0;
}

/* interval / sqrt(count), in integers. */
static uint64_t control_law(const struct lp_dgq *q, uint64_t t, uint32_t count)
{
	uint64_t r = 1;

	while ((r + 1) * (r + 1) <= count)
		r++;
	return t + q->interval_ns / r;
}

/* CoDel's verdict on f's head at now: may it be dropped? */
static bool head_too_old(struct lp_dgq *q, struct lp_dgq_flow *f, uint64_t now)
{
	uint64_t sojourn = lp_ns_since(now, f->head->ts);

	if (sojourn < q->target_ns || f->bytes <= LP_DGQ_QUANTUM) {
		f->first_above = 0;
		return false;
	}
	if (f->first_above == 0) {
		f->first_above = now + q->interval_ns;
		return false;
	}
	return now >= f->first_above;
}

/* RFC 8289's dequeue on one flow: drops at its head, leaves the head to
 * send (NULL when CoDel emptied the flow). */
static struct lp_dgq_item *codel_head(struct lp_dgq *q, struct lp_dgq_flow *f, uint64_t now)
{
	bool drop;

	if (f->head == NULL) {
		f->dropping = false;
		return NULL;
	}
	drop = head_too_old(q, f, now);
	if (f->dropping) {
		if (!drop) {
			f->dropping = false;
			return f->head;
		}
		while (f->dropping && now >= f->drop_next) {
			drop_head(q, f, LP_DGQ_DROP_CODEL, now);
			f->drop_count++;
			if (f->head == NULL || !head_too_old(q, f, now)) {
				f->dropping = false;
				break;
			}
			f->drop_next = control_law(q, f->drop_next, f->drop_count);
		}
		return f->head;
	}
	if (drop) {
		uint32_t delta = f->drop_count - f->last_count;

		drop_head(q, f, LP_DGQ_DROP_CODEL, now);
		f->dropping = true;
		f->drop_count = delta > 1 && now - f->drop_next < 16 * q->interval_ns ? delta : 1;
		f->last_count = f->drop_count;
		f->drop_next = control_law(q, now, f->drop_count);
	}
	return f->head;
}

uint8_t *lp_dgq_peek(struct lp_dgq *q, size_t *len, uint64_t now)
{
	for (;;) {
		struct lp_dgq_flow *f = q->new_head != NULL ? q->new_head : q->old_head;
		struct lp_dgq_item *it;

		q->cur = NULL;
		if (f == NULL)
			return NULL;
		if (f->deficit <= 0) {
			f->deficit += (int32_t)LP_DGQ_QUANTUM;
			list_pop_head(q, f);
			list_append(q, f, LIST_OLD);
			continue;
		}
		it = codel_head(q, f, now);
		if (it == NULL) {
			/* An emptied new flow goes to the old list once, so a
			 * flow cannot stay "new" by emptying itself each round. */
			uint8_t was = f->list;

			list_pop_head(q, f);
			if (was == LIST_NEW && q->old_head != NULL)
				list_append(q, f, LIST_OLD);
			continue;
		}
		q->cur = f;
		*len = it->len;
		return it->data;
	}
}

void lp_dgq_pop(struct lp_dgq *q, enum lp_dgq_drop why, uint64_t now)
{
	struct lp_dgq_flow *f = q->cur;
	struct lp_dgq_item *it;

	if (f == NULL || f->head == NULL)
		return;
	q->cur = NULL;
	if (why != LP_DGQ_SENT) {
		drop_head(q, f, why, now);
		return;
	}
	it = flow_unlink_head(q, f);
	f->deficit -= it->len;
	free(it);
	if (q->count == 0)
		q->empty_since = now ? now : 1;
}

void lp_dgq_trim(struct lp_dgq *q, uint64_t now)
{
	if (q->flows == NULL || q->count > 0)
		return;
	if (q->empty_since == 0) {
		q->empty_since = now ? now : 1;
		return;
	}
	if (lp_ns_since(now, q->empty_since) >= LP_DGQ_IDLE_NS)
		lp_dgq_clear(q);
}

size_t lp_dgq_mem(const struct lp_dgq *q)
{
	return (q->flows != NULL ? LP_DGQ_FLOWS * sizeof(*q->flows) : 0) + q->bytes +
	       q->count * sizeof(struct lp_dgq_item);
}
