/*
 * lp_ctrl.h - the reliable control plane: every control message as a
 * validated C struct, and length-prefixed JSON framing for a QUIC stream.
 *
 * Wire form of one control frame:
 *   bytes 0-3   length N of the JSON text, big-endian, 1 <= N <= LP_CTRL_FRAME_MAX
 *   bytes 4..   N bytes of UTF-8 JSON: one object with a "type" member
 *
 * Jansson is used only inside this library; callers see C structs that
 * have passed validation (types, ranges, required fields, version).
 */
#ifndef LP_CTRL_H
#define LP_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lp_base.h"
#include "lp_obs.h"
#include "lp_proto.h"

#define LP_CTRL_VERSION 1
#define LP_CTRL_PREFIX_LEN 4
#define LP_CTRL_FRAME_MAX 16384u /* largest JSON body accepted */
#define LP_CTRL_ROOM_MAX 32      /* room code: 1..32 of [A-Za-z0-9_-] */
#define LP_CTRL_TEXT_MAX 200     /* human-readable texts (reject message, reasons) */
#define LP_CTRL_PEER_ID_MAX UINT32_C(0x7fffffff) /* peer ids are 1..this */
#define LP_CTRL_BUDGET_MAX LP_PROTO_PAYLOAD_MAX
/*
 * Caps checked on the raw bytes before Jansson sees them (a linear pre-scan
 * that tracks strings and escapes), so a hostile body costs at most one pass
 * and never a deep recursion or thousands of allocations:
 *   LP_CTRL_JSON_DEPTH     nesting of objects and arrays (ours use 2)
 *   LP_CTRL_JSON_ELEMENTS  values, members and array elements together (the
 *                          pre-scan counts each ',' and ':' outside strings;
 *                          the largest message, a peer_stats with
 *                          LP_CTRL_PEER_STATS_MAX entries of 11 members each,
 *                          has about 1,160; a stats with every drop reason
 *                          about 120; test_ctrl_peer_stats parses the worst case)
 *   LP_CTRL_STATS_MAX      a stats body (the largest valid one, every counter
 *                          and drop reason at 2^63-1, is 1128 bytes with
 *                          today's reasons; the test keeps it under half;
 *                          checked once the type is known, before any member
 *                          is read)
 * Bodies of every type are at most LP_CTRL_FRAME_MAX bytes.
 */
#define LP_CTRL_JSON_DEPTH 8
#define LP_CTRL_JSON_ELEMENTS 2048
#define LP_CTRL_STATS_MAX 4096u
/* Private-room hello fields (binary, unpadded base64url on the wire). */
#define LP_CTRL_ROOM_ID_LEN 16
#define LP_CTRL_KEY_LEN 32 /* verifier V, host key P_H */
#define LP_CTRL_SIG_LEN 64 /* proof, host_proof */

enum lp_ctrl_type {
	LP_CTRL_NONE = 0,
	LP_CTRL_HELLO,       /* peer -> relay, first message */
	LP_CTRL_WELCOME,     /* relay -> peer: admitted */
	LP_CTRL_REJECT,      /* relay -> peer: refused, then close */
	LP_CTRL_PEER_JOINED, /* relay -> peers */
	LP_CTRL_PEER_LEFT,   /* relay -> peers */
	LP_CTRL_STATS,       /* peer -> relay: counters snapshot */
	LP_CTRL_DISCONNECT,  /* peer -> relay: graceful leave with reason */
	LP_CTRL_PEER_STATS   /* relay -> peers: every peer's link and traffic */
};

enum lp_role { LP_ROLE_CLIENT = 1, LP_ROLE_GATEWAY = 2 };

enum lp_ctrl_mode {
	LP_CTRL_MODE_RELAY = 1 /* relay terminates QUIC and forwards frames */
};

