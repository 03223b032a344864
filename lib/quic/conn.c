/*
 * conn.c - one QUIC connection (either side) on ngtcp2 0.12: control
 * stream 0, a DATAGRAM FIFO, GSO-batched writes, close/drain handling.
 */
#include "quic_internal.h"

#include "frame_guard.h"

#include <stdlib.h>
#include <string.h>

/*
 * Congestion control: CUBIC. Measured with test_quic_loopback's bulk test
 * (50,000 x 1300-byte datagrams, both ends in one process on a shared
 * 2-core machine): both controllers delivered 100% without loss; CUBIC
 * gave 1339/1664/740 Mbit/s and BBR (v1 in ngtcp2 0.12) 1218/953/507 in
 * three paired runs. The run-to-run noise is large but CUBIC came out
 * ahead every time, and 0.12's BBR keeps a much larger cwnd for the same
 * rate. Rebuild with -DLP_QUIC_CC=NGTCP2_CC_ALGO_BBR to compare again.
 */
#ifndef LP_QUIC_CC
#define LP_QUIC_CC NGTCP2_CC_ALGO_CUBIC
#endif

#define STREAM_WINDOW (1024 * 1024)
#define CONN_WINDOW (4 * 1024 * 1024)
#define MAX_STREAM_WINDOW (4 * 1024 * 1024)
#define MAX_CONN_WINDOW (16 * 1024 * 1024)
#define DGRAM_FRAME_MAX 65535
#define AEAD_TAG_LEN 16 /* AES-GCM, the only ciphers we offer */
/* How long an application close waits for control-stream bytes to be
 * acknowledged before it closes anyway. */
#define CLOSE_FLUSH_NS (2 * LP_NS_PER_SEC)
/*
 * PMTUD: ngtcp2 0.12 keeps its probing state private. It probes 1406, then
 * (on success) 1444 bytes with our 1452 cap, each up to three times with
 * growing timeouts. We call PMTUD settled when the path reached the largest
 * probe that fits our cap, or when PMTUD_GIVEUP_PTO probe timeouts (at least
 * PMTUD_GIVEUP_MIN_NS) passed since the handshake: by then every probe has
 * either succeeded or been given up.
 */
#define PMTUD_TOP 1444
#define PMTUD_GIVEUP_PTO 40
#define PMTUD_GIVEUP_MIN_NS (2 * LP_NS_PER_SEC)
#define PMTUD_GIVEUP_MAX_NS (15 * LP_NS_PER_SEC)

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void touch(struct lp_quic_conn *c)
{
	if (c->srv != NULL)
		lp_quic_server_touch(c->srv, c);
}

/* After writing: the expiry moved, but nothing new to write. */
static void reschedule(struct lp_quic_conn *c)
{
	if (c->srv != NULL)
		lp_quic_server_reschedule(c->srv, c);
}

static socklen_t sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? (socklen_t)sizeof(struct sockaddr_in6)
	                                 : (socklen_t)sizeof(struct sockaddr_in);
}

static void path_to_ngtcp2(ngtcp2_path_storage *ps, const struct lp_quic_path *p)
{
	ngtcp2_path_storage_init(ps, (const ngtcp2_sockaddr *)&p->local, sa_len(&p->local),
	                         (const ngtcp2_sockaddr *)&p->remote, sa_len(&p->remote), NULL);
}

static void path_from_ngtcp2(struct lp_quic_path *out, const ngtcp2_path *p)
{
	memset(out, 0, sizeof(*out));
	/* ngtcp2_socklen is int on Windows: compare as size_t. */
	if ((size_t)p->local.addrlen <= sizeof(out->local))
		memcpy(&out->local, p->local.addr, (size_t)p->local.addrlen);
	if ((size_t)p->remote.addrlen <= sizeof(out->remote))
		memcpy(&out->remote, p->remote.addr, (size_t)p->remote.addrlen);
}

static bool same_addr(const struct sockaddr_storage *a, const ngtcp2_addr *b)
{
	return sa_len(a) == b->addrlen && memcmp(a, b->addr, b->addrlen) == 0;
}

/* ---- closing --------------------------------------------------------------- */

static void report_closed(struct lp_quic_conn *c, int err, uint64_t code, const char *reason)
{
	if (c->closed_cb_done)
		return;
	c->closed_cb_done = true;
	if (c->cbs != NULL && c->cbs->closed != NULL)
		c->cbs->closed(c, err, code, reason, c->user);
}

static uint64_t close_period(struct lp_quic_conn *c)
{
	return 3 * ngtcp2_conn_get_pto(c->q);
}

static void drop_datagrams(struct lp_quic_conn *c)
{
	c->dg_head = 0;
	c->dg_count = 0;
}

/* A protocol/TLS failure: queue CONNECTION_CLOSE (c->ccerr set by the
 * caller) and tell the application now (or from the next handle_expiry). */
static void error_close(struct lp_quic_conn *c, int err, uint64_t now, bool defer_cb)
{
	c->state = LP_QUIC_CLOSING;
	c->close_wanted = true;
	c->close_app = false;
	c->close_err = err;
	c->close_deadline = now + close_period(c);
	drop_datagrams(c);
	if (defer_cb)
		c->closed_cb_deferred = true;
	else
		report_closed(c, err, 0, NULL);
}

static int alert_err(uint8_t alert)
{
	switch (alert) {
	case 42: /* bad_certificate */
	case 43: /* unsupported_certificate */
	case 44: /* certificate_revoked */
	case 45: /* certificate_expired */
	case 46: /* certificate_unknown */
	case 48: /* unknown_ca */
		return LP_ERR_CERT;
	case LP_TLS_ALERT_NO_APPLICATION_PROTOCOL:
		return LP_ERR_ALPN;
	default:
		return LP_ERR_TLS;
	}
}

