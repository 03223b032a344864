/* Unit tests for lib/proto/gso.c: segmentation and checksum completion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lp_gso.h"

#define MAX_SEGS 16
#define BUF 9000

struct sink {
	int n;
	size_t len[MAX_SEGS];
	uint8_t seg[MAX_SEGS][BUF];
	int fail_at; /* return an error on this call (0-based), -1 never */
};

static int collect(void *user, const uint8_t *frame, size_t len)
{
	struct sink *s = user;

	if (s->n == s->fail_at)
		return -99;
	assert_true(s->n < MAX_SEGS);
	assert_true(len <= BUF);
	memcpy(s->seg[s->n], frame, len);
	s->len[s->n] = len;
	s->n++;
	return 0;
}

/* RFC 1071, written independently of gso.c: sum of big-endian words over
 * a linear buffer, folded and inverted. */
static uint16_t rfc1071(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	while (len > 1) {
		sum += (uint32_t)(p[0] * 256 + p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)(p[0] * 256);
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)(~sum & 0xffff);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] * 256 + p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v & 0xffff);
}

/* The L4 checksum of a segment verified with an explicit pseudo-header
 * buffer: summing it with the segment (checksum included) must give 0. */
static uint16_t l4_check(const uint8_t *ip, int v6, uint8_t proto, const uint8_t *l4, size_t l4_len)
{
	static uint8_t buf[40 + BUF];
	size_t ph;

	if (v6) {
		memcpy(buf, ip + 8, 32);
		wr32(buf + 32, (uint32_t)l4_len);
		buf[36] = buf[37] = buf[38] = 0;
		buf[39] = proto;
		ph = 40;
	} else {
		memcpy(buf, ip + 12, 8);
		buf[8] = 0;
		buf[9] = proto;
		wr16(buf + 10, (unsigned)l4_len);
		ph = 12;
	}
	memcpy(buf + ph, l4, l4_len);
	return rfc1071(buf, ph + l4_len);
}

/* The folded (not inverted) IPv4 pseudo-header sum, as CHECKSUM_PARTIAL
 * leaves it in the L4 checksum field. */
static unsigned pseudo_partial_v4(const uint8_t *ip, uint8_t proto, size_t l4_len)
{
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = proto;
	wr16(ph + 10, (unsigned)l4_len);
	return (unsigned)(~rfc1071(ph, 12) & 0xffff);
}

/* Builds Ethernet (+tags) + IP + L4 header + payload of pattern bytes.
 * Returns the frame length; *l3 gets the IP header offset. */
