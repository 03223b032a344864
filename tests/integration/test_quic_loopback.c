/*
 * test_quic_loopback.c - lib/quic end to end on 127.0.0.1: a server and
 * clients in one process over real UDP sockets (GSO/GRO, pktinfo).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "harness.h"

#define SEC LP_NS_PER_SEC

static char g_pin[256];

static void path_in_tmp(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", h_tmpdir(), name);
}

static void start_dev_server(struct h_env *e)
{
	struct lp_quic_server_cfg scfg;

	memset(&scfg, 0, sizeof(scfg));
	scfg.dev_cert_names = "localhost,127.0.0.1";
	path_in_tmp(g_pin, sizeof(g_pin), "relay.der");
	scfg.dev_cert_der_out = g_pin;
	assert_int_equal(h_server_start(e, &scfg), 0);
}

static void pin_cfg(struct lp_quic_client_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->pin_der_file = g_pin;
}

static bool both_established(struct h_env *e, void *arg)
{
	int i = arg ? *(int *)arg : 0;

	return e->cl[i].p.established && e->s.npeers > 0 && e->s.peers[e->s.npeers - 1].established;
}

static bool client_closed(struct h_env *e, void *arg)
{
	int i = arg ? *(int *)arg : 0;

	return e->cl[i].p.closed;
}

static bool pmtud_done(struct h_env *e, void *arg)
{
	struct lp_quic_conn_info ci;

	(void)arg;
	lp_quic_conn_info(e->cl[0].p.c, &ci);
	return ci.pmtud_done;
}

struct want {
	struct h_peer *p;
	size_t n;
};

static bool stream_has(struct h_env *e, void *arg)
{
	struct want *w = arg;

	(void)e;
	return w->p->stream_len >= w->n;
}

static bool dgrams_have(struct h_env *e, void *arg)
{
	struct want *w = arg;

	(void)e;
	return w->p->dgrams >= w->n;
}

/* ---- handshake, stream, datagrams ---------------------------------------- */

