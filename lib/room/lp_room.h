/*
 * lp_room.h - private rooms: the key schedule, admission and host proofs, the
 * room file, the invite and relay pin strings, and the end-to-end sealing of
 * Ethernet frames between the peers of a room.
 *
 * docs/PROTOCOL.md ("Private rooms") is the normative description of every
 * byte this module reads or writes; docs/SECURITY.md explains why it is
 * shaped this way. The secrets (room secret S, host seed H, the admission
 * seed and the frame key K) never leave this module except through the
 * structs below, which callers must wipe (lp_room_*_wipe) when done.
 *
 * Crypto backends: GnuTLS + nettle on Linux, wolfSSL on Windows, chosen by
 * the build; both produce identical bytes. Functions return 0 (or a byte
 * count) on success and a negative LP_ERR_* otherwise; none prints, exits or
 * keeps global state beyond the backend library's own initialisation.
 * All functions are safe to call from one thread per object; objects are not
 * shared between threads.
 */
#ifndef LP_ROOM_H
#define LP_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lp_base.h"
#include "lp_proto.h"

/* ---- Sizes -------------------------------------------------------------- */
#define LP_ROOM_SECRET_LEN 32    /* room secret S */
#define LP_ROOM_SEED_LEN 32      /* an Ed25519 private seed (host seed H, admission seed) */
#define LP_ROOM_ID_LEN 16        /* room id, what the relay routes on */
#define LP_ROOM_PUB_LEN 32       /* an Ed25519 public key (verifier V, host key P_H) */
#define LP_ROOM_SIG_LEN 64       /* an Ed25519 signature */
#define LP_ROOM_PIN_LEN 32       /* SHA-256 of the relay's SubjectPublicKeyInfo */
#define LP_ROOM_KEY_LEN 32       /* AES-256-GCM frame master key K */
#define LP_ROOM_EXPORTER_LEN 32  /* TLS exporter value E the proofs are bound to */
#define LP_ROOM_SEAL_OVERHEAD 32 /* epoch (8) + counter (8) + GCM tag (16) */
/* The TLS exporter both ends compute after the handshake (RFC 5705/8446),
 * with an empty context and LP_ROOM_EXPORTER_LEN bytes of output. */
#define LP_ROOM_EXPORTER_LABEL "EXPORTER-softlan-vpn-admission"

/* Unpadded base64url text lengths (no NUL): ceil(n * 4 / 3). */
#define LP_ROOM_B64_LEN(n) (((n)*4 + 2) / 3)
#define LP_ROOM_B64_ID_LEN LP_ROOM_B64_LEN(LP_ROOM_ID_LEN)   /* 22 */
#define LP_ROOM_B64_32_LEN LP_ROOM_B64_LEN(32)               /* 43 */
#define LP_ROOM_B64_SIG_LEN LP_ROOM_B64_LEN(LP_ROOM_SIG_LEN) /* 86 */
/* "sha256:" + 43 characters + NUL. */
#define LP_ROOM_PIN_STR_PREFIX "sha256:"
#define LP_ROOM_PIN_STR_SIZE (7 + LP_ROOM_B64_32_LEN + 1) /* 51 */
/* Buffer size that holds any invite lp_invite_format writes, NUL included. */
#define LP_INVITE_MAX 512
#define LP_INVITE_SCHEME "softlan://"
#define LP_INVITE_DEFAULT_PORT 443

/* ---- Helpers ------------------------------------------------------------ */

/* 1 when the n bytes at a and b are equal, 0 otherwise; the time taken
 * depends on n only, never on the contents. */
int lp_room_ct_equal(const void *a, const void *b, size_t n) LP_WUR;

/* The crypto backend this build uses: "GnuTLS/nettle" or "wolfSSL". */
const char *lp_room_backend(void);

/* Overwrites n bytes at p with zeros in a way the compiler cannot elide. */
void lp_room_wipe(void *p, size_t n);

