/*
 * fuzz/sealed.c - the sealed-datagram opener, for the room of the unit
 * tests' vectors (S = 00..1f, H = 20..3f), so the seeds authenticate.
 *
 * Input: byte 0 selects a mode, the rest is its data.
 *   mode 0  raw: the bytes are a received datagram for a fresh opener. It
 *           must open or be dropped with a reason that was counted; what
 *           opens is the plain datagram, and the same bytes never open twice;
 *           lp_room_sealed_parse accepts exactly what the opener does not
 *           drop as malformed or unsealed (but for the counter never sent).
 *   mode 1  round trip: the bytes are a plain datagram. When it seals, it
 *           must open to exactly itself, then drop as a replay; with byte
 *           data[1] (mod its length) flipped it must never open.
 *   mode 2  window and epochs against a model: records of 4 bytes
 *           (sender 0..3, epoch 0..3, counter as 16 bits << 0 or << 5)
 *           opened in order; every verdict must match the rules of
 *           lp_room.h (accept once within the window, too old below it,
 *           retired epochs refused).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame_int.h"
#include "lp_room.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP (LP_PROTO_OVERLAY_HDR_LEN + LP_PROTO_PAYLOAD_MAX)

static struct lp_room_keys keys;
static int keys_ready;

static void init_keys(void)
{
	uint8_t s[32], h[32], ph[32];
	int i;

	if (keys_ready)
		return;
	for (i = 0; i < 32; i++) {
		s[i] = (uint8_t)i;
		h[i] = (uint8_t)(0x20 + i);
	}
	if (lp_room_host_pub_derive(h, ph) != 0 || lp_room_keys_derive(s, ph, &keys) != 0)
		abort();
	keys_ready = 1;
}

static uint64_t total(const struct lp_room_opener *o)
{
	uint64_t t = 0;
	int r;

	for (r = 0; r < LP_ROOM_DROP__COUNT; r++)
		t += lp_room_opener_count(o, (enum lp_room_drop)r);
	return t;
}

static void mode_raw(const uint8_t *data, size_t size)
{
	static uint8_t a[CAP], b[CAP];
	struct lp_room_opener *o;
	enum lp_room_drop why;
	struct lp_eth eth;
	uint8_t flags;
	ssize_t n;
	int parsed;

	if (size > CAP || lp_room_opener_new(&keys, 4, &o) != 0)
		return;
	memcpy(a, data, size);
	memcpy(b, data, size);
	parsed = lp_room_sealed_parse(data, size, &flags, &eth);
	n = lp_room_open(o, a, size, &why);
	if (total(o) != 1)
		abort();
	/* The relay's keyless view and the opener agree on what is well formed,
	 * except for the counter value never sent, which only the opener reads. */
	if (parsed != 0 && why != LP_ROOM_DROP_MALFORMED && why != LP_ROOM_DROP_UNSEALED)
		abort();
	if (parsed == 0 && why == LP_ROOM_DROP_UNSEALED)
		abort();
	if (parsed == 0 && why == LP_ROOM_DROP_MALFORMED &&
	    lp_room_get_u64(data + size - 24) != UINT64_MAX)
		abort();
	if (n >= 0) {
		if (why != LP_ROOM_DROP_NONE || (size_t)n + LP_ROOM_SEAL_OVERHEAD != size ||
		    (a[1] & LP_ROOM_FLAG_SEALED) != 0 || lp_get_u16(a + 2) != (size_t)n - 4)
			abort();
		n = lp_room_open(o, b, size, &why);
		if (n >= 0 || why != LP_ROOM_DROP_REPLAY)
			abort();
	} else if (why == LP_ROOM_DROP_NONE || lp_room_opener_count(o, why) != 1) {
		abort();
	}
	lp_room_opener_del(o);
}

