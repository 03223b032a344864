/*
 * room.h - the relay's room and forwarding engine, sans-I/O.
 *
 * The engine owns no socket, no QUIC connection and no clock. The relay
 * binary admits a connection with the hello it decoded, hands every overlay
 * datagram and control message of an admitted peer to the engine with the
 * current monotonic time, and receives everything the engine wants sent
 * through the callbacks below. Each connection is an opaque `void *conn`
 * the binary chooses; the engine gives it back in every callback.
 *
 * Single-threaded: call everything from the relay's one loop thread.
 * Callbacks run synchronously inside lp_relay_* calls and must not call
 * lp_relay_admit, lp_relay_peer_leave or lp_relay_del (the engine may be
 * iterating a room): the disconnect callback should only schedule the
 * close, and the binary calls lp_relay_peer_leave once QUIC is gone.
 *
 * ROOM MTU RULE (a protocol fact every peer relies on):
 *   A room's MTU is fixed when the room is created by its first peer and
 *   never changes while the room lives:
 *     mtu = min(cfg.mtu_ceiling, lp_proto_mtu_from_budget(first budget))
 *   Every later peer must be able to carry it: a peer whose budget is below
 *   lp_proto_budget_for_mtu(mtu) is rejected with LP_REJECT_BUDGET_TOO_SMALL
 *   (the message names both numbers). The welcome tells each peer the MTU
 *   to configure on its TAP/LAN side. The room is deleted when its last
 *   peer leaves; the next first join picks the MTU again.
 *   A budget that shrinks later (lp_relay_peer_set_budget, path MTU change)
 *   does not change the MTU: frames that no longer fit that peer are skipped
 *   for that peer only (counted too_big) and still reach everyone else.
 *
 * FORWARDING (lp_relay_datagram), for a datagram from peer P:
 *   - malformed overlay or Ethernet header: counted per peer; at
 *     cfg.malformed_threshold the disconnect callback asks to close P.
 *   - safety filters (lib/l2filter, lp_l2filter_relay), action "filtered".
 *   - source learning: a client's only source is its own MAC (anything else
 *     was filtered as spoofed); the gateway's sources (the LAN behind it)
 *     are learned, up to cfg.mac_limit per room, and age out after
 *     cfg.mac_aging_ns without traffic. A gateway frame whose source is
 *     another peer's own MAC is a bridge loop (the client's frame came back
 *     from the LAN) and is dropped as "loop" without relearning.
 *   - destination: unicast to a known MAC goes to that peer only, or is
 *     dropped as "loop" when that is P itself (never reflected); broadcast
 *     and multicast go to every other peer; unknown unicast from a client
 *     goes to the gateway only ("unknown_dest" when there is none); unknown
 *     unicast from the gateway is dropped ("unknown_dest"), never flooded.
 *   - rate limits, action "rate_limited", per peer and then per room (token
 *     buckets; a refused frame has spent its peer's tokens, not the
 *     room's): a client's broadcast/multicast frames, its unknown-unicast
 *     frames (in frames), then its datagram bytes (rate_broadcast,
 *     rate_unknown, rate_total); the gateway's broadcast/multicast frames
 *     and its bytes, with limits of their own (cfg.gw_*): a LAN's broadcast
 *     volume is the room's to carry, so they are higher, but one LAN must
 *     not take the relay (its unknown unicast is never forwarded, see
 *     above, so it needs no bucket); then the room's budget (rate_room):
 *     the bytes the relay sends in the room, the datagram's length times
 *     its receivers (1 for unicast, the other peers for a group frame), so
 *     one busy room cannot take the single-threaded relay from the others.
 *     Every such drop is counted on the sending peer and logged at
 *     LP_LOG_INFO, rate-limited per peer.
 *   - egress: the ORIGINAL datagram bytes (with FROM_GATEWAY set when the
 *     gateway sent them, see PRIVATE ROOMS) go to each target whose current
 *     budget fits them; a target with a smaller budget is skipped (counted
 *     too_big on the target, logged rate-limited); LP_ERR_AGAIN from
 *     send_datagram counts queue_full on the target, other errors io.
 * Every decision is logged at LP_LOG_DEBUG as an lp_obs_frame_event line,
 * formatted only when that level is enabled.
 *
 * PRIVATE ROOMS (docs/PRIVATE-ROOMS design, docs/PROTOCOL.md): a hello with
 * private_room names a room by its id, with the public verifier V and host
 * key P_H and proofs bound to the connection's TLS exporter (the binary
 * passes it in struct lp_relay_conn_info). Before any room is looked up the
 * engine checks room_id == hash(V, P_H), the proof with V and, for the
 * gateway role, the host proof with P_H; any failure, and any attempt from
 * a source over the failure limit, gets LP_REJECT_NOT_ADMITTED with one
 * fixed message and counts against the source (cfg.fail_limit per
 * cfg.fail_window_ns, in a bounded table), so the answer never depends on
 * whether the room exists or who is in it. The first admitted member opens
 * the room. A valid gateway whose room already has a gateway takes the
 * slot over: the old connection is asked to close with reason "replaced"
 * and leaves the room at once (PEER_LEFT), its lp_relay_peer stays valid
 * until lp_relay_peer_leave. A private room's MTU leaves room for the seal:
 *   mtu = min(cfg.mtu_ceiling, lp_proto_mtu_from_budget(budget - 32))
 * and every peer needs lp_proto_budget_for_mtu(mtu) + 32. In a private room
 * every datagram must carry SEALED (else dropped as "unsealed"); the relay
 * reads only the clear Ethernet header (no payload filters: the receivers
 * run them). In an open room SEALED is refused as malformed. In both, the
 * relay sets FROM_GATEWAY on what the gateway sends and refuses it from
 * anyone (malformed). cfg.private_rooms_only refuses open hellos
 * (LP_REJECT_BAD_ROOM). Logs and metrics name a private room "~" + 8
 * characters of its id.
 *
 * ACCOUNTING: each peer has a struct lp_counters kept by the relay:
 * datagrams/bytes/frames_rx and broadcast_rx for what it sent, *_tx for what
 * the relay delivered to it; drops[] holds ingress drops of its frames plus
 * egress skips towards it (too_big, queue_full, io). The relay-wide totals
 * (lp_relay_counters) sum the same events. The peer's own last stats
 * message is kept separately (lp_relay_peer_stats).
 */
