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

#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"

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

#endif /* LP_GSO_H */