/* Fills out with n bytes of the OS CSPRNG (GnuTLS GNUTLS_RND_KEY, wolfSSL's
 * RNG). LP_ERR_CRYPTO when no randomness is available. */
int lp_room_random(uint8_t *out, size_t n) LP_WUR;

/*
 * Unpadded base64url (RFC 4648 section 5, alphabet A-Z a-z 0-9 - _, no '=').
 * encode: writes LP_ROOM_B64_LEN(len) characters and a NUL into out; returns
 * the character count, or LP_ERR_NOBUF when cap < LP_ROOM_B64_LEN(len) + 1.
 * decode: decodes exactly inlen characters of in (no NUL needed); strict:
 * refuses padding, whitespace, characters outside the alphabet, a length of
 * 1 mod 4 and non-zero unused bits of the last character (so every byte
 * string has exactly one accepted text). Returns the byte count, or
 * LP_ERR_INVAL (bad text) / LP_ERR_NOBUF (more than cap bytes).
 * decode_exact: s is NUL-terminated and must decode to exactly n bytes,
 * else LP_ERR_INVAL; out is untouched on failure.
 */
ssize_t lp_room_b64url_encode(const uint8_t *in, size_t len, char *out, size_t cap) LP_WUR;
ssize_t lp_room_b64url_decode(const char *in, size_t inlen, uint8_t *out, size_t cap) LP_WUR;
int lp_room_b64url_decode_exact(const char *s, uint8_t *out, size_t n) LP_WUR;

/* ---- Key schedule ------------------------------------------------------- *
 *
 *   PRK      = HKDF-Extract(salt = "softlan-vpn room v1", IKM = S)
 *   adm_seed = HKDF-Expand(PRK, "admission", 32)  -> Ed25519 (adm_seed, verifier V)
 *   K        = HKDF-Expand(PRK, "frame", 32)      frame master key, never sent
 *   room_id  = SHA-256("softlan-vpn room id v1" || V || P_H)[0..16)
 */
struct lp_room_keys {
	uint8_t room_id[LP_ROOM_ID_LEN];
	uint8_t verifier[LP_ROOM_PUB_LEN];  /* V: public, the relay checks proofs with it */
	uint8_t host_pub[LP_ROOM_PUB_LEN];  /* P_H: public, the gateway's host key */
	uint8_t frame_key[LP_ROOM_KEY_LEN]; /* K: secret, never leaves the peers */
	uint8_t adm_seed[LP_ROOM_SEED_LEN]; /* secret: signs admission proofs */
};

/* Derives every key of a room from its secret s and host key host_pub.
 * Returns 0, LP_ERR_INVAL (NULL argument) or LP_ERR_CRYPTO; *out is wiped on
 * failure. Wipe *out with lp_room_keys_wipe when done. */
int lp_room_keys_derive(const uint8_t s[LP_ROOM_SECRET_LEN],
                        const uint8_t host_pub[LP_ROOM_PUB_LEN], struct lp_room_keys *out) LP_WUR;
void lp_room_keys_wipe(struct lp_room_keys *k);

/* room_id as above, from the public parts alone (what the relay computes). */
int lp_room_id_compute(const uint8_t v[LP_ROOM_PUB_LEN], const uint8_t ph[LP_ROOM_PUB_LEN],
                       uint8_t id[LP_ROOM_ID_LEN]) LP_WUR;
/* 0 when id == room_id(v, ph) (compared in constant time), LP_ERR_AUTH when
 * not, LP_ERR_INVAL / LP_ERR_CRYPTO otherwise. */
int lp_room_id_check(const uint8_t id[LP_ROOM_ID_LEN], const uint8_t v[LP_ROOM_PUB_LEN],
                     const uint8_t ph[LP_ROOM_PUB_LEN]) LP_WUR;

