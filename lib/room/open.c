/*
 * open.c - the receiver side of a private room: per sender MAC, the current
 * epoch's cipher and an RFC 6479 replay window; a bounded memory of retired
 * epochs; drops counted by reason.
 *
 * Memory is fixed at creation: `senders` slots (LRU eviction), a hash index
 * over them, and 4 retired entries per slot. Nothing is allocated per frame
 * except a cipher for a frame that claims a new epoch (freed again unless
 * the frame authenticates).
 */
#include "frame_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define WIN_WORDS (LP_ROOM_REPLAY_BITS / 64u)
_Static_assert((WIN_WORDS & (WIN_WORDS - 1)) == 0, "window words: a power of two");
_Static_assert(LP_ROOM_REPLAY_WINDOW == LP_ROOM_REPLAY_BITS - 64u, "RFC 6479: one word spare");
#define FLOOR_ALL UINT64_MAX
#define SENDERS_MAX 65536u

/* RFC 6479 window over counters shifted by one (c1 = counter + 1), so that
 * top == 0 means "nothing seen yet". */
struct window {
	uint64_t top; /* highest c1 accepted */
	uint64_t bits[WIN_WORDS];
};

struct sender {
	uint8_t mac[LP_MAC_LEN];
	uint32_t used;
	uint64_t epoch;
	uint64_t last_use; /* LRU tick */
	struct lp_room_aead *aead;
	struct window win;
};

/* (mac, epoch) that may not come back; counters with c1 <= floor are
 * refused (FLOOR_ALL: the whole epoch). */
struct retired {
	uint8_t mac[LP_MAC_LEN];
	uint8_t used;
	uint64_t epoch;
	uint64_t floor;
};

struct lp_room_opener {
	uint8_t frame_key[LP_ROOM_KEY_LEN];
	uint32_t n_senders;
	uint32_t index_mask;
	uint64_t tick;
	struct sender *senders;
	uint32_t *index; /* open addressing: slot + 1, 0 = empty */
	struct retired *retired;
	size_t n_retired, retired_next;
	uint64_t counts[LP_ROOM_DROP__COUNT];
};

static const char *const drop_names[LP_ROOM_DROP__COUNT] = {
	[LP_ROOM_DROP_NONE] = "none",
	[LP_ROOM_DROP_MALFORMED] = "malformed",
	[LP_ROOM_DROP_UNSEALED] = "unsealed",
	[LP_ROOM_DROP_AUTH] = "auth",
	[LP_ROOM_DROP_REPLAY] = "replay",
	[LP_ROOM_DROP_TOO_OLD] = "too_old",
	[LP_ROOM_DROP_RETIRED_EPOCH] = "retired_epoch",
};

const char *lp_room_drop_name(enum lp_room_drop reason)
{
	if ((unsigned)reason >= LP_ROOM_DROP__COUNT)
		return "unknown";
	return drop_names[reason];
}

/* ---- replay window ------------------------------------------------------ */

/* LP_ROOM_DROP_NONE when c1 may be accepted; nothing changes. */
static enum lp_room_drop window_check(const struct window *w, uint64_t c1)
{
	if (c1 > w->top)
		return LP_ROOM_DROP_NONE;
	if (w->top - c1 > LP_ROOM_REPLAY_WINDOW)
		return LP_ROOM_DROP_TOO_OLD;
	if (w->bits[(c1 >> 6) & (WIN_WORDS - 1)] & (UINT64_C(1) << (c1 & 63)))
		return LP_ROOM_DROP_REPLAY;
	return LP_ROOM_DROP_NONE;
}

/* After the frame authenticated: slide (clearing the words passed over)
 * and mark c1. */
static void window_update(struct window *w, uint64_t c1)
{
	if (c1 > w->top) {
		uint64_t cur = w->top >> 6, next = c1 >> 6, i, n = next - cur;

		if (n > WIN_WORDS)
			n = WIN_WORDS;
		for (i = 1; i <= n; i++)
			w->bits[(cur + i) & (WIN_WORDS - 1)] = 0;
		w->top = c1;
	}
	w->bits[(c1 >> 6) & (WIN_WORDS - 1)] |= UINT64_C(1) << (c1 & 63);
}