static void mode_round_trip(const uint8_t *data, size_t size)
{
	static uint8_t a[CAP + LP_ROOM_SEAL_OVERHEAD], b[sizeof(a)], orig[CAP];
	struct lp_room_sealer *s;
	struct lp_room_opener *o;
	enum lp_room_drop why;
	ssize_t n, m;
	size_t flip;

	if (size < 1 || size - 1 > CAP)
		return;
	flip = data[0];
	data++;
	size--;
	if (lp_room_sealer_new(&keys, &s) != 0)
		abort();
	if (lp_room_opener_new(&keys, 4, &o) != 0)
		abort();
	memcpy(a, data, size);
	memcpy(orig, data, size);
	n = lp_room_seal(s, a, size, sizeof(a));
	if (n < 0) {
		if (memcmp(a, orig, size) != 0)
			abort(); /* refused: untouched */
		goto out;
	}
	if ((size_t)n != size + LP_ROOM_SEAL_OVERHEAD)
		abort();
	memcpy(b, a, (size_t)n);
	b[flip % (size_t)n] ^= (uint8_t)(1u << (flip % 8));
	if (flip % (size_t)n != 1 || (1u << (flip % 8)) != LP_ROOM_FLAG_FROM_GATEWAY) {
		if (lp_room_open(o, b, (size_t)n, &why) >= 0)
			abort(); /* a flipped bit outside FROM_GATEWAY never opens */
	}
	memcpy(b, a, (size_t)n);
	m = lp_room_open(o, a, (size_t)n, &why);
	if (m != (ssize_t)size || memcmp(a, orig, size) != 0)
		abort();
	if (lp_room_open(o, b, (size_t)n, &why) >= 0 || why != LP_ROOM_DROP_REPLAY)
		abort();
out:
	lp_room_sealer_del(s);
	lp_room_opener_del(o);
}

/* The model of one sender MAC. */
struct model {
	int has;
	unsigned epoch;
	uint64_t high;
	uint8_t retired[4];
	uint8_t seen[(UINT64_C(0xffff) << 5) / 8 + 1];
};

static void mode_window(const uint8_t *data, size_t size)
{
	static struct model m[4];
	static const uint64_t epochs[4] = { 11, 22, 33, 44 };
	struct lp_room_opener *o;
	size_t i;

	memset(m, 0, sizeof(m));
	if (lp_room_opener_new(&keys, 8, &o) != 0)
		abort();
	for (i = 0; i + 4 <= size && i < 4 * 400; i += 4) {
		unsigned who = data[i] & 3, ep = data[i + 1] & 3;
		uint64_t c = (uint64_t)(data[i + 2] << 8 | data[i + 3]) << ((data[i] & 4) ? 5 : 0);
		struct lp_room_sealer *s;
		enum lp_room_drop why, want;
		uint8_t d[64] = { 0x11, 0,    0,    14 + 4, 0xff, 0xff, 0xff, 0xff,
			          0xff, 0xff, 0x02, 0,      0,    0,    0,    (uint8_t)who,
			          0x08, 0x00, 'd',  'a',    't',  'a' };
		struct model *x = &m[who];
		ssize_t n;

		/* A sealer per frame, jumping to the wanted counter: fine for a
		 * model test, never in real use (it would repeat nonces). */
		if (lp_room_sealer_new_epoch(&keys, epochs[ep], &s) != 0 ||
		    lp_room_sealer_skip_to(s, c) != 0 || lp_room_seal(s, d, 22, sizeof(d)) != 54)
			abort();
		lp_room_sealer_del(s);
		if (x->has && x->epoch == ep) {
			if (x->high > c && x->high - c > LP_ROOM_REPLAY_WINDOW)
				want = LP_ROOM_DROP_TOO_OLD;
			else if (x->seen[c / 8] & (1u << (c % 8)))
				want = LP_ROOM_DROP_REPLAY;
			else
				want = LP_ROOM_DROP_NONE;
		} else {
			want = x->retired[ep] ? LP_ROOM_DROP_RETIRED_EPOCH : LP_ROOM_DROP_NONE;
		}
		n = lp_room_open(o, d, 54, &why);
		if (why != want || (n >= 0) != (want == LP_ROOM_DROP_NONE))
			abort();
		if (want != LP_ROOM_DROP_NONE)
			continue;
		if (!x->has || x->epoch != ep) {
			if (x->has)
				x->retired[x->epoch] = 1;
			x->has = 1;
			x->epoch = ep;
			x->high = c;
			memset(x->seen, 0, sizeof(x->seen));
		}
		x->seen[c / 8] |= (uint8_t)(1u << (c % 8));
		if (c > x->high)
			x->high = c;
	}
	lp_room_opener_del(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	init_keys();
	switch (data[0] % 3) {
	case 0:
		mode_raw(data + 1, size - 1);
		break;
	case 1:
		mode_round_trip(data + 1, size - 1);
		break;
	default:
		mode_window(data + 1, size - 1);
		break;
	}
	return 0;
}
