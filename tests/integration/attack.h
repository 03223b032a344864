/*
 * attack.h - shared pieces of the relay attack tests (test_relay_attack*.c):
 * figures read from the real relay process, round-trip sampling between two
 * peers of a room, and one line per attack for the before/after table.
 *
 * Each attack has a target (what issue 9 asks the relay to hold). A target
 * is asserted when its fix has landed (attack_enforced() names them); until
 * then the test measures and prints the figure next to the target marked
 * "(not enforced yet)", so the log of `make check` shows what is open.
 * LP_ATTACK_ENFORCE=all in the environment asserts every target (used to
 * show that a target fails on the old relay).
 */
#ifndef LP_TEST_ATTACK_H
#define LP_TEST_ATTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "relay_proc.h"

/* A field of /proc/PID/status in KiB ("VmRSS", "VmHWM"); 0 on error. */
uint64_t attack_proc_kib(pid_t pid, const char *field);

/* Whether the target of attack `name` is asserted (its fix has landed, or
 * LP_ATTACK_ENFORCE=all). */
bool attack_enforced(const char *name);

/* Prints "ATTACK <name>: <figure> | target <target>: met / NOT met" and
 * returns met, or fails the test when the target is enforced and not met. */
bool attack_report(const char *name, bool met, const char *target, const char *fmt, ...)
        LP_PRINTF(4, 5);

/* Round trips between two admitted peers a and b of one room (frames a->b
 * and back, each with a unique tag, one at a time). */
struct attack_rtt {
	struct rp_world *w;
	struct rp_peer *a, *b;
	const char *mac_a, *mac_b;
	uint32_t next_tag;
	/* Called between rounds of the pump while a round trip is waited for
	 * (may be NULL): lets a test drive its attacker from the same loop. */
	void (*tick)(void *arg);
	void *tick_arg;
};

/* Measures n round trips into out_ns[] (a lost frame counts as timeout_ns).
 * Returns how many completed. */
size_t attack_rtt_sample(struct attack_rtt *r, size_t n, uint64_t timeout_ns, uint64_t *out_ns);
/* The p-th percentile (0..100) of v[0..n) (sorts v). */
uint64_t attack_percentile(uint64_t *v, size_t n, unsigned p);

#endif /* LP_TEST_ATTACK_H */
