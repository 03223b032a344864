/*
 * test_room_keys.c - lib/room's key schedule, proofs, pin and base64url
 * against fixed vectors. Portable: runs on Linux (GnuTLS + nettle) and under
 * Wine (wolfSSL), so both backends are held to the same bytes.
 *
 * Where the vectors come from: computed once, independently of GnuTLS,
 * nettle and wolfSSL, with python3 (hashlib/hmac for SHA-256 and a
 * by-hand RFC 5869 HKDF; python3-cryptography, i.e. OpenSSL, for Ed25519),
 * and the two HKDF outputs cross-checked with `openssl kdf ... HKDF`:
 *
 *   S = 00 01 .. 1f, H = 20 21 .. 3f, E = 40 41 .. 5f
 *   prk = HMAC-SHA256(key="softlan-vpn room v1", S)
 *   adm = HMAC(prk, "admission" 01); K = HMAC(prk, "frame" 01)
 *   V = Ed25519.pub(adm); P_H = Ed25519.pub(H)
 *   room_id = SHA256("softlan-vpn room id v1" V P_H)[:16]
 *   proof = Ed25519.sign(adm, "softlan-vpn admit v1" E "gateway")
 *   host_proof = Ed25519.sign(H, "softlan-vpn host v1" E)
 *   pin of the 4 bytes "spki" = sha256:b-7MjBbFVR2f6z61934tp3O_aL2e-cUpJ86yyG5WiSs
 * RFC 8032 section 7.1, TEST 1 for plain Ed25519.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "crypto.h" /* lib/room internal: the backend, for RFC 8032 */
#include "lp_room.h"

static const uint8_t adm_seed_v[32] = {
	0x20, 0xdd, 0xa2, 0xb5, 0xe0, 0xa7, 0x9d, 0xdd, 0x9e, 0xbc, 0xb1,
	0x46, 0x88, 0xdf, 0xc9, 0x08, 0x28, 0x78, 0x94, 0x67, 0x21, 0x99,
	0x70, 0x60, 0xad, 0x14, 0xda, 0x54, 0xa6, 0xe6, 0x3b, 0x08,
};
static const uint8_t frame_key_v[32] = {
	0x3d, 0xf9, 0xf0, 0xb2, 0x47, 0x21, 0x63, 0x0e, 0xc2, 0x6b, 0x78,
	0x58, 0xa6, 0xb6, 0x74, 0xe3, 0xa1, 0x19, 0xf9, 0x53, 0x1b, 0x32,
	0x1e, 0x02, 0x4b, 0x9f, 0xa2, 0xa0, 0x89, 0x68, 0x81, 0x8f,
};
static const uint8_t verifier_v[32] = {
	0x8b, 0xcc, 0x3c, 0xa2, 0x4f, 0xf0, 0xab, 0xda, 0xdd, 0x62, 0x68,
	0x3c, 0xba, 0x2f, 0x27, 0x0a, 0x3f, 0xf5, 0x81, 0x2a, 0xeb, 0xfa,
	0xce, 0x35, 0x0b, 0x84, 0x9f, 0x9c, 0xf6, 0xca, 0x4b, 0x98,
};
static const uint8_t host_pub_v[32] = {
	0x29, 0xac, 0xba, 0xe1, 0x41, 0xbc, 0xca, 0xf0, 0xb2, 0x2e, 0x1a,
	0x94, 0xd3, 0x4d, 0x0b, 0xc7, 0x36, 0x1e, 0x52, 0x6d, 0x0b, 0xfe,
	0x12, 0xc8, 0x97, 0x94, 0xbc, 0x93, 0x22, 0x96, 0x6d, 0xd7,
};
static const uint8_t room_id_v[16] = {
	0x46, 0xb4, 0xe5, 0x02, 0x0d, 0x54, 0x03, 0xd9,
	0x81, 0xcc, 0x55, 0xc9, 0x6d, 0x73, 0x6f, 0x0b,
};
static const uint8_t proof_gateway_v[64] = {
	0xdb, 0xdf, 0xcc, 0x58, 0x4e, 0x91, 0x43, 0xd9, 0x1a, 0xee, 0xfa, 0x72, 0x6e,
	0x42, 0x7b, 0xa2, 0x4e, 0x97, 0x24, 0xcb, 0x5b, 0xaf, 0xd5, 0xd8, 0x9e, 0xdd,
	0x0c, 0x57, 0x24, 0x3b, 0x44, 0x82, 0x05, 0x2c, 0xc6, 0x98, 0xcb, 0xe2, 0x55,
	0x19, 0x73, 0x94, 0x47, 0xf1, 0x4e, 0xc0, 0x5f, 0xfe, 0xf0, 0x8e, 0xa7, 0x05,
	0x7a, 0xc4, 0xa5, 0xdd, 0x27, 0x4e, 0xe6, 0xec, 0x31, 0x32, 0xff, 0x0c,
};
static const uint8_t host_proof_v[64] = {
	0xa1, 0xf7, 0xc8, 0x65, 0x59, 0x0d, 0x90, 0xdc, 0x80, 0x9c, 0x8d, 0x32, 0x3e,
	0x8b, 0x7f, 0x74, 0x50, 0xb8, 0xc4, 0x5f, 0x59, 0xdc, 0x78, 0x60, 0xaa, 0x8c,
	0x28, 0x6f, 0x2c, 0xce, 0x47, 0xb2, 0x13, 0x29, 0x59, 0xa7, 0x43, 0xca, 0x49,
	0x4b, 0xe4, 0x34, 0x1a, 0x91, 0x47, 0x2d, 0x3f, 0x64, 0x08, 0x37, 0x80, 0x37,
	0x4f, 0x9a, 0x11, 0xb2, 0xbe, 0x18, 0xe0, 0xb5, 0x17, 0x39, 0xcb, 0x0b,
};