/* A window that has seen every c1 <= top (a resumed, evicted sender). */
static void window_fill(struct window *w, uint64_t top)
{
	unsigned b = (unsigned)(top & 63);

	w->top = top;
	memset(w->bits, 0xff, sizeof(w->bits));
	w->bits[(top >> 6) & (WIN_WORDS - 1)] = b == 63 ? UINT64_MAX : (UINT64_C(1) << (b + 1)) - 1;
}

/* ---- sender table -------------------------------------------------------- */

static uint32_t mac_hash(const uint8_t mac[LP_MAC_LEN])
{
	uint64_t k = 0;
	int i;

	for (i = 0; i < LP_MAC_LEN; i++)
		k = k << 8 | mac[i];
	return (uint32_t)((k * UINT64_C(0x9e3779b97f4a7c15)) >> 32);
}

static struct sender *sender_find(struct lp_room_opener *o, const uint8_t mac[LP_MAC_LEN])
{
	uint32_t h = mac_hash(mac) & o->index_mask;

	while (o->index[h] != 0) {
		struct sender *s = &o->senders[o->index[h] - 1];

		if (memcmp(s->mac, mac, LP_MAC_LEN) == 0)
			return s;
		h = (h + 1) & o->index_mask;
	}
	return NULL;
}

static void index_insert(struct lp_room_opener *o, uint32_t slot)
{
	uint32_t h = mac_hash(o->senders[slot].mac) & o->index_mask;

	while (o->index[h] != 0)
		h = (h + 1) & o->index_mask;
	o->index[h] = slot + 1;
}

/* Linear probing deletion by backward shift: later entries of the same
 * probe run move up so lookups never stop at a hole. */