/* Machine-readable reject reasons ("snake_case" on the wire). */
enum lp_reject_reason {
	LP_REJECT_BAD_HELLO = 1,    /* hello failed validation */
	LP_REJECT_VERSION,          /* unsupported protocol version */
	LP_REJECT_BAD_ROOM,         /* room code invalid */
	LP_REJECT_GATEWAY_EXISTS,   /* room already has a gateway */
	LP_REJECT_DUPLICATE_MAC,    /* MAC already used in the room */
	LP_REJECT_ROOM_FULL,        /* peers-per-room limit */
	LP_REJECT_TOO_MANY_ROOMS,   /* rooms-per-relay limit */
	LP_REJECT_BUDGET_TOO_SMALL, /* cannot carry the room MTU */
	LP_REJECT_SHUTTING_DOWN,
	LP_REJECT_NOT_ADMITTED, /* private room: any proof failed (one fixed message) */
	LP_REJECT__MAX = LP_REJECT_NOT_ADMITTED
};

/* The private-room part of a hello: everything public (the relay learns
 * no secret), the proofs bound to this connection's TLS exporter. */
struct lp_ctrl_room_proof {
	uint8_t room_id[LP_CTRL_ROOM_ID_LEN];
	uint8_t verifier[LP_CTRL_KEY_LEN];
	uint8_t host[LP_CTRL_KEY_LEN];
	uint8_t proof[LP_CTRL_SIG_LEN];
	bool has_host_proof; /* exactly when role is gateway */
	uint8_t host_proof[LP_CTRL_SIG_LEN];
};

struct lp_ctrl_hello {
	uint32_t version;
	enum lp_role role;
	/* An open room has a code; a private room (private_room set) has an
	 * empty room and the proofs in priv instead. */
	char room[LP_CTRL_ROOM_MAX + 1];
	bool private_room;
	struct lp_ctrl_room_proof priv;
	struct lp_mac mac;
	uint32_t datagram_budget; /* largest overlay datagram this peer's path carries */
	char software[64];        /* optional, e.g. "softlan-vpn 0.1 linux" */
};

struct lp_ctrl_welcome {
	uint32_t version;
	enum lp_ctrl_mode mode;
	uint32_t peer_id;
	uint32_t mtu;         /* effective room MTU (interface MTU) */
	bool gateway_present; /* the room has a LAN gateway right now */
};

struct lp_ctrl_reject {
	enum lp_reject_reason reason;
	char message[LP_CTRL_TEXT_MAX + 1];
};

/* peer_joined and peer_left. */
struct lp_ctrl_peer {
	uint32_t peer_id;
	enum lp_role role;
	struct lp_mac mac;
	char reason[LP_CTRL_TEXT_MAX + 1]; /* peer_left only; "" otherwise */
};

struct lp_ctrl_stats {
	struct lp_counters counters;
};

struct lp_ctrl_disconnect {
	char reason[LP_CTRL_TEXT_MAX + 1];
};

/*
 * peer_stats: the relay's view of every peer of the room, sent to each
 * peer every few seconds and when someone joins. At most
 * LP_CTRL_PEER_STATS_MAX entries (the gateway first, then in join order),
 * which keeps the largest encoding below LP_CTRL_FRAME_MAX; peers_total
 * says how many peers the room holds, so a longer room shows as truncated.
 */
#define LP_CTRL_PEER_STATS_MAX 48
#define LP_CTRL_PEERS_TOTAL_MAX 65535u
#define LP_CTRL_RTT_US_MAX UINT64_C(600000000) /* 10 minutes: nothing real is slower */

struct lp_ctrl_peer_stat {
	uint32_t peer_id;
	enum lp_role role;
	struct lp_mac mac;
	/* The relay's QUIC RTT estimator towards this peer, microseconds; 0 =
	 * no sample yet. rtt_min_us <= rtt_us unless one of them is 0. */
	uint64_t rtt_us;     /* smoothed */
	uint64_t rtt_min_us; /* minimum */
	/* Relay -> peer DATAGRAMs QUIC sent and declared lost (lost <= sent). */
	uint64_t dg_sent;
	uint64_t dg_lost;
	/* Counted by the relay, named from the peer's side: tx = frames the
	 * peer sent into the room, rx = frames the relay delivered to it. */
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_frames, rx_bytes;
};

