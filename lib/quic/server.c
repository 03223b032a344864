/*
 * server.c - accepts QUIC connections and routes packets to them by
 * destination connection ID.
 *
 * No Retry (address validation by token): the relay serves LAN-party
 * clients on loopback / LAN / the open Internet with one small handshake
 * per player, and ngtcp2 enforces the RFC 9000 anti-amplification limit
 * (3x the bytes received) on unvalidated addresses anyway, so a spoofed
 * Initial cannot turn the relay into a large amplifier. A Retry would add
 * one round trip to every join for little gain.
 *
 * Data structures:
 *  - CID map: chained hash table keyed by SipHash-2-4 with a random key
 *    (client-chosen Initial DCIDs are attacker-controlled);
 *  - expiry: binary min-heap of connections by lp_quic_conn_expiry(), so
 *    the nearest deadline is O(1) and only due connections are visited;
 *  - pending: a FIFO of connections that may have something to write.
 */
#include "quic_internal.h"

#include <stdlib.h>
#include <string.h>

struct cid_entry {
	struct cid_entry *next;      /* hash chain */
	struct cid_entry *conn_next; /* the connection's own list */
	struct lp_quic_conn *conn;
	uint8_t len;
	uint8_t cid[NGTCP2_MAX_CIDLEN];
};

struct lp_quic_server {
	struct lp_quic_ctx *ctx;
	struct lp_quic_server_cbs cbs; /* copied: callers may pass stack storage */
	void *user;
	struct cid_entry **buckets;
	size_t nbuckets; /* power of two */
	size_t nentries;
	uint64_t k0, k1;
	struct lp_quic_conn **heap;
	size_t hlen, hcap;
	struct lp_quic_conn *pend_head, *pend_tail;
	struct lp_quic_conn *all;
	size_t nconns;
	uint64_t dropped;
};

/* ---- SipHash-2-4 ----------------------------------------------------------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t siphash(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, end = len - len % 8;

	for (i = 0; i < end; i += 8) {
		m = le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; j < len % 8; j++)
		b |= (uint64_t)in[end + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- CID map ---------------------------------------------------------------- */

static size_t bucket_of(const struct lp_quic_server *s, const uint8_t *cid, size_t len)
{
	return (size_t)siphash(s->k0, s->k1, cid, len) & (s->nbuckets - 1);
}

static struct lp_quic_conn *cid_lookup(const struct lp_quic_server *s, const uint8_t *cid,
                                       size_t len)
{
	for (struct cid_entry *e = s->buckets[bucket_of(s, cid, len)]; e != NULL; e = e->next)
		if (e->len == len && memcmp(e->cid, cid, len) == 0)
			return e->conn;
	return NULL;
}

static void grow_buckets(struct lp_quic_server *s)
{
	size_t n = s->nbuckets * 2;
	struct cid_entry **nb = calloc(n, sizeof(*nb));

	if (nb == NULL)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct cid_entry *e = s->buckets[i], *next;

		for (; e != NULL; e = next) {
			size_t b = (size_t)siphash(s->k0, s->k1, e->cid, e->len) & (n - 1);

			next = e->next;
			e->next = nb[b];
			nb[b] = e;
		}
	}
	free(s->buckets);
	s->buckets = nb;
	s->nbuckets = n;
}

int lp_quic_server_cid_add(struct lp_quic_server *s, struct lp_quic_conn *c, const uint8_t *cid,
                           size_t len)
{
	struct cid_entry *e;
	size_t b;

	if (len == 0 || len > NGTCP2_MAX_CIDLEN)
		return LP_ERR_INVAL;
	if (cid_lookup(s, cid, len) != NULL)
		return LP_ERR_STATE; /* collision: ngtcp2 asks for another one */
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return LP_ERR_NOMEM;
	e->conn = c;
	e->len = (uint8_t)len;
	memcpy(e->cid, cid, len);
	b = bucket_of(s, cid, len);
	e->next = s->buckets[b];
	s->buckets[b] = e;
	e->conn_next = c->cids;
	c->cids = e;
	if (++s->nentries > s->nbuckets)
		grow_buckets(s);
	return 0;
}

static void cid_unlink(struct lp_quic_server *s, struct cid_entry *e)
{
	struct cid_entry **pp = &s->buckets[bucket_of(s, e->cid, e->len)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			s->nentries--;
			return;
		}
	}
}

void lp_quic_server_cid_remove(struct lp_quic_server *s, const uint8_t *cid, size_t len)
{
	struct lp_quic_conn *c = cid_lookup(s, cid, len);
	struct cid_entry **pp;

	if (c == NULL)
		return;
	for (pp = &c->cids; *pp != NULL; pp = &(*pp)->conn_next) {
		struct cid_entry *e = *pp;

		if (e->len == len && memcmp(e->cid, cid, len) == 0) {
			*pp = e->conn_next;
			cid_unlink(s, e);
			free(e);
			return;
		}
	}
}

/* ---- expiry heap ------------------------------------------------------------- */