static void test_handshake_stream_datagrams(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_client_cfg ccfg;
	struct lp_quic_conn_info ci;
	struct h_peer *sp;
	static uint8_t big[100 * 1024];
	uint8_t dg[1500];
	size_t budget;
	uint64_t t0, t1, sent = 0;
	struct want w;

	(void)state;
	h_env_init(e);
	start_dev_server(e);
	pin_cfg(&ccfg);
	assert_int_equal(h_client_start(e, 0, &ccfg), 0);
	/* Before the handshake: no budget, no sending. */
	assert_int_equal(lp_quic_conn_datagram_budget(e->cl[0].p.c), 0);
	assert_int_equal(lp_quic_conn_state(e->cl[0].p.c), LP_QUIC_HANDSHAKING);
	assert_int_equal(lp_quic_conn_datagram_send(e->cl[0].p.c, dg, 100), LP_ERR_STATE);
	assert_int_equal(lp_quic_conn_stream_send(e->cl[0].p.c, dg, 10), LP_ERR_STATE);

	assert_true(h_pump(e, 5 * SEC, both_established, NULL));
	assert_int_equal(lp_quic_conn_state(e->cl[0].p.c), LP_QUIC_ESTABLISHED);
	assert_int_equal(lp_quic_server_conn_count(e->s.srv), 1);
	sp = &e->s.peers[0];
	budget = lp_quic_conn_datagram_budget(e->cl[0].p.c);
	assert_true(budget >= 1100);

	/* Control stream both ways, 100 KB each: flow control credit has to
	 * be returned and unacked bytes retained. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(lp_quic_conn_stream_send(e->cl[0].p.c, (const uint8_t *)"hello", 5), 0);
	assert_int_equal(lp_quic_conn_stream_send(e->cl[0].p.c, big, sizeof(big)), 0);
	w.p = sp;
	w.n = 5 + sizeof(big);
	assert_true(h_pump(e, 10 * SEC, stream_has, &w));
	assert_int_equal(sp->stream_len, 5 + sizeof(big));
	assert_memory_equal(sp->stream, "hello", 5);
	assert_memory_equal(sp->stream + 5, big, sizeof(big));
	assert_int_equal(lp_quic_conn_stream_send(sp->c, big, sizeof(big)), 0);
	w.p = &e->cl[0].p;
	w.n = sizeof(big);
	assert_true(h_pump(e, 10 * SEC, stream_has, &w));
	assert_memory_equal(e->cl[0].p.stream, big, sizeof(big));

	/* PMTUD raises the budget. */
	assert_true(h_pump(e, 10 * SEC, pmtud_done, NULL));
	lp_quic_conn_info(e->cl[0].p.c, &ci);
	budget = lp_quic_conn_datagram_budget(e->cl[0].p.c);
	printf("# after PMTUD: path max UDP payload %zu, datagram budget %zu, srtt %.3f ms\n",
	       ci.max_udp_payload, budget, (double)ci.smoothed_rtt_ns / 1e6);
	assert_true(budget >= 1350);
	assert_int_equal(ci.datagram_budget, budget);
	assert_int_equal(lp_quic_conn_datagram_send(e->cl[0].p.c, dg, budget + 1), LP_ERR_TOO_BIG);

	/* 1000 datagrams of 1200 bytes; when the queue is full, let it drain. */
	t0 = lp_now_ns();
	for (uint32_t seq = 0; seq < 1000;) {
		int rv;

		h_fill(dg, 1200, seq);
		if (lp_quic_conn_datagram_room(e->cl[0].p.c) == 0) {
			h_pump(e, 1000000, NULL, NULL);
			continue;
		}
		rv = lp_quic_conn_datagram_send(e->cl[0].p.c, dg, 1200);
		if (rv == LP_ERR_AGAIN) {
			h_pump(e, 1000000, NULL, NULL);
			continue;
		}
		assert_int_equal(rv, 0);
		sent++;
		seq++;
		if (seq % 64 == 0)
			h_flush(e);
	}
	w.p = sp;
	w.n = 1000;
	h_pump(e, 5 * SEC, dgrams_have, &w);
	t1 = lp_now_ns();
	lp_quic_conn_info(e->cl[0].p.c, &ci);
	printf("# 1000 x 1200 B datagrams: %llu delivered, %llu lost, %llu queue drops, "
	       "%.1f Mbit/s\n",
	       (unsigned long long)sp->dgrams, (unsigned long long)ci.datagrams_lost,
	       (unsigned long long)ci.datagrams_queue_drops,
	       (double)sp->dgram_bytes * 8 * 1e3 / (double)(t1 - t0));
	assert_true(sp->dgrams >= 990);
	assert_int_equal(sp->dgram_bad, 0);

	/* Largest datagram that fits is delivered whole. */
	h_fill(dg, budget, 5000);
	assert_int_equal(lp_quic_conn_datagram_send(e->cl[0].p.c, dg, budget), 0);
	w.n = sp->dgrams + 1;
	assert_true(h_pump(e, 2 * SEC, dgrams_have, &w));
	assert_int_equal(sp->dgram_bad, 0);

	/* Server -> client datagrams too. */
	for (uint32_t seq = 0; seq < 100; seq++) {
		h_fill(dg, 1000, seq);
		assert_int_equal(lp_quic_conn_datagram_send(sp->c, dg, 1000), 0);
	}
	w.p = &e->cl[0].p;
	w.n = 100;
	assert_true(h_pump(e, 2 * SEC, dgrams_have, &w));
	assert_int_equal(e->cl[0].p.dgram_bad, 0);
	h_env_free(e);
	free(e);
}