static size_t build(uint8_t *f, int v6, int tags, uint8_t proto, size_t payload, size_t ipopt,
                    size_t *l3out)
{
	size_t off = 12, l3, l4, l4h = proto == 6 ? 32 : 8, i;

	memset(f, 0, BUF);
	memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	for (int t = 0; t < tags; t++) {
		wr16(f + off, t == 0 && tags == 2 ? 0x88a8 : 0x8100);
		wr16(f + off + 2, (unsigned)(100 + t));
		off += 4;
	}
	wr16(f + off, v6 ? 0x86dd : 0x0800);
	l3 = off + 2;
	if (v6) {
		f[l3] = 0x60;
		wr16(f + l3 + 4, (unsigned)(l4h + payload));
		f[l3 + 6] = proto;
		f[l3 + 7] = 64;
		for (i = 0; i < 32; i++)
			f[l3 + 8 + i] = (uint8_t)(0x20 + i);
		l4 = l3 + 40;
	} else {
		f[l3] = (uint8_t)(0x40 | (5 + ipopt / 4));
		wr16(f + l3 + 2, (unsigned)(20 + ipopt + l4h + payload));
		wr16(f + l3 + 4, 0xfffe); /* id wraps during segmentation */
		wr16(f + l3 + 6, 0x4000); /* DF */
		f[l3 + 8] = 64;
		f[l3 + 9] = proto;
		memcpy(f + l3 + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
		for (i = 0; i < ipopt; i++)
			f[l3 + 20 + i] = 1; /* NOP options */
		l4 = l3 + 20 + ipopt;
	}
	wr16(f + l4, 40000);
	wr16(f + l4 + 2, 80);
	if (proto == 6) {
		wr32(f + l4 + 4, 0xfffff000u); /* seq wraps too */
		wr32(f + l4 + 8, 0x11223344);
		f[l4 + 12] = 0x80;                      /* doff 8: 12 bytes of options */
		f[l4 + 13] = 0x80 | 0x10 | 0x08 | 0x01; /* CWR ACK PSH FIN */
		wr16(f + l4 + 14, 512);
		f[l4 + 20] = 1;
		f[l4 + 21] = 1;
		f[l4 + 22] = 8;
		f[l4 + 23] = 10; /* timestamp option */
	} else {
		wr16(f + l4 + 4, (unsigned)(8 + payload));
	}
	for (i = 0; i < payload; i++)
		f[l4 + l4h + i] = (uint8_t)(i * 7 + 3);
	*l3out = l3;
	return l4 + l4h + payload;
}

static uint8_t frame[BUF], scratch[BUF];

static void check_tcp_segments(int v6, int tags, size_t ipopt)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct lp_gso_meta m = { .flags = LP_GSO_F_NEEDS_CSUM,
		                 .gso_type = v6 ? LP_GSO_TCPV6 : LP_GSO_TCPV4,
		                 .gso_size = 1000 };
	size_t l3, len = build(frame, v6, tags, 6, 2500, ipopt, &l3);
	size_t iph = v6 ? 40 : 20 + ipopt, hdrs = l3 + iph + 32;
	static const size_t want[3] = { 1000, 1000, 500 };

	s->fail_at = -1;
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, sizeof(scratch), collect, s), 3);
	assert_int_equal(s->n, 3);
	for (int i = 0; i < 3; i++) {
		const uint8_t *g = s->seg[i], *ip = g + l3, *tcp = ip + iph;
		uint8_t fl = tcp[13];

		assert_int_equal(s->len[i], hdrs + want[i]);
		assert_memory_equal(g, frame, l3); /* MACs and tags untouched */
		if (v6) {
			assert_int_equal(rd16(ip + 4), 32 + want[i]);
		} else {
			assert_int_equal(rd16(ip + 2), iph + 32 + want[i]);
			assert_int_equal(rd16(ip + 4), (0xfffe + i) & 0xffff);
			assert_int_equal(rd16(ip + 6), 0x4000);
			assert_int_equal(rfc1071(ip, iph), 0);
			assert_int_not_equal(rd16(ip + 10), 0);
		}
		assert_int_equal(rd32(tcp + 4), (uint32_t)(0xfffff000u + 1000u * (unsigned)i));
		assert_int_equal(rd32(tcp + 8), 0x11223344);
		assert_int_equal(fl & 0x10, 0x10); /* ACK everywhere */
		assert_int_equal(!!(fl & 0x80), i == 0);
		assert_int_equal(!!(fl & 0x08), i == 2);
		assert_int_equal(!!(fl & 0x01), i == 2);
		assert_memory_equal(tcp + 20, frame + l3 + iph + 20, 12); /* options kept */
		assert_memory_equal(g + hdrs, frame + hdrs + 1000 * (size_t)i, want[i]);
		assert_int_equal(l4_check(ip, v6, 6, tcp, 32 + want[i]), 0);
	}
	free(s);
}

static void test_tcpv4_three_segments(void **state)
{
	(void)state;
	check_tcp_segments(0, 0, 0);
}

static void test_tcpv4_vlan_ipopt(void **state)
{
	(void)state;
	check_tcp_segments(0, 1, 8);
}

static void test_tcpv6_qinq(void **state)
{
	(void)state;
	check_tcp_segments(1, 2, 0);
}

static void test_tcpv6_untagged(void **state)
{
	(void)state;
	check_tcp_segments(1, 0, 0);
}

