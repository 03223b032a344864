/*
 * seal - the cost of private-room frames on one core.
 *
 *   seal [SECONDS]     (default 1 per measurement)
 *
 * Seals and opens 1400-byte Ethernet frames (the overlay datagram a 1500
 * MTU room carries, roughly) in place, as the client session does, and
 * compares with a memcpy of the same frame measured in the same run, so the
 * ratio holds on a busy machine where the absolute figures do not. Prints
 * frames per second and Gbit/s of frame payload for: memcpy (baseline),
 * seal, open, and seal + open (one frame's round through two peers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lp_room.h"

#define FRAME 1400
#define BATCH 256

static double now_s(void)
{
	return (double)lp_now_ns() / 1e9;
}

static void plain(uint8_t *d)
{
	static const uint8_t eth[14] = { 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00 };
	int i;

	d[0] = 0x11;
	d[1] = 0;
	lp_put_u16(d + 2, FRAME);
	memcpy(d + 4, eth, sizeof(eth));
	for (i = 18; i < 4 + FRAME; i++)
		d[i] = (uint8_t)i;
}

struct run {
	struct lp_room_sealer *s;
	struct lp_room_opener *o;
	uint8_t (*bufs)[4 + FRAME + LP_ROOM_SEAL_OVERHEAD];
	uint8_t src[4 + FRAME];
	volatile uint8_t sink;
};

enum what { MEMCPY, SEAL, OPEN, BOTH };

/* One batch of BATCH frames; exits on any failure (a benchmark that
 * measures errors measures nothing). */
static void batch(struct run *r, enum what w)
{
	int i;

	for (i = 0; i < BATCH; i++) {
		uint8_t *d = r->bufs[i];

		if (w == OPEN) {
			if (lp_room_open(r->o, d, 4 + FRAME + LP_ROOM_SEAL_OVERHEAD, NULL) < 0)
				goto fail;
			continue;
		}
		memcpy(d, r->src, sizeof(r->src));
		if (w == MEMCPY) {
			r->sink = (uint8_t)(r->sink ^ d[i % FRAME]);
			continue;
		}
		if (lp_room_seal(r->s, d, sizeof(r->src), 4 + FRAME + LP_ROOM_SEAL_OVERHEAD) < 0)
			goto fail;
		if (w == BOTH && lp_room_open(r->o, d, 4 + FRAME + LP_ROOM_SEAL_OVERHEAD, NULL) < 0)
			goto fail;
	}
	return;
fail:
	fprintf(stderr, "seal: a frame failed\n");
	exit(1);
}

/* Frames per second of w over secs. OPEN needs sealed frames: each batch is
 * sealed first, outside the clock. */
static double measure(struct run *r, enum what w, double secs)
{
	double t0 = now_s(), spent = 0;
	long frames = 0;

	while (now_s() - t0 < secs) {
		double t;

		if (w == OPEN)
			batch(r, SEAL);
		t = now_s();
		batch(r, w);
		spent += now_s() - t;
		frames += BATCH;
	}
	return (double)frames / spent;
}

int main(int argc, char **argv)
{
	static uint8_t bufs[BATCH][4 + FRAME + LP_ROOM_SEAL_OVERHEAD];
	struct lp_room_keys keys;
	struct run r = { 0 };
	uint8_t s[32] = { 1 }, ph[32] = { 2 };
	double secs = argc > 1 ? atof(argv[1]) : 1.0, base, fps;
	static const char *const names[] = { "memcpy", "seal", "open", "seal+open" };
	int w;

	if (secs <= 0 || lp_room_keys_derive(s, ph, &keys) < 0 ||
	    lp_room_sealer_new(&keys, &r.s) < 0 || lp_room_opener_new(&keys, 0, &r.o) < 0) {
		fprintf(stderr, "usage: seal [SECONDS]\n");
		return 1;
	}
	r.bufs = bufs;
	plain(r.src);
	batch(&r, MEMCPY); /* warm up */
	base = measure(&r, MEMCPY, secs);
	printf("seal: %d-byte frames, %.1f s per figure, %s backend\n", FRAME, secs,
	       lp_room_backend());
	for (w = MEMCPY; w <= BOTH; w++) {
		fps = w == MEMCPY ? base : measure(&r, (enum what)w, secs);
		printf("  %-10s %10.0f frames/s %7.2f Gbit/s  %6.3f x memcpy\n", names[w], fps,
		       fps * FRAME * 8 / 1e9, fps / base);
	}
	lp_room_sealer_del(r.s);
	lp_room_opener_del(r.o);
	lp_room_keys_wipe(&keys);
	return 0;
}