/* Bulk throughput one way (printed; asserted only loosely). */
static void test_bulk_throughput(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_client_cfg ccfg;
	struct lp_quic_conn_info ci;
	uint8_t dg[1500];
	const uint32_t n = 50000;
	uint64_t t0, t1;
	struct want w;

	(void)state;
	h_env_init(e);
	start_dev_server(e);
	pin_cfg(&ccfg);
	ccfg.datagram_queue = 512;
	assert_int_equal(h_client_start(e, 0, &ccfg), 0);
	assert_true(h_pump(e, 5 * SEC, both_established, NULL));
	assert_true(h_pump(e, 10 * SEC, pmtud_done, NULL));
	t0 = lp_now_ns();
	for (uint32_t seq = 0; seq < n;) {
		int rv;

		h_fill(dg, 1300, seq);
		if (lp_quic_conn_datagram_room(e->cl[0].p.c) == 0) {
			h_pump(e, 200000, NULL, NULL);
			continue;
		}
		rv = lp_quic_conn_datagram_send(e->cl[0].p.c, dg, 1300);
		if (rv == LP_ERR_AGAIN) {
			h_pump(e, 200000, NULL, NULL);
			continue;
		}
		assert_int_equal(rv, 0);
		seq++;
	}
	w.p = &e->s.peers[0];
	w.n = n;
	h_pump(e, 2 * SEC, dgrams_have, &w);
	t1 = lp_now_ns();
	lp_quic_conn_info(e->cl[0].p.c, &ci);
	printf("# bulk %u x 1300 B: %llu delivered (%.2f%%), %.1f Mbit/s, cwnd %llu, lost %llu\n",
	       n, (unsigned long long)w.p->dgrams, 100.0 * (double)w.p->dgrams / n,
	       (double)w.p->dgram_bytes * 8 * 1e3 / (double)(t1 - t0), (unsigned long long)ci.cwnd,
	       (unsigned long long)ci.datagrams_lost);
	assert_true(w.p->dgrams >= n * 9 / 10);
	h_env_free(e);
	free(e);
}

/* ---- trust ------------------------------------------------------------------ */

static void test_wrong_pin(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_client_cfg ccfg;
	char other[256];
	FILE *f;
	uint8_t junk[300];

	(void)state;
	h_env_init(e);
	start_dev_server(e);
	/* Same shape as a DER certificate but different bytes. */
	path_in_tmp(other, sizeof(other), "other.der");
	memset(junk, 0x30, sizeof(junk));
	f = fopen(other, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.pin_der_file = other;
	assert_int_equal(h_client_start(e, 0, &ccfg), 0);
	assert_true(h_pump(e, 5 * SEC, client_closed, NULL));
	assert_int_equal(e->cl[0].p.closed_err, LP_ERR_CERT);
	assert_false(e->cl[0].p.established);
	/* A missing pin file fails at context creation. */
	ccfg.pin_der_file = "/nonexistent/relay.der";
	{
		struct lp_quic_ctx *ctx = NULL;

		assert_int_equal(lp_quic_ctx_new_client(&ccfg, NULL, &ctx), LP_ERR_IO);
		assert_null(ctx);
	}
	/* No name and no pin: refused. */
	memset(&ccfg, 0, sizeof(ccfg));
	{
		struct lp_quic_ctx *ctx = NULL;

		assert_int_equal(lp_quic_ctx_new_client(&ccfg, NULL, &ctx), LP_ERR_INVAL);
	}
	h_env_free(e);
	free(e);
}

/* CA + leaf for "relay.test", written as PEM files. */
static void write_pem(const char *path, gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	gnutls_datum_t d = { NULL, 0 };
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	if (crt != NULL)
		assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), 0);
	else
		assert_int_equal(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d), 0);
	assert_int_equal(fwrite(d.data, 1, d.size, f), d.size);
	fclose(f);
	gnutls_free(d.data);
}

