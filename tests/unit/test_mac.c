/* test_mac.c - MAC text parsing/formatting, classification, validation, generation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lp_proto.h"

static struct lp_mac mk(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t e, uint8_t f)
{
	struct lp_mac m = { { a, b, c, d, e, f } };

	return m;
}

static void test_parse_good(void **state)
{
	struct lp_mac m;
	const uint8_t want[6] = { 0x02, 0xab, 0xcd, 0xef, 0x09, 0x7f };

	(void)state;
	assert_int_equal(lp_proto_mac_parse("02:ab:cd:ef:09:7f", &m), 0);
	assert_memory_equal(m.b, want, 6);
	assert_int_equal(lp_proto_mac_parse("02-AB-cd-EF-09-7F", &m), 0);
	assert_memory_equal(m.b, want, 6);
	assert_int_equal(lp_proto_mac_parse("FF:FF:FF:FF:FF:FF", &m), 0);
	assert_true(lp_proto_mac_is_broadcast(&m));
	assert_int_equal(lp_proto_mac_parse("00-00-00-00-00-00", &m), 0);
	assert_true(lp_proto_mac_is_zero(&m));
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"0",
		"02",
		"02:",
		"02:ab:cd:ef:09",
		"02:ab:cd:ef:09:",
		"02:ab:cd:ef:09:7", /* single digit last octet */
		"2:ab:cd:ef:09:7f", /* single digit first octet */
		"02:ab:c:ef:09:7f",
		"02:ab:cd-ef:09:7f", /* mixed separators */
		"02-ab-cd-ef-09:7f",
		"02:ab:cd:ef:09:7f:", /* trailing garbage */
		"02:ab:cd:ef:09:7f0",
		"02:ab:cd:ef:09:7f ",
		" 02:ab:cd:ef:09:7f", /* whitespace */
		"02: ab:cd:ef:09:7f",
		"02:ab:cd:ef:09:7f\n",
		"02.ab.cd.ef.09.7f", /* unsupported separator */
		"02abcdef097f",      /* no separators */
		"02ab.cdef.097f",
		"0g:ab:cd:ef:09:7f", /* not hex */
		"02:ab:cd:ef:09:7x",
		"02::ab:cd:ef:09",
		"-02:ab:cd:ef:09:7f",
		"+2:ab:cd:ef:09:7f",
		"0x:ab:cd:ef:09:7f",
	};
	struct lp_mac m = mk(1, 2, 3, 4, 5, 6);
	const struct lp_mac orig = m;
	size_t i;

	(void)state;
	for (i = 0; i < LP_ARRAY_LEN(bad); i++) {
		if (lp_proto_mac_parse(bad[i], &m) != LP_ERR_MAC_SYNTAX)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(lp_proto_mac_equal(&m, &orig)); /* output untouched on error */
	}
	assert_int_equal(lp_proto_mac_parse(NULL, &m), LP_ERR_MAC_SYNTAX);
}

static void test_format(void **state)
{
	char s[LP_MAC_STR_LEN];
	struct lp_mac m = mk(0x02, 0xAB, 0x00, 0xff, 0x10, 0x01), back;

	(void)state;
	memset(s, 'x', sizeof(s));
	lp_proto_mac_format(&m, s);
	assert_string_equal(s, "02:ab:00:ff:10:01");
	assert_int_equal(strlen(s), LP_MAC_STR_LEN - 1);
	assert_int_equal(lp_proto_mac_parse(s, &back), 0);
	assert_true(lp_proto_mac_equal(&m, &back));
}