/* The peer closed: map its CONNECTION_CLOSE for the closed callback. */
static void peer_closed(struct lp_quic_conn *c, uint64_t now)
{
	ngtcp2_connection_close_error cc;
	char reason[128];
	size_t n, i;
	int err;

	ngtcp2_conn_get_connection_close_error(c->q, &cc);
	n = cc.reasonlen < sizeof(reason) - 1 ? cc.reasonlen : sizeof(reason) - 1;
	for (i = 0; i < n; i++) {
		uint8_t ch = cc.reason[i];

		/* Untrusted text ends up in logs: printable ASCII only. */
		reason[i] = (char)(ch >= 0x20 && ch < 0x7f ? ch : '?');
	}
	reason[n] = '\0';
	switch (cc.type) {
	case NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION:
		err = LP_OK;
		break;
	case NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT_IDLE_CLOSE:
		err = LP_ERR_TIMEOUT;
		break;
	default:
		if (cc.error_code == NGTCP2_NO_ERROR)
			err = LP_OK;
		else if ((cc.error_code & ~(uint64_t)0xff) == NGTCP2_CRYPTO_ERROR)
			err = alert_err((uint8_t)(cc.error_code & 0xff));
		else
			err = LP_ERR_QUIC;
		break;
	}
	c->state = LP_QUIC_DRAINING;
	c->close_wanted = false;
	c->close_deadline = now + close_period(c);
	drop_datagrams(c);
	report_closed(c, err, cc.error_code, n > 0 ? reason : NULL);
}

/* Maps a fatal ngtcp2 error of read_pkt / handle_expiry / write. */
static int fatal(struct lp_quic_conn *c, int rv, uint64_t now, bool defer_cb)
{
	uint8_t alert;

	switch (rv) {
	case NGTCP2_ERR_DRAINING:
		peer_closed(c, now);
		break;
	case NGTCP2_ERR_DROP_CONN:
	case NGTCP2_ERR_RETRY:
		c->state = LP_QUIC_CLOSED;
		report_closed(c, LP_ERR_QUIC, 0, NULL);
		break;
	case NGTCP2_ERR_IDLE_CLOSE:
	case NGTCP2_ERR_HANDSHAKE_TIMEOUT:
		c->state = LP_QUIC_CLOSED;
		report_closed(c, LP_ERR_TIMEOUT, 0, NULL);
		break;
	case NGTCP2_ERR_CRYPTO:
		alert = ngtcp2_conn_get_tls_alert(c->q);
		ngtcp2_connection_close_error_set_transport_error_tls_alert(&c->ccerr, alert, NULL,
		                                                            0);
		error_close(c,
		            c->tls != NULL && lp_tls_session_cert_failed(c->tls) ? LP_ERR_CERT
		                                                                 : alert_err(alert),
		            now, defer_cb);
		break;
	case NGTCP2_ERR_CALLBACK_FAILURE:
		if (c->fail_err == LP_ERR_ALPN) {
			ngtcp2_connection_close_error_set_transport_error_tls_alert(
			        &c->ccerr, LP_TLS_ALERT_NO_APPLICATION_PROTOCOL, NULL, 0);
			error_close(c, LP_ERR_ALPN, now, defer_cb);
			break;
		}
		if (c->fail_err == LP_ERR_NO_DATAGRAM) {
			static const char r[] = "QUIC DATAGRAM support required";

			ngtcp2_connection_close_error_set_transport_error(
			        &c->ccerr, NGTCP2_TRANSPORT_PARAMETER_ERROR,
			        (uint8_t *)(uintptr_t)r, sizeof(r) - 1);
			error_close(c, LP_ERR_NO_DATAGRAM, now, defer_cb);
			break;
		}
		/* fall through */
	default:
		ngtcp2_connection_close_error_set_transport_error_liberr(&c->ccerr, rv, NULL, 0);
		error_close(c, LP_ERR_QUIC, now, defer_cb);
		break;
	}
	return LP_ERR_CLOSED;
}

void lp_quic_conn_close(struct lp_quic_conn *c, uint64_t app_code, const char *reason)
{
	size_t n = 0;

	if (c->state >= LP_QUIC_CLOSING)
		return;
	if (reason != NULL) {
		n = strlen(reason);
		if (n >= sizeof(c->close_reason))
			n = sizeof(c->close_reason) - 1;
		memcpy(c->close_reason, reason, n);
	}
	c->close_reason[n] = '\0';
	ngtcp2_connection_close_error_set_application_error(&c->ccerr, app_code,
	                                                    (uint8_t *)c->close_reason, n);
	c->state = LP_QUIC_CLOSING;
	c->close_wanted = true;
	c->close_app = true;
	c->close_code = app_code;
	c->close_err = LP_OK;
	c->flush_deadline = 0; /* set by the next write */
	c->close_deadline = UINT64_MAX;
	drop_datagrams(c);
	touch(c);
}

void lp_quic_conn_close_transport(struct lp_quic_conn *c, uint64_t error_code)
{
	if (c->state >= LP_QUIC_CLOSING)
		return;
	ngtcp2_connection_close_error_set_transport_error(&c->ccerr, error_code, NULL, 0);
	c->state = LP_QUIC_CLOSING;
	c->close_wanted = true;
	c->close_app = false;
	c->close_err = LP_ERR_QUIC;
	c->close_deadline = UINT64_MAX;
	c->closed_cb_done = true; /* refused before the application saw it */
	touch(c);
}

