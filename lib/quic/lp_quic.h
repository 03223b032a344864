/*
 * lp_quic.h - QUIC plumbing shared by the relay and every client: ngtcp2
 * 0.12 glue behind a small TLS backend interface (GnuTLS on Linux, wolfSSL
 * for the Windows build), sans-I/O connections, a server-side connection
 * map, and batched UDP socket I/O.
 *
 * Connections are sans-I/O: packets in (lp_quic_conn_read), packets out
 * (lp_quic_conn_write), and a timer (lp_quic_conn_expiry /
 * lp_quic_conn_handle_expiry). They own no socket and no clock: every call
 * takes `now` in nanoseconds of a monotonic clock.
 *
 * Each connection carries:
 *  - one control stream: the first client-initiated bidirectional stream
 *    (id 0). Bytes sent with lp_quic_conn_stream_send are copied and kept
 *    until acknowledged; bytes received are handed to the stream_data
 *    callback in order. Any other stream is refused (STOP_SENDING/RESET).
 *  - QUIC DATAGRAM frames (RFC 9221): lp_quic_conn_datagram_send copies the
 *    datagram into a bounded flow queue (dgq.h: sparse flows first, CoDel
 *    per flow); lp_quic_conn_write drains it as congestion control allows.
 *
 * Callbacks run inside lp_quic_conn_read / lp_quic_server_read /
 * lp_quic_conn_handle_expiry. They may queue (stream_send, datagram_send,
 * close) but the actual packet writing happens in lp_quic_conn_write.
 */
#ifndef LP_QUIC_H
#define LP_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lp_base.h"
#include "lp_net_sys.h"

#define LP_QUIC_ALPN "softlan/1"
/* Largest UDP payload we ever write; write buffers are at least this large
 * per packet (PMTUD probes are skipped otherwise, see the ngtcp2 notes). */
#define LP_QUIC_MAX_UDP_PAYLOAD 1452
/* Largest number of packets one lp_quic_conn_write may coalesce (GSO). */
#define LP_QUIC_MAX_GSO_SEGMENTS 16
#define LP_QUIC_WRITE_BUF_MIN (LP_QUIC_MAX_UDP_PAYLOAD * LP_QUIC_MAX_GSO_SEGMENTS)

/* Application error codes carried in CONNECTION_CLOSE. */
#define LP_QUIC_APP_NO_ERROR 0x0
#define LP_QUIC_APP_REJECTED 0x1  /* admission refused (reject message sent first) */
#define LP_QUIC_APP_PROTOCOL 0x2  /* control protocol violation */
#define LP_QUIC_APP_MALFORMED 0x3 /* too many malformed datagrams */
#define LP_QUIC_APP_SHUTDOWN 0x4  /* peer is shutting down */

/* A relay's pin: SHA-256 of its certificate's SubjectPublicKeyInfo (the
 * key, not the certificate: a renewal that keeps the key keeps the pin). */
#define LP_QUIC_PIN_LEN 32
/* The TLS exporter (RFC 8446 section 7.5, empty context) that binds a room
 * admission proof to one connection. */
#define LP_QUIC_EXPORTER_ADMISSION "EXPORTER-softlan-vpn-admission"
#define LP_QUIC_EXPORTER_LEN 32
/* The development key's file in lp_quic_server_cfg.dev_state_dir. */
#define LP_QUIC_DEV_KEY_FILE "relay-dev-key.pem"

struct lp_quic_ctx;
struct lp_quic_conn;
struct lp_quic_server;