/* RFC 8032 section 7.1, TEST 1 (empty message). */
static const uint8_t rfc_sk[32] = {
	0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
	0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
	0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
};
static const uint8_t rfc_pk[32] = {
	0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
	0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
	0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
};
static const uint8_t rfc_sig[64] = {
	0xe5, 0x56, 0x43, 0x00, 0xc3, 0x60, 0xac, 0x72, 0x90, 0x86, 0xe2, 0xcc, 0x80,
	0x6e, 0x82, 0x8a, 0x84, 0x87, 0x7f, 0x1e, 0xb8, 0xe5, 0xd9, 0x74, 0xd8, 0x73,
	0xe0, 0x65, 0x22, 0x49, 0x01, 0x55, 0x5f, 0xb8, 0x82, 0x15, 0x90, 0xa3, 0x3b,
	0xac, 0xc6, 0x1e, 0x39, 0x70, 0x1c, 0xf9, 0xb4, 0x6b, 0xd2, 0x5b, 0xf5, 0xf0,
	0x59, 0x5b, 0xbe, 0x24, 0x65, 0x51, 0x41, 0x43, 0x8e, 0x7a, 0x10, 0x0b,
};

static void fill(uint8_t *p, size_t n, uint8_t first)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(first + i);
}

static void derive_vector(struct lp_room_keys *k)
{
	uint8_t s[32], h[32], ph[32];

	fill(s, 32, 0x00);
	fill(h, 32, 0x20);
	assert_int_equal(lp_room_host_pub_derive(h, ph), 0);
	assert_memory_equal(ph, host_pub_v, 32);
	assert_int_equal(lp_room_keys_derive(s, ph, k), 0);
}

static void test_key_schedule_vector(void **state)
{
	struct lp_room_keys k;
	const uint8_t zero[sizeof(k)] = { 0 };

	(void)state;
	derive_vector(&k);
	assert_memory_equal(k.adm_seed, adm_seed_v, 32);
	assert_memory_equal(k.frame_key, frame_key_v, 32);
	assert_memory_equal(k.verifier, verifier_v, 32);
	assert_memory_equal(k.host_pub, host_pub_v, 32);
	assert_memory_equal(k.room_id, room_id_v, 16);
	lp_room_keys_wipe(&k);
	assert_memory_equal(&k, zero, sizeof(k));
}