#ifndef LP_RELAY_ROOM_H
#define LP_RELAY_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"
#include "lp_ctrl.h"
#include "lp_obs.h"
#include "lp_proto.h"

struct lp_relay;
struct lp_relay_room;
struct lp_relay_peer;

/* ---- Configuration ------------------------------------------------------ */
#define LP_RELAY_DEFAULT_MAX_ROOMS 256u
#define LP_RELAY_DEFAULT_MAX_PEERS 32u
#define LP_RELAY_DEFAULT_MTU_CEILING 1380u
#define LP_RELAY_DEFAULT_BCAST_FPS 1000u
#define LP_RELAY_DEFAULT_BCAST_BURST 2000u
#define LP_RELAY_DEFAULT_UNKNOWN_FPS 500u
#define LP_RELAY_DEFAULT_UNKNOWN_BURST 1000u
/* Bandwidth defaults, from bench/relay_forward on the development machine
 * (README, relay options): one room of 1200-byte frames forwarded at 387
 * to 703 Mbit/s in three runs (40,186 to 73,011 frames/s, sender-bound)
 * for 4.4 to 6.0 us of relay CPU a frame, so the one loop thread tops out
 * near 1.6 Gbit/s. A room gets 300 Mbit/s, below what one room was seen to
 * push and a fifth of the ceiling, so a saturated room leaves most of the
 * relay to the others; a client half a room, the gateway (the whole LAN's
 * traffic) a little more. */
