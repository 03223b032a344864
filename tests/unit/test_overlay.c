/* test_overlay.c - overlay header encode/decode and the datagram budget check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lp_proto.h"

static void test_hdr_encode_bytes(void **state)
{
	uint8_t h[LP_PROTO_OVERLAY_HDR_LEN];

	(void)state;
	assert_int_equal(lp_proto_overlay_hdr_encode(h, sizeof(h), LP_PROTO_TYPE_ETHERNET, 0x1234),
	                 0);
	assert_int_equal(h[0], 0x11);
	assert_int_equal(h[1], 0x00);
	assert_int_equal(h[2], 0x12);
	assert_int_equal(h[3], 0x34);

	assert_int_equal(lp_proto_overlay_hdr_encode(h, sizeof(h), 15, LP_PROTO_PAYLOAD_MAX), 0);
	assert_int_equal(h[0], 0x1f);
	assert_int_equal(h[2], 0xff);
	assert_int_equal(h[3], 0xff);
}

static void test_hdr_encode_errors(void **state)
{
	uint8_t h[8];

	(void)state;
	assert_int_equal(lp_proto_overlay_hdr_encode(h, sizeof(h), 0, 10), LP_ERR_TYPE);
	assert_int_equal(lp_proto_overlay_hdr_encode(h, sizeof(h), 16, 10), LP_ERR_TYPE);
	assert_int_equal(lp_proto_overlay_hdr_encode(h, sizeof(h), 1, LP_PROTO_PAYLOAD_MAX + 1),
	                 LP_ERR_PAYLOAD_MAX);
	assert_int_equal(lp_proto_overlay_hdr_encode(h, 3, 1, 10), LP_ERR_NOBUF);
	assert_int_equal(lp_proto_overlay_hdr_encode(NULL, 0, 1, 10), LP_ERR_NOBUF);
	assert_int_equal(lp_proto_overlay_hdr_encode(h, 4, 1, 10), 0);
}

static void test_encode_decode_roundtrip(void **state)
{
	uint8_t payload[60], dg[64 + 4];
	struct lp_proto_overlay ov;
	ssize_t n;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	n = lp_proto_overlay_encode(dg, sizeof(dg), LP_PROTO_TYPE_ETHERNET, payload,
	                            sizeof(payload));
	assert_int_equal(n, 64);
	assert_int_equal(dg[0], 0x11);
	assert_int_equal(dg[1], 0);
	assert_int_equal(lp_get_u16(dg + 2), 60);
	assert_memory_equal(dg + 4, payload, sizeof(payload));

	assert_int_equal(lp_proto_overlay_decode(dg, (size_t)n, &ov), 0);
	assert_int_equal(ov.version, LP_PROTO_VERSION);
	assert_int_equal(ov.type, LP_PROTO_TYPE_ETHERNET);
	assert_int_equal(ov.flags, 0);
	assert_ptr_equal(ov.payload, dg + 4);
	assert_int_equal(ov.payload_len, 60);
}

static void test_encode_errors(void **state)
{
	uint8_t payload[10] = { 0 }, dg[13], exact[14];

	(void)state;
	/* One byte short of header + payload. */
	assert_int_equal(lp_proto_overlay_encode(dg, sizeof(dg), 1, payload, sizeof(payload)),
	                 LP_ERR_NOBUF);
	assert_int_equal(lp_proto_overlay_encode(exact, sizeof(exact), 1, payload, sizeof(payload)),
	                 14);
	assert_int_equal(lp_proto_overlay_encode(dg, 3, 1, NULL, 0), LP_ERR_NOBUF);
	assert_int_equal(lp_proto_overlay_encode(dg, sizeof(dg), 1, NULL, 5), LP_ERR_INVAL);
	assert_int_equal(lp_proto_overlay_encode(dg, sizeof(dg), 0, payload, 1), LP_ERR_TYPE);
	assert_int_equal(lp_proto_overlay_encode(dg, sizeof(dg), 1, payload,
	                                         (size_t)LP_PROTO_PAYLOAD_MAX + 1),
	                 LP_ERR_PAYLOAD_MAX);
}

