/*
 * source.h - the relay's per-source-address buckets: an address (IPv4 /32,
 * IPv6 /64) hashed with a key drawn at start (SipHash, so a peer cannot aim
 * many addresses at one bucket), and the rooms each bucket has opened.
 */
#ifndef RELAY_SOURCE_H
#define RELAY_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "lp_quic.h"

#define RELAY_SRC_BUCKETS 1024

struct relay_src {
	uint64_t k0, k1;
	uint16_t rooms[RELAY_SRC_BUCKETS]; /* rooms opened and still held */
};

/* Zeroes the counts and draws the key. Errors: LP_ERR_IO (no randomness). */
int relay_src_init(struct relay_src *s) LP_WUR;
/* The bucket of qc's remote address, < RELAY_SRC_BUCKETS (0 when unknown). */
size_t relay_src_bucket(const struct relay_src *s, const struct lp_quic_conn *qc);

#endif
