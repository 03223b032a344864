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

#endif /* LP_RELAY_RATELIMIT_H */
