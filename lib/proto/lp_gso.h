/*
 * lp_gso.h - user-space segmentation and checksum completion for frames read
 * from an AF_PACKET socket with PACKET_VNET_HDR.
 *
 * The kernel hands a packet socket frames that are not what the wire
 * carries: GRO/TSO super-frames far larger than the MTU, and
 * CHECKSUM_PARTIAL frames whose L4 checksum is not filled in. The virtio-net
 * header in front of each frame says which; lp_gso_segment turns such a
 * frame back into the wire frames it stands for, so the bridge forwards
 * frames a remote TAP can accept.
 *
 * Pure functions over caller memory: no allocation, no I/O.
 */
#ifndef LP_GSO_H
#define LP_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"
#include "lp_proto.h"

/* Size of struct virtio_net_hdr (the legacy header PACKET_VNET_HDR uses). */
#define LP_GSO_VNET_HDR_LEN 10

/* flags */
#define LP_GSO_F_NEEDS_CSUM 0x01 /* L4 checksum must be completed (csum_start/offset) */
#define LP_GSO_F_DATA_VALID 0x02 /* checksum already verified by the kernel */

/* gso_type (values of VIRTIO_NET_HDR_GSO_*) */
#define LP_GSO_NONE 0
#define LP_GSO_TCPV4 1
#define LP_GSO_UDP 3 /* UFO (IP fragmentation): refused, see lp_gso_segment */
#define LP_GSO_TCPV6 4
#define LP_GSO_UDP_L4 5 /* UDP segmentation (USO); not in bookworm's headers */
#define LP_GSO_ECN 0x80 /* flag bit: the TCP stream uses ECN (CWR may be set) */

/* The virtio-net header fields, host byte order. */
struct lp_gso_meta {
	uint8_t flags;
	uint8_t gso_type; /* including LP_GSO_ECN */
	uint16_t hdr_len; /* informational only: the kernel fills it with the linear length */
	uint16_t gso_size;
	uint16_t csum_start; /* offset from the first byte of the Ethernet header */
	uint16_t csum_offset;
};

/*
 * Decodes a struct virtio_net_hdr as a packet socket delivers it: fields in
 * host byte order (the kernel uses the legacy virtio "native" endianness for
 * packet sockets). Errors: LP_ERR_TRUNCATED when len < LP_GSO_VNET_HDR_LEN.
 */
int lp_gso_meta_decode(const uint8_t *p, size_t len, struct lp_gso_meta *m) LP_WUR;

/*
 * Called once per output wire frame. `frame` is only valid during the call
 * (it points into the caller's frame or scratch buffer). A negative return
 * stops lp_gso_segment, which returns that value.
 */
typedef int (*lp_gso_emit_fn)(void *user, const uint8_t *frame, size_t len);

/*
 * Turns one received frame into wire frames:
 *  - gso_type NONE without NEEDS_CSUM: emits the frame unchanged;
 *  - gso_type NONE with NEEDS_CSUM: completes the checksum in place (the
 *    partial pseudo-header sum the kernel left in the checksum field is
 *    summed with everything from csum_start to the end of the IP packet; SCTP
 *    gets its CRC32c instead) and emits the frame once;
 *  - TCPV4 / TCPV6: splits the TCP payload into gso_size chunks; each
 *    segment gets its own IPv4 total length, id + i and header checksum (or
 *    IPv6 payload length), TCP seq + offset, FIN and PSH only on the last
 *    segment, CWR only on the first, and a full TCP checksum;
 *  - UDP_L4: each gso_size chunk gets its own UDP header (length, checksum;
 *    a zero checksum is sent as 0xffff) and IP header as above.
 * The Ethernet header may carry up to two 802.1Q / 802.1ad tags. IPv4
 * options are kept; IPv6 extension headers are refused for segmentation.
 * Segments are built in scratch (at least as large as frame_len suffices).
 * Ethernet padding after the IP packet is not copied into segments.
 *
 * Returns the number of frames emitted (>= 1), or:
 *   LP_ERR_INVAL       gso_size 0, gso_type inconsistent with the L3/L4
 *                      protocol, IPv4 fragment, or csum_start/csum_offset
 *                      outside the packet;
 *   LP_ERR_TRUNCATED   shorter than an Ethernet header, a header is cut
 *                      short, or IP lengths disagree with the frame;
 *   LP_ERR_UNSUPPORTED unknown gso_type, UFO, IPv6 extension headers;
 *   LP_ERR_NOBUF       a segment does not fit scratch;
 *   the emit callback's negative return.
 * On error frames already emitted stay emitted; the caller drops the rest
 * and counts the frame.
 */
