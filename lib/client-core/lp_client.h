/*
 * lp_client.h - the platform-neutral relay session of every peer that joins
 * a room: the Linux client, the Windows client and the LAN gateway (a peer
 * with role gateway).
 *
 * Four layers, each usable alone:
 *
 *  1. struct lp_client: a sans-I/O session over one QUIC connection
 *     (lib/quic). It owns no socket and no clock: packets in
 *     (lp_client_read), packets out (lp_client_write), one deadline
 *     (lp_client_expiry / lp_client_handle_expiry). It speaks the control
 *     protocol of lib/ctrl on the control stream and carries Ethernet frames
 *     as overlay datagrams (lib/proto) in QUIC DATAGRAM frames.
 *
 *       CONNECTING --handshake--> WAIT_PMTUD --PMTUD done or wait over-->
 *       HELLO_SENT --welcome--> ADMITTED --disconnect--> CLOSING --> CLOSED
 *                  --reject---> REJECTED ---------------------------> CLOSED
 *       any state --connection lost / error------------------------> CLOSED
 *
 *     The hello waits for path MTU discovery: right after the handshake the
 *     QUIC path is only known to carry 1200-byte packets, so a hello sent at
 *     once would advertise a datagram budget that is too small for a normal
 *     room MTU. The session waits until lp_quic_conn_info().pmtud_done or
 *     until pmtud_wait_ns (default 1 s) has passed, whichever comes first,
 *     and then advertises lp_quic_conn_datagram_budget() of that moment.
 *
 *  2. struct lp_backoff: reconnect delays with jitter (500 ms doubling to
 *     30 s, reset once a session stayed admitted for 60 s).
 *
 *  3. struct lp_client_runner: drives sessions on the event loop of
 *     lib/evloop (lp_loop.h, one contract on Linux and Windows) with a UDP
 *     socket, reconnects with backoff and reloads a pinned relay
 *     certificate that was replaced.
 *
 *  4. struct lp_pump: moves frames between a TAP-like device and the
 *     runner, with drop accounting, the device error policy and the status
 *     and address timers (both clients; the gateway uses its session half).
 *
 * Callbacks run inside lp_client_read / lp_client_handle_expiry (and the
 * runner's loop callbacks). They may call lp_client_send_frame and
 * lp_client_disconnect, but must not delete the session or the runner.
 */
#ifndef LP_CLIENT_H
#define LP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lp_base.h"
#include "lp_ctrl.h"
#include "lp_obs.h"
#include "lp_proto.h"
#include "lp_quic.h"
#include "lp_room.h"

#define LP_CLIENT_STATS_INTERVAL_DEFAULT (10 * LP_NS_PER_SEC)
#define LP_CLIENT_PMTUD_WAIT_DEFAULT (1 * LP_NS_PER_SEC)
/* Peers remembered from peer_joined; further joins are reported but not kept. */
#define LP_CLIENT_PEERS_MAX 4096
#define LP_CLIENT_TEXT_MAX 320

/* ---- Session ------------------------------------------------------------ */

struct lp_client;

enum lp_client_state {
	LP_CLIENT_CONNECTING = 0, /* QUIC handshake */
	LP_CLIENT_WAIT_PMTUD,     /* established; waiting for PMTUD before the hello */
	LP_CLIENT_HELLO_SENT,     /* waiting for welcome or reject */
	LP_CLIENT_ADMITTED,       /* welcome received: frames flow */
	LP_CLIENT_REJECTED,       /* reject received; the connection is closing */
	LP_CLIENT_CLOSING,        /* lp_client_disconnect or a local error: closing */
	LP_CLIENT_CLOSED          /* done: the CLOSED event has been delivered */
};