static void test_udp_l4(void **state)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct lp_gso_meta m = { .gso_type = LP_GSO_UDP_L4, .gso_size = 1200 };
	size_t l3, len;
	static const size_t want[3] = { 1200, 1200, 100 };

	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		len = build(frame, v6, 1, 17, 2500, 0, &l3);
		memset(s, 0, sizeof(*s));
		s->fail_at = -1;
		assert_int_equal(
		        lp_gso_segment(&m, frame, len, scratch, sizeof(scratch), collect, s), 3);
		for (int i = 0; i < 3; i++) {
			size_t iph = v6 ? 40 : 20;
			const uint8_t *ip = s->seg[i] + l3, *udp = ip + iph;

			assert_int_equal(s->len[i], l3 + iph + 8 + want[i]);
			assert_int_equal(rd16(udp), 40000);
			assert_int_equal(rd16(udp + 2), 80);
			assert_int_equal(rd16(udp + 4), 8 + want[i]);
			assert_int_not_equal(rd16(udp + 6), 0);
			assert_int_equal(l4_check(ip, v6, 17, udp, 8 + want[i]), 0);
			assert_memory_equal(udp + 8, frame + l3 + iph + 8 + 1200 * (size_t)i,
			                    want[i]);
			if (v6) {
				assert_int_equal(rd16(ip + 4), 8 + want[i]);
			} else {
				assert_int_equal(rd16(ip + 2), 28 + want[i]);
				assert_int_equal(rd16(ip + 4), (0xfffe + i) & 0xffff);
				assert_int_equal(rfc1071(ip, 20), 0);
			}
		}
	}
	free(s);
}

/* A CHECKSUM_PARTIAL frame: the kernel leaves the folded pseudo-header sum
 * in the checksum field; completion must give the real checksum, in place. */
static void test_needs_csum_single(void **state)
{
	struct sink *s = calloc(1, sizeof(*s));
	size_t l3, len = build(frame, 0, 0, 6, 300, 0, &l3);
	size_t l4 = l3 + 20, l4_len = len - l4;
	struct lp_gso_meta m = { .flags = LP_GSO_F_NEEDS_CSUM,
		                 .csum_start = (uint16_t)l4,
		                 .csum_offset = 16 };
	uint8_t before[BUF];

	(void)state;
	wr16(frame + l4 + 16, pseudo_partial_v4(frame + l3, 6, l4_len));
	/* Ethernet padding after the IP packet must not enter the sum. */
	memset(frame + len, 0xee, 20);
	memcpy(before, frame, len);
	s->fail_at = -1;
	assert_int_equal(lp_gso_segment(&m, frame, len + 20, scratch, sizeof(scratch), collect, s),
	                 1);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->len[0], len + 20);
	assert_int_equal(l4_check(frame + l3, 0, 6, frame + l4, l4_len), 0);
	assert_memory_equal(s->seg[0], frame, len + 20); /* completed in place */
	assert_memory_equal(frame, before, l4 + 16);     /* only the field changed */
	assert_memory_equal(frame + l4 + 18, before + l4 + 18, len - l4 - 18);
	free(s);
}

static void test_plain_frame_passthrough(void **state)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct lp_gso_meta m = { 0 };
	uint8_t arp[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06 };

	(void)state;
	s->fail_at = -1;
	assert_int_equal(lp_gso_segment(&m, arp, sizeof(arp), scratch, sizeof(scratch), collect, s),
	                 1);
	assert_int_equal(s->len[0], sizeof(arp));
	assert_memory_equal(s->seg[0], arp, sizeof(arp));
	/* even without offload work, a runt is refused */
	assert_int_equal(lp_gso_segment(&m, arp, 13, scratch, sizeof(scratch), collect, s),
	                 LP_ERR_TRUNCATED);
	assert_int_equal(s->n, 1);
	free(s);
}

static int never(void *user, const uint8_t *f, size_t len)
{
	(void)user;
	(void)f;
	(void)len;
	fail_msg("emit must not be called");
	return 0;
}