#define LP_RELAY_DEFAULT_BANDWIDTH_MBPS 150u
#define LP_RELAY_DEFAULT_BANDWIDTH_BURST 4000000u /* bytes (4 MB) */
#define LP_RELAY_DEFAULT_GW_BANDWIDTH_MBPS 250u
/* A LAN's broadcasts (ARP, mDNS, SSDP, NetBIOS, game discovery) run to a
 * few hundred frames/s on a busy party LAN: ten times that. */
#define LP_RELAY_DEFAULT_GW_BCAST_FPS 5000u
#define LP_RELAY_DEFAULT_GW_BCAST_BURST 10000u
#define LP_RELAY_DEFAULT_ROOM_MBPS 300u
/* bytes (8 MB, 210 ms at 300 Mbit/s); raised per room to one group frame
 * of the room MTU to every other peer, so any frame can pass once. */
#define LP_RELAY_DEFAULT_ROOM_BURST 8000000u
#define LP_RELAY_DEFAULT_MALFORMED_MAX 64u
#define LP_RELAY_DEFAULT_MAC_LIMIT 4096u
#define LP_RELAY_DEFAULT_MAC_AGING_NS (300 * LP_NS_PER_SEC)

#define LP_RELAY_DEFAULT_FAIL_LIMIT 10u /* failed private admissions per source */
#define LP_RELAY_DEFAULT_FAIL_WINDOW_NS (60 * LP_NS_PER_SEC)
#define LP_RELAY_FAIL_SLOTS 4096u /* sources the failure table remembers */

#define LP_RELAY_MAX_PEERS_LIMIT 1024u    /* upper bound for max_peers_per_room */
#define LP_RELAY_MAC_LIMIT_MAX (1u << 20) /* upper bound for mac_limit */

struct lp_relay_cfg {
	uint32_t max_rooms;           /* rooms per relay, >= 1 */
	uint32_t max_peers_per_room;  /* 2..LP_RELAY_MAX_PEERS_LIMIT */
	uint32_t mtu_ceiling;         /* LP_MTU_MIN..LP_MTU_MAX */
	uint32_t bcast_fps;           /* client broadcast/multicast frames/s; 0 = unlimited */
	uint32_t bcast_burst;         /* frames */
	uint32_t unknown_fps;         /* client unknown-unicast frames/s; 0 = unlimited */
	uint32_t unknown_burst;       /* frames */
	uint32_t bandwidth_mbps;      /* client total, Mbit/s of datagram bytes; 0 = unlimited */
	uint32_t bandwidth_burst;     /* bytes */
	uint32_t gw_bcast_fps;        /* gateway broadcast/multicast frames/s; 0 = unlimited */
	uint32_t gw_bcast_burst;      /* frames */
	uint32_t gw_bandwidth_mbps;   /* gateway total, Mbit/s; 0 = unlimited */
	uint32_t room_mbps;           /* per room, Mbit/s sent in it; 0 = unlimited */
	uint32_t room_burst;          /* bytes */
	uint32_t malformed_threshold; /* malformed datagrams before disconnect, >= 1 */
	uint32_t mac_limit;           /* learned (LAN) MACs per room, 1..LP_RELAY_MAC_LIMIT_MAX */
	uint64_t mac_aging_ns;        /* learned MAC lifetime without traffic, > 0 */
	bool private_rooms_only;      /* refuse open rooms (a room code) */
	uint32_t fail_limit;          /* failed private admissions per source and window, >= 1 */
	uint64_t fail_window_ns;      /* > 0 */
};

/* Fills every field with the LP_RELAY_DEFAULT_* values. */
void lp_relay_cfg_defaults(struct lp_relay_cfg *cfg);
/* LP_ERR_INVAL for a field outside the range documented above,
 * LP_ERR_MTU_RANGE for mtu_ceiling. */
int lp_relay_cfg_validate(const struct lp_relay_cfg *cfg) LP_WUR;

