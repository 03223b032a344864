/* test_ctrl_decoder.c - incremental length-prefixed control frame decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lp_ctrl.h"

static struct lp_ctrl_decoder dec; /* 16 KiB: keep it off the stack */

/* Appends one frame (prefix + body) to buf at *pos. */
static size_t put_frame(uint8_t *buf, size_t *pos, const char *body)
{
	size_t n = strlen(body);

	lp_put_u32(buf + *pos, (uint32_t)n);
	memcpy(buf + *pos + LP_CTRL_PREFIX_LEN, body, n);
	*pos += LP_CTRL_PREFIX_LEN + n;
	return LP_CTRL_PREFIX_LEN + n;
}

static const char body_welcome[] = "{\"type\":\"welcome\",\"version\":1,\"mode\":\"relay\","
                                   "\"peer_id\":5,\"mtu\":1380,\"gateway_present\":true}";
static const char body_joined[] = "{\"type\":\"peer_joined\",\"peer_id\":9,\"role\":\"gateway\","
                                  "\"mac\":\"00:1b:21:aa:bb:cc\"}";
static const char body_disc[] = "{\"type\":\"disconnect\",\"reason\":\"bye\"}";
static const char body_left[] = "{\"type\":\"peer_left\",\"peer_id\":9,\"role\":\"gateway\","
                                "\"mac\":\"00:1b:21:aa:bb:cc\",\"reason\":\"timeout\"}";

static void check_msg(const struct lp_ctrl_msg *m, size_t idx)
{
	switch (idx) {
	case 0:
		assert_int_equal(m->type, LP_CTRL_WELCOME);
		assert_int_equal(m->u.welcome.peer_id, 5);
		assert_int_equal(m->u.welcome.mtu, 1380);
		break;
	case 1:
		assert_int_equal(m->type, LP_CTRL_PEER_JOINED);
		assert_int_equal(m->u.peer.peer_id, 9);
		assert_int_equal(m->u.peer.role, LP_ROLE_GATEWAY);
		break;
	case 2:
		assert_int_equal(m->type, LP_CTRL_DISCONNECT);
		assert_string_equal(m->u.disconnect.reason, "bye");
		break;
	case 3:
		assert_int_equal(m->type, LP_CTRL_PEER_LEFT);
		assert_string_equal(m->u.peer.reason, "timeout");
		break;
	default:
		fail_msg("unexpected message %zu", idx);
	}
}

static size_t build_four(uint8_t *buf, size_t lens[4])
{
	size_t pos = 0;

	lens[0] = put_frame(buf, &pos, body_welcome);
	lens[1] = put_frame(buf, &pos, body_joined);
	lens[2] = put_frame(buf, &pos, body_disc);
	lens[3] = put_frame(buf, &pos, body_left);
	return pos;
}

static void test_one_byte_at_a_time(void **state)
{
	uint8_t buf[1024];
	size_t lens[4], total, i, got = 0, frame_end;
	struct lp_ctrl_msg m;

	(void)state;
	total = build_four(buf, lens);
	lp_ctrl_decoder_init(&dec);
	assert_true(lp_ctrl_decoder_idle(&dec));
	frame_end = lens[0];
	for (i = 0; i < total; i++) {
		m.type = LP_CTRL_STATS; /* must be overwritten */
		assert_int_equal(lp_ctrl_decoder_feed(&dec, buf + i, 1, &m), 1);
		/* idle exactly between frames: a prefix or body byte held is not */
		assert_int_equal(lp_ctrl_decoder_idle(&dec), i + 1 == frame_end);
		if (i + 1 == frame_end) {
			check_msg(&m, got);
			got++;
			if (got < 4)
				frame_end += lens[got];
		} else {
			assert_int_equal(m.type, LP_CTRL_NONE);
		}
	}
	assert_int_equal(got, 4);
}