static void make_cert(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn, bool ca,
                      unsigned serial)
{
	time_t now = time(NULL);
	uint8_t ser[2] = { 1, (uint8_t)serial };

	assert_int_equal(
	        gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	                                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	        0);
	assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(crt, ser, sizeof(ser)), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(crt, now - 3600), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, now + 86400), 0);
	assert_int_equal(gnutls_x509_crt_set_key(crt, key), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
	                                               (unsigned)strlen(cn)),
	                 0);
	assert_int_equal(gnutls_x509_crt_set_basic_constraints(crt, ca ? 1 : 0, -1), 0);
	if (ca) {
		assert_int_equal(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN |
		                                                            GNUTLS_KEY_CRL_SIGN),
		                 0);
	} else {
		assert_int_equal(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE),
		                 0);
		assert_int_equal(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, cn,
		                                                      (unsigned)strlen(cn),
		                                                      GNUTLS_FSAN_SET),
		                 0);
	}
}

static char g_ca[256], g_leaf[256], g_leaf_key[256];

static void make_ca_files(void)
{
	gnutls_x509_crt_t ca, leaf;
	gnutls_x509_privkey_t cakey, leafkey;

	if (g_ca[0] != '\0')
		return;
	path_in_tmp(g_ca, sizeof(g_ca), "ca.pem");
	path_in_tmp(g_leaf, sizeof(g_leaf), "leaf.pem");
	path_in_tmp(g_leaf_key, sizeof(g_leaf_key), "leaf.key");
	assert_int_equal(gnutls_x509_crt_init(&ca), 0);
	assert_int_equal(gnutls_x509_crt_init(&leaf), 0);
	assert_int_equal(gnutls_x509_privkey_init(&cakey), 0);
	assert_int_equal(gnutls_x509_privkey_init(&leafkey), 0);
	make_cert(ca, cakey, "Test Relay CA", true, 1);
	assert_int_equal(gnutls_x509_crt_sign2(ca, ca, cakey, GNUTLS_DIG_SHA256, 0), 0);
	make_cert(leaf, leafkey, "relay.test", false, 2);
	assert_int_equal(gnutls_x509_crt_sign2(leaf, ca, cakey, GNUTLS_DIG_SHA256, 0), 0);
	write_pem(g_ca, ca, NULL);
	write_pem(g_leaf, leaf, NULL);
	write_pem(g_leaf_key, NULL, leafkey);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_privkey_deinit(cakey);
	gnutls_x509_privkey_deinit(leafkey);
}

static void test_ca_trust(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_server_cfg scfg;
	struct lp_quic_client_cfg ccfg;
	int one = 1;

	(void)state;
	make_ca_files();
	h_env_init(e);
	memset(&scfg, 0, sizeof(scfg));
	scfg.cert_file = g_leaf;
	scfg.key_file = g_leaf_key;
	assert_int_equal(h_server_start(e, &scfg), 0);
	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.ca_file = g_ca;
	ccfg.server_name = "relay.test";
	assert_int_equal(h_client_start(e, 0, &ccfg), 0);
	assert_true(h_pump(e, 5 * SEC, both_established, NULL));
	/* Wrong name: refused as a certificate problem. */
	ccfg.server_name = "other.test";
	assert_int_equal(h_client_start(e, 1, &ccfg), 0);
	assert_true(h_pump(e, 5 * SEC, client_closed, &one));
	assert_int_equal(e->cl[1].p.closed_err, LP_ERR_CERT);
	assert_false(e->cl[1].p.established);
	/* A CA file that is not there. */
	ccfg.ca_file = "/nonexistent/ca.pem";
	{
		struct lp_quic_ctx *ctx = NULL;

		assert_int_not_equal(lp_quic_ctx_new_client(&ccfg, NULL, &ctx), 0);
		assert_null(ctx);
	}
	h_env_free(e);
	free(e);
}

