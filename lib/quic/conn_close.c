/*
 * conn_close.c - how a connection ends: our application or transport
 * close, the peer's close, fatal ngtcp2 errors, the closing and draining
 * periods and the one closed callback. See struct lp_quic_close.
 */
#include <stdlib.h>
#include <string.h>

#include "quic_internal.h"

/* How long an application close waits for control-stream bytes to be
 * acknowledged before it closes anyway. */
#define CLOSE_FLUSH_NS (2 * LP_NS_PER_SEC)

bool lp_quic_conn_gone(const struct lp_quic_conn *c)
{
	return c->state >= LP_QUIC_CLOSING && !(c->cl.wanted && c->cl.app);
}

void lp_quic_conn_drop_datagrams(struct lp_quic_conn *c)
{
	c->dg_head = 0;
	c->dg_count = 0;
}

static void report_closed(struct lp_quic_conn *c, int err, uint64_t code, const char *reason)
{
	if (c->cl.cb_done)
		return;
	c->cl.cb_done = true;
	if (c->cbs != NULL && c->cbs->closed != NULL)
		c->cbs->closed(c, err, code, reason, c->user);
}

static uint64_t close_period(struct lp_quic_conn *c)
{
	return 3 * ngtcp2_conn_get_pto(c->q);
}

/* Starts CLOSING with our CONNECTION_CLOSE (c->cl.ccerr set) still to write. */
static void start_closing(struct lp_quic_conn *c, bool app, int err)
{
	c->state = LP_QUIC_CLOSING;
	c->cl.wanted = true;
	c->cl.app = app;
	c->cl.err = err;
	c->cl.deadline = UINT64_MAX;
	lp_quic_conn_drop_datagrams(c);
}

/* A protocol/TLS failure: queue CONNECTION_CLOSE and tell the application
 * now (or from the next handle_expiry). */
static void error_close(struct lp_quic_conn *c, int err, uint64_t now, bool defer_cb)
{
	start_closing(c, false, err);
	c->cl.deadline = now + close_period(c);
	if (defer_cb)
		c->cl.cb_deferred = true;
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
	c->cl.wanted = false;
	c->cl.deadline = now + close_period(c);
	lp_quic_conn_drop_datagrams(c);
	report_closed(c, err, cc.error_code, n > 0 ? reason : NULL);
}

int lp_quic_close_fatal(struct lp_quic_conn *c, int rv, uint64_t now, bool defer_cb)
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
		ngtcp2_connection_close_error_set_transport_error_tls_alert(&c->cl.ccerr, alert,
		                                                            NULL, 0);
		error_close(c,
		            c->tls != NULL && lp_tls_session_cert_failed(c->tls) ? LP_ERR_CERT
		                                                                 : alert_err(alert),
		            now, defer_cb);
		break;
	case NGTCP2_ERR_CALLBACK_FAILURE:
		if (c->fail_err == LP_ERR_ALPN) {
			ngtcp2_connection_close_error_set_transport_error_tls_alert(
			        &c->cl.ccerr, LP_TLS_ALERT_NO_APPLICATION_PROTOCOL, NULL, 0);
			error_close(c, LP_ERR_ALPN, now, defer_cb);
			break;
		}
		if (c->fail_err == LP_ERR_NO_DATAGRAM) {
			static const char r[] = "QUIC DATAGRAM support required";

			ngtcp2_connection_close_error_set_transport_error(
			        &c->cl.ccerr, NGTCP2_TRANSPORT_PARAMETER_ERROR,
			        (uint8_t *)(uintptr_t)r, sizeof(r) - 1);
			error_close(c, LP_ERR_NO_DATAGRAM, now, defer_cb);
			break;
		}
		/* fall through */
	default:
		ngtcp2_connection_close_error_set_transport_error_liberr(&c->cl.ccerr, rv, NULL, 0);
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
		if (n >= sizeof(c->cl.reason))
			n = sizeof(c->cl.reason) - 1;
		memcpy(c->cl.reason, reason, n);
	}
	c->cl.reason[n] = '\0';
	ngtcp2_connection_close_error_set_application_error(&c->cl.ccerr, app_code,
	                                                    (uint8_t *)c->cl.reason, n);
	start_closing(c, true, LP_OK);
	c->cl.code = app_code;
	c->cl.flush_deadline = 0; /* set by the next write */
	lp_quic_conn_touch(c);
}