struct lp_client_cfg {
	enum lp_role role;
	const char *room; /* open room: copied; validated with lp_ctrl_room_validate */
	/* A private room (see PRIVATE ROOMS below): its keys, from an invite or
	 * the room file (copied; the session wipes its copy). room is then
	 * not used and may be NULL. */
	const struct lp_room_keys *room_keys;
	/* Gateway of a private room: the room file's host seed (copied). */
	const uint8_t *host_seed;
	/* Receiver state kept across sessions, so a replay window survives a
	 * reconnect (made with lp_room_opener_new from room_keys; borrowed,
	 * must outlive the session). NULL: the session makes its own. */
	struct lp_room_opener *opener;
	struct lp_mac mac;          /* the peer's tunnel identity (validated for the role) */
	const char *software;       /* copied, truncated to 63 bytes; NULL: "" */
	uint64_t stats_interval_ns; /* 0: 10 s; UINT64_MAX: never send stats */
	uint64_t pmtud_wait_ns;     /* 0: 1 s; 1: do not wait for PMTUD */
};

/* A peer of the room as announced by peer_joined. */
struct lp_client_peer {
	uint32_t peer_id;
	enum lp_role role;
	struct lp_mac mac;
};

enum lp_client_event_type {
	/* Session events. */
	LP_CLIENT_EV_CONNECTED = 1, /* QUIC handshake done (hello follows after PMTUD) */
	LP_CLIENT_EV_WELCOME,       /* admitted: welcome, gateway_present */
	LP_CLIENT_EV_REJECTED,      /* reject (reason, message), permanent */
	LP_CLIENT_EV_PEER_JOINED,   /* peer (also the catch-up joins after the welcome) */
	LP_CLIENT_EV_PEER_LEFT,     /* peer, peer_known, peer_reason */
	LP_CLIENT_EV_CLOSED,        /* err, was_admitted; the session is finished */
	/* Runner events. */
	LP_CLIENT_EV_CONNECTING,   /* attempt, text names the relay address */
	LP_CLIENT_EV_RECONNECTING, /* delay_ns until the next attempt */
	LP_CLIENT_EV_STOPPED       /* permanent failure: the runner stopped retrying */
};

struct lp_client_event {
	enum lp_client_event_type type;
	const struct lp_ctrl_welcome *welcome; /* WELCOME; NULL otherwise */
	const struct lp_ctrl_reject *reject;   /* REJECTED, and CLOSED/STOPPED after one */
	struct lp_client_peer peer;            /* PEER_JOINED / PEER_LEFT */
	bool peer_known;         /* PEER_LEFT: the peer had been announced by a join */
	const char *peer_reason; /* PEER_LEFT: the relay's reason ("" when none) */
	bool gateway_present;    /* the room's gateway status after this event */
	bool permanent;          /* REJECTED: lp_client_reject_is_permanent */
	bool was_admitted;       /* CLOSED: the session had been admitted (connection lost) */
	/* CLOSED: LP_OK after our own lp_client_disconnect; LP_ERR_REJECTED;
	 * LP_ERR_TIMEOUT (relay unreachable / timed out); LP_ERR_CERT; LP_ERR_TLS;
	 * LP_ERR_ALPN; LP_ERR_NO_DATAGRAM; LP_ERR_QUIC; LP_ERR_CLOSED (the relay
	 * closed the connection); LP_ERR_BUDGET_SMALL (the room MTU does not fit
	 * the path); LP_ERR_TYPE and the lib/ctrl decoder errors (control
	 * protocol violation by the relay). STOPPED: the error that stopped it. */
	int err;
	unsigned attempt;  /* CONNECTING / RECONNECTING: 1 for the first attempt */
	uint64_t delay_ns; /* RECONNECTING */
	/* One human-readable line, e.g. "admitted to room ROOM1 as peer 3, MTU
	 * 1380, LAN gateway present", "LAN gateway left (shutdown)", "client
	 * 02:11:22:33:44:55 left", "relay unreachable (QUIC handshake timed
	 * out)", "certificate mismatch: the relay did not present the pinned
	 * certificate", "reconnecting in 2.0 s". */
	char text[LP_CLIENT_TEXT_MAX];
};

