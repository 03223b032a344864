/* test_eth.c - Ethernet header and VLAN tag parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lp_proto.h"

static const uint8_t dst_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t src_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

/* Builds dst/src, then the given 16-bit words (types and TCIs), then `extra` payload bytes.
 * Returns the frame length. */
static size_t build(uint8_t *f, const uint16_t *words, size_t nwords, size_t extra)
{
	size_t off = 12, i;

	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	for (i = 0; i < nwords; i++, off += 2)
		lp_put_u16(f + off, words[i]);
	for (i = 0; i < extra; i++)
		f[off + i] = (uint8_t)(0xa0 + i);
	return off + extra;
}

static void test_untagged(void **state)
{
	uint8_t f[64];
	const uint16_t w[] = { LP_ETHERTYPE_IPV4 };
	size_t len = build(f, w, 1, 20);
	struct lp_eth e;

	(void)state;
	assert_int_equal(len, 34);
	assert_int_equal(lp_proto_eth_parse(f, len, &e), 0);
	assert_memory_equal(e.dst.b, dst_mac, 6);
	assert_memory_equal(e.src.b, src_mac, 6);
	assert_int_equal(e.ethertype, LP_ETHERTYPE_IPV4);
	assert_int_equal(e.inner_ethertype, LP_ETHERTYPE_IPV4);
	assert_int_equal(e.vlan_count, 0);
	assert_int_equal(e.header_len, 14);
	assert_int_equal(e.frame_len, 34);
	assert_ptr_equal(e.l3, f + 14);
	assert_int_equal(e.l3_len, 20);
	assert_int_equal(e.l3[0], 0xa0);
}

static void test_header_only(void **state)
{
	uint8_t f[14];
	const uint16_t w[] = { LP_ETHERTYPE_ARP };
	struct lp_eth e;

	(void)state;
	assert_int_equal(lp_proto_eth_parse(f, build(f, w, 1, 0), &e), 0);
	assert_int_equal(e.header_len, 14);
	assert_int_equal(e.l3_len, 0);
	assert_ptr_equal(e.l3, f + 14);
}

static void test_runts(void **state)
{
	uint8_t f[64];
	const uint16_t w[] = { LP_ETHERTYPE_IPV6 };
	struct lp_eth e;
	size_t len = build(f, w, 1, 0);
	size_t i;

	(void)state;
	for (i = 0; i < len; i++)
		assert_int_equal(lp_proto_eth_parse(f, i, &e), LP_ERR_RUNT);
	assert_int_equal(lp_proto_eth_parse(NULL, 0, &e), LP_ERR_RUNT);
}

static void test_single_ctag(void **state)
{
	uint8_t f[64];
	/* PCP 5, DEI 1, VID 0xabc: the priority bits must not leak into the VID. */
	const uint16_t w[] = { LP_ETHERTYPE_VLAN, 0xbabc, LP_ETHERTYPE_IPV6 };
	size_t len = build(f, w, 3, 40);
	struct lp_eth e;

	(void)state;
	assert_int_equal(lp_proto_eth_parse(f, len, &e), 0);
	assert_int_equal(e.ethertype, LP_ETHERTYPE_VLAN);
	assert_int_equal(e.inner_ethertype, LP_ETHERTYPE_IPV6);
	assert_int_equal(e.vlan_count, 1);
	assert_int_equal(e.vlan_tpid[0], LP_ETHERTYPE_VLAN);
	assert_int_equal(e.vlan_id[0], 0xabc);
	assert_int_equal(e.header_len, 18);
	assert_ptr_equal(e.l3, f + 18);
	assert_int_equal(e.l3_len, 40);
	assert_int_equal(e.frame_len, len);
}

