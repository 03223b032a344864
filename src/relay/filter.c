/*
 * filter.c - L2 safety filters (see filter.h).
 */
#include "filter.h"

bool lp_relay_filter_is_switch_control(const struct lp_mac *dst)
{
	return dst->b[0] == 0x01 && dst->b[1] == 0x80 && dst->b[2] == 0xc2 && dst->b[3] == 0x00 &&
	       dst->b[4] == 0x00 && (dst->b[5] & 0xf0) == 0x00;
}

bool lp_relay_filter_is_dhcp_server(const uint8_t *l3, size_t len)
{
	struct lp_buf b;
	uint8_t vihl, proto;
	uint16_t frag, sport;
	size_t ihl;

	lp_buf_init(&b, l3, len);
	vihl = lp_buf_u8(&b);
	(void)lp_buf_u8(&b);  /* DSCP/ECN */
	(void)lp_buf_u16(&b); /* total length: the frame may carry padding */
	(void)lp_buf_u16(&b); /* identification */
	frag = lp_buf_u16(&b);
	(void)lp_buf_u8(&b); /* TTL */
	proto = lp_buf_u8(&b);
	if (b.err != 0 || (vihl >> 4) != 4 || proto != LP_RELAY_IPPROTO_UDP)
		return false;
	/* Later fragments carry payload bytes where the UDP header would be. */
	if ((frag & 0x1fff) != 0)
		return false;
	ihl = (size_t)(vihl & 0x0f) * 4;
	if (ihl < 20 || ihl > len)
		return false;
	lp_buf_init(&b, l3 + ihl, len - ihl);
	sport = lp_buf_u16(&b);
	return b.err == 0 && sport == LP_RELAY_DHCP_SERVER_PORT;
}

bool lp_relay_filter_is_ipv6_ra(const uint8_t *l3, size_t len)
{
	struct lp_buf b;
	const uint8_t *skip;
	uint32_t vtc;
	uint8_t next, type;

	lp_buf_init(&b, l3, len);
	vtc = lp_buf_u32(&b);
	(void)lp_buf_u16(&b); /* payload length */
	next = lp_buf_u8(&b);
	(void)lp_buf_u8(&b);         /* hop limit */
	lp_buf_bytes(&b, &skip, 32); /* source and destination */
	if (b.err != 0 || (vtc >> 28) != 6)
		return false;
	if (next == LP_RELAY_IPV6_HOPOPTS) {
		/* Hop-by-hop options may only come first (RFC 8200 4.1); an RA
		 * carries it when a router adds Router Alert or padding. */
		uint8_t hbh_len;

		next = lp_buf_u8(&b);
		hbh_len = lp_buf_u8(&b);
		lp_buf_bytes(&b, &skip, (size_t)hbh_len * 8 + 6);
	}
	type = lp_buf_u8(&b);
	return b.err == 0 && next == LP_RELAY_IPPROTO_ICMPV6 && type == LP_RELAY_ICMPV6_RA;
}

enum lp_drop_reason lp_relay_filter_frame(const struct lp_eth *eth, enum lp_role role,
                                          const struct lp_mac *self, size_t room_mtu)
{
	bool client = role != LP_ROLE_GATEWAY;

	if (lp_proto_mac_is_group(&eth->src) || lp_proto_mac_is_zero(&eth->src))
		return LP_DROP_INVALID_SRC;
	if (client && !lp_proto_mac_equal(&eth->src, self))
		return LP_DROP_SPOOFED_SRC;
	if (eth->frame_len > room_mtu + LP_ETH_HDR_LEN + LP_ETH_VLAN_TAG_LEN * eth->vlan_count)
		return LP_DROP_JUMBO;
	if (lp_relay_filter_is_switch_control(&eth->dst))
		return LP_DROP_SWITCH_CONTROL;
	if (!client)
		return LP_DROP_NONE;
	if (eth->inner_ethertype == LP_ETHERTYPE_IPV4 &&
	    lp_relay_filter_is_dhcp_server(eth->l3, eth->l3_len))
		return LP_DROP_DHCP_SERVER;
	if (eth->inner_ethertype == LP_ETHERTYPE_IPV6 &&
	    lp_relay_filter_is_ipv6_ra(eth->l3, eth->l3_len))
		return LP_DROP_IPV6_RA;
	return LP_DROP_NONE;
}