struct lp_client_cbs {
	/* One Ethernet frame from the tunnel (overlay decoded, header parsed;
	 * in a private room opened and authenticated).
	 * lp_client_frame_from_gateway tells, during the call, whether the
	 * relay attested that it came from the room's gateway. */
	void (*frame)(struct lp_client *s, const uint8_t *frame, size_t len, void *user);
	/* Optional tap for tests and diagnostics: every overlay datagram as it
	 * arrived from the relay, before it is opened or decoded. */
	void (*datagram_rx)(struct lp_client *s, const uint8_t *dgram, size_t len, void *user);
	/* Control events; ev is valid for the call only. */
	void (*event)(struct lp_client *s, const struct lp_client_event *ev, void *user);
	/* Runner only, optional: the frames of one socket read batch were all
	 * delivered (flush what frame() held, e.g. lp_tap_flush). */
	void (*frames_end)(void *user);
	/* Runner only, optional: the runner wrote what the connection let it
	 * (the datagram queue may have room again: lp_pump_writable). */
	void (*writable)(void *user);
};

/* Reject reasons after which retrying cannot help: bad_hello, version,
 * bad_room, gateway_exists, duplicate_mac. */
bool lp_client_reject_is_permanent(enum lp_reject_reason r);
const char *lp_client_state_name(enum lp_client_state st);

/*
 * PRIVATE ROOMS: with cfg.room_keys the hello names the room by id with
 * the public verifier and host key, and proves the admission key (and for
 * the gateway the host key) over this connection's TLS exporter, so the
 * proof is worthless on any other connection. Every frame sent is sealed
 * (lp_room_seal: AES-256-GCM under a fresh epoch per session) and every
 * datagram received must open (lp_room_open), else it is dropped and
 * counted in drops[] by reason: unsealed, auth (altered, forged or another
 * room's), replay, too_old, retired_epoch, malformed. The room MTU of the
 * welcome already leaves room for the 32 bytes a seal adds.
 *
 * A client session (open or private room) also runs lp_l2filter_rx on each
 * frame before the frame callback, with FROM_GATEWAY as the sender's role:
 * DHCP, DHCPv6 and router advertisements only from the gateway's side;
 * refused frames are counted in drops[] by their filter reason.
 */

/* During the frame callback: true when the relay set FROM_GATEWAY on the
 * datagram (the frame came from the room's gateway). The bit is the
 * relay's attestation, not covered by the seal. */
bool lp_client_frame_from_gateway(const struct lp_client *s) LP_WUR;
/* The pin of the certificate the relay presented and our TLS checks
 * accepted (also with --ca-file trust). LP_ERR_STATE before the handshake. */
int lp_client_relay_pin(const struct lp_client *s, uint8_t pin[LP_QUIC_PIN_LEN]) LP_WUR;
/* For tests: handles one overlay datagram as if the relay had sent it. */
void lp_client_inject_datagram(struct lp_client *s, const uint8_t *dgram, size_t len);

/*
 * Starts a session: opens a QUIC connection on path (path->local is the
 * bound socket address, path->remote the relay) with the client context
 * quic (borrowed: it must outlive the session). Nothing is sent until
 * lp_client_write. Errors: LP_ERR_INVAL (NULL arguments, a private gateway
 * without host_seed), the room errors of lp_ctrl_room_validate, LP_ERR_ROLE
 * / LP_ERR_ROLE_MAC, LP_ERR_NOMEM, LP_ERR_CRYPTO, and the errors of
 * lp_quic_conn_connect.
 */
int lp_client_new(struct lp_quic_ctx *quic, const struct lp_client_cfg *cfg,
                  const struct lp_quic_path *path, const struct lp_client_cbs *cbs, void *user,
                  const struct lp_logger *log, uint64_t now, struct lp_client **out) LP_WUR;
/* Frees the session and its connection (no packets are sent). Accepts NULL. */
void lp_client_del(struct lp_client *s);

/* Feeds one received UDP payload (one GRO segment). Returns 0, or
 * LP_ERR_CLOSED once the connection is closing or closed. */
int lp_client_read(struct lp_client *s, const struct lp_quic_path *path, const uint8_t *pkt,
                   size_t len, uint64_t now) LP_WUR;
/*
 * Writes pending packets into buf (cap >= LP_QUIC_WRITE_BUF_MIN), coalesced
 * for GSO as lp_quic_conn_write. Call until it returns 0 after every read
 * batch, expiry, queued frame or disconnect. Returns bytes, 0, or
 * LP_ERR_CLOSED.
 */