/* ---- Configuration ------------------------------------------------------- */
struct lp_quic_client_cfg {
	/* TLS server name (SNI); also the name checked against ca_file trust.
	 * NULL: no SNI, allowed only with pin_der_file. */
	const char *server_name;
	/* --relay-ca-cert: DER file of the relay's certificate. The handshake
	 * succeeds only if the relay presents exactly this certificate. */
	const char *pin_der_file;
	/* PEM CA bundle; with neither this nor a pin, the system trust store. */
	const char *ca_file;
	/* --relay-pin, or the pin of an invite: the relay's leaf certificate
	 * must carry this key (see LP_QUIC_PIN_LEN). With the pin alone no
	 * chain and no name are checked (the pin is the trust) and
	 * server_name may be NULL; pin_der_file or ca_file, when also given,
	 * must pass as well. */
	bool spki_pin_set;
	uint8_t spki_pin[LP_QUIC_PIN_LEN];
	uint64_t idle_timeout_ns;      /* 0: default 30 s */
	uint64_t keepalive_ns;         /* 0: default 5 s (PING when idle) */
	uint64_t handshake_timeout_ns; /* 0: default 10 s */
	size_t datagram_queue;         /* 0: default 256 datagrams */
};

struct lp_quic_server_cfg {
	/* PEM certificate chain and key. Both NULL: a generated self-signed
	 * development certificate (ECDSA P-256) for dev_cert_names. */
	const char *cert_file;
	const char *key_file;
	/* Comma-separated DNS names / IPs put in a generated certificate's
	 * subjectAltName; NULL: "localhost". */
	const char *dev_cert_names;
	/* Write the generated certificate (DER) here for clients to pin. */
	const char *dev_cert_der_out;
	/* Without cert_file: the development key lives in this existing
	 * directory (LP_QUIC_DEV_KEY_FILE, mode 0600), loaded when present,
	 * generated and saved when not, so the pin survives restarts; the
	 * certificate is made afresh for dev_cert_names at each start. NULL:
	 * a new key every start. */
	const char *dev_state_dir;
	uint64_t idle_timeout_ns; /* 0: default 30 s */
	size_t datagram_queue;    /* 0: default 256 datagrams */
	size_t max_connections;   /* 0: default 4096; Initials beyond are ignored */
	/* Address validation (RFC 9000 8.1): once this many connections are
	 * still handshaking, an Initial without a token is answered with a
	 * stateless Retry (lp_quic_server_stateless_pop) and costs no state;
	 * the client comes back with the token. 0: never. */
	size_t retry_pending;
	/* Per source address (IPv4 /32, IPv6 /64): a source with this many
	 * connections still handshaking gets a Retry for its next token-less
	 * Initial (it must prove its address, like everyone under load); a
	 * source with conns_per_source connections gets nothing more (dropped,
	 * counted in lp_quic_server_source_capped). Sources are counted in 4096
	 * keyed-hash buckets, so two sources sharing one can only be capped
	 * earlier, never later. 0: no cap. */
	size_t pending_per_source;
	size_t conns_per_source;
};

/* ---- Context: TLS credentials and settings shared by connections ------- */

/*
 * Client context. Loads the pin / CA file now, so a missing or unreadable
 * file fails here with a clear message in the log. Errors: LP_ERR_IO
 * (file unreadable), LP_ERR_TLS, LP_ERR_NOMEM, LP_ERR_INVAL.
 */
int lp_quic_ctx_new_client(const struct lp_quic_client_cfg *cfg, const struct lp_logger *log,
                           struct lp_quic_ctx **out) LP_WUR;
/* Server context; generates or loads the certificate. Same errors. */
int lp_quic_ctx_new_server(const struct lp_quic_server_cfg *cfg, const struct lp_logger *log,
                           struct lp_quic_ctx **out) LP_WUR;
/*
 * Server: replace the certificate and key (SIGHUP). New connections use the
 * new pair; established ones keep theirs. On error the old pair stays.
 */
int lp_quic_ctx_reload_cert(struct lp_quic_ctx *ctx, const char *cert_file,
                            const char *key_file) LP_WUR;
/* DER of the server's current certificate (for tests and logs). */
int lp_quic_ctx_cert_der(const struct lp_quic_ctx *ctx, const uint8_t **der, size_t *len) LP_WUR;
/* The pin of the server's current certificate. Errors: LP_ERR_STATE (client
 * context), LP_ERR_INVAL (the certificate does not parse), LP_ERR_TLS. */
int lp_quic_ctx_cert_pin(const struct lp_quic_ctx *ctx, uint8_t pin[LP_QUIC_PIN_LEN]) LP_WUR;

