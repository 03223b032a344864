/* L2 safety filters of the relay (src/relay/filter.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "filter.h"

static const struct lp_mac client_mac = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0c } };
static const struct lp_mac lan_mac = { { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 } };
static const struct lp_mac bcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

/* Ethernet header with optional 802.1Q tags (vids, n of them). */
static size_t eth_hdr(uint8_t *f, const struct lp_mac *dst, const struct lp_mac *src,
                      const uint16_t *vids, unsigned n, uint16_t type)
{
	size_t o = 0;

	memcpy(f, dst->b, 6);
	memcpy(f + 6, src->b, 6);
	o = 12;
	for (unsigned i = 0; i < n; i++) {
		lp_put_u16(f + o, i == 0 && n == 2 ? LP_ETHERTYPE_QINQ : LP_ETHERTYPE_VLAN);
		lp_put_u16(f + o + 2, vids[i]);
		o += 4;
	}
	lp_put_u16(f + o, type);
	return o + 2;
}

/* IPv4 + UDP sport->dport with IHL ihl (words) and fragment field frag. */
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

/* IPv6 + optional hop-by-hop (8 bytes) + ICMPv6 of type. */
static size_t ipv6_icmp(uint8_t *p, bool hbh, uint8_t type)
{
	size_t o = 40;

	memset(p, 0, 40 + 8 + 16);
	p[0] = 0x60;
	p[6] = hbh ? LP_RELAY_IPV6_HOPOPTS : LP_RELAY_IPPROTO_ICMPV6;
	p[7] = 255;
	if (hbh) {
		p[40] = LP_RELAY_IPPROTO_ICMPV6;
		p[41] = 0; /* 8 bytes */
		p[42] = 5; /* router alert */
		p[43] = 2;
		o += 8;
	}
	p[o] = type;
	lp_put_u16(p + 4, (uint16_t)(o - 40 + 16));
	return o + 16;
}

static void parse(const uint8_t *f, size_t len, struct lp_eth *eth)
{
	assert_int_equal(lp_proto_eth_parse(f, len, eth), 0);
}

static void test_switch_control_range(void **state)
{
	struct lp_mac m = { { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 } };

	(void)state;
	for (unsigned i = 0; i <= 0x0f; i++) {
		m.b[5] = (uint8_t)i;
		assert_true(lp_relay_filter_is_switch_control(&m));
	}
	m.b[5] = 0x10; /* 01:80:c2:00:00:10 is outside the reserved block */
	assert_false(lp_relay_filter_is_switch_control(&m));
	m.b[5] = 0x0e;
	m.b[4] = 0x01;
	assert_false(lp_relay_filter_is_switch_control(&m));
	assert_false(lp_relay_filter_is_switch_control(&bcast));
}

static void test_dhcp_server_detection(void **state)
{
	uint8_t p[128];
	size_t n;

	(void)state;
	n = ipv4_udp(p, 5, 0, LP_RELAY_IPPROTO_UDP, 67, 68);
	assert_true(lp_relay_filter_is_dhcp_server(p, n));
	/* Options in the IP header: the UDP header moves. */
	n = ipv4_udp(p, 7, 0, LP_RELAY_IPPROTO_UDP, 67, 68);
	assert_true(lp_relay_filter_is_dhcp_server(p, n));
	n = ipv4_udp(p, 7, 0, LP_RELAY_IPPROTO_UDP, 68, 67); /* client request */
	assert_false(lp_relay_filter_is_dhcp_server(p, n));
	/* First fragment with MF set still carries UDP. */
	n = ipv4_udp(p, 5, 0x2000, LP_RELAY_IPPROTO_UDP, 67, 68);
	assert_true(lp_relay_filter_is_dhcp_server(p, n));
	/* Later fragment: bytes at the UDP position are payload. */
	n = ipv4_udp(p, 5, 0x2000 | 185, LP_RELAY_IPPROTO_UDP, 67, 68);
	assert_false(lp_relay_filter_is_dhcp_server(p, n));
	n = ipv4_udp(p, 5, 0, 6 /* TCP */, 67, 68);
	assert_false(lp_relay_filter_is_dhcp_server(p, n));
	/* IHL < 5 is invalid; IHL beyond the packet cannot be read. */
	n = ipv4_udp(p, 5, 0, LP_RELAY_IPPROTO_UDP, 67, 68);
	p[0] = 0x44;
	assert_false(lp_relay_filter_is_dhcp_server(p, n));
	p[0] = 0x4f;
	assert_false(lp_relay_filter_is_dhcp_server(p, 40));
	/* Truncated before the source port, and not IPv4. */
	n = ipv4_udp(p, 5, 0, LP_RELAY_IPPROTO_UDP, 67, 68);
	assert_false(lp_relay_filter_is_dhcp_server(p, 21));
	assert_true(lp_relay_filter_is_dhcp_server(p, 22));
	p[0] = 0x65;
	assert_false(lp_relay_filter_is_dhcp_server(p, n));
	assert_false(lp_relay_filter_is_dhcp_server(p, 0));
}