int lp_gso_segment(const struct lp_gso_meta *m, uint8_t *frame, size_t frame_len, uint8_t *scratch,
                   size_t scratch_cap, lp_gso_emit_fn emit, void *user) LP_WUR;

/* Encodes m as a struct virtio_net_hdr in host byte order (what a TAP with
 * IFF_VNET_HDR and a packet socket with PACKET_VNET_HDR take). */
void lp_gso_meta_encode(const struct lp_gso_meta *m, uint8_t out[LP_GSO_VNET_HDR_LEN]);

/*
 * Coalescing of TCP segments into one super-frame (GRO in user space), the
 * inverse of lp_gso_segment, for frames written into a TAP: one write and
 * one pass up the stack instead of one per segment.
 *
 * Segments join the pending super-frame only where that is what the kernel
 * would do itself: untagged Ethernet, IPv4 without options and not a
 * fragment (ids counting up unless DF) or IPv6 without extension headers,
 * TCP with ACK (and PSH) only and a payload, both checksums right, the same
 * MACs, addresses, ports, TOS/TTL (traffic class, flow label, hop limit),
 * ack number and options as the first, the next sequence number, every
 * segment but the last as long as the first, a PSH ending it, and the
 * whole within 64 KiB of IP packet. One flow is pending at a time.
 * Caller storage, no allocation, no I/O.
 *
 * `authenticated` (false after lp_gro_init; the owner sets it): every frame
 * offered was authenticated end to end by its sender's AEAD tag (a private
 * room's sealed frames), so the two checksum checks are skipped. They exist
 * because a super-frame goes up as CHECKSUM_PARTIAL and the kernel does not
 * verify it again; a frame whose tag checked cannot have changed since the
 * sending peer took it from its own device, which is also why WireGuard
 * marks what it decrypts CHECKSUM_UNNECESSARY.
 */
#define LP_GRO_BUF (LP_ETH_HDR_LEN + 40 + 65535)

struct lp_gro {
	uint8_t buf[LP_GRO_BUF]; /* the pending super-frame, first segment's headers */
	size_t len, l3, l4, hdrs;
	unsigned ipver, segs;
	uint16_t gso_size; /* payload of the first segment */
	uint16_t last;     /* payload of the last one */
	uint16_t first_id; /* IPv4 id of the first segment */
	uint32_t next_seq;
	bool authenticated; /* skip the checksum checks (see above) */
};

/* Empties g. */
void lp_gro_init(struct lp_gro *g);

/*
 * Offers one frame. Returns 1 when it joined (or, g being empty, started)
 * the pending super-frame; 0 when it is coalescible but cannot join the
 * pending one: lp_gro_finish and write that, then offer the frame again;
 * LP_ERR_UNSUPPORTED when it is not coalescible at all: lp_gro_finish and
 * write the pending one first, then write this frame as it is. g is
 * unchanged unless 1 is returned.
 */
int lp_gro_add(struct lp_gro *g, const uint8_t *frame, size_t len) LP_WUR;

/*
 * Takes the pending super-frame: *frame / *len point into g (valid until
 * the next lp_gro_add) and m is its virtio-net header. One segment is
 * returned as it came with an all-zero m; more get their IP length (and
 * IPv4 header checksum) fixed, gso_type TCPV4/TCPV6, gso_size the first
 * segment's payload, NEEDS_CSUM with csum_start/csum_offset at the TCP
 * checksum, which holds the folded pseudo-header sum. Returns the number of
 * segments in it (0: nothing pending; m zero, *len 0). g is empty after.
 */
unsigned lp_gro_finish(struct lp_gro *g, struct lp_gso_meta *m, const uint8_t **frame, size_t *len);

#endif /* LP_GSO_H */