/* ---- Pins ----------------------------------------------------------------- */
/* The SubjectPublicKeyInfo element (tag and length included) inside a DER
 * certificate, pointing into der. Errors: LP_ERR_INVAL, LP_ERR_TRUNCATED. */
int lp_quic_cert_spki(const uint8_t *der, size_t len, const uint8_t **spki,
                      size_t *spki_len) LP_WUR;
/* The pin of a DER certificate. Errors: those of lp_quic_cert_spki, LP_ERR_TLS. */
int lp_quic_cert_pin(const uint8_t *der, size_t len, uint8_t pin[LP_QUIC_PIN_LEN]) LP_WUR;
/* Constant-time comparison of two pins. */
bool lp_quic_pin_equal(const uint8_t a[LP_QUIC_PIN_LEN], const uint8_t b[LP_QUIC_PIN_LEN]);
void lp_quic_ctx_del(struct lp_quic_ctx *ctx);

/* ---- Connections ---------------------------------------------------------- */
enum lp_quic_state {
	LP_QUIC_HANDSHAKING = 0,
	LP_QUIC_ESTABLISHED, /* handshake done, ALPN checked, DATAGRAM negotiated */
	LP_QUIC_CLOSING,     /* we sent CONNECTION_CLOSE */
	LP_QUIC_DRAINING,    /* peer closed; waiting ~3 PTO */
	LP_QUIC_CLOSED       /* done: delete it */
};

struct lp_quic_conn_cbs {
	/* Handshake complete and checked (ALPN, certificate, DATAGRAM). */
	void (*established)(struct lp_quic_conn *c, void *user);
	/* In-order bytes of the control stream. fin: the peer finished it. */
	void (*stream_data)(struct lp_quic_conn *c, const uint8_t *data, size_t len, bool fin,
	                    void *user);
	/* One received QUIC DATAGRAM payload. */
	void (*datagram)(struct lp_quic_conn *c, const uint8_t *data, size_t len, void *user);
	/* The connection reached LP_QUIC_CLOSED or is draining. err: LP_OK for a
	 * clean application close by either side, else LP_ERR_TIMEOUT (idle or
	 * handshake), LP_ERR_CERT, LP_ERR_ALPN, LP_ERR_TLS, LP_ERR_NO_DATAGRAM,
	 * LP_ERR_QUIC. app_code/reason: the peer's CONNECTION_CLOSE when it sent one. */
	void (*closed)(struct lp_quic_conn *c, int err, uint64_t app_code, const char *reason,
	               void *user);
};

/* The path of a packet: both socket addresses. */
struct lp_quic_path {
	struct sockaddr_storage local;
	struct sockaddr_storage remote;
};

struct lp_quic_conn_info {
	enum lp_quic_state state;
	uint64_t smoothed_rtt_ns;
	uint64_t min_rtt_ns;
	uint64_t cwnd;
	size_t datagram_budget;         /* lp_quic_conn_datagram_budget */
	size_t max_udp_payload;         /* current path, after PMTUD */
	bool pmtud_done;                /* PMTUD has settled (or was given up) */
	uint64_t datagrams_sent;        /* DATAGRAM frames written into packets */
	uint64_t datagrams_lost;        /* DATAGRAM frames declared lost */
	uint64_t datagrams_queue_drops; /* the queue was full: refused, or the
	                                 * largest flow's oldest dropped for room */
	uint64_t datagrams_codel_drops; /* waited too long (CoDel, 5 ms / 100 ms) */
	uint64_t datagrams_unsendable;  /* too big for the path or the peer */
	size_t datagrams_queued;        /* waiting now */
	size_t datagram_queue_mem;      /* bytes the queue holds now */
	uint64_t stream_unacked;        /* control-stream bytes queued, not yet acknowledged */
};

/*
 * Client: starts a connection to path->remote (path->local is the bound
 * socket address, may be a wildcard). Errors: LP_ERR_NOMEM, LP_ERR_TLS,
 * LP_ERR_QUIC, LP_ERR_STATE (server context).
 */