static void heap_set(struct lp_quic_server *s, size_t i, struct lp_quic_conn *c)
{
	s->heap[i] = c;
	c->heap_slot = i + 1;
}

static void sift_up(struct lp_quic_server *s, size_t i)
{
	struct lp_quic_conn *c = s->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (s->heap[p]->heap_key <= c->heap_key)
			break;
		heap_set(s, i, s->heap[p]);
		i = p;
	}
	heap_set(s, i, c);
}

static void sift_down(struct lp_quic_server *s, size_t i)
{
	struct lp_quic_conn *c = s->heap[i];

	for (;;) {
		size_t k = 2 * i + 1;

		if (k >= s->hlen)
			break;
		if (k + 1 < s->hlen && s->heap[k + 1]->heap_key < s->heap[k]->heap_key)
			k++;
		if (c->heap_key <= s->heap[k]->heap_key)
			break;
		heap_set(s, i, s->heap[k]);
		i = k;
	}
	heap_set(s, i, c);
}

static void heap_remove(struct lp_quic_server *s, struct lp_quic_conn *c)
{
	size_t i;
	struct lp_quic_conn *last;

	if (c->heap_slot == 0)
		return;
	i = c->heap_slot - 1;
	last = s->heap[--s->hlen];
	c->heap_slot = 0;
	if (last == c)
		return;
	heap_set(s, i, last);
	sift_up(s, i);
	sift_down(s, last->heap_slot - 1);
}

void lp_quic_server_reschedule(struct lp_quic_server *s, struct lp_quic_conn *c)
{
	uint64_t key = lp_quic_conn_expiry(c);

	if (c->heap_slot == 0) {
		/* hcap >= max_connections >= live connections. */
		c->heap_key = key;
		s->heap[s->hlen] = c;
		sift_up(s, s->hlen++);
		return;
	}
	if (key == c->heap_key)
		return;
	c->heap_key = key;
	sift_up(s, c->heap_slot - 1);
	sift_down(s, c->heap_slot - 1);
}

/* ---- pending list ------------------------------------------------------------ */

void lp_quic_server_touch(struct lp_quic_server *s, struct lp_quic_conn *c)
{
	if (c->pending == 0) {
		c->pending = 1;
		c->pend_next = NULL;
		c->pend_prev = s->pend_tail;
		if (s->pend_tail != NULL)
			s->pend_tail->pend_next = c;
		else
			s->pend_head = c;
		s->pend_tail = c;
	}
	lp_quic_server_reschedule(s, c);
}

static void pend_unlink(struct lp_quic_server *s, struct lp_quic_conn *c)
{
	if (c->pending != 1)
		return;
	if (c->pend_prev != NULL)
		c->pend_prev->pend_next = c->pend_next;
	else
		s->pend_head = c->pend_next;
	if (c->pend_next != NULL)
		c->pend_next->pend_prev = c->pend_prev;
	else
		s->pend_tail = c->pend_prev;
	c->pending = 0;
	c->pend_next = c->pend_prev = NULL;
}

/* ---- connections -------------------------------------------------------------- */

static void free_conn(struct lp_quic_server *s, struct lp_quic_conn *c)
{
	while (c->cids != NULL) {
		struct cid_entry *e = c->cids;

		c->cids = e->conn_next;
		cid_unlink(s, e);
		free(e);
	}
	heap_remove(s, c);
	pend_unlink(s, c);
	if (c->all_prev != NULL)
		c->all_prev->all_next = c->all_next;
	else if (s->all == c)
		s->all = c->all_next;
	if (c->all_next != NULL)
		c->all_next->all_prev = c->all_prev;
	s->nconns--;
	lp_quic_conn_free(c);
}

int lp_quic_server_new(struct lp_quic_ctx *ctx, const struct lp_quic_server_cbs *cbs, void *user,
                       struct lp_quic_server **out)
{
	struct lp_quic_server *s;
	uint64_t k[2];

	*out = NULL;
	if (!ctx->server)
		return LP_ERR_STATE;
	if (lp_tls_random(k, sizeof(k)) != 0)
		return LP_ERR_TLS;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return LP_ERR_NOMEM;
	s->ctx = ctx;
	if (cbs != NULL)
		s->cbs = *cbs;
	s->user = user;
	s->k0 = k[0];
	s->k1 = k[1];
	s->nbuckets = 256;
	s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
	s->hcap = ctx->max_connections;
	s->heap = calloc(s->hcap, sizeof(*s->heap));
	if (s->buckets == NULL || s->heap == NULL) {
		lp_quic_server_del(s);
		return LP_ERR_NOMEM;
	}
	*out = s;
	return 0;
}

