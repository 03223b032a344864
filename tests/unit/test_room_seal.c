/*
 * test_room_seal.c - sealed frames: fixed vectors, round trips, tampering
 * with every authenticated part, replay, the window's edges, epochs and the
 * bounded sender table. Portable (Linux and Wine backends).
 *
 * The two sealed vectors were computed with python3-cryptography (OpenSSL's
 * AES-GCM) and a by-hand HKDF over hmac/hashlib, for the key schedule of
 * test_room_keys.c (S = 00..1f, H = 20..3f) and epoch 0102030405060708:
 *   K_e = HKDF-Expand(K, "softlan-vpn frame v1" || epoch, 32)
 *   nonce = 00000000 || counter, AAD = hdr(4) || clear Ethernet header || epoch || counter
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "frame_int.h" /* lib/room internal: lp_room_sealer_skip_to */
#include "lp_room.h"

#define EPOCH UINT64_C(0x0102030405060708)
#define CAP 256

static const uint8_t sealed_untagged_c0[] = {
	0x11, 0x01, 0x00, 0x40, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x08, 0x00, 0xfc, 0x10, 0x04, 0x8e, 0x89, 0xce, 0xcd, 0x01, 0xc0, 0xc8,
	0x32, 0x77, 0x2d, 0x17, 0x47, 0x11, 0xd6, 0x39, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
	0x07, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x74, 0x67, 0x53, 0x44,
	0x35, 0x8c, 0xe0, 0x8a, 0xcd, 0x39, 0x36, 0xe4, 0x65, 0x69, 0xe5, 0x52,
};
static const uint8_t sealed_vlan_c7[] = {
	0x11, 0x01, 0x00, 0x38, 0x02, 0x00, 0x00, 0x00, 0x00, 0x99, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x81, 0x00, 0x00, 0x64, 0x86, 0xdd, 0x01, 0x61, 0xab, 0xbb, 0xff, 0x71, 0x01, 0x02,
	0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x03,
	0x1f, 0x9e, 0x8d, 0x3a, 0x47, 0xff, 0xec, 0xbf, 0xff, 0xf6, 0x45, 0xbd, 0x00, 0x6b, 0xa7,
};

struct pkt {
	uint8_t b[CAP];
	size_t len;
};

static struct lp_room_keys keys;

static int setup(void **state)
{
	uint8_t s[32], h[32], ph[32];
	int i;

	(void)state;
	for (i = 0; i < 32; i++) {
		s[i] = (uint8_t)i;
		h[i] = (uint8_t)(0x20 + i);
	}
	if (lp_room_host_pub_derive(h, ph) < 0)
		return -1;
	return lp_room_keys_derive(s, ph, &keys);
}

static int teardown(void **state)
{
	(void)state;
	lp_room_keys_wipe(&keys);
	return 0;
}

/* A plain overlay datagram: src MAC 02:00:00:00:00:<src>, broadcast dst,
 * IPv4 ethertype, the given payload text. */
static void plain(struct pkt *p, uint8_t src, const char *text)
{
	static const uint8_t eth[14] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
		                         0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00 };
	size_t n = strlen(text);

	memset(p, 0, sizeof(*p));
	p->b[0] = 0x11;
	lp_put_u16(p->b + 2, (uint16_t)(14 + n));
	memcpy(p->b + 4, eth, 14);
	p->b[4 + 11] = src;
	memcpy(p->b + 18, text, n);
	p->len = 18 + n;
}

/* memmem is a GNU extension mingw lacks. */
static int contains(const uint8_t *h, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++) {
		if (memcmp(h + i, needle, k) == 0)
			return 1;
	}
	return 0;
}

static void seal(struct lp_room_sealer *s, struct pkt *p)
{
	ssize_t n = lp_room_seal(s, p->b, p->len, sizeof(p->b));

	assert_int_equal(n, p->len + LP_ROOM_SEAL_OVERHEAD);
	p->len = (size_t)n;
}

/* Opens a copy of p; returns the result and the reason. */
static ssize_t open_copy(struct lp_room_opener *o, const struct pkt *p, enum lp_room_drop *why)
{
	struct pkt c = *p;

	return lp_room_open(o, c.b, c.len, why);
}