static void test_three_and_a_half_frames(void **state)
{
	uint8_t buf[1024];
	size_t lens[4], total, cut, pos = 0, got = 0;
	struct lp_ctrl_msg m;
	ssize_t n;

	(void)state;
	total = build_four(buf, lens);
	cut = lens[0] + lens[1] + lens[2] + lens[3] / 2;
	lp_ctrl_decoder_init(&dec);
	/* The same buffer fed repeatedly from where the last call stopped:
	 * each call stops exactly at a frame boundary. */
	while (pos < cut) {
		n = lp_ctrl_decoder_feed(&dec, buf + pos, cut - pos, &m);
		assert_true(n > 0);
		pos += (size_t)n;
		if (m.type != LP_CTRL_NONE) {
			assert_true(got < 3);
			assert_int_equal(n, lens[got]);
			check_msg(&m, got);
			got++;
		} else {
			assert_int_equal(pos, cut);
		}
	}
	assert_int_equal(got, 3);
	assert_int_equal(pos, cut);
	/* The rest of the fourth frame. */
	n = lp_ctrl_decoder_feed(&dec, buf + cut, total - cut, &m);
	assert_int_equal(n, total - cut);
	check_msg(&m, 3);
	/* Empty feed: nothing consumed, nothing decoded. */
	assert_int_equal(lp_ctrl_decoder_feed(&dec, NULL, 0, &m), 0);
	assert_int_equal(m.type, LP_CTRL_NONE);
}

static void test_never_reads_next_frame(void **state)
{
	uint8_t buf[1024];
	size_t lens[4], total;
	struct lp_ctrl_msg m;

	(void)state;
	total = build_four(buf, lens);
	/* A bad prefix right after the first frame must not be touched. */
	memset(buf + lens[0], 0, 4);
	lp_ctrl_decoder_init(&dec);
	assert_int_equal(lp_ctrl_decoder_feed(&dec, buf, total, &m), lens[0]);
	check_msg(&m, 0);
	assert_int_equal(lp_ctrl_decoder_feed(&dec, buf + lens[0], total - lens[0], &m),
	                 LP_ERR_FRAME_LEN);
}

static void test_bad_prefix_immediate(void **state)
{
	static const uint8_t zero[4] = { 0, 0, 0, 0 };
	static const uint8_t big[4] = { 0, 0, 0x40, 0x01 }; /* 16385 */
	static const uint8_t huge[4] = { 0xff, 0xff, 0xff, 0xff };
	struct lp_ctrl_msg m;
	size_t i;

	(void)state;
	lp_ctrl_decoder_init(&dec);
	assert_int_equal(lp_ctrl_decoder_feed(&dec, zero, 4, &m), LP_ERR_FRAME_LEN);
	assert_int_equal(m.type, LP_CTRL_NONE);
	/* Sticky, whatever comes next. */
	assert_int_equal(lp_ctrl_decoder_feed(&dec, (const uint8_t *)"{}", 2, &m),
	                 LP_ERR_DECODER_BROKEN);
	assert_int_equal(lp_ctrl_decoder_feed(&dec, NULL, 0, &m), LP_ERR_DECODER_BROKEN);

	lp_ctrl_decoder_init(&dec);
	assert_int_equal(lp_ctrl_decoder_feed(&dec, big, 4, &m), LP_ERR_FRAME_LEN);

	/* Byte by byte: refused on the 4th prefix byte, no body awaited. */
	lp_ctrl_decoder_init(&dec);
	for (i = 0; i < 3; i++)
		assert_int_equal(lp_ctrl_decoder_feed(&dec, huge + i, 1, &m), 1);
	assert_int_equal(lp_ctrl_decoder_feed(&dec, huge + 3, 1, &m), LP_ERR_FRAME_LEN);
	assert_int_equal(lp_ctrl_decoder_feed(&dec, huge, 1, &m), LP_ERR_DECODER_BROKEN);
}