static void test_errors(void **state)
{
	struct lp_gso_meta m = { .gso_type = LP_GSO_TCPV4, .gso_size = 1000 };
	size_t l3, len = build(frame, 0, 0, 6, 2500, 0, &l3);
	uint8_t small[64];

	(void)state;
	/* gso_size 0 */
	m.gso_size = 0;
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, never, NULL), LP_ERR_INVAL);
	m.gso_size = 1000;
	/* truncated: Ethernet, IPv4 header, TCP header, IP total length */
	assert_int_equal(lp_gso_segment(&m, frame, 10, scratch, BUF, never, NULL),
	                 LP_ERR_TRUNCATED);
	assert_int_equal(lp_gso_segment(&m, frame, l3 + 12, scratch, BUF, never, NULL),
	                 LP_ERR_TRUNCATED);
	assert_int_equal(lp_gso_segment(&m, frame, len - 1, scratch, BUF, never, NULL),
	                 LP_ERR_TRUNCATED);
	wr16(frame + l3 + 2, 20 + 10); /* IP packet ends inside the TCP header */
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, never, NULL),
	                 LP_ERR_TRUNCATED);
	len = build(frame, 0, 0, 6, 2500, 0, &l3);
	/* IHL below 5 */
	frame[l3] = 0x44;
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, never, NULL), LP_ERR_INVAL);
	len = build(frame, 0, 0, 6, 2500, 0, &l3);
	/* TCP data offset below 5 */
	frame[l3 + 20 + 12] = 0x40;
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, never, NULL), LP_ERR_INVAL);
	len = build(frame, 0, 0, 6, 2500, 0, &l3);
	/* type mismatch: TCPV6 on IPv4, UDP_L4 on TCP */
	m.gso_type = LP_GSO_TCPV6;
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, never, NULL), LP_ERR_INVAL);
	m.gso_type = LP_GSO_UDP_L4;
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, never, NULL), LP_ERR_INVAL);
	/* unknown gso types and UFO */
	m.gso_type = 2;
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, never, NULL),
	                 LP_ERR_UNSUPPORTED);
	m.gso_type = LP_GSO_UDP;
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, never, NULL),
	                 LP_ERR_UNSUPPORTED);
	/* IPv4 fragment */
	m.gso_type = LP_GSO_TCPV4 | LP_GSO_ECN;
	wr16(frame + l3 + 6, 0x2000);
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, never, NULL), LP_ERR_INVAL);
	wr16(frame + l3 + 6, 0x4000);
	/* non-IP ethertype */
	wr16(frame + 12, 0x0806);
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, never, NULL), LP_ERR_INVAL);
	wr16(frame + 12, 0x0800);
	/* scratch too small */
	assert_int_equal(lp_gso_segment(&m, frame, len, small, sizeof(small), never, NULL),
	                 LP_ERR_NOBUF);
	/* three tags */
	memmove(frame + 24, frame + 12, len - 12);
	for (int t = 0; t < 3; t++)
		wr16(frame + 12 + 4 * t, 0x8100);
	assert_int_equal(lp_gso_segment(&m, frame, len + 12, scratch, BUF, never, NULL),
	                 LP_ERR_UNSUPPORTED);
	/* IPv6 with a hop-by-hop header cannot be segmented */
	len = build(frame, 1, 0, 6, 2500, 0, &l3);
	m.gso_type = LP_GSO_TCPV6;
	frame[l3 + 6] = 0;
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, never, NULL),
	                 LP_ERR_UNSUPPORTED);
}

static void test_csum_errors(void **state)
{
	size_t l3, len = build(frame, 0, 0, 17, 100, 0, &l3);
	struct lp_gso_meta m = { .flags = LP_GSO_F_NEEDS_CSUM, .csum_offset = 6 };

	(void)state;
	m.csum_start = (uint16_t)len; /* beyond the packet */
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, never, NULL), LP_ERR_INVAL);
	m.csum_start = 60000;
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, never, NULL), LP_ERR_INVAL);
	m.csum_start = (uint16_t)(len - 4); /* field would end past the packet */
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, never, NULL), LP_ERR_INVAL);
	m.csum_start = (uint16_t)(l3 + 20);
	assert_int_equal(lp_gso_segment(&m, frame, l3 + 10, scratch, BUF, never, NULL),
	                 LP_ERR_TRUNCATED);
}

