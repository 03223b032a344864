/*
 * admit.h - the private-room half of the relay's admission (see PRIVATE
 * ROOMS in room.h): the proof checks a hello passes before any room is
 * looked up, and the bounded per-address table of failed attempts.
 * Internal to the engine (room.c); sans-I/O like it.
 */
#ifndef LP_RELAY_ADMIT_H
#define LP_RELAY_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"
#include "lp_ctrl.h"

/* A source address key: 4 bytes of IPv4, or the /64 of an IPv6 address
 * (one host owns a whole /64, so counting per /128 would count nothing). */
#define LP_RELAY_SRC_KEY_MAX 16

struct sockaddr;

/* The key of a source address (see above; an IPv4-mapped IPv6 address
 * counts as IPv4). Returns its length, 0 for another family. */
size_t lp_relay_src_key(const struct sockaddr *sa, uint8_t key[LP_RELAY_SRC_KEY_MAX]);

struct lp_relay_fail_slot {
	uint8_t key[LP_RELAY_SRC_KEY_MAX];
	uint8_t key_len; /* 0: free */
	uint32_t count;  /* failures since since_ns */
	uint64_t since_ns;
};

/* Fixed size, set-associative (4 ways), least recently started evicted:
 * a flood of new addresses costs the oldest entries, never memory. */
struct lp_relay_failtab {
	struct lp_relay_fail_slot *slots;
	size_t nslots; /* a multiple of 4 */
	uint32_t limit;
	uint64_t window_ns;
	uint64_t limited; /* attempts refused because their source was over the limit */
};

/* nslots is rounded up to a multiple of 4. LP_ERR_NOMEM, LP_ERR_INVAL. */
int lp_relay_failtab_init(struct lp_relay_failtab *t, size_t nslots, uint32_t limit,
                          uint64_t window_ns) LP_WUR;
void lp_relay_failtab_free(struct lp_relay_failtab *t);
/* True when key has failed `limit` times within the current window. A
 * key_len of 0 (source unknown) is never limited. */
bool lp_relay_failtab_over(struct lp_relay_failtab *t, const uint8_t *key, size_t key_len,
                           uint64_t now_ns) LP_WUR;
/* Counts one failure of key. */
void lp_relay_failtab_record(struct lp_relay_failtab *t, const uint8_t *key, size_t key_len,
                             uint64_t now_ns);

/*
 * The proofs of a private hello against the connection's exporter value e
 * (NULL: the binary has none, which fails): room_id == hash(verifier,
 * host), proof by the verifier for h's role, and for a gateway host_proof
 * by the host key. 0 when all hold, else LP_ERR_AUTH (or LP_ERR_INVAL for a
 * hello that is not private). Runs the same checks whether or not a room
 * with that id exists.
 */
int lp_relay_private_verify(const struct lp_ctrl_hello *h, const uint8_t *e) LP_WUR;

/* The name logs and metrics show for a private room: "~" and the first 8
 * base64url characters of its id (48 bits: enough to tell rooms apart, not
 * the id a hello needs). out holds LP_RELAY_PRIVATE_NAME_SIZE bytes. */
#define LP_RELAY_PRIVATE_NAME_SIZE 10
void lp_relay_private_name(const uint8_t id[LP_CTRL_ROOM_ID_LEN], char *out);

#endif /* LP_RELAY_ADMIT_H */
