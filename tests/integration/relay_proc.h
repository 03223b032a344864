/*
 * relay_proc.h - end-to-end test and benchmark plumbing around the real
 * lanparty-relay binary:
 *
 *  - struct rp_relay: the relay as a child process on a free loopback port,
 *    with its development certificate (DER) and Prometheus endpoint in a
 *    temporary directory, stderr captured to a file the test can grep.
 *  - struct rp_world / struct rp_peer: peers of that relay in the test
 *    process, each on its own UDP socket of 127.0.0.1, pumped by one poll()
 *    loop. A peer is either a real lib/client-core session (struct
 *    lp_client) or a "raw" peer: a bare lib/quic connection whose control
 *    messages and datagrams the test writes byte by byte (hellos the session
 *    refuses to send, garbage datagrams, a peer that vanishes).
 *
 * Frames built with rp_frame_build carry a 32-bit tag in their last four
 * bytes; every peer records the tags of the frames it receives, so a test
 * can tell exactly which frame reached whom.
 *
 * The relay binary comes from the environment variable LP_RELAY_BIN (set by
 * meson). Everything runs on 127.0.0.1 only. Not thread-safe; one world per
 * thread.
 */
#ifndef LP_TEST_RELAY_PROC_H
#define LP_TEST_RELAY_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lp_client.h"
#include "lp_ctrl.h"
#include "lp_quic.h"

/* ---- The relay process ----------------------------------------------------- */

struct rp_relay {
	pid_t pid;
	uint16_t port;         /* UDP, 127.0.0.1 */
	uint16_t metrics_port; /* TCP, 127.0.0.1 */
	char dir[64];          /* temporary directory (removed by rp_relay_stop) */
	char der_path[128];    /* --dev-cert-der-out */
	char log_path[128];    /* the relay's stderr */
	char state_dir[128];   /* --state-dir (a later --state-dir in extra_args wins) */
	struct sockaddr_storage addr;
};

/*
 * Starts $LP_RELAY_BIN --listen 127.0.0.1:<free port> --dev-cert-der-out
 * <dir>/relay.der --metrics-listen 127.0.0.1:<free port> --status-interval 0
 * --state-dir <dir>/state followed by extra_args (NULL-terminated list, may be NULL), and waits
 * (up to 15 s) until the DER file exists and the metrics port accepts
 * connections (bound after the UDP socket).
 * Retries with other ports when the relay could not bind. The child gets
 * SIGKILL if the test process dies. Returns 0, or -1 with a message on
 * stderr.
 */
int rp_relay_start(struct rp_relay *r, const char *const *extra_args);
/* SIGTERM, waits up to 5 s (then SIGKILL), reaps, removes the temporary
 * files. Returns the exit status (0 for a clean shutdown), 128 + signal
 * when it had to be killed or died from a signal, -1 when not running. */
int rp_relay_stop(struct rp_relay *r);
/* Occurrences of needle in the relay's log so far. */
size_t rp_relay_log_count(const struct rp_relay *r, const char *needle);
/* GET /metrics into buf (NUL-terminated body). Returns 0 or -1. */
int rp_relay_metrics(const struct rp_relay *r, char *buf, size_t cap);
/* The value of the sample `key` (metric name with its labels exactly as
 * exposed, e.g. lanparty_relay_drops_total{reason="jumbo"}) in a metrics
 * text; UINT64_MAX when absent. */
uint64_t rp_metric_parse(const char *text, const char *key);
/* Fetch + parse; UINT64_MAX when the fetch failed or the key is absent. */
uint64_t rp_relay_metric(const struct rp_relay *r, const char *key);
/* utime + stime of a process, in nanoseconds (from /proc/<pid>/stat); 0 on
 * error. Resolution: one clock tick. */
uint64_t rp_proc_cpu_ns(pid_t pid);

/* ---- Peers ------------------------------------------------------------------ */

#define RP_PEERS_MAX 1100 /* bench/relay_scale drives 1,000 */
#define RP_EVENTS_MAX 64
#define RP_MSGS_MAX 32
#define RP_TAGS_MAX 16384
#define RP_TAG_NONE UINT32_MAX

enum rp_kind { RP_SESSION = 0, RP_RAW };

/* A recorded session event (lp_client_event without its pointers). */
struct rp_event {
	enum lp_client_event_type type;
	int err;
	bool gateway_present;
	bool peer_known;
	struct lp_client_peer peer;
	char peer_reason[LP_CTRL_TEXT_MAX + 1];
	struct lp_ctrl_welcome welcome; /* WELCOME */
	struct lp_ctrl_reject reject;   /* REJECTED / CLOSED after a reject */
	char text[LP_CLIENT_TEXT_MAX];
};

struct rp_world;

struct rp_peer {
	struct rp_world *w;
	enum rp_kind kind;
	char name[32];
	struct lp_udp *udp;
	struct lp_quic_path path;
	struct lp_client *s;         /* RP_SESSION */
	struct lp_quic_conn *qc;     /* RP_RAW */
	struct lp_ctrl_decoder *dec; /* RP_RAW: control stream from the relay */
	bool frozen;                 /* not pumped any more: the peer "vanished" */
	bool done;                   /* session CLOSED / raw connection closed */

	/* RP_SESSION */
	struct rp_event ev[RP_EVENTS_MAX];
	size_t nev;

	/* RP_RAW */
	bool established;
	struct lp_ctrl_msg msgs[RP_MSGS_MAX];
	size_t nmsgs;
	int ctrl_err; /* decoder error on the relay's stream, 0 if none */
	bool closed;
	int close_err;
	uint64_t close_app;
	char close_reason[LP_CTRL_TEXT_MAX + 1];

