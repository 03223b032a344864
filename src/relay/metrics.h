/*
 * metrics.h - the relay's state for operators: Prometheus text exposition
 * (format 0.0.4) for scraping, and short human lines for the log.
 *
 * Everything is read through the accessors of room.h; nothing here is on
 * the forwarding path.
 *
 * Metric families (all prefixed lanparty_relay_):
 *   rooms, peers (gauges); admitted_total; rejected_total{reason};
 *   datagrams_rx_total ... broadcast_rx_total (relay-wide accounting);
 *   drops_total{reason} (every reason, zeros included);
 *   room_peers, room_mtu, room_gateway_present, room_learned_macs,
 *   room_unlearned_macs_total {room};
 *   per peer, labels {room,peer_id,role,mac}: peer_info (always 1),
 *   peer_last_seen_seconds (seconds since the last datagram or control
 *   message, millisecond resolution), peer_datagram_budget_bytes,
 *   peer_malformed_total, peer_learned_macs, peer_<counter>_total (relay's
 *   accounting), peer_drops_total{...,reason} (non-zero reasons only),
 *   peer_reported_<counter>_total and peer_reported_drops_total{...,reason}
 *   (the peer's last stats message; absent until it sent one).
 * Label values need no escaping: room codes are validated at admission to
 * [A-Za-z0-9_-], MACs and roles are formatted by us.
 */
#ifndef LP_RELAY_METRICS_H
#define LP_RELAY_METRICS_H

#include <stdint.h>
#include <sys/types.h>

#include "lp_base.h"
#include "lp_obs.h"
#include "room.h"

/*
 * Writes the whole exposition into buf (NUL-terminated). Returns its length
 * without the NUL, or LP_ERR_NOBUF when it does not fit in cap bytes
 * (buf then holds a truncated prefix; retry with a larger buffer).
 */
ssize_t lp_relay_metrics_write(const struct lp_relay *r, uint64_t now_ns, char *buf,
                               size_t cap) LP_WUR;

/*
 * Human snapshot for the log: one summary line
 *   "relay: 1 room, 2 peers, rx 10 frames, tx 8 frames, drops 3"
 * then one line per peer, rooms in creation order, peers in join order:
 *   "room ROOM1 peer 1 gateway 02:00:00:00:00:01: budget 1452, last seen
 *    0.250 s ago, rx 10 frames / 1200 B, tx 8 frames / 960 B, drops 2
 *    (malformed 1, too_big 1), learned 4 MACs; reports rx 9 tx 7 drops 0"
 * (the "; reports" part only once the peer sent stats, "learned" only for a
 * gateway). Each line is passed to emit without a newline.
 */
void lp_relay_snapshot_lines(const struct lp_relay *r, uint64_t now_ns, lp_obs_line_fn emit,
                             void *user);

#endif /* LP_RELAY_METRICS_H */