static void index_remove(struct lp_room_opener *o, uint32_t slot)
{
	uint32_t i = mac_hash(o->senders[slot].mac) & o->index_mask, j;

	while (o->index[i] != slot + 1)
		i = (i + 1) & o->index_mask;
	j = i;
	for (;;) {
		uint32_t home;

		j = (j + 1) & o->index_mask;
		if (o->index[j] == 0)
			break;
		home = mac_hash(o->senders[o->index[j] - 1].mac) & o->index_mask;
		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		if ((i <= j) ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		o->index[i] = o->index[j];
		i = j;
	}
	o->index[i] = 0;
}

static void retire(struct lp_room_opener *o, const uint8_t mac[LP_MAC_LEN], uint64_t epoch,
                   uint64_t floor)
{
	struct retired *r = &o->retired[o->retired_next];

	memcpy(r->mac, mac, LP_MAC_LEN);
	r->used = 1;
	r->epoch = epoch;
	r->floor = floor;
	o->retired_next = (o->retired_next + 1) % o->n_retired;
}

/* The newest retirement of (mac, epoch), or NULL. */
static struct retired *retired_find(struct lp_room_opener *o, const uint8_t mac[LP_MAC_LEN],
                                    uint64_t epoch)
{
	size_t k;

	for (k = 1; k <= o->n_retired; k++) {
		struct retired *r =
		        &o->retired[(o->retired_next + o->n_retired - k) % o->n_retired];

		if (r->used && r->epoch == epoch && memcmp(r->mac, mac, LP_MAC_LEN) == 0)
			return r;
	}
	return NULL;
}

/* A free slot, evicting the least recently used sender (its epoch is
 * remembered with its window's top) when all are taken. */
static struct sender *slot_take(struct lp_room_opener *o)
{
	struct sender *victim = NULL;
	uint32_t i;

	for (i = 0; i < o->n_senders; i++) {
		struct sender *s = &o->senders[i];

		if (!s->used)
			return s;
		if (victim == NULL || s->last_use < victim->last_use)
			victim = s;
	}
	assert(victim != NULL); /* n_senders >= 1 */
	retire(o, victim->mac, victim->epoch, victim->win.top);
	index_remove(o, (uint32_t)(victim - o->senders));
	lp_room_crypto_aead_del(victim->aead);
	memset(victim, 0, sizeof(*victim));
	return victim;
}

/* ---- lifecycle ------------------------------------------------------------ */

int lp_room_opener_new(const struct lp_room_keys *k, unsigned senders, struct lp_room_opener **out)
{
	struct lp_room_opener *o = NULL;
	uint32_t isize = 1;
	int rc = LP_ERR_NOMEM;

	if (out == NULL)
		return LP_ERR_INVAL;
	*out = NULL;
	if (k == NULL || senders > SENDERS_MAX)
		return LP_ERR_INVAL;
	if (senders == 0)
		senders = LP_ROOM_OPENER_SENDERS_DEFAULT;
	/* Load factor at most 1/2 keeps probe runs short. */
	while (isize < 2 * senders)
		isize <<= 1;
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		goto out;
	o->n_senders = senders;
	o->index_mask = isize - 1;
	o->n_retired = (size_t)senders * LP_ROOM_RETIRED_PER_SENDER;
	o->senders = calloc(senders, sizeof(*o->senders));
	o->index = calloc(isize, sizeof(*o->index));
	o->retired = calloc(o->n_retired, sizeof(*o->retired));
	if (o->senders == NULL || o->index == NULL || o->retired == NULL)
		goto out;
	memcpy(o->frame_key, k->frame_key, LP_ROOM_KEY_LEN);
	*out = o;
	o = NULL;
	rc = 0;
out:
	lp_room_opener_del(o);
	return rc;
}

void lp_room_opener_del(struct lp_room_opener *o)
{
	uint32_t i;

	if (o == NULL)
		return;
	if (o->senders != NULL) {
		for (i = 0; i < o->n_senders; i++)
			lp_room_crypto_aead_del(o->senders[i].aead);
	}
	free(o->senders);
	free(o->index);
	free(o->retired);
	lp_room_wipe(o, sizeof(*o));
	free(o);
}

uint64_t lp_room_opener_count(const struct lp_room_opener *o, enum lp_room_drop reason)
{
	if (o == NULL || (unsigned)reason >= LP_ROOM_DROP__COUNT)
		return 0;
	return o->counts[reason];
}

/* ---- open ----------------------------------------------------------------- */

static ssize_t drop(struct lp_room_opener *o, enum lp_room_drop why, int rc,
                    enum lp_room_drop *reason)
{
	o->counts[why]++;
	if (reason != NULL)
		*reason = why;
	return rc;
}

/* A frame for (mac, epoch) that has no live state: refused if retired, else
 * authenticated with a fresh cipher and installed. */
static ssize_t open_new_epoch(struct lp_room_opener *o, struct sender *s, const uint8_t *mac,
                              uint64_t epoch, uint64_t c1, const uint8_t nonce[],
                              const struct lp_room_iov *aad, struct lp_room_frame *f,
                              const uint8_t *tag, enum lp_room_drop *reason)
{
	struct lp_room_aead *aead = NULL;
	struct retired *r = retired_find(o, mac, epoch);
	uint64_t floor = 0;
	int rc;

	if (r != NULL) {
		if (r->floor == FLOOR_ALL)
			return drop(o, LP_ROOM_DROP_RETIRED_EPOCH, LP_ERR_AUTH, reason);
		floor = r->floor;
		if (c1 <= floor)
			return drop(o,
			            floor - c1 > LP_ROOM_REPLAY_WINDOW ? LP_ROOM_DROP_TOO_OLD
			                                               : LP_ROOM_DROP_REPLAY,
			            LP_ERR_AUTH, reason);
	}
	rc = lp_room_epoch_aead(o->frame_key, epoch, &aead);
	if (rc < 0) {
		if (reason != NULL)
			*reason = LP_ROOM_DROP_NONE;
		return rc;
	}
	rc = lp_room_crypto_aead_open(aead, nonce, aad, 1, f->body, f->body_len, tag);
	if (rc < 0) {
		lp_room_crypto_aead_del(aead);
		if (rc == LP_ERR_AUTH)
			return drop(o, LP_ROOM_DROP_AUTH, rc, reason);
		if (reason != NULL)
			*reason = LP_ROOM_DROP_NONE;
		return rc;
	}
	if (r != NULL)
		r->used = 0; /* resumed: the window below carries the floor */
	if (s != NULL) {
		/* The sender started a new session: its old epoch is over. */
		retire(o, mac, s->epoch, FLOOR_ALL);
		lp_room_crypto_aead_del(s->aead);
	} else {
		s = slot_take(o);
		memcpy(s->mac, mac, LP_MAC_LEN);
		s->used = 1;
		index_insert(o, (uint32_t)(s - o->senders));
	}
	s->aead = aead;
	s->epoch = epoch;
	memset(&s->win, 0, sizeof(s->win));
	if (floor > 0)
		window_fill(&s->win, floor);
	window_update(&s->win, c1);
	s->last_use = ++o->tick;
	return 0;
}

ssize_t lp_room_open(struct lp_room_opener *o, uint8_t *dgram, size_t len,
                     enum lp_room_drop *reason)
{
	struct lp_room_frame f;
	struct lp_room_iov aad;
	uint8_t aad_buf[LP_ROOM_AAD_MAX];
	uint8_t nonce[LP_ROOM_GCM_NONCE_LEN];
	uint8_t mac[LP_MAC_LEN];
	const uint8_t *trailer;
	struct sender *s;
	uint64_t epoch, counter, c1;
	enum lp_room_drop why;
	ssize_t rc;
	int unsealed;

	if (reason != NULL)
		*reason = LP_ROOM_DROP_NONE;
	if (o == NULL)
		return LP_ERR_INVAL;
	rc = lp_room_frame_parse(dgram, len, 1, &f, &unsealed);
	if (rc < 0)
		return drop(o, unsealed ? LP_ROOM_DROP_UNSEALED : LP_ROOM_DROP_MALFORMED, (int)rc,
		            reason);
	trailer = f.body + f.body_len;
	epoch = lp_room_get_u64(trailer);
	counter = lp_room_get_u64(trailer + 8);
	if (counter > LP_ROOM_COUNTER_LAST)
		return drop(o, LP_ROOM_DROP_MALFORMED, LP_ERR_INVAL, reason);
	c1 = counter + 1;
	memcpy(mac, dgram + LP_PROTO_OVERLAY_HDR_LEN + LP_MAC_LEN, LP_MAC_LEN);
	lp_room_aad(&f, trailer, aad_buf, &aad);
	lp_room_nonce(counter, nonce);

	s = sender_find(o, mac);
	if (s != NULL && s->epoch == epoch) {
		why = window_check(&s->win, c1);
		if (why != LP_ROOM_DROP_NONE)
			return drop(o, why, LP_ERR_AUTH, reason);
		rc = lp_room_crypto_aead_open(s->aead, nonce, &aad, 1, f.body, f.body_len,
		                              trailer + LP_ROOM_TRAILER_CLEAR);
		if (rc == LP_ERR_AUTH)
			return drop(o, LP_ROOM_DROP_AUTH, (int)rc, reason);
		if (rc < 0)
			return rc;
		window_update(&s->win, c1);
		s->last_use = ++o->tick;
	} else {
		rc = open_new_epoch(o, s, mac, epoch, c1, nonce, &aad, &f,
		                    trailer + LP_ROOM_TRAILER_CLEAR, reason);
		if (rc < 0)
			return rc;
	}
	dgram[1] = (uint8_t)(dgram[1] & ~LP_ROOM_FLAG_SEALED);
	lp_put_u16(dgram + 2, (uint16_t)(f.plen - LP_ROOM_SEAL_OVERHEAD));
	o->counts[LP_ROOM_DROP_NONE]++;
	return (ssize_t)(len - LP_ROOM_SEAL_OVERHEAD);
}
