/*
 * fuzz/lanip.c - LAN IPv4 learning (lib/proto/lanip.c) on arbitrary frames.
 * Properties: observing never grows the table past LP_LANIP_MAX; an entry
 * it reports as learned is then found by lookup with a usable unicast
 * identity; observing the same frame again changes nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lp_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lp_lanip t;
static uint64_t now;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t before = t.n;
	int learned;

	if (now == 0 || t.n == LP_LANIP_MAX)
		lp_lanip_init(&t);
	before = t.n;
	learned = lp_lanip_observe(&t, data, size, ++now);
	if (learned != 0 && learned != 1)
		abort();
	if (t.n > LP_LANIP_MAX || t.n < before || t.n > before + 1)
		abort();
	if (learned) {
		const struct lp_lanip_entry *e = NULL;
		uint8_t ip[4];

		for (size_t i = 0; i < t.n; i++)
			if (t.e[i].seen_ns == now)
				e = &t.e[i];
		if (e == NULL || lp_proto_mac_validate_identity(&e->mac) != 0 ||
		    lp_lanip_lookup(&t, &e->mac, ip) != 0 || memcmp(ip, e->ip, 4) != 0 ||
		    ip[0] == 0 || ip[0] >= 224 || ip[0] == 127)
			abort();
		if (lp_lanip_observe(&t, data, size, now) != 0)
			abort();
	}
	return 0;
}
