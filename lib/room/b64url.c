/*
 * b64url.c - unpadded base64url (RFC 4648 section 5) and constant-time
 * comparison.
 *
 * Hand-written: GnuTLS has gnutls_base64_encode2 (standard alphabet, padded,
 * PEM-oriented) but no base64url, nettle's base64url context API accepts
 * padding and non-canonical trailing bits, and wolfSSL has neither on
 * Windows. Invites and hello fields need one strict text per byte string.
 */
#include "lp_room.h"

#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63 for an alphabet character, -1 otherwise; branch-free over the
 * character classes so decoding secrets leaks no table lookups. */
static int sextet(unsigned char c)
{
	int v = -1;
	int x = c;

	v += (((('A' - 1) - x) & (x - ('Z' + 1))) >> 8) & (x - 'A' + 1);
	v += (((('a' - 1) - x) & (x - ('z' + 1))) >> 8) & (x - 'a' + 27);
	v += (((('0' - 1) - x) & (x - ('9' + 1))) >> 8) & (x - '0' + 53);
	v += ((('-' - 1 - x) & (x - ('-' + 1))) >> 8) & 63;
	v += ((('_' - 1 - x) & (x - ('_' + 1))) >> 8) & 64;
	return v;
}

ssize_t lp_room_b64url_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	size_t need, i, o = 0;

	if ((in == NULL && len > 0) || out == NULL || len > (SIZE_MAX - 2) / 4)
		return LP_ERR_INVAL;
	need = LP_ROOM_B64_LEN(len);
	if (cap < need + 1)
		return LP_ERR_NOBUF;
	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = alphabet[w >> 18];
		out[o++] = alphabet[(w >> 12) & 63];
		out[o++] = alphabet[(w >> 6) & 63];
		out[o++] = alphabet[w & 63];
	}
	if (len - i == 1) {
		uint32_t w = (uint32_t)in[i] << 16;

		out[o++] = alphabet[w >> 18];
		out[o++] = alphabet[(w >> 12) & 63];
	} else if (len - i == 2) {
		uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = alphabet[w >> 18];
		out[o++] = alphabet[(w >> 12) & 63];
		out[o++] = alphabet[(w >> 6) & 63];
	}
	out[o] = '\0';
	return (ssize_t)o;
}

ssize_t lp_room_b64url_decode(const char *in, size_t inlen, uint8_t *out, size_t cap)
{
	size_t n, i, o = 0;
	uint32_t w = 0;
	int bad = 0, bits = 0;

	if (in == NULL && inlen > 0)
		return LP_ERR_INVAL;
	if (inlen % 4 == 1)
		return LP_ERR_INVAL;
	n = inlen / 4 * 3 + (inlen % 4 == 0 ? 0 : inlen % 4 - 1);
	if (n > cap || (out == NULL && n > 0))
		return n > cap ? LP_ERR_NOBUF : LP_ERR_INVAL;
	for (i = 0; i < inlen; i++) {
		int v = sextet((unsigned char)in[i]);

		bad |= v;
		w = w << 6 | ((unsigned)v & 63);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o < n)
				out[o++] = (uint8_t)(w >> bits);
		}
	}
	/* Canonical form: the bits of the last character that carry no byte
	 * must be zero. */
	if (bad < 0 || (w & ((1u << bits) - 1)) != 0) {
		lp_room_wipe(out, n);
		return LP_ERR_INVAL;
	}
	return (ssize_t)o;
}

int lp_room_b64url_decode_exact(const char *s, uint8_t *out, size_t n)
{
	uint8_t tmp[128];
	size_t len;
	ssize_t got;

	if (s == NULL || out == NULL || n > sizeof(tmp))
		return LP_ERR_INVAL;
	len = strlen(s);
	if (len != LP_ROOM_B64_LEN(n))
		return LP_ERR_INVAL;
	got = lp_room_b64url_decode(s, len, tmp, sizeof(tmp));
	if (got < 0 || (size_t)got != n) {
		lp_room_wipe(tmp, sizeof(tmp));
		return LP_ERR_INVAL;
	}
	memcpy(out, tmp, n);
	lp_room_wipe(tmp, sizeof(tmp));
	return 0;
}

int lp_room_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (uint8_t)(x[i] ^ y[i]);
	return (int)(1 & ((unsigned)(d - 1) >> 8));
}

void lp_room_wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	/* Through a volatile pointer, so the stores are not dead-store
	 * eliminated; portable to mingw, which lacks explicit_bzero. */
	while (n-- > 0)
		*v++ = 0;
}