/* UDP: a checksum that computes to 0 is sent as 0xffff. */
static void test_udp_zero_checksum(void **state)
{
	struct sink *s = calloc(1, sizeof(*s));
	size_t l3, len = build(frame, 0, 0, 17, 2, 0, &l3), l4;
	struct lp_gso_meta m = { .flags = LP_GSO_F_NEEDS_CSUM, .csum_offset = 6 };
	uint16_t c;

	(void)state;
	l4 = l3 + 20;
	m.csum_start = (uint16_t)l4;
	/* Choose the two payload bytes so the full sum is 0xffff. */
	frame[l4 + 8] = frame[l4 + 9] = 0;
	wr16(frame + l4 + 6, 0);
	c = l4_check(frame + l3, 0, 17, frame + l4, 10);
	wr16(frame + l4 + 8, c);
	/* with a zero field the sum is now complete: the true checksum is 0 */
	assert_int_equal(l4_check(frame + l3, 0, 17, frame + l4, 10), 0);
	/* what the kernel leaves in the field: the folded pseudo-header sum */
	wr16(frame + l4 + 6, pseudo_partial_v4(frame + l3, 17, 10));
	s->fail_at = -1;
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, collect, s), 1);
	assert_int_equal(rd16(frame + l4 + 6), 0xffff);
	free(s);
}

static void test_emit_error_stops(void **state)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct lp_gso_meta m = { .gso_type = LP_GSO_TCPV4, .gso_size = 1000 };
	size_t l3, len = build(frame, 0, 0, 6, 2500, 0, &l3);

	(void)state;
	s->fail_at = 1;
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, BUF, collect, s), -99);
	assert_int_equal(s->n, 1);
	free(s);
}

static void test_meta_decode(void **state)
{
	uint8_t raw[LP_GSO_VNET_HDR_LEN];
	uint16_t v[4] = { 66, 1448, 34, 16 };
	struct lp_gso_meta m;

	(void)state;
	raw[0] = 1;
	raw[1] = 0x81;
	memcpy(raw + 2, v, sizeof(v));
	assert_int_equal(lp_gso_meta_decode(raw, sizeof(raw), &m), 0);
	assert_int_equal(m.flags, 1);
	assert_int_equal(m.gso_type, 0x81);
	assert_int_equal(m.hdr_len, 66);
	assert_int_equal(m.gso_size, 1448);
	assert_int_equal(m.csum_start, 34);
	assert_int_equal(m.csum_offset, 16);
	assert_int_equal(lp_gso_meta_decode(raw, 9, &m), LP_ERR_TRUNCATED);
}

/* ---- coalescing ------------------------------------------------------------ */

static struct lp_gro gro;

/* Segments a 2500-byte ACK|PSH super-frame into 1000 + 1000 + 500 (PSH on
 * the last), offers the three to lp_gro_add and checks that lp_gro_finish
 * gives back the super-frame with a header the segmenter turns into the
 * same three segments again. */
static void check_gro_round_trip(int v6)
{
	struct sink *s = calloc(1, sizeof(*s)), *s2 = calloc(1, sizeof(*s2));
	struct lp_gso_meta m = { .gso_type = v6 ? LP_GSO_TCPV6 : LP_GSO_TCPV4, .gso_size = 1000 };
	struct lp_gso_meta got;
	size_t l3, len = build(frame, v6, 0, 6, 2500, 0, &l3), glen;
	size_t l4 = l3 + (v6 ? 40u : 20u);
	const uint8_t *g;

	frame[l4 + 13] = 0x18; /* ACK PSH */
	s->fail_at = s2->fail_at = -1;
	assert_int_equal(lp_gso_segment(&m, frame, len, scratch, sizeof(scratch), collect, s), 3);
	lp_gro_init(&gro);
	for (int i = 0; i < 3; i++)
		assert_int_equal(lp_gro_add(&gro, s->seg[i], s->len[i]), 1);
	assert_int_equal(lp_gro_finish(&gro, &got, &g, &glen), 3);
	assert_int_equal(glen, len);
	assert_int_equal(got.gso_type, m.gso_type);
	assert_int_equal(got.gso_size, 1000);
	assert_int_equal(got.flags, LP_GSO_F_NEEDS_CSUM);
	assert_int_equal(got.csum_start, l4);
	assert_int_equal(got.csum_offset, 16);
	assert_int_equal(got.hdr_len, l4 + 32);
	/* headers as the super-frame had them (the first segment's id and
	 * seq), the payload in order; the IPv4 header checksum is right */
	assert_memory_equal(g, frame, l3 + 10);
	assert_memory_equal(g + l3 + 12, frame + l3 + 12, l4 + 16 - l3 - 12);
	assert_memory_equal(g + l4 + 18, frame + l4 + 18, len - l4 - 18);
	if (!v6) {
		assert_int_equal(rfc1071(g + l3, 20), 0);
		assert_int_equal(rd16(g + l4 + 16), pseudo_partial_v4(g + l3, 6, len - l4));
	}
	/* the kernel would segment it back into what came in */
	memcpy(frame, g, glen);
	assert_int_equal(lp_gso_segment(&got, frame, glen, scratch, sizeof(scratch), collect, s2),
	                 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(s2->len[i], s->len[i]);
		assert_memory_equal(s2->seg[i], s->seg[i], s->len[i]);
	}
	assert_int_equal(lp_gro_finish(&gro, &got, &g, &glen), 0);
	assert_int_equal(glen, 0);
	free(s);
	free(s2);
}

