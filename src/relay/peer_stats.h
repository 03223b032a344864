/*
 * peer_stats.h - the relay's peer_stats message (lp_ctrl.h): one table per
 * room of every peer's link to the relay and its traffic, built from the
 * engine's accounting plus what the QUIC connection of each peer knows
 * (RTT estimator, DATAGRAM loss), encoded once per room and handed to every
 * peer of that room.
 *
 * Sans-I/O like the engine: the owner supplies the QUIC side and the
 * sending through struct relay_peer_stats_hooks.
 */
#ifndef LP_RELAY_PEER_STATS_H
#define LP_RELAY_PEER_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lp_ctrl.h"
#include "room.h"

#define RELAY_PEER_STATS_INTERVAL_NS (2 * LP_NS_PER_SEC)
/* A peer whose control stream holds this many unacknowledged bytes is
 * skipped: a peer that stops reading must not make the relay buffer. Half
 * of relayd.c's CTRL_OUT_MAX (32 KiB), above which a lifecycle message
 * closes the peer: stats sent on each join of a room filling in a burst
 * (several KiB each at 32 peers) must not push a reading peer over it. */
#define RELAY_PEER_STATS_BACKLOG_MAX (16u * 1024u)

/* What the connection of a peer knows; zeroes where it knows nothing. */
struct relay_peer_link {
	uint64_t smoothed_rtt_ns;
	uint64_t min_rtt_ns;
	uint64_t datagrams_sent;
	uint64_t datagrams_lost;
	uint64_t stream_unacked; /* control-stream bytes not yet acknowledged */
	bool closing;            /* the connection is going away: send nothing */
};

struct relay_peer_stats_hooks {
	/* Fills *out for conn (a peer's lp_relay_peer_conn). */
	void (*link)(void *user, void *conn, struct relay_peer_link *out);
	/* Queues len encoded bytes on conn's control stream. Returns 0 or a
	 * negative LP_ERR_*. */
	int (*send)(void *user, void *conn, const uint8_t *data, size_t len);
	void *user;
};

/* The room's table into m (type LP_CTRL_PEER_STATS): the gateway first,
 * then the clients in join order, at most LP_CTRL_PEER_STATS_MAX; the
 * result passes lp_ctrl_msg_validate. */
void relay_peer_stats_build(const struct lp_relay_room *room,
                            const struct relay_peer_stats_hooks *h, struct lp_ctrl_msg *m);

/*
 * Builds and encodes the room's table once into buf (cap bytes, at least
 * LP_CTRL_PREFIX_LEN + LP_CTRL_FRAME_MAX) using m as scratch, then sends it
 * to each peer that is neither closing nor backlogged. Returns the number
 * of peers it was handed to, or a negative LP_ERR_* from encoding.
 */
int relay_peer_stats_send(const struct lp_relay_room *room, const struct relay_peer_stats_hooks *h,
                          struct lp_ctrl_msg *m, uint8_t *buf, size_t cap) LP_WUR;

#endif /* LP_RELAY_PEER_STATS_H */
