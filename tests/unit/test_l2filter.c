/*
 * L2 safety filters (lib/l2filter). The "bypass" tests are the attacks
 * found against the relay's first filter set (src/relay/filter.c before
 * lib/l2filter): each one passed that filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lp_l2filter.h"

#define MTU 1380

static const struct lp_mac client_mac = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0c } };
static const struct lp_mac lan_mac = { { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 } };
static const struct lp_mac bcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
static const struct lp_mac all_nodes = { { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 } };

/* Ethernet header with optional tags (vids, n of them; two = Q-in-Q). */
static size_t eth_hdr(uint8_t *f, const struct lp_mac *dst, const struct lp_mac *src,
                      const uint16_t *vids, unsigned n, uint16_t type)
{
	size_t o = 12;

	memcpy(f, dst->b, 6);
	memcpy(f + 6, src->b, 6);
	for (unsigned i = 0; i < n; i++) {
		lp_put_u16(f + o, i == 0 && n == 2 ? LP_ETHERTYPE_QINQ : LP_ETHERTYPE_VLAN);
		lp_put_u16(f + o + 2, vids[i]);
		o += 4;
	}
	lp_put_u16(f + o, type);
	return o + 2;
}

/* IPv4 + UDP sport->dport with IHL ihl (words) and fragment field frag,
 * followed by 20 zero bytes. */
static size_t ipv4_udp(uint8_t *p, unsigned ihl, uint16_t frag, uint8_t proto, uint16_t sport,
                       uint16_t dport)
{
	size_t hl = ihl * 4u;

	memset(p, 0, hl + 8 + 20);
	p[0] = (uint8_t)(0x40 | ihl);
	lp_put_u16(p + 2, (uint16_t)(hl + 8 + 20));
	lp_put_u16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	lp_put_u16(p + hl, sport);
	lp_put_u16(p + hl + 2, dport);
	lp_put_u16(p + hl + 4, 28);
	return hl + 8 + 20;
}

/* IPv4 + UDP + a BOOTP message with op and, when msg_type != 0, the magic
 * cookie and option 53 (after a pad and an unrelated option). */
static size_t ipv4_bootp(uint8_t *p, uint16_t sport, uint16_t dport, uint8_t op, uint8_t msg_type)
{
	size_t o = 28;

	memset(p, 0, 400);
	p[0] = 0x45;
	p[8] = 64;
	p[9] = LP_L2FILTER_IPPROTO_UDP;
	lp_put_u16(p + 20, sport);
	lp_put_u16(p + 22, dport);
	p[o] = op;
	p[o + 1] = 1; /* htype Ethernet */
	p[o + 2] = 6;
	o += 236;
	if (msg_type != 0) {
		lp_put_u32(p + o, 0x63825363u);
		o += 4;
		p[o++] = 0;  /* pad */
		p[o++] = 61; /* client identifier, 3 bytes */
		p[o++] = 3;
		o += 3;
		p[o++] = 53;
		p[o++] = 1;
		p[o++] = msg_type;
		p[o++] = 255;
	}
	lp_put_u16(p + 2, (uint16_t)o);
	lp_put_u16(p + 24, (uint16_t)(o - 20));
	return o;
}

/*
 * IPv6 packet: the extension headers exts[0..n) in order (44 = fragment
 * header with offset field frag_off, 51 = a 12-byte AH, others 8 bytes),
 * then upper-layer protocol `upper` with the bytes up[0..uplen).
 */
static size_t ipv6_pkt(uint8_t *p, const uint8_t *exts, unsigned n, uint16_t frag_off,
                       uint8_t upper, const uint8_t *up, size_t uplen)
{
	size_t o = 40;

	memset(p, 0, 40);
	p[0] = 0x60;
	p[6] = n > 0 ? exts[0] : upper;
	p[7] = 255;
	p[8] = 0xfe; /* fe80::1 -> ff02::1 */
	p[9] = 0x80;
	p[23] = 1;
	p[24] = 0xff;
	p[25] = 0x02;
	p[39] = 1;
	for (unsigned i = 0; i < n; i++) {
		size_t len = exts[i] == 51 ? 12 : 8;

		memset(p + o, 0, len);
		p[o] = i + 1 < n ? exts[i + 1] : upper;
		if (exts[i] == 44)
			lp_put_u16(p + o + 2, frag_off);
		else if (exts[i] == 51)
			p[o + 1] = 1; /* (1 + 2) * 4 = 12 bytes */
		o += len;
	}
	memcpy(p + o, up, uplen);
	o += uplen;
	lp_put_u16(p + 4, (uint16_t)(o - 40));
	return o;
}