static void expect_drop(struct lp_room_opener *o, const struct pkt *p, enum lp_room_drop want)
{
	enum lp_room_drop why = LP_ROOM_DROP_NONE;
	uint64_t before = lp_room_opener_count(o, want);

	assert_true(open_copy(o, p, &why) < 0);
	assert_int_equal(why, want);
	assert_int_equal(lp_room_opener_count(o, want), before + 1);
}

static void expect_ok(struct lp_room_opener *o, const struct pkt *p)
{
	enum lp_room_drop why = LP_ROOM_DROP_AUTH;

	assert_int_equal(open_copy(o, p, &why), p->len - LP_ROOM_SEAL_OVERHEAD);
	assert_int_equal(why, LP_ROOM_DROP_NONE);
}

static void test_vectors(void **state)
{
	struct lp_room_sealer *s;
	struct lp_room_opener *o;
	struct pkt p, v;
	static const uint8_t vlan_frame[] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99, 0x02, 0x00,
		                              0x00, 0x00, 0x00, 0x01, 0x81, 0x00, 0x00, 0x64,
		                              0x86, 0xdd, 't',  'a',  'g',  'g',  'e',  'd' };
	ssize_t n;
	int i;

	(void)state;
	assert_int_equal(lp_room_sealer_new_epoch(&keys, EPOCH, &s), 0);
	assert_int_equal(lp_room_sealer_epoch(s), EPOCH);
	plain(&p, 1, "hello private room");
	seal(s, &p);
	assert_int_equal(p.len, sizeof(sealed_untagged_c0));
	assert_memory_equal(p.b, sealed_untagged_c0, sizeof(sealed_untagged_c0));
	for (i = 1; i < 7; i++) {
		plain(&p, 1, "filler");
		seal(s, &p);
	}
	memset(&v, 0, sizeof(v));
	v.b[0] = 0x11;
	lp_put_u16(v.b + 2, sizeof(vlan_frame));
	memcpy(v.b + 4, vlan_frame, sizeof(vlan_frame));
	v.len = 4 + sizeof(vlan_frame);
	seal(s, &v);
	assert_int_equal(v.len, sizeof(sealed_vlan_c7));
	assert_memory_equal(v.b, sealed_vlan_c7, sizeof(sealed_vlan_c7));
	lp_room_sealer_del(s);

	/* Opening the independent vectors gives the plain frames back. */
	assert_int_equal(lp_room_opener_new(&keys, 0, &o), 0);
	memcpy(p.b, sealed_untagged_c0, sizeof(sealed_untagged_c0));
	n = lp_room_open(o, p.b, sizeof(sealed_untagged_c0), NULL);
	assert_int_equal(n, 4 + 14 + 18);
	assert_int_equal(p.b[1], 0);
	assert_int_equal(lp_get_u16(p.b + 2), 14 + 18);
	assert_memory_equal(p.b + 18, "hello private room", 18);
	memcpy(v.b, sealed_vlan_c7, sizeof(sealed_vlan_c7));
	n = lp_room_open(o, v.b, sizeof(sealed_vlan_c7), NULL);
	assert_int_equal(n, 4 + sizeof(vlan_frame));
	assert_memory_equal(v.b + 4, vlan_frame, sizeof(vlan_frame));
	assert_int_equal(lp_room_opener_count(o, LP_ROOM_DROP_NONE), 2);
	lp_room_opener_del(o);
}

static void test_round_trip_and_from_gateway(void **state)
{
	struct lp_room_sealer *s;
	struct lp_room_opener *o;
	struct pkt p, orig;
	enum lp_room_drop why;
	ssize_t n;

	(void)state;
	assert_int_equal(lp_room_sealer_new(&keys, &s), 0);
	assert_int_equal(lp_room_opener_new(&keys, 0, &o), 0);
	plain(&orig, 7, "the quick brown fox jumps over the lazy dog");
	p = orig;
	seal(s, &p);
	/* The payload is not in clear any more; the Ethernet header is. */
	assert_true(contains(orig.b, orig.len, "quick brown"));
	assert_false(contains(p.b, p.len, "quick brown"));
	assert_memory_equal(p.b + 4, orig.b + 4, 14);
	assert_int_equal(p.b[1], LP_ROOM_FLAG_SEALED);
	/* The relay's FROM_GATEWAY is outside the AAD and kept for the caller. */
	p.b[1] |= LP_ROOM_FLAG_FROM_GATEWAY;
	n = lp_room_open(o, p.b, p.len, &why);
	assert_int_equal(n, orig.len);
	assert_int_equal(why, LP_ROOM_DROP_NONE);
	assert_int_equal(p.b[1], LP_ROOM_FLAG_FROM_GATEWAY);
	p.b[1] = 0;
	assert_memory_equal(p.b, orig.b, orig.len);
	lp_room_sealer_del(s);
	lp_room_opener_del(o);
}