static void test_room_id_check(void **state)
{
	uint8_t id[16], bad[16], v2[32];

	(void)state;
	assert_int_equal(lp_room_id_compute(verifier_v, host_pub_v, id), 0);
	assert_memory_equal(id, room_id_v, 16);
	assert_int_equal(lp_room_id_check(room_id_v, verifier_v, host_pub_v), 0);
	memcpy(bad, room_id_v, 16);
	bad[15] ^= 1;
	assert_int_equal(lp_room_id_check(bad, verifier_v, host_pub_v), LP_ERR_AUTH);
	/* Another verifier or host key under a known id: refused. */
	memcpy(v2, verifier_v, 32);
	v2[0] ^= 0x80;
	assert_int_equal(lp_room_id_check(room_id_v, v2, host_pub_v), LP_ERR_AUTH);
	assert_int_equal(lp_room_id_check(room_id_v, verifier_v, verifier_v), LP_ERR_AUTH);
	assert_int_equal(lp_room_id_check(NULL, verifier_v, host_pub_v), LP_ERR_INVAL);
}

static void test_admission_proof(void **state)
{
	struct lp_room_keys k;
	uint8_t e[32], e2[32], sig[64], bad[64];

	(void)state;
	derive_vector(&k);
	fill(e, 32, 0x40);
	assert_int_equal(lp_room_sign_admission(&k, e, "gateway", sig), 0);
	assert_memory_equal(sig, proof_gateway_v, 64);
	assert_int_equal(lp_room_verify_admission(verifier_v, e, "gateway", sig), 0);
	/* Bound to the role, the exporter and the verifier. */
	assert_int_equal(lp_room_verify_admission(verifier_v, e, "client", sig), LP_ERR_AUTH);
	memcpy(e2, e, 32);
	e2[31] ^= 1;
	assert_int_equal(lp_room_verify_admission(verifier_v, e2, "gateway", sig), LP_ERR_AUTH);
	assert_int_equal(lp_room_verify_admission(host_pub_v, e, "gateway", sig), LP_ERR_AUTH);
	memcpy(bad, sig, 64);
	bad[10] ^= 4;
	assert_int_equal(lp_room_verify_admission(verifier_v, e, "gateway", bad), LP_ERR_AUTH);
	/* S + L (non-canonical, same point equation): refused by both backends. */
	memcpy(bad, sig, 64);
	{
		static const uint8_t order[32] = {
			0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
			0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
			0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10,
		};
		unsigned carry = 0;
		int i;

		for (i = 0; i < 32; i++) {
			unsigned v = (unsigned)bad[32 + i] + order[i] + carry;

			bad[32 + i] = (uint8_t)v;
			carry = v >> 8;
		}
		assert_int_equal(carry, 0);
	}
	assert_int_equal(lp_room_verify_admission(verifier_v, e, "gateway", bad), LP_ERR_AUTH);
	/* Roles: lower-case letters, 1..32. */
	assert_int_equal(lp_room_sign_admission(&k, e, "", sig), LP_ERR_ROLE);
	assert_int_equal(lp_room_sign_admission(&k, e, "Gateway", sig), LP_ERR_ROLE);
	assert_int_equal(lp_room_sign_admission(&k, e, "gate way", sig), LP_ERR_ROLE);
	assert_int_equal(lp_room_sign_admission(&k, e, "abcdefghijklmnopqrstuvwxyzabcdefg", sig),
	                 LP_ERR_ROLE);
	assert_int_equal(lp_room_sign_admission(&k, e, "abcdefghijklmnopqrstuvwxyzabcdef", sig), 0);
	assert_int_equal(lp_room_verify_admission(verifier_v, e, NULL, sig), LP_ERR_INVAL);
	lp_room_keys_wipe(&k);
}

