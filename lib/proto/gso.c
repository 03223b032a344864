/*
 * gso.c - segmentation and checksum completion of packet-socket frames.
 *
 * Offsets are kept as size_t indexes into the frame; every header is
 * bounds-checked against the frame length (and the IP packet's own length)
 * before its bytes are touched.
 */
#include "lp_gso.h"

#include <string.h>

#include "lp_proto.h"

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_SCTP_ 132

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

/* Where the headers of one frame are. */
struct layout {
	size_t l3;     /* first byte of the IP header */
	size_t l3_end; /* end of the IP packet: Ethernet padding excluded */
	size_t l4;     /* first byte of the L4 header */
	unsigned ipver;
	uint8_t proto; /* L4 protocol; 0 when IPv6 extension headers precede it */
	uint16_t ethertype;
};

int lp_gso_meta_decode(const uint8_t *p, size_t len, struct lp_gso_meta *m)
{
	uint16_t v;

	if (len < LP_GSO_VNET_HDR_LEN)
		return LP_ERR_TRUNCATED;
	/* struct virtio_net_hdr: flags, gso_type, then four __virtio16 in the
	 * legacy (native) byte order packet sockets use. */
	m->flags = p[0];
	m->gso_type = p[1];
	memcpy(&v, p + 2, 2);
	m->hdr_len = v;
	memcpy(&v, p + 4, 2);
	m->gso_size = v;
	memcpy(&v, p + 6, 2);
	m->csum_start = v;
	memcpy(&v, p + 8, 2);
	m->csum_offset = v;
	return 0;
}

/* ---- checksums ------------------------------------------------------------ */

/* The ones' complement sum of p as big-endian 16-bit words, added to sum.
 * Sums native 32-bit words and swaps once at the end (RFC 1071: the sum
 * is byte-order independent up to that swap), four bytes a step. */
static uint64_t sum_bytes(const uint8_t *p, size_t len, uint64_t sum)
{
	uint64_t s = 0;
	uint32_t w;
	uint16_t h;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w, p, 4);
		s += w;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		s += h;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		uint8_t b[2] = { p[0], 0 };

		memcpy(&h, b, 2);
		s += h;
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = (s >> 8 | s << 8) & 0xffff;
#endif
	return sum + s;
}

static uint16_t fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t csum_final(uint64_t sum)
{
	return (uint16_t)~fold(sum);
}

/* Pseudo-header sum for an L4 segment of l4_len bytes. */
static uint64_t pseudo_sum(const uint8_t *frame, const struct layout *ly, size_t l4_len)
{
	uint64_t sum;

	if (ly->ipver == 4) {
		sum = sum_bytes(frame + ly->l3 + 12, 8, 0);
		sum += ly->proto;
		sum += (uint64_t)l4_len;
	} else {
		sum = sum_bytes(frame + ly->l3 + 8, 32, 0);
		sum += (uint64_t)(l4_len >> 16) + (uint64_t)(l4_len & 0xffff);
		sum += ly->proto;
	}
	return sum;
}

/* CRC32c (Castagnoli, reflected), bitwise: SCTP offload is rare on a LAN. */
static uint32_t crc32c(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* ---- header walk ----------------------------------------------------------- */

static int parse_l2(const uint8_t *f, size_t len, struct layout *ly)
{
	size_t off = 12;
	unsigned tags = 0;
	uint16_t type;

	if (len < LP_ETH_HDR_LEN)
		return LP_ERR_TRUNCATED;
	type = lp_get_u16(f + off);
	while (type == LP_ETHERTYPE_VLAN || type == LP_ETHERTYPE_QINQ) {
		if (++tags > LP_ETH_MAX_TAGS)
			return LP_ERR_UNSUPPORTED;
		off += LP_ETH_VLAN_TAG_LEN;
		if (len < off + 2)
			return LP_ERR_TRUNCATED;
		type = lp_get_u16(f + off);
	}
	ly->ethertype = type;
	ly->l3 = off + 2;
	return 0;
}

static int parse_ipv4(const uint8_t *f, size_t len, struct layout *ly)
{
	const uint8_t *ip = f + ly->l3;
	size_t ihl, tot;

	if (len < ly->l3 + 20)
		return LP_ERR_TRUNCATED;
	if (ip[0] >> 4 != 4)
		return LP_ERR_INVAL;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	tot = lp_get_u16(ip + 2);
	if (ihl < 20 || tot < ihl)
		return LP_ERR_INVAL;
	if (len < ly->l3 + tot)
		return LP_ERR_TRUNCATED;
	ly->ipver = 4;
	ly->l3_end = ly->l3 + tot;
	ly->l4 = ly->l3 + ihl;
	ly->proto = ip[9];
	return 0;
}

static int is_ipv6_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 50 || nh == 51 || nh == 60 || nh == 135 ||
	       nh == 139 || nh == 140;
}