static void test_tamper(void **state)
{
	struct lp_room_sealer *s;
	struct lp_room_opener *o;
	struct pkt p, t;
	size_t i;

	(void)state;
	assert_int_equal(lp_room_sealer_new(&keys, &s), 0);
	assert_int_equal(lp_room_opener_new(&keys, 0, &o), 0);
	plain(&p, 3, "tamper with me, relay");
	seal(s, &p);

	/* Every byte of the clear Ethernet header, the ciphertext, the epoch,
	 * the counter and the tag is authenticated. */
	for (i = 4; i < p.len; i++) {
		t = p;
		t.b[i] ^= 0x01;
		expect_drop(o, &t, LP_ROOM_DROP_AUTH);
		t = p;
		t.b[i] ^= 0x80;
		expect_drop(o, &t, LP_ROOM_DROP_AUTH);
	}
	/* The overlay header: a changed version/type, length or unknown flag
	 * never reaches the cipher; a cleared SEALED flag is "unsealed". */
	t = p;
	t.b[0] = 0x12;
	expect_drop(o, &t, LP_ROOM_DROP_MALFORMED);
	t = p;
	t.b[1] |= 0x02;
	expect_drop(o, &t, LP_ROOM_DROP_MALFORMED);
	t = p;
	t.b[1] = 0;
	expect_drop(o, &t, LP_ROOM_DROP_UNSEALED);
	t = p;
	t.b[3] ^= 1;
	expect_drop(o, &t, LP_ROOM_DROP_MALFORMED);
	/* A frame cut by one ciphertext byte with its length fixed up. */
	t = p;
	memmove(t.b + 18, t.b + 19, p.len - 19);
	t.len--;
	lp_put_u16(t.b + 2, (uint16_t)(t.len - 4));
	expect_drop(o, &t, LP_ROOM_DROP_AUTH);
	/* None of it moved the window: the real frame still opens, once. */
	expect_ok(o, &p);
	expect_drop(o, &p, LP_ROOM_DROP_REPLAY);
	assert_int_equal(lp_room_opener_count(o, LP_ROOM_DROP_AUTH), 2 * (p.len - 4) + 1);
	lp_room_sealer_del(s);
	lp_room_opener_del(o);
}

static void test_wrong_room(void **state)
{
	struct lp_room_keys other;
	struct lp_room_sealer *s;
	struct lp_room_opener *o;
	uint8_t s2[32] = { 9 };
	struct pkt p;

	(void)state;
	assert_int_equal(lp_room_keys_derive(s2, keys.host_pub, &other), 0);
	assert_int_equal(lp_room_sealer_new(&other, &s), 0);
	assert_int_equal(lp_room_opener_new(&keys, 0, &o), 0);
	plain(&p, 3, "from another room");
	seal(s, &p);
	expect_drop(o, &p, LP_ROOM_DROP_AUTH);
	plain(&p, 3, "not sealed at all");
	expect_drop(o, &p, LP_ROOM_DROP_UNSEALED);
	lp_room_keys_wipe(&other);
	lp_room_sealer_del(s);
	lp_room_opener_del(o);
}