/* ---- Callbacks ------------------------------------------------------------ */
/* Queue one QUIC DATAGRAM on conn. data is the ingress datagram itself (valid
 * only during the call). Return 0, LP_ERR_AGAIN when the queue is full, or
 * another negative LP_ERR_* when the connection cannot send. */
typedef int (*lp_relay_send_datagram_fn)(void *user, void *conn, const uint8_t *data, size_t len);
/* Send one control message on conn's control stream (encode with
 * lp_ctrl_encode). m is valid only during the call. */
typedef void (*lp_relay_send_ctrl_fn)(void *user, void *conn, const struct lp_ctrl_msg *m);
/* The engine wants conn closed (reason is for logs and the QUIC close).
 * Schedule it; then call lp_relay_peer_leave when the connection is gone. */
typedef void (*lp_relay_disconnect_fn)(void *user, void *conn, const char *reason);

struct lp_relay_callbacks {
	lp_relay_send_datagram_fn send_datagram;
	lp_relay_send_ctrl_fn send_ctrl;
	lp_relay_disconnect_fn disconnect; /* may be NULL only if never needed in tests */
	void *user;
};

/* ---- Lifetime --------------------------------------------------------------- */
/*
 * Creates an engine. cfg NULL means defaults; cfg and cb are copied; log
 * (may be NULL: silent) must outlive the engine. send_datagram and
 * send_ctrl are required. Errors: LP_ERR_INVAL (bad callbacks or config),
 * LP_ERR_MTU_RANGE, LP_ERR_NOMEM, LP_ERR_IO (no OS randomness for the MAC
 * table key).
 */
int lp_relay_new(struct lp_relay **out, const struct lp_relay_cfg *cfg,
                 const struct lp_relay_callbacks *cb, const struct lp_logger *log) LP_WUR;
/* Frees every room and peer without any callback. Accepts NULL. */
void lp_relay_del(struct lp_relay *r);

/* ---- Admission and lifecycle ------------------------------------------------ */
/*
 * Admits the connection `conn` that sent the validated hello `h`. `budget`
 * is the largest overlay datagram the relay can send to that peer now (the
 * QUIC-negotiated datagram size); the peer's effective budget is
 * min(budget, h->datagram_budget), now and after every
 * lp_relay_peer_set_budget.
 *
 * Admitted: the room is created if it did not exist (fixing its MTU, see the
 * rule above), the peer gets the next peer id (unique, increasing, never
 * reused while the engine lives), and through send_ctrl: the welcome to
 * conn, then one PEER_JOINED per peer already in the room to conn
 * (catch-up, in join order), then PEER_JOINED for the new peer to every
 * other peer. Returns 0 and *out (valid until lp_relay_peer_leave).
 *
 * Refused: the reject (with a human message) is sent to conn through
 * send_ctrl, nothing changes, *out = NULL, returns LP_ERR_REJECTED; close
 * the connection once the reject is flushed. Reasons: LP_REJECT_VERSION,
 * LP_REJECT_BAD_ROOM, LP_REJECT_BAD_HELLO (role/MAC invalid),
 * LP_REJECT_TOO_MANY_ROOMS, LP_REJECT_ROOM_FULL, LP_REJECT_GATEWAY_EXISTS,
 * LP_REJECT_DUPLICATE_MAC (a peer's MAC or a live MAC learned behind the
 * gateway), LP_REJECT_BUDGET_TOO_SMALL, LP_REJECT_SHUTTING_DOWN (peer ids
 * exhausted).
 *
 * reply (may be NULL) receives a copy of the welcome or reject for the
 * caller's logs; do not send it again. Other errors: LP_ERR_NOMEM (nothing
 * sent, nothing changed), LP_ERR_INVAL (NULL h or conn).
 */
int lp_relay_admit(struct lp_relay *r, const struct lp_ctrl_hello *h, void *conn, size_t budget,
                   uint64_t now_ns, struct lp_ctrl_msg *reply, struct lp_relay_peer **out) LP_WUR;