	/* Frames received (both kinds). */
	uint64_t frames;
	uint64_t frame_bytes;
	uint64_t bad_datagrams; /* raw: overlay that failed to decode */
	uint32_t tags[RP_TAGS_MAX];
	size_t ntags; /* recorded tags (the first RP_TAGS_MAX) */
	bool record_tags;
	/* Sessions: frames the relay marked FROM_GATEWAY, and the last
	 * datagram as it arrived (before it was opened). */
	uint64_t from_gateway;
	uint8_t last_dg[2048];
	size_t last_dg_len;
};

struct rp_world {
	const struct rp_relay *relay;
	struct lp_quic_ctx *ctx; /* client context pinned to the relay's DER */
	struct rp_peer *peers[RP_PEERS_MAX];
	size_t npeers;
	uint8_t *tx;
	uint8_t *rxmem;
	struct lp_logger *log;  /* RP_DEBUG=1 in the environment: stderr */
	uint64_t pmtud_wait_ns; /* for sessions made after it is set; 0: the default 1 s */
};

/* Client context pinned to the relay's certificate (keepalive 500 ms so a
 * relay started with a short --idle-timeout keeps idle test peers). */
int rp_world_init(struct rp_world *w, const struct rp_relay *relay);
/* Deletes every peer (without sending) and the context. */
void rp_world_free(struct rp_world *w);

/*
 * A lib/client-core session (pmtud wait default, no stats) for role, room
 * and MAC ("02:..."); ctx NULL: the world's pinned context. NULL on error
 * (message on stderr). The session connects on the next pumps.
 */
struct rp_peer *rp_session_new(struct rp_world *w, const char *name, enum lp_role role,
                               const char *room, const char *mac, struct lp_quic_ctx *ctx);
/* The same for a private room: keys from an invite or a room file (the
 * gateway also needs host_seed). */
struct rp_peer *rp_session_new_private(struct rp_world *w, const char *name, enum lp_role role,
                                       const struct lp_room_keys *keys, const uint8_t *host_seed,
                                       const char *mac, struct lp_quic_ctx *ctx);
/* A bare QUIC connection to the relay; nothing is sent on the control
 * stream until the test does. */
struct rp_peer *rp_raw_new(struct rp_world *w, const char *name);
/* Removes p from the world and frees it (no packets sent). */
void rp_peer_del(struct rp_peer *p);

/* Raw peer: a hello built from the arguments (encoded by lib/ctrl). */
int rp_raw_hello(struct rp_peer *p, enum lp_role role, const char *room, const char *mac,
                 uint32_t budget);
/* Raw peer: one control frame with this JSON body, byte for byte (the
 * 4-byte length prefix is added). */
int rp_raw_ctrl_json(struct rp_peer *p, const char *json);
/* Raw peer: one control message (encoded by lib/ctrl, validation included). */
int rp_raw_ctrl_msg(struct rp_peer *p, const struct lp_ctrl_msg *m);
/* Raw peer: one QUIC DATAGRAM with exactly these bytes. */
int rp_raw_datagram(struct rp_peer *p, const uint8_t *data, size_t len);
/* Raw peer: the first control message of a type received, or NULL. */
const struct lp_ctrl_msg *rp_raw_msg(const struct rp_peer *p, enum lp_ctrl_type type);

/* Session or raw: one Ethernet frame (raw: overlay-encoded). Returns 0 or
 * the lp error (LP_ERR_AGAIN when the datagram queue is full). */
int rp_send_frame(struct rp_peer *p, const uint8_t *frame, size_t len);
/* Same, pumping the world while the queue is full (up to timeout_ns). */
int rp_send_frame_wait(struct rp_peer *p, const uint8_t *frame, size_t len, uint64_t timeout_ns);

/* The nth (0-based) recorded session event of a type, or NULL. */
const struct rp_event *rp_event_find(const struct rp_peer *p, enum lp_client_event_type type,
                                     size_t nth);
size_t rp_event_count(const struct rp_peer *p, enum lp_client_event_type type);
bool rp_admitted(const struct rp_peer *p);
bool rp_has_tag(const struct rp_peer *p, uint32_t tag);

/* Runs the world: reads every peer's socket, feeds the sessions and raw
 * connections, handles their timers and writes what they have to send,
 * until cond(arg) is true (checked after every round) or timeout_ns passed.
 * cond NULL: run for the whole timeout. Returns cond's last value (true
 * when cond is NULL). */
bool rp_pump(struct rp_world *w, uint64_t timeout_ns, bool (*cond)(void *arg), void *arg);
/* Pumps until every listed peer is admitted (welcome / raw: welcome
 * message) or closed; true when all were admitted. */
bool rp_pump_admitted(struct rp_world *w, uint64_t timeout_ns, struct rp_peer *const *peers,
                      size_t n);
/* Pumps until the peer is closed (session CLOSED event / raw closed). */
bool rp_pump_closed(struct rp_world *w, struct rp_peer *p, uint64_t timeout_ns);

/* ---- Frames -------------------------------------------------------------------- */

/* Fills buf[0..len) (len >= 18): dst, src, ethertype, a payload pattern,
 * and tag in the last four bytes (big-endian). */
void rp_frame_build(uint8_t *buf, size_t len, const char *dst, const char *src, uint16_t ethertype,
                    uint32_t tag);
/* The tag of a received frame (its last four bytes); RP_TAG_NONE if < 18. */
uint32_t rp_frame_tag(const uint8_t *frame, size_t len);

#endif /* LP_TEST_RELAY_PROC_H */
