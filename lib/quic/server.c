/*
 * server.c - accepts QUIC connections and routes packets to them by
 * destination connection ID.
 *
 * Retry (address validation by token, RFC 9000 8.1) only under load: while
 * fewer than ctx->retry_pending connections are handshaking, an Initial
 * gets a connection at once (one round trip less per join; ngtcp2's
 * anti-amplification limit bounds what a spoofed source gets back). Above
 * it, an Initial without a token gets a stateless Retry (a token sealed
 * with ctx->retry_secret over the client's address, both CIDs and the time)
 * queued for the owner to send, and no state: a flood of Initials from
 * sources that do not answer Retry costs one AEAD seal each. An Initial
 * with a token is accepted only if the token verifies.
 *
 * Each connection has a struct srv_conn here: the owner its hooks reach
 * (struct lp_quic_conn_hooks), so a connection tells the server about new
 * connection IDs and work to do without knowing the server's structures:
 *  - CID map: chained hash table keyed by SipHash-2-4 with a random key
 *    (client-chosen Initial DCIDs are attacker-controlled);
 *  - expiry: the lib/base heap of connections by lp_quic_conn_expiry(),
 *    reserved for max_connections, so the nearest deadline is O(1), only
 *    due connections are visited and rescheduling never allocates;
 *  - pending: a FIFO (lib/base list) of connections that may have
 *    something to write;
 *  - all: every connection, for close_all and del.
 *
 * Admission happens in accept_new(): ngtcp2_accept() checks the packet is
 * a client Initial, the max_connections cap applies, then the first packet
 * is read; anything wrong is dropped and counted, never answered.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "quic_internal.h"

struct srv_conn;

struct cid_entry {
	struct cid_entry *next;      /* hash chain */
	struct cid_entry *conn_next; /* the connection's own list */
	struct srv_conn *sc;
	uint8_t len;
	uint8_t cid[NGTCP2_MAX_CIDLEN];
};

/* The server's side of one connection (the owner of its hooks). */
struct srv_conn {
	struct lp_quic_server *s;
	struct lp_quic_conn *c;
	struct lp_heap_entry he;   /* in s->expiry, by key */
	uint64_t key;              /* lp_quic_conn_expiry() when last queued */
	struct lp_list_node pend;  /* on s->pending, or a foreach snapshot */
	struct lp_list_node all;   /* on s->all */
	struct srv_conn *due_next; /* handle_expiry's due list */
	struct cid_entry *cids;
	bool handshaking; /* counted in s->nhandshaking and src_pending[src] */
	size_t src;       /* source bucket */
};

#define SRC_BUCKETS 4096
#define STATELESS_MAX 16
#define STATELESS_LEN 256
/* How long a Retry token is good for: a round trip and a retransmission. */
#define RETRY_TOKEN_TIMEOUT_NS (10 * LP_NS_PER_SEC)

struct stateless_pkt {
	struct lp_quic_path path;
	size_t len;
	uint8_t buf[STATELESS_LEN];
};

struct lp_quic_server {
	struct lp_quic_ctx *ctx;
	struct lp_quic_server_cbs cbs; /* copied: callers may pass stack storage */
	void *user;
	struct cid_entry **buckets;
	size_t nbuckets; /* power of two */
	size_t nentries;
	uint64_t k0, k1;
	struct lp_heap expiry;
	struct lp_list pending;
	struct lp_list all;
	size_t nconns;
	size_t nhandshaking;
	uint64_t dropped;
	uint64_t retries;
	uint64_t bad_tokens;
	uint64_t source_capped;
	uint16_t src_pending[SRC_BUCKETS];
	uint16_t src_conns[SRC_BUCKETS];
	struct stateless_pkt tx[STATELESS_MAX];
	size_t tx_head, tx_count;
};

#define SC_OF(node, member) LP_CONTAINER_OF(node, struct srv_conn, member)

/* ---- CID map ---------------------------------------------------------------- */

static size_t bucket_of(const struct lp_quic_server *s, const uint8_t *cid, size_t len)
{
	return (size_t)lp_siphash24(s->k0, s->k1, cid, len) & (s->nbuckets - 1);
}