static size_t ipv6_icmp(uint8_t *p, const uint8_t *exts, unsigned n, uint16_t frag_off,
                        uint8_t type)
{
	uint8_t icmp[16] = { type };

	return ipv6_pkt(p, exts, n, frag_off, LP_L2FILTER_IPPROTO_ICMPV6, icmp, sizeof(icmp));
}

static size_t ipv6_udp(uint8_t *p, const uint8_t *exts, unsigned n, uint16_t sport, uint16_t dport,
                       uint8_t msg_type)
{
	uint8_t udp[20] = { 0 };

	lp_put_u16(udp, sport);
	lp_put_u16(udp + 2, dport);
	lp_put_u16(udp + 4, sizeof(udp));
	udp[8] = msg_type;
	return ipv6_pkt(p, exts, n, 0, LP_L2FILTER_IPPROTO_UDP, udp, sizeof(udp));
}

static void parse(const uint8_t *f, size_t len, struct lp_eth *eth)
{
	assert_int_equal(lp_proto_eth_parse(f, len, eth), 0);
}

/* The relay's verdict on an IPv4/IPv6 frame (l3 of l3len bytes) a client
 * sends, and that the same frame passes from the gateway. */
static enum lp_drop_reason from_client(uint16_t type, const uint8_t *l3, size_t l3len)
{
	uint8_t f[2048];
	struct lp_eth eth;
	size_t n = eth_hdr(f, type == LP_ETHERTYPE_IPV6 ? &all_nodes : &bcast, &client_mac, NULL, 0,
	                   type);

	assert_true(n + l3len <= sizeof(f));
	memcpy(f + n, l3, l3len);
	parse(f, n + l3len, &eth);
	assert_int_equal(lp_l2filter_relay(&eth, true, &lan_mac, MTU), LP_DROP_NONE);
	return lp_l2filter_relay(&eth, false, &client_mac, MTU);
}

static void test_switch_control_range(void **state)
{
	struct lp_mac m = { { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 } };

	(void)state;
	for (unsigned i = 0; i <= 0x0f; i++) {
		m.b[5] = (uint8_t)i;
		assert_true(lp_l2filter_is_switch_control(&m));
	}
	m.b[5] = 0x10; /* 01:80:c2:00:00:10 is outside the reserved block */
	assert_false(lp_l2filter_is_switch_control(&m));
	m.b[5] = 0x0e;
	m.b[4] = 0x01;
	assert_false(lp_l2filter_is_switch_control(&m));
	assert_false(lp_l2filter_is_switch_control(&bcast));
}

static void test_dhcp_server_detection(void **state)
{
	uint8_t p[128];
	size_t n;

	(void)state;
	n = ipv4_udp(p, 5, 0, LP_L2FILTER_IPPROTO_UDP, 67, 68);
	assert_int_equal(lp_l2filter_ipv4(p, n), LP_DROP_DHCP_SERVER);
	/* Options in the IP header: the UDP header moves. */
	n = ipv4_udp(p, 7, 0, LP_L2FILTER_IPPROTO_UDP, 67, 68);
	assert_int_equal(lp_l2filter_ipv4(p, n), LP_DROP_DHCP_SERVER);
	n = ipv4_udp(p, 7, 0, LP_L2FILTER_IPPROTO_UDP, 68, 67); /* client request */
	assert_int_equal(lp_l2filter_ipv4(p, n), LP_DROP_NONE);
	/* First fragment with MF set still carries UDP. */
	n = ipv4_udp(p, 5, 0x2000, LP_L2FILTER_IPPROTO_UDP, 67, 68);
	assert_int_equal(lp_l2filter_ipv4(p, n), LP_DROP_DHCP_SERVER);
	/* Later fragment: bytes at the UDP position are payload. */
	n = ipv4_udp(p, 5, 0x2000 | 185, LP_L2FILTER_IPPROTO_UDP, 67, 68);
	assert_int_equal(lp_l2filter_ipv4(p, n), LP_DROP_NONE);
	n = ipv4_udp(p, 5, 0, 6 /* TCP */, 67, 68);
	assert_int_equal(lp_l2filter_ipv4(p, n), LP_DROP_NONE);
	/* IHL < 5 is invalid; IHL beyond the packet cannot be read. */
	n = ipv4_udp(p, 5, 0, LP_L2FILTER_IPPROTO_UDP, 67, 68);
	p[0] = 0x44;
	assert_int_equal(lp_l2filter_ipv4(p, n), LP_DROP_NONE);
	p[0] = 0x4f;
	assert_int_equal(lp_l2filter_ipv4(p, 40), LP_DROP_NONE);
	/* Truncated before the destination port, and not IPv4. */
	n = ipv4_udp(p, 5, 0, LP_L2FILTER_IPPROTO_UDP, 67, 68);
	assert_int_equal(lp_l2filter_ipv4(p, 23), LP_DROP_NONE);
	assert_int_equal(lp_l2filter_ipv4(p, 24), LP_DROP_DHCP_SERVER);
	p[0] = 0x65;
	assert_int_equal(lp_l2filter_ipv4(p, n), LP_DROP_NONE);
	assert_int_equal(lp_l2filter_ipv4(p, 0), LP_DROP_NONE);
}

