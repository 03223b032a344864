/*
 * test_quic_pin.c - the relay's key pin (SHA-256 of its certificate's
 * SubjectPublicKeyInfo) and the TLS exporter, on 127.0.0.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "harness.h"
#include "quic_internal.h" /* the ngtcp2 connection, for a key update */

#define SEC LP_NS_PER_SEC

static bool established(struct h_env *e, void *arg)
{
	int i = *(int *)arg;

	return e->cl[i].p.established && e->s.npeers > (size_t)i &&
	       e->s.peers[e->s.npeers - 1].established;
}

static bool closed(struct h_env *e, void *arg)
{
	return e->cl[*(int *)arg].p.closed;
}

static void start_server(struct h_env *e)
{
	struct lp_quic_server_cfg scfg;

	memset(&scfg, 0, sizeof(scfg));
	scfg.dev_cert_names = "localhost";
	assert_int_equal(h_server_start(e, &scfg), 0);
}

/* A server, and a client configuration that pins its key. */
static void start_pinned(struct h_env *e, struct lp_quic_client_cfg *c)
{
	h_env_init(e);
	start_server(e);
	memset(c, 0, sizeof(*c));
	c->spki_pin_set = true;
	assert_int_equal(lp_quic_ctx_cert_pin(e->s.ctx, c->spki_pin), 0);
}

/* Our DER walk pins what GnuTLS calls the key's SHA-256 key id, and what
 * hashing GnuTLS's own export of the SubjectPublicKeyInfo gives. */
static void test_pin_is_spki_sha256(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	uint8_t pin[LP_QUIC_PIN_LEN], id[64], h[32];
	size_t idlen = sizeof(id);
	const uint8_t *der;
	size_t len;
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t pub;
	gnutls_datum_t d, spki = { NULL, 0 };

	(void)state;
	h_env_init(e);
	start_server(e);
	assert_int_equal(lp_quic_ctx_cert_der(e->s.ctx, &der, &len), 0);
	assert_int_equal(lp_quic_ctx_cert_pin(e->s.ctx, pin), 0);
	d.data = (unsigned char *)(uintptr_t)der;
	d.size = (unsigned)len;
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER), 0);
	assert_int_equal(gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, id, &idlen), 0);
	assert_int_equal(idlen, 32);
	assert_memory_equal(pin, id, 32);
	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	assert_int_equal(gnutls_pubkey_import_x509(pub, crt, 0), 0);
	assert_int_equal(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki), 0);
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, h), 0);
	assert_memory_equal(pin, h, 32);
	gnutls_free(spki.data);
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(crt);
	/* Garbage and truncations never parse. */
	assert_int_not_equal(lp_quic_cert_pin(der, len / 2, h), 0);
	assert_int_not_equal(lp_quic_cert_pin((const uint8_t *)"\x30\x03\x02\x01\x00", 5, h), 0);
	h_env_free(e);
	free(e);
}

/* The pin alone is the trust: no name, no certificate file. Both ends get
 * the same exporter; another connection gets another one. */
static void test_pin_connects_and_exporter(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_client_cfg c;
	uint8_t ea[32], eb[32], e2[32], pp[LP_QUIC_PIN_LEN];
	int zero = 0, one = 1;

	(void)state;
	start_pinned(e, &c);
	assert_int_equal(h_client_start(e, 0, &c), 0);
	assert_int_equal(lp_quic_conn_exporter(e->cl[0].p.c, LP_QUIC_EXPORTER_ADMISSION, ea, 32),
	                 LP_ERR_STATE);
	assert_int_equal(lp_quic_conn_peer_pin(e->cl[0].p.c, pp), LP_ERR_STATE);
	assert_true(h_pump(e, 5 * SEC, established, &zero));
	assert_int_equal(lp_quic_conn_exporter(e->cl[0].p.c, LP_QUIC_EXPORTER_ADMISSION, ea, 32),
	                 0);
	assert_int_equal(lp_quic_conn_exporter(e->s.peers[0].c, LP_QUIC_EXPORTER_ADMISSION, eb, 32),
	                 0);
	assert_memory_equal(ea, eb, 32);
	assert_int_equal(lp_quic_conn_exporter(e->s.peers[0].c, "EXPORTER-other", eb, 32), 0);
	assert_memory_not_equal(ea, eb, 32);
	assert_int_equal(lp_quic_conn_peer_pin(e->cl[0].p.c, pp), 0);
	assert_memory_equal(pp, c.spki_pin, LP_QUIC_PIN_LEN);
	assert_int_equal(lp_quic_conn_peer_pin(e->s.peers[0].c, pp), LP_ERR_STATE);

	assert_int_equal(h_client_start(e, 1, &c), 0);
	assert_true(h_pump(e, 5 * SEC, established, &one));
	assert_int_equal(lp_quic_conn_exporter(e->cl[1].p.c, LP_QUIC_EXPORTER_ADMISSION, e2, 32),
	                 0);
	assert_memory_not_equal(ea, e2, 32);
	h_env_free(e);
	free(e);
}