ssize_t lp_client_write(struct lp_client *s, uint8_t *buf, size_t cap, size_t *gso_size,
                        struct lp_quic_path *path_out, uint64_t now) LP_WUR;
/* Next deadline (ns): the QUIC timers, the PMTUD wait and the stats timer;
 * UINT64_MAX if none. */
uint64_t lp_client_expiry(const struct lp_client *s);
/* Runs what is due at now. Returns 0 or LP_ERR_CLOSED. */
int lp_client_handle_expiry(struct lp_client *s, uint64_t now) LP_WUR;

/*
 * Sends one Ethernet frame (copied) as an overlay datagram. Never
 * fragments. Errors, each counted in the session's drops:
 *  LP_ERR_STATE   not admitted (drops[not_ready])
 *  LP_ERR_RUNT    shorter than an Ethernet header (drops[malformed])
 *  LP_ERR_TOO_BIG / LP_ERR_PAYLOAD_MAX  encoded datagram exceeds the
 *                 current datagram budget (drops[too_big])
 *  LP_ERR_AGAIN   the datagram queue is full (drops[queue_full])
 * On success frames_tx, datagrams_tx and bytes_tx (frame bytes) grow.
 */
int lp_client_send_frame(struct lp_client *s, const uint8_t *frame, size_t len) LP_WUR;

/*
 * Leaves gracefully: queues a DISCONNECT control message with reason
 * (truncated to LP_CTRL_TEXT_MAX) when the hello was sent, and closes the
 * QUIC connection with LP_QUIC_APP_NO_ERROR. lib/quic holds the
 * CONNECTION_CLOSE back until the control stream (the DISCONNECT included)
 * is acknowledged, at most its flush deadline (2 s), so the relay learns
 * the reason; before the hello the close goes out at once. State becomes
 * CLOSING; keep calling lp_client_write / lp_client_handle_expiry as usual
 * until the session is CLOSED (the close was sent and its closing period
 * passed, or the relay closed first) or until your own bound, then delete
 * it. The CLOSED event then has err LP_OK and text "disconnected (reason)".
 * Idempotent: 0 also when already closing, rejected or closed.
 */
int lp_client_disconnect(struct lp_client *s, const char *reason, uint64_t now);

/* ---- Session diagnostics -------------------------------------------------- */
enum lp_client_state lp_client_state(const struct lp_client *s) LP_WUR;
const struct lp_counters *lp_client_counters(const struct lp_client *s) LP_WUR;
/* The welcome once admitted (kept after close), else NULL. */
const struct lp_ctrl_welcome *lp_client_welcome(const struct lp_client *s) LP_WUR;
/* The reject when the relay refused us, else NULL. */
const struct lp_ctrl_reject *lp_client_reject(const struct lp_client *s) LP_WUR;
/* Current QUIC datagram budget (0 before the handshake or after close). */
size_t lp_client_datagram_budget(const struct lp_client *s) LP_WUR;
/* Frames lp_client_send_frame can queue now without a queue_full drop;
 * SIZE_MAX when the session is not admitted (frames are dropped as
 * not_ready then, waiting would not help). */
size_t lp_client_datagram_room(const struct lp_client *s) LP_WUR;
/* The budget advertised in the hello (0 before it was sent). */
size_t lp_client_hello_budget(const struct lp_client *s) LP_WUR;
void lp_client_conn_info(const struct lp_client *s, struct lp_quic_conn_info *out);
bool lp_client_gateway_present(const struct lp_client *s) LP_WUR;
/* Known peer by id: 0 or LP_ERR_NOT_FOUND. */
int lp_client_peer_lookup(const struct lp_client *s, uint32_t peer_id,
                          struct lp_client_peer *out) LP_WUR;
size_t lp_client_peer_count(const struct lp_client *s) LP_WUR;
/* The relay's latest peer_stats table (every peer's RTT to the relay, loss,
 * traffic; ourselves included), or NULL before the first one; *at (may be
 * NULL) gets the time it arrived. Valid until the next control message or
 * lp_client_del. Our own RTT to the relay is lp_client_conn_info's. */