static void test_gro_round_trip_v4(void **state)
{
	(void)state;
	check_gro_round_trip(0);
}

static void test_gro_round_trip_v6(void **state)
{
	(void)state;
	check_gro_round_trip(1);
}

/* A 3000-byte TCP/IPv4 ACK segment cut in three 1000-byte segments, in the
 * returned sink (the caller frees it); *len is the whole frame's length. */
static struct sink *ack_segments(size_t *len, size_t *l3)
{
	struct lp_gso_meta m = { .gso_type = LP_GSO_TCPV4, .gso_size = 1000 };
	struct sink *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	*len = build(frame, 0, 0, 6, 3000, 0, l3);
	frame[*l3 + 20 + 13] = 0x10; /* ACK */
	s->fail_at = -1;
	assert_int_equal(lp_gso_segment(&m, frame, *len, scratch, sizeof(scratch), collect, s), 3);
	return s;
}

/* What must not be coalesced, each against a pending first segment. */
static void test_gro_refuses(void **state)
{
	size_t l3, len, l4, glen;
	struct sink *s = ack_segments(&len, &l3);
	struct lp_gso_meta got;
	static uint8_t f[BUF];
	const uint8_t *g;

	(void)state;
	l4 = l3 + 20;
	lp_gro_init(&gro);
	assert_int_equal(lp_gro_add(&gro, s->seg[0], s->len[0]), 1);
	/* out of order: the third before the second */
	assert_int_equal(lp_gro_add(&gro, s->seg[2], s->len[2]), 0);
	/* the same segment again (a retransmission) */
	assert_int_equal(lp_gro_add(&gro, s->seg[0], s->len[0]), 0);
	/* another port */
	memcpy(f, s->seg[1], s->len[1]);
	wr16(f + l4 + 2, 81);
	assert_int_equal(lp_gro_add(&gro, f, s->len[1]), LP_ERR_UNSUPPORTED); /* csum now wrong */
	wr16(f + l4 + 16, (unsigned)(rd16(f + l4 + 16) - 1)); /* 80 -> 81 fixed up */
	assert_int_equal(lp_gro_add(&gro, f, s->len[1]), 0);
	/* a payload byte flipped: the checksum no longer holds */
	memcpy(f, s->seg[1], s->len[1]);
	f[s->len[1] - 1] ^= 1;
	assert_int_equal(lp_gro_add(&gro, f, s->len[1]), LP_ERR_UNSUPPORTED);
	/* a FIN is never coalesced */
	memcpy(f, s->seg[1], s->len[1]);
	f[l4 + 13] |= 0x01;
	wr16(f + l4 + 16, (unsigned)(rd16(f + l4 + 16) - 1));
	assert_int_equal(lp_gro_add(&gro, f, s->len[1]), LP_ERR_UNSUPPORTED);
	/* another ack number */
	memcpy(f, s->seg[1], s->len[1]);
	f[l4 + 11] = (uint8_t)(f[l4 + 11] + 1);
	wr16(f + l4 + 16, (unsigned)(rd16(f + l4 + 16) - 1));
	assert_int_equal(lp_gro_add(&gro, f, s->len[1]), 0);
	/* a VLAN tag: not coalescible */
	len = build(f, 0, 1, 6, 100, 0, &l3);
	assert_int_equal(lp_gro_add(&gro, f, len), LP_ERR_UNSUPPORTED);
	/* nothing of the refused joined: one segment, returned as it came */
	assert_int_equal(lp_gro_finish(&gro, &got, &g, &glen), 1);
	assert_int_equal(got.gso_type, LP_GSO_NONE);
	assert_int_equal(glen, s->len[0]);
	assert_memory_equal(g, s->seg[0], glen);
	/* a short segment ends the run: nothing may follow it */
	assert_int_equal(lp_gro_add(&gro, s->seg[0], s->len[0] - 500), LP_ERR_UNSUPPORTED);
	free(s);
}