static void test_host_proof(void **state)
{
	uint8_t h[32], e[32], sig[64];

	(void)state;
	fill(h, 32, 0x20);
	fill(e, 32, 0x40);
	assert_int_equal(lp_room_sign_host(h, e, sig), 0);
	assert_memory_equal(sig, host_proof_v, 64);
	assert_int_equal(lp_room_verify_host(host_pub_v, e, sig), 0);
	/* A player holds V's seed, not H: its key cannot make a host proof. */
	assert_int_equal(lp_room_verify_host(verifier_v, e, sig), LP_ERR_AUTH);
	assert_int_equal(lp_room_sign_host(adm_seed_v, e, sig), 0);
	assert_int_equal(lp_room_verify_host(host_pub_v, e, sig), LP_ERR_AUTH);
	/* The admission and host messages differ: no cross-use. */
	assert_int_equal(lp_room_verify_admission(host_pub_v, e, "gateway", host_proof_v),
	                 LP_ERR_AUTH);
}

/* RFC 8032 TEST 1 straight through the backend (crypto.h): the proof
 * functions prefix their messages, the RFC signs the empty one. */
static void test_rfc8032_vector1(void **state)
{
	uint8_t pk[32], sig[64], bad[64];

	(void)state;
	assert_int_equal(lp_room_host_pub_derive(rfc_sk, pk), 0);
	assert_memory_equal(pk, rfc_pk, 32);
	assert_int_equal(lp_room_crypto_ed25519_sign(rfc_sk, rfc_pk, NULL, 0, sig), 0);
	assert_memory_equal(sig, rfc_sig, 64);
	assert_int_equal(lp_room_crypto_ed25519_verify(rfc_pk, NULL, 0, rfc_sig), 0);
	memcpy(bad, rfc_sig, 64);
	bad[0] ^= 1;
	assert_int_equal(lp_room_crypto_ed25519_verify(rfc_pk, NULL, 0, bad), LP_ERR_AUTH);
	assert_int_equal(lp_room_crypto_ed25519_verify(rfc_pk, (const uint8_t *)"x", 1, rfc_sig),
	                 LP_ERR_AUTH);
}

static void test_pin(void **state)
{
	uint8_t pin[32], back[32];
	char s[LP_ROOM_PIN_STR_SIZE];
	static const char want[] = "sha256:b-7MjBbFVR2f6z61934tp3O_aL2e-cUpJ86yyG5WiSs";

	(void)state;
	assert_int_equal(lp_room_pin_from_spki((const uint8_t *)"spki", 4, pin), 0);
	assert_int_equal(lp_room_pin_format(pin, s), 0);
	assert_string_equal(s, want);
	assert_int_equal(strlen(s), LP_ROOM_PIN_STR_SIZE - 1);
	assert_int_equal(lp_room_pin_parse(want, back), 0);
	assert_memory_equal(back, pin, 32);
	assert_int_equal(
	        lp_room_pin_parse("SHA256:b-7MjBbFVR2f6z61934tp3O_aL2e-cUpJ86yyG5WiSs", back),
	        LP_ERR_INVAL);
	assert_int_equal(
	        lp_room_pin_parse("sha256:b-7MjBbFVR2f6z61934tp3O_aL2e-cUpJ86yyG5WiS", back),
	        LP_ERR_INVAL);
	assert_int_equal(
	        lp_room_pin_parse("sha256:b-7MjBbFVR2f6z61934tp3O_aL2e-cUpJ86yyG5WiSs=", back),
	        LP_ERR_INVAL);
	assert_int_equal(
	        lp_room_pin_parse("sha256:b+7MjBbFVR2f6z61934tp3O/aL2e-cUpJ86yyG5WiSs", back),
	        LP_ERR_INVAL);
	/* Last character with unused bits set: another text of the same bytes. */
	assert_int_equal(
	        lp_room_pin_parse("sha256:b-7MjBbFVR2f6z61934tp3O_aL2e-cUpJ86yyG5WiSt", back),
	        LP_ERR_INVAL);
	assert_int_equal(
	        lp_room_pin_parse(" sha256:b-7MjBbFVR2f6z61934tp3O_aL2e-cUpJ86yyG5WiSs", back),
	        LP_ERR_INVAL);
	assert_int_equal(lp_room_pin_parse("", back), LP_ERR_INVAL);
	assert_memory_equal(back, pin, 32); /* untouched by every failure */
}