/* Bypass: a DHCP server answering from a port other than 67. */
static void test_bypass_dhcp_other_source_port(void **state)
{
	uint8_t p[400];
	size_t n;

	(void)state;
	/* OFFER from 6767 to the client port 68. */
	n = ipv4_bootp(p, 6767, 68, 2, 2);
	assert_int_equal(from_client(LP_ETHERTYPE_IPV4, p, n), LP_DROP_DHCP_SERVER);
	/* To port 68 from any port, even without a BOOTP body. */
	n = ipv4_udp(p, 5, 0, LP_L2FILTER_IPPROTO_UDP, 40000, 68);
	assert_int_equal(from_client(LP_ETHERTYPE_IPV4, p, n), LP_DROP_DHCP_SERVER);
	/* Server messages between the DHCP ports, told by op or message type. */
	n = ipv4_bootp(p, 68, 67, 2, 0); /* BOOTREPLY, plain BOOTP */
	assert_int_equal(from_client(LP_ETHERTYPE_IPV4, p, n), LP_DROP_DHCP_SERVER);
	n = ipv4_bootp(p, 1234, 67, 1, 5); /* op BOOTREQUEST but DHCPACK */
	assert_int_equal(from_client(LP_ETHERTYPE_IPV4, p, n), LP_DROP_DHCP_SERVER);
	n = ipv4_bootp(p, 68, 1234, 1, 6); /* NAK */
	assert_int_equal(from_client(LP_ETHERTYPE_IPV4, p, n), LP_DROP_DHCP_SERVER);
	n = ipv4_bootp(p, 68, 1234, 1, 9); /* FORCERENEW */
	assert_int_equal(from_client(LP_ETHERTYPE_IPV4, p, n), LP_DROP_DHCP_SERVER);
}

/* Bypass: ICMP redirects and IRDP router advertisements (RFC 1256). */
static void test_bypass_icmp_router(void **state)
{
	uint8_t p[128];
	size_t n;

	(void)state;
	n = ipv4_udp(p, 5, 0, LP_L2FILTER_IPPROTO_ICMP, 0, 0);
	for (unsigned type = 0; type < 256; type++) {
		p[20] = (uint8_t)type;
		assert_int_equal(from_client(LP_ETHERTYPE_IPV4, p, n),
		                 type == 5 || type == 9 ? LP_DROP_ICMP_ROUTER : LP_DROP_NONE);
	}
	/* Behind IP options; not in a later fragment; not when cut short. */
	n = ipv4_udp(p, 6, 0, LP_L2FILTER_IPPROTO_ICMP, 0, 0);
	p[24] = LP_L2FILTER_ICMP_REDIRECT;
	assert_int_equal(lp_l2filter_ipv4(p, n), LP_DROP_ICMP_ROUTER);
	assert_int_equal(lp_l2filter_ipv4(p, 24), LP_DROP_NONE);
	n = ipv4_udp(p, 5, 185, LP_L2FILTER_IPPROTO_ICMP, 0, 0);
	p[20] = LP_L2FILTER_ICMP_REDIRECT;
	assert_int_equal(lp_l2filter_ipv4(p, n), LP_DROP_NONE);
}

/* What a DHCP client sends passes. */
static void test_dhcp_client_messages_pass(void **state)
{
	static const uint8_t types[] = { 1, 3, 4, 7,
		                         8 }; /* DISCOVER REQUEST DECLINE RELEASE INFORM */
	uint8_t p[400];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		n = ipv4_bootp(p, 68, 67, 1, types[i]);
		assert_int_equal(from_client(LP_ETHERTYPE_IPV4, p, n), LP_DROP_NONE);
	}
	n = ipv4_bootp(p, 68, 67, 1, 0); /* plain BOOTP request */
	assert_int_equal(from_client(LP_ETHERTYPE_IPV4, p, n), LP_DROP_NONE);
	/* Options cut short, and an option longer than the packet. */
	n = ipv4_bootp(p, 68, 67, 1, 2);
	assert_int_equal(lp_l2filter_ipv4(p, n - 3), LP_DROP_NONE);
	p[28 + 236 + 6] = 200; /* option 61 claims 200 bytes */
	assert_int_equal(lp_l2filter_ipv4(p, n), LP_DROP_NONE);
	/* Unrelated UDP. */
	n = ipv4_udp(p, 5, 0, LP_L2FILTER_IPPROTO_UDP, 27015, 27015);
	assert_int_equal(from_client(LP_ETHERTYPE_IPV4, p, n), LP_DROP_NONE);
}