static int parse_ipv6(const uint8_t *f, size_t len, struct layout *ly)
{
	const uint8_t *ip = f + ly->l3;
	size_t plen;

	if (len < ly->l3 + 40)
		return LP_ERR_TRUNCATED;
	if (ip[0] >> 4 != 6)
		return LP_ERR_INVAL;
	plen = lp_get_u16(ip + 4);
	if (len < ly->l3 + 40 + plen)
		return LP_ERR_TRUNCATED;
	ly->ipver = 6;
	ly->l3_end = ly->l3 + 40 + plen;
	ly->l4 = ly->l3 + 40;
	ly->proto = is_ipv6_ext(ip[6]) ? 0 : ip[6];
	return 0;
}

/* 1 when the frame is IP and *ly is filled, 0 when it is not IP, or an error. */
static int parse_ip(const uint8_t *f, size_t len, struct layout *ly)
{
	int rc = parse_l2(f, len, ly);

	if (rc < 0)
		return rc;
	if (ly->ethertype == LP_ETHERTYPE_IPV4)
		rc = parse_ipv4(f, len, ly);
	else if (ly->ethertype == LP_ETHERTYPE_IPV6)
		rc = parse_ipv6(f, len, ly);
	else
		return 0;
	return rc < 0 ? rc : 1;
}

/* ---- checksum completion ------------------------------------------------- */

static int complete_csum(const struct lp_gso_meta *m, uint8_t *f, size_t len)
{
	struct layout ly = { 0 };
	size_t end = len, start = m->csum_start, field = start + m->csum_offset;
	int ip = parse_ip(f, len, &ly);

	if (ip < 0)
		return ip;
	if (ip == 1)
		end = ly.l3_end;
	if (start >= end || field + 2 > end)
		return LP_ERR_INVAL;

	if (ip == 1 && ly.proto == IPPROTO_SCTP_ && start == ly.l4 && m->csum_offset == 8) {
		uint32_t crc;

		memset(f + field, 0, 4);
		crc = crc32c(f + start, end - start);
		f[field] = (uint8_t)crc;
		f[field + 1] = (uint8_t)(crc >> 8);
		f[field + 2] = (uint8_t)(crc >> 16);
		f[field + 3] = (uint8_t)(crc >> 24);
		return 0;
	}
	/* The field holds the folded pseudo-header sum: summing it along with
	 * the rest gives the full checksum. */
	{
		uint16_t c = csum_final(sum_bytes(f + start, end - start, 0));

		if (c == 0 && ip == 1 && ly.proto == IPPROTO_UDP_)
			c = 0xffff; /* UDP: zero means "no checksum" */
		lp_put_u16(f + field, c);
	}
	return 0;
}

/* ---- segmentation ----------------------------------------------------------- */

static void fix_ip(uint8_t *s, const struct layout *ly, size_t seg_len, uint16_t id)
{
	uint8_t *ip = s + ly->l3;

	if (ly->ipver == 4) {
		size_t ihl = ly->l4 - ly->l3;

		lp_put_u16(ip + 2, (uint16_t)(seg_len - ly->l3));
		lp_put_u16(ip + 4, id);
		lp_put_u16(ip + 10, 0);
		lp_put_u16(ip + 10, csum_final(sum_bytes(ip, ihl, 0)));
	} else {
		lp_put_u16(ip + 4, (uint16_t)(seg_len - ly->l3 - 40));
	}
}

