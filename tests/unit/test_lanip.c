/* test_lanip.c - LAN IPv4 per MAC from ARP and DHCP ACKs (lib/proto/lanip.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lp_proto.h"

static const uint8_t host_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t player_mac[6] = { 0x02, 0x5e, 0x10, 0xaa, 0xbb, 0xcc };

static size_t eth_hdr(uint8_t *f, const uint8_t *src, uint16_t type, bool vlan)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, src, 6);
	if (!vlan) {
		lp_put_u16(f + 12, type);
		return 14;
	}
	lp_put_u16(f + 12, LP_ETHERTYPE_VLAN);
	lp_put_u16(f + 14, 42);
	lp_put_u16(f + 16, type);
	return 18;
}

/* An ARP request from sha/spa; returns the frame length (padded to 60). */
static size_t arp(uint8_t *f, const uint8_t *sha, const uint8_t spa[4], uint16_t op, bool vlan)
{
	size_t o;

	memset(f, 0, 64);
	o = eth_hdr(f, sha, LP_ETHERTYPE_ARP, vlan);
	lp_put_u16(f + o, 1);
	lp_put_u16(f + o + 2, LP_ETHERTYPE_IPV4);
	f[o + 4] = 6;
	f[o + 5] = 4;
	lp_put_u16(f + o + 6, op);
	memcpy(f + o + 8, sha, 6);
	memcpy(f + o + 14, spa, 4);
	return 60 + (vlan ? 4 : 0);
}

/* A DHCP reply of message type mt from the server to chaddr with yiaddr. */
static size_t dhcp(uint8_t *f, size_t cap, const uint8_t *chaddr, const uint8_t yi[4], uint8_t mt)
{
	size_t o = eth_hdr(f, host_mac, LP_ETHERTYPE_IPV4, false), ip = o, udp, bp;

	memset(f + o, 0, cap - o);
	f[ip] = 0x45;
	f[ip + 9] = 17;
	udp = ip + 20;
	lp_put_u16(f + udp, 67);
	lp_put_u16(f + udp + 2, 68);
	bp = udp + 8;
	f[bp] = 2; /* BOOTREPLY */
	f[bp + 1] = 1;
	f[bp + 2] = 6;
	memcpy(f + bp + 16, yi, 4);
	memcpy(f + bp + 28, chaddr, 6);
	lp_put_u32(f + bp + 236, 0x63825363u);
	f[bp + 240] = 0; /* a pad first */
	f[bp + 241] = 53;
	f[bp + 242] = 1;
	f[bp + 243] = mt;
	f[bp + 244] = 255;
	return bp + 245;
}