const struct lp_ctrl_peer_stats *lp_client_peer_stats(const struct lp_client *s,
                                                      uint64_t *at) LP_WUR;
/* Close error and human reason (valid once CLOSED; LP_OK / "" before). */
int lp_client_close_err(const struct lp_client *s) LP_WUR;
const char *lp_client_close_text(const struct lp_client *s) LP_WUR;
/* Fills relay_connected (admitted), gateway_present, datagram_budget, mtu
 * (0 before the welcome) and counters; other fields are left untouched. */
void lp_client_fill_diag(const struct lp_client *s, struct lp_obs_diag *d);

/* ---- Status document (status.c) -------------------------------------------- */

/* What lp_client_status_fill describes. */
struct lp_client_status_src {
	const char *program; /* "lanparty-client", ... */
	const char *room;
	enum lp_role role;
	struct lp_mac mac;
	const struct lp_client *session; /* NULL while reconnecting */
	const struct lp_lanip *lanip;    /* LAN addresses the peer saw; NULL: none */
	uint64_t now;
};

/*
 * Fills the local status document (lp_ctrl.h) of a peer: its state, room,
 * role, MAC, peer id, MTU and LAN IPv4; its own RTT to the relay (its QUIC
 * estimator), loss and counters; then every other peer of the relay's
 * latest peer_stats table that is still in the room (announced and not
 * left), with its LAN IPv4 when seen and the estimated round trip to it
 * through the relay (our RTT + its RTT, 0 when either is unknown); then
 * LAN addresses seen for MACs that are no peer (hosts behind the gateway).
 * The result passes lp_ctrl_status_encode's checks.
 */
void lp_client_status_fill(const struct lp_client_status_src *src, struct lp_ctrl_status *out);

/* ---- Reconnect backoff ----------------------------------------------------- */

typedef uint64_t (*lp_backoff_rand_fn)(void *user);

struct lp_backoff_cfg {
	uint64_t initial_ns;     /* 0: 500 ms */
	uint64_t max_ns;         /* 0: 30 s */
	uint64_t reset_after_ns; /* 0: 60 s admitted resets the backoff */
	lp_backoff_rand_fn rand; /* NULL: an internal generator seeded from the clock */
	void *rand_user;
};

/* Fields are private. */
struct lp_backoff {
	uint64_t initial_ns, max_ns, reset_after_ns;
	uint64_t base_ns;     /* undithered delay of the next attempt */
	uint64_t admitted_at; /* 0: not admitted since the last delay */
	unsigned attempts;    /* delays handed out since the last reset */
	lp_backoff_rand_fn rand;
	void *rand_user;
	uint64_t state; /* internal generator */
};

/* cfg may be NULL (all defaults). */
void lp_backoff_init(struct lp_backoff *b, const struct lp_backoff_cfg *cfg);
/*
 * Delay before the next attempt, uniform in [base/2, base] where base starts
 * at initial_ns and doubles after each call up to max_ns. If the last
 * session was admitted (lp_backoff_admitted) at least reset_after_ns before
 * now, the backoff restarts at initial_ns first.
 */
uint64_t lp_backoff_next(struct lp_backoff *b, uint64_t now) LP_WUR;
/* The session got admitted at now. */
void lp_backoff_admitted(struct lp_backoff *b, uint64_t now);
void lp_backoff_reset(struct lp_backoff *b);
/* Delays handed out since the last reset (the attempt counter). */
unsigned lp_backoff_attempts(const struct lp_backoff *b) LP_WUR;

/* ---- Relay TLS context and the pinned certificate file ---------------------- */

/* Content signature of a pinned certificate file. */
struct lp_client_pin_sig {
	uint64_t hash; /* FNV-1a 64 of the content */
	size_t len;
	bool valid; /* false: the file could not be read */
};

/* Reads path (at most 1 MiB) into *out (valid set). 0, LP_ERR_INVAL,
 * LP_ERR_IO (errno kept) or LP_ERR_TOO_BIG; *out is untouched on error. */
int lp_client_pin_sig_read(const char *path, struct lp_client_pin_sig *out) LP_WUR;