/* The Ed25519 public key of a 32-byte seed (P_H from H). */
int lp_room_host_pub_derive(const uint8_t seed[LP_ROOM_SEED_LEN],
                            uint8_t pub[LP_ROOM_PUB_LEN]) LP_WUR;

/* ---- Admission and host proofs ------------------------------------------ *
 *
 * proof      = Ed25519-Sign(adm_seed, "softlan-vpn admit v1" || E || role)
 * host_proof = Ed25519-Sign(H,        "softlan-vpn host v1"  || E)
 *
 * E is the connection's TLS exporter value (LP_ROOM_EXPORTER_LABEL), so a
 * proof recorded on one connection is worthless on any other. role is the
 * hello's role string as sent ("client", "gateway"): 1..32 bytes of [a-z],
 * else LP_ERR_ROLE. Signatures are deterministic (RFC 8032).
 * sign_*: 0, LP_ERR_INVAL, LP_ERR_ROLE or LP_ERR_CRYPTO.
 * verify_*: 0 for a valid signature, LP_ERR_AUTH for any invalid one
 * (including a non-canonical signature or public key), LP_ERR_INVAL,
 * LP_ERR_ROLE.
 */
int lp_room_sign_admission(const struct lp_room_keys *k, const uint8_t e[LP_ROOM_EXPORTER_LEN],
                           const char *role, uint8_t sig[LP_ROOM_SIG_LEN]) LP_WUR;
int lp_room_verify_admission(const uint8_t v[LP_ROOM_PUB_LEN],
                             const uint8_t e[LP_ROOM_EXPORTER_LEN], const char *role,
                             const uint8_t sig[LP_ROOM_SIG_LEN]) LP_WUR;
int lp_room_sign_host(const uint8_t seed[LP_ROOM_SEED_LEN], const uint8_t e[LP_ROOM_EXPORTER_LEN],
                      uint8_t sig[LP_ROOM_SIG_LEN]) LP_WUR;
int lp_room_verify_host(const uint8_t ph[LP_ROOM_PUB_LEN], const uint8_t e[LP_ROOM_EXPORTER_LEN],
                        const uint8_t sig[LP_ROOM_SIG_LEN]) LP_WUR;

/* ---- Room file (gateway side) -------------------------------------------- *
 *
 * A small key=value text file, mode 0600:
 *   # softlan-vpn room file: SECRET, keep it private (mode 0600) ...
 *   version=1
 *   secret=<43 chars base64url>
 *   host_seed=<43 chars base64url>
 * Lines starting with '#' and empty lines are ignored; every other line must
 * be one of the keys above, each exactly once.
 */
struct lp_room_file {
	uint8_t secret[LP_ROOM_SECRET_LEN];
	uint8_t host_seed[LP_ROOM_SEED_LEN];
	uint8_t host_pub[LP_ROOM_PUB_LEN]; /* derived from host_seed on load */
};

/*
 * Loads the room file at path, or creates it when it does not exist: S and
 * H from the CSPRNG, written to a temporary file in the same directory with
 * mode 0600, fsynced, renamed over path, directory fsynced. *created (may be
 * NULL) says which happened. A file is refused when it is a symlink, not a
 * regular file, readable or writable by group or others, larger than 4 KiB
 * or malformed. Errors: LP_ERR_PERM (symlink, not regular, mode too open,
 * or the OS refused access), LP_ERR_INVAL (malformed), LP_ERR_IO (I/O,
 * errno kept), LP_ERR_CRYPTO, LP_ERR_UNSUPPORTED (Windows). When err is not
 * NULL it receives one line of text saying what is wrong, naming the path
 * (never a secret). *out is wiped on failure; wipe it with
 * lp_room_file_wipe when done.
 */
int lp_room_file_open(const char *path, struct lp_room_file *out, bool *created, char *err,
                      size_t errlen) LP_WUR;
void lp_room_file_wipe(struct lp_room_file *f);

/* ---- Relay pin ----------------------------------------------------------- */