static struct srv_conn *cid_lookup(const struct lp_quic_server *s, const uint8_t *cid, size_t len)
{
	for (struct cid_entry *e = s->buckets[bucket_of(s, cid, len)]; e != NULL; e = e->next)
		if (e->len == len && memcmp(e->cid, cid, len) == 0)
			return e->sc;
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
			size_t b = (size_t)lp_siphash24(s->k0, s->k1, e->cid, e->len) & (n - 1);

			next = e->next;
			e->next = nb[b];
			nb[b] = e;
		}
	}
	free(s->buckets);
	s->buckets = nb;
	s->nbuckets = n;
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

static int hook_cid_add(void *owner, const uint8_t *cid, size_t len)
{
	struct srv_conn *sc = owner;
	struct lp_quic_server *s = sc->s;
	struct cid_entry *e;
	size_t b;

	if (len == 0 || len > NGTCP2_MAX_CIDLEN)
		return LP_ERR_INVAL;
	if (cid_lookup(s, cid, len) != NULL)
		return LP_ERR_STATE; /* collision: ngtcp2 asks for another one */
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return LP_ERR_NOMEM;
	e->sc = sc;
	e->len = (uint8_t)len;
	memcpy(e->cid, cid, len);
	b = bucket_of(s, cid, len);
	e->next = s->buckets[b];
	s->buckets[b] = e;
	e->conn_next = sc->cids;
	sc->cids = e;
	if (++s->nentries > s->nbuckets)
		grow_buckets(s);
	return 0;
}

static void hook_cid_remove(void *owner, const uint8_t *cid, size_t len)
{
	struct srv_conn *sc = owner;
	struct cid_entry **pp;

	for (pp = &sc->cids; *pp != NULL; pp = &(*pp)->conn_next) {
		struct cid_entry *e = *pp;

		if (e->len == len && memcmp(e->cid, cid, len) == 0) {
			*pp = e->conn_next;
			cid_unlink(sc->s, e);
			free(e);
			return;
		}
	}
}

/* ---- expiry heap and pending list -------------------------------------------- */

static bool key_less(const struct lp_heap_entry *a, const struct lp_heap_entry *b)
{
	return SC_OF(a, he)->key < SC_OF(b, he)->key;
}

static void hook_reschedule(void *owner)
{
	struct srv_conn *sc = owner;
	uint64_t key = lp_quic_conn_expiry(sc->c);
	int rc;

	if (lp_heap_queued(&sc->he)) {
		if (key != sc->key) {
			sc->key = key;
			lp_heap_update(&sc->s->expiry, &sc->he);
		}
		return;
	}
	sc->key = key;
	/* Reserved for max_connections >= live connections: cannot fail. */
	rc = lp_heap_push(&sc->s->expiry, &sc->he);
	assert(rc == 0);
	(void)rc;
}

static void hook_touch(void *owner)
{
	struct srv_conn *sc = owner;

	/* Already pending (maybe on a foreach snapshot): stays where it is. */
	if (!lp_list_linked(&sc->pend))
		lp_list_insert_tail(&sc->s->pending, &sc->pend);
	hook_reschedule(sc);
}

static const struct lp_quic_conn_hooks srv_hooks = {
	.cid_add = hook_cid_add,
	.cid_remove = hook_cid_remove,
	.touch = hook_touch,
	.reschedule = hook_reschedule,
};

/* ---- connections -------------------------------------------------------------- */

/* Keeps the handshake counts in step once sc's connection left its
 * handshake. */
static void hs_update(struct lp_quic_server *s, struct srv_conn *sc)
{
	if (sc->handshaking && lp_quic_conn_state(sc->c) != LP_QUIC_HANDSHAKING) {
		sc->handshaking = false;
		s->nhandshaking--;
		s->src_pending[sc->src]--;
	}
}

/* The bucket of a source address: IPv4 /32, IPv6 /64 (one subscriber's
 * prefix), keyed so a stranger cannot aim at another source's bucket. */