/*
 * Builds the client context for cfg (lp_quic_ctx_new_client), recording
 * first the signature of cfg->pin_der_file into *sig (valid false without a
 * pin or when unreadable). For daemons that build the context before
 * dropping privileges and hand it to lp_client_runner_new. Errors: those of
 * lp_quic_ctx_new_client, LP_ERR_INVAL.
 */
int lp_client_tls_new(const struct lp_quic_client_cfg *cfg, const struct lp_logger *log,
                      struct lp_quic_ctx **out, struct lp_client_pin_sig *sig) LP_WUR;

/* ---- Runner: a session on an event loop with reconnects --------------------- */

struct lp_loop; /* lib/evloop, lp_loop.h */
struct lp_client_runner;

struct lp_client_runner_cfg {
	struct lp_client_cfg session;
	/*
	 * TLS settings of the relay connection (strings copied). With
	 * pin_der_file, a session that ends with LP_ERR_CERT makes the runner
	 * read that file again: when its content changed (length and hash
	 * against the signature the context was built with), the runner logs
	 * "pinned certificate FILE changed; reconnecting with it", rebuilds its
	 * context from it and reports RECONNECTING with delay 0 and a reset
	 * backoff. (A relay with a development certificate makes a new one at
	 * every restart and rewrites the file peers pin.) The file must stay
	 * readable after a privilege drop.
	 */
	struct lp_quic_client_cfg tls;
	/* NULL: lp_client_runner_new builds the context from tls. Otherwise a
	 * context made by lp_client_tls_new from tls, with its pin_sig: the
	 * runner owns it from the call on (freed also when the call fails). */
	struct lp_quic_ctx *quic;
	struct lp_client_pin_sig pin_sig;
	/* Resolved relay addresses (copied, 1..8); attempts rotate through them. */
	const struct sockaddr_storage *relay;
	size_t relay_count;
	struct lp_backoff_cfg backoff;
	/* Retry also after a permanent reject (see lp_client_reject_is_permanent).
	 * Without it a permanent reject stops the runner (STOPPED event) -
	 * except duplicate_mac / gateway_exists after this runner had already
	 * been admitted once: that is most likely our own stale session still
	 * held by the relay, so the runner retries with backoff; likewise
	 * not_admitted once admitted (the invite was right: the relay's
	 * per-address failure limit, which ends by itself). */
	bool retry_permanent;
};

/*
 * Creates the runner and starts the first connection attempt at once
 * (CONNECTING event). Frames and events of every session go to cbs with
 * the session of the moment; the runner's own events (CONNECTING,
 * RECONNECTING, STOPPED) pass s == NULL. Per attempt the runner opens a
 * new UDP socket bound to the wildcard address of the relay's family (port
 * 0) and a new session; when a session ends it reports CLOSED, then
 * RECONNECTING (delay from lp_backoff) or STOPPED. Errors: LP_ERR_INVAL, LP_ERR_NOMEM, and the
 * errors of lp_client_new / lp_udp_open for the first attempt (later
 * attempts report failures as events and retry), and those of
 * lp_client_tls_new when the runner builds the context.
 */
int lp_client_runner_new(struct lp_loop *loop, const struct lp_client_runner_cfg *cfg,
                         const struct lp_client_cbs *cbs, void *user, const struct lp_logger *log,
                         struct lp_client_runner **out) LP_WUR;
/* Sends one frame through the current session (lp_client_send_frame errors;
 * LP_ERR_STATE while reconnecting). Call lp_client_runner_flush after a
 * batch of frames. */
int lp_client_runner_send_frame(struct lp_client_runner *r, const uint8_t *frame,
                                size_t len) LP_WUR;
/* Writes queued packets (GSO batches) and re-arms the timer. */
void lp_client_runner_flush(struct lp_client_runner *r);
/* * Graceful stop: lp_client_disconnect(reason), then runs the loop itself
 * until the session is CLOSED (DISCONNECT acknowledged, CONNECTION_CLOSE
 * sent, closing period over - or the relay closed first) or max_wait_ns
 * passed (0: 1 s); other
 * watchers of the loop keep running meanwhile (frames they hand to
 * lp_client_runner_send_frame are refused with LP_ERR_STATE). The session
 * and socket are gone afterwards; no reconnect follows. Returns 0,
 * LP_ERR_TIMEOUT when the bound was hit, LP_ERR_IO if the loop failed.
 */