static void test_ra_detection(void **state)
{
	static const uint8_t hbh[] = { 0 };
	uint8_t p[256];
	size_t n;

	(void)state;
	n = ipv6_icmp(p, NULL, 0, 0, LP_L2FILTER_ICMPV6_RA);
	assert_int_equal(lp_l2filter_ipv6(p, n), LP_DROP_IPV6_RA);
	n = ipv6_icmp(p, hbh, 1, 0, LP_L2FILTER_ICMPV6_RA);
	assert_int_equal(lp_l2filter_ipv6(p, n), LP_DROP_IPV6_RA);
	/* Solicitations, neighbour discovery and echo are fine. */
	n = ipv6_icmp(p, NULL, 0, 0, 133);
	assert_int_equal(lp_l2filter_ipv6(p, n), LP_DROP_NONE);
	n = ipv6_icmp(p, hbh, 1, 0, 135);
	assert_int_equal(lp_l2filter_ipv6(p, n), LP_DROP_NONE);
	n = ipv6_icmp(p, NULL, 0, 0, 128);
	assert_int_equal(lp_l2filter_ipv6(p, n), LP_DROP_NONE);
	/* Hop-by-hop claiming to be longer than the packet. */
	n = ipv6_icmp(p, hbh, 1, 0, LP_L2FILTER_ICMPV6_RA);
	p[41] = 10;
	assert_int_equal(lp_l2filter_ipv6(p, n), LP_DROP_NONE);
	/* Truncated right before the ICMPv6 type; not IPv6. */
	n = ipv6_icmp(p, NULL, 0, 0, LP_L2FILTER_ICMPV6_RA);
	assert_int_equal(lp_l2filter_ipv6(p, 40), LP_DROP_NONE);
	assert_int_equal(lp_l2filter_ipv6(p, 41), LP_DROP_IPV6_RA);
	p[0] = 0x40;
	assert_int_equal(lp_l2filter_ipv6(p, n), LP_DROP_NONE);
}

/* Bypass: a router advertisement behind IPv6 extension headers. */
static void test_bypass_ra_behind_extension_headers(void **state)
{
	static const uint8_t chains[][3] = {
		{ 60 },         /* destination options */
		{ 43 },         /* routing */
		{ 44 },         /* atomic fragment (offset 0, M 0) */
		{ 51 },         /* AH */
		{ 0, 60 },      /* hop-by-hop, destination options */
		{ 0, 44, 60 },  /* ... and a first fragment */
		{ 60, 43, 60 }, /* three in a row */
	};
	static const unsigned lens[] = { 1, 1, 1, 1, 2, 3, 3 };
	uint8_t p[256];
	size_t n;

	(void)state;
	for (size_t i = 0; i < LP_ARRAY_LEN(chains); i++) {
		n = ipv6_icmp(p, chains[i], lens[i], 0, LP_L2FILTER_ICMPV6_RA);
		assert_int_equal(from_client(LP_ETHERTYPE_IPV6, p, n), LP_DROP_IPV6_RA);
		/* The same chain in front of neighbour solicitation passes. */
		n = ipv6_icmp(p, chains[i], lens[i], 0, 135);
		assert_int_equal(from_client(LP_ETHERTYPE_IPV6, p, n), LP_DROP_NONE);
	}
	/* First fragment (M set) carrying the RA header. */
	{
		static const uint8_t frag[] = { 44 };

		n = ipv6_icmp(p, frag, 1, 0x0001, LP_L2FILTER_ICMPV6_RA);
		assert_int_equal(from_client(LP_ETHERTYPE_IPV6, p, n), LP_DROP_IPV6_RA);
	}
	/* A redirect changes a host's next hop as an RA does. */
	n = ipv6_icmp(p, chains[0], 1, 0, LP_L2FILTER_ICMPV6_REDIRECT);
	assert_int_equal(from_client(LP_ETHERTYPE_IPV6, p, n), LP_DROP_ICMP_ROUTER);
	n = ipv6_icmp(p, NULL, 0, 0, LP_L2FILTER_ICMPV6_REDIRECT);
	assert_int_equal(from_client(LP_ETHERTYPE_IPV6, p, n), LP_DROP_ICMP_ROUTER);
}

