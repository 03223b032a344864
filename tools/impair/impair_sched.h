/*
 * impair_sched.h - the impairment model of tools/impair, without I/O.
 *
 * A packet entering direction d at time `now` goes through, in order:
 *   1. loss:      dropped with probability loss_ppm / 1e6;
 *   2. duplicate: with probability dup_ppm / 1e6 a copy follows it (the copy
 *                 takes a second pool slot and its own place on the link);
 *   3. the link:  a token bucket (rate_bps, depth burst_bytes) in front of a
 *                 bounded FIFO (queue_bytes): a packet whose wait plus its
 *                 own serialisation would exceed queue_bytes at rate_bps is
 *                 tail-dropped. This is a player's access link with its
 *                 buffer; rate_bps = 0 means no cap and no queue;
 *   4. propagation: delay_ns plus a jitter drawn uniformly in
 *                 [-jitter_ns, +jitter_ns] (clamped at zero). Jitter never
 *                 reorders: a packet leaves no earlier than the one before;
 *   5. reorder:   with probability reorder_ppm / 1e6 a packet is held
 *                 reorder_ns longer and the packets behind it overtake it.
 *
 * Every random decision comes from one splitmix64 stream per direction,
 * seeded from (seed, direction), and each packet draws the same number of
 * values whatever the settings: the same seed and the same arrivals give the
 * same schedule.
 *
 * Packets live in a pool of fixed slots allocated once by lp_impair_new (and
 * the lib/base heap reserved for all of them);
 * nothing is allocated per packet. Time is injected (uint64_t ns), so tests
 * run the model against a fake clock.
 */
#ifndef LP_IMPAIR_SCHED_H
#define LP_IMPAIR_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"

#define LP_IMPAIR_DIRS 2
/* Queue-wait histogram: LP_IMPAIR_HIST buckets of LP_IMPAIR_HIST_NS each. */
#define LP_IMPAIR_HIST 512
#define LP_IMPAIR_HIST_NS UINT64_C(250000)

struct lp_impair_spec {
	uint64_t delay_ns;
	uint64_t jitter_ns;
	uint32_t loss_ppm;
	uint32_t dup_ppm;
	uint32_t reorder_ppm;
	uint64_t reorder_ns;
	uint64_t rate_bps;    /* 0: no cap */
	uint32_t burst_bytes; /* token bucket depth (0: a plain serialiser) */
	uint32_t queue_bytes; /* FIFO bound in front of the link */
};

struct lp_impair_stats {
	uint64_t in;          /* packets submitted */
	uint64_t out;         /* packets handed back by lp_impair_pop (copies included) */
	uint64_t lost;        /* random loss */
	uint64_t dups;        /* copies made */
	uint64_t reordered;   /* packets held back */
	uint64_t queue_drops; /* tail drops of the bounded FIFO */
	uint64_t pool_drops;  /* no free slot */
	uint64_t bytes_out;
	uint64_t wait_max_ns; /* longest wait in the FIFO */
	uint64_t wait_sum_ns;
	uint64_t wait_hist[LP_IMPAIR_HIST + 1]; /* last bucket: longer */
};

struct lp_impair_config {
	uint64_t seed;
	size_t pool_slots; /* packets held at once, both directions */
	size_t slot_bytes; /* largest packet */
	struct lp_impair_spec dir[LP_IMPAIR_DIRS];
};

struct lp_impair;

/* A packet the model holds. data and len are the caller's to fill (after
 * lp_impair_slot) and to read (after lp_impair_pop); the rest is private. */
struct lp_impair_pkt {
	uint8_t *data;
	size_t len;
	int dir;
	uint64_t due_ns;
	uint64_t seq;
	size_t index;
	struct lp_heap_entry he;
};

/* Allocates the pool and the schedule. Errors: LP_ERR_INVAL (no slots,
 * slot_bytes 0, a probability above 1e6), LP_ERR_NOMEM. */
int lp_impair_new(struct lp_impair **out, const struct lp_impair_config *cfg) LP_WUR;
void lp_impair_del(struct lp_impair *m);

/* A free slot to receive the next packet into (its data holds slot_bytes),
 * or NULL when the pool is empty. The slot stays free until submitted. */
struct lp_impair_pkt *lp_impair_slot(struct lp_impair *m);

/*
 * Submits p (from lp_impair_slot, with p->len set) arriving on dir at now.
 * Returns the number of packets scheduled: 0 (lost or dropped; the slot is
 * free again), 1, or 2 (a duplicate). Passing p = NULL counts a packet the
 * caller could not take for want of a slot (a pool drop).
 */
int lp_impair_submit(struct lp_impair *m, struct lp_impair_pkt *p, int dir, uint64_t now);

/* The earliest due time of a held packet, UINT64_MAX when none. */
uint64_t lp_impair_next_due(const struct lp_impair *m);

/* Takes the earliest packet due at or before now off the schedule (NULL:
 * none). The caller sends it, then returns the slot with lp_impair_done. */
struct lp_impair_pkt *lp_impair_pop(struct lp_impair *m, uint64_t now);
void lp_impair_done(struct lp_impair *m, struct lp_impair_pkt *p);

const struct lp_impair_stats *lp_impair_stats(const struct lp_impair *m, int dir);
/* The wait in the FIFO below which a fraction q (0..1) of the packets that
 * crossed the link stayed, to the histogram's resolution. */
uint64_t lp_impair_wait_quantile(const struct lp_impair *m, int dir, double q);

/*
 * Parses a direction spec: comma-separated key=value, e.g.
 * "delay=10ms,jitter=1ms,loss=0.5%,rate=100mbit,queue=64kb". Keys: delay,
 * jitter, reorder-gap (time: ns, us, ms, s; default ms), loss, dup, reorder
 * (percent, '%' optional), rate (bit/s: kbit, mbit, gbit; default mbit),
 * burst, queue (bytes: b, kb, mb; or a time such as 50ms, converted at the
 * rate). Keys not given keep their value in *spec. Errors: LP_ERR_INVAL.
 */
int lp_impair_spec_parse(struct lp_impair_spec *spec, const char *text) LP_WUR;

#endif /* LP_IMPAIR_SCHED_H */