/* pin = SHA-256 of the DER SubjectPublicKeyInfo. 0, LP_ERR_INVAL, LP_ERR_CRYPTO. */
int lp_room_pin_from_spki(const uint8_t *spki, size_t len, uint8_t pin[LP_ROOM_PIN_LEN]) LP_WUR;
/* "sha256:" + 43 characters + NUL into out. 0 or LP_ERR_INVAL. */
int lp_room_pin_format(const uint8_t pin[LP_ROOM_PIN_LEN], char out[LP_ROOM_PIN_STR_SIZE]) LP_WUR;
/* Parses exactly that form (the prefix is lower case, nothing before or
 * after). 0 or LP_ERR_INVAL; pin is untouched on failure. */
int lp_room_pin_parse(const char *s, uint8_t pin[LP_ROOM_PIN_LEN]) LP_WUR;

/* ---- Invite ---------------------------------------------------------------
 *
 *   softlan://HOST[:PORT]/ROOM_ID?pin=sha256:PIN&host=P_H#S
 *
 * HOST: a DNS name (letters, digits, '-', '.'; labels of 1..63, total
 * <= 253), an IPv4 address, or an IPv6 address in brackets. PORT: 1..65535,
 * default 443. ROOM_ID 22, PIN, P_H and S 43 unpadded base64url characters.
 * The query holds exactly the keys pin and host, each once, in any order.
 */
struct lp_invite {
	char host[256]; /* without brackets; an IPv6 literal as written */
	uint16_t port;
	uint8_t pin[LP_ROOM_PIN_LEN];
	uint8_t room_id[LP_ROOM_ID_LEN];
	uint8_t host_pub[LP_ROOM_PUB_LEN];
	uint8_t secret[LP_ROOM_SECRET_LEN];
};

/*
 * Parses an invite. Leading and trailing ASCII whitespace (a pasted line's
 * newline) is ignored; anything else out of place is refused. The room id is
 * recomputed from the secret and host key and must match. Returns 0,
 * LP_ERR_INVAL (malformed, with the reason in err), LP_ERR_PORT (bad port),
 * LP_ERR_HOST_SYNTAX (bad host), LP_ERR_AUTH (room id does not match its
 * secret) or LP_ERR_CRYPTO. err (may be NULL) receives one line such as
 * "invite is damaged: room id does not match its secret"; it never contains
 * the secret. *out is wiped on failure; wipe it with lp_invite_wipe.
 */
int lp_invite_parse(const char *s, struct lp_invite *out, char *err, size_t errlen) LP_WUR;
/* Writes the invite (canonical: port omitted when 443, brackets around an
 * IPv6 host, pin before host) and a NUL. Returns the length, LP_ERR_NOBUF
 * or LP_ERR_HOST_SYNTAX / LP_ERR_INVAL for a host or port the parser would
 * refuse. The room id written is in->room_id as given. */
ssize_t lp_invite_format(const struct lp_invite *in, char *out, size_t outlen) LP_WUR;
void lp_invite_wipe(struct lp_invite *inv);

/* ---- Sealed frames ------------------------------------------------------- *
 *
 * Overlay flags (byte 1 of the overlay header) in a private room: */
#define LP_ROOM_FLAG_SEALED 0x01u       /* set by the sender, authenticated */
#define LP_ROOM_FLAG_FROM_GATEWAY 0x80u /* set by the relay, not authenticated */
/*
 * A sealed overlay datagram:
 *
 *   overlay hdr (4): version/type | flags (SEALED) | payload length (BE16)
 *   Ethernet header in clear: dst(6) src(6) [up to 2 VLAN tags] ethertype(2)
 *   ciphertext of the rest of the frame
 *   epoch (8, BE) | counter (8, BE) | GCM tag (16)
 *
 * payload length counts everything after the overlay header (it grows by
 * LP_ROOM_SEAL_OVERHEAD). K_e = HKDF-Expand(K, "softlan-vpn frame v1" ||
 * epoch, 32); nonce = 4 zero bytes || counter; AAD = byte 0 || (flags &
 * ~FROM_GATEWAY) || payload length || clear Ethernet header || epoch ||
 * counter.
 */