static int segment(const struct lp_gso_meta *m, const uint8_t *f, const struct layout *ly,
                   size_t hdrs, uint8_t *scratch, size_t cap, lp_gso_emit_fn emit, void *user)
{
	size_t payload = ly->l3_end - hdrs, off;
	uint16_t id = ly->ipver == 4 ? lp_get_u16(f + ly->l3 + 4) : 0;
	int tcp = ly->proto == IPPROTO_TCP_;
	uint32_t seq = 0;
	int n = 0;

	if (payload == 0)
		return LP_ERR_INVAL;
	if (tcp)
		seq = (uint32_t)f[ly->l4 + 4] << 24 | (uint32_t)f[ly->l4 + 5] << 16 |
		      (uint32_t)f[ly->l4 + 6] << 8 | f[ly->l4 + 7];

	for (off = 0; off < payload; off += m->gso_size, n++) {
		size_t chunk = payload - off < m->gso_size ? payload - off : m->gso_size;
		size_t seg_len = hdrs + chunk, l4_len = seg_len - ly->l4;
		uint8_t *l4 = scratch + ly->l4;
		int last = off + chunk == payload, rc;
		uint16_t c;

		if (seg_len > cap)
			return LP_ERR_NOBUF;
		memcpy(scratch, f, hdrs);
		memcpy(scratch + hdrs, f + hdrs + off, chunk);
		fix_ip(scratch, ly, seg_len, (uint16_t)(id + (unsigned)n));
		if (tcp) {
			lp_put_u32(l4 + 4, seq + (uint32_t)off);
			if (!last)
				l4[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
			if (n > 0)
				l4[13] &= (uint8_t)~TCP_CWR;
			lp_put_u16(l4 + 16, 0);
			c = csum_final(sum_bytes(l4, l4_len, pseudo_sum(scratch, ly, l4_len)));
			lp_put_u16(l4 + 16, c);
		} else {
			lp_put_u16(l4 + 4, (uint16_t)l4_len);
			lp_put_u16(l4 + 6, 0);
			c = csum_final(sum_bytes(l4, l4_len, pseudo_sum(scratch, ly, l4_len)));
			lp_put_u16(l4 + 6, c == 0 ? 0xffff : c);
		}
		rc = emit(user, scratch, seg_len);
		if (rc < 0)
			return rc;
	}
	return n;
}

int lp_gso_segment(const struct lp_gso_meta *m, uint8_t *frame, size_t frame_len, uint8_t *scratch,
                   size_t scratch_cap, lp_gso_emit_fn emit, void *user)
{
	struct layout ly = { 0 };
	uint8_t type = (uint8_t)(m->gso_type & ~LP_GSO_ECN);
	size_t hdrs;
	int rc;

	if (frame_len < LP_ETH_HDR_LEN)
		return LP_ERR_TRUNCATED;
	if (type == LP_GSO_NONE) {
		if (m->flags & LP_GSO_F_NEEDS_CSUM) {
			rc = complete_csum(m, frame, frame_len);
			if (rc < 0)
				return rc;
		}
		rc = emit(user, frame, frame_len);
		return rc < 0 ? rc : 1;
	}
	if (type != LP_GSO_TCPV4 && type != LP_GSO_TCPV6 && type != LP_GSO_UDP_L4)
		return LP_ERR_UNSUPPORTED; /* UFO would need IP fragmentation; no kernel emits it
		                              now */
	if (m->gso_size == 0)
		return LP_ERR_INVAL;

	rc = parse_ip(frame, frame_len, &ly);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return LP_ERR_INVAL;
	if ((type == LP_GSO_TCPV4 && ly.ipver != 4) || (type == LP_GSO_TCPV6 && ly.ipver != 6))
		return LP_ERR_INVAL;
	if (ly.ipver == 6 && ly.proto == 0)
		return LP_ERR_UNSUPPORTED;
	if (ly.ipver == 4 && (lp_get_u16(frame + ly.l3 + 6) & 0x3fff) != 0)
		return LP_ERR_INVAL; /* a fragment cannot be segmented */

	if (type == LP_GSO_UDP_L4) {
		if (ly.proto != IPPROTO_UDP_)
			return LP_ERR_INVAL;
		hdrs = ly.l4 + 8;
	} else {
		size_t doff;

		if (ly.proto != IPPROTO_TCP_)
			return LP_ERR_INVAL;
		if (ly.l3_end < ly.l4 + 20)
			return LP_ERR_TRUNCATED;
		doff = (size_t)(frame[ly.l4 + 12] >> 4) * 4;
		if (doff < 20)
			return LP_ERR_INVAL;
		hdrs = ly.l4 + doff;
	}
	if (ly.l3_end < hdrs)
		return LP_ERR_TRUNCATED;
	return segment(m, frame, &ly, hdrs, scratch, scratch_cap, emit, user);
}

/* ---- coalescing (GRO in user space) ----------------------------------------- */

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#define TCP_ACK 0x10
#define GRO_IP_MAX 65535u

void lp_gso_meta_encode(const struct lp_gso_meta *m, uint8_t out[LP_GSO_VNET_HDR_LEN])
{
	out[0] = m->flags;
	out[1] = m->gso_type;
	memcpy(out + 2, &m->hdr_len, 2);
	memcpy(out + 4, &m->gso_size, 2);
	memcpy(out + 6, &m->csum_start, 2);
	memcpy(out + 8, &m->csum_offset, 2);
}

void lp_gro_init(struct lp_gro *g)
{
	g->len = 0;
	g->segs = 0;
	g->authenticated = false;
}

/* Where a coalescible segment's headers are: untagged Ethernet, IPv4
 * without options and not a fragment, or IPv6 with TCP right after the
 * fixed header; TCP with only ACK (and PSH) set and payload; both
 * checksums right unless `authenticated` (the super-frame goes up as
 * CHECKSUM_PARTIAL, which the kernel does not verify again). */
static int gro_parse(const uint8_t *f, size_t len, bool authenticated, struct layout *ly,
                     size_t *hdrs)
{
	size_t doff;
	uint8_t fl;

	if (parse_ip(f, len, ly) != 1 || ly->l3 != LP_ETH_HDR_LEN || ly->proto != IPPROTO_TCP_)
		return LP_ERR_UNSUPPORTED;
	if (ly->ipver == 4) {
		if (ly->l4 != ly->l3 + 20 || (lp_get_u16(f + ly->l3 + 6) & 0x3fff) != 0 ||
		    (!authenticated && csum_final(sum_bytes(f + ly->l3, 20, 0)) != 0))
			return LP_ERR_UNSUPPORTED;
	}
	if (ly->l3_end < ly->l4 + 20)
		return LP_ERR_UNSUPPORTED;
	doff = (size_t)(f[ly->l4 + 12] >> 4) * 4;
	fl = f[ly->l4 + 13];
	if (doff < 20 || ly->l3_end <= ly->l4 + doff || (fl & ~TCP_PSH) != TCP_ACK)
		return LP_ERR_UNSUPPORTED;
	*hdrs = ly->l4 + doff;
	if (!authenticated && csum_final(sum_bytes(f + ly->l4, ly->l3_end - ly->l4,
	                                           pseudo_sum(f, ly, ly->l3_end - ly->l4))) != 0)
		return LP_ERR_UNSUPPORTED;
	return 0;
}

/* Same flow and the same header bytes where the kernel's GRO wants them
 * equal: MACs, IP addresses, TOS/TTL (traffic class, flow label, hop
 * limit), ports, ack and TCP options. */
static int gro_same(const struct lp_gro *g, const uint8_t *f, const struct layout *ly, size_t hdrs)
{
	const uint8_t *p = g->buf, *a = p + g->l3, *b = f + ly->l3;

	if (ly->ipver != g->ipver || hdrs != g->hdrs || memcmp(p, f, LP_ETH_HDR_LEN) != 0)
		return 0;
	if (g->ipver == 4) {
		if (a[1] != b[1] || a[6] != b[6] || a[8] != b[8] || memcmp(a + 12, b + 12, 8) != 0)
			return 0;
		if (!(b[6] & 0x40) && lp_get_u16(b + 4) != (uint16_t)(g->first_id + g->segs))
			return 0; /* without DF the ids must count up as segmentation makes them */
	} else if (memcmp(a, b, 4) != 0 || a[7] != b[7] || memcmp(a + 8, b + 8, 32) != 0) {
		return 0;
	}
	a = p + g->l4;
	b = f + ly->l4;
	return memcmp(a, b, 4) == 0 && memcmp(a + 8, b + 8, 4) == 0 &&
	       memcmp(a + 20, b + 20, hdrs - ly->l4 - 20) == 0;
}

int lp_gro_add(struct lp_gro *g, const uint8_t *frame, size_t len)
{
	struct layout ly = { 0 };
	size_t hdrs, payload;
	uint32_t seq;
	uint8_t *tcp;

	if (gro_parse(frame, len, g->authenticated, &ly, &hdrs) < 0)
		return LP_ERR_UNSUPPORTED;
	payload = ly.l3_end - hdrs;
	seq = get32(frame + ly.l4 + 4);
	if (g->segs == 0) {
		if (ly.l3_end > sizeof(g->buf))
			return LP_ERR_UNSUPPORTED;
		memcpy(g->buf, frame, ly.l3_end);
		g->len = ly.l3_end;
		g->l3 = ly.l3;
		g->l4 = ly.l4;
		g->hdrs = hdrs;
		g->ipver = ly.ipver;
		g->gso_size = (uint16_t)payload;
		g->last = (uint16_t)payload;
		g->first_id = ly.ipver == 4 ? lp_get_u16(frame + ly.l3 + 4) : 0;
		g->next_seq = seq + (uint32_t)payload;
		g->segs = 1;
		return 1;
	}
	tcp = g->buf + g->l4;
	if ((tcp[13] & TCP_PSH) || g->last != g->gso_size || payload > g->gso_size ||
	    seq != g->next_seq ||
	    g->len + payload - g->l3 > GRO_IP_MAX + (g->ipver == 6 ? 40 : 0) ||
	    g->len + payload > sizeof(g->buf) || !gro_same(g, frame, &ly, hdrs))
		return 0;
	memcpy(g->buf + g->len, frame + hdrs, payload);
	g->len += payload;
	g->last = (uint16_t)payload;
	g->next_seq = seq + (uint32_t)payload;
	g->segs++;
	/* The newest window and PSH (which ends the super-frame) win. */
	memcpy(tcp + 14, frame + ly.l4 + 14, 2);
	tcp[13] |= frame[ly.l4 + 13] & TCP_PSH;
	return 1;
}

unsigned lp_gro_finish(struct lp_gro *g, struct lp_gso_meta *m, const uint8_t **frame, size_t *len)
{
	struct layout ly = { 0 };
	unsigned segs = g->segs;
	uint8_t *ip = g->buf + g->l3;

	memset(m, 0, sizeof(*m));
	*frame = g->buf;
	*len = segs == 0 ? 0 : g->len;
	g->segs = 0;
	if (segs <= 1)
		return segs; /* one frame goes out exactly as it came */
	ly.l3 = g->l3;
	ly.l4 = g->l4;
	ly.ipver = g->ipver;
	ly.proto = IPPROTO_TCP_;
	if (g->ipver == 4) {
		lp_put_u16(ip + 2, (uint16_t)(g->len - g->l3));
		lp_put_u16(ip + 10, 0);
		lp_put_u16(ip + 10, csum_final(sum_bytes(ip, 20, 0)));
		m->gso_type = LP_GSO_TCPV4;
	} else {
		lp_put_u16(ip + 4, (uint16_t)(g->len - g->l3 - 40));
		m->gso_type = LP_GSO_TCPV6;
	}
	/* CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum. */
	lp_put_u16(g->buf + g->l4 + 16, fold(pseudo_sum(g->buf, &ly, g->len - g->l4)));
	m->flags = LP_GSO_F_NEEDS_CSUM;
	m->hdr_len = (uint16_t)g->hdrs;
	m->gso_size = g->gso_size;
	m->csum_start = (uint16_t)g->l4;
	m->csum_offset = 16;
	return segs;
}