static void test_encode_in_place_and_empty(void **state)
{
	uint8_t dg[4 + 5] = { 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o' };
	struct lp_proto_overlay ov;

	(void)state;
	assert_int_equal(lp_proto_overlay_encode(dg, sizeof(dg), 1, dg + 4, 5), 9);
	assert_memory_equal(dg + 4, "hello", 5);
	assert_int_equal(lp_get_u16(dg + 2), 5);

	assert_int_equal(lp_proto_overlay_encode(dg, 4, 1, NULL, 0), 4);
	assert_int_equal(lp_proto_overlay_decode(dg, 4, &ov), 0);
	assert_int_equal(ov.payload_len, 0);
}

static void test_encode_payload_max(void **state)
{
	size_t cap = 4 + (size_t)LP_PROTO_PAYLOAD_MAX;
	uint8_t *dg = calloc(1, cap), *payload = calloc(1, LP_PROTO_PAYLOAD_MAX);
	struct lp_proto_overlay ov;

	(void)state;
	assert_non_null(dg);
	assert_non_null(payload);
	payload[LP_PROTO_PAYLOAD_MAX - 1] = 0xab;
	assert_int_equal(lp_proto_overlay_encode(dg, cap, 1, payload, LP_PROTO_PAYLOAD_MAX),
	                 (ssize_t)cap);
	assert_int_equal(lp_proto_overlay_decode(dg, cap, &ov), 0);
	assert_int_equal(ov.payload_len, LP_PROTO_PAYLOAD_MAX);
	assert_int_equal(ov.payload[LP_PROTO_PAYLOAD_MAX - 1], 0xab);
	free(dg);
	free(payload);
}

static void test_decode_errors(void **state)
{
	struct lp_proto_overlay ov;
	uint8_t good[6] = { 0x11, 0x00, 0x00, 0x02, 0xaa, 0xbb };
	uint8_t d[8];

	(void)state;
	assert_int_equal(lp_proto_overlay_decode(good, 0, &ov), LP_ERR_TRUNCATED);
	assert_int_equal(lp_proto_overlay_decode(good, 1, &ov), LP_ERR_TRUNCATED);
	assert_int_equal(lp_proto_overlay_decode(good, 3, &ov), LP_ERR_TRUNCATED);
	/* Header fine, payload announced 2 bytes, 1 present. */
	assert_int_equal(lp_proto_overlay_decode(good, 5, &ov), LP_ERR_TRUNCATED);
	assert_int_equal(lp_proto_overlay_decode(good, 6, &ov), 0);

	memcpy(d, good, 6);
	d[6] = 0;
	assert_int_equal(lp_proto_overlay_decode(d, 7, &ov), LP_ERR_TRAILING);

	memcpy(d, good, 6);
	d[0] = 0x21;
	assert_int_equal(lp_proto_overlay_decode(d, 6, &ov), LP_ERR_VERSION);
	d[0] = 0x01;
	assert_int_equal(lp_proto_overlay_decode(d, 6, &ov), LP_ERR_VERSION);
	d[0] = 0x12;
	assert_int_equal(lp_proto_overlay_decode(d, 6, &ov), LP_ERR_TYPE);
	d[0] = 0x10;
	assert_int_equal(lp_proto_overlay_decode(d, 6, &ov), LP_ERR_TYPE);
	d[0] = 0x11;
	/* Every flag but SEALED and FROM_GATEWAY stays refused. */
	for (unsigned bit = 0x02; bit < 0x80; bit <<= 1) {
		d[1] = (uint8_t)bit;
		assert_int_equal(lp_proto_overlay_decode(d, 6, &ov), LP_ERR_INVAL);
	}
	d[1] = 0x81;
	assert_int_equal(lp_proto_overlay_decode(d, 6, &ov), 0);
	assert_int_equal(ov.flags, 0x81);
	d[1] = 0x83;
	assert_int_equal(lp_proto_overlay_decode(d, 6, &ov), LP_ERR_INVAL);
}

static void test_check_budget(void **state)
{
	(void)state;
	assert_int_equal(lp_proto_check_budget(1514, 1518), 0);
	assert_int_equal(lp_proto_check_budget(1514, 1517), LP_ERR_TOO_BIG);
	assert_int_equal(lp_proto_check_budget(1515, 1518), LP_ERR_TOO_BIG);
	assert_int_equal(lp_proto_check_budget(0, 4), 0);
	assert_int_equal(lp_proto_check_budget(0, 3), LP_ERR_TOO_BIG);
	assert_int_equal(lp_proto_check_budget(0, 0), LP_ERR_TOO_BIG);
	assert_int_equal(lp_proto_check_budget(LP_PROTO_PAYLOAD_MAX, SIZE_MAX), 0);
	assert_int_equal(lp_proto_check_budget((size_t)LP_PROTO_PAYLOAD_MAX + 1, SIZE_MAX),
	                 LP_ERR_PAYLOAD_MAX);
	/* The ceiling is checked before the budget. */
	assert_int_equal(lp_proto_check_budget((size_t)LP_PROTO_PAYLOAD_MAX + 1, 10),
	                 LP_ERR_PAYLOAD_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_encode_bytes),
		cmocka_unit_test(test_hdr_encode_errors),
		cmocka_unit_test(test_encode_decode_roundtrip),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_encode_in_place_and_empty),
		cmocka_unit_test(test_encode_payload_max),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_check_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