static size_t src_bucket(const struct lp_quic_server *s, const struct sockaddr_storage *a)
{
	uint8_t key[9];
	size_t n;

	if (a->ss_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, &((const struct sockaddr_in6 *)a)->sin6_addr, 8);
		n = 9;
	} else {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)a)->sin_addr, 4);
		n = 5;
	}
	/* The CID map's key, with a different input domain (first byte). */
	return (size_t)lp_siphash24(s->k1, s->k0, key, n) % SRC_BUCKETS;
}

/* Forgets sc and frees its connection (no packet is sent). */
static void free_conn(struct lp_quic_server *s, struct srv_conn *sc)
{
	if (sc->handshaking) {
		sc->handshaking = false;
		s->nhandshaking--;
		s->src_pending[sc->src]--;
	}
	while (sc->cids != NULL) {
		struct cid_entry *e = sc->cids;

		sc->cids = e->conn_next;
		cid_unlink(s, e);
		free(e);
	}
	if (lp_heap_queued(&sc->he))
		lp_heap_remove(&s->expiry, &sc->he);
	if (lp_list_linked(&sc->pend))
		lp_list_remove(&sc->pend);
	if (lp_list_linked(&sc->all)) {
		lp_list_remove(&sc->all);
		s->nconns--;
		s->src_conns[sc->src]--;
	}
	lp_quic_conn_free(sc->c);
	free(sc);
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
	lp_heap_init(&s->expiry, key_less);
	lp_list_init(&s->pending);
	lp_list_init(&s->all);
	s->nbuckets = 256;
	s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
	if (s->buckets == NULL || lp_heap_reserve(&s->expiry, ctx->max_connections) != 0) {
		lp_quic_server_del(s);
		return LP_ERR_NOMEM;
	}
	*out = s;
	return 0;
}

static ngtcp2_socklen addr_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? (ngtcp2_socklen)sizeof(struct sockaddr_in6)
	                                : (ngtcp2_socklen)sizeof(struct sockaddr_in);
}

/* Queues a Retry for hd's Initial (no state kept). */
static void queue_retry(struct lp_quic_server *s, const struct lp_quic_path *path,
                        const ngtcp2_pkt_hd *hd, uint64_t now)
{
	uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN];
	struct stateless_pkt *p;
	ngtcp2_ssize tlen, n;
	ngtcp2_cid scid;

	if (s->tx_count == STATELESS_MAX) {
		s->dropped++; /* the client resends its Initial */
		return;
	}
	scid.datalen = LP_QUIC_CID_LEN;
	/* ngtcp2_pkt_write_retry asserts scid != odcid; the client picks the
	 * odcid, so a guess of our random CID must not abort us. */
	if (lp_tls_random(scid.data, scid.datalen) != 0 || ngtcp2_cid_eq(&scid, &hd->dcid)) {
		s->dropped++;
		return;
	}
	tlen = ngtcp2_crypto_generate_retry_token(token, s->ctx->retry_secret,
	                                          sizeof(s->ctx->retry_secret), hd->version,
	                                          (const ngtcp2_sockaddr *)&path->remote,
	                                          addr_len(&path->remote), &scid, &hd->dcid, now);
	p = &s->tx[(s->tx_head + s->tx_count) % STATELESS_MAX];
	n = tlen <= 0 ? -1
	              : ngtcp2_crypto_write_retry(p->buf, sizeof(p->buf), hd->version, &hd->scid,
	                                          &scid, &hd->dcid, token, (size_t)tlen);
	if (n <= 0) {
		s->dropped++;
		return;
	}
	p->len = (size_t)n;
	p->path = *path;
	s->tx_count++;
	s->retries++;
}