/* Bypass: fragments hiding the ICMPv6 header. */
static void test_bypass_ipv6_fragments(void **state)
{
	static const uint8_t frag[] = { 44 };
	static const uint8_t frag_dst[] = { 44, 60 };
	uint8_t p[256];
	size_t n;

	(void)state;
	/* Non-first fragment (offset 8 bytes) of ICMPv6. */
	n = ipv6_icmp(p, frag, 1, 1u << 3, 128);
	assert_int_equal(from_client(LP_ETHERTYPE_IPV6, p, n), LP_DROP_IPV6_FRAGMENT);
	/* ... of a packet whose fragmentable part starts with an extension header. */
	n = ipv6_icmp(p, frag_dst, 2, (1u << 3) | 1, 128);
	assert_int_equal(from_client(LP_ETHERTYPE_IPV6, p, n), LP_DROP_IPV6_FRAGMENT);
	/* First fragment that ends inside the header chain (RFC 7112). */
	n = ipv6_icmp(p, frag_dst, 2, 1, LP_L2FILTER_ICMPV6_RA);
	assert_int_equal(lp_l2filter_ipv6(p, 40 + 8 + 4), LP_DROP_IPV6_FRAGMENT);
	/* ... or before the ICMPv6 type. */
	n = ipv6_icmp(p, frag, 1, 1, LP_L2FILTER_ICMPV6_RA);
	assert_int_equal(lp_l2filter_ipv6(p, 40 + 8), LP_DROP_IPV6_FRAGMENT);
	/* The same truncation without a fragment header: nothing to decide. */
	n = ipv6_icmp(p, frag_dst + 1, 1, 0, LP_L2FILTER_ICMPV6_RA);
	assert_int_equal(lp_l2filter_ipv6(p, 40 + 4), LP_DROP_NONE);
	/* Fragments of UDP and TCP pass: their first fragment holds the ports. */
	{
		uint8_t udp[16] = { 0 };

		n = ipv6_pkt(p, frag, 1, 1u << 3, LP_L2FILTER_IPPROTO_UDP, udp, sizeof(udp));
		assert_int_equal(from_client(LP_ETHERTYPE_IPV6, p, n), LP_DROP_NONE);
		n = ipv6_pkt(p, frag, 1, 1u << 3, 6, udp, sizeof(udp));
		assert_int_equal(from_client(LP_ETHERTYPE_IPV6, p, n), LP_DROP_NONE);
	}
}

/* Bypass: DHCPv6 server messages. */
static void test_bypass_dhcpv6_server(void **state)
{
	static const uint8_t dst[] = { 60 };
	static const uint8_t server_types[] = { 2, 7, 10, 13 };
	static const uint8_t client_types[] = { 1, 3, 5, 11 };
	uint8_t p[256];
	size_t n;

	(void)state;
	n = ipv6_udp(p, NULL, 0, 547, 546, 2); /* ADVERTISE */
	assert_int_equal(from_client(LP_ETHERTYPE_IPV6, p, n), LP_DROP_DHCPV6_SERVER);
	n = ipv6_udp(p, NULL, 0, 40000, 546, 7); /* REPLY from another port */
	assert_int_equal(from_client(LP_ETHERTYPE_IPV6, p, n), LP_DROP_DHCPV6_SERVER);
	n = ipv6_udp(p, dst, 1, 547, 546, 10); /* RECONFIGURE behind a header */
	assert_int_equal(from_client(LP_ETHERTYPE_IPV6, p, n), LP_DROP_DHCPV6_SERVER);
	n = ipv6_udp(p, NULL, 0, 547, 40000, 1);
	assert_int_equal(from_client(LP_ETHERTYPE_IPV6, p, n), LP_DROP_DHCPV6_SERVER);
	/* To the server port: server-side types only. */
	for (size_t i = 0; i < sizeof(server_types); i++) {
		n = ipv6_udp(p, NULL, 0, 40000, 547, server_types[i]);
		assert_int_equal(from_client(LP_ETHERTYPE_IPV6, p, n), LP_DROP_DHCPV6_SERVER);
	}
	/* A client's SOLICIT, REQUEST, RENEW, INFORMATION-REQUEST pass. */
	for (size_t i = 0; i < sizeof(client_types); i++) {
		n = ipv6_udp(p, NULL, 0, 546, 547, client_types[i]);
		assert_int_equal(from_client(LP_ETHERTYPE_IPV6, p, n), LP_DROP_NONE);
	}
	/* Truncated: no UDP header in an unfragmented packet decides nothing;
	 * the server port without a message type neither. */
	n = ipv6_udp(p, NULL, 0, 547, 546, 2);
	assert_int_equal(lp_l2filter_ipv6(p, 40 + 7), LP_DROP_NONE);
	n = ipv6_udp(p, NULL, 0, 40000, 547, 2);
	assert_int_equal(lp_l2filter_ipv6(p, 40 + 8), LP_DROP_NONE);
}

