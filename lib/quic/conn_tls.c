/*
 * conn_tls.c - what a connection's TLS session tells its owner: the
 * exporter that binds an admission proof to the connection, the pin of the
 * certificate the relay presented, and the peer's address; and dropping the
 * session on a server once the handshake is over.
 */
#include "quic_internal.h"

#include <string.h>

int lp_quic_conn_exporter(const struct lp_quic_conn *c, const char *label, uint8_t *out, size_t len)
{
	if (label == NULL || out == NULL || len == 0 || len > 255)
		return LP_ERR_INVAL;
	if (c->tls_shed) {
		if (len != sizeof(c->admission) || strcmp(label, LP_QUIC_EXPORTER_ADMISSION) != 0)
			return LP_ERR_STATE;
		memcpy(out, c->admission, len);
		return 0;
	}
	if (c->tls == NULL || !c->hs_done)
		return LP_ERR_STATE;
	return lp_tls_session_exporter(c->tls, label, out, len);
}

int lp_quic_conn_shed_tls(struct lp_quic_conn *c)
{
	int rv;

	if (c->tls_shed)
		return 0;
	if (!c->server || c->tls == NULL || !c->hs_done)
		return LP_ERR_STATE;
	rv = lp_tls_session_exporter(c->tls, LP_QUIC_EXPORTER_ADMISSION, c->admission,
	                             sizeof(c->admission));
	if (rv != 0)
		return rv;
	/* Nothing of ngtcp2's reaches the session any more but CRYPTO data
	 * (recv_crypto_cb in conn.c refuses it first): key updates derive
	 * from ngtcp2's own secrets. */
	ngtcp2_conn_set_tls_native_handle(c->q, NULL);
	lp_tls_session_del(c->tls);
	c->tls = NULL;
	c->tls_shed = true;
	return 0;
}

int lp_quic_conn_peer_pin(const struct lp_quic_conn *c, uint8_t pin[LP_QUIC_PIN_LEN])
{
	if (c->server || c->tls == NULL || !c->hs_done)
		return LP_ERR_STATE;
	return lp_tls_session_peer_pin(c->tls, pin);
}

int lp_quic_conn_remote(const struct lp_quic_conn *c, struct sockaddr_storage *out)
{
	const ngtcp2_addr *a = &c->ps.path.remote;

	memset(out, 0, sizeof(*out));
	if (a->addrlen == 0 || (size_t)a->addrlen > sizeof(*out))
		return LP_ERR_STATE;
	memcpy(out, a->addr, (size_t)a->addrlen);
	return 0;
}

int lp_quic_ctx_cert_pin(const struct lp_quic_ctx *ctx, uint8_t pin[LP_QUIC_PIN_LEN])
{
	const uint8_t *der = NULL;
	size_t len = 0;
	int rv;

	if (!ctx->server)
		return LP_ERR_STATE;
	rv = lp_tls_creds_cert_der(ctx->creds, &der, &len);
	if (rv != 0)
		return rv;
	return lp_quic_cert_pin(der, len, pin);
}