/* What the binary knows of a connection beyond its hello. */
struct lp_relay_conn_info {
	const uint8_t *exporter; /* LP_QUIC_EXPORTER_LEN bytes of the TLS exporter; NULL: none */
	const uint8_t *src_key;  /* the source for the failure limit (see admit.h) */
	size_t src_key_len;      /* 0: not limited */
};

/* lp_relay_admit with the connection's exporter and source (ci may be
 * NULL: a private hello then fails), which private hellos need; see
 * PRIVATE ROOMS above. Same results plus LP_REJECT_NOT_ADMITTED. */
int lp_relay_admit_conn(struct lp_relay *r, const struct lp_ctrl_hello *h,
                        const struct lp_relay_conn_info *ci, void *conn, size_t budget,
                        uint64_t now_ns, struct lp_ctrl_msg *reply,
                        struct lp_relay_peer **out) LP_WUR;

/*
 * The connection of p is gone (closed, timed out, or closed on request of
 * the disconnect callback). Sends PEER_LEFT to the remaining peers, removes
 * p's MAC and every MAC learned behind it, deletes the room when it is
 * empty, and frees p. The reason sent is, in this order: the reason of a
 * DISCONNECT message p sent before, the reason the engine gave when it asked
 * to disconnect p, `reason`, or "connection closed" when reason is NULL/"".
 */
void lp_relay_peer_leave(struct lp_relay *r, struct lp_relay_peer *p, const char *reason);

/*
 * A control message p sent after its hello. Updates last-seen. STATS: the
 * counters are kept as p's latest snapshot. DISCONNECT: the reason is kept
 * for the PEER_LEFT that follows. Returns 0, or LP_ERR_TYPE for a message a
 * peer must not send once admitted (hello again, welcome, reject,
 * peer_joined, peer_left, peer_stats): a protocol violation, close the
 * connection.
 */
int lp_relay_peer_ctrl(struct lp_relay *r, struct lp_relay_peer *p, const struct lp_ctrl_msg *m,
                       uint64_t now_ns) LP_WUR;

/* The QUIC datagram budget towards p changed; the effective budget is
 * min(budget, the hello's budget). Never changes the room MTU. */
void lp_relay_peer_set_budget(struct lp_relay_peer *p, size_t budget);

/* ---- Forwarding ---------------------------------------------------------------- */
struct lp_relay_verdict {
	enum lp_obs_action action;
	enum lp_drop_reason reason; /* LP_DROP_NONE when forwarded */
	unsigned targets;           /* peers the datagram was handed to */
};

/*
 * One overlay datagram received from p (see FORWARDING above). Never
 * allocates. `out` (may be NULL) receives the decision: action forwarded
 * with the number of targets that accepted it (0 for a broadcast in a room
 * of one), or the drop reason. A unicast whose only target was skipped
 * reports action dropped with reason too_big / queue_full / io.
 * Datagrams from a peer the engine asked to disconnect are dropped
 * (not_ready) without further processing.
 */
void lp_relay_datagram(struct lp_relay *r, struct lp_relay_peer *p, const uint8_t *data, size_t len,
                       uint64_t now_ns, struct lp_relay_verdict *out);

/*
 * Removes learned MACs not seen for cfg.mac_aging_ns. Lookups already
 * ignore aged entries; this frees their slots. Call periodically (every few
 * seconds). Returns the number of entries removed.
 */
size_t lp_relay_expire(struct lp_relay *r, uint64_t now_ns);

/* ---- Inspection (metrics, snapshots, tests) ------------------------------------- */
/* Relay-wide totals over all peers, including peers that left. */
const struct lp_counters *lp_relay_counters(const struct lp_relay *r) LP_WUR;
uint64_t lp_relay_admitted_total(const struct lp_relay *r) LP_WUR;
uint64_t lp_relay_rejected_total(const struct lp_relay *r, enum lp_reject_reason reason) LP_WUR;
size_t lp_relay_peer_total(const struct lp_relay *r) LP_WUR;

