/*
 * ctx.c - client and server contexts: TLS credentials plus the settings
 * every connection of the context shares.
 */
#include "quic_internal.h"

#include <stdlib.h>
#include <string.h>

#define DEF_IDLE_NS (30 * LP_NS_PER_SEC)
#define DEF_KEEPALIVE_NS (5 * LP_NS_PER_SEC)
#define DEF_HANDSHAKE_NS (10 * LP_NS_PER_SEC)
#define DEF_DGRAM_QUEUE 256
#define MAX_DGRAM_QUEUE 65536
#define DEF_MAX_CONNS 4096

static uint64_t or_default(uint64_t v, uint64_t def)
{
	return v != 0 ? v : def;
}

/* A context with the settings both kinds share. LP_ERR_INVAL (queue too
 * long), LP_ERR_NOMEM. */
static int ctx_alloc(size_t datagram_queue, uint64_t idle_timeout_ns, const struct lp_logger *log,
                     struct lp_quic_ctx **out)
{
	struct lp_quic_ctx *ctx;

	*out = NULL;
	if (datagram_queue > MAX_DGRAM_QUEUE)
		return LP_ERR_INVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return LP_ERR_NOMEM;
	ctx->log = log;
	ctx->idle_timeout_ns = or_default(idle_timeout_ns, DEF_IDLE_NS);
	ctx->handshake_timeout_ns = DEF_HANDSHAKE_NS;
	ctx->datagram_queue = datagram_queue ? datagram_queue : DEF_DGRAM_QUEUE;
	if (lp_os_random(&ctx->dg_k0, sizeof(ctx->dg_k0)) < 0 ||
	    lp_os_random(&ctx->dg_k1, sizeof(ctx->dg_k1)) < 0) {
		free(ctx);
		return LP_ERR_CRYPTO;
	}
	*out = ctx;
	return 0;
}

/* Hands ctx out, or deletes it (NULL: none) when its set-up failed (rv). */
static int ctx_finish(struct lp_quic_ctx *ctx, int rv, struct lp_quic_ctx **out)
{
	*out = rv == 0 ? ctx : NULL;
	if (rv != 0)
		lp_quic_ctx_del(ctx);
	return rv;
}

int lp_quic_ctx_new_client(const struct lp_quic_client_cfg *cfg, const struct lp_logger *log,
                           struct lp_quic_ctx **out)
{
	struct lp_quic_ctx *ctx;
	int rv = ctx_alloc(cfg->datagram_queue, cfg->idle_timeout_ns, log, &ctx);

	if (rv == 0) {
		ctx->keepalive_ns = or_default(cfg->keepalive_ns, DEF_KEEPALIVE_NS);
		ctx->handshake_timeout_ns = or_default(cfg->handshake_timeout_ns, DEF_HANDSHAKE_NS);
		rv = lp_tls_client_creds_new(cfg, log, &ctx->creds);
	}
	return ctx_finish(ctx, rv, out);
}

int lp_quic_ctx_new_server(const struct lp_quic_server_cfg *cfg, const struct lp_logger *log,
                           struct lp_quic_ctx **out)
{
	struct lp_quic_ctx *ctx;
	int rv = ctx_alloc(cfg->datagram_queue, cfg->idle_timeout_ns, log, &ctx);

	if (rv == 0) {
		ctx->server = true;
		ctx->max_connections = cfg->max_connections ? cfg->max_connections : DEF_MAX_CONNS;
		ctx->retry_pending = cfg->retry_pending;
		ctx->pending_per_source = cfg->pending_per_source;
		ctx->conns_per_source = cfg->conns_per_source;
		rv = lp_tls_random(ctx->reset_secret, sizeof(ctx->reset_secret));
	}
	if (rv == 0)
		rv = lp_tls_random(ctx->retry_secret, sizeof(ctx->retry_secret));
	if (rv == 0)
		rv = lp_tls_server_creds_new(cfg, log, &ctx->creds);
	return ctx_finish(ctx, rv, out);
}

int lp_quic_ctx_reload_cert(struct lp_quic_ctx *ctx, const char *cert_file, const char *key_file)
{
	if (!ctx->server)
		return LP_ERR_STATE;
	return lp_tls_server_creds_reload(ctx->creds, cert_file, key_file);
}

int lp_quic_ctx_cert_der(const struct lp_quic_ctx *ctx, const uint8_t **der, size_t *len)
{
	return lp_tls_creds_cert_der(ctx->creds, der, len);
}

void lp_quic_ctx_del(struct lp_quic_ctx *ctx)
{
	if (ctx == NULL)
		return;
	lp_tls_creds_del(ctx->creds);
	/* The reset secret lets anyone kill our connections: wipe it (a
	 * volatile store the compiler cannot drop; portable to Windows). */
	for (size_t i = 0; i < sizeof(ctx->reset_secret); i++) {
		((volatile uint8_t *)ctx->reset_secret)[i] = 0;
		((volatile uint8_t *)ctx->retry_secret)[i] = 0;
	}
	free(ctx);
}