static void test_max_frame(void **state)
{
	uint8_t *buf = malloc(LP_CTRL_PREFIX_LEN + LP_CTRL_FRAME_MAX);
	static const char head[] = "{\"type\":\"disconnect\",\"reason\":\"max\"";
	struct lp_ctrl_msg m;

	(void)state;
	assert_non_null(buf);
	/* A body of exactly LP_CTRL_FRAME_MAX bytes (padded with JSON
	 * whitespace) is accepted. */
	lp_put_u32(buf, LP_CTRL_FRAME_MAX);
	memset(buf + 4, ' ', LP_CTRL_FRAME_MAX);
	memcpy(buf + 4, head, strlen(head));
	buf[4 + LP_CTRL_FRAME_MAX - 1] = '}';
	lp_ctrl_decoder_init(&dec);
	assert_int_equal(lp_ctrl_decoder_feed(&dec, buf, 4 + LP_CTRL_FRAME_MAX, &m),
	                 4 + LP_CTRL_FRAME_MAX);
	assert_int_equal(m.type, LP_CTRL_DISCONNECT);
	assert_string_equal(m.u.disconnect.reason, "max");
	free(buf);
}

static void test_parse_errors_stick(void **state)
{
	uint8_t buf[256];
	size_t pos = 0;
	struct lp_ctrl_msg m;

	(void)state;
	put_frame(buf, &pos, "{\"type\":\"teleport\"}");
	lp_ctrl_decoder_init(&dec);
	assert_int_equal(lp_ctrl_decoder_feed(&dec, buf, pos, &m), LP_ERR_TYPE);
	assert_int_equal(m.type, LP_CTRL_NONE);
	assert_int_equal(lp_ctrl_decoder_feed(&dec, buf, pos, &m), LP_ERR_DECODER_BROKEN);
	assert_false(lp_ctrl_decoder_idle(&dec)); /* broken is not idle */

	pos = 0;
	put_frame(buf, &pos, "{\"type\":\"hello\",\"version\":9}");
	lp_ctrl_decoder_init(&dec); /* init repairs a broken decoder */
	assert_int_equal(lp_ctrl_decoder_feed(&dec, buf, pos, &m), LP_ERR_VERSION);

	pos = 0;
	put_frame(buf, &pos, "{not json");
	lp_ctrl_decoder_init(&dec);
	assert_int_equal(lp_ctrl_decoder_feed(&dec, buf, 6, &m), 6);
	assert_int_equal(lp_ctrl_decoder_feed(&dec, buf + 6, pos - 6, &m), LP_ERR_JSON);
	assert_int_equal(lp_ctrl_decoder_feed(&dec, buf, 1, &m), LP_ERR_DECODER_BROKEN);
}

static void test_encode_then_decode(void **state)
{
	uint8_t buf[2 * (LP_CTRL_PREFIX_LEN + 512)];
	struct lp_ctrl_msg in, out;
	ssize_t n1, n2;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.type = LP_CTRL_STATS;
	in.u.stats.counters.frames_rx = 77;
	in.u.stats.counters.drops[LP_DROP_QUEUE_FULL] = 2;
	n1 = lp_ctrl_encode(&in, buf, 512);
	assert_true(n1 > 0);
	n2 = lp_ctrl_encode(&in, buf + n1, 512);
	assert_int_equal(n2, n1);
	lp_ctrl_decoder_init(&dec);
	assert_int_equal(lp_ctrl_decoder_feed(&dec, buf, (size_t)(n1 + n2), &out), n1);
	assert_memory_equal(&out, &in, sizeof(in));
	assert_int_equal(lp_ctrl_decoder_feed(&dec, buf + n1, (size_t)n2, &out), n2);
	assert_memory_equal(&out, &in, sizeof(in));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_byte_at_a_time),
		cmocka_unit_test(test_three_and_a_half_frames),
		cmocka_unit_test(test_never_reads_next_frame),
		cmocka_unit_test(test_bad_prefix_immediate),
		cmocka_unit_test(test_max_frame),
		cmocka_unit_test(test_parse_errors_stick),
		cmocka_unit_test(test_encode_then_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