struct lp_ctrl_peer_stats {
	uint32_t peers_total; /* peers in the room, >= count */
	uint32_t count;       /* entries below, 0..LP_CTRL_PEER_STATS_MAX */
	struct lp_ctrl_peer_stat peers[LP_CTRL_PEER_STATS_MAX];
};

struct lp_ctrl_msg {
	enum lp_ctrl_type type;
	union {
		struct lp_ctrl_hello hello;
		struct lp_ctrl_welcome welcome;
		struct lp_ctrl_reject reject;
		struct lp_ctrl_peer peer;
		struct lp_ctrl_stats stats;
		struct lp_ctrl_disconnect disconnect;
		struct lp_ctrl_peer_stats peer_stats;
	} u;
};

/* ---- Names and validation ----------------------------------------------- */
const char *lp_ctrl_type_name(enum lp_ctrl_type t); /* "hello", ... */
const char *lp_ctrl_role_name(enum lp_role r);      /* "client" / "gateway" */
int lp_ctrl_role_parse(const char *s, enum lp_role *out) LP_WUR;
const char *lp_ctrl_reject_name(enum lp_reject_reason r); /* "duplicate_mac", ... */
int lp_ctrl_reject_parse(const char *s, enum lp_reject_reason *out) LP_WUR;

/* 1..LP_CTRL_ROOM_MAX characters of [A-Za-z0-9_-]. LP_ERR_ROOM_EMPTY,
 * LP_ERR_ROOM_LONG, LP_ERR_ROOM_CHARS. */
int lp_ctrl_room_validate(const char *room) LP_WUR;
/* A peer's MAC must be a valid identity for its role (unicast, non-zero);
 * LP_ERR_ROLE, LP_ERR_ROLE_MAC. */
int lp_ctrl_role_mac_validate(enum lp_role role, const struct lp_mac *mac) LP_WUR;
/* 1..LP_CTRL_PEER_ID_MAX; LP_ERR_PEER_ID. */
int lp_ctrl_peer_id_validate(uint64_t id) LP_WUR;
/* LP_MTU_MIN..LP_MTU_MAX; LP_ERR_MTU_RANGE. */
int lp_ctrl_mtu_validate(uint64_t mtu) LP_WUR;
/* Validates a decoded or about-to-be-encoded message completely. */
int lp_ctrl_msg_validate(const struct lp_ctrl_msg *m) LP_WUR;

/* ---- Encoding ------------------------------------------------------------ */
/*
 * Validates m, then writes prefix + JSON into out. Returns the total length
 * or LP_ERR_NOBUF / a validation error / LP_ERR_NOMEM.
 */
ssize_t lp_ctrl_encode(const struct lp_ctrl_msg *m, uint8_t *out, size_t cap) LP_WUR;

/*
 * Parses one JSON body (without prefix) into a validated message.
 * Errors: LP_ERR_JSON_LIMIT (longer than LP_CTRL_FRAME_MAX, nested deeper
 * than LP_CTRL_JSON_DEPTH, more than LP_CTRL_JSON_ELEMENTS elements, or a
 * stats body longer than LP_CTRL_STATS_MAX), LP_ERR_JSON, LP_ERR_TYPE (unknown "type"),
 * LP_ERR_FIELD_MISSING, LP_ERR_FIELD_TYPE, LP_ERR_FIELD_RANGE, LP_ERR_VERSION, plus the validation
 * errors above. Unknown extra fields are ignored (forward compatibility).
 */
int lp_ctrl_parse_json(const uint8_t *json, size_t len, struct lp_ctrl_msg *out) LP_WUR;

