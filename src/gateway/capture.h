/*
 * capture.h - the gateway's LAN side: an AF_PACKET socket on one interface
 * that reads whole LAN frames and writes frames from the relay.
 *
 * Reading: promiscuous, non-blocking, batched with recvmmsg into a ring of
 * buffers sized to the overlay payload ceiling (LP_PROTO_PAYLOAD_MAX), not
 * to 1514, so VLAN-tagged and jumbo frames are seen whole and the budget
 * check decides their fate. Each frame comes with its virtio-net header
 * (PACKET_VNET_HDR), so GRO/TSO super-frames and CHECKSUM_PARTIAL frames
 * can be turned into wire frames with lp_gso_segment. A VLAN tag the kernel
 * moved out of the frame (rx VLAN offload, on by default on veth and most
 * NICs: the receive path always untags before packet sockets see the
 * frame) is put back, so the frame is what the wire carried.
 *
 * PACKET_IGNORE_OUTGOING is set: frames this socket writes are never read
 * back (no loops). The price: frames the gateway host itself sends out of
 * that interface are not captured either, so the gateway host's own
 * traffic is not bridged to remote clients; run the gateway on a box whose
 * own services remote clients do not need, or reach them through the LAN.
 *
 * Writing: frames are copied into a send queue and flushed with sendmmsg,
 * each behind a zeroed virtio-net header (no offload requested).
 *
 * Not thread-safe; one loop owns it. Errors keep errno for the caller's log.
 */
#ifndef LP_GATEWAY_CAPTURE_H
#define LP_GATEWAY_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lp_gso.h"
#include "lp_base.h"
#include "lp_proto.h"

/* Room for one received frame: the overlay payload ceiling plus slack, so
 * a frame the tunnel could carry is never cut by the buffer itself. */
#define LP_CAPTURE_FRAME_ROOM (LP_PROTO_PAYLOAD_MAX + 64u)
#define LP_CAPTURE_RX_BATCH 16u /* frames per recvmmsg */
#define LP_CAPTURE_TX_SLOTS 64u /* frames the send queue holds */
#define LP_CAPTURE_TX_BYTES (256u * 1024u)

struct lp_capture;

struct lp_capture_frame {
	uint8_t *data;          /* the wire frame, VLAN tag restored; in capture's ring, valid
	                         * until the next lp_capture_recv (may be modified in place) */
	size_t len;             /* bytes at data */
	size_t wire_len;        /* length the kernel reported (> len when truncated) */
	bool truncated;         /* MSG_TRUNC / MSG_CTRUNC: drop and count (LP_DROP_TRUNCATED) */
	bool vlan_restored;     /* an offloaded 802.1Q/802.1ad tag was reinserted */
	struct lp_gso_meta gso; /* offload metadata, offsets already match data */
};

struct lp_capture_stats {
	uint64_t rx_frames;    /* frames returned by lp_capture_recv, truncated included */
	uint64_t rx_truncated; /* of those, truncated */
	uint64_t tx_frames;    /* frames the kernel accepted */
	uint64_t tx_errors;    /* frames the kernel refused (too big, link down, qdisc drop) */
};

/*
 * Opens the capture on interface ifname. Errors: LP_ERR_NOT_FOUND (no such
 * interface), LP_ERR_PERM (needs CAP_NET_RAW), LP_ERR_NOMEM, LP_ERR_IO.
 */
int lp_capture_open(const char *ifname, struct lp_capture **out) LP_WUR;
/* Closes the socket and frees the buffers. Accepts NULL. */
void lp_capture_close(struct lp_capture *c);
/* Every frame queued from now on was authenticated end to end (a private
 * room's): TCP segments coalesce toward the LAN without their checksums
 * checked again (lp_gro in lp_gso.h). */
void lp_capture_set_authenticated(struct lp_capture *c, bool on);

/* The socket, for epoll (EPOLLIN; EPOLLOUT while lp_capture_flush says AGAIN). */
int lp_capture_fd(const struct lp_capture *c);
/* The interface's own MAC as read at open (the CAM refresh destination). */
void lp_capture_mac(const struct lp_capture *c, struct lp_mac *out);

/*
 * Reads up to max (<= LP_CAPTURE_RX_BATCH is used) frames. Returns how many
 * were filled in (0 when none is waiting), or LP_ERR_IO. Drain by calling
 * until it returns fewer than asked.
 */
int lp_capture_recv(struct lp_capture *c, struct lp_capture_frame *out, size_t max) LP_WUR;

/*
 * Copies frame into the send queue (flushing first when it is full). TCP
 * segments of one flow in order are coalesced into one super-frame with a
 * virtio-net GSO header (lp_gro_add), which the kernel or the NIC segments
 * again on the way out: one skb through the LAN side instead of one per
 * segment. Order between frames is kept.
 * Errors: LP_ERR_INVAL (empty), LP_ERR_TOO_BIG (larger than
 * LP_PROTO_PAYLOAD_MAX), LP_ERR_AGAIN (queue full and the socket would
 * block: drop and count LP_DROP_QUEUE_FULL), LP_ERR_IO.
 */
int lp_capture_queue(struct lp_capture *c, const uint8_t *frame, size_t len) LP_WUR;

/*
 * Sends the queued frames. Frames the kernel refuses one by one are dropped
 * and counted in tx_errors. Returns 0 when the queue is empty, LP_ERR_AGAIN
 * when the socket would block (frames stay queued: wait for EPOLLOUT), or
 * LP_ERR_IO on a socket-level failure.
 */
int lp_capture_flush(struct lp_capture *c) LP_WUR;
/* Frames waiting in the send queue (the segments held for coalescing too). */
size_t lp_capture_pending(const struct lp_capture *c);

void lp_capture_get_stats(const struct lp_capture *c, struct lp_capture_stats *out);

#endif /* LP_GATEWAY_CAPTURE_H */