static void test_kind(void **state)
{
	struct lp_mac m;

	(void)state;
	m = mk(0, 0, 0, 0, 0, 0);
	assert_int_equal(lp_proto_mac_kind(&m), LP_MAC_KIND_ZERO);
	assert_false(lp_proto_mac_is_group(&m));
	m = mk(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	assert_int_equal(lp_proto_mac_kind(&m), LP_MAC_KIND_BROADCAST);
	assert_true(lp_proto_mac_is_group(&m));
	m = mk(0xff, 0xff, 0xff, 0xff, 0xff, 0xfe);
	assert_int_equal(lp_proto_mac_kind(&m), LP_MAC_KIND_MULTICAST);
	assert_false(lp_proto_mac_is_broadcast(&m));
	m = mk(0x01, 0x00, 0x5e, 0x00, 0x00, 0x01);
	assert_int_equal(lp_proto_mac_kind(&m), LP_MAC_KIND_MULTICAST);
	assert_true(lp_proto_mac_is_group(&m));
	assert_false(lp_proto_mac_is_local(&m));
	m = mk(0x33, 0x33, 0, 0, 0, 1);
	assert_int_equal(lp_proto_mac_kind(&m), LP_MAC_KIND_MULTICAST);
	m = mk(0x00, 0x1b, 0x21, 0x01, 0x02, 0x03);
	assert_int_equal(lp_proto_mac_kind(&m), LP_MAC_KIND_UNICAST);
	assert_false(lp_proto_mac_is_local(&m));
	m = mk(0x02, 0, 0, 0, 0, 0);
	assert_int_equal(lp_proto_mac_kind(&m), LP_MAC_KIND_UNICAST);
	assert_true(lp_proto_mac_is_local(&m));
	assert_false(lp_proto_mac_is_zero(&m));
	m = mk(0, 0, 0, 0, 0, 1);
	assert_int_equal(lp_proto_mac_kind(&m), LP_MAC_KIND_UNICAST);
}

static void test_equal(void **state)
{
	struct lp_mac a = mk(1, 2, 3, 4, 5, 6), b = mk(1, 2, 3, 4, 5, 6), c = mk(1, 2, 3, 4, 5, 7);

	(void)state;
	assert_true(lp_proto_mac_equal(&a, &b));
	assert_false(lp_proto_mac_equal(&a, &c));
	c = mk(0, 2, 3, 4, 5, 6);
	assert_false(lp_proto_mac_equal(&a, &c));
}

static void test_validate(void **state)
{
	struct lp_mac m;

	(void)state;
	m = mk(0, 0, 0, 0, 0, 0);
	assert_int_equal(lp_proto_mac_validate_identity(&m), LP_ERR_MAC_ZERO);
	assert_int_equal(lp_proto_mac_validate_generated(&m), LP_ERR_MAC_ZERO);
	m = mk(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	assert_int_equal(lp_proto_mac_validate_identity(&m), LP_ERR_MAC_GROUP);
	assert_int_equal(lp_proto_mac_validate_generated(&m), LP_ERR_MAC_GROUP);
	m = mk(0x03, 1, 2, 3, 4, 5); /* local but multicast */
	assert_int_equal(lp_proto_mac_validate_identity(&m), LP_ERR_MAC_GROUP);
	assert_int_equal(lp_proto_mac_validate_generated(&m), LP_ERR_MAC_GROUP);
	m = mk(0x00, 0x1b, 0x21, 1, 2, 3); /* vendor unicast */
	assert_int_equal(lp_proto_mac_validate_identity(&m), 0);
	assert_int_equal(lp_proto_mac_validate_generated(&m), LP_ERR_MAC_NOT_LOCAL);
	m = mk(0x02, 0x1b, 0x21, 1, 2, 3);
	assert_int_equal(lp_proto_mac_validate_identity(&m), 0);
	assert_int_equal(lp_proto_mac_validate_generated(&m), 0);
}

static void test_from_bytes(void **state)
{
	const uint8_t all_ff[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint8_t all_00[6] = { 0 };
	const uint8_t mixed[6] = { 0x5d, 0x12, 0x34, 0x56, 0x78, 0x9a };
	struct lp_mac m;

	(void)state;
	lp_proto_mac_from_bytes(all_ff, &m);
	assert_int_equal(m.b[0], 0xfe);
	assert_memory_equal(m.b + 1, all_ff + 1, 5);
	assert_int_equal(lp_proto_mac_validate_generated(&m), 0);

	lp_proto_mac_from_bytes(all_00, &m);
	assert_int_equal(m.b[0], 0x02);
	assert_memory_equal(m.b + 1, all_00 + 1, 5);
	assert_int_equal(lp_proto_mac_validate_generated(&m), 0);

	lp_proto_mac_from_bytes(mixed, &m);
	assert_int_equal(m.b[0], 0x5e);
	assert_memory_equal(m.b + 1, mixed + 1, 5);
}

static void test_random(void **state)
{
	struct lp_mac a, b;
	int i, distinct = 0;

	(void)state;
	for (i = 0; i < 64; i++) {
		assert_int_equal(lp_proto_mac_random(&a), 0);
		assert_int_equal(lp_proto_mac_validate_generated(&a), 0);
		assert_true(lp_proto_mac_is_local(&a));
		assert_false(lp_proto_mac_is_group(&a));
		assert_int_equal(lp_proto_mac_random(&b), 0);
		/* 46 random bits: two equal draws would mean a broken source. */
		if (!lp_proto_mac_equal(&a, &b))
			distinct++;
	}
	assert_int_equal(distinct, 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good), cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_format),     cmocka_unit_test(test_kind),
		cmocka_unit_test(test_equal),      cmocka_unit_test(test_validate),
		cmocka_unit_test(test_from_bytes), cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