int lp_client_runner_disconnect(struct lp_client_runner *r, const char *reason,
                                uint64_t max_wait_ns);
/* The current session (NULL while waiting to reconnect or after stop). */
struct lp_client *lp_client_runner_session(const struct lp_client_runner *r) LP_WUR;
/* Connection attempts after the first (for lp_obs_diag.reconnects). */
uint64_t lp_client_runner_reconnects(const struct lp_client_runner *r) LP_WUR;
/* True once the runner gave up (STOPPED event) or was disconnected. */
bool lp_client_runner_stopped(const struct lp_client_runner *r) LP_WUR;
/* Frees the runner: session and socket are dropped without sending. Accepts NULL. */
void lp_client_runner_del(struct lp_client_runner *r);

/* ---- Frame pump: a frame device <-> the runner ------------------------------ */
/*
 * What both clients do with their TAP adapter, written once:
 *
 *   device --read until AGAIN (at most LP_PUMP_RX_MAX)--> send_frame ... flush
 *   session frame (lp_pump_from_relay) --> device write (one frame per write)
 *
 * Every refusal is counted in the pump's drops and logged rate-limited,
 * every forwarded frame is logged at TRACE; two timers run, the status
 * period and the poll of the device's IPv4 address (DHCP runs elsewhere).
 * Device errors, one policy on every platform: a failed write drops that
 * frame (queue_full for LP_ERR_AGAIN, else io); a failed read is counted
 * (io) and logged, and LP_PUMP_DEAD_READS of them in a row, with no frame
 * and no LP_ERR_AGAIN between, mean the device is gone (disabled, deleted,
 * driver removed): the pump lets go of it, logs an ERROR and calls
 * cbs->dead. A timer that cannot be armed is logged and armed again at the
 * next flush. The gateway reads recvmmsg batches: it uses the session half
 * alone (lp_pump_to_relay, lp_pump_flush, the status period).
 */
#define LP_PUMP_RX_MAX 64    /* frames per readiness callback before yielding */
#define LP_PUMP_DEAD_READS 8 /* failed reads in a row that mean the device is gone */
#define LP_PUMP_ADDR_POLL_DEFAULT LP_NS_PER_SEC

struct lp_pump;

/* A frame device (a TAP adapter), as the pump drives it. */
struct lp_pump_dev_ops {
	/* One frame into buf: its length, LP_ERR_AGAIN (none waiting),
	 * LP_ERR_TRUNCATED (it did not fit: lost), or another negative error. */
	ssize_t (*read)(void *dev, uint8_t *buf, size_t cap);
	/* One frame: len, LP_ERR_AGAIN (queue full), or another negative error. */
	ssize_t (*write)(void *dev, const uint8_t *frame, size_t len);
	/* The first IPv4 address as text ("" when none): 0 or a negative error.
	 * NULL: no address poll. */
	int (*ipv4)(void *dev, char *out, size_t cap);
	/* Optional: writes what write() held back to coalesce (lp_tap_flush);
	 * returns the frames lost doing it. Called by lp_pump_frames_end. */
	uint64_t (*flush)(void *dev);
};

struct lp_pump_cbs {
	/* The status period passed, or the device's address changed. */
	void (*status)(void *user);
	/* The device is gone (see above); the pump no longer watches it. */
	void (*dead)(void *user, int err);
};

struct lp_pump_cfg {
	uint64_t status_interval_ns; /* 0: 10 s; UINT64_MAX: no status timer */
	uint64_t addr_poll_ns;       /* 0: LP_PUMP_ADDR_POLL_DEFAULT */
};

/*
 * Creates the pump on loop (borrowed) and arms the status timer; no device
 * yet. cbs is kept by pointer (static storage). Errors: LP_ERR_INVAL,
 * LP_ERR_NOMEM.
 */
int lp_pump_new(struct lp_loop *loop, const struct lp_pump_cfg *cfg, const struct lp_pump_cbs *cbs,
                void *user, const struct lp_logger *log, struct lp_pump **out) LP_WUR;