/* ---- Incremental stream decoder ------------------------------------------ */
struct lp_ctrl_decoder {
	uint8_t prefix[LP_CTRL_PREFIX_LEN];
	size_t prefix_have;
	uint32_t body_len;
	size_t body_have;
	int err; /* sticky: once set, every call returns LP_ERR_DECODER_BROKEN */
	uint8_t body[LP_CTRL_FRAME_MAX];
};

void lp_ctrl_decoder_init(struct lp_ctrl_decoder *d);
/* A heap decoder, initialised (NULL: out of memory); free() releases it. */
struct lp_ctrl_decoder *lp_ctrl_decoder_new(void) LP_WUR;
/* True when d holds no part of a frame (between messages), so an owner may
 * free it and start a new one with the next byte. */
bool lp_ctrl_decoder_idle(const struct lp_ctrl_decoder *d) LP_WUR;

/*
 * Feeds stream bytes. Consumes at most the bytes of one frame and never
 * reads past it. Returns the number of bytes consumed (>= 0); when a whole
 * frame completed, *out is filled and out->type != LP_CTRL_NONE, otherwise
 * out->type == LP_CTRL_NONE and more bytes are needed. Call again with the
 * remaining bytes until they are all consumed.
 * Errors (the decoder then stays broken): LP_ERR_FRAME_LEN (prefix 0 or
 * above LP_CTRL_FRAME_MAX), and every error of lp_ctrl_parse_json.
 */
ssize_t lp_ctrl_decoder_feed(struct lp_ctrl_decoder *d, const uint8_t *data, size_t len,
                             struct lp_ctrl_msg *out) LP_WUR;

/* ---- Client identity file ------------------------------------------------
 * The client's persistent tunnel MAC, kept in a small JSON file
 * (LP_CTRL_IDENTITY_FILE by default, in the working directory):
 *   {"version":1,"mac":"02:1a:2b:3c:4d:5e"}
 * Unknown extra members are ignored. A local file, not network input; still
 * validated like a control message.
 */
#define LP_CTRL_IDENTITY_FILE "lanparty-client-identity.json"
#define LP_CTRL_IDENTITY_VERSION 1
#define LP_CTRL_IDENTITY_MAX 4096u /* largest identity file read */

struct lp_ctrl_identity {
	struct lp_mac mac; /* unicast, non-zero; generated ones are locally administered */
};

/*
 * Parses an identity document. Errors: LP_ERR_JSON (not JSON, not an
 * object, or larger than LP_CTRL_IDENTITY_MAX), LP_ERR_FIELD_MISSING /
 * LP_ERR_FIELD_TYPE ("version" or "mac"), LP_ERR_VERSION (version not 1),
 * LP_ERR_MAC_SYNTAX, LP_ERR_MAC_ZERO / LP_ERR_MAC_GROUP (not a unicast
 * identity), LP_ERR_MAC_NOT_LOCAL (not locally administered: the relay
 * refuses a client with a NIC's MAC).
 */
int lp_ctrl_identity_parse(const uint8_t *json, size_t len, struct lp_ctrl_identity *out) LP_WUR;

/* Writes the document plus a newline into out (NUL-terminated). Returns its
 * length, LP_ERR_NOBUF, LP_ERR_MAC_ZERO / LP_ERR_MAC_GROUP. */
ssize_t lp_ctrl_identity_encode(const struct lp_ctrl_identity *id, char *out, size_t cap) LP_WUR;

/* Reads and parses path. LP_ERR_NOT_FOUND when the file does not exist,
 * LP_ERR_IO when it cannot be read (errno kept), the parse errors. */
int lp_ctrl_identity_load(const char *path, struct lp_ctrl_identity *out) LP_WUR;

/*
 * Saves atomically, owner-only (lp_file_write_atomic), so a crash leaves
 * either the old or the new file, never a partial one.
 * Errors: LP_ERR_IO (errno kept), the encode errors.
 */
int lp_ctrl_identity_save(const char *path, const struct lp_ctrl_identity *id) LP_WUR;