/*
 * The relay's view of a sealed datagram: checks the overlay header (version,
 * type, flags within SEALED | FROM_GATEWAY with SEALED set, exact length,
 * room for the 32-byte trailer) and parses the clear Ethernet header into
 * *eth with lp_proto_eth_parse; eth->frame_len is the frame's length without
 * the trailer and eth->l3 points at ciphertext. No key is needed and nothing
 * is authenticated: this is what routing and the relay's header filters may
 * read. Returns 0, LP_ERR_STATE (SEALED not set: not a sealed datagram),
 * LP_ERR_INVAL (other flags, or a NULL argument), LP_ERR_TRUNCATED,
 * LP_ERR_TRAILING, LP_ERR_VERSION, LP_ERR_TYPE, LP_ERR_RUNT.
 */
int lp_room_sealed_parse(const uint8_t *dgram, size_t len, uint8_t *flags,
                         struct lp_eth *eth) LP_WUR;

enum lp_room_drop {
	LP_ROOM_DROP_NONE = 0,
	LP_ROOM_DROP_MALFORMED,     /* bad overlay header, length or Ethernet header */
	LP_ROOM_DROP_UNSEALED,      /* SEALED flag not set in a private room */
	LP_ROOM_DROP_AUTH,          /* GCM tag did not verify (tampered or wrong room) */
	LP_ROOM_DROP_REPLAY,        /* counter already seen in the window */
	LP_ROOM_DROP_TOO_OLD,       /* counter below the window */
	LP_ROOM_DROP_RETIRED_EPOCH, /* sender moved on from this epoch */
	LP_ROOM_DROP__COUNT
};
/* "auth", "replay", ... for metrics and logs; never NULL. */
const char *lp_room_drop_name(enum lp_room_drop reason);

/* RFC 6479 replay window per sender: a bitmap of LP_ROOM_REPLAY_BITS, of
 * which one 64-bit word is the spare the algorithm slides into. With H the
 * highest counter accepted from a sender's epoch, a counter c is accepted
 * once when c > H or H - c <= LP_ROOM_REPLAY_WINDOW (REPLAY if seen), and
 * refused as TOO_OLD when H - c > LP_ROOM_REPLAY_WINDOW. */
#define LP_ROOM_REPLAY_BITS 2048u
#define LP_ROOM_REPLAY_WINDOW 1984u
/* Senders (source MACs) an opener keeps state for when created with 0. */
#define LP_ROOM_OPENER_SENDERS_DEFAULT 256u
/* Retired (MAC, epoch) pairs an opener remembers, per sender slot. */
#define LP_ROOM_RETIRED_PER_SENDER 4u

/* Sender side: one per session (connection). Holds epoch, counter, K_e. */
struct lp_room_sealer;

/* Creates a sealer with a fresh random epoch. 0, LP_ERR_INVAL, LP_ERR_NOMEM,
 * LP_ERR_CRYPTO. Never reuse a sealer across sessions: a new session (each
 * connect) takes a new sealer, hence a new epoch. */
int lp_room_sealer_new(const struct lp_room_keys *k, struct lp_room_sealer **out) LP_WUR;
/* Same with a given epoch: for test vectors only (a repeated epoch repeats
 * nonces). */
int lp_room_sealer_new_epoch(const struct lp_room_keys *k, uint64_t epoch,
                             struct lp_room_sealer **out) LP_WUR;
/* Wipes the keys and frees; NULL is fine. */
void lp_room_sealer_del(struct lp_room_sealer *s);
uint64_t lp_room_sealer_epoch(const struct lp_room_sealer *s);

