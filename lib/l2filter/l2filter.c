/*
 * l2filter.c - L2 safety filters (see lp_l2filter.h).
 */
#include "lp_l2filter.h"

#define IPV6_HDR_LEN 40
#define IPV6_HOPOPTS 0
#define IPV6_ROUTING 43
#define IPV6_FRAGMENT 44
#define IPV6_AH 51
#define IPV6_DSTOPTS 60
#define UDP_HDR_LEN 8

#define BOOTP_REPLY 2
#define BOOTP_COOKIE_OFFSET 236 /* op .. file: the fixed BOOTP fields */
#define BOOTP_COOKIE 0x63825363u
#define DHCP_OPT_PAD 0
#define DHCP_OPT_END 255
#define DHCP_OPT_MSG_TYPE 53
#define DHCP_OFFER 2
#define DHCP_ACK 5
#define DHCP_NAK 6
#define DHCP_FORCERENEW 9

#define DHCPV6_ADVERTISE 2
#define DHCPV6_REPLY 7
#define DHCPV6_RECONFIGURE 10
#define DHCPV6_RELAY_REPL 13

bool lp_l2filter_is_switch_control(const struct lp_mac *dst)
{
	return dst->b[0] == 0x01 && dst->b[1] == 0x80 && dst->b[2] == 0xc2 && dst->b[3] == 0x00 &&
	       dst->b[4] == 0x00 && (dst->b[5] & 0xf0) == 0x00;
}

/* The DHCP message type of a BOOTP payload, 0 when it carries none (plain
 * BOOTP, no magic cookie, or options cut short). */
static uint8_t dhcp_msg_type(struct lp_buf *b)
{
	const uint8_t *skip;

	lp_buf_bytes(b, &skip, BOOTP_COOKIE_OFFSET);
	if (lp_buf_u32(b) != BOOTP_COOKIE || b->err != 0)
		return 0;
	while (b->err == 0) {
		uint8_t code = lp_buf_u8(b), len;

		if (code == DHCP_OPT_PAD)
			continue;
		if (code == DHCP_OPT_END)
			return 0;
		len = lp_buf_u8(b);
		if (code == DHCP_OPT_MSG_TYPE && len == 1) {
			uint8_t type = lp_buf_u8(b);

			return b->err == 0 ? type : 0;
		}
		lp_buf_bytes(b, &skip, len);
	}
	return 0;
}

/* A BOOTP payload (UDP data on port 67 or 68) that only a server sends. */
static bool bootp_is_server(const uint8_t *p, size_t len)
{
	struct lp_buf b;
	uint8_t op, type;

	lp_buf_init(&b, p, len);
	op = lp_buf_u8(&b);
	if (b.err != 0)
		return false;
	if (op == BOOTP_REPLY)
		return true;
	lp_buf_init(&b, p, len);
	type = dhcp_msg_type(&b);
	return type == DHCP_OFFER || type == DHCP_ACK || type == DHCP_NAK ||
	       type == DHCP_FORCERENEW;
}

enum lp_drop_reason lp_l2filter_ipv4(const uint8_t *l3, size_t len)
{
	struct lp_buf b;
	uint8_t vihl, proto;
	uint16_t frag, sport, dport;
	size_t ihl;

