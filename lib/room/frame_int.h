/*
 * frame_int.h - the sealed datagram layout shared by the sealer (seal.c) and
 * the opener (open.c): header checks, per-epoch keys, nonce and AAD.
 * Internal to lib/room.
 */
#ifndef LP_ROOM_FRAME_INT_H
#define LP_ROOM_FRAME_INT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "lp_room.h"

#define LP_ROOM_TRAILER_CLEAR 16 /* epoch + counter, in the clear, authenticated */
#define LP_ROOM_VT ((uint8_t)(LP_PROTO_VERSION << 4 | LP_PROTO_TYPE_ETHERNET))
/* Counters run 0 .. LP_ROOM_COUNTER_LAST; the next value means reconnect. */
#define LP_ROOM_COUNTER_LAST (UINT64_MAX - 1)

/* The parts of one datagram, plain or sealed; pointers into it. */
struct lp_room_frame {
	uint8_t *dgram;
	size_t len;
	uint16_t plen;    /* payload length field as read */
	size_t clear_len; /* the Ethernet header kept in clear */
	uint8_t *body;    /* first byte after the clear header */
	size_t body_len;  /* bytes encrypted (sealed: without the trailer) */
};

/* A frame's new per-epoch cipher: K_e = HKDF-Expand(K, "softlan-vpn frame
 * v1" || epoch, 32). 0, LP_ERR_NOMEM or LP_ERR_CRYPTO. */
int lp_room_epoch_aead(const uint8_t k[LP_ROOM_KEY_LEN], uint64_t epoch, struct lp_room_aead **out);

/* Checks dgram as a plain datagram (flags 0) or a sealed one (flags must
 * include SEALED; FROM_GATEWAY allowed) and fills *f. Errors as in lp_room.h;
 * sealed datagrams without SEALED give LP_ERR_INVAL with *unsealed = 1. */
int lp_room_frame_parse(uint8_t *dgram, size_t len, int sealed, struct lp_room_frame *f,
                        int *unsealed);

/* nonce = 4 zero bytes || counter (BE). */
void lp_room_nonce(uint64_t counter, uint8_t nonce[LP_ROOM_GCM_NONCE_LEN]);

/* The AAD of a sealed frame: the overlay header with FROM_GATEWAY masked,
 * the clear Ethernet header and the epoch/counter trailer. */
#define LP_ROOM_AAD_MAX                                                                            \
	(LP_PROTO_OVERLAY_HDR_LEN + LP_ETH_HDR_LEN + LP_ETH_MAX_TAGS * LP_ETH_VLAN_TAG_LEN +       \
	 LP_ROOM_TRAILER_CLEAR)

/* Writes the AAD of a sealed frame whose header bytes are final into buf, in
 * one piece (one AEAD input instead of three is measurably cheaper per
 * frame in GnuTLS, and wolfSSL wants one anyway), and points *aad at it. */
void lp_room_aad(const struct lp_room_frame *f, const uint8_t *trailer,
                 uint8_t buf[LP_ROOM_AAD_MAX], struct lp_room_iov *aad);

/* Moves the sealer's next counter forward to `next` (tests: reaching the
 * window edges without sealing every frame in between). Forward only, so it
 * cannot make a counter repeat: LP_ERR_INVAL when next is behind. */
int lp_room_sealer_skip_to(struct lp_room_sealer *s, uint64_t next);

static inline void lp_room_put_u64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint64_t lp_room_get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

#endif /* LP_ROOM_FRAME_INT_H */