static void test_cert_reload(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_client_cfg ccfg;
	const uint8_t *der1, *der2;
	size_t len1, len2;
	uint8_t *copy;
	int one = 1, two = 2;
	uint8_t dg[200];
	struct want w;

	(void)state;
	make_ca_files();
	h_env_init(e);
	start_dev_server(e);
	assert_int_equal(lp_quic_ctx_cert_der(e->s.ctx, &der1, &len1), 0);
	copy = malloc(len1);
	memcpy(copy, der1, len1);
	pin_cfg(&ccfg);
	assert_int_equal(h_client_start(e, 0, &ccfg), 0);
	assert_true(h_pump(e, 5 * SEC, both_established, NULL));

	/* Bad reload keeps the old pair. */
	assert_int_not_equal(lp_quic_ctx_reload_cert(e->s.ctx, "/nonexistent", g_leaf_key), 0);
	assert_int_equal(lp_quic_ctx_cert_der(e->s.ctx, &der2, &len2), 0);
	assert_int_equal(len2, len1);
	assert_memory_equal(der2, copy, len1);

	assert_int_equal(lp_quic_ctx_reload_cert(e->s.ctx, g_leaf, g_leaf_key), 0);
	assert_int_equal(lp_quic_ctx_cert_der(e->s.ctx, &der2, &len2), 0);
	assert_false(len2 == len1 && memcmp(der2, copy, len1) == 0);

	/* New connections: the old pin fails, CA trust works. */
	assert_int_equal(h_client_start(e, 1, &ccfg), 0);
	assert_true(h_pump(e, 5 * SEC, client_closed, &one));
	assert_int_equal(e->cl[1].p.closed_err, LP_ERR_CERT);
	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.ca_file = g_ca;
	ccfg.server_name = "relay.test";
	assert_int_equal(h_client_start(e, 2, &ccfg), 0);
	assert_true(h_pump(e, 5 * SEC, both_established, &two));

	/* The established connection is untouched. */
	h_fill(dg, sizeof(dg), 1);
	assert_int_equal(lp_quic_conn_datagram_send(e->cl[0].p.c, dg, sizeof(dg)), 0);
	w.p = &e->s.peers[0];
	w.n = 1;
	assert_true(h_pump(e, 2 * SEC, dgrams_have, &w));
	assert_int_equal(lp_quic_conn_state(e->cl[0].p.c), LP_QUIC_ESTABLISHED);
	free(copy);
	h_env_free(e);
	free(e);
}

/* ---- closing ---------------------------------------------------------------- */

static void test_idle_timeout(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_client_cfg ccfg;
	uint64_t t0;

	(void)state;
	h_env_init(e);
	start_dev_server(e);
	pin_cfg(&ccfg);
	ccfg.idle_timeout_ns = 300 * LP_NS_PER_MS;
	ccfg.keepalive_ns = 10 * SEC; /* longer than the idle timeout */
	assert_int_equal(h_client_start(e, 0, &ccfg), 0);
	assert_true(h_pump(e, 5 * SEC, both_established, NULL));
	e->s.paused = true; /* the server goes silent */
	t0 = lp_now_ns();
	assert_true(h_pump(e, 5 * SEC, client_closed, NULL));
	assert_int_equal(e->cl[0].p.closed_err, LP_ERR_TIMEOUT);
	assert_int_equal(lp_quic_conn_state(e->cl[0].p.c), LP_QUIC_CLOSED);
	assert_true(lp_now_ns() - t0 >= 250 * LP_NS_PER_MS);
	assert_true(lp_now_ns() - t0 < 3 * SEC);
	h_env_free(e);
	free(e);
}

static void test_keepalive_keeps_idle_conn(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_client_cfg ccfg;

	(void)state;
	h_env_init(e);
	start_dev_server(e);
	pin_cfg(&ccfg);
	ccfg.idle_timeout_ns = 400 * LP_NS_PER_MS;
	ccfg.keepalive_ns = 100 * LP_NS_PER_MS;
	assert_int_equal(h_client_start(e, 0, &ccfg), 0);
	assert_true(h_pump(e, 5 * SEC, both_established, NULL));
	/* No application traffic for 1.5 s: PINGs keep it open. */
	assert_false(h_pump(e, 1500 * LP_NS_PER_MS, client_closed, NULL));
	assert_int_equal(lp_quic_conn_state(e->cl[0].p.c), LP_QUIC_ESTABLISHED);
	h_env_free(e);
	free(e);
}

