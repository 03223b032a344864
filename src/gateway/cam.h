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
 *
 * LAN hosts: the table also remembers every source MAC seen on the LAN
 * (lp_cam_lan_seen), for LP_CAM_LAN_AGING_NS, in a bounded set-associative
 * table. A room frame whose source is such a MAC is a player claiming a LAN
 * host's address: lp_cam_from_room refuses it (lan_mac) and the MAC is
 * never refreshed onto the switch, so the host keeps its own traffic.
 */
#ifndef LP_GATEWAY_CAM_H
#define LP_GATEWAY_CAM_H

#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"
#include "lp_obs.h"
#include "lp_proto.h"

#define LP_CAM_ETHERTYPE 0x88b5 /* IEEE 802 local experimental */
#define LP_CAM_FRAME_LEN 60     /* minimum Ethernet frame without FCS */
#define LP_CAM_PAYLOAD "softlan-vpn cam refresh"
#define LP_CAM_DEFAULT_INTERVAL_NS (30 * LP_NS_PER_SEC)
#define LP_CAM_MAX_ENTRIES 256 /* bound on remote clients tracked */
/* LAN hosts remembered: LP_CAM_LAN_SETS sets of LP_CAM_LAN_WAYS MACs (4096,
 * 64 KiB); a new MAC in a full set replaces the one seen longest ago. */
#define LP_CAM_LAN_SETS 1024u
#define LP_CAM_LAN_WAYS 4u
#define LP_CAM_LAN_AGING_NS (300 * LP_NS_PER_SEC) /* a switch's usual aging time */

struct lp_cam_entry {
	struct lp_mac mac;
	uint64_t due_ns; /* next refresh */
};

struct lp_cam_lan_entry {
	struct lp_mac mac; /* zero: empty slot */
	uint64_t seen_ns;
};

struct lp_cam {
	struct lp_mac own; /* the gateway NIC's MAC: destination of refreshes */
	uint64_t interval_ns;
	size_t count;
	struct lp_cam_entry e[LP_CAM_MAX_ENTRIES];
	uint64_t lan_aging_ns;
	uint64_t lan_evicted; /* live LAN MACs pushed out of a full set */
	struct lp_cam_lan_entry lan[LP_CAM_LAN_SETS][LP_CAM_LAN_WAYS];
};

/* Empties both tables. interval_ns 0 means LP_CAM_DEFAULT_INTERVAL_NS; the
 * LAN aging time is LP_CAM_LAN_AGING_NS (tests may change lan_aging_ns). */
void lp_cam_init(struct lp_cam *c, const struct lp_mac *own, uint64_t interval_ns);

/* Forgets the remote clients (a new relay session replays them) but keeps
 * what was seen on the LAN, which does not depend on the relay. */
void lp_cam_clear_remote(struct lp_cam *c);

/*
 * Tracks mac (PEER_JOINED): a new entry is due immediately, so the switch
 * learns the client before its first frame; an existing one is left alone.
 * Returns 1 when added, 0 when already present, or LP_ERR_MAC_ZERO,
 * LP_ERR_MAC_GROUP (not a unicast identity), LP_ERR_INVAL (the gateway's own
 * MAC, or a MAC seen on the LAN: never refreshed), LP_ERR_NOBUF (table full).
 */
int lp_cam_add(struct lp_cam *c, const struct lp_mac *mac, uint64_t now_ns) LP_WUR;

/*
 * A frame with source mac came from the relay and is being written to the
 * LAN: the switch learns it from that frame, so the refresh is pushed back
 * to now + interval. Adds the MAC when new. Returns and errors as
 * lp_cam_add (group and zero source MACs are refused, not tracked).
 */
int lp_cam_touch(struct lp_cam *c, const struct lp_mac *mac, uint64_t now_ns) LP_WUR;

/*
 * A frame with source mac arrived from the LAN. Remembers mac as a LAN host
 * (or renews it) for lan_aging_ns. When mac was tracked as a remote client
 * (a player claimed a LAN host's MAC, or the LAN looped a room frame back),
 * stops tracking it and returns 1; otherwise 0. Group and zero sources are
 * ignored (0).
 */
int lp_cam_lan_seen(struct lp_cam *c, const struct lp_mac *mac, uint64_t now_ns);

/* True when mac was seen as a LAN source less than lan_aging_ns ago. */
bool lp_cam_is_lan(const struct lp_cam *c, const struct lp_mac *mac, uint64_t now_ns);

/*
 * The gateway's check of a frame from the room before it goes onto the LAN
 * (call it for every such frame, whatever pump delivers it). Returns
 *   LP_DROP_MALFORMED  shorter than an Ethernet header;
 *   LP_DROP_LAN_MAC    its source was seen on the LAN: drop it; the MAC is
 *                      not touched, so no refresh ever claims it;
 *   LP_DROP_NONE       otherwise, after lp_cam_touch of the source; *added
 *                      says a new entry is due now (re-arm the timer).
 * A source lp_cam_touch refuses (group, zero, own, table full) still passes:
 * the frame is fine, it just is not refreshed.
 */
enum lp_drop_reason lp_cam_from_room(struct lp_cam *c, const uint8_t *frame, size_t len,
                                     uint64_t now_ns, bool *added) LP_WUR;

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
