/*
 * crypto.h - the primitives lib/room needs, one backend per platform:
 * crypto_gnutls.c (GnuTLS, Ed25519 from nettle) on Linux, crypto_wolfssl.c
 * on Windows. Internal to lib/room; the build links exactly one backend.
 *
 * Every function returns 0 or LP_ERR_CRYPTO (LP_ERR_NOMEM where it
 * allocates), except where noted. Outputs are undefined on failure.
 */
#ifndef LP_ROOM_CRYPTO_H
#define LP_ROOM_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define LP_ROOM_SHA256_LEN 32
#define LP_ROOM_GCM_NONCE_LEN 12
#define LP_ROOM_GCM_TAG_LEN 16

/* One piece of a message given in parts. */
struct lp_room_iov {
	const void *p;
	size_t n;
};

/* SHA-256 over the concatenation of n parts. */
int lp_room_crypto_sha256(const struct lp_room_iov *parts, size_t n,
                          uint8_t out[LP_ROOM_SHA256_LEN]);

/* RFC 5869 with SHA-256. extract: prk = HMAC(salt, ikm). expand: out_len
 * (<= 255 * 32) bytes of T(1) || T(2) ... with info. */
int lp_room_crypto_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                                size_t ikm_len, uint8_t prk[LP_ROOM_SHA256_LEN]);
int lp_room_crypto_hkdf_expand(const uint8_t prk[LP_ROOM_SHA256_LEN], const uint8_t *info,
                               size_t info_len, uint8_t *out, size_t out_len);

/* Ed25519 (RFC 8032, pure). verify: 0 when valid, LP_ERR_AUTH otherwise
 * (the caller has already refused a non-canonical S). */
int lp_room_crypto_ed25519_pub(const uint8_t seed[32], uint8_t pub[32]);
int lp_room_crypto_ed25519_sign(const uint8_t seed[32], const uint8_t pub[32], const uint8_t *msg,
                                size_t len, uint8_t sig[64]);
int lp_room_crypto_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t len,
                                  const uint8_t sig[64]);

/* n bytes from the OS CSPRNG (key quality). */
int lp_room_crypto_random(uint8_t *out, size_t n);

/* AES-256-GCM with a fixed key. seal/open work in place on data; the AAD is
 * the concatenation of n_aad parts. open: 0, or LP_ERR_AUTH when the tag
 * does not verify (data is then undefined). */
struct lp_room_aead;
int lp_room_crypto_aead_new(const uint8_t key[32], struct lp_room_aead **out);
void lp_room_crypto_aead_del(struct lp_room_aead *a);
int lp_room_crypto_aead_seal(struct lp_room_aead *a, const uint8_t nonce[LP_ROOM_GCM_NONCE_LEN],
                             const struct lp_room_iov *aad, size_t n_aad, uint8_t *data, size_t len,
                             uint8_t tag[LP_ROOM_GCM_TAG_LEN]);
int lp_room_crypto_aead_open(struct lp_room_aead *a, const uint8_t nonce[LP_ROOM_GCM_NONCE_LEN],
                             const struct lp_room_iov *aad, size_t n_aad, uint8_t *data, size_t len,
                             const uint8_t tag[LP_ROOM_GCM_TAG_LEN]);

#endif /* LP_ROOM_CRYPTO_H */
