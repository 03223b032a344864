/* frame.c - the sealed datagram layout: header checks, epoch keys, nonce, AAD. */
#include "frame_int.h"

#include <string.h>

#define INFO_FRAME_EPOCH "softlan-vpn frame v1"

int lp_room_epoch_aead(const uint8_t k[LP_ROOM_KEY_LEN], uint64_t epoch, struct lp_room_aead **out)
{
	uint8_t info[sizeof(INFO_FRAME_EPOCH) - 1 + 8];
	uint8_t ke[LP_ROOM_KEY_LEN];
	int rc;

	memcpy(info, INFO_FRAME_EPOCH, sizeof(INFO_FRAME_EPOCH) - 1);
	lp_room_put_u64(info + sizeof(INFO_FRAME_EPOCH) - 1, epoch);
	rc = lp_room_crypto_hkdf_expand(k, info, sizeof(info), ke, sizeof(ke));
	if (rc == 0)
		rc = lp_room_crypto_aead_new(ke, out);
	lp_room_wipe(ke, sizeof(ke));
	return rc;
}

/* The checks shared by the sealer, the opener and lp_room_sealed_parse:
 * overlay header, flags, exact length, clear Ethernet header. */
static int parse(const uint8_t *dgram, size_t len, int sealed, uint8_t *flags_out,
                 uint16_t *plen_out, struct lp_eth *eth, int *unsealed)
{
	struct lp_buf b;
	uint8_t vt, flags;
	uint16_t plen;
	size_t frame_len;

	*unsealed = 0;
	if (dgram == NULL)
		return LP_ERR_INVAL;
	lp_buf_init(&b, dgram, len);
	vt = lp_buf_u8(&b);
	flags = lp_buf_u8(&b);
	plen = lp_buf_u16(&b);
	if (b.err != 0)
		return b.err;
	if (vt >> 4 != LP_PROTO_VERSION)
		return LP_ERR_VERSION;
	if ((vt & 0x0f) != LP_PROTO_TYPE_ETHERNET)
		return LP_ERR_TYPE;
	if (sealed) {
		if ((flags & ~(LP_ROOM_FLAG_SEALED | LP_ROOM_FLAG_FROM_GATEWAY)) != 0)
			return LP_ERR_INVAL;
		if ((flags & LP_ROOM_FLAG_SEALED) == 0) {
			*unsealed = 1;
			return LP_ERR_INVAL;
		}
	} else if (flags != 0) {
		return LP_ERR_INVAL;
	}
	if (lp_buf_left(&b) < plen)
		return LP_ERR_TRUNCATED;
	if (lp_buf_left(&b) > plen)
		return LP_ERR_TRAILING;
	frame_len = plen;
	if (sealed) {
		if (frame_len < LP_ROOM_SEAL_OVERHEAD)
			return LP_ERR_TRUNCATED;
		frame_len -= LP_ROOM_SEAL_OVERHEAD;
	}
	*flags_out = flags;
	*plen_out = plen;
	/* The same parser the relay routes with decides what stays in clear,
	 * so sender, relay and receiver agree on the header's length. */
	return lp_proto_eth_parse(b.p, frame_len, eth);
}

int lp_room_frame_parse(uint8_t *dgram, size_t len, int sealed, struct lp_room_frame *f,
                        int *unsealed)
{
	struct lp_eth eth;
	uint8_t flags;
	int rc;

	rc = parse(dgram, len, sealed, &flags, &f->plen, &eth, unsealed);
	if (rc < 0)
		return rc;
	f->dgram = dgram;
	f->len = len;
	f->clear_len = eth.header_len;
	f->body = dgram + LP_PROTO_OVERLAY_HDR_LEN + eth.header_len;
	f->body_len = eth.frame_len - eth.header_len;
	return 0;
}

int lp_room_sealed_parse(const uint8_t *dgram, size_t len, uint8_t *flags, struct lp_eth *eth)
{
	uint16_t plen;
	uint8_t fl;
	int unsealed, rc;

	if (flags == NULL || eth == NULL)
		return LP_ERR_INVAL;
	rc = parse(dgram, len, 1, &fl, &plen, eth, &unsealed);
	if (rc < 0)
		return unsealed ? LP_ERR_STATE : rc;
	*flags = fl;
	return 0;
}

void lp_room_nonce(uint64_t counter, uint8_t nonce[LP_ROOM_GCM_NONCE_LEN])
{
	memset(nonce, 0, 4);
	lp_room_put_u64(nonce + 4, counter);
}

void lp_room_aad(const struct lp_room_frame *f, const uint8_t *trailer,
                 uint8_t buf[LP_ROOM_AAD_MAX], struct lp_room_iov *aad)
{
	uint8_t *p = buf;

	memcpy(p, f->dgram, LP_PROTO_OVERLAY_HDR_LEN);
	/* FROM_GATEWAY is the relay's attestation, added after sealing. */
	p[1] = (uint8_t)(p[1] & ~LP_ROOM_FLAG_FROM_GATEWAY);
	p += LP_PROTO_OVERLAY_HDR_LEN;
	memcpy(p, f->dgram + LP_PROTO_OVERLAY_HDR_LEN, f->clear_len);
	p += f->clear_len;
	memcpy(p, trailer, LP_ROOM_TRAILER_CLEAR);
	p += LP_ROOM_TRAILER_CLEAR;
	aad->p = buf;
	aad->n = (size_t)(p - buf);
}
