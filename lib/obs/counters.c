/* counters.c - drop reason names, drop totals and the action each reason implies. */
#include "lp_obs.h"

#include <string.h>

/* Wire-stable: these names travel in the stats control message, so renaming
 * one is a protocol change. */
static const char *const drop_names[LP_DROP__COUNT] = {
	[LP_DROP_NONE] = "none",
	[LP_DROP_TOO_BIG] = "too_big",
	[LP_DROP_MALFORMED] = "malformed",
	[LP_DROP_TRUNCATED] = "truncated",
	[LP_DROP_QUEUE_FULL] = "queue_full",
	[LP_DROP_UNKNOWN_DEST] = "unknown_dest",
	[LP_DROP_NOT_READY] = "not_ready",
	[LP_DROP_IO] = "io",
	[LP_DROP_LOOP] = "loop",
	[LP_DROP_INVALID_SRC] = "invalid_src",
	[LP_DROP_SPOOFED_SRC] = "spoofed_src",
	[LP_DROP_JUMBO] = "jumbo",
	[LP_DROP_SWITCH_CONTROL] = "switch_control",
	[LP_DROP_DHCP_SERVER] = "dhcp_server",
	[LP_DROP_IPV6_RA] = "ipv6_ra",
	[LP_DROP_DHCPV6_SERVER] = "dhcpv6_server",
	[LP_DROP_IPV6_FRAGMENT] = "ipv6_fragment",
	[LP_DROP_VLAN_TAGGED] = "vlan_tagged",
	[LP_DROP_LAN_MAC] = "lan_mac",
	[LP_DROP_ICMP_ROUTER] = "icmp_router",
	[LP_DROP_RATE_BROADCAST] = "rate_broadcast",
	[LP_DROP_RATE_UNKNOWN] = "rate_unknown",
	[LP_DROP_RATE_TOTAL] = "rate_total",
	[LP_DROP_RATE_ROOM] = "rate_room",
	[LP_DROP_UNSEALED] = "unsealed",
	[LP_DROP_AUTH] = "auth",
	[LP_DROP_REPLAY] = "replay",
	[LP_DROP_TOO_OLD] = "too_old",
	[LP_DROP_RETIRED_EPOCH] = "retired_epoch",
};

const char *lp_obs_drop_name(enum lp_drop_reason r)
{
	if ((unsigned)r >= LP_DROP__COUNT)
		return "unknown";
	return drop_names[r];
}

int lp_obs_drop_from_name(const char *name, enum lp_drop_reason *out)
{
	size_t i;

	if (name == NULL)
		return LP_ERR_NOT_FOUND;
	for (i = 0; i < LP_DROP__COUNT; i++) {
		if (strcmp(name, drop_names[i]) == 0) {
			*out = (enum lp_drop_reason)i;
			return 0;
		}
	}
	return LP_ERR_NOT_FOUND;
}

uint64_t lp_obs_drops_total(const struct lp_counters *c)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < LP_DROP__COUNT; i++)
		sum += c->drops[i];
	return sum;
}

enum lp_obs_action lp_obs_action_for(enum lp_drop_reason r)
{
	switch (r) {
	case LP_DROP_NONE:
		return LP_OBS_FORWARDED;
	case LP_DROP_INVALID_SRC:
	case LP_DROP_SPOOFED_SRC:
	case LP_DROP_JUMBO:
	case LP_DROP_SWITCH_CONTROL:
	case LP_DROP_DHCP_SERVER:
	case LP_DROP_IPV6_RA:
	case LP_DROP_DHCPV6_SERVER:
	case LP_DROP_IPV6_FRAGMENT:
	case LP_DROP_VLAN_TAGGED:
	case LP_DROP_LAN_MAC:
	case LP_DROP_ICMP_ROUTER:
		return LP_OBS_FILTERED;
	case LP_DROP_RATE_BROADCAST:
	case LP_DROP_RATE_UNKNOWN:
	case LP_DROP_RATE_TOTAL:
	case LP_DROP_RATE_ROOM:
		return LP_OBS_RATE_LIMITED;
	default:
		return LP_OBS_DROPPED;
	}
}