/* ---- callbacks ------------------------------------------------------------- */

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref)
{
	struct lp_quic_conn *c = ref->user_data;

	return c->q;
}

static void rand_cb(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	if (lp_tls_random(dest, len) != 0)
		memset(dest, 0, len); /* unreachable with a working RNG */
}

static int get_new_cid_cb(ngtcp2_conn *q, ngtcp2_cid *cid, uint8_t *token, size_t cidlen,
                          void *user)
{
	struct lp_quic_conn *c = user;

	(void)q;
	if (cidlen > NGTCP2_MAX_CIDLEN || lp_tls_random(cid->data, cidlen) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	cid->datalen = cidlen;
	if (c->srv == NULL)
		return lp_tls_random(token, NGTCP2_STATELESS_RESET_TOKENLEN) == 0
		               ? 0
		               : NGTCP2_ERR_CALLBACK_FAILURE;
	if (ngtcp2_crypto_generate_stateless_reset_token(token, c->ctx->reset_secret,
	                                                 sizeof(c->ctx->reset_secret), cid) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	if (lp_quic_server_cid_add(c->srv, c, cid->data, cid->datalen) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static int remove_cid_cb(ngtcp2_conn *q, const ngtcp2_cid *cid, void *user)
{
	struct lp_quic_conn *c = user;

	(void)q;
	if (c->srv != NULL)
		lp_quic_server_cid_remove(c->srv, cid->data, cid->datalen);
	return 0;
}

static size_t varint_len(uint64_t v)
{
	return v < 64 ? 1 : v < 16384 ? 2 : v < 1073741824 ? 4 : 8;
}

/* Largest DATAGRAM payload L with 1 + varint_len(L) + L <= room. */
static size_t fit_payload(size_t room)
{
	size_t l;

	if (room < 2)
		return 0;
	l = room - 1 - varint_len(room);
	while (l > 0 && 1 + varint_len(l) + l > room)
		l--;
	return l;
}

static size_t compute_budget(struct lp_quic_conn *c)
{
	const ngtcp2_transport_params *rp = ngtcp2_conn_get_remote_transport_params(c->q);
	ngtcp2_cid_token toks[8];
	size_t pmax, dcidlen = NGTCP2_MAX_CIDLEN, ovh, l, n;

	if (rp == NULL || rp->max_datagram_frame_size == 0)
		return 0;
	n = ngtcp2_conn_get_num_active_dcid(c->q);
	if (n > 0 && n <= LP_ARRAY_LEN(toks)) {
		n = ngtcp2_conn_get_active_dcid(c->q, toks);
		dcidlen = 0;
		for (size_t i = 0; i < n; i++)
			if (toks[i].cid.datalen > dcidlen)
				dcidlen = toks[i].cid.datalen;
	}
	pmax = ngtcp2_conn_get_path_max_tx_udp_payload_size(c->q);
	ovh = 1 + dcidlen + 4 + AEAD_TAG_LEN;
	if (pmax <= ovh)
		return 0;
	l = fit_payload(pmax - ovh);
	if (rp->max_datagram_frame_size < DGRAM_FRAME_MAX + 1) {
		size_t lim = fit_payload((size_t)rp->max_datagram_frame_size);

		if (lim < l)
			l = lim;
	}
	return l > LP_QUIC_MAX_UDP_PAYLOAD ? LP_QUIC_MAX_UDP_PAYLOAD : l;
}

static void pmtud_update(struct lp_quic_conn *c, uint64_t now)
{
	uint64_t giveup;

	if (c->pmtud_done || !c->hs_done)
		return;
	giveup = PMTUD_GIVEUP_PTO * ngtcp2_conn_get_pto(c->q);
	if (giveup < PMTUD_GIVEUP_MIN_NS)
		giveup = PMTUD_GIVEUP_MIN_NS;
	if (giveup > PMTUD_GIVEUP_MAX_NS)
		giveup = PMTUD_GIVEUP_MAX_NS;
	if (ngtcp2_conn_get_path_max_tx_udp_payload_size(c->q) >= PMTUD_TOP ||
	    now - c->hs_done_ts >= giveup)
		c->pmtud_done = true;
}

static int handshake_completed_cb(ngtcp2_conn *q, void *user)
{
	struct lp_quic_conn *c = user;
	const ngtcp2_transport_params *rp;

	/* GnuTLS accepts a ClientHello without ALPN even with
	 * GNUTLS_ALPN_MANDATORY: check what was negotiated. */
	if (lp_tls_session_check_alpn(c->tls) != 0) {
		c->fail_err = LP_ERR_ALPN;
		lp_log(c->ctx->log, LP_LOG_WARN, "QUIC peer did not negotiate ALPN %s",
		       LP_QUIC_ALPN);
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	rp = ngtcp2_conn_get_remote_transport_params(q);
	if (rp == NULL || rp->max_datagram_frame_size == 0) {
		c->fail_err = LP_ERR_NO_DATAGRAM;
		lp_log(c->ctx->log, LP_LOG_WARN, "QUIC peer does not support DATAGRAM frames");
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	c->hs_done = true;
	c->hs_done_ts = c->now;
	if (c->state == LP_QUIC_HANDSHAKING) {
		c->state = LP_QUIC_ESTABLISHED;
		c->budget = compute_budget(c);
		if (c->cbs != NULL && c->cbs->established != NULL)
			c->cbs->established(c, c->user);
	}
	return 0;
}

static int stream_open_cb(ngtcp2_conn *q, int64_t stream_id, void *user)
{
	struct lp_quic_conn *c = user;

	if (c->server && stream_id == 0 && c->sid < 0) {
		c->sid = 0;
		return 0;
	}
	/* Only the control stream is allowed. */
	(void)ngtcp2_conn_shutdown_stream(q, stream_id, LP_QUIC_APP_PROTOCOL);
	return 0;
}

static int recv_stream_data_cb(ngtcp2_conn *q, uint32_t flags, int64_t stream_id, uint64_t offset,
                               const uint8_t *data, size_t len, void *user, void *stream_user)
{
	struct lp_quic_conn *c = user;

	(void)offset;
	(void)stream_user;
	/* Credit is returned as soon as the bytes are handed over: the
	 * application consumes them synchronously. */
	ngtcp2_conn_extend_max_offset(q, len);
	if (stream_id != c->sid)
		return 0;
	ngtcp2_conn_extend_max_stream_offset(q, stream_id, len);
	if (c->state == LP_QUIC_ESTABLISHED && c->cbs != NULL && c->cbs->stream_data != NULL)
		c->cbs->stream_data(c, data, len, (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0,
		                    c->user);
	return 0;
}

static int acked_stream_data_cb(ngtcp2_conn *q, int64_t stream_id, uint64_t offset,
                                uint64_t datalen, void *user, void *stream_user)
{
	struct lp_quic_conn *c = user;
	uint64_t end = offset + datalen;

	(void)q;
	(void)stream_user;
	if (stream_id != c->sid || end <= c->sq_acked)
		return 0;
	c->sq_acked = end;
	while (c->sq_head != NULL && c->sq_head_off + c->sq_head->len <= c->sq_acked) {
		struct stream_chunk *k = c->sq_head;

		c->sq_head_off += k->len;
		c->sq_head = k->next;
		free(k);
	}
	if (c->sq_head == NULL)
		c->sq_tail = NULL;
	return 0;
}

static int stream_close_cb(ngtcp2_conn *q, uint32_t flags, int64_t stream_id, uint64_t app_code,
                           void *user, void *stream_user)
{
	struct lp_quic_conn *c = user;

	(void)q;
	(void)flags;
	(void)app_code;
	(void)stream_user;
	if (stream_id == c->sid)
		c->sid_dead = true;
	return 0;
}

static int recv_datagram_cb(ngtcp2_conn *q, uint32_t flags, const uint8_t *data, size_t len,
                            void *user)
{
	struct lp_quic_conn *c = user;

	(void)q;
	(void)flags;
	if (c->state == LP_QUIC_ESTABLISHED && c->cbs != NULL && c->cbs->datagram != NULL)
		c->cbs->datagram(c, data, len, c->user);
	return 0;
}

static int lost_datagram_cb(ngtcp2_conn *q, uint64_t id, void *user)
{
	struct lp_quic_conn *c = user;

	(void)q;
	(void)id;
	c->dg_lost++;
	return 0;
}

static void fill_callbacks(ngtcp2_callbacks *cb, bool server)
{
	memset(cb, 0, sizeof(*cb));
	if (server) {
		cb->recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
	} else {
		cb->client_initial = ngtcp2_crypto_client_initial_cb;
		cb->recv_retry = ngtcp2_crypto_recv_retry_cb;
	}
	cb->recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
	cb->encrypt = ngtcp2_crypto_encrypt_cb;
	/* The relay filters what strangers may make ngtcp2 0.12.1 abort on. */
	cb->decrypt = server ? lp_quic_guard_decrypt_cb : ngtcp2_crypto_decrypt_cb;
	cb->hp_mask = ngtcp2_crypto_hp_mask_cb;
	cb->update_key = ngtcp2_crypto_update_key_cb;
	cb->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
	cb->delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
	cb->get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
	cb->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
	cb->rand = rand_cb;
	cb->get_new_connection_id = get_new_cid_cb;
	cb->remove_connection_id = remove_cid_cb;
	cb->handshake_completed = handshake_completed_cb;
	cb->stream_open = stream_open_cb;
	cb->recv_stream_data = recv_stream_data_cb;
	cb->acked_stream_data_offset = acked_stream_data_cb;
	cb->stream_close = stream_close_cb;
	cb->recv_datagram = recv_datagram_cb;
	cb->lost_datagram = lost_datagram_cb;
}

/* ---- creation -------------------------------------------------------------- */

static void fill_settings(ngtcp2_settings *st, const struct lp_quic_ctx *ctx, uint64_t now)
{
	ngtcp2_settings_default(st);
	st->initial_ts = now;
	st->cc_algo = LP_QUIC_CC;
	st->max_tx_udp_payload_size = LP_QUIC_MAX_UDP_PAYLOAD;
	st->handshake_timeout = ctx->handshake_timeout_ns;
	st->max_window = MAX_CONN_WINDOW;
	st->max_stream_window = MAX_STREAM_WINDOW;
}

static void fill_params(ngtcp2_transport_params *tp, const struct lp_quic_ctx *ctx)
{
	ngtcp2_transport_params_default(tp);
	tp->initial_max_stream_data_bidi_local = STREAM_WINDOW;
	tp->initial_max_stream_data_bidi_remote = STREAM_WINDOW;
	tp->initial_max_stream_data_uni = 0;
	tp->initial_max_data = CONN_WINDOW;
	/* The client opens the one control stream; the server opens none. */
	tp->initial_max_streams_bidi = ctx->server ? 1 : 0;
	tp->initial_max_streams_uni = 0;
	tp->max_idle_timeout = ctx->idle_timeout_ns;
	tp->max_datagram_frame_size = DGRAM_FRAME_MAX;
}

static int conn_alloc(struct lp_quic_ctx *ctx, const struct lp_quic_path *path,
                      struct lp_quic_conn **out)
{
	struct lp_quic_conn *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return LP_ERR_NOMEM;
	c->ctx = ctx;
	c->server = ctx->server;
	c->sid = -1;
	c->state = LP_QUIC_HANDSHAKING;
	c->dg_cap = ctx->datagram_queue;
	c->dg_buf = malloc(c->dg_cap * LP_QUIC_MAX_UDP_PAYLOAD);
	c->dg_len = malloc(c->dg_cap * sizeof(*c->dg_len));
	c->carry = malloc(LP_QUIC_MAX_UDP_PAYLOAD);
	if (c->dg_buf == NULL || c->dg_len == NULL || c->carry == NULL) {
		lp_quic_conn_free(c);
		return LP_ERR_NOMEM;
	}
	path_to_ngtcp2(&c->ps, path);
	c->ref.get_conn = get_conn;
	c->ref.user_data = c;
	*out = c;
	return 0;
}

static int attach_tls(struct lp_quic_conn *c)
{
	int rv = lp_tls_session_new(c->ctx->creds, c->server, &c->ref, &c->tls);

	if (rv != 0)
		return rv;
	ngtcp2_conn_set_tls_native_handle(c->q, lp_tls_session_native(c->tls));
	return 0;
}

int lp_quic_conn_connect(struct lp_quic_ctx *ctx, const struct lp_quic_path *path,
                         const struct lp_quic_conn_cbs *cbs, void *user, uint64_t now,
                         struct lp_quic_conn **out)
{
	ngtcp2_callbacks cb;
	ngtcp2_settings st;
	ngtcp2_transport_params tp;
	ngtcp2_cid dcid, scid;
	struct lp_quic_conn *c = NULL;
	int rv;

	*out = NULL;
	if (ctx->server)
		return LP_ERR_STATE;
	rv = conn_alloc(ctx, path, &c);
	if (rv != 0)
		return rv;
	c->cbs = cbs;
	c->user = user;
	c->now = now;
	dcid.datalen = 16;
	scid.datalen = LP_QUIC_CID_LEN;
	if (lp_tls_random(dcid.data, dcid.datalen) != 0 ||
	    lp_tls_random(scid.data, scid.datalen) != 0) {
		rv = LP_ERR_TLS;
		goto fail;
	}
	fill_callbacks(&cb, false);
	fill_settings(&st, ctx, now);
	fill_params(&tp, ctx);
	rv = ngtcp2_conn_client_new(&c->q, &dcid, &scid, &c->ps.path, NGTCP2_PROTO_VER_V1, &cb, &st,
	                            &tp, NULL, c);
	if (rv != 0) {
		c->q = NULL;
		rv = rv == NGTCP2_ERR_NOMEM ? LP_ERR_NOMEM : LP_ERR_QUIC;
		goto fail;
	}
	rv = attach_tls(c);
	if (rv != 0)
		goto fail;
	if (ctx->keepalive_ns != 0)
		ngtcp2_conn_set_keep_alive_timeout(c->q, ctx->keepalive_ns);
	*out = c;
	return 0;
fail:
	lp_quic_conn_free(c);
	return rv;
}

int lp_quic_conn_new_server(struct lp_quic_ctx *ctx, struct lp_quic_server *srv,
                            const struct lp_quic_path *path, const ngtcp2_pkt_hd *hd, uint64_t now,
                            struct lp_quic_conn **out)
{
	ngtcp2_callbacks cb;
	ngtcp2_settings st;
	ngtcp2_transport_params tp;
	ngtcp2_cid scid;
	struct lp_quic_conn *c = NULL;
	int rv;

	*out = NULL;
	rv = conn_alloc(ctx, path, &c);
	if (rv != 0)
		return rv;
	c->srv = srv;
	c->now = now;
	scid.datalen = LP_QUIC_CID_LEN;
	if (lp_tls_random(scid.data, scid.datalen) != 0) {
		rv = LP_ERR_TLS;
		goto fail;
	}
	fill_callbacks(&cb, true);
	fill_settings(&st, ctx, now);
	fill_params(&tp, ctx);
	tp.original_dcid = hd->dcid;
	/* Clients must not move on their own; NAT rebinding is still handled. */
	tp.disable_active_migration = 1;
	tp.stateless_reset_token_present = 1;
	if (ngtcp2_crypto_generate_stateless_reset_token(tp.stateless_reset_token,
	                                                 ctx->reset_secret,
	                                                 sizeof(ctx->reset_secret), &scid) != 0) {
		rv = LP_ERR_TLS;
		goto fail;
	}
	rv = ngtcp2_conn_server_new(&c->q, &hd->scid, &scid, &c->ps.path, hd->version, &cb, &st,
	                            &tp, NULL, c);
	if (rv != 0) {
		c->q = NULL;
		rv = rv == NGTCP2_ERR_NOMEM ? LP_ERR_NOMEM : LP_ERR_QUIC;
		goto fail;
	}
	rv = attach_tls(c);
	if (rv != 0)
		goto fail;
	/* Route both the client's chosen DCID (its retransmitted Initials)
	 * and our first SCID to this connection. */
	rv = lp_quic_server_cid_add(srv, c, hd->dcid.data, hd->dcid.datalen);
	if (rv == 0)
		rv = lp_quic_server_cid_add(srv, c, scid.data, scid.datalen);
	if (rv != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	lp_quic_conn_free(c);
	return rv;
}

void lp_quic_conn_free(struct lp_quic_conn *c)
{
	if (c == NULL)
		return;
	if (c->q != NULL)
		ngtcp2_conn_del(c->q);
	lp_tls_session_del(c->tls);
	while (c->sq_head != NULL) {
		struct stream_chunk *k = c->sq_head;

		c->sq_head = k->next;
		free(k);
	}
	free(c->dg_buf);
	free(c->dg_len);
	free(c->carry);
	free(c->close_pkt);
	free(c);
}

void lp_quic_conn_del(struct lp_quic_conn *c)
{
	/* A server's connections belong to the server. */
	if (c == NULL || c->srv != NULL)
		return;
	lp_quic_conn_free(c);
}

/* ---- reading and timers ---------------------------------------------------- */

int lp_quic_conn_read(struct lp_quic_conn *c, const struct lp_quic_path *path, const uint8_t *pkt,
                      size_t len, uint64_t now)
{
	ngtcp2_pkt_info pi;
	ngtcp2_path_storage ps;
	const ngtcp2_path *p;
	int rv;

	switch (c->state) {
	case LP_QUIC_CLOSED:
	case LP_QUIC_DRAINING:
		return LP_ERR_CLOSED;
	case LP_QUIC_CLOSING:
		if (c->close_wanted && c->close_app)
			break; /* still flushing the control stream */
		/* Answer the peer's packets with our CONNECTION_CLOSE again. */
		if (c->close_pkt != NULL) {
			c->resend_close = true;
			touch(c);
		}
		return LP_ERR_CLOSED;
	default:
		break;
	}
	if (c->server) {
		path_to_ngtcp2(&ps, path);
		p = &ps.path;
	} else {
		/* A client is bound to one socket and never migrates: only
		 * the server's address is accepted, on the original path. */
		if (!same_addr(&path->remote, &c->ps.path.remote))
			return 0;
		p = &c->ps.path;
	}
	memset(&pi, 0, sizeof(pi));
	c->now = now;
	rv = ngtcp2_conn_read_pkt(c->q, p, &pi, pkt, len, now);
	if (rv != 0) {
		rv = fatal(c, rv, now, false);
		touch(c);
		return rv;
	}
	if (c->hs_done) {
		/* A read can complete a PMTUD probe: refresh the budget with the
		 * flag, or a caller would see pmtud_done next to the old budget. */
		pmtud_update(c, now);
		c->budget = compute_budget(c);
	}
	touch(c);
	return c->state >= LP_QUIC_CLOSING && !(c->close_wanted && c->close_app) ? LP_ERR_CLOSED
	                                                                         : 0;
}

uint64_t lp_quic_conn_expiry(const struct lp_quic_conn *c)
{
	uint64_t e;

	if (c->state == LP_QUIC_CLOSED)
		return UINT64_MAX;
	if (c->closed_cb_deferred)
		return 0;
	if (c->state == LP_QUIC_DRAINING || (c->state == LP_QUIC_CLOSING && !c->close_wanted))
		return c->close_deadline;
	e = ngtcp2_conn_get_expiry(c->q);
	if (c->close_wanted) {
		if (!c->close_app || c->flush_deadline == 0)
			return 0; /* the close packet is due now */
		e = min_u64(e, c->flush_deadline);
	}
	if (c->hs_done && !c->pmtud_done)
		e = min_u64(e, c->hs_done_ts + PMTUD_GIVEUP_MIN_NS);
	return e;
}

int lp_quic_conn_handle_expiry(struct lp_quic_conn *c, uint64_t now)
{
	int rv;

	c->now = now;
	if (c->closed_cb_deferred) {
		c->closed_cb_deferred = false;
		report_closed(c, c->close_err, 0, NULL);
	}
	switch (c->state) {
	case LP_QUIC_CLOSED:
		return LP_ERR_CLOSED;
	case LP_QUIC_DRAINING:
	case LP_QUIC_CLOSING:
		if (c->close_wanted) {
			touch(c); /* the write path sends the close */
			if (c->close_app)
				break;
			return LP_ERR_CLOSED;
		}
		if (now >= c->close_deadline) {
			c->state = LP_QUIC_CLOSED;
			report_closed(c, c->close_err, c->close_code,
			              c->close_app ? c->close_reason : NULL);
		}
		touch(c);
		return LP_ERR_CLOSED;
	default:
		break;
	}
	rv = ngtcp2_conn_handle_expiry(c->q, now);
	if (rv != 0) {
		rv = fatal(c, rv, now, false);
		touch(c);
		return rv;
	}
	if (c->hs_done) {
		pmtud_update(c, now);
		c->budget = compute_budget(c);
	}
	touch(c);
	return c->state >= LP_QUIC_CLOSING && !(c->close_wanted && c->close_app) ? LP_ERR_CLOSED
	                                                                         : 0;
}

/* ---- sending --------------------------------------------------------------- */

int lp_quic_conn_stream_send(struct lp_quic_conn *c, const uint8_t *data, size_t len)
{
	struct stream_chunk *k;

	if (c->state != LP_QUIC_ESTABLISHED || c->sid_dead)
		return LP_ERR_STATE;
	if (len == 0)
		return 0;
	if (!c->server && c->sid < 0) {
		int64_t sid;

		if (ngtcp2_conn_open_bidi_stream(c->q, &sid, NULL) != 0)
			return LP_ERR_STATE;
		c->sid = sid;
	}
	k = malloc(sizeof(*k) + len);
	if (k == NULL)
		return LP_ERR_NOMEM;
	k->next = NULL;
	k->len = len;
	memcpy(k->data, data, len);
	if (c->sq_tail != NULL)
		c->sq_tail->next = k;
	else
		c->sq_head = k;
	c->sq_tail = k;
	c->sq_total += len;
	touch(c);
	return 0;
}

int lp_quic_conn_datagram_send(struct lp_quic_conn *c, const uint8_t *data, size_t len)
{
	size_t slot;

	if (c->state != LP_QUIC_ESTABLISHED)
		return LP_ERR_STATE;
	if (len > c->budget)
		return c->budget == 0 ? LP_ERR_NO_DATAGRAM : LP_ERR_TOO_BIG;
	if (c->dg_count == c->dg_cap) {
		c->dg_drops++;
		return LP_ERR_AGAIN;
	}
	slot = (c->dg_head + c->dg_count) % c->dg_cap;
	memcpy(c->dg_buf + slot * LP_QUIC_MAX_UDP_PAYLOAD, data, len);
	c->dg_len[slot] = (uint16_t)len;
	if (c->dg_count++ == 0)
		touch(c);
	return 0;
}

static void dg_pop(struct lp_quic_conn *c)
{
	c->dg_head = (c->dg_head + 1) % c->dg_cap;
	c->dg_count--;
}

/* Up to n iovecs of control-stream bytes not yet handed to ngtcp2. */
static size_t stream_iov(struct lp_quic_conn *c, ngtcp2_vec *v, size_t n)
{
	uint64_t off = c->sq_head_off;
	size_t cnt = 0;

	for (struct stream_chunk *k = c->sq_head; k != NULL && cnt < n; k = k->next) {
		uint64_t end = off + k->len;

		if (end > c->sq_sent) {
			size_t skip = (size_t)(c->sq_sent > off ? c->sq_sent - off : 0);

			v[cnt].base = k->data + skip;
			v[cnt].len = k->len - skip;
			cnt++;
		}
		off = end;
	}
	return cnt;
}

/*
 * Writes one packet into dest (LP_QUIC_MAX_UDP_PAYLOAD bytes): control
 * stream bytes first, then as many queued datagrams as fit. Returns its
 * length, 0 when nothing can be sent now, or a negative ngtcp2 error.
 */
static ngtcp2_ssize write_pkt(struct lp_quic_conn *c, ngtcp2_path_storage *ps, uint8_t *dest,
                              bool *stream_blocked, uint64_t now)
{
	const size_t destlen = LP_QUIC_MAX_UDP_PAYLOAD;

	for (;;) {
		ngtcp2_ssize n;

		if (!*stream_blocked && c->sid >= 0 && !c->sid_dead && c->sq_sent < c->sq_total) {
			ngtcp2_vec v[8];
			ngtcp2_ssize acc = -1;
			size_t cnt = stream_iov(c, v, LP_ARRAY_LEN(v));

			n = ngtcp2_conn_writev_stream(c->q, &ps->path, NULL, dest, destlen, &acc,
			                              NGTCP2_WRITE_STREAM_FLAG_MORE, c->sid, v, cnt,
			                              now);
			if (acc > 0)
				c->sq_sent += (uint64_t)acc;
			if (n == NGTCP2_ERR_WRITE_MORE)
				continue;
			if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED) {
				*stream_blocked = true;
				continue;
			}
			if (n == NGTCP2_ERR_STREAM_SHUT_WR || n == NGTCP2_ERR_STREAM_NOT_FOUND) {
				c->sid_dead = true;
				continue;
			}
			if (n != 0 || acc > 0)
				return n;
			*stream_blocked = true; /* nothing accepted: congestion */
			return 0;
		}
		if (c->dg_count > 0 && c->state == LP_QUIC_ESTABLISHED) {
			ngtcp2_vec v;
			int accepted = 0;
			size_t slot = c->dg_head;

			v.base = c->dg_buf + slot * LP_QUIC_MAX_UDP_PAYLOAD;
			v.len = c->dg_len[slot];
			/* ngtcp2 keeps a datagram that does not fit a packet
			 * queued forever: drop one the path shrank under. */
			if (v.len > c->budget) {
				dg_pop(c);
				c->dg_drops++;
				continue;
			}
			n = ngtcp2_conn_writev_datagram(c->q, &ps->path, NULL, dest, destlen,
			                                &accepted, NGTCP2_WRITE_DATAGRAM_FLAG_MORE,
			                                c->dg_id, &v, 1, now);
			if (accepted) {
				dg_pop(c);
				c->dg_id++;
			}
			if (n == NGTCP2_ERR_WRITE_MORE)
				continue;
			if (n == NGTCP2_ERR_INVALID_ARGUMENT || n == NGTCP2_ERR_INVALID_STATE) {
				/* Too big for the peer, or no DATAGRAM: never sendable. */
				dg_pop(c);
				c->dg_drops++;
				continue;
			}
			return n;
		}
		return ngtcp2_conn_write_pkt(c->q, &ps->path, NULL, dest, destlen, now);
	}
}

static ssize_t write_close_pkt(struct lp_quic_conn *c, uint8_t *buf, struct lp_quic_path *path_out,
                               uint64_t now)
{
	ngtcp2_path_storage ps;
	ngtcp2_ssize n;

	ngtcp2_path_storage_zero(&ps);
	c->close_wanted = false;
	c->close_deadline = now + close_period(c);
	n = ngtcp2_conn_write_connection_close(c->q, &ps.path, NULL, buf, LP_QUIC_MAX_UDP_PAYLOAD,
	                                       &c->ccerr, now);
	if (n <= 0) {
		/* Nothing can be sent (no keys yet): just forget it. */
		c->close_deadline = now;
		return 0;
	}
	free(c->close_pkt);
	c->close_pkt = malloc((size_t)n);
	if (c->close_pkt != NULL) {
		memcpy(c->close_pkt, buf, (size_t)n);
		c->close_pkt_len = (size_t)n;
	}
	path_from_ngtcp2(path_out, &ps.path);
	return n;
}

ssize_t lp_quic_conn_write(struct lp_quic_conn *c, uint8_t *buf, size_t cap, size_t *gso_size,
                           struct lp_quic_path *path_out, uint64_t now)
{
	ngtcp2_path_storage ps, first;
	size_t off = 0, gso = 0, max_pkts, quantum, pmax;
	bool stream_blocked = false;
	ssize_t ret;

	*gso_size = 0;
	if (c->state == LP_QUIC_CLOSED)
		return LP_ERR_CLOSED;
	if (cap < LP_QUIC_MAX_UDP_PAYLOAD)
		return LP_ERR_NOBUF;
	c->now = now;
	if (c->state == LP_QUIC_DRAINING)
		return 0;
	if (c->state == LP_QUIC_CLOSING && !c->close_wanted) {
		if (!c->resend_close || c->close_pkt == NULL)
			return 0;
		c->resend_close = false;
		memcpy(buf, c->close_pkt, c->close_pkt_len);
		path_from_ngtcp2(path_out, &c->ps.path);
		*gso_size = c->close_pkt_len;
		return (ssize_t)c->close_pkt_len;
	}
	if (c->close_wanted) {
		if (c->close_app && c->flush_deadline == 0)
			c->flush_deadline = now + CLOSE_FLUSH_NS;
		if (!c->close_app || !c->hs_done || c->sq_acked >= c->sq_total || c->sid_dead ||
		    now >= c->flush_deadline) {
			ret = write_close_pkt(c, buf, path_out, now);
			*gso_size = (size_t)ret;
			reschedule(c);
			return ret;
		}
	}

	pmax = ngtcp2_conn_get_path_max_tx_udp_payload_size(c->q);
	quantum = ngtcp2_conn_get_send_quantum(c->q);
	max_pkts = quantum / (pmax ? pmax : 1);
	if (max_pkts < 1)
		max_pkts = 1;
	if (max_pkts > LP_QUIC_MAX_GSO_SEGMENTS)
		max_pkts = LP_QUIC_MAX_GSO_SEGMENTS;
	if (max_pkts > cap / LP_QUIC_MAX_UDP_PAYLOAD)
		max_pkts = cap / LP_QUIC_MAX_UDP_PAYLOAD;

	ngtcp2_path_storage_zero(&first);
	if (c->carry_len > 0) {
		memcpy(buf, c->carry, c->carry_len);
		off = gso = c->carry_len;
		first = c->carry_ps;
		first.path.local.addr = (ngtcp2_sockaddr *)&first.local_addrbuf;
		first.path.remote.addr = (ngtcp2_sockaddr *)&first.remote_addrbuf;
		c->carry_len = 0;
	}
	for (size_t npkts = off > 0 ? 1 : 0; npkts < max_pkts;) {
		ngtcp2_ssize n;

		ngtcp2_path_storage_zero(&ps);
		n = write_pkt(c, &ps, buf + off, &stream_blocked, now);
		if (n < 0) {
			if (off > 0)
				break; /* send what we have; the error repeats next time */
			fatal(c, (int)n, now, true);
			ret = write_close_pkt(c, buf, path_out, now);
			*gso_size = (size_t)ret;
			reschedule(c);
			return ret;
		}
		if (n == 0)
			break;
		if (gso == 0) {
			gso = (size_t)n;
			first = ps;
			first.path.local.addr = (ngtcp2_sockaddr *)&first.local_addrbuf;
			first.path.remote.addr = (ngtcp2_sockaddr *)&first.remote_addrbuf;
			off = (size_t)n;
			npkts = 1;
			continue;
		}
		if ((size_t)n > gso || !ngtcp2_path_eq(&ps.path, &first.path)) {
			/* Cannot join this GSO batch: it leads the next one. */
			memcpy(c->carry, buf + off, (size_t)n);
			c->carry_len = (size_t)n;
			c->carry_ps = ps;
			break;
		}
		off += (size_t)n;
		npkts++;
		if ((size_t)n < gso)
			break; /* a shorter packet must be the batch's last */
	}
	if (off > 0) {
		ngtcp2_conn_update_pkt_tx_time(c->q, now);
		path_from_ngtcp2(path_out, &first.path);
		*gso_size = gso;
	}
	reschedule(c);
	return (ssize_t)off;
}

/* ---- accessors ------------------------------------------------------------- */

size_t lp_quic_conn_datagram_budget(const struct lp_quic_conn *c)
{
	return c->state == LP_QUIC_ESTABLISHED ? c->budget : 0;
}

void lp_quic_conn_info(const struct lp_quic_conn *c, struct lp_quic_conn_info *out)
{
	ngtcp2_conn_stat st;

	memset(out, 0, sizeof(*out));
	out->state = c->state;
	out->datagram_budget = lp_quic_conn_datagram_budget(c);
	out->pmtud_done = c->pmtud_done;
	out->datagrams_lost = c->dg_lost;
	out->datagrams_queue_drops = c->dg_drops;
	if (c->q == NULL)
		return;
	ngtcp2_conn_get_conn_stat(c->q, &st);
	out->smoothed_rtt_ns = st.smoothed_rtt;
	out->min_rtt_ns = st.min_rtt;
	out->cwnd = st.cwnd;
	out->max_udp_payload = ngtcp2_conn_get_path_max_tx_udp_payload_size(c->q);
}

enum lp_quic_state lp_quic_conn_state(const struct lp_quic_conn *c)
{
	return c->state;
}

void lp_quic_conn_set_user(struct lp_quic_conn *c, const struct lp_quic_conn_cbs *cbs, void *user)
{
	c->cbs = cbs;
	c->user = user;
}

void *lp_quic_conn_user(const struct lp_quic_conn *c)
{
	return c->user;
}
