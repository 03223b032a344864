/* test_quic_frame_guard.c - the 1-RTT frame walker that keeps ngtcp2 0.12.1's
 * NEW_CONNECTION_ID abort out of reach (lib/quic/frame_guard.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "frame_guard.h"

static size_t ncid(uint8_t *p, uint8_t seq, uint8_t rpt)
{
	size_t n = 0;

	p[n++] = 0x18;
	p[n++] = seq;
	p[n++] = rpt;
	p[n++] = 8;
	memset(p + n, 0xc1, 8 + 16);
	return n + 8 + 16;
}

static void test_refuses_retire_prior_to(void **state)
{
	uint8_t p[256];
	size_t n = 0;

	(void)state;
	/* What ngtcp2 clients send: retire_prior_to 0. */
	n = ncid(p, 1, 0);
	n += ncid(p + n, 2, 0);
	assert_false(lp_quic_frames_refused(p, n));
	/* The attack's first frame. */
	assert_true(lp_quic_frames_refused(p, ncid(p, 100, 100) - 0));
	/* ... also behind every other kind of frame. */
	n = 0;
	p[n++] = 0x00;                                    /* PADDING */
	p[n++] = 0x01;                                    /* PING */
	memcpy(p + n, "\x02\x05\x00\x01\x00\x01\x00", 7); /* ACK, 1 extra range */
	n += 7;
	memcpy(p + n, "\x03\x05\x00\x00\x00\x01\x02\x03", 8); /* ACK with ECN */
	n += 8;
	memcpy(p + n,
	       "\x06\x00\x03"
	       "abc",
	       6); /* CRYPTO */
	n += 6;
	memcpy(p + n, "\x0e\x00\x40\x10\x02xy", 7); /* STREAM id 0, offset 16, len 2 */
	n += 7;
	memcpy(p + n, "\x31\x03zzz", 5); /* DATAGRAM with length */
	n += 5;
	memcpy(p + n,
	       "\x1a"
	       "12345678",
	       9); /* PATH_CHALLENGE */
	n += 9;
	memcpy(p + n, "\x10\x44\x00", 3); /* MAX_DATA, 2-byte varint */
	n += 3;
	memcpy(p + n, "\x1d\x00\x02ok", 5); /* CONNECTION_CLOSE (app) */
	n += 5;
	assert_false(lp_quic_frames_refused(p, n));
	assert_true(lp_quic_frames_refused(p, n + ncid(p + n, 7, 3)));
}

static void test_stops_where_ngtcp2_would(void **state)
{
	uint8_t p[128];
	size_t n;

	(void)state;
	/* DATAGRAM without length and STREAM without length run to the end:
	 * nothing after them is a frame. */
	p[0] = 0x30;
	n = 1 + ncid(p + 1, 9, 9);
	assert_false(lp_quic_frames_refused(p, n));
	memcpy(p, "\x08\x00", 2);
	n = 2 + ncid(p + 2, 9, 9);
	assert_false(lp_quic_frames_refused(p, n));
	/* Truncated or unknown frames end the walk (ngtcp2 drops the packet). */
	memcpy(p, "\x06\x00\x40\xff", 4); /* CRYPTO longer than the packet */
	assert_false(lp_quic_frames_refused(p, 4));
	p[0] = 0x21; /* unknown type */
	assert_false(lp_quic_frames_refused(p, 1 + ncid(p + 1, 9, 9)));
	/* An ACK claiming 2^62 ranges is truncated, not a long loop. */
	memcpy(p, "\x02\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x00", 12);
	assert_false(lp_quic_frames_refused(p, 12));
	/* A NEW_CONNECTION_ID cut inside its retire_prior_to. */
	memcpy(p, "\x18\x05\x40", 3);
	assert_false(lp_quic_frames_refused(p, 3));
	assert_false(lp_quic_frames_refused(p, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refuses_retire_prior_to),
		cmocka_unit_test(test_stops_where_ngtcp2_would),
	};

	return cmocka_run_group_tests_name("quic_frame_guard", tests, NULL, NULL);
}
