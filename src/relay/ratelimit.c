/*
 * ratelimit.c - integer token buckets (see ratelimit.h).
 */
#include "ratelimit.h"

void lp_relay_tb_init(struct lp_relay_tb *tb, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	if (burst == 0)
		burst = 1;
	if (burst > LP_RELAY_TB_BURST_MAX)
		burst = LP_RELAY_TB_BURST_MAX;
	tb->rate = rate;
	tb->burst_nano = burst * LP_NS_PER_SEC;
	tb->tokens_nano = tb->burst_nano;
	tb->last_ns = now_ns;
}

static void tb_refill(struct lp_relay_tb *tb, uint64_t now_ns)
{
	uint64_t elapsed, missing;

	if (now_ns <= tb->last_ns)
		return; /* same instant, or a clock step back: nothing to add */
	elapsed = now_ns - tb->last_ns;
	tb->last_ns = now_ns;
	missing = tb->burst_nano - tb->tokens_nano;
	/* Compare by division first: elapsed * rate may not fit 64 bits when the
	 * bucket sat idle for long, but then it is simply full again. */
	if (elapsed >= missing / tb->rate + 1) {
		tb->tokens_nano = tb->burst_nano;
		return;
	}
	/* Here elapsed <= missing / rate, so elapsed * rate <= missing fits. */
	tb->tokens_nano += elapsed * tb->rate;
	if (tb->tokens_nano > tb->burst_nano)
		tb->tokens_nano = tb->burst_nano;
}

bool lp_relay_tb_take(struct lp_relay_tb *tb, uint64_t now_ns, uint64_t cost)
{
	uint64_t need;

	if (tb->rate == 0)
		return true;
	tb_refill(tb, now_ns);
	if (cost > tb->burst_nano / LP_NS_PER_SEC)
		return false;
	need = cost * LP_NS_PER_SEC;
	if (tb->tokens_nano < need)
		return false;
	tb->tokens_nano -= need;
	return true;
}

uint64_t lp_relay_tb_available(struct lp_relay_tb *tb, uint64_t now_ns)
{
	if (tb->rate == 0)
		return tb->burst_nano / LP_NS_PER_SEC;
	tb_refill(tb, now_ns);
	return tb->tokens_nano / LP_NS_PER_SEC;
}

void lp_relay_ctrl_limit_init(struct lp_relay_ctrl_limit *l, uint64_t msgs_per_sec,
                              uint64_t msgs_burst, uint64_t bytes_per_sec, uint64_t bytes_burst,
                              uint64_t now_ns)
{
	lp_relay_tb_init(&l->msgs, msgs_per_sec, msgs_burst, now_ns);
	lp_relay_tb_init(&l->bytes, bytes_per_sec, bytes_burst, now_ns);
	l->refused = 0;
}

bool lp_relay_ctrl_limit_take(struct lp_relay_ctrl_limit *l, uint64_t now_ns, size_t len)
{
	/* Check both before taking from either, so a refused frame does not
	 * drain the other bucket. */
	if ((l->msgs.rate != 0 && lp_relay_tb_available(&l->msgs, now_ns) < 1) ||
	    (l->bytes.rate != 0 && lp_relay_tb_available(&l->bytes, now_ns) < len)) {
		l->refused++;
		return false;
	}
	if (!lp_relay_tb_take(&l->msgs, now_ns, 1) || !lp_relay_tb_take(&l->bytes, now_ns, len)) {
		l->refused++; /* not reached: both were checked above at now_ns */
		return false;
	}
	return true;
}