static void test_frame_filters(void **state)
{
	uint8_t f[2048];
	uint16_t vids[2] = { 10, 20 };
	struct lp_eth eth;
	struct lp_mac stp = { { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 } };
	struct lp_mac zero = { { 0 } };
	size_t n;

	(void)state;
	/* ARP broadcast from the client itself passes. */
	n = eth_hdr(f, &bcast, &client_mac, NULL, 0, LP_ETHERTYPE_ARP);
	memset(f + n, 0, 28);
	parse(f, n + 28, &eth);
	assert_int_equal(lp_l2filter_relay(&eth, false, &client_mac, MTU), LP_DROP_NONE);
	/* Invalid sources, from anyone. */
	n = eth_hdr(f, &bcast, &bcast, NULL, 0, LP_ETHERTYPE_ARP);
	parse(f, n + 28, &eth);
	assert_int_equal(lp_l2filter_relay(&eth, true, &lan_mac, MTU), LP_DROP_INVALID_SRC);
	n = eth_hdr(f, &bcast, &zero, NULL, 0, LP_ETHERTYPE_ARP);
	parse(f, n + 28, &eth);
	assert_int_equal(lp_l2filter_relay(&eth, true, &lan_mac, MTU), LP_DROP_INVALID_SRC);
	/* A client may only send as itself; the gateway carries the LAN. */
	n = eth_hdr(f, &bcast, &lan_mac, NULL, 0, LP_ETHERTYPE_ARP);
	parse(f, n + 28, &eth);
	assert_int_equal(lp_l2filter_relay(&eth, false, &client_mac, MTU), LP_DROP_SPOOFED_SRC);
	assert_int_equal(lp_l2filter_relay(&eth, true, &client_mac, MTU), LP_DROP_NONE);
	/* Jumbo: MTU + 14 passes, one more byte does not; each tag adds 4. */
	n = eth_hdr(f, &bcast, &client_mac, NULL, 0, LP_ETHERTYPE_IPV4);
	memset(f + n, 0, sizeof(f) - n);
	parse(f, MTU + 14, &eth);
	assert_int_equal(lp_l2filter_relay(&eth, false, &client_mac, MTU), LP_DROP_NONE);
	parse(f, MTU + 15, &eth);
	assert_int_equal(lp_l2filter_relay(&eth, true, &client_mac, MTU), LP_DROP_JUMBO);
	n = eth_hdr(f, &bcast, &lan_mac, vids, 2, LP_ETHERTYPE_IPV4);
	parse(f, MTU + 22, &eth);
	assert_int_equal(lp_l2filter_relay(&eth, true, &client_mac, MTU), LP_DROP_NONE);
	parse(f, MTU + 23, &eth);
	assert_int_equal(lp_l2filter_relay(&eth, true, &client_mac, MTU), LP_DROP_JUMBO);
	/* STP BPDU (LLC) to 01:80:c2:00:00:00, from the gateway too. */
	n = eth_hdr(f, &stp, &lan_mac, NULL, 0, 38);
	memset(f + n, 0x42, 38);
	parse(f, n + 38, &eth);
	assert_int_equal(lp_l2filter_relay(&eth, true, &client_mac, MTU), LP_DROP_SWITCH_CONTROL);
}

