/*
 * crypto_wolfssl.c - lib/room's primitives on Windows, with wolfCrypt (the
 * wolfSSL the QUIC stack already links; scripts/mingw-deps.sh builds it with
 * Ed25519 and HKDF).
 */
#include "lp_base.h"

/* clang-format off: options.h must come first */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>
/* clang-format on */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "lp_room.h"

/* The largest AAD lib/room builds: overlay header, Ethernet header with two
 * tags, epoch and counter. wolfCrypt takes the AAD in one piece. */
#define AAD_MAX 64

struct lp_room_aead {
	Aes aes;
};

static void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n-- > 0)
		*v++ = 0;
}

const char *lp_room_backend(void)
{
	return "wolfSSL";
}

int lp_room_crypto_sha256(const struct lp_room_iov *parts, size_t n,
                          uint8_t out[LP_ROOM_SHA256_LEN])
{
	wc_Sha256 h;
	size_t i;
	int rc = LP_ERR_CRYPTO;

	if (wc_InitSha256(&h) != 0)
		return LP_ERR_CRYPTO;
	for (i = 0; i < n; i++) {
		if (parts[i].n > 0 && wc_Sha256Update(&h, parts[i].p, (word32)parts[i].n) != 0)
			goto out;
	}
	if (wc_Sha256Final(&h, out) == 0)
		rc = 0;
out:
	wc_Sha256Free(&h);
	return rc;
}

int lp_room_crypto_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                                size_t ikm_len, uint8_t prk[LP_ROOM_SHA256_LEN])
{
	return wc_HKDF_Extract(WC_SHA256, salt, (word32)salt_len, ikm, (word32)ikm_len, prk) == 0
	               ? 0
	               : LP_ERR_CRYPTO;
}

int lp_room_crypto_hkdf_expand(const uint8_t prk[LP_ROOM_SHA256_LEN], const uint8_t *info,
                               size_t info_len, uint8_t *out, size_t out_len)
{
	return wc_HKDF_Expand(WC_SHA256, prk, LP_ROOM_SHA256_LEN, info, (word32)info_len, out,
	                      (word32)out_len) == 0
	               ? 0
	               : LP_ERR_CRYPTO;
}

int lp_room_crypto_ed25519_pub(const uint8_t seed[32], uint8_t pub[32])
{
	ed25519_key key;
	int rc = LP_ERR_CRYPTO;

	if (wc_ed25519_init(&key) != 0)
		return LP_ERR_CRYPTO;
	if (wc_ed25519_import_private_only(seed, ED25519_KEY_SIZE, &key) == 0 &&
	    wc_ed25519_make_public(&key, pub, ED25519_PUB_KEY_SIZE) == 0)
		rc = 0;
	wc_ed25519_free(&key);
	return rc;
}

int lp_room_crypto_ed25519_sign(const uint8_t seed[32], const uint8_t pub[32], const uint8_t *msg,
                                size_t len, uint8_t sig[64])
{
	static const uint8_t empty[1];
	ed25519_key key;
	word32 sig_len = ED25519_SIG_SIZE;
	int rc = LP_ERR_CRYPTO;

	if (wc_ed25519_init(&key) != 0)
		return LP_ERR_CRYPTO;
	if (wc_ed25519_import_private_key(seed, ED25519_KEY_SIZE, pub, ED25519_PUB_KEY_SIZE,
	                                  &key) == 0 &&
	    wc_ed25519_sign_msg(len > 0 ? msg : empty, (word32)len, sig, &sig_len, &key) == 0 &&
	    sig_len == ED25519_SIG_SIZE)
		rc = 0;
	wc_ed25519_free(&key);
	return rc;
}

int lp_room_crypto_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t len,
                                  const uint8_t sig[64])
{
	static const uint8_t empty[1];
	ed25519_key key;
	int res = 0, rc = LP_ERR_AUTH;

	if (wc_ed25519_init(&key) != 0)
		return LP_ERR_CRYPTO;
	/* A public key that does not import is as wrong as a bad signature. */
	if (wc_ed25519_import_public(pub, ED25519_PUB_KEY_SIZE, &key) == 0 &&
	    wc_ed25519_verify_msg(sig, ED25519_SIG_SIZE, len > 0 ? msg : empty, (word32)len, &res,
	                          &key) == 0 &&
	    res == 1)
		rc = 0;
	wc_ed25519_free(&key);
	return rc;
}

int lp_room_crypto_random(uint8_t *out, size_t n)
{
	WC_RNG rng;
	int rc = LP_ERR_CRYPTO;

	if (wc_InitRng(&rng) != 0)
		return LP_ERR_CRYPTO;
	if (wc_RNG_GenerateBlock(&rng, out, (word32)n) == 0)
		rc = 0;
	wc_FreeRng(&rng);
	return rc;
}

int lp_room_crypto_aead_new(const uint8_t key[32], struct lp_room_aead **out)
{
	struct lp_room_aead *a;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return LP_ERR_NOMEM;
	if (wc_AesInit(&a->aes, NULL, INVALID_DEVID) != 0) {
		free(a);
		return LP_ERR_CRYPTO;
	}
	if (wc_AesGcmSetKey(&a->aes, key, 32) != 0) {
		wc_AesFree(&a->aes);
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
	wc_AesFree(&a->aes);
	/* wc_AesFree does not clear the key schedule. */
	wipe(a, sizeof(*a));
	free(a);
}

static int join(const struct lp_room_iov *aad, size_t n, uint8_t buf[AAD_MAX], word32 *len)
{
	size_t i, off = 0;

	for (i = 0; i < n; i++) {
		if (aad[i].n > AAD_MAX - off)
			return LP_ERR_CRYPTO;
		memcpy(buf + off, aad[i].p, aad[i].n);
		off += aad[i].n;
	}
	*len = (word32)off;
	return 0;
}

int lp_room_crypto_aead_seal(struct lp_room_aead *a, const uint8_t nonce[LP_ROOM_GCM_NONCE_LEN],
                             const struct lp_room_iov *aad, size_t n_aad, uint8_t *data, size_t len,
                             uint8_t tag[LP_ROOM_GCM_TAG_LEN])
{
	uint8_t buf[AAD_MAX];
	word32 alen;

	if (join(aad, n_aad, buf, &alen) < 0)
		return LP_ERR_CRYPTO;
	return wc_AesGcmEncrypt(&a->aes, data, data, (word32)len, nonce, LP_ROOM_GCM_NONCE_LEN, tag,
	                        LP_ROOM_GCM_TAG_LEN, buf, alen) == 0
	               ? 0
	               : LP_ERR_CRYPTO;
}

int lp_room_crypto_aead_open(struct lp_room_aead *a, const uint8_t nonce[LP_ROOM_GCM_NONCE_LEN],
                             const struct lp_room_iov *aad, size_t n_aad, uint8_t *data, size_t len,
                             const uint8_t tag[LP_ROOM_GCM_TAG_LEN])
{
	uint8_t buf[AAD_MAX];
	word32 alen;
	int rc;

	if (join(aad, n_aad, buf, &alen) < 0)
		return LP_ERR_CRYPTO;
	rc = wc_AesGcmDecrypt(&a->aes, data, data, (word32)len, nonce, LP_ROOM_GCM_NONCE_LEN, tag,
	                      LP_ROOM_GCM_TAG_LEN, buf, alen);
	if (rc == AES_GCM_AUTH_E)
		return LP_ERR_AUTH;
	return rc == 0 ? 0 : LP_ERR_CRYPTO;
}