/* A caller's timers may run with a now read before the one the handshake
 * completed at (a loop's cached time after fresh reads): PMTUD is not
 * settled by it. It was, at 1200 bytes, when the age wrapped below zero,
 * and the relay then refused the hello's budget. */
static void test_pmtud_stale_now(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_client_cfg ccfg;
	struct lp_quic_conn_info ci;
	uint64_t t0;

	(void)state;
	h_env_init(e);
	start_dev_server(e);
	pin_cfg(&ccfg);
	t0 = lp_now_ns();
	assert_int_equal(h_client_start(e, 0, &ccfg), 0);
	assert_true(h_pump(e, 5 * SEC, both_established, NULL));
	assert_int_equal(lp_quic_conn_handle_expiry(e->cl[0].p.c, t0), 0);
	lp_quic_conn_info(e->cl[0].p.c, &ci);
	/* On loopback the first probe is rarely answered yet; if it was, the
	 * path settled for real. */
	if (ci.max_udp_payload < 1444)
		assert_false(ci.pmtud_done);
	assert_true(h_pump(e, 10 * SEC, pmtud_done, NULL));
	lp_quic_conn_info(e->cl[0].p.c, &ci);
	assert_int_equal(ci.max_udp_payload, 1444);
	h_env_free(e);
	free(e);
}

static bool server_empty(struct h_env *e, void *arg)
{
	(void)arg;
	return lp_quic_server_conn_count(e->s.srv) == 0;
}

static bool server_peer_closed(struct h_env *e, void *arg)
{
	(void)arg;
	return e->s.npeers > 0 && e->s.peers[0].closed;
}

static void test_graceful_close(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_client_cfg ccfg;
	struct want w;

	(void)state;
	h_env_init(e);
	start_dev_server(e);
	pin_cfg(&ccfg);
	assert_int_equal(h_client_start(e, 0, &ccfg), 0);
	assert_true(h_pump(e, 5 * SEC, both_established, NULL));
	/* Bytes queued just before the close are flushed first. */
	assert_int_equal(lp_quic_conn_stream_send(e->cl[0].p.c, (const uint8_t *)"bye!", 4), 0);
	lp_quic_conn_close(e->cl[0].p.c, LP_QUIC_APP_SHUTDOWN, "client leaving");
	assert_int_equal(lp_quic_conn_state(e->cl[0].p.c), LP_QUIC_CLOSING);
	assert_int_equal(lp_quic_conn_stream_send(e->cl[0].p.c, (const uint8_t *)"x", 1),
	                 LP_ERR_STATE);
	assert_true(h_pump(e, 5 * SEC, server_peer_closed, NULL));
	w.p = &e->s.peers[0];
	assert_int_equal(w.p->stream_len, 4);
	assert_memory_equal(w.p->stream, "bye!", 4);
	assert_int_equal(e->s.peers[0].closed_err, LP_OK);
	assert_int_equal(e->s.peers[0].closed_code, LP_QUIC_APP_SHUTDOWN);
	assert_string_equal(e->s.peers[0].closed_reason, "client leaving");
	/* Our side finishes its closing period and reports a clean close. */
	assert_true(h_pump(e, 5 * SEC, client_closed, NULL));
	assert_int_equal(e->cl[0].p.closed_err, LP_OK);
	assert_int_equal(lp_quic_conn_state(e->cl[0].p.c), LP_QUIC_CLOSED);
	/* The server frees its side after draining. */
	assert_true(h_pump(e, 5 * SEC, server_empty, NULL));
	h_env_free(e);
	free(e);
}