/* Bypass: 802.1Q / 802.1ad tagged frames from a client. */
static void test_bypass_vlan_tagged_client(void **state)
{
	uint8_t f[256];
	uint16_t vids[2] = { 100, 200 };
	struct lp_eth eth;
	size_t n;

	(void)state;
	for (unsigned tags = 1; tags <= 2; tags++) {
		n = eth_hdr(f, &bcast, &client_mac, vids, tags, LP_ETHERTYPE_ARP);
		memset(f + n, 0, 28);
		parse(f, n + 28, &eth);
		assert_int_equal(lp_l2filter_relay(&eth, false, &client_mac, MTU),
		                 LP_DROP_VLAN_TAGGED);
		assert_int_equal(lp_l2filter_header(&eth, false, NULL, 0), LP_DROP_VLAN_TAGGED);
		/* The gateway bridges a LAN that may carry VLANs. */
		assert_int_equal(lp_l2filter_relay(&eth, true, &lan_mac, MTU), LP_DROP_NONE);
	}
	/* Priority tag (VID 0) is a tag too. */
	vids[0] = 0;
	n = eth_hdr(f, &bcast, &client_mac, vids, 1, LP_ETHERTYPE_ARP);
	parse(f, n + 28, &eth);
	assert_int_equal(lp_l2filter_relay(&eth, false, &client_mac, MTU), LP_DROP_VLAN_TAGGED);
}

static void test_dhcp_and_ra_by_role(void **state)
{
	static const uint8_t hbh[] = { 0 };
	uint8_t f[512];
	uint16_t vids[2] = { 100, 200 };
	struct lp_eth eth;
	size_t n;

	(void)state;
	/* Behind tags, a client frame stops at vlan_tagged; the payload check
	 * alone still sees the offer. */
	for (unsigned tags = 0; tags <= 2; tags++) {
		n = eth_hdr(f, &bcast, &client_mac, vids, tags, LP_ETHERTYPE_IPV4);
		n += ipv4_udp(f + n, 5, 0, LP_L2FILTER_IPPROTO_UDP, 67, 68);
		parse(f, n, &eth);
		assert_int_equal(lp_l2filter_relay(&eth, false, &client_mac, MTU),
		                 tags == 0 ? LP_DROP_DHCP_SERVER : LP_DROP_VLAN_TAGGED);
		assert_int_equal(lp_l2filter_payload(&eth, false), LP_DROP_DHCP_SERVER);
		assert_int_equal(lp_l2filter_payload(&eth, true), LP_DROP_NONE);
	}
	/* The same offer from the gateway is the LAN's DHCP server. */
	n = eth_hdr(f, &bcast, &lan_mac, NULL, 0, LP_ETHERTYPE_IPV4);
	n += ipv4_bootp(f + n, 67, 68, 2, 2);
	parse(f, n, &eth);
	assert_int_equal(lp_l2filter_relay(&eth, true, &client_mac, MTU), LP_DROP_NONE);
	/* RA from the gateway, direct, after hop-by-hop, and tagged. */
	for (unsigned tags = 0; tags <= 1; tags++) {
		for (unsigned h = 0; h <= 1; h++) {
			n = eth_hdr(f, &all_nodes, &lan_mac, vids, tags, LP_ETHERTYPE_IPV6);
			n += ipv6_icmp(f + n, hbh, h, 0, LP_L2FILTER_ICMPV6_RA);
			parse(f, n, &eth);
			assert_int_equal(lp_l2filter_relay(&eth, true, &client_mac, MTU),
			                 LP_DROP_NONE);
			assert_int_equal(lp_l2filter_payload(&eth, false), LP_DROP_IPV6_RA);
		}
	}
	/* The gateway's DHCPv6 ADVERTISE too. */
	n = eth_hdr(f, &all_nodes, &lan_mac, NULL, 0, LP_ETHERTYPE_IPV6);
	n += ipv6_udp(f + n, NULL, 0, 547, 546, 2);
	parse(f, n, &eth);
	assert_int_equal(lp_l2filter_relay(&eth, true, &client_mac, MTU), LP_DROP_NONE);
}

