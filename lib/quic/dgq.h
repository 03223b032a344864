/*
 * dgq.h - the outgoing DATAGRAM queue of one connection: flow queuing in
 * the spirit of fq_codel (RFC 8290), so a game's small packets are not
 * stuck behind a bulk transfer, and CoDel (RFC 8289) on every flow so a
 * bulk flow's inner congestion control sees its queue as delay and drops.
 *
 * - Each datagram is classified by the Ethernet frame it carries (the
 *   overlay header, LP_PROTO_OVERLAY_HDR_LEN bytes, then the frame): its
 *   IPv4/IPv6 addresses, protocol and TCP/UDP ports; a sealed frame (flags
 *   bit 0x01, private rooms), a fragment or a frame that is not IP by its
 *   MAC addresses and EtherType. A keyed SipHash picks one of LP_DGQ_FLOWS
 *   flows, so a flow keeps its order: only different flows pass each other.
 * - Flows with a backlog are served by deficit round robin (quantum
 *   LP_DGQ_QUANTUM bytes); a flow that was idle starts on the new-flows
 *   list, served before the old ones: sparse flows (a ping, a game's state
 *   updates, a TCP ACK stream) go first.
 * - CoDel at each flow's head: a flow whose head waited longer than
 *   target for a whole interval has its head dropped, then more often
 *   (interval / sqrt(n)) until the delay falls under target.
 * - Bounded: at most cap datagrams in all. A full queue takes a datagram
 *   by dropping the oldest of the flow with the largest backlog, unless
 *   the datagram belongs to that flow: then it is refused (LP_ERR_AGAIN).
 * - Memory as needed: each datagram is its own allocation of its size;
 *   the flow table (LP_DGQ_FLOWS entries) is allocated by the first push
 *   and freed by lp_dgq_trim once the queue has been empty for
 *   LP_DGQ_IDLE_NS. An idle connection holds no queue memory.
 * Time is passed in (nanoseconds, any monotonic origin), so tests inject
 * it. Not thread-safe.
 */
#ifndef LP_DGQ_H
#define LP_DGQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"

#define LP_DGQ_FLOWS 64
#define LP_DGQ_QUANTUM 1514u
#define LP_DGQ_TARGET_NS (5ull * 1000 * 1000)
#define LP_DGQ_INTERVAL_NS (100ull * 1000 * 1000)
#define LP_DGQ_IDLE_NS (1000ull * 1000 * 1000)
#define LP_DGQ_FLOW_KEY_MAX 40 /* two IPv6 addresses, ports, protocol */

enum lp_dgq_drop {
	LP_DGQ_DROP_FULL,       /* refused: queue full and this is the largest flow */
	LP_DGQ_DROP_OVERFLOW,   /* the largest flow's oldest, to make room */
	LP_DGQ_DROP_CODEL,      /* waited too long (CoDel) */
	LP_DGQ_DROP_UNSENDABLE, /* too big for the path or the peer (the caller's) */
	LP_DGQ_DROP__COUNT
};

struct lp_dgq_item;
struct lp_dgq_flow;

struct lp_dgq {
	struct lp_dgq_flow *flows; /* NULL until the first push */
	struct lp_dgq_flow *new_head, *new_tail;
	struct lp_dgq_flow *old_head, *old_tail;
	struct lp_dgq_flow *cur; /* the flow lp_dgq_peek chose */
	size_t cap, count, bytes;
	uint64_t k0, k1;
	uint64_t empty_since; /* when count last became 0 */
	uint64_t target_ns, interval_ns;
	uint64_t drops[LP_DGQ_DROP__COUNT];
};

/* An empty queue of at most cap (>= 1) datagrams, flows keyed by k0/k1. */
void lp_dgq_init(struct lp_dgq *q, size_t cap, uint64_t k0, uint64_t k1);
/* Frees every datagram and the flow table. The queue stays usable. */
void lp_dgq_clear(struct lp_dgq *q);

/* Queues a copy of data (len >= 1, <= UINT16_MAX). Errors: LP_ERR_AGAIN
 * (full, counted as LP_DGQ_DROP_FULL), LP_ERR_NOMEM, LP_ERR_INVAL. */
int lp_dgq_push(struct lp_dgq *q, const uint8_t *data, size_t len, uint64_t now) LP_WUR;
/* The datagram to send next (CoDel drops may happen first), NULL when
 * empty. It stays queued until lp_dgq_pop; a peek without a pop (the
 * packet was full) is harmless. */
uint8_t *lp_dgq_peek(struct lp_dgq *q, size_t *len, uint64_t now);
/* Removes what lp_dgq_peek returned last: sent, or dropped for `why`
 * (LP_DGQ__COUNT: sent, not a drop). */
void lp_dgq_pop(struct lp_dgq *q, enum lp_dgq_drop why, uint64_t now);
/* Frees the flow table once the queue has been empty for LP_DGQ_IDLE_NS. */
void lp_dgq_trim(struct lp_dgq *q, uint64_t now);

/* The flow key of a datagram (see the top); its length, >= 1. */
size_t lp_dgq_flow_key(const uint8_t *data, size_t len, uint8_t key[LP_DGQ_FLOW_KEY_MAX]);
/* Bytes of queue memory held now (datagrams and the flow table). */
size_t lp_dgq_mem(const struct lp_dgq *q);

#define LP_DGQ_SENT LP_DGQ_DROP__COUNT

#endif /* LP_DGQ_H */