/* Detaches the device, cancels the timers, frees. Accepts NULL. */
void lp_pump_del(struct lp_pump *p);
/* The runner frames go to (NULL: frames are dropped as not_ready). */
void lp_pump_set_runner(struct lp_pump *p, struct lp_client_runner *r);

/*
 * Starts pumping dev (ops kept by pointer, dev borrowed until
 * lp_pump_detach), called name in log lines (copied; NULL: "TAP"):
 * watches src (lp_tap_get_handle) for reads, arms the address poll and
 * drains what the device queued meanwhile. Until then frames of the
 * session are dropped as not_ready. Errors: LP_ERR_INVAL (NULL, or a
 * device already attached) and those of lp_loop_watch.
 */
int lp_pump_attach(struct lp_pump *p, const struct lp_pump_dev_ops *ops, void *dev, intptr_t src,
                   const char *name) LP_WUR;
/* Stops watching the device and polling its address; no-op without one. */
void lp_pump_detach(struct lp_pump *p);
/* Cancels both timers (shutdown began); frames still flow. */
void lp_pump_stop_timers(struct lp_pump *p);

/* A frame of the session for the device: the runner's frame callback. */
void lp_pump_from_relay(struct lp_pump *p, const uint8_t *frame, size_t len);
/* The runner's frames_end callback: the device's flush op (frames it lost
 * count as queue_full drops). */
void lp_pump_frames_end(struct lp_pump *p);
/*
 * Backpressure: the pump stops reading the device while the session's
 * datagram queue is full (lp_client_datagram_room 0), so a TSO burst
 * waits in the device instead of being dropped as queue_full, and
 * lp_pump_writable (the runner's writable callback) resumes it once the
 * queue has room. lp_pump_pauses counts the pauses.
 */
void lp_pump_writable(struct lp_pump *p);
uint64_t lp_pump_pauses(const struct lp_pump *p) LP_WUR;
/*
 * One frame for the session (no flush): LP_DROP_NONE when queued, else the
 * reason it was dropped - not_ready (no session), too_big, queue_full,
 * malformed (counted by the session itself, except not_ready, which the
 * pump counts). Logs the drop rate-limited unless log_drops is false (a
 * caller with its own drop line).
 */
enum lp_drop_reason lp_pump_to_relay(struct lp_pump *p, const uint8_t *frame, size_t len,
                                     bool log_drops);
/* Writes what lp_pump_to_relay queued (lp_client_runner_flush). */
void lp_pump_flush(struct lp_pump *p);
/* Learns LAN IPv4 addresses from one frame (lp_lanip_observe); the pump
 * does it for every frame of lp_pump_to_relay, the owner for the frames of
 * the session (whoever writes them to the device). */
void lp_pump_learn(struct lp_pump *p, const uint8_t *frame, size_t len);
/* The addresses learned so far (for the status document). */
const struct lp_lanip *lp_pump_lanip(const struct lp_pump *p) LP_WUR;

/* Counts a frame its owner dropped (the gateway's LAN side) with the pump's. */
void lp_pump_count_drop(struct lp_pump *p, enum lp_drop_reason reason);
/* What the pump dropped itself (indexed by enum lp_drop_reason). */
const uint64_t *lp_pump_drops(const struct lp_pump *p) LP_WUR;
/* The runner's current session (NULL without runner or while reconnecting). */
struct lp_client *lp_pump_session(const struct lp_pump *p) LP_WUR;
/*
 * The pump's line for a frame, also for an owner's own drops: the frame
 * event of lib/obs with whole_len as its length (the wire length of a cut
 * copy, never the copy's), the VLAN id when tagged, the datagram budget
 * for too_big. Forwarded (LP_DROP_NONE): TRACE. Dropped: DEBUG for
 * not_ready and loop, INFO otherwise, rate-limited (too_big apart).
 */
void lp_pump_log_frame(struct lp_pump *p, enum lp_obs_dir dir, const uint8_t *frame, size_t len,
                       size_t whole_len, enum lp_drop_reason reason);

#endif /* LP_CLIENT_H */
