/*
 * fuzz/l2filter.c - the L2 safety filters on arbitrary frames. Byte 0 picks
 * the sender's role (bit 0: gateway); the rest is the frame. Checks that
 * every verdict is one the contract names, that the gateway's side never
 * meets a payload filter, that the relay's verdict is header-then-payload,
 * and, as an oracle independent of the header walk, that the plainest
 * router advertisement and DHCP offer are always caught from a client.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lp_l2filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_header_reason(enum lp_drop_reason r)
{
	return r == LP_DROP_INVALID_SRC || r == LP_DROP_SPOOFED_SRC || r == LP_DROP_JUMBO ||
	       r == LP_DROP_SWITCH_CONTROL || r == LP_DROP_VLAN_TAGGED;
}

static int is_payload_reason(enum lp_drop_reason r)
{
	return r == LP_DROP_DHCP_SERVER || r == LP_DROP_DHCPV6_SERVER || r == LP_DROP_IPV6_RA ||
	       r == LP_DROP_IPV6_FRAGMENT || r == LP_DROP_ICMP_ROUTER;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lp_eth eth;
	enum lp_drop_reason h, p, r, rx;
	bool gw;

	if (size < 1)
		return 0;
	gw = (data[0] & 1) != 0;
	data++;
	size--;
	rx = lp_l2filter_rx(data, size, gw);
	if (lp_proto_eth_parse(data, size, &eth) != 0) {
		if (rx != LP_DROP_MALFORMED)
			abort();
		return 0;
	}
	h = lp_l2filter_header(&eth, gw, &eth.src, 1380);
	p = lp_l2filter_payload(&eth, gw);
	r = lp_l2filter_relay(&eth, gw, &eth.src, 1380);
	if (h != LP_DROP_NONE && !is_header_reason(h))
		abort();
	if (p != LP_DROP_NONE && (gw || !is_payload_reason(p)))
		abort();
	if (r != (h != LP_DROP_NONE ? h : p))
		abort();
	if (rx == LP_DROP_SPOOFED_SRC || rx == LP_DROP_JUMBO || rx == LP_DROP_MALFORMED)
		abort();
	if (gw && (rx == LP_DROP_VLAN_TAGGED || is_payload_reason(rx)))
		abort();
	if (gw || eth.l3_len < 41)
		return 0;
	/* Oracle: untagged IPv6, ICMPv6 directly, type RA or redirect. */
	if (eth.inner_ethertype == LP_ETHERTYPE_IPV6 && (eth.l3[0] >> 4) == 6 && eth.l3[6] == 58 &&
	    eth.l3[40] == 134 && p != LP_DROP_IPV6_RA)
		abort();
	/* Oracle: IPv4, IHL 5, first fragment, UDP to port 68. */
	if (eth.inner_ethertype == LP_ETHERTYPE_IPV4 && eth.l3[0] == 0x45 && eth.l3[9] == 17 &&
	    (lp_get_u16(eth.l3 + 6) & 0x1fff) == 0 && lp_get_u16(eth.l3 + 22) == 68 &&
	    p != LP_DROP_DHCP_SERVER)
		abort();
	return 0;
}