static void test_ra_detection(void **state)
{
	uint8_t p[128];
	size_t n;

	(void)state;
	n = ipv6_icmp(p, false, LP_RELAY_ICMPV6_RA);
	assert_true(lp_relay_filter_is_ipv6_ra(p, n));
	n = ipv6_icmp(p, true, LP_RELAY_ICMPV6_RA);
	assert_true(lp_relay_filter_is_ipv6_ra(p, n));
	n = ipv6_icmp(p, false, 133); /* router solicitation is fine */
	assert_false(lp_relay_filter_is_ipv6_ra(p, n));
	n = ipv6_icmp(p, true, 135);
	assert_false(lp_relay_filter_is_ipv6_ra(p, n));
	/* Hop-by-hop claiming to be longer than the packet. */
	n = ipv6_icmp(p, true, LP_RELAY_ICMPV6_RA);
	p[41] = 10;
	assert_false(lp_relay_filter_is_ipv6_ra(p, n));
	/* Truncated right before the ICMPv6 type; not IPv6. */
	n = ipv6_icmp(p, false, LP_RELAY_ICMPV6_RA);
	assert_false(lp_relay_filter_is_ipv6_ra(p, 40));
	assert_true(lp_relay_filter_is_ipv6_ra(p, 41));
	p[0] = 0x40;
	assert_false(lp_relay_filter_is_ipv6_ra(p, n));
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
	assert_int_equal(lp_relay_filter_frame(&eth, LP_ROLE_CLIENT, &client_mac, 1380),
	                 LP_DROP_NONE);
	/* Invalid sources, from anyone. */
	n = eth_hdr(f, &bcast, &bcast, NULL, 0, LP_ETHERTYPE_ARP);
	parse(f, n + 28, &eth);
	assert_int_equal(lp_relay_filter_frame(&eth, LP_ROLE_GATEWAY, &lan_mac, 1380),
	                 LP_DROP_INVALID_SRC);
	n = eth_hdr(f, &bcast, &zero, NULL, 0, LP_ETHERTYPE_ARP);
	parse(f, n + 28, &eth);
	assert_int_equal(lp_relay_filter_frame(&eth, LP_ROLE_GATEWAY, &lan_mac, 1380),
	                 LP_DROP_INVALID_SRC);
	/* A client may only send as itself; the gateway carries the LAN. */
	n = eth_hdr(f, &bcast, &lan_mac, NULL, 0, LP_ETHERTYPE_ARP);
	parse(f, n + 28, &eth);
	assert_int_equal(lp_relay_filter_frame(&eth, LP_ROLE_CLIENT, &client_mac, 1380),
	                 LP_DROP_SPOOFED_SRC);
	assert_int_equal(lp_relay_filter_frame(&eth, LP_ROLE_GATEWAY, &client_mac, 1380),
	                 LP_DROP_NONE);
	/* Jumbo: MTU + 14 passes, one more byte does not; each tag adds 4. */
	n = eth_hdr(f, &bcast, &client_mac, NULL, 0, LP_ETHERTYPE_IPV4);
	memset(f + n, 0, sizeof(f) - n);
	parse(f, 1380 + 14, &eth);
	assert_int_equal(lp_relay_filter_frame(&eth, LP_ROLE_CLIENT, &client_mac, 1380),
	                 LP_DROP_NONE);
	parse(f, 1380 + 15, &eth);
	assert_int_equal(lp_relay_filter_frame(&eth, LP_ROLE_GATEWAY, &client_mac, 1380),
	                 LP_DROP_JUMBO);
	n = eth_hdr(f, &bcast, &client_mac, vids, 2, LP_ETHERTYPE_IPV4);
	parse(f, 1380 + 22, &eth);
	assert_int_equal(lp_relay_filter_frame(&eth, LP_ROLE_CLIENT, &client_mac, 1380),
	                 LP_DROP_NONE);
	parse(f, 1380 + 23, &eth);
	assert_int_equal(lp_relay_filter_frame(&eth, LP_ROLE_CLIENT, &client_mac, 1380),
	                 LP_DROP_JUMBO);
	/* STP BPDU (LLC) to 01:80:c2:00:00:00, from the gateway too. */
	n = eth_hdr(f, &stp, &lan_mac, NULL, 0, 38);
	memset(f + n, 0x42, 38);
	parse(f, n + 38, &eth);
	assert_int_equal(lp_relay_filter_frame(&eth, LP_ROLE_GATEWAY, &client_mac, 1380),
	                 LP_DROP_SWITCH_CONTROL);
}

