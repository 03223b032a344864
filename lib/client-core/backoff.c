/*
 * backoff.c - reconnect delays: exponential with jitter, so that a relay
 * restart does not see every peer of every room come back in the same
 * millisecond, and bounded, so a peer notices a returning relay soon.
 */
#include "lp_client.h"

#define BACKOFF_INITIAL_DEFAULT (500 * LP_NS_PER_MS)
#define BACKOFF_MAX_DEFAULT (30 * LP_NS_PER_SEC)
#define BACKOFF_RESET_DEFAULT (60 * LP_NS_PER_SEC)

/* splitmix64: jitter needs spread, not secrecy. */
static uint64_t internal_rand(void *user)
{
	struct lp_backoff *b = user;
	uint64_t z = (b->state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void lp_backoff_init(struct lp_backoff *b, const struct lp_backoff_cfg *cfg)
{
	b->initial_ns = cfg && cfg->initial_ns ? cfg->initial_ns : BACKOFF_INITIAL_DEFAULT;
	b->max_ns = cfg && cfg->max_ns ? cfg->max_ns : BACKOFF_MAX_DEFAULT;
	if (b->max_ns < b->initial_ns)
		b->max_ns = b->initial_ns;
	b->reset_after_ns =
	        cfg && cfg->reset_after_ns ? cfg->reset_after_ns : BACKOFF_RESET_DEFAULT;
	b->rand = cfg && cfg->rand ? cfg->rand : internal_rand;
	b->rand_user = cfg && cfg->rand ? cfg->rand_user : b;
	b->state = lp_now_ns() ^ (uint64_t)(uintptr_t)b;
	lp_backoff_reset(b);
}

void lp_backoff_reset(struct lp_backoff *b)
{
	b->base_ns = b->initial_ns;
	b->admitted_at = 0;
	b->attempts = 0;
}

void lp_backoff_admitted(struct lp_backoff *b, uint64_t now)
{
	/* 0 means "not admitted"; a clock reading of exactly 0 is nudged. */
	b->admitted_at = now ? now : 1;
}

uint64_t lp_backoff_next(struct lp_backoff *b, uint64_t now)
{
	uint64_t base, half, delay;

	if (b->admitted_at != 0 && lp_ns_since(now, b->admitted_at) >= b->reset_after_ns)
		lp_backoff_reset(b);
	b->admitted_at = 0;
	base = b->base_ns;
	half = base / 2;
	delay = base - half + b->rand(b->rand_user) % (half + 1);
	b->base_ns = base > b->max_ns / 2 ? b->max_ns : base * 2;
	b->attempts++;
	return delay;
}

unsigned lp_backoff_attempts(const struct lp_backoff *b)
{
	return b->attempts;
}