int lp_quic_conn_connect(struct lp_quic_ctx *ctx, const struct lp_quic_path *path,
                         const struct lp_quic_conn_cbs *cbs, void *user, uint64_t now,
                         struct lp_quic_conn **out) LP_WUR;

/*
 * Feeds one received UDP payload. Returns 0, or LP_ERR_CLOSED when the
 * connection is now closing/draining/closed (the closed callback has run).
 * Garbage that ngtcp2 drops is not an error.
 */
int lp_quic_conn_read(struct lp_quic_conn *c, const struct lp_quic_path *path, const uint8_t *pkt,
                      size_t len, uint64_t now) LP_WUR;

/*
 * Writes pending packets into buf (cap >= LP_QUIC_WRITE_BUF_MIN): as many
 * as the send quantum allows, coalesced for UDP GSO: every packet is
 * *gso_size bytes except possibly the last. Returns the total number of
 * bytes (0: nothing to send now), or LP_ERR_CLOSED. *path_out receives the
 * path to send on. Call until it returns 0.
 */
ssize_t lp_quic_conn_write(struct lp_quic_conn *c, uint8_t *buf, size_t cap, size_t *gso_size,
                           struct lp_quic_path *path_out, uint64_t now) LP_WUR;

/* Next deadline (ns, same clock as now); UINT64_MAX if none. */
uint64_t lp_quic_conn_expiry(const struct lp_quic_conn *c);
/* Runs timers due at now. Returns 0 or LP_ERR_CLOSED (closed callback ran). */
int lp_quic_conn_handle_expiry(struct lp_quic_conn *c, uint64_t now) LP_WUR;

/*
 * Queues bytes on the control stream (copied; kept until acknowledged).
 * Client: opens stream 0 on first use. Errors: LP_ERR_STATE (not
 * established or closing), LP_ERR_NOMEM.
 */
int lp_quic_conn_stream_send(struct lp_quic_conn *c, const uint8_t *data, size_t len) LP_WUR;

/*
 * Queues one DATAGRAM payload (copied) on the connection's flow queue
 * (dgq.h: flows by the carried frame's 5-tuple, sparse flows first, CoDel
 * per flow). A full queue makes room by dropping the oldest datagram of
 * its largest flow, counted; a datagram of that largest flow itself is
 * refused: LP_ERR_AGAIN (counted). A sender that must not lose anything
 * waits for lp_quic_conn_datagram_room. Errors: LP_ERR_TOO_BIG (len >
 * current datagram budget: never fragment), LP_ERR_AGAIN, LP_ERR_STATE
 * (not established), LP_ERR_NO_DATAGRAM, LP_ERR_NOMEM, LP_ERR_INVAL (len 0).
 */
int lp_quic_conn_datagram_send(struct lp_quic_conn *c, const uint8_t *data, size_t len) LP_WUR;

/*
 * The largest DATAGRAM payload that fits one packet on the current path:
 * path max UDP payload - short header (1 + DCID len + 4 pn + 16 tag) - frame
 * overhead (type + length varint), bounded by the peer's
 * max_datagram_frame_size. 0 before the handshake completes.
 */
size_t lp_quic_conn_datagram_budget(const struct lp_quic_conn *c);
/* Datagrams lp_quic_conn_datagram_send can queue now before the queue is
 * full (0 when not established): a sender that can wait (the client's
 * TAP) stops reading while it is 0 and resumes after lp_quic_conn_write. */
size_t lp_quic_conn_datagram_room(const struct lp_quic_conn *c);

/*
 * Starts a graceful close with an application error code and reason text.
 * Pending control-stream bytes are flushed first when possible (call
 * lp_quic_conn_write afterwards as usual); the closed callback runs once
 * the connection is done.
 */
void lp_quic_conn_close(struct lp_quic_conn *c, uint64_t app_code, const char *reason);