static void test_dhcp_and_ra_by_role(void **state)
{
	uint8_t f[256];
	uint16_t vids[2] = { 100, 200 };
	struct lp_eth eth;
	size_t n;

	(void)state;
	/* DHCP offer from a client, untagged and behind two tags. */
	for (unsigned tags = 0; tags <= 2; tags++) {
		n = eth_hdr(f, &bcast, &client_mac, vids, tags, LP_ETHERTYPE_IPV4);
		n += ipv4_udp(f + n, 5, 0, LP_RELAY_IPPROTO_UDP, 67, 68);
		parse(f, n, &eth);
		assert_int_equal(lp_relay_filter_frame(&eth, LP_ROLE_CLIENT, &client_mac, 1380),
		                 LP_DROP_DHCP_SERVER);
	}
	/* The same offer from the gateway is the LAN's DHCP server. */
	n = eth_hdr(f, &bcast, &lan_mac, NULL, 0, LP_ETHERTYPE_IPV4);
	n += ipv4_udp(f + n, 5, 0, LP_RELAY_IPPROTO_UDP, 67, 68);
	parse(f, n, &eth);
	assert_int_equal(lp_relay_filter_frame(&eth, LP_ROLE_GATEWAY, &client_mac, 1380),
	                 LP_DROP_NONE);
	/* RA from a client: direct, after hop-by-hop, and VLAN-tagged. */
	for (unsigned tags = 0; tags <= 1; tags++) {
		for (int hbh = 0; hbh <= 1; hbh++) {
			n = eth_hdr(f, &bcast, &client_mac, vids, tags, LP_ETHERTYPE_IPV6);
			n += ipv6_icmp(f + n, hbh != 0, LP_RELAY_ICMPV6_RA);
			parse(f, n, &eth);
			assert_int_equal(
			        lp_relay_filter_frame(&eth, LP_ROLE_CLIENT, &client_mac, 1380),
			        LP_DROP_IPV6_RA);
			assert_int_equal(
			        lp_relay_filter_frame(&eth, LP_ROLE_GATEWAY, &client_mac, 1380),
			        LP_DROP_NONE);
		}
	}
	/* An IPv6 frame that is no RA passes. */
	n = eth_hdr(f, &bcast, &client_mac, NULL, 0, LP_ETHERTYPE_IPV6);
	n += ipv6_icmp(f + n, false, 135);
	parse(f, n, &eth);
	assert_int_equal(lp_relay_filter_frame(&eth, LP_ROLE_CLIENT, &client_mac, 1380),
	                 LP_DROP_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_switch_control_range),
		cmocka_unit_test(test_dhcp_server_detection),
		cmocka_unit_test(test_ra_detection),
		cmocka_unit_test(test_frame_filters),
		cmocka_unit_test(test_dhcp_and_ra_by_role),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