static int accept_new(struct lp_quic_server *s, const struct lp_quic_path *path, const uint8_t *pkt,
                      size_t len, uint64_t now, struct lp_quic_conn **conn_out)
{
	ngtcp2_pkt_hd hd;
	struct lp_quic_conn *c;
	int rv;

	if (ngtcp2_accept(&hd, pkt, len) != 0 || s->nconns >= s->ctx->max_connections) {
		s->dropped++;
		return 0;
	}
	rv = lp_quic_conn_new_server(s->ctx, s, path, &hd, now, &c);
	if (rv != 0) {
		s->dropped++;
		return rv == LP_ERR_NOMEM ? rv : 0;
	}
	c->all_next = s->all;
	if (s->all != NULL)
		s->all->all_prev = c;
	s->all = c;
	s->nconns++;
	if (lp_quic_conn_read(c, path, pkt, len, now) != 0 || c->state != LP_QUIC_HANDSHAKING) {
		/* A bad first Initial: forget it without a word. */
		free_conn(s, c);
		s->dropped++;
		return 0;
	}
	lp_quic_server_touch(s, c);
	if (s->cbs.accept != NULL && s->cbs.accept(s, c, s->user) != 0) {
		lp_quic_conn_set_user(c, NULL, NULL);
		lp_quic_conn_close_transport(c, NGTCP2_CONNECTION_REFUSED);
	} else {
		c->accepted = true;
	}
	*conn_out = c;
	return 0;
}

int lp_quic_server_read(struct lp_quic_server *s, const struct lp_quic_path *path,
                        const uint8_t *pkt, size_t len, uint64_t now,
                        struct lp_quic_conn **conn_out)
{
	ngtcp2_version_cid vc;
	struct lp_quic_conn *c, *dummy;

	if (conn_out == NULL)
		conn_out = &dummy;
	*conn_out = NULL;
	if (len == 0 || ngtcp2_pkt_decode_version_cid(&vc, pkt, len, LP_QUIC_CID_LEN) != 0) {
		/* Includes unsupported versions: no Version Negotiation, the
		 * only clients are our own. */
		s->dropped++;
		return 0;
	}
	c = vc.dcidlen > 0 ? cid_lookup(s, vc.dcid, vc.dcidlen) : NULL;
	if (c == NULL) {
		if ((pkt[0] & 0x80) == 0) {
			s->dropped++; /* short header for no connection of ours */
			return 0;
		}
		return accept_new(s, path, pkt, len, now, conn_out);
	}
	/* LP_ERR_CLOSED is visible in the state; the closed callback ran. */
	if (lp_quic_conn_read(c, path, pkt, len, now) != 0 && c->state == LP_QUIC_CLOSED) {
		free_conn(s, c);
		return 0;
	}
	*conn_out = c;
	return 0;
}

uint64_t lp_quic_server_expiry(const struct lp_quic_server *s)
{
	return s->hlen > 0 ? s->heap[0]->heap_key : UINT64_MAX;
}

void lp_quic_server_handle_expiry(struct lp_quic_server *s, uint64_t now)
{
	struct lp_quic_conn *due = NULL;

	/* Take every due connection off the heap first: a connection whose
	 * deadline stays in the past until it writes must not spin here. */
	while (s->hlen > 0 && s->heap[0]->heap_key <= now) {
		struct lp_quic_conn *c = s->heap[0];

		heap_remove(s, c);
		c->exp_next = due;
		due = c;
	}
	while (due != NULL) {
		struct lp_quic_conn *c = due;

		due = c->exp_next;
		c->exp_next = NULL;
		if (lp_quic_conn_handle_expiry(c, now) != 0 && c->state == LP_QUIC_CLOSED)
			free_conn(s, c);
		else
			lp_quic_server_touch(s, c);
	}
}

void lp_quic_server_foreach_pending(struct lp_quic_server *s,
                                    void (*fn)(struct lp_quic_conn *c, void *arg), void *arg)
{
	struct lp_quic_conn *list = s->pend_head;

	/* Iterate a detached snapshot; connections touched meanwhile go on a
	 * fresh list for the next round (pending == 2 keeps the snapshot's
	 * links intact until each is visited). */
	for (struct lp_quic_conn *c = list; c != NULL; c = c->pend_next)
		c->pending = 2;
	s->pend_head = s->pend_tail = NULL;
	while (list != NULL) {
		struct lp_quic_conn *c = list;

		list = c->pend_next;
		c->pending = 0;
		c->pend_next = c->pend_prev = NULL;
		if (c->state != LP_QUIC_CLOSED)
			fn(c, arg);
		if (c->state == LP_QUIC_CLOSED)
			free_conn(s, c);
	}
}

size_t lp_quic_server_conn_count(const struct lp_quic_server *s)
{
	return s->nconns;
}

uint64_t lp_quic_server_dropped(const struct lp_quic_server *s)
{
	return s->dropped;
}

void lp_quic_server_close_all(struct lp_quic_server *s, uint64_t app_code, const char *reason)
{
	for (struct lp_quic_conn *c = s->all; c != NULL; c = c->all_next)
		lp_quic_conn_close(c, app_code, reason);
}

void lp_quic_server_del(struct lp_quic_server *s)
{
	if (s == NULL)
		return;
	while (s->all != NULL)
		free_conn(s, s->all);
	free(s->buckets);
	free(s->heap);
	free(s);
}