/* H = highest counter accepted. Accepted once: c > H or H - c <= W. */
static void test_window_edges(void **state)
{
	const uint64_t W = LP_ROOM_REPLAY_WINDOW, H = 3000, F = UINT64_C(1000000000000);
	struct lp_room_sealer *s;
	struct lp_room_opener *o;
	struct pkt at_edge, past_edge, top, c10, far, far_edge, far_past, far_prev;

	(void)state;
	assert_int_equal(W, 1984);
	assert_int_equal(lp_room_sealer_new(&keys, &s), 0);
	assert_int_equal(lp_room_opener_new(&keys, 0, &o), 0);
	plain(&c10, 4, "ten");
	assert_int_equal(lp_room_sealer_skip_to(s, 10), 0);
	seal(s, &c10);
	assert_int_equal(lp_room_sealer_skip_to(s, H - W - 1), 0);
	plain(&past_edge, 4, "one past the window");
	seal(s, &past_edge);
	plain(&at_edge, 4, "exactly at the window size");
	seal(s, &at_edge);
	assert_int_equal(lp_room_sealer_skip_to(s, H), 0);
	plain(&top, 4, "top");
	seal(s, &top);
	assert_int_equal(lp_room_sealer_skip_to(s, F - W - 1), 0);
	plain(&far_past, 4, "far, one past");
	seal(s, &far_past);
	plain(&far_edge, 4, "far, at the edge");
	seal(s, &far_edge);
	assert_int_equal(lp_room_sealer_skip_to(s, F - 1), 0);
	plain(&far_prev, 4, "far, one below");
	seal(s, &far_prev);
	plain(&far, 4, "far ahead");
	seal(s, &far);
	/* Going back is refused: it could repeat a nonce. */
	assert_int_equal(lp_room_sealer_skip_to(s, 5), LP_ERR_INVAL);

	expect_ok(o, &c10);
	expect_ok(o, &top);
	expect_drop(o, &c10, LP_ROOM_DROP_TOO_OLD);
	expect_drop(o, &past_edge, LP_ROOM_DROP_TOO_OLD);
	expect_ok(o, &at_edge);
	expect_drop(o, &at_edge, LP_ROOM_DROP_REPLAY);
	expect_drop(o, &top, LP_ROOM_DROP_REPLAY);

	/* A jump far ahead slides the whole window: nothing stale survives. */
	expect_ok(o, &far);
	expect_drop(o, &top, LP_ROOM_DROP_TOO_OLD);
	expect_ok(o, &far_prev);
	expect_ok(o, &far_edge);
	expect_drop(o, &far_past, LP_ROOM_DROP_TOO_OLD);
	expect_drop(o, &far, LP_ROOM_DROP_REPLAY);
	expect_drop(o, &far_prev, LP_ROOM_DROP_REPLAY);
	lp_room_sealer_del(s);
	lp_room_opener_del(o);
}

/* Reordered and duplicated delivery against a model of the rule. */
static void test_window_model(void **state)
{
	enum { N = 6000 };
	const uint64_t W = LP_ROOM_REPLAY_WINDOW;
	struct lp_room_sealer *s;
	struct lp_room_opener *o;
	struct pkt *all = calloc(N, sizeof(*all));
	uint8_t *seen = calloc(N, 1);
	uint64_t high = 0, rnd = 12345;
	int any = 0, i, accepted = 0;

	(void)state;
	assert_non_null(all);
	assert_non_null(seen);
	assert_int_equal(lp_room_sealer_new(&keys, &s), 0);
	assert_int_equal(lp_room_opener_new(&keys, 0, &o), 0);
	for (i = 0; i < N; i++) {
		plain(&all[i], 5, "x");
		seal(s, &all[i]);
	}
	for (i = 0; i < 4 * N; i++) {
		uint64_t c;
		enum lp_room_drop why, want;
		ssize_t n;

		rnd = rnd * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
		/* Mostly moving forward, with jitter back of up to 2400 and repeats. */
		c = (uint64_t)i / 4 + (rnd >> 33) % 64;
		if ((rnd >> 20) % 8 == 0)
			c = c > 2400 ? c - (rnd >> 40) % 2400 : c;
		if (c >= N)
			continue;
		if (any && c <= high && (high - c > W))
			want = LP_ROOM_DROP_TOO_OLD;
		else if (seen[c])
			want = LP_ROOM_DROP_REPLAY;
		else
			want = LP_ROOM_DROP_NONE;
		n = open_copy(o, &all[c], &why);
		assert_int_equal(why, want);
		assert_int_equal(n >= 0, want == LP_ROOM_DROP_NONE);
		if (want == LP_ROOM_DROP_NONE) {
			seen[c] = 1;
			accepted++;
			if (!any || c > high)
				high = c;
			any = 1;
		}
	}
	assert_true(accepted > N / 2);
	assert_true(lp_room_opener_count(o, LP_ROOM_DROP_REPLAY) > 100);
	assert_true(lp_room_opener_count(o, LP_ROOM_DROP_TOO_OLD) > 100);
	free(all);
	free(seen);
	lp_room_sealer_del(s);
	lp_room_opener_del(o);
}