/* Authenticated frames (a private room's): the checksums are not checked
 * again, everything else still is, and the super-frame comes out the same. */
static void test_gro_authenticated(void **state)
{
	size_t l3, len, l4, glen;
	struct sink *s = ack_segments(&len, &l3);
	struct lp_gso_meta got;
	static uint8_t f[BUF];
	const uint8_t *g;

	(void)state;
	l4 = l3 + 20;
	lp_gro_init(&gro);
	assert_false(gro.authenticated);
	gro.authenticated = true;
	/* a wrong TCP checksum joins: the AEAD tag vouched for the frame */
	memcpy(f, s->seg[0], s->len[0]);
	f[l4 + 16] ^= 0xff;
	assert_int_equal(lp_gro_add(&gro, f, s->len[0]), 1);
	/* as does a wrong IPv4 header checksum */
	memcpy(f, s->seg[1], s->len[1]);
	f[l3 + 10] ^= 0xff;
	assert_int_equal(lp_gro_add(&gro, f, s->len[1]), 1);
	/* the other rules hold: out of order and a FIN are refused */
	assert_int_equal(lp_gro_add(&gro, s->seg[0], s->len[0]), 0);
	memcpy(f, s->seg[2], s->len[2]);
	f[l4 + 13] |= 0x01;
	assert_int_equal(lp_gro_add(&gro, f, s->len[2]), LP_ERR_UNSUPPORTED);
	assert_int_equal(lp_gro_add(&gro, s->seg[2], s->len[2]), 1);
	/* the super-frame is the one an unauthenticated run makes */
	assert_int_equal(lp_gro_finish(&gro, &got, &g, &glen), 3);
	assert_int_equal(got.gso_type, LP_GSO_TCPV4);
	assert_int_equal(got.flags, LP_GSO_F_NEEDS_CSUM);
	assert_int_equal(glen, len);
	assert_true(gro.authenticated); /* kept across super-frames */
	/* and without the flag the same wrong checksum is refused */
	lp_gro_init(&gro);
	memcpy(f, s->seg[0], s->len[0]);
	f[l4 + 16] ^= 0xff;
	assert_int_equal(lp_gro_add(&gro, f, s->len[0]), LP_ERR_UNSUPPORTED);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcpv4_three_segments),
		cmocka_unit_test(test_tcpv4_vlan_ipopt),
		cmocka_unit_test(test_tcpv6_qinq),
		cmocka_unit_test(test_tcpv6_untagged),
		cmocka_unit_test(test_udp_l4),
		cmocka_unit_test(test_needs_csum_single),
		cmocka_unit_test(test_plain_frame_passthrough),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_csum_errors),
		cmocka_unit_test(test_udp_zero_checksum),
		cmocka_unit_test(test_emit_error_stops),
		cmocka_unit_test(test_meta_decode),
		cmocka_unit_test(test_gro_round_trip_v4),
		cmocka_unit_test(test_gro_round_trip_v6),
		cmocka_unit_test(test_gro_refuses),
		cmocka_unit_test(test_gro_authenticated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