static void test_qinq(void **state)
{
	uint8_t f[64];
	const uint16_t w[] = { LP_ETHERTYPE_QINQ, 0x0064, LP_ETHERTYPE_VLAN, 0xffff,
		               LP_ETHERTYPE_ARP };
	size_t len = build(f, w, 5, 28);
	struct lp_eth e;

	(void)state;
	assert_int_equal(lp_proto_eth_parse(f, len, &e), 0);
	assert_int_equal(e.ethertype, LP_ETHERTYPE_QINQ);
	assert_int_equal(e.inner_ethertype, LP_ETHERTYPE_ARP);
	assert_int_equal(e.vlan_count, 2);
	assert_int_equal(e.vlan_tpid[0], LP_ETHERTYPE_QINQ);
	assert_int_equal(e.vlan_id[0], 100);
	assert_int_equal(e.vlan_tpid[1], LP_ETHERTYPE_VLAN);
	assert_int_equal(e.vlan_id[1], 0xfff);
	assert_int_equal(e.header_len, 22);
	assert_ptr_equal(e.l3, f + 22);
	assert_int_equal(e.l3_len, 28);
}

static void test_9100_stag(void **state)
{
	uint8_t f[64];
	const uint16_t w[] = { 0x9100, 0x0007, LP_ETHERTYPE_VLAN, 0x0008, LP_ETHERTYPE_IPV4 };
	struct lp_eth e;

	(void)state;
	assert_int_equal(lp_proto_eth_parse(f, build(f, w, 5, 0), &e), 0);
	assert_int_equal(e.vlan_count, 2);
	assert_int_equal(e.vlan_tpid[0], 0x9100);
	assert_int_equal(e.vlan_id[0], 7);
	assert_int_equal(e.vlan_id[1], 8);
	assert_int_equal(e.inner_ethertype, LP_ETHERTYPE_IPV4);
	assert_int_equal(e.header_len, 22);
	assert_int_equal(e.l3_len, 0);
}

static void test_tag_runts(void **state)
{
	uint8_t f[64];
	const uint16_t w1[] = { LP_ETHERTYPE_VLAN, 0x0001, LP_ETHERTYPE_IPV4 };
	const uint16_t w2[] = { LP_ETHERTYPE_QINQ, 0x0001, LP_ETHERTYPE_VLAN, 0x0002,
		                LP_ETHERTYPE_IPV4 };
	struct lp_eth e;
	size_t len, i;

	(void)state;
	len = build(f, w1, 3, 0);
	for (i = 14; i < len; i++)
		assert_int_equal(lp_proto_eth_parse(f, i, &e), LP_ERR_RUNT);
	assert_int_equal(lp_proto_eth_parse(f, len, &e), 0);

	len = build(f, w2, 5, 0);
	for (i = 18; i < len; i++)
		assert_int_equal(lp_proto_eth_parse(f, i, &e), LP_ERR_RUNT);
	assert_int_equal(lp_proto_eth_parse(f, len, &e), 0);
}

static void test_three_tags(void **state)
{
	uint8_t f[64];
	const uint16_t w[] = { LP_ETHERTYPE_QINQ, 1, LP_ETHERTYPE_VLAN, 2,
		               LP_ETHERTYPE_VLAN, 3, LP_ETHERTYPE_IPV4 };
	struct lp_eth e;

	(void)state;
	assert_int_equal(lp_proto_eth_parse(f, build(f, w, 7, 10), &e), LP_ERR_INVAL);
}

static void test_length_field_and_other_types(void **state)
{
	uint8_t f[64];
	const uint16_t llc[] = { 0x0026 }; /* 802.3 length, not a type */
	const uint16_t lldp[] = { LP_ETHERTYPE_LLDP };
	struct lp_eth e;

	(void)state;
	assert_int_equal(lp_proto_eth_parse(f, build(f, llc, 1, 38), &e), 0);
	assert_int_equal(e.ethertype, 0x0026);
	assert_int_equal(e.vlan_count, 0);
	assert_int_equal(lp_proto_eth_parse(f, build(f, lldp, 1, 4), &e), 0);
	assert_int_equal(e.inner_ethertype, LP_ETHERTYPE_LLDP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_untagged),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_runts),
		cmocka_unit_test(test_single_ctag),
		cmocka_unit_test(test_qinq),
		cmocka_unit_test(test_9100_stag),
		cmocka_unit_test(test_tag_runts),
		cmocka_unit_test(test_three_tags),
		cmocka_unit_test(test_length_field_and_other_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