static void test_epochs(void **state)
{
	struct lp_room_sealer *a, *b;
	struct lp_room_opener *o;
	struct pkt a1, a2, a3, b1, b2;

	(void)state;
	assert_int_equal(lp_room_sealer_new(&keys, &a), 0);
	assert_int_equal(lp_room_sealer_new(&keys, &b), 0);
	assert_true(lp_room_sealer_epoch(a) != lp_room_sealer_epoch(b));
	assert_int_equal(lp_room_opener_new(&keys, 0, &o), 0);
	plain(&a1, 6, "session one, frame one");
	seal(a, &a1);
	plain(&a2, 6, "session one, frame two");
	seal(a, &a2);
	plain(&a3, 6, "session one, frame three");
	seal(a, &a3);
	plain(&b1, 6, "session two, frame one");
	seal(b, &b1);
	plain(&b2, 6, "session two, frame two");
	seal(b, &b2);

	expect_ok(o, &a1);
	/* The sender reconnected (new epoch, counter from 0 again). */
	expect_ok(o, &b1);
	/* Late and replayed frames of the old session: refused. */
	expect_drop(o, &a2, LP_ROOM_DROP_RETIRED_EPOCH);
	expect_drop(o, &a1, LP_ROOM_DROP_RETIRED_EPOCH);
	expect_ok(o, &b2);
	expect_drop(o, &a3, LP_ROOM_DROP_RETIRED_EPOCH);
	expect_drop(o, &b1, LP_ROOM_DROP_REPLAY);
	lp_room_sealer_del(a);
	lp_room_sealer_del(b);
	lp_room_opener_del(o);
}

/* A gateway's one epoch carries frames of many LAN source MACs: each MAC
 * has its own window, interleaved counters are all accepted. */
static void test_many_macs_one_epoch(void **state)
{
	struct lp_room_sealer *g;
	struct lp_room_opener *o;
	struct pkt p[40];
	int i;

	(void)state;
	assert_int_equal(lp_room_sealer_new(&keys, &g), 0);
	assert_int_equal(lp_room_opener_new(&keys, 0, &o), 0);
	for (i = 0; i < 40; i++) {
		plain(&p[i], (uint8_t)(0x10 + i % 5), "lan host");
		seal(g, &p[i]);
	}
	for (i = 39; i >= 0; i--)
		expect_ok(o, &p[i]);
	for (i = 0; i < 40; i++)
		expect_drop(o, &p[i], LP_ROOM_DROP_REPLAY);
	lp_room_sealer_del(g);
	lp_room_opener_del(o);
}

/* Two sender slots, three senders: the least recently used is evicted, and
 * its old frames stay refused when it comes back. */
static void test_eviction(void **state)
{
	struct lp_room_sealer *s;
	struct lp_room_opener *o;
	struct pkt a1, a2, b1, b2, c1, c2, a3;

	(void)state;
	assert_int_equal(lp_room_sealer_new(&keys, &s), 0);
	assert_int_equal(lp_room_opener_new(&keys, 2, &o), 0);
	plain(&a1, 0xa, "a1");
	seal(s, &a1);
	plain(&a2, 0xa, "a2");
	seal(s, &a2);
	plain(&b1, 0xb, "b1");
	seal(s, &b1);
	plain(&c1, 0xc, "c1");
	seal(s, &c1);
	plain(&b2, 0xb, "b2");
	seal(s, &b2);
	plain(&c2, 0xc, "c2");
	seal(s, &c2);
	plain(&a3, 0xa, "a3");
	seal(s, &a3);

	expect_ok(o, &a2); /* a: highest counter 1, counter 0 not seen */
	expect_ok(o, &b1);
	expect_ok(o, &c1); /* evicts a (least recently used) */
	expect_ok(o, &b2);
	expect_drop(o, &a2, LP_ROOM_DROP_REPLAY); /* a's floor: refused, no slot taken */
	expect_drop(o, &a1, LP_ROOM_DROP_REPLAY); /* below a's floor: refused too */
	expect_ok(o, &a3);                        /* later counters resume a, evicting c */
	expect_drop(o, &a3, LP_ROOM_DROP_REPLAY);
	expect_drop(o, &c1, LP_ROOM_DROP_REPLAY);
	expect_ok(o, &c2);
	lp_room_sealer_del(s);
	lp_room_opener_del(o);
	assert_int_equal(lp_room_opener_new(&keys, 65537, &o), LP_ERR_INVAL);
	assert_null(o);
}