	lp_buf_init(&b, l3, len);
	vihl = lp_buf_u8(&b);
	(void)lp_buf_u8(&b);  /* DSCP/ECN */
	(void)lp_buf_u16(&b); /* total length: the frame may carry padding */
	(void)lp_buf_u16(&b); /* identification */
	frag = lp_buf_u16(&b);
	(void)lp_buf_u8(&b); /* TTL */
	proto = lp_buf_u8(&b);
	if (b.err != 0 || (vihl >> 4) != 4 ||
	    (proto != LP_L2FILTER_IPPROTO_UDP && proto != LP_L2FILTER_IPPROTO_ICMP))
		return LP_DROP_NONE;
	/* Later fragments carry payload bytes where the UDP or ICMP header
	 * would be; the first one always holds it. */
	if ((frag & 0x1fff) != 0)
		return LP_DROP_NONE;
	ihl = (size_t)(vihl & 0x0f) * 4;
	if (ihl < 20 || ihl > len)
		return LP_DROP_NONE;
	lp_buf_init(&b, l3 + ihl, len - ihl);
	if (proto == LP_L2FILTER_IPPROTO_ICMP) {
		uint8_t type = lp_buf_u8(&b);

		return b.err == 0 && (type == LP_L2FILTER_ICMP_REDIRECT ||
		                      type == LP_L2FILTER_ICMP_ROUTER_ADV)
		               ? LP_DROP_ICMP_ROUTER
		               : LP_DROP_NONE;
	}
	sport = lp_buf_u16(&b);
	dport = lp_buf_u16(&b);
	if (b.err != 0)
		return LP_DROP_NONE;
	/* Every DHCP client listens on 68 and only servers and relay agents
	 * send there, whatever port they send from. */
	if (sport == LP_L2FILTER_DHCP_SERVER_PORT || dport == LP_L2FILTER_DHCP_CLIENT_PORT)
		return LP_DROP_DHCP_SERVER;
	if ((sport == LP_L2FILTER_DHCP_CLIENT_PORT || dport == LP_L2FILTER_DHCP_SERVER_PORT) &&
	    len - ihl > UDP_HDR_LEN &&
	    bootp_is_server(l3 + ihl + UDP_HDR_LEN, len - ihl - UDP_HDR_LEN))
		return LP_DROP_DHCP_SERVER;
	return LP_DROP_NONE;
}

static enum lp_drop_reason ipv6_udp(struct lp_buf *b, bool first_fragment)
{
	uint16_t sport, dport;
	uint8_t type;
	const uint8_t *skip;

	sport = lp_buf_u16(b);
	dport = lp_buf_u16(b);
	lp_buf_bytes(b, &skip, 4); /* length, checksum */
	if (b->err != 0)
		return first_fragment ? LP_DROP_IPV6_FRAGMENT : LP_DROP_NONE;
	if (dport == LP_L2FILTER_DHCPV6_CLIENT_PORT || sport == LP_L2FILTER_DHCPV6_SERVER_PORT)
		return LP_DROP_DHCPV6_SERVER;
	if (dport != LP_L2FILTER_DHCPV6_SERVER_PORT)
		return LP_DROP_NONE;
	type = lp_buf_u8(b);
	if (b->err != 0)
		return LP_DROP_NONE;
	if (type == DHCPV6_ADVERTISE || type == DHCPV6_REPLY || type == DHCPV6_RECONFIGURE ||
	    type == DHCPV6_RELAY_REPL)
		return LP_DROP_DHCPV6_SERVER;
	return LP_DROP_NONE;
}

static bool is_ext_header(uint8_t next)
{
	return next == IPV6_HOPOPTS || next == IPV6_ROUTING || next == IPV6_FRAGMENT ||
	       next == IPV6_AH || next == IPV6_DSTOPTS;
}

enum lp_drop_reason lp_l2filter_ipv6(const uint8_t *l3, size_t len)
{
	struct lp_buf b;
	const uint8_t *skip;
	uint32_t vtc;
	uint8_t next, type;
	bool first_fragment = false;