void lp_quic_conn_info(const struct lp_quic_conn *c, struct lp_quic_conn_info *out);
/*
 * The TLS exporter of the connection (RFC 8446 section 7.5, empty context):
 * len bytes for label, the same on both ends of this connection only.
 * Errors: LP_ERR_STATE (handshake not completed), LP_ERR_INVAL, LP_ERR_TLS.
 */
int lp_quic_conn_exporter(const struct lp_quic_conn *c, const char *label, uint8_t *out,
                          size_t len) LP_WUR;
/*
 * Server: drops the connection's TLS session once its owner needs nothing
 * more from it than the admission exporter (LP_QUIC_EXPORTER_ADMISSION,
 * LP_QUIC_EXPORTER_LEN bytes, kept here): about 10 KiB of GnuTLS state per
 * idle peer. ngtcp2 keeps the packet keys, key updates included.
 * Afterwards lp_quic_conn_exporter answers that label and length only
 * (others: LP_ERR_STATE), and CRYPTO data from the peer (TLS 1.3 over QUIC
 * has no post-handshake message from a client) closes the connection.
 * Returns 0 (also when already dropped), LP_ERR_STATE (a client, or the
 * handshake not completed), or the exporter's error (the session is kept).
 */
int lp_quic_conn_shed_tls(struct lp_quic_conn *c) LP_WUR;
/* Client: the pin of the certificate the relay presented and our checks
 * accepted (for an invite: the pin --ca-file trust verified). LP_ERR_STATE
 * before the handshake completed. */
int lp_quic_conn_peer_pin(const struct lp_quic_conn *c, uint8_t pin[LP_QUIC_PIN_LEN]) LP_WUR;
/* The peer's address on the current path. LP_ERR_STATE when unknown. */
int lp_quic_conn_remote(const struct lp_quic_conn *c, struct sockaddr_storage *out) LP_WUR;
enum lp_quic_state lp_quic_conn_state(const struct lp_quic_conn *c);
/* cbs is kept by pointer (use static storage); NULL silences the connection. */
void lp_quic_conn_set_user(struct lp_quic_conn *c, const struct lp_quic_conn_cbs *cbs, void *user);
void *lp_quic_conn_user(const struct lp_quic_conn *c);
/* Frees a client connection (a server's connections are freed by the server). */
void lp_quic_conn_del(struct lp_quic_conn *c);

/* ---- Server: accepts connections and routes packets by connection ID ---- */
struct lp_quic_server_cbs {
	/* A new connection was accepted; set its callbacks with
	 * lp_quic_conn_set_user. Return non-zero to refuse it. */
	int (*accept)(struct lp_quic_server *s, struct lp_quic_conn *c, void *user);
};

int lp_quic_server_new(struct lp_quic_ctx *ctx, const struct lp_quic_server_cbs *cbs, void *user,
                       struct lp_quic_server **out) LP_WUR;
/*
 * Routes one received UDP payload to its connection (by destination
 * connection ID), or accepts a new connection for a valid Initial. Sends
 * nothing itself. *conn_out (may be NULL) gets the connection that consumed
 * the packet, NULL when it was dropped. Never fails on bad input: garbage
 * is dropped and counted. Returns 0, or LP_ERR_NOMEM.
 */
int lp_quic_server_read(struct lp_quic_server *s, const struct lp_quic_path *path,
                        const uint8_t *pkt, size_t len, uint64_t now,
                        struct lp_quic_conn **conn_out) LP_WUR;
/* Earliest deadline over all connections. */
uint64_t lp_quic_server_expiry(const struct lp_quic_server *s);
/* Runs due timers of every connection; connections that reach CLOSED are
 * freed after their closed callback. */
void lp_quic_server_handle_expiry(struct lp_quic_server *s, uint64_t now);
/*
 * Iterates connections that may have something to write (queued data,
 * timers that fired, freshly read packets): calls fn for each; fn calls
 * lp_quic_conn_write until 0. Connections that reached CLOSED are freed
 * after the iteration.
 */
void lp_quic_server_foreach_pending(struct lp_quic_server *s,
                                    void (*fn)(struct lp_quic_conn *c, void *arg), void *arg);