static void test_seal_errors(void **state)
{
	struct lp_room_sealer *s;
	struct pkt p, before;
	static uint8_t big[LP_PROTO_PAYLOAD_MAX + 4 + LP_ROOM_SEAL_OVERHEAD];

	(void)state;
	assert_int_equal(lp_room_sealer_new(&keys, &s), 0);
	plain(&p, 1, "x");
	before = p;
	assert_int_equal(lp_room_seal(s, p.b, p.len, p.len + LP_ROOM_SEAL_OVERHEAD - 1),
	                 LP_ERR_NOBUF);
	assert_memory_equal(&p, &before, sizeof(p));
	p.b[1] = LP_ROOM_FLAG_SEALED; /* already sealed, or any flag */
	assert_int_equal(lp_room_seal(s, p.b, p.len, sizeof(p.b)), LP_ERR_INVAL);
	p = before;
	assert_int_equal(lp_room_seal(s, p.b, p.len - 1, sizeof(p.b)), LP_ERR_TRUNCATED);
	assert_int_equal(lp_room_seal(s, p.b, 3, sizeof(p.b)), LP_ERR_TRUNCATED);
	lp_put_u16(p.b + 2, 13);
	assert_int_equal(lp_room_seal(s, p.b, 4 + 13, sizeof(p.b)), LP_ERR_RUNT);
	p = before;
	p.b[0] = 0x21;
	assert_int_equal(lp_room_seal(s, p.b, p.len, sizeof(p.b)), LP_ERR_VERSION);
	/* Largest payload that still fits the 16-bit length once sealed. */
	memcpy(big, before.b, 18);
	lp_put_u16(big + 2, LP_PROTO_PAYLOAD_MAX - LP_ROOM_SEAL_OVERHEAD + 1);
	assert_int_equal(lp_room_seal(s, big, 4 + LP_PROTO_PAYLOAD_MAX - LP_ROOM_SEAL_OVERHEAD + 1,
	                              sizeof(big)),
	                 LP_ERR_PAYLOAD_MAX);
	lp_put_u16(big + 2, LP_PROTO_PAYLOAD_MAX - LP_ROOM_SEAL_OVERHEAD);
	assert_int_equal(
	        lp_room_seal(s, big, 4 + LP_PROTO_PAYLOAD_MAX - LP_ROOM_SEAL_OVERHEAD, sizeof(big)),
	        4 + LP_PROTO_PAYLOAD_MAX);
	/* The counter's last value, then the session must reconnect. */
	assert_int_equal(lp_room_sealer_skip_to(s, UINT64_MAX - 1), 0);
	p = before;
	seal(s, &p);
	assert_int_equal(lp_room_get_u64(p.b + p.len - 24), UINT64_MAX - 1);
	p = before;
	assert_int_equal(lp_room_seal(s, p.b, p.len, sizeof(p.b)), LP_ERR_STATE);
	assert_memory_equal(&p, &before, sizeof(p));
	lp_room_sealer_del(s);
	lp_room_sealer_del(NULL);
	lp_room_opener_del(NULL);
}