/*
 * Seals in place: dgram holds a plain overlay datagram of len bytes (type
 * ETHERNET, flags 0, payload length == len - 4, a whole Ethernet frame) in a
 * buffer of cap bytes. On success the datagram is sealed as described above
 * and its new length (len + LP_ROOM_SEAL_OVERHEAD) is returned. Errors:
 * LP_ERR_NOBUF (cap < len + overhead), LP_ERR_PAYLOAD_MAX (the sealed
 * payload would not fit the 16-bit length), LP_ERR_TRUNCATED/LP_ERR_TRAILING/
 * LP_ERR_VERSION/LP_ERR_TYPE/LP_ERR_INVAL (not a valid plain datagram),
 * LP_ERR_RUNT (no whole Ethernet header), LP_ERR_STATE (counter exhausted:
 * reconnect), LP_ERR_CRYPTO. On error dgram is unchanged and no counter
 * value is consumed, except for LP_ERR_CRYPTO (the buffer's contents are
 * then undefined and the counter value is skipped, never reused).
 */
ssize_t lp_room_seal(struct lp_room_sealer *s, uint8_t *dgram, size_t len, size_t cap) LP_WUR;

/* Receiver side: per sender MAC, the current epoch's key and replay window,
 * for at most `senders` MACs (least recently used evicted), plus a shared
 * memory of senders * LP_ROOM_RETIRED_PER_SENDER retired (MAC, epoch) pairs
 * (oldest forgotten first). Memory is fixed at creation (about 300 bytes
 * plus one cipher context per sender). */
struct lp_room_opener;

/* senders 0 means LP_ROOM_OPENER_SENDERS_DEFAULT; at most 65536. 0,
 * LP_ERR_INVAL, LP_ERR_NOMEM. Wipes its copy of the frame key on _del. */
int lp_room_opener_new(const struct lp_room_keys *k, unsigned senders,
                       struct lp_room_opener **out) LP_WUR;
void lp_room_opener_del(struct lp_room_opener *o);

/*
 * Opens in place: dgram holds a received overlay datagram of len bytes.
 * On success it becomes the plain datagram (payload length reduced by
 * LP_ROOM_SEAL_OVERHEAD, SEALED cleared, FROM_GATEWAY kept as received so
 * the caller can read it) and its length is returned. On failure returns a
 * negative LP_ERR_* and *reason (may be NULL) says why; the drop is counted
 * by reason; dgram's contents are then undefined. Errors by reason:
 * MALFORMED (LP_ERR_TRUNCATED, LP_ERR_TRAILING, LP_ERR_VERSION, LP_ERR_TYPE,
 * LP_ERR_INVAL for unknown flags, LP_ERR_RUNT), UNSEALED (LP_ERR_INVAL),
 * AUTH (LP_ERR_AUTH), REPLAY / TOO_OLD / RETIRED_EPOCH (LP_ERR_AUTH), and
 * LP_ERR_CRYPTO / LP_ERR_NOMEM (reason NONE: a local failure, not counted).
 *
 * The sender is the frame's source MAC (in the clear header, authenticated).
 * Epochs: a frame that authenticates under an epoch other than its sender's
 * current one makes it current (fresh window) and retires the old one for
 * that MAC; frames of a retired epoch are refused (RETIRED_EPOCH). A sender
 * evicted for space leaves its epoch in the retired memory with the highest
 * counter seen, so frames up to that counter stay refused (REPLAY/TOO_OLD)
 * and later ones resume the epoch. Replay checks run before decryption and
 * the window moves only for frames that authenticate.
 */
ssize_t lp_room_open(struct lp_room_opener *o, uint8_t *dgram, size_t len,
                     enum lp_room_drop *reason) LP_WUR;

/* Drops counted so far, by reason (NONE counts successful opens). */
uint64_t lp_room_opener_count(const struct lp_room_opener *o, enum lp_room_drop reason);

#endif /* LP_ROOM_H */
