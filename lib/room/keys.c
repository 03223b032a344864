/*
 * keys.c - the room key schedule, the room id, admission and host proofs,
 * the relay pin and the small helpers around them.
 */
#include "lp_room.h"

#include <string.h>

#include "crypto.h"

#define SALT_ROOM "softlan-vpn room v1"
#define INFO_ADMISSION "admission"
#define INFO_FRAME "frame"
#define ID_PREFIX "softlan-vpn room id v1"
#define ADMIT_PREFIX "softlan-vpn admit v1"
#define HOST_PREFIX "softlan-vpn host v1"
#define ROLE_MAX 32

/* Ed25519 group order L, little-endian as signatures encode S. */
static const uint8_t ed25519_order[32] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
	0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

int lp_room_random(uint8_t *out, size_t n)
{
	if (out == NULL && n > 0)
		return LP_ERR_INVAL;
	return n == 0 ? 0 : lp_room_crypto_random(out, n);
}

void lp_room_keys_wipe(struct lp_room_keys *k)
{
	if (k != NULL)
		lp_room_wipe(k, sizeof(*k));
}

int lp_room_id_compute(const uint8_t v[LP_ROOM_PUB_LEN], const uint8_t ph[LP_ROOM_PUB_LEN],
                       uint8_t id[LP_ROOM_ID_LEN])
{
	struct lp_room_iov parts[3] = {
		{ ID_PREFIX, sizeof(ID_PREFIX) - 1 },
		{ v, LP_ROOM_PUB_LEN },
		{ ph, LP_ROOM_PUB_LEN },
	};
	uint8_t h[LP_ROOM_SHA256_LEN];
	int rc;

	if (v == NULL || ph == NULL || id == NULL)
		return LP_ERR_INVAL;
	rc = lp_room_crypto_sha256(parts, LP_ARRAY_LEN(parts), h);
	if (rc == 0)
		memcpy(id, h, LP_ROOM_ID_LEN);
	return rc;
}

int lp_room_id_check(const uint8_t id[LP_ROOM_ID_LEN], const uint8_t v[LP_ROOM_PUB_LEN],
                     const uint8_t ph[LP_ROOM_PUB_LEN])
{
	uint8_t want[LP_ROOM_ID_LEN];
	int rc;

	if (id == NULL)
		return LP_ERR_INVAL;
	rc = lp_room_id_compute(v, ph, want);
	if (rc < 0)
		return rc;
	return lp_room_ct_equal(id, want, sizeof(want)) ? 0 : LP_ERR_AUTH;
}

int lp_room_host_pub_derive(const uint8_t seed[LP_ROOM_SEED_LEN], uint8_t pub[LP_ROOM_PUB_LEN])
{
	if (seed == NULL || pub == NULL)
		return LP_ERR_INVAL;
	return lp_room_crypto_ed25519_pub(seed, pub);
}

int lp_room_keys_derive(const uint8_t s[LP_ROOM_SECRET_LEN],
                        const uint8_t host_pub[LP_ROOM_PUB_LEN], struct lp_room_keys *out)
{
	uint8_t prk[LP_ROOM_SHA256_LEN];
	int rc;

	if (s == NULL || host_pub == NULL || out == NULL)
		return LP_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	rc = lp_room_crypto_hkdf_extract((const uint8_t *)SALT_ROOM, sizeof(SALT_ROOM) - 1, s,
	                                 LP_ROOM_SECRET_LEN, prk);
	if (rc < 0)
		goto out;
	rc = lp_room_crypto_hkdf_expand(prk, (const uint8_t *)INFO_ADMISSION,
	                                sizeof(INFO_ADMISSION) - 1, out->adm_seed,
	                                sizeof(out->adm_seed));
	if (rc < 0)
		goto out;
	rc = lp_room_crypto_hkdf_expand(prk, (const uint8_t *)INFO_FRAME, sizeof(INFO_FRAME) - 1,
	                                out->frame_key, sizeof(out->frame_key));
	if (rc < 0)
		goto out;
	rc = lp_room_crypto_ed25519_pub(out->adm_seed, out->verifier);
	if (rc < 0)
		goto out;
	memcpy(out->host_pub, host_pub, LP_ROOM_PUB_LEN);
	rc = lp_room_id_compute(out->verifier, out->host_pub, out->room_id);
out:
	lp_room_wipe(prk, sizeof(prk));
	if (rc < 0)
		lp_room_keys_wipe(out);
	return rc;
}

/* The role string as it goes into the proof; its length, or LP_ERR_ROLE. */
static int role_len(const char *role)
{
	size_t n = 0;

	if (role == NULL)
		return LP_ERR_INVAL;
	while (role[n] != '\0') {
		if (role[n] < 'a' || role[n] > 'z' || n >= ROLE_MAX)
			return LP_ERR_ROLE;
		n++;
	}
	return n == 0 ? LP_ERR_ROLE : (int)n;
}

/* prefix || e || tail into msg; returns its length. */
static size_t proof_msg(uint8_t *msg, const char *prefix, const uint8_t e[LP_ROOM_EXPORTER_LEN],
                        const char *tail, size_t tail_len)
{
	size_t n = strlen(prefix);

	memcpy(msg, prefix, n);
	memcpy(msg + n, e, LP_ROOM_EXPORTER_LEN);
	n += LP_ROOM_EXPORTER_LEN;
	if (tail_len > 0)
		memcpy(msg + n, tail, tail_len);
	return n + tail_len;
}

