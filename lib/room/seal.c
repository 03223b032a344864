/*
 * seal.c - the sender side of a private room: one epoch per session, one
 * counter per frame, in-place AES-256-GCM.
 *
 * Why nonces never repeat (docs/SECURITY.md has the long form): the key is
 * per epoch, the epoch is 64 random bits drawn per sealer (per session), and
 * within an epoch the counter only grows and is consumed before the cipher
 * runs, so no (key, nonce) pair is used twice unless two sessions of the
 * room draw the same epoch.
 */
#include "frame_int.h"

#include <stdlib.h>
#include <string.h>

struct lp_room_sealer {
	struct lp_room_aead *aead;
	uint64_t epoch;
	uint64_t next; /* next counter to use */
};

int lp_room_sealer_new_epoch(const struct lp_room_keys *k, uint64_t epoch,
                             struct lp_room_sealer **out)
{
	struct lp_room_sealer *s;
	int rc;

	if (out == NULL)
		return LP_ERR_INVAL;
	*out = NULL;
	if (k == NULL)
		return LP_ERR_INVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return LP_ERR_NOMEM;
	rc = lp_room_epoch_aead(k->frame_key, epoch, &s->aead);
	if (rc < 0) {
		free(s);
		return rc;
	}
	s->epoch = epoch;
	*out = s;
	return 0;
}

int lp_room_sealer_new(const struct lp_room_keys *k, struct lp_room_sealer **out)
{
	uint8_t rnd[8];
	int rc;

	if (out == NULL)
		return LP_ERR_INVAL;
	*out = NULL;
	rc = lp_room_random(rnd, sizeof(rnd));
	if (rc < 0)
		return rc;
	return lp_room_sealer_new_epoch(k, lp_room_get_u64(rnd), out);
}

void lp_room_sealer_del(struct lp_room_sealer *s)
{
	if (s == NULL)
		return;
	lp_room_crypto_aead_del(s->aead);
	lp_room_wipe(s, sizeof(*s));
	free(s);
}

uint64_t lp_room_sealer_epoch(const struct lp_room_sealer *s)
{
	return s->epoch;
}

int lp_room_sealer_skip_to(struct lp_room_sealer *s, uint64_t next)
{
	if (s == NULL || next < s->next)
		return LP_ERR_INVAL;
	s->next = next;
	return 0;
}

ssize_t lp_room_seal(struct lp_room_sealer *s, uint8_t *dgram, size_t len, size_t cap)
{
	struct lp_room_frame f;
	struct lp_room_iov aad;
	uint8_t aad_buf[LP_ROOM_AAD_MAX];
	uint8_t nonce[LP_ROOM_GCM_NONCE_LEN];
	uint8_t *trailer;
	uint64_t counter;
	int rc, unsealed;

	if (s == NULL)
		return LP_ERR_INVAL;
	rc = lp_room_frame_parse(dgram, len, 0, &f, &unsealed);
	if (rc < 0)
		return rc;
	if (cap < len || cap - len < LP_ROOM_SEAL_OVERHEAD)
		return LP_ERR_NOBUF;
	if ((size_t)f.plen + LP_ROOM_SEAL_OVERHEAD > LP_PROTO_PAYLOAD_MAX)
		return LP_ERR_PAYLOAD_MAX;
	if (s->next > LP_ROOM_COUNTER_LAST)
		return LP_ERR_STATE;
	/* Consumed before the cipher runs: a failure below skips the value
	 * rather than risking its reuse. */
	counter = s->next++;

	dgram[1] = LP_ROOM_FLAG_SEALED;
	lp_put_u16(dgram + 2, (uint16_t)(f.plen + LP_ROOM_SEAL_OVERHEAD));
	trailer = dgram + len;
	lp_room_put_u64(trailer, s->epoch);
	lp_room_put_u64(trailer + 8, counter);
	lp_room_aad(&f, trailer, aad_buf, &aad);
	lp_room_nonce(counter, nonce);
	rc = lp_room_crypto_aead_seal(s->aead, nonce, &aad, 1, f.body, f.body_len,
	                              trailer + LP_ROOM_TRAILER_CLEAR);
	if (rc < 0)
		return rc;
	return (ssize_t)(len + LP_ROOM_SEAL_OVERHEAD);
}
