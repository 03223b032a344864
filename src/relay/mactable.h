/*
 * mactable.h - a room's MAC -> peer table: open addressing with linear
 * probing and backward-shift deletion (no tombstones), so lookups stay O(1)
 * and never allocate. The table grows by doubling (rare, on learning) up to
 * a capacity fixed at init that keeps the load factor at or below 1/2.
 *
 * The gateway's sources (and so the keys) come from the LAN, which anyone
 * on it can fill with chosen MACs: the slot of a MAC is SipHash-2-4 under a
 * key the relay draws at random when it starts, so nobody outside can pick
 * MACs that pile up on one probe run. The table also owns the aging rule:
 * a learned entry is live until aging_ns passed without traffic.
 */
#ifndef LP_RELAY_MACTABLE_H
#define LP_RELAY_MACTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"
#include "lp_proto.h"

struct lp_relay_peer;

struct lp_relay_mac_entry {
	struct lp_mac mac;
	bool used;
	bool is_static; /* a peer's own MAC: never ages, not counted as learned */
	struct lp_relay_peer *peer;
	uint64_t seen_ns; /* learned entries: last frame from this source */
};

struct lp_relay_mactab {
	struct lp_relay_mac_entry *slots;
	size_t cap;     /* power of two */
	unsigned shift; /* 64 - log2(cap), for Fibonacci hashing */
	size_t count;   /* used slots */
	size_t learned; /* used slots that are not static */
	size_t max_cap; /* capacity never grows past this */
	uint64_t aging_ns;
	uint64_t k0, k1; /* SipHash key */
};

/* Prepares a table for up to max_entries entries (static + learned), with
 * learned entries living aging_ns without traffic, slots hashed under the
 * key (k0, k1). LP_ERR_NOMEM, LP_ERR_INVAL (max_entries 0). */
int lp_relay_mactab_init(struct lp_relay_mactab *t, size_t max_entries, uint64_t aging_ns,
                         uint64_t k0, uint64_t k1) LP_WUR;
void lp_relay_mactab_free(struct lp_relay_mactab *t);

/* The entry for mac (live or aged) or NULL. The pointer is valid until the
 * next insert or remove. */
struct lp_relay_mac_entry *lp_relay_mactab_find(const struct lp_relay_mactab *t,
                                                const struct lp_mac *mac) LP_WUR;
/* The peer mac belongs to at now_ns: its own MAC, or a learned entry not
 * aged; NULL otherwise. */
struct lp_relay_peer *lp_relay_mactab_lookup(const struct lp_relay_mactab *t,
                                             const struct lp_mac *mac, uint64_t now_ns) LP_WUR;

/*
 * Adds mac (which must not be present). Returns the new entry, or NULL when
 * growing failed (LP_ERR_NOMEM) or the table is at max_entries.
 */
struct lp_relay_mac_entry *lp_relay_mactab_insert(struct lp_relay_mactab *t,
                                                  const struct lp_mac *mac,
                                                  struct lp_relay_peer *peer, bool is_static,
                                                  uint64_t now_ns) LP_WUR;

/* Removes the entry e points at (from find or insert). */
void lp_relay_mactab_remove(struct lp_relay_mactab *t, struct lp_relay_mac_entry *e);

/* Removes every entry of peer; returns how many. */
size_t lp_relay_mactab_remove_peer(struct lp_relay_mactab *t, const struct lp_relay_peer *peer);

/* Removes learned entries with seen_ns + aging_ns <= now_ns; returns how
 * many. */
size_t lp_relay_mactab_expire(struct lp_relay_mactab *t, uint64_t now_ns);

/* Number of learned (non-static) entries of peer. O(capacity). */
size_t lp_relay_mactab_count_peer(const struct lp_relay_mactab *t,
                                  const struct lp_relay_peer *peer) LP_WUR;

#endif /* LP_RELAY_MACTABLE_H */