	lp_buf_init(&b, l3, len);
	vtc = lp_buf_u32(&b);
	(void)lp_buf_u16(&b); /* payload length */
	next = lp_buf_u8(&b);
	(void)lp_buf_u8(&b);         /* hop limit */
	lp_buf_bytes(&b, &skip, 32); /* source and destination */
	if (b.err != 0 || (vtc >> 28) != 6)
		return LP_DROP_NONE;
	/* Each extension header is at least 8 bytes, so the walk ends within
	 * len / 8 steps even when a sender chains them in a loop. */
	while (is_ext_header(next)) {
		uint8_t nh = lp_buf_u8(&b), hlen = lp_buf_u8(&b);

		if (next == IPV6_FRAGMENT) {
			uint16_t off = lp_buf_u16(&b);

			lp_buf_bytes(&b, &skip, 4); /* identification */
			if (b.err != 0)
				break;
			/* A later fragment starts mid-packet: what it carries
			 * cannot be read, only which header the first fragment
			 * started with. A router advertisement needs no
			 * fragmenting, so ICMPv6 and header chains go. */
			if ((off & 0xfff8) != 0)
				return nh == LP_L2FILTER_IPPROTO_ICMPV6 || is_ext_header(nh)
				               ? LP_DROP_IPV6_FRAGMENT
				               : LP_DROP_NONE;
			first_fragment = true;
		} else if (next == IPV6_AH) {
			/* RFC 4302: length in 4-byte units, minus 2. */
			lp_buf_bytes(&b, &skip, ((size_t)hlen + 2) * 4 - 2);
		} else {
			lp_buf_bytes(&b, &skip, (size_t)hlen * 8 + 6);
		}
		if (b.err != 0)
			break;
		next = nh;
	}
	if (b.err != 0)
		return first_fragment ? LP_DROP_IPV6_FRAGMENT : LP_DROP_NONE;
	if (next == LP_L2FILTER_IPPROTO_UDP)
		return ipv6_udp(&b, first_fragment);
	if (next != LP_L2FILTER_IPPROTO_ICMPV6)
		return LP_DROP_NONE;
	type = lp_buf_u8(&b);
	if (b.err != 0)
		return first_fragment ? LP_DROP_IPV6_FRAGMENT : LP_DROP_NONE;
	if (type == LP_L2FILTER_ICMPV6_RA)
		return LP_DROP_IPV6_RA;
	/* A redirect moves a host's next hop as surely as an RA does. */
	if (type == LP_L2FILTER_ICMPV6_REDIRECT)
		return LP_DROP_ICMP_ROUTER;
	return LP_DROP_NONE;
}

enum lp_drop_reason lp_l2filter_header(const struct lp_eth *eth, bool from_gateway,
                                       const struct lp_mac *self, size_t room_mtu)
{
	if (lp_proto_mac_is_group(&eth->src) || lp_proto_mac_is_zero(&eth->src))
		return LP_DROP_INVALID_SRC;
	if (!from_gateway && self != NULL && !lp_proto_mac_equal(&eth->src, self))
		return LP_DROP_SPOOFED_SRC;
	if (room_mtu != 0 &&
	    eth->frame_len > room_mtu + LP_ETH_HDR_LEN + LP_ETH_VLAN_TAG_LEN * eth->vlan_count)
		return LP_DROP_JUMBO;
	if (lp_l2filter_is_switch_control(&eth->dst))
		return LP_DROP_SWITCH_CONTROL;
	/* A player's tags could reach a VLAN of the LAN it was never given. */
	if (!from_gateway && eth->vlan_count > 0)
		return LP_DROP_VLAN_TAGGED;
	return LP_DROP_NONE;
}

enum lp_drop_reason lp_l2filter_payload(const struct lp_eth *eth, bool from_gateway)
{
	if (from_gateway)
		return LP_DROP_NONE;
	if (eth->inner_ethertype == LP_ETHERTYPE_IPV4)
		return lp_l2filter_ipv4(eth->l3, eth->l3_len);
	if (eth->inner_ethertype == LP_ETHERTYPE_IPV6)
		return lp_l2filter_ipv6(eth->l3, eth->l3_len);
	return LP_DROP_NONE;
}

enum lp_drop_reason lp_l2filter_relay(const struct lp_eth *eth, bool from_gateway,
                                      const struct lp_mac *self, size_t room_mtu)
{
	enum lp_drop_reason why = lp_l2filter_header(eth, from_gateway, self, room_mtu);

	return why != LP_DROP_NONE ? why : lp_l2filter_payload(eth, from_gateway);
}

enum lp_drop_reason lp_l2filter_rx(const uint8_t *frame, size_t len, bool from_gateway)
{
	struct lp_eth eth;
	enum lp_drop_reason why;

	if (lp_proto_eth_parse(frame, len, &eth) != 0)
		return LP_DROP_MALFORMED;
	why = lp_l2filter_header(&eth, from_gateway, NULL, 0);
	return why != LP_DROP_NONE ? why : lp_l2filter_payload(&eth, from_gateway);
}