/* A receiving peer: the frame as bytes, FROM_GATEWAY as the sender's role. */
static void test_rx(void **state)
{
	uint8_t f[512];
	uint16_t vid = 7;
	struct lp_mac stp = { { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e } };
	size_t n;

	(void)state;
	memset(f, 0, sizeof(f));
	assert_int_equal(lp_l2filter_rx(f, 13, true), LP_DROP_MALFORMED);
	assert_int_equal(lp_l2filter_rx(NULL, 0, false), LP_DROP_MALFORMED);
	/* RA: from the gateway's side only. */
	n = eth_hdr(f, &all_nodes, &lan_mac, NULL, 0, LP_ETHERTYPE_IPV6);
	n += ipv6_icmp(f + n, NULL, 0, 0, LP_L2FILTER_ICMPV6_RA);
	assert_int_equal(lp_l2filter_rx(f, n, true), LP_DROP_NONE);
	assert_int_equal(lp_l2filter_rx(f, n, false), LP_DROP_IPV6_RA);
	/* DHCP offer: the same. No spoofing check at a receiver (no self). */
	n = eth_hdr(f, &bcast, &lan_mac, NULL, 0, LP_ETHERTYPE_IPV4);
	n += ipv4_bootp(f + n, 6767, 68, 2, 2);
	assert_int_equal(lp_l2filter_rx(f, n, true), LP_DROP_NONE);
	assert_int_equal(lp_l2filter_rx(f, n, false), LP_DROP_DHCP_SERVER);
	/* DHCPv6. */
	n = eth_hdr(f, &all_nodes, &lan_mac, NULL, 0, LP_ETHERTYPE_IPV6);
	n += ipv6_udp(f + n, NULL, 0, 547, 546, 7);
	assert_int_equal(lp_l2filter_rx(f, n, true), LP_DROP_NONE);
	assert_int_equal(lp_l2filter_rx(f, n, false), LP_DROP_DHCPV6_SERVER);
	/* Tags, switch control and invalid sources: no MTU check at a receiver. */
	n = eth_hdr(f, &bcast, &client_mac, &vid, 1, LP_ETHERTYPE_ARP);
	memset(f + n, 0, 28);
	assert_int_equal(lp_l2filter_rx(f, n + 28, false), LP_DROP_VLAN_TAGGED);
	assert_int_equal(lp_l2filter_rx(f, n + 28, true), LP_DROP_NONE);
	n = eth_hdr(f, &stp, &lan_mac, NULL, 0, LP_ETHERTYPE_LLDP);
	assert_int_equal(lp_l2filter_rx(f, n + 28, true), LP_DROP_SWITCH_CONTROL);
	n = eth_hdr(f, &bcast, &bcast, NULL, 0, LP_ETHERTYPE_ARP);
	assert_int_equal(lp_l2filter_rx(f, n + 28, true), LP_DROP_INVALID_SRC);
	/* A plain client ARP passes everywhere. */
	n = eth_hdr(f, &bcast, &client_mac, NULL, 0, LP_ETHERTYPE_ARP);
	assert_int_equal(lp_l2filter_rx(f, n + 28, false), LP_DROP_NONE);
}

/* Every reason the filters return has a name and counts as "filtered". */
static void test_reason_names(void **state)
{
	static const enum lp_drop_reason r[] = {
		LP_DROP_INVALID_SRC,    LP_DROP_SPOOFED_SRC, LP_DROP_JUMBO,
		LP_DROP_SWITCH_CONTROL, LP_DROP_VLAN_TAGGED, LP_DROP_DHCP_SERVER,
		LP_DROP_DHCPV6_SERVER,  LP_DROP_IPV6_RA,     LP_DROP_IPV6_FRAGMENT,
		LP_DROP_LAN_MAC,        LP_DROP_ICMP_ROUTER,
	};
	enum lp_drop_reason back;

	(void)state;
	for (size_t i = 0; i < LP_ARRAY_LEN(r); i++) {
		assert_string_not_equal(lp_obs_drop_name(r[i]), "unknown");
		assert_int_equal(lp_obs_action_for(r[i]), LP_OBS_FILTERED);
		assert_int_equal(lp_obs_drop_from_name(lp_obs_drop_name(r[i]), &back), 0);
		assert_int_equal(back, r[i]);
	}
	assert_string_equal(lp_obs_drop_name(LP_DROP_DHCPV6_SERVER), "dhcpv6_server");
	assert_string_equal(lp_obs_drop_name(LP_DROP_VLAN_TAGGED), "vlan_tagged");
	assert_string_equal(lp_obs_drop_name(LP_DROP_IPV6_FRAGMENT), "ipv6_fragment");
	assert_string_equal(lp_obs_drop_name(LP_DROP_LAN_MAC), "lan_mac");
	assert_string_equal(lp_obs_drop_name(LP_DROP_ICMP_ROUTER), "icmp_router");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_switch_control_range),
		cmocka_unit_test(test_dhcp_server_detection),
		cmocka_unit_test(test_bypass_dhcp_other_source_port),
		cmocka_unit_test(test_bypass_icmp_router),
		cmocka_unit_test(test_dhcp_client_messages_pass),
		cmocka_unit_test(test_ra_detection),
		cmocka_unit_test(test_bypass_ra_behind_extension_headers),
		cmocka_unit_test(test_bypass_ipv6_fragments),
		cmocka_unit_test(test_bypass_dhcpv6_server),
		cmocka_unit_test(test_frame_filters),
		cmocka_unit_test(test_bypass_vlan_tagged_client),
		cmocka_unit_test(test_dhcp_and_ra_by_role),
		cmocka_unit_test(test_rx),
		cmocka_unit_test(test_reason_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