#define PROOF_MSG_MAX (sizeof(ADMIT_PREFIX) + LP_ROOM_EXPORTER_LEN + ROLE_MAX)

/* RFC 8032 section 5.1.7: S must be below L. Checked here, not left to the
 * backend, so both backends refuse exactly the same signatures. */
static int sig_s_canonical(const uint8_t sig[LP_ROOM_SIG_LEN])
{
	int i;

	for (i = 31; i >= 0; i--) {
		if (sig[32 + i] != ed25519_order[i])
			return sig[32 + i] < ed25519_order[i];
	}
	return 0;
}

static int sign(const uint8_t seed[LP_ROOM_SEED_LEN], const uint8_t *pub, const uint8_t *msg,
                size_t len, uint8_t sig[LP_ROOM_SIG_LEN])
{
	uint8_t derived[LP_ROOM_PUB_LEN];
	int rc = 0;

	if (pub == NULL) {
		rc = lp_room_crypto_ed25519_pub(seed, derived);
		pub = derived;
	}
	if (rc == 0)
		rc = lp_room_crypto_ed25519_sign(seed, pub, msg, len, sig);
	return rc;
}

static int verify(const uint8_t pub[LP_ROOM_PUB_LEN], const uint8_t *msg, size_t len,
                  const uint8_t sig[LP_ROOM_SIG_LEN])
{
	if (!sig_s_canonical(sig))
		return LP_ERR_AUTH;
	return lp_room_crypto_ed25519_verify(pub, msg, len, sig);
}

int lp_room_sign_admission(const struct lp_room_keys *k, const uint8_t e[LP_ROOM_EXPORTER_LEN],
                           const char *role, uint8_t sig[LP_ROOM_SIG_LEN])
{
	uint8_t msg[PROOF_MSG_MAX];
	int rl = role_len(role);

	if (k == NULL || e == NULL || sig == NULL)
		return LP_ERR_INVAL;
	if (rl < 0)
		return rl;
	return sign(k->adm_seed, k->verifier, msg,
	            proof_msg(msg, ADMIT_PREFIX, e, role, (size_t)rl), sig);
}

int lp_room_verify_admission(const uint8_t v[LP_ROOM_PUB_LEN],
                             const uint8_t e[LP_ROOM_EXPORTER_LEN], const char *role,
                             const uint8_t sig[LP_ROOM_SIG_LEN])
{
	uint8_t msg[PROOF_MSG_MAX];
	int rl = role_len(role);

	if (v == NULL || e == NULL || sig == NULL)
		return LP_ERR_INVAL;
	if (rl < 0)
		return rl;
	return verify(v, msg, proof_msg(msg, ADMIT_PREFIX, e, role, (size_t)rl), sig);
}

int lp_room_sign_host(const uint8_t seed[LP_ROOM_SEED_LEN], const uint8_t e[LP_ROOM_EXPORTER_LEN],
                      uint8_t sig[LP_ROOM_SIG_LEN])
{
	uint8_t msg[PROOF_MSG_MAX];

	if (seed == NULL || e == NULL || sig == NULL)
		return LP_ERR_INVAL;
	return sign(seed, NULL, msg, proof_msg(msg, HOST_PREFIX, e, NULL, 0), sig);
}

int lp_room_verify_host(const uint8_t ph[LP_ROOM_PUB_LEN], const uint8_t e[LP_ROOM_EXPORTER_LEN],
                        const uint8_t sig[LP_ROOM_SIG_LEN])
{
	uint8_t msg[PROOF_MSG_MAX];

	if (ph == NULL || e == NULL || sig == NULL)
		return LP_ERR_INVAL;
	return verify(ph, msg, proof_msg(msg, HOST_PREFIX, e, NULL, 0), sig);
}

int lp_room_pin_from_spki(const uint8_t *spki, size_t len, uint8_t pin[LP_ROOM_PIN_LEN])
{
	struct lp_room_iov part = { spki, len };

	if (spki == NULL || len == 0 || pin == NULL)
		return LP_ERR_INVAL;
	return lp_room_crypto_sha256(&part, 1, pin);
}

int lp_room_pin_format(const uint8_t pin[LP_ROOM_PIN_LEN], char out[LP_ROOM_PIN_STR_SIZE])
{
	const size_t plen = sizeof(LP_ROOM_PIN_STR_PREFIX) - 1;

	if (pin == NULL || out == NULL)
		return LP_ERR_INVAL;
	memcpy(out, LP_ROOM_PIN_STR_PREFIX, plen);
	return lp_room_b64url_encode(pin, LP_ROOM_PIN_LEN, out + plen,
	                             LP_ROOM_PIN_STR_SIZE - plen) < 0
	               ? LP_ERR_INVAL
	               : 0;
}

int lp_room_pin_parse(const char *s, uint8_t pin[LP_ROOM_PIN_LEN])
{
	const size_t plen = sizeof(LP_ROOM_PIN_STR_PREFIX) - 1;

	if (s == NULL || pin == NULL || strncmp(s, LP_ROOM_PIN_STR_PREFIX, plen) != 0)
		return LP_ERR_INVAL;
	return lp_room_b64url_decode_exact(s + plen, pin, LP_ROOM_PIN_LEN);
}