static void test_arp(void **state)
{
	static const uint8_t ip1[4] = { 10, 77, 0, 1 }, ip2[4] = { 10, 77, 0, 2 };
	static const uint8_t zero[4] = { 0, 0, 0, 0 }, mcast[4] = { 224, 0, 0, 1 };
	struct lp_lanip t;
	struct lp_mac m;
	uint8_t f[128], got[4];
	size_t n;

	(void)state;
	lp_lanip_init(&t);
	memcpy(m.b, host_mac, 6);
	assert_int_equal(lp_lanip_lookup(&t, &m, got), LP_ERR_NOT_FOUND);
	n = arp(f, host_mac, ip1, 1, false);
	assert_int_equal(lp_lanip_observe(&t, f, n, 1), 1);
	assert_int_equal(lp_lanip_observe(&t, f, n, 2), 0); /* nothing new */
	assert_int_equal(lp_lanip_lookup(&t, &m, got), 0);
	assert_memory_equal(got, ip1, 4);
	/* A reply behind a VLAN tag moves it to another address. */
	n = arp(f, host_mac, ip2, 2, true);
	assert_int_equal(lp_lanip_observe(&t, f, n, 3), 1);
	assert_int_equal(lp_lanip_lookup(&t, &m, got), 0);
	assert_memory_equal(got, ip2, 4);
	assert_int_equal(t.n, 1);
	/* Probes, group addresses, group MACs, other opcodes, truncation. */
	assert_int_equal(lp_lanip_observe(&t, f, arp(f, player_mac, zero, 1, false), 4), 0);
	assert_int_equal(lp_lanip_observe(&t, f, arp(f, player_mac, mcast, 1, false), 4), 0);
	f[0] = 0;
	n = arp(f, (const uint8_t[6]){ 0x01, 0, 0x5e, 0, 0, 1 }, ip1, 1, false);
	assert_int_equal(lp_lanip_observe(&t, f, n, 4), 0);
	n = arp(f, player_mac, ip1, 3, false);
	assert_int_equal(lp_lanip_observe(&t, f, n, 4), 0);
	n = arp(f, player_mac, ip1, 1, false);
	assert_int_equal(lp_lanip_observe(&t, f, 14 + 17, 4), 0); /* spa cut short */
	assert_int_equal(lp_lanip_observe(&t, f, 10, 4), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(lp_lanip_observe(&t, f, n, 4), 1);
	assert_int_equal(t.n, 2);
}

static void test_dhcp_ack(void **state)
{
	static const uint8_t yi[4] = { 10, 77, 0, 123 };
	struct lp_lanip t;
	struct lp_mac m;
	uint8_t f[400], got[4];
	size_t n;

	(void)state;
	lp_lanip_init(&t);
	memcpy(m.b, player_mac, 6);
	/* An OFFER is not a lease yet. */
	n = dhcp(f, sizeof(f), player_mac, yi, 2);
	assert_int_equal(lp_lanip_observe(&t, f, n, 1), 0);
	n = dhcp(f, sizeof(f), player_mac, yi, 5);
	assert_int_equal(lp_lanip_observe(&t, f, n - 2, 1), 0); /* option value cut */
	assert_int_equal(lp_lanip_observe(&t, f, n - 3, 1), 0);
	assert_int_equal(lp_lanip_observe(&t, f, n, 1), 1);
	assert_int_equal(lp_lanip_lookup(&t, &m, got), 0);
	assert_memory_equal(got, yi, 4);
	/* The same reply as a fragment, from another port or a bad cookie: ignored. */
	lp_lanip_init(&t);
	f[14 + 6] = 0x20;
	assert_int_equal(lp_lanip_observe(&t, f, n, 1), 0);
	f[14 + 6] = 0;
	lp_put_u16(f + 34, 68);
	assert_int_equal(lp_lanip_observe(&t, f, n, 1), 0);
	lp_put_u16(f + 34, 67);
	f[42 + 236] ^= 1;
	assert_int_equal(lp_lanip_observe(&t, f, n, 1), 0);
	f[42 + 236] ^= 1;
	f[14] = 0x46; /* an IP option shifts everything: now garbage */
	assert_int_equal(lp_lanip_observe(&t, f, n, 1), 0);
	assert_int_equal(t.n, 0);
}

/* A full table replaces the entry seen longest ago, never grows. */
static void test_bounded(void **state)
{
	struct lp_lanip t;
	uint8_t f[64], mac[6] = { 0x02, 0, 0, 0, 0, 0 }, ip[4] = { 10, 0, 0, 0 }, got[4];
	struct lp_mac m;
	unsigned i;

	(void)state;
	lp_lanip_init(&t);
	for (i = 0; i < LP_LANIP_MAX + 10; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		ip[2] = (uint8_t)(i >> 8);
		ip[3] = (uint8_t)(i + 1);
		/* Entry 0 stays fresh: it is seen again each round. */
		assert_int_equal(lp_lanip_observe(&t, f, arp(f, mac, ip, 1, false), 100 + i), 1);
		if (i > 0)
			assert_int_equal(
			        lp_lanip_observe(&t, f,
			                         arp(f, (const uint8_t[6]){ 2, 0, 0, 0, 0, 0 },
			                             (const uint8_t[4]){ 10, 0, 0, 1 }, 1, false),
			                         100 + i),
			        0);
	}
	assert_int_equal(t.n, LP_LANIP_MAX);
	memcpy(m.b, (const uint8_t[6]){ 2, 0, 0, 0, 0, 0 }, 6);
	assert_int_equal(lp_lanip_lookup(&t, &m, got), 0);
	memcpy(m.b, (const uint8_t[6]){ 2, 0, 0, 0, 0, 1 }, 6); /* the oldest: gone */
	assert_int_equal(lp_lanip_lookup(&t, &m, got), LP_ERR_NOT_FOUND);
	memcpy(m.b, mac, 6); /* the newest */
	assert_int_equal(lp_lanip_lookup(&t, &m, got), 0);
	assert_memory_equal(got, ip, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_dhcp_ack),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
