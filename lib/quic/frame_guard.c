/*
 * frame_guard.c - see frame_guard.h.
 */
#include "frame_guard.h"

#include <ngtcp2/ngtcp2_crypto.h>

#include "lp_base.h"

/* RFC 9000 16: two high bits give the length (1, 2, 4 or 8 bytes). */
static uint64_t buf_varint(struct lp_buf *b)
{
	uint64_t v;
	size_t n;

	if (!lp_buf_need(b, 1))
		return 0;
	n = (size_t)1 << (b->p[0] >> 6);
	if (!lp_buf_need(b, n))
		return 0;
	v = b->p[0] & 0x3f;
	for (size_t i = 1; i < n; i++)
		v = v << 8 | b->p[i];
	b->p += n;
	return v;
}

static void buf_skip(struct lp_buf *b, uint64_t n)
{
	if (b->err != 0)
		return;
	if (n > lp_buf_left(b)) {
		b->err = LP_ERR_TRUNCATED;
		return;
	}
	b->p += (size_t)n;
}

static void skip_varints(struct lp_buf *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		(void)buf_varint(b);
}

static void skip_ack(struct lp_buf *b, bool ecn)
{
	uint64_t ranges;

	skip_varints(b, 2); /* largest acknowledged, delay */
	ranges = buf_varint(b);
	(void)buf_varint(b); /* first range */
	/* Each further range is at least 2 bytes: a count beyond what is left
	 * is a truncated frame, not a loop of 2^62 rounds. */
	if (ranges > lp_buf_left(b) / 2) {
		b->err = LP_ERR_TRUNCATED;
		return;
	}
	for (uint64_t i = 0; i < ranges && b->err == 0; i++)
		skip_varints(b, 2);
	if (ecn)
		skip_varints(b, 3);
}

bool lp_quic_frames_refused(const uint8_t *payload, size_t len)
{
	struct lp_buf b;

	lp_buf_init(&b, payload, len);
	while (b.err == 0 && lp_buf_left(&b) > 0) {
		uint64_t type = buf_varint(&b), rpt;

		switch (type) {
		case 0x00: /* PADDING */
		case 0x01: /* PING */
		case 0x1e: /* HANDSHAKE_DONE */
			break;
		case 0x02: /* ACK */
		case 0x03: /* ACK with ECN counts */
			skip_ack(&b, type == 0x03);
			break;
		case 0x04: /* RESET_STREAM */
			skip_varints(&b, 3);
			break;
		case 0x05: /* STOP_SENDING */
		case 0x11: /* MAX_STREAM_DATA */
		case 0x15: /* STREAM_DATA_BLOCKED */
			skip_varints(&b, 2);
			break;
		case 0x06: /* CRYPTO */
			(void)buf_varint(&b);
			buf_skip(&b, buf_varint(&b));
			break;
		case 0x07: /* NEW_TOKEN */
			buf_skip(&b, buf_varint(&b));
			break;
		case 0x10: /* MAX_DATA */
		case 0x12: /* MAX_STREAMS (bidi, uni) */
		case 0x13:
		case 0x14: /* DATA_BLOCKED */
		case 0x16: /* STREAMS_BLOCKED (bidi, uni) */
		case 0x17:
		case 0x19: /* RETIRE_CONNECTION_ID */
			(void)buf_varint(&b);
			break;
		case 0x18:                    /* NEW_CONNECTION_ID */
			(void)buf_varint(&b); /* sequence number */
			rpt = buf_varint(&b);
			if (b.err == 0 && rpt > 0)
				return true;
			buf_skip(&b, lp_buf_u8(&b));
			buf_skip(&b, 16); /* stateless reset token */
			break;
		case 0x1a: /* PATH_CHALLENGE */
		case 0x1b: /* PATH_RESPONSE */
			buf_skip(&b, 8);
			break;
		case 0x1c: /* CONNECTION_CLOSE (transport): code, frame type, reason */
			skip_varints(&b, 2);
			buf_skip(&b, buf_varint(&b));
			break;
		case 0x1d: /* CONNECTION_CLOSE (application): code, reason */
			(void)buf_varint(&b);
			buf_skip(&b, buf_varint(&b));
			break;
		case 0x30: /* DATAGRAM to the end of the packet */
			return false;
		case 0x31: /* DATAGRAM with length */
			buf_skip(&b, buf_varint(&b));
			break;
		default:
			if (type >= 0x08 && type <= 0x0f) { /* STREAM: OFF 0x04, LEN 0x02 */
				(void)buf_varint(&b);
				if (type & 0x04)
					(void)buf_varint(&b);
				if (!(type & 0x02))
					return false; /* data to the end of the packet */
				buf_skip(&b, buf_varint(&b));
				break;
			}
			return false; /* unknown: ngtcp2 refuses the packet itself */
		}
	}
	return false;
}

int lp_quic_guard_decrypt_cb(uint8_t *dest, const ngtcp2_crypto_aead *aead,
                             const ngtcp2_crypto_aead_ctx *aead_ctx, const uint8_t *ciphertext,
                             size_t ciphertextlen, const uint8_t *nonce, size_t noncelen,
                             const uint8_t *aad, size_t aadlen)
{
	int rv = ngtcp2_crypto_decrypt_cb(dest, aead, aead_ctx, ciphertext, ciphertextlen, nonce,
	                                  noncelen, aad, aadlen);

	if (rv != 0 || ciphertextlen < aead->max_overhead)
		return rv;
	if (lp_quic_frames_refused(dest, ciphertextlen - aead->max_overhead))
		return NGTCP2_ERR_DECRYPT;
	return 0;
}