static int accept_new(struct lp_quic_server *s, const struct lp_quic_path *path, const uint8_t *pkt,
                      size_t len, uint64_t now, struct lp_quic_conn **conn_out)
{
	ngtcp2_pkt_hd hd;
	ngtcp2_cid odcid;
	const ngtcp2_cid *podcid = NULL;
	struct srv_conn *sc;
	size_t src;
	int rv;

	if (ngtcp2_accept(&hd, pkt, len) != 0 || s->nconns >= s->ctx->max_connections) {
		s->dropped++;
		return 0;
	}
	src = src_bucket(s, &path->remote);
	if (hd.type == NGTCP2_PKT_INITIAL && hd.token.len > 0) {
		/* We issue no NEW_TOKEN: any token must be one of our Retries. */
		if (ngtcp2_crypto_verify_retry_token(
		            &odcid, hd.token.base, hd.token.len, s->ctx->retry_secret,
		            sizeof(s->ctx->retry_secret), hd.version,
		            (const ngtcp2_sockaddr *)&path->remote, addr_len(&path->remote),
		            &hd.dcid, RETRY_TOKEN_TIMEOUT_NS, now) != 0) {
			s->bad_tokens++;
			s->dropped++;
			return 0;
		}
		podcid = &odcid;
	} else if ((s->ctx->retry_pending != 0 && s->nhandshaking >= s->ctx->retry_pending) ||
	           (s->ctx->pending_per_source != 0 &&
	            s->src_pending[src] >= s->ctx->pending_per_source)) {
		/* Under load, or from a source with many handshakes in flight:
		 * prove the address first (a stateless answer). */
		queue_retry(s, path, &hd, now);
		return 0;
	}
	if ((s->ctx->conns_per_source != 0 && s->src_conns[src] >= s->ctx->conns_per_source) ||
	    s->src_conns[src] == UINT16_MAX || s->src_pending[src] == UINT16_MAX) {
		s->source_capped++;
		s->dropped++;
		return 0;
	}
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return LP_ERR_NOMEM;
	sc->s = s;
	sc->src = src;
	rv = lp_quic_conn_new_server(s->ctx, &srv_hooks, sc, path, &hd, podcid, now, &sc->c);
	if (rv != 0) {
		free_conn(s, sc); /* the CIDs routed before the failure go too */
		s->dropped++;
		return rv == LP_ERR_NOMEM ? rv : 0;
	}
	lp_list_insert_tail(&s->all, &sc->all);
	s->nconns++;
	s->src_conns[src]++;
	sc->handshaking = true;
	s->nhandshaking++;
	s->src_pending[src]++;
	if (lp_quic_conn_read(sc->c, path, pkt, len, now) != 0 ||
	    lp_quic_conn_state(sc->c) != LP_QUIC_HANDSHAKING) {
		/* A bad first Initial: forget it without a word. */
		free_conn(s, sc);
		s->dropped++;
		return 0;
	}
	hook_touch(sc);
	if (s->cbs.accept != NULL && s->cbs.accept(s, sc->c, s->user) != 0) {
		lp_quic_conn_set_user(sc->c, NULL, NULL);
		lp_quic_conn_close_transport(sc->c, NGTCP2_CONNECTION_REFUSED);
	}
	*conn_out = sc->c;
	return 0;
}

int lp_quic_server_read(struct lp_quic_server *s, const struct lp_quic_path *path,
                        const uint8_t *pkt, size_t len, uint64_t now,
                        struct lp_quic_conn **conn_out)
{
	ngtcp2_version_cid vc;
	struct lp_quic_conn *dummy;
	struct srv_conn *sc;

	if (conn_out == NULL)
		conn_out = &dummy;
	*conn_out = NULL;
	if (len == 0 || ngtcp2_pkt_decode_version_cid(&vc, pkt, len, LP_QUIC_CID_LEN) != 0) {
		/* Includes unsupported versions: no Version Negotiation, the
		 * only clients are our own. */
		s->dropped++;
		return 0;
	}
	sc = vc.dcidlen > 0 ? cid_lookup(s, vc.dcid, vc.dcidlen) : NULL;
	if (sc == NULL) {
		if ((pkt[0] & 0x80) == 0) {
			s->dropped++; /* short header for no connection of ours */
			return 0;
		}
		return accept_new(s, path, pkt, len, now, conn_out);
	}
	/* LP_ERR_CLOSED is visible in the state; the closed callback ran. */
	if (lp_quic_conn_read(sc->c, path, pkt, len, now) != 0 &&
	    lp_quic_conn_state(sc->c) == LP_QUIC_CLOSED) {
		free_conn(s, sc);
		return 0;
	}
	hs_update(s, sc);
	*conn_out = sc->c;
	return 0;
}

