/*
 * mactable.c - open-addressing MAC table (see mactable.h).
 */
#include <stdlib.h>
#include <string.h>

#include "mactable.h"

#define MACTAB_MIN_CAP 16u

static size_t mac_home(const struct lp_relay_mactab *t, const struct lp_mac *m)
{
	return (size_t)(lp_siphash24(t->k0, t->k1, m->b, LP_MAC_LEN) >> t->shift);
}

static unsigned log2_pow2(size_t cap)
{
	unsigned n = 0;

	while ((cap >>= 1) != 0)
		n++;
	return n;
}

static int mactab_alloc(struct lp_relay_mactab *t, size_t cap)
{
	struct lp_relay_mac_entry *slots = calloc(cap, sizeof(*slots));

	if (slots == NULL)
		return LP_ERR_NOMEM;
	t->slots = slots;
	t->cap = cap;
	t->shift = 64 - log2_pow2(cap);
	return 0;
}

int lp_relay_mactab_init(struct lp_relay_mactab *t, size_t max_entries, uint64_t aging_ns,
                         uint64_t k0, uint64_t k1)
{
	size_t max_cap = MACTAB_MIN_CAP;

	memset(t, 0, sizeof(*t));
	if (max_entries == 0 || max_entries > SIZE_MAX / 4)
		return LP_ERR_INVAL;
	while (max_cap < max_entries * 2)
		max_cap *= 2;
	t->max_cap = max_cap;
	t->aging_ns = aging_ns;
	t->k0 = k0;
	t->k1 = k1;
	return mactab_alloc(t, MACTAB_MIN_CAP);
}

void lp_relay_mactab_free(struct lp_relay_mactab *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

struct lp_relay_mac_entry *lp_relay_mactab_find(const struct lp_relay_mactab *t,
                                                const struct lp_mac *mac)
{
	size_t mask = t->cap - 1;

	/* Terminates: the load factor stays <= 1/2, so a free slot exists. */
	for (size_t i = mac_home(t, mac);; i = (i + 1) & mask) {
		struct lp_relay_mac_entry *e = &t->slots[i];

		if (!e->used)
			return NULL;
		if (memcmp(e->mac.b, mac->b, LP_MAC_LEN) == 0)
			return e;
	}
}

static bool live(const struct lp_relay_mactab *t, const struct lp_relay_mac_entry *e,
                 uint64_t now_ns)
{
	return e->is_static || now_ns < e->seen_ns || now_ns - e->seen_ns < t->aging_ns;
}

struct lp_relay_peer *lp_relay_mactab_lookup(const struct lp_relay_mactab *t,
                                             const struct lp_mac *mac, uint64_t now_ns)
{
	const struct lp_relay_mac_entry *e = lp_relay_mactab_find(t, mac);

	return e != NULL && live(t, e, now_ns) ? e->peer : NULL;
}

static struct lp_relay_mac_entry *place(struct lp_relay_mactab *t,
                                        const struct lp_relay_mac_entry *src)
{
	size_t mask = t->cap - 1;
	size_t i = mac_home(t, &src->mac);

	while (t->slots[i].used)
		i = (i + 1) & mask;
	t->slots[i] = *src;
	return &t->slots[i];
}

static int grow(struct lp_relay_mactab *t)
{
	struct lp_relay_mac_entry *old = t->slots;
	size_t old_cap = t->cap;
	int rc;

	rc = mactab_alloc(t, old_cap * 2);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].used)
			(void)place(t, &old[i]);
	free(old);
	return 0;
}

struct lp_relay_mac_entry *lp_relay_mactab_insert(struct lp_relay_mactab *t,
                                                  const struct lp_mac *mac,
                                                  struct lp_relay_peer *peer, bool is_static,
                                                  uint64_t now_ns)
{
	struct lp_relay_mac_entry e = {
		.mac = *mac, .used = true, .is_static = is_static, .peer = peer, .seen_ns = now_ns
	};

	if ((t->count + 1) * 2 > t->cap) {
		if (t->cap >= t->max_cap || grow(t) != 0)
			return NULL;
	}
	t->count++;
	if (!is_static)
		t->learned++;
	return place(t, &e);
}

void lp_relay_mactab_remove(struct lp_relay_mactab *t, struct lp_relay_mac_entry *e)
{
	size_t mask = t->cap - 1;
	size_t hole = (size_t)(e - t->slots);

	t->count--;
	if (!e->is_static)
		t->learned--;
	e->used = false;
	/* Backward shift: pull later members of the probe run into the hole
	 * unless their home slot lies cyclically in (hole, j]. */
	for (size_t j = (hole + 1) & mask; t->slots[j].used; j = (j + 1) & mask) {
		size_t home = mac_home(t, &t->slots[j].mac);
		bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);

		if (stays)
			continue;
		t->slots[hole] = t->slots[j];
		t->slots[j].used = false;
		hole = j;
	}
}

/* Removes every entry matching (peer, or aged learned entry). A removal can
 * pull a later entry into slot i, so i is checked again before moving on;
 * entries only move backwards (cyclically), so none is skipped. */
static size_t remove_matching(struct lp_relay_mactab *t, const struct lp_relay_peer *peer,
                              uint64_t now_ns)
{
	size_t removed = 0;

	for (size_t i = 0; i < t->cap;) {
		struct lp_relay_mac_entry *e = &t->slots[i];
		bool hit;

		if (!e->used) {
			i++;
			continue;
		}
		if (peer != NULL)
			hit = e->peer == peer;
		else
			hit = !live(t, e, now_ns);
		if (!hit) {
			i++;
			continue;
		}
		lp_relay_mactab_remove(t, e);
		removed++;
	}
	return removed;
}

size_t lp_relay_mactab_remove_peer(struct lp_relay_mactab *t, const struct lp_relay_peer *peer)
{
	return remove_matching(t, peer, 0);
}

size_t lp_relay_mactab_expire(struct lp_relay_mactab *t, uint64_t now_ns)
{
	return remove_matching(t, NULL, now_ns);
}

size_t lp_relay_mactab_count_peer(const struct lp_relay_mactab *t, const struct lp_relay_peer *peer)
{
	size_t n = 0;

	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].used && !t->slots[i].is_static && t->slots[i].peer == peer)
			n++;
	return n;
}
