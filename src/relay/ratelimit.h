/*
 * ratelimit.h - integer token buckets over monotonic nanoseconds, used by
 * the relay to limit what one client may push into its room.
 *
 * Tokens are kept in nano-units (units * 1e9) so that refilling at `rate`
 * units per second is exact integer arithmetic: elapsed_ns * rate nano-units.
 * No floating point, no clock: the caller passes `now`.
 */
#ifndef LP_RELAY_RATELIMIT_H
#define LP_RELAY_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"

struct lp_relay_tb {
	uint64_t rate;        /* units per second; 0 means unlimited */
	uint64_t burst_nano;  /* capacity, units * 1e9 */
	uint64_t tokens_nano; /* current fill, units * 1e9 */
	uint64_t last_ns;     /* time of the last refill */
};

/* Largest burst accepted; larger values are clamped so burst * 1e9 fits. */
#define LP_RELAY_TB_BURST_MAX (UINT64_MAX / LP_NS_PER_SEC)

/*
 * Sets up a bucket that refills `rate` units per second up to `burst`
 * units, starting full at now_ns. rate == 0 disables the bucket (every take
 * succeeds). burst is clamped to [1, LP_RELAY_TB_BURST_MAX].
 */
void lp_relay_tb_init(struct lp_relay_tb *tb, uint64_t rate, uint64_t burst, uint64_t now_ns);

/*
 * Refills for the time since the last call, then takes `cost` units if that
 * many are available. Returns true when taken, false (nothing taken) when
 * the bucket holds less than cost. A clock that goes backwards refills
 * nothing. cost above the burst can never be taken.
 */
bool lp_relay_tb_take(struct lp_relay_tb *tb, uint64_t now_ns, uint64_t cost) LP_WUR;

/* Whole units available at now_ns (refills first); for diagnostics and tests. */
uint64_t lp_relay_tb_available(struct lp_relay_tb *tb, uint64_t now_ns) LP_WUR;

/* ---- Control messages of one connection -------------------------------
 * What a peer may send on its control stream: a hello, a stats report every
 * few seconds, a disconnect. The defaults leave a legitimate peer two
 * orders of magnitude of room and cost the relay a few microseconds per
 * second per peer; a peer over either bucket is closed (its bytes are
 * counted before they are parsed, so refusing costs no parse).
 */
#define LP_RELAY_CTRL_MSGS_PER_SEC 20
#define LP_RELAY_CTRL_MSGS_BURST 64
#define LP_RELAY_CTRL_BYTES_PER_SEC (16u * 1024)
#define LP_RELAY_CTRL_BYTES_BURST (64u * 1024)

struct lp_relay_ctrl_limit {
	struct lp_relay_tb msgs;
	struct lp_relay_tb bytes;
	uint64_t refused; /* messages refused so far */
};

/* Both buckets full at now_ns; a rate of 0 disables that bucket. */
void lp_relay_ctrl_limit_init(struct lp_relay_ctrl_limit *l, uint64_t msgs_per_sec,
                              uint64_t msgs_burst, uint64_t bytes_per_sec, uint64_t bytes_burst,
                              uint64_t now_ns);

/*
 * Accounts one control frame of `len` bytes (prefix included), before its
 * body is parsed. Returns true when it is within both buckets; false when
 * either is empty (nothing is taken from the other then, and `refused`
 * grows): the caller closes the connection.
 */
bool lp_relay_ctrl_limit_take(struct lp_relay_ctrl_limit *l, uint64_t now_ns, size_t len) LP_WUR;

#endif /* LP_RELAY_RATELIMIT_H */