/* One flipped bit of the pin, or a right pin with a wrong certificate file
 * next to it: the handshake fails as a certificate error. */
static void test_wrong_pin_refused(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_client_cfg c;
	char other[256];
	uint8_t junk[300];
	FILE *f;
	int zero = 0, one = 1;

	(void)state;
	start_pinned(e, &c);
	c.spki_pin[31] ^= 0x01;
	assert_int_equal(h_client_start(e, 0, &c), 0);
	assert_true(h_pump(e, 5 * SEC, closed, &zero));
	assert_int_equal(e->cl[0].p.closed_err, LP_ERR_CERT);
	assert_false(e->cl[0].p.established);

	c.spki_pin[31] ^= 0x01;
	snprintf(other, sizeof(other), "%s/other.der", h_tmpdir());
	memset(junk, 0x30, sizeof(junk));
	f = fopen(other, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
	c.pin_der_file = other;
	assert_int_equal(h_client_start(e, 1, &c), 0);
	assert_true(h_pump(e, 5 * SEC, closed, &one));
	assert_int_equal(e->cl[1].p.closed_err, LP_ERR_CERT);
	h_env_free(e);
	free(e);
}

struct dg_want {
	struct h_peer *p;
	uint64_t n;
};

static bool dgrams_have(struct h_env *e, void *arg)
{
	const struct dg_want *w = arg;

	(void)e;
	return w->p->dgrams >= w->n;
}

/* n datagrams from a to b; true when all arrived intact. */
static bool datagrams(struct h_env *e, struct h_peer *a, struct h_peer *b, uint32_t n)
{
	struct dg_want w = { b, b->dgrams + n };
	uint8_t dg[600];

	for (uint32_t i = 0; i < n; i++) {
		h_fill(dg, sizeof(dg), i);
		if (lp_quic_conn_datagram_send(a->c, dg, sizeof(dg)) != 0)
			return false;
	}
	return h_pump(e, 5 * SEC, dgrams_have, &w) && b->dgram_bad == 0;
}

/* A server connection that dropped its TLS session keeps the admission
 * exporter (and nothing else of TLS), and still carries datagrams both
 * ways, across a key update (which ngtcp2 derives without the session). */
static void test_shed_tls(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_client_cfg c;
	struct h_peer *sp, *cp;
	uint8_t ea[32], eb[32];
	int zero = 0;

	(void)state;
	start_pinned(e, &c);
	assert_int_equal(h_client_start(e, 0, &c), 0);
	assert_int_equal(lp_quic_conn_shed_tls(e->cl[0].p.c), LP_ERR_STATE); /* a client */
	assert_true(h_pump(e, 5 * SEC, established, &zero));
	cp = &e->cl[0].p;
	sp = &e->s.peers[0];
	assert_int_equal(lp_quic_conn_shed_tls(cp->c), LP_ERR_STATE);
	assert_int_equal(lp_quic_conn_exporter(cp->c, LP_QUIC_EXPORTER_ADMISSION, ea, 32), 0);
	assert_non_null(sp->c->tls);
	assert_int_equal(lp_quic_conn_shed_tls(sp->c), 0);
	assert_null(sp->c->tls);
	assert_int_equal(lp_quic_conn_shed_tls(sp->c), 0); /* again: nothing to do */
	assert_int_equal(lp_quic_conn_exporter(sp->c, LP_QUIC_EXPORTER_ADMISSION, eb, 32), 0);
	assert_memory_equal(ea, eb, 32);
	assert_int_equal(lp_quic_conn_exporter(sp->c, "EXPORTER-other", eb, 32), LP_ERR_STATE);
	assert_int_equal(lp_quic_conn_exporter(sp->c, LP_QUIC_EXPORTER_ADMISSION, eb, 16),
	                 LP_ERR_STATE);

	assert_true(datagrams(e, cp, sp, 20));
	assert_true(datagrams(e, sp, cp, 20));
	assert_int_equal(ngtcp2_conn_initiate_key_update(cp->c->q, lp_loop_now(e->loop)), 0);
	assert_true(datagrams(e, cp, sp, 20));
	assert_true(datagrams(e, sp, cp, 20));
	assert_int_equal(lp_quic_conn_state(sp->c), LP_QUIC_ESTABLISHED);
	assert_int_equal(lp_quic_conn_state(cp->c), LP_QUIC_ESTABLISHED);
	h_env_free(e);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_is_spki_sha256),
		cmocka_unit_test(test_pin_connects_and_exporter),
		cmocka_unit_test(test_shed_tls),
		cmocka_unit_test(test_wrong_pin_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