void lp_quic_conn_close_transport(struct lp_quic_conn *c, uint64_t error_code)
{
	if (c->state >= LP_QUIC_CLOSING)
		return;
	ngtcp2_connection_close_error_set_transport_error(&c->cl.ccerr, error_code, NULL, 0);
	start_closing(c, false, LP_ERR_QUIC);
	c->cl.cb_done = true; /* refused before the application saw it */
	lp_quic_conn_touch(c);
}

bool lp_quic_close_on_read(struct lp_quic_conn *c)
{
	if (c->state == LP_QUIC_CLOSING && c->cl.wanted && c->cl.app)
		return true; /* still flushing the control stream */
	/* Answer the peer's packets with our CONNECTION_CLOSE again. */
	if (c->state == LP_QUIC_CLOSING && c->cl.pkt != NULL) {
		c->cl.resend = true;
		lp_quic_conn_touch(c);
	}
	return false;
}

bool lp_quic_close_on_expiry(struct lp_quic_conn *c, uint64_t now)
{
	if (c->cl.cb_deferred) {
		c->cl.cb_deferred = false;
		report_closed(c, c->cl.err, 0, NULL);
	}
	if (c->state < LP_QUIC_CLOSING)
		return true;
	if (c->state == LP_QUIC_CLOSED)
		return false;
	if (c->cl.wanted) {
		lp_quic_conn_touch(c); /* the write path sends the close */
		return c->cl.app;
	}
	if (now >= c->cl.deadline) {
		c->state = LP_QUIC_CLOSED;
		report_closed(c, c->cl.err, c->cl.code, c->cl.app ? c->cl.reason : NULL);
	}
	lp_quic_conn_touch(c);
	return false;
}

bool lp_quic_close_expiry(const struct lp_quic_conn *c, uint64_t *e)
{
	*e = UINT64_MAX;
	if (c->cl.cb_deferred) {
		*e = 0;
		return true;
	}
	if (c->state == LP_QUIC_DRAINING || (c->state == LP_QUIC_CLOSING && !c->cl.wanted)) {
		*e = c->cl.deadline;
		return true;
	}
	if (!c->cl.wanted)
		return false;
	if (!c->cl.app || c->cl.flush_deadline == 0) {
		*e = 0; /* the close packet is due now */
		return true;
	}
	*e = c->cl.flush_deadline;
	return false;
}

ssize_t lp_quic_close_write_now(struct lp_quic_conn *c, uint8_t *buf, struct lp_quic_path *path_out,
                                uint64_t now)
{
	ngtcp2_path_storage ps;
	ngtcp2_ssize n;

	ngtcp2_path_storage_zero(&ps);
	c->cl.wanted = false;
	c->cl.deadline = now + close_period(c);
	n = ngtcp2_conn_write_connection_close(c->q, &ps.path, NULL, buf, LP_QUIC_MAX_UDP_PAYLOAD,
	                                       &c->cl.ccerr, now);
	if (n <= 0) {
		/* Nothing can be sent (no keys yet): just forget it. */
		c->cl.deadline = now;
		return 0;
	}
	free(c->cl.pkt);
	c->cl.pkt = malloc((size_t)n);
	if (c->cl.pkt != NULL) {
		memcpy(c->cl.pkt, buf, (size_t)n);
		c->cl.pkt_len = (size_t)n;
	}
	lp_quic_path_from_ngtcp2(path_out, &ps.path);
	return n;
}

bool lp_quic_close_write(struct lp_quic_conn *c, uint8_t *buf, size_t *gso_size,
                         struct lp_quic_path *path_out, uint64_t now, ssize_t *ret)
{
	*ret = 0;
	if (c->state == LP_QUIC_DRAINING)
		return true;
	if (c->state == LP_QUIC_CLOSING && !c->cl.wanted) {
		if (!c->cl.resend || c->cl.pkt == NULL)
			return true;
		c->cl.resend = false;
		memcpy(buf, c->cl.pkt, c->cl.pkt_len);
		lp_quic_path_from_ngtcp2(path_out, &c->ps.path);
		*gso_size = c->cl.pkt_len;
		*ret = (ssize_t)c->cl.pkt_len;
		return true;
	}
	if (!c->cl.wanted)
		return false;
	if (c->cl.app && c->cl.flush_deadline == 0)
		c->cl.flush_deadline = now + CLOSE_FLUSH_NS;
	if (c->cl.app && c->hs_done && c->sq_acked < c->sq_total && !c->sid_dead &&
	    now < c->cl.flush_deadline)
		return false; /* the control stream is still being flushed */
	*ret = lp_quic_close_write_now(c, buf, path_out, now);
	*gso_size = (size_t)*ret;
	lp_quic_conn_reschedule(c);
	return true;
}