uint64_t lp_quic_server_expiry(const struct lp_quic_server *s)
{
	const struct lp_heap_entry *top = lp_heap_top(&s->expiry);

	return top != NULL ? SC_OF(top, he)->key : UINT64_MAX;
}

void lp_quic_server_handle_expiry(struct lp_quic_server *s, uint64_t now)
{
	struct srv_conn *due = NULL;
	struct lp_heap_entry *top;

	/* Take every due connection off the heap first: a connection whose
	 * deadline stays in the past until it writes must not spin here. */
	while ((top = lp_heap_top(&s->expiry)) != NULL && SC_OF(top, he)->key <= now) {
		struct srv_conn *sc = SC_OF(top, he);

		lp_heap_remove(&s->expiry, top);
		sc->due_next = due;
		due = sc;
	}
	while (due != NULL) {
		struct srv_conn *sc = due;

		due = sc->due_next;
		sc->due_next = NULL;
		if (lp_quic_conn_handle_expiry(sc->c, now) != 0 &&
		    lp_quic_conn_state(sc->c) == LP_QUIC_CLOSED) {
			free_conn(s, sc);
		} else {
			hs_update(s, sc);
			hook_touch(sc);
		}
	}
}

void lp_quic_server_foreach_pending(struct lp_quic_server *s,
                                    void (*fn)(struct lp_quic_conn *c, void *arg), void *arg)
{
	struct lp_list snap;
	struct lp_list_node *n;

	/* Iterate a detached snapshot: a connection touched while it waits
	 * on the snapshot stays there; one touched after its visit goes on
	 * the fresh list for the next round. */
	lp_list_init(&snap);
	lp_list_splice_tail(&snap, &s->pending);
	while ((n = lp_list_first(&snap)) != NULL) {
		struct srv_conn *sc = SC_OF(n, pend);

		lp_list_remove(n);
		if (lp_quic_conn_state(sc->c) != LP_QUIC_CLOSED)
			fn(sc->c, arg);
		if (lp_quic_conn_state(sc->c) == LP_QUIC_CLOSED)
			free_conn(s, sc);
		else
			hs_update(s, sc);
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

size_t lp_quic_server_handshaking(const struct lp_quic_server *s)
{
	return s->nhandshaking;
}

uint64_t lp_quic_server_retries(const struct lp_quic_server *s)
{
	return s->retries;
}

uint64_t lp_quic_server_bad_tokens(const struct lp_quic_server *s)
{
	return s->bad_tokens;
}

uint64_t lp_quic_server_source_capped(const struct lp_quic_server *s)
{
	return s->source_capped;
}

ssize_t lp_quic_server_stateless_pop(struct lp_quic_server *s, uint8_t *buf, size_t cap,
                                     struct lp_quic_path *path)
{
	struct stateless_pkt *p;

	if (s->tx_count == 0)
		return 0;
	p = &s->tx[s->tx_head];
	s->tx_head = (s->tx_head + 1) % STATELESS_MAX;
	s->tx_count--;
	if (p->len > cap)
		return LP_ERR_NOBUF;
	memcpy(buf, p->buf, p->len);
	*path = p->path;
	return (ssize_t)p->len;
}

void lp_quic_server_close_all(struct lp_quic_server *s, uint64_t app_code, const char *reason)
{
	const struct lp_list_node *n;

	for (n = lp_list_first(&s->all); n != NULL; n = lp_list_next(&s->all, n))
		lp_quic_conn_close(SC_OF(n, all)->c, app_code, reason);
}

void lp_quic_server_del(struct lp_quic_server *s)
{
	struct lp_list_node *n;

	if (s == NULL)
		return;
	while ((n = lp_list_first(&s->all)) != NULL)
		free_conn(s, SC_OF(n, all));
	free(s->buckets);
	lp_heap_free(&s->expiry);
	free(s);
}