static void test_open_malformed(void **state)
{
	struct lp_room_opener *o;
	struct lp_room_sealer *s;
	struct pkt p, t;
	enum lp_room_drop why;

	(void)state;
	assert_int_equal(lp_room_opener_new(&keys, 0, &o), 0);
	assert_int_equal(lp_room_sealer_new(&keys, &s), 0);
	plain(&p, 1, "m");
	seal(s, &p);
	assert_true(lp_room_open(o, p.b, 0, &why) < 0);
	assert_int_equal(why, LP_ROOM_DROP_MALFORMED);
	t = p;
	assert_int_equal(lp_room_open(o, t.b, t.len - 1, &why), LP_ERR_TRUNCATED);
	assert_int_equal(why, LP_ROOM_DROP_MALFORMED);
	/* Shorter than the overhead and the Ethernet header. */
	t = p;
	lp_put_u16(t.b + 2, 31);
	assert_int_equal(lp_room_open(o, t.b, 4 + 31, &why), LP_ERR_TRUNCATED);
	lp_put_u16(t.b + 2, 32 + 13);
	assert_int_equal(lp_room_open(o, t.b, 4 + 32 + 13, &why), LP_ERR_RUNT);
	/* The counter value that is never sent. */
	t = p;
	memset(t.b + t.len - 24, 0xff, 8);
	assert_int_equal(lp_room_open(o, t.b, t.len, &why), LP_ERR_INVAL);
	assert_int_equal(why, LP_ROOM_DROP_MALFORMED);
	assert_int_equal(lp_room_opener_count(o, LP_ROOM_DROP_MALFORMED), 5);
	assert_string_equal(lp_room_drop_name(LP_ROOM_DROP_AUTH), "auth");
	assert_string_equal(lp_room_drop_name(LP_ROOM_DROP_REPLAY), "replay");
	assert_string_equal(lp_room_drop_name(LP_ROOM_DROP_TOO_OLD), "too_old");
	assert_string_equal(lp_room_drop_name(LP_ROOM_DROP_UNSEALED), "unsealed");
	assert_string_equal(lp_room_drop_name(LP_ROOM_DROP_RETIRED_EPOCH), "retired_epoch");
	assert_string_equal(lp_room_drop_name(LP_ROOM_DROP__COUNT), "unknown");
	lp_room_sealer_del(s);
	lp_room_opener_del(o);
}

/* What the relay may read of a sealed datagram, without a key. */
static void test_sealed_parse(void **state)
{
	struct lp_eth eth;
	struct pkt p;
	uint8_t flags = 0;

	(void)state;
	memcpy(p.b, sealed_vlan_c7, sizeof(sealed_vlan_c7));
	assert_int_equal(lp_room_sealed_parse(p.b, sizeof(sealed_vlan_c7), &flags, &eth), 0);
	assert_int_equal(flags, LP_ROOM_FLAG_SEALED);
	assert_int_equal(eth.header_len, 18);
	assert_int_equal(eth.frame_len, sizeof(sealed_vlan_c7) - 4 - LP_ROOM_SEAL_OVERHEAD);
	assert_int_equal(eth.vlan_count, 1);
	assert_int_equal(eth.vlan_id[0], 100);
	assert_int_equal(eth.inner_ethertype, 0x86dd);
	assert_int_equal(eth.src.b[5], 0x01);
	assert_int_equal(eth.dst.b[5], 0x99);
	p.b[1] |= LP_ROOM_FLAG_FROM_GATEWAY;
	assert_int_equal(lp_room_sealed_parse(p.b, sizeof(sealed_vlan_c7), &flags, &eth), 0);
	assert_int_equal(flags, LP_ROOM_FLAG_SEALED | LP_ROOM_FLAG_FROM_GATEWAY);
	p.b[1] = 0;
	assert_int_equal(lp_room_sealed_parse(p.b, sizeof(sealed_vlan_c7), &flags, &eth),
	                 LP_ERR_STATE);
	p.b[1] = 0x41;
	assert_int_equal(lp_room_sealed_parse(p.b, sizeof(sealed_vlan_c7), &flags, &eth),
	                 LP_ERR_INVAL);
	p.b[1] = 1;
	assert_int_equal(lp_room_sealed_parse(p.b, sizeof(sealed_vlan_c7) - 1, &flags, &eth),
	                 LP_ERR_TRUNCATED);
	lp_put_u16(p.b + 2, 32 + 17);
	assert_int_equal(lp_room_sealed_parse(p.b, 4 + 32 + 17, &flags, &eth), LP_ERR_RUNT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_round_trip_and_from_gateway),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_wrong_room),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_window_model),
		cmocka_unit_test(test_epochs),
		cmocka_unit_test(test_many_macs_one_epoch),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_seal_errors),
		cmocka_unit_test(test_open_malformed),
		cmocka_unit_test(test_sealed_parse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
