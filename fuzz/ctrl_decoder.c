/*
 * ctrl_decoder.c - libFuzzer target for the control stream decoder.
 *
 * The input is a control stream. It is decoded twice: once whole, once in
 * chunks whose sizes come from the stream's own bytes. Both runs must yield
 * the same messages and the same final error (chunking must not matter).
 * Every decoded message must re-encode, and re-parsing that encoding must
 * give back a byte-identical struct (the parser zeroes the struct before
 * filling it, so padding and string tails compare too).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lp_ctrl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lp_ctrl_decoder dec;
static uint8_t enc[LP_CTRL_PREFIX_LEN + LP_CTRL_FRAME_MAX];

static void check_round_trip(const struct lp_ctrl_msg *m)
{
	struct lp_ctrl_msg back;
	ssize_t n;

	assert(lp_ctrl_msg_validate(m) == 0);
	n = lp_ctrl_encode(m, enc, sizeof(enc));
	assert(n > LP_CTRL_PREFIX_LEN);
	assert(lp_get_u16(enc) == 0 &&
	       lp_get_u16(enc + 2) == (uint16_t)((size_t)n - LP_CTRL_PREFIX_LEN));
	memset(&back, 0xa5, sizeof(back));
	assert(lp_ctrl_parse_json(enc + LP_CTRL_PREFIX_LEN, (size_t)n - LP_CTRL_PREFIX_LEN,
	                          &back) == 0);
	assert(memcmp(&back, m, sizeof(back)) == 0);
}

/* Decodes the whole stream; chunked != 0 feeds pieces of 1..64 bytes sized
 * by the byte at the current position. Returns the number of messages
 * (stored into msgs) and the final error in *err. */
static size_t run(const uint8_t *data, size_t size, int chunked, struct lp_ctrl_msg *msgs, int *err)
{
	size_t pos = 0, count = 0;
	struct lp_ctrl_msg m;

	lp_ctrl_decoder_init(&dec);
	*err = 0;
	while (pos < size) {
		size_t len = size - pos;
		ssize_t n;

		if (chunked) {
			size_t want = (size_t)(data[pos] % 64u) + 1;

			len = want < len ? want : len;
		}
		n = lp_ctrl_decoder_feed(&dec, data + pos, len, &m);
		if (n < 0) {
			assert(m.type == LP_CTRL_NONE);
			/* Broken for good. */
			assert(lp_ctrl_decoder_feed(&dec, data, size, &m) == LP_ERR_DECODER_BROKEN);
			*err = (int)n;
			break;
		}
		assert((size_t)n <= len);
		/* Progress: only a completed frame may end early. */
		assert((size_t)n == len || m.type != LP_CTRL_NONE);
		pos += (size_t)n;
		if (m.type != LP_CTRL_NONE) {
			/* memcpy, not assignment: padding must be copied too. */
			memcpy(&msgs[count], &m, sizeof(m));
			count++;
		}
	}
	return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Every frame takes at least 5 bytes. */
	size_t cap = size / (LP_CTRL_PREFIX_LEN + 1) + 1;
	struct lp_ctrl_msg *whole = calloc(cap, sizeof(*whole));
	struct lp_ctrl_msg *chunked = calloc(cap, sizeof(*chunked));
	size_t n_whole, n_chunked, i;
	int err_whole, err_chunked;

	if (whole == NULL || chunked == NULL)
		goto out;
	n_whole = run(data, size, 0, whole, &err_whole);
	assert(n_whole <= cap);
	n_chunked = run(data, size, 1, chunked, &err_chunked);
	assert(n_whole == n_chunked);
	assert(err_whole == err_chunked);
	for (i = 0; i < n_whole; i++) {
		assert(memcmp(&whole[i], &chunked[i], sizeof(whole[i])) == 0);
		check_round_trip(&whole[i]);
	}
out:
	free(whole);
	free(chunked);
	return 0;
}
