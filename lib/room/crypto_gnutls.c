/*
 * crypto_gnutls.c - lib/room's primitives on Linux: GnuTLS for hashing,
 * HKDF, AES-256-GCM and randomness; nettle (GnuTLS's own crypto library) for
 * Ed25519, whose raw seed-based API GnuTLS only offers through its heavier
 * abstract-key layer.
 */
#include "lp_base.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nettle/eddsa.h>
#include <stdlib.h>

#include "crypto.h"
#include "lp_room.h"

#define MAX_IOV 8

struct lp_room_aead {
	gnutls_aead_cipher_hd_t hd;
};

const char *lp_room_backend(void)
{
	return "GnuTLS/nettle";
}

int lp_room_crypto_sha256(const struct lp_room_iov *parts, size_t n,
                          uint8_t out[LP_ROOM_SHA256_LEN])
{
	gnutls_hash_hd_t h;
	size_t i;

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return LP_ERR_CRYPTO;
	for (i = 0; i < n; i++) {
		if (parts[i].n > 0 && gnutls_hash(h, parts[i].p, parts[i].n) < 0) {
			gnutls_hash_deinit(h, NULL);
			return LP_ERR_CRYPTO;
		}
	}
	gnutls_hash_deinit(h, out);
	return 0;
}

int lp_room_crypto_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                                size_t ikm_len, uint8_t prk[LP_ROOM_SHA256_LEN])
{
	gnutls_datum_t key = { (unsigned char *)(uintptr_t)ikm, (unsigned)ikm_len };
	gnutls_datum_t s = { (unsigned char *)(uintptr_t)salt, (unsigned)salt_len };

	return gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &key, &s, prk) < 0 ? LP_ERR_CRYPTO : 0;
}

int lp_room_crypto_hkdf_expand(const uint8_t prk[LP_ROOM_SHA256_LEN], const uint8_t *info,
                               size_t info_len, uint8_t *out, size_t out_len)
{
	gnutls_datum_t key = { (unsigned char *)(uintptr_t)prk, LP_ROOM_SHA256_LEN };
	gnutls_datum_t i = { (unsigned char *)(uintptr_t)info, (unsigned)info_len };

	return gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &key, &i, out, out_len) < 0 ? LP_ERR_CRYPTO
	                                                                         : 0;
}

int lp_room_crypto_ed25519_pub(const uint8_t seed[32], uint8_t pub[32])
{
	ed25519_sha512_public_key(pub, seed);
	return 0;
}

int lp_room_crypto_ed25519_sign(const uint8_t seed[32], const uint8_t pub[32], const uint8_t *msg,
                                size_t len, uint8_t sig[64])
{
	ed25519_sha512_sign(pub, seed, len, msg, sig);
	return 0;
}

int lp_room_crypto_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t len,
                                  const uint8_t sig[64])
{
	return ed25519_sha512_verify(pub, len, msg, sig) == 1 ? 0 : LP_ERR_AUTH;
}

int lp_room_crypto_random(uint8_t *out, size_t n)
{
	return gnutls_rnd(GNUTLS_RND_KEY, out, n) < 0 ? LP_ERR_CRYPTO : 0;
}

int lp_room_crypto_aead_new(const uint8_t key[32], struct lp_room_aead **out)
{
	gnutls_datum_t k = { (unsigned char *)(uintptr_t)key, 32 };
	struct lp_room_aead *a;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return LP_ERR_NOMEM;
	if (gnutls_aead_cipher_init(&a->hd, GNUTLS_CIPHER_AES_256_GCM, &k) < 0) {
		free(a);
		return LP_ERR_CRYPTO;
	}
	*out = a;
	return 0;
}

void lp_room_crypto_aead_del(struct lp_room_aead *a)
{
	if (a == NULL)
		return;
	/* Deinit wipes the key schedule GnuTLS holds. */
	gnutls_aead_cipher_deinit(a->hd);
	free(a);
}

static int to_giovec(const struct lp_room_iov *in, size_t n, giovec_t *out)
{
	size_t i;

	if (n > MAX_IOV)
		return LP_ERR_CRYPTO;
	for (i = 0; i < n; i++) {
		out[i].iov_base = (void *)(uintptr_t)in[i].p;
		out[i].iov_len = in[i].n;
	}
	return 0;
}

int lp_room_crypto_aead_seal(struct lp_room_aead *a, const uint8_t nonce[LP_ROOM_GCM_NONCE_LEN],
                             const struct lp_room_iov *aad, size_t n_aad, uint8_t *data, size_t len,
                             uint8_t tag[LP_ROOM_GCM_TAG_LEN])
{
	giovec_t auth[MAX_IOV];
	giovec_t body = { data, len };
	size_t tag_len = LP_ROOM_GCM_TAG_LEN;

	if (to_giovec(aad, n_aad, auth) < 0)
		return LP_ERR_CRYPTO;
	if (gnutls_aead_cipher_encryptv2(a->hd, nonce, LP_ROOM_GCM_NONCE_LEN, auth, (int)n_aad,
	                                 &body, len > 0 ? 1 : 0, tag, &tag_len) < 0 ||
	    tag_len != LP_ROOM_GCM_TAG_LEN)
		return LP_ERR_CRYPTO;
	return 0;
}

int lp_room_crypto_aead_open(struct lp_room_aead *a, const uint8_t nonce[LP_ROOM_GCM_NONCE_LEN],
                             const struct lp_room_iov *aad, size_t n_aad, uint8_t *data, size_t len,
                             const uint8_t tag[LP_ROOM_GCM_TAG_LEN])
{
	giovec_t auth[MAX_IOV];
	giovec_t body = { data, len };
	int rc;

	if (to_giovec(aad, n_aad, auth) < 0)
		return LP_ERR_CRYPTO;
	rc = gnutls_aead_cipher_decryptv2(a->hd, nonce, LP_ROOM_GCM_NONCE_LEN, auth, (int)n_aad,
	                                  &body, len > 0 ? 1 : 0, (void *)(uintptr_t)tag,
	                                  LP_ROOM_GCM_TAG_LEN);
	if (rc == GNUTLS_E_DECRYPTION_FAILED)
		return LP_ERR_AUTH;
	return rc < 0 ? LP_ERR_CRYPTO : 0;
}