/*
 * Loads path; when it does not exist, generates a random locally
 * administered unicast MAC, saves it and sets *created. A file that exists
 * but is invalid is an error (it is never overwritten: the user decides).
 * Errors: those of load (except LP_ERR_NOT_FOUND) and save, LP_ERR_IO when
 * no randomness is available.
 */
int lp_ctrl_identity_load_or_create(const char *path, struct lp_ctrl_identity *out,
                                    bool *created) LP_WUR;

/* ---- Local status document -----------------------------------------------
 * What a running client or gateway answers on its local status socket
 * (`lanparty-client status`, `lanparty-gateway status`): one JSON object.
 * A local document, not network input; still validated when read. See
 * status.c for the members; integers of 0 mean "not measured yet".
 */
#define LP_CTRL_STATUS_VERSION 1
#define LP_CTRL_STATUS_MAX 65536u      /* largest document written or read */
#define LP_CTRL_STATUS_HOSTS_MAX 32    /* LAN hosts (not peers) listed */
#define LP_CTRL_STATUS_PROGRAM_MAX 31  /* "lanparty-client", ... */
#define LP_CTRL_STATUS_STATE_MAX 15    /* lp_client_state_name(), "reconnecting" */
#define LP_CTRL_STATUS_PRIVATE_LABEL 8 /* "~" + this many base64url chars of the id */

/* Link and traffic numbers; for a peer they are the relay's (its RTT to the
 * relay, relay -> peer loss), for ourselves our own session's. */
struct lp_ctrl_status_link {
	uint64_t rtt_us, rtt_min_us;
	uint64_t dg_sent, dg_lost;
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes;
};

struct lp_ctrl_status_peer {
	uint32_t peer_id;
	enum lp_role role;
	struct lp_mac mac;
	bool has_ip; /* a LAN IPv4 was seen for its MAC */
	uint8_t ip[4];
	struct lp_ctrl_status_link link;
	uint64_t est_rtt_us; /* our RTT to the relay + theirs; 0 when either is unknown */
};

struct lp_ctrl_status_host {
	struct lp_mac mac;
	uint8_t ip[4];
};

struct lp_ctrl_status {
	char program[LP_CTRL_STATUS_PROGRAM_MAX + 1];
	char state[LP_CTRL_STATUS_STATE_MAX + 1];
	char room[LP_CTRL_ROOM_MAX + 1]; /* a code, or "~XXXXXXXX" for a private room */
	enum lp_role role;
	struct lp_mac mac;
	uint32_t peer_id; /* 0 before the welcome */
	uint32_t mtu;     /* 0 before the welcome */
	bool has_ip;
	uint8_t ip[4];
	struct lp_ctrl_status_link link; /* ours */
	bool has_table;                  /* the relay sent a peer_stats table */
	uint64_t table_age_ms;
	uint32_t peers_total; /* the relay's count, ourselves included */
	uint32_t count;
	struct lp_ctrl_status_peer peers[LP_CTRL_PEER_STATS_MAX];
	uint32_t nhosts; /* LAN addresses seen for MACs that are not peers */
	struct lp_ctrl_status_host hosts[LP_CTRL_STATUS_HOSTS_MAX];
};

/* Writes the document plus a newline into out (NUL-terminated). Returns
 * its length, LP_ERR_NOBUF, LP_ERR_NOMEM or LP_ERR_FIELD_RANGE (an invalid
 * field). */
ssize_t lp_ctrl_status_encode(const struct lp_ctrl_status *st, char *out, size_t cap) LP_WUR;
/* Parses a document (at most LP_CTRL_STATUS_MAX bytes). Errors: LP_ERR_JSON,
 * LP_ERR_VERSION, LP_ERR_FIELD_MISSING / _TYPE / _RANGE, the role, MAC, room
 * and peer id errors. */
int lp_ctrl_status_parse(const uint8_t *json, size_t len, struct lp_ctrl_status *out) LP_WUR;

#endif /* LP_CTRL_H */