static void test_server_close_all(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_client_cfg ccfg;

	(void)state;
	h_env_init(e);
	start_dev_server(e);
	pin_cfg(&ccfg);
	assert_int_equal(h_client_start(e, 0, &ccfg), 0);
	assert_true(h_pump(e, 5 * SEC, both_established, NULL));
	lp_quic_server_close_all(e->s.srv, LP_QUIC_APP_SHUTDOWN, "relay shutting down");
	assert_true(h_pump(e, 5 * SEC, client_closed, NULL));
	assert_int_equal(e->cl[0].p.closed_err, LP_OK);
	assert_int_equal(e->cl[0].p.closed_code, LP_QUIC_APP_SHUTDOWN);
	assert_string_equal(e->cl[0].p.closed_reason, "relay shutting down");
	h_env_free(e);
	free(e);
}

static void test_refused(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_client_cfg ccfg;

	(void)state;
	h_env_init(e);
	start_dev_server(e);
	e->s.refuse_all = true;
	pin_cfg(&ccfg);
	assert_int_equal(h_client_start(e, 0, &ccfg), 0);
	assert_true(h_pump(e, 5 * SEC, client_closed, NULL));
	assert_int_equal(e->cl[0].p.closed_err, LP_ERR_QUIC);
	assert_false(e->cl[0].p.established);
	h_env_free(e);
	free(e);
}

/* ---- many clients ------------------------------------------------------------ */

static bool all_established(struct h_env *e, void *arg)
{
	int n = *(int *)arg;
	int est = 0;

	for (int i = 0; i < n; i++)
		est += e->cl[i].p.established;
	return est == n && e->s.npeers == (size_t)n;
}

static bool all_got(struct h_env *e, void *arg)
{
	int n = *(int *)arg;

	for (int i = 0; i < n; i++)
		if (e->s.peers[i].dgrams < 10 || e->s.peers[i].stream_len < 4 ||
		    e->cl[i].p.stream_len < 4)
			return false;
	return true;
}

static void test_fifty_clients(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_client_cfg ccfg;
	uint8_t dg[500];
	int n = 50;

	(void)state;
	h_env_init(e);
	start_dev_server(e);
	pin_cfg(&ccfg);
	for (int i = 0; i < n; i++)
		assert_int_equal(h_client_start(e, i, &ccfg), 0);
	assert_true(h_pump(e, 10 * SEC, all_established, &n));
	assert_int_equal(lp_quic_server_conn_count(e->s.srv), n);
	for (int i = 0; i < n; i++) {
		e->s.peers[i].echo_stream = true;
		assert_int_equal(lp_quic_conn_stream_send(e->cl[i].p.c, (const uint8_t *)"ping", 4),
		                 0);
		for (uint32_t k = 0; k < 10; k++) {
			h_fill(dg, sizeof(dg), k);
			assert_int_equal(lp_quic_conn_datagram_send(e->cl[i].p.c, dg, sizeof(dg)),
			                 0);
		}
	}
	assert_true(h_pump(e, 10 * SEC, all_got, &n));
	for (int i = 0; i < n; i++) {
		assert_memory_equal(e->cl[i].p.stream, "ping", 4);
		assert_int_equal(e->s.peers[i].dgram_bad, 0);
	}
	for (int i = 0; i < n; i++)
		lp_quic_conn_close(e->cl[i].p.c, LP_QUIC_APP_NO_ERROR, "done");
	assert_true(h_pump(e, 5 * SEC, server_empty, NULL));
	h_env_free(e);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_stream_datagrams),
		cmocka_unit_test(test_bulk_throughput),
		cmocka_unit_test(test_wrong_pin),
		cmocka_unit_test(test_ca_trust),
		cmocka_unit_test(test_cert_reload),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_keepalive_keeps_idle_conn),
		cmocka_unit_test(test_pmtud_stale_now),
		cmocka_unit_test(test_graceful_close),
		cmocka_unit_test(test_server_close_all),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_fifty_clients),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
