/*
 * cam.h - keeps the LAN switch's CAM table pointing remote-client MACs at
 * the gateway port.
 *
 * A switch forgets a MAC it has not seen as a source for a while (often
 * 300 s) and then floods frames for it, or worse, learns it elsewhere. The
 * gateway therefore sends, for every remote client, a small frame with
 * src = the client's MAC and dst = the gateway NIC's own MAC: the switch
 * learns the source on the gateway port and, since the destination is the
 * gateway port too, filters the frame instead of flooding it.
 *
 * The table is seeded by PEER_JOINED from the relay and by source MACs seen
 * in frames from the relay, and retired by PEER_LEFT. Sans-I/O: time is the
 * caller's monotonic nanoseconds, frames are returned to the caller.
 */
#ifndef LP_GATEWAY_CAM_H
#define LP_GATEWAY_CAM_H

#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"
#include "lp_proto.h"

#define LP_CAM_ETHERTYPE 0x88b5 /* IEEE 802 local experimental */
#define LP_CAM_FRAME_LEN 60     /* minimum Ethernet frame without FCS */
#define LP_CAM_PAYLOAD "softlan-vpn cam refresh"
#define LP_CAM_DEFAULT_INTERVAL_NS (30 * LP_NS_PER_SEC)
#define LP_CAM_MAX_ENTRIES 256 /* bound on remote clients tracked */

struct lp_cam_entry {
	struct lp_mac mac;
	uint64_t due_ns; /* next refresh */
};

struct lp_cam {
	struct lp_mac own; /* the gateway NIC's MAC: destination of refreshes */
	uint64_t interval_ns;
	size_t count;
	struct lp_cam_entry e[LP_CAM_MAX_ENTRIES];
};

/* Empties the table. interval_ns 0 means LP_CAM_DEFAULT_INTERVAL_NS. */
void lp_cam_init(struct lp_cam *c, const struct lp_mac *own, uint64_t interval_ns);

/*
 * Tracks mac (PEER_JOINED): a new entry is due immediately, so the switch
 * learns the client before its first frame; an existing one is left alone.
 * Returns 1 when added, 0 when already present, or LP_ERR_MAC_ZERO,
 * LP_ERR_MAC_GROUP (not a unicast identity), LP_ERR_INVAL (the gateway's own
 * MAC), LP_ERR_NOBUF (table full).
 */
int lp_cam_add(struct lp_cam *c, const struct lp_mac *mac, uint64_t now_ns) LP_WUR;

/*
 * A frame with source mac came from the relay and is being written to the
 * LAN: the switch learns it from that frame, so the refresh is pushed back
 * to now + interval. Adds the MAC when new. Returns and errors as
 * lp_cam_add (group and zero source MACs are refused, not tracked).
 */
int lp_cam_touch(struct lp_cam *c, const struct lp_mac *mac, uint64_t now_ns) LP_WUR;

/* Stops tracking mac (PEER_LEFT). LP_ERR_NOT_FOUND when it was not tracked. */
int lp_cam_remove(struct lp_cam *c, const struct lp_mac *mac) LP_WUR;

/* Earliest due time, or UINT64_MAX when the table is empty. */
uint64_t lp_cam_next_deadline(const struct lp_cam *c);

/*
 * Writes one refresh frame for each entry due at now_ns into out (at most
 * max), and schedules those entries for now_ns + interval. Entries that did
 * not fit stay due for the next call. Returns the number of frames written.
 */
size_t lp_cam_collect(struct lp_cam *c, uint64_t now_ns, uint8_t (*out)[LP_CAM_FRAME_LEN],
                      size_t max);

/* The refresh frame: dst, src, LP_CAM_ETHERTYPE, LP_CAM_PAYLOAD, zero padding. */
void lp_cam_frame_build(const struct lp_mac *src, const struct lp_mac *dst,
                        uint8_t out[LP_CAM_FRAME_LEN]);

#endif /* LP_GATEWAY_CAM_H */