static void test_b64url(void **state)
{
	/* RFC 4648 section 10, in the url alphabet and without padding. */
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" },
		{ "f", "Zg" },
		{ "fo", "Zm8" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg" },
		{ "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" },
	};
	uint8_t all[256], back[256];
	char text[400];
	ssize_t n;
	size_t i;

	(void)state;
	for (i = 0; i < LP_ARRAY_LEN(v); i++) {
		size_t len = strlen(v[i].in);

		n = lp_room_b64url_encode((const uint8_t *)v[i].in, len, text, sizeof(text));
		assert_int_equal(n, strlen(v[i].out));
		assert_string_equal(text, v[i].out);
		n = lp_room_b64url_decode(v[i].out, strlen(v[i].out), back, sizeof(back));
		assert_int_equal(n, len);
		assert_memory_equal(back, v[i].in, len);
	}
	for (i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	n = lp_room_b64url_encode(all, 256, text, sizeof(text));
	assert_int_equal(n, LP_ROOM_B64_LEN(256));
	assert_non_null(strchr(text, '-'));
	assert_non_null(strchr(text, '_'));
	assert_int_equal(lp_room_b64url_decode(text, (size_t)n, back, sizeof(back)), 256);
	assert_memory_equal(back, all, 256);
	/* Buffers exactly the size needed, and one short. */
	assert_int_equal(lp_room_b64url_encode(all, 3, text, 5), 4);
	assert_int_equal(lp_room_b64url_encode(all, 3, text, 4), LP_ERR_NOBUF);
	assert_int_equal(lp_room_b64url_decode("Zm9v", 4, back, 3), 3);
	assert_int_equal(lp_room_b64url_decode("Zm9v", 4, back, 2), LP_ERR_NOBUF);
	/* Refusals. */
	assert_int_equal(lp_room_b64url_decode("Zg==", 4, back, sizeof(back)), LP_ERR_INVAL);
	assert_int_equal(lp_room_b64url_decode("Z", 1, back, sizeof(back)), LP_ERR_INVAL);
	assert_int_equal(lp_room_b64url_decode("Zh", 2, back, sizeof(back)), LP_ERR_INVAL);
	assert_int_equal(lp_room_b64url_decode("Zm+v", 4, back, sizeof(back)), LP_ERR_INVAL);
	assert_int_equal(lp_room_b64url_decode("Zm/v", 4, back, sizeof(back)), LP_ERR_INVAL);
	assert_int_equal(lp_room_b64url_decode("Zm v", 4, back, sizeof(back)), LP_ERR_INVAL);
	assert_int_equal(lp_room_b64url_decode("Zm\0v", 4, back, sizeof(back)), LP_ERR_INVAL);
	assert_int_equal(lp_room_b64url_decode("Zm\xc3v", 4, back, sizeof(back)), LP_ERR_INVAL);
	assert_int_equal(lp_room_b64url_decode_exact("Zm9v", back, 3), 0);
	assert_int_equal(lp_room_b64url_decode_exact("Zm9v", back, 2), LP_ERR_INVAL);
	assert_int_equal(lp_room_b64url_decode_exact("Zm9vYg", back, 3), LP_ERR_INVAL);
}

static void test_ct_equal_and_random(void **state)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 }, r1[32], r2[32];
	int i;

	(void)state;
	assert_int_equal(lp_room_ct_equal(a, b, 32), 1);
	for (i = 0; i < 32; i++) {
		b[i] = 0x80;
		assert_int_equal(lp_room_ct_equal(a, b, 32), 0);
		b[i] = 1;
		assert_int_equal(lp_room_ct_equal(a, b, 32), 0);
		b[i] = 0;
	}
	assert_int_equal(lp_room_ct_equal(a, b, 0), 1);
	assert_int_equal(lp_room_random(r1, 32), 0);
	assert_int_equal(lp_room_random(r2, 32), 0);
	assert_int_equal(lp_room_ct_equal(r1, r2, 32), 0);
	lp_room_wipe(r1, 32);
	assert_memory_equal(r1, a, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_schedule_vector),
		cmocka_unit_test(test_room_id_check),
		cmocka_unit_test(test_admission_proof),
		cmocka_unit_test(test_host_proof),
		cmocka_unit_test(test_rfc8032_vector1),
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_ct_equal_and_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