/* Number of live connections; packets dropped as garbage so far. */
size_t lp_quic_server_conn_count(const struct lp_quic_server *s);
uint64_t lp_quic_server_dropped(const struct lp_quic_server *s);
/* Connections still in their handshake; Retry packets queued so far;
 * Initials dropped for an invalid or expired token. */
size_t lp_quic_server_handshaking(const struct lp_quic_server *s);
uint64_t lp_quic_server_retries(const struct lp_quic_server *s);
uint64_t lp_quic_server_bad_tokens(const struct lp_quic_server *s);
uint64_t lp_quic_server_source_capped(const struct lp_quic_server *s);
/*
 * Appends the counters above as Prometheus text (HELP, TYPE and value of
 * lanparty_relay_quic_{connections,handshaking,retries_total,
 * bad_tokens_total,source_capped_total,dropped_packets_total}) to buf.
 * Returns the bytes written or LP_ERR_NOBUF (nothing usable written).
 */
ssize_t lp_quic_server_metrics_write(const struct lp_quic_server *s, char *buf, size_t cap) LP_WUR;
/*
 * Stateless packets (Retry) lp_quic_server_read queued, oldest first: copies
 * one into buf (cap >= 256) with the path to send it on and returns its
 * length; 0 when none is left. The queue is short (16): a full queue drops
 * the Retry (the client resends its Initial). Call after reading a batch.
 */
ssize_t lp_quic_server_stateless_pop(struct lp_quic_server *s, uint8_t *buf, size_t cap,
                                     struct lp_quic_path *path) LP_WUR;
/* Closes every connection with app_code/reason (shutdown). */
void lp_quic_server_close_all(struct lp_quic_server *s, uint64_t app_code, const char *reason);
void lp_quic_server_del(struct lp_quic_server *s);

/* ---- UDP sockets with batching ------------------------------------------
 * Linux: recvmmsg + UDP_GRO in, UDP_SEGMENT (GSO) out, IP_PKTINFO /
 * IPV6_RECVPKTINFO for the local address of each packet. Other platforms:
 * one datagram per call behind the same interface.
 */
struct lp_udp;

struct lp_udp_rx {
	uint8_t *data; /* caller-provided buffer */
	size_t cap;
	size_t len;               /* bytes received (possibly several GRO segments) */
	size_t segment_size;      /* GRO: every segment is this long but the last; 0 = one */
	struct lp_quic_path path; /* remote = sender, local = our address it hit */
};

/* Opens a non-blocking UDP socket bound to addr (dual-stack for ::).
 * Errors: LP_ERR_IO (errno preserved), LP_ERR_INVAL. */
int lp_udp_open(const struct sockaddr *addr, struct lp_udp **out) LP_WUR;
/* The socket's descriptor for an event loop (SOCKET on Windows). */
intptr_t lp_udp_fd(const struct lp_udp *u);
/* The bound address (with the kernel-chosen port). */
int lp_udp_local(const struct lp_udp *u, struct sockaddr_storage *out) LP_WUR;
/* Receives up to n datagrams without blocking. Returns how many (0: none
 * ready), or LP_ERR_IO. Truncated datagrams are dropped and counted; to
 * skip them without copying, the entries' data/cap buffers may be swapped
 * among the n entries (all stay the caller's). Use a cap of 65535 for GRO. */
int lp_udp_recv(struct lp_udp *u, struct lp_udp_rx *rx, size_t n) LP_WUR;
/* Sends len bytes as one datagram, or as len/gso_size segments with GSO
 * (emulated with one send per segment when the kernel lacks it). Returns 0,
 * LP_ERR_AGAIN (socket buffer full: packets dropped, QUIC recovers), LP_ERR_IO. */
int lp_udp_send(struct lp_udp *u, const struct lp_quic_path *path, const uint8_t *buf, size_t len,
                size_t gso_size) LP_WUR;
uint64_t lp_udp_truncated(const struct lp_udp *u);
void lp_udp_close(struct lp_udp *u);

#endif /* LP_QUIC_H */