/* Rooms in creation order; index 0..lp_relay_room_count()-1. Indexes shift
 * when a room is deleted. */
size_t lp_relay_room_count(const struct lp_relay *r) LP_WUR;
const struct lp_relay_room *lp_relay_room_at(const struct lp_relay *r, size_t i) LP_WUR;
const struct lp_relay_room *lp_relay_room_find(const struct lp_relay *r, const char *name) LP_WUR;
const char *lp_relay_room_name(const struct lp_relay_room *room) LP_WUR;
uint32_t lp_relay_room_mtu(const struct lp_relay_room *room) LP_WUR;
bool lp_relay_room_is_private(const struct lp_relay_room *room) LP_WUR;
/* Private hello attempts refused because their source was over the limit. */
uint64_t lp_relay_fail_limited_total(const struct lp_relay *r) LP_WUR;
/* The gateway peer or NULL. */
const struct lp_relay_peer *lp_relay_room_gateway(const struct lp_relay_room *room) LP_WUR;
/* Peers in join order. */
size_t lp_relay_room_peer_count(const struct lp_relay_room *room) LP_WUR;
const struct lp_relay_peer *lp_relay_room_peer_at(const struct lp_relay_room *room,
                                                  size_t i) LP_WUR;
/* MACs learned behind the gateway (peers' own MACs not included). */
size_t lp_relay_room_learned_count(const struct lp_relay_room *room) LP_WUR;
/* Sources the gateway sent that were not learned because the table was at
 * cfg.mac_limit (the frames still flowed). */
uint64_t lp_relay_room_unlearned(const struct lp_relay_room *room) LP_WUR;
/* Frames dropped because the room was over cfg.room_mbps (rate_room; also
 * counted on the sending peer). */
uint64_t lp_relay_room_rate_limited(const struct lp_relay_room *room) LP_WUR;
/* The peer a MAC belongs to at now_ns (own or learned, not aged), or NULL. */
const struct lp_relay_peer *lp_relay_room_lookup(const struct lp_relay_room *room,
                                                 const struct lp_mac *mac, uint64_t now_ns) LP_WUR;

uint32_t lp_relay_peer_id(const struct lp_relay_peer *p) LP_WUR;
enum lp_role lp_relay_peer_role(const struct lp_relay_peer *p) LP_WUR;
const struct lp_mac *lp_relay_peer_mac(const struct lp_relay_peer *p) LP_WUR;
void *lp_relay_peer_conn(const struct lp_relay_peer *p) LP_WUR;
/* NULL once a takeover detached p from its room. */
const struct lp_relay_room *lp_relay_peer_room(const struct lp_relay_peer *p) LP_WUR;
size_t lp_relay_peer_budget(const struct lp_relay_peer *p) LP_WUR; /* effective */
uint64_t lp_relay_peer_joined_ns(const struct lp_relay_peer *p) LP_WUR;
uint64_t lp_relay_peer_last_seen_ns(const struct lp_relay_peer *p) LP_WUR;
uint64_t lp_relay_peer_malformed(const struct lp_relay_peer *p) LP_WUR;
/* MACs learned behind p (always 0 for clients). */
size_t lp_relay_peer_learned_count(const struct lp_relay_peer *p) LP_WUR;
/* The relay's own accounting for p (see ACCOUNTING). */
const struct lp_counters *lp_relay_peer_counters(const struct lp_relay_peer *p) LP_WUR;
/* p's last STATS snapshot, or NULL before the first one. */
const struct lp_counters *lp_relay_peer_stats(const struct lp_relay_peer *p) LP_WUR;
/* True once the engine asked to disconnect p. */
bool lp_relay_peer_closing(const struct lp_relay_peer *p) LP_WUR;

#endif /* LP_RELAY_ROOM_H */
