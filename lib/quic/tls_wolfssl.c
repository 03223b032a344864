/*
 * tls_wolfssl.c - the wolfSSL backend of tls.h, for the Windows build.
 *
 * Client only: the Windows build runs no relay, so the server half of
 * tls.h answers LP_ERR_UNSUPPORTED. Trust is a pin of the relay's key
 * (--relay-pin, an invite), an exact DER pin of the relay's certificate
 * (--relay-ca-cert) or a PEM CA file plus a name check. wolfSSL is built
 * without access to the Windows certificate store (scripts/mingw-deps.sh:
 * --disable-sys-ca-certs), so a client with none of them is refused up
 * front instead of failing every handshake.
 *
 * wolfSSL_free() zeroes the session's traffic secrets itself (ForceZero in
 * FreeKeys); the client holds no private key.
 */
#include "tls.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <ngtcp2/ngtcp2_crypto_wolfssl.h>

/* The pin is checked in the verify callback on the leaf certificate, which
 * wolfSSL calls for a leaf that verified too only when built with
 * WOLFSSL_ALWAYS_VERIFY_CB (opensslextra): lib/quic/meson.build checks it. */

/* TLS 1.3 AES-GCM only (ChaCha20 in software costs several times more per
 * datagram); the ngtcp2 helper already pins the version to 1.3. */
static const char cipher_list[] = "TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384";

/* A DER certificate larger than this is not a certificate. */
#define MAX_PIN_BYTES (64 * 1024)

struct lp_tls_creds {
	const struct lp_logger *log;
	WOLFSSL_CTX *ctx;
	uint8_t *pin; /* pinned DER; NULL: verify the chain against the CA file */
	size_t pin_len;
	char *pin_file;
	char *server_name; /* SNI and name check; NULL only with a pin */
	bool name_is_ip;   /* server_name is an IP literal: no SNI, IP SAN check */
	bool verify_chain; /* ca_file trust (with the name check) */
	bool spki_pin_set; /* --relay-pin: the leaf's key */
	uint8_t spki_pin[LP_QUIC_PIN_LEN];
};

struct lp_tls_session {
	/* First member: the ngtcp2 wolfSSL helper reads the SSL's app data as
	 * an ngtcp2_crypto_conn_ref *. */
	ngtcp2_crypto_conn_ref ref_copy;
	WOLFSSL *ssl;
	struct lp_tls_creds *cr;
	bool cert_failed;
	bool leaf_pin_set; /* computed at depth 0 */
	bool leaf_ok;      /* every check of the leaf passed */
	uint8_t leaf_pin[LP_QUIC_PIN_LEN];
};

static bool is_ip_literal(const char *s)
{
	uint8_t buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Reads a whole small binary file. */
static int read_file(const struct lp_logger *log, const char *what, const char *path, uint8_t **out,
                     size_t *out_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0;
	int rv = LP_ERR_IO;

	*out = NULL;
	*out_len = 0;
	if (f == NULL) {
		lp_log(log, LP_LOG_ERROR, "cannot read %s %s: %s", what, path, strerror(errno));
		return LP_ERR_IO;
	}
	buf = malloc(MAX_PIN_BYTES + 1);
	if (buf == NULL) {
		rv = LP_ERR_NOMEM;
		goto out;
	}
	len = fread(buf, 1, MAX_PIN_BYTES + 1, f);
	if (ferror(f)) {
		lp_log(log, LP_LOG_ERROR, "cannot read %s %s: %s", what, path, strerror(errno));
		goto out;
	}
	if (len > MAX_PIN_BYTES) {
		lp_log(log, LP_LOG_ERROR, "%s %s is larger than %d bytes: not a DER certificate",
		       what, path, MAX_PIN_BYTES);
		rv = LP_ERR_INVAL;
		goto out;
	}
	*out = buf;
	*out_len = len;
	buf = NULL;
	rv = 0;
out:
	free(buf);
	fclose(f);
	return rv;
}

/* ---- verification ------------------------------------------------------- */

/* The leaf (depth 0), the one certificate the pins look at: whatever the
 * relay sends above it is neither needed nor trusted by a pin. */
static int verify_leaf(struct lp_tls_session *s, WOLFSSL_X509_STORE_CTX *st)
{
	const struct lp_tls_creds *cr = s->cr;
	WOLFSSL_X509 *leaf = wolfSSL_X509_STORE_CTX_get_current_cert(st);
	const unsigned char *der = NULL;
	int len = 0;

	if (leaf != NULL)
		der = wolfSSL_X509_get_der(leaf, &len);
	if (der == NULL || len <= 0 || lp_quic_cert_pin(der, (size_t)len, s->leaf_pin) != 0) {
		lp_log(cr->log, LP_LOG_ERROR, "the relay sent no usable certificate");
		return 0;
	}
	s->leaf_pin_set = true;
	if (cr->spki_pin_set && !lp_quic_pin_equal(s->leaf_pin, cr->spki_pin)) {
		lp_log(cr->log, LP_LOG_ERROR,
		       "the relay's key does not match the pin (--relay-pin or the invite): "
		       "wrong relay, or it has a new key");
		return 0;
	}
	if (cr->pin != NULL &&
	    ((size_t)len != cr->pin_len || memcmp(der, cr->pin, cr->pin_len) != 0)) {
		lp_log(cr->log, LP_LOG_ERROR,
		       "the relay's certificate does not match the pinned --relay-ca-cert file %s "
		       "(wrong relay, or its certificate changed: fetch the current one)",
		       cr->pin_file);
		return 0;
	}
	return 1;
}

static int verify_chain(struct lp_tls_session *s, int preverify, WOLFSSL_X509_STORE_CTX *st)
{
	const struct lp_tls_creds *cr = s->cr;
	int err;

	if (preverify)
		return 1;
	err = wolfSSL_X509_STORE_CTX_get_error(st);
	lp_log(cr->log, LP_LOG_ERROR,
	       "the relay's certificate is not trusted for %s (certificate %d of its chain): %s",
	       cr->server_name, wolfSSL_X509_STORE_CTX_get_error_depth(st),
	       wolfSSL_X509_verify_cert_error_string(err));
	return 0;
}

/* Returns 1 to accept, 0 to fail the handshake with bad_certificate. */
static int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *st)
{
	/* userCtx is what lp_tls_session_new gave wolfSSL_SetCertCbCtx. */
	struct lp_tls_session *s = st->userCtx;
	bool leaf = wolfSSL_X509_STORE_CTX_get_error_depth(st) == 0;
	int ok;

	if (s == NULL)
		return 0;
	ok = !leaf || verify_leaf(s, st);
	/* A pinned certificate needs no chain; with the key pin alone there is
	 * no chain to trust: the pin is. */
	if (ok && s->cr->pin == NULL && s->cr->verify_chain)
		ok = verify_chain(s, preverify, st);
	if (!ok)
		s->cert_failed = true;
	else if (leaf)
		s->leaf_ok = true;
	return ok;
}

/* ---- client credentials ------------------------------------------------- */

int lp_tls_client_creds_new(const struct lp_quic_client_cfg *cfg, const struct lp_logger *log,
                            struct lp_tls_creds **out)
{
	struct lp_tls_creds *cr;
	int rv;

	*out = NULL;
	if (cfg->server_name == NULL && cfg->pin_der_file == NULL && !cfg->spki_pin_set)
		return LP_ERR_INVAL;
	if (cfg->pin_der_file == NULL && cfg->ca_file == NULL && !cfg->spki_pin_set) {
		lp_log(log, LP_LOG_ERROR,
		       "the Windows client cannot use the system certificate store: "
		       "join with an invite, pin the relay with --relay-pin, pass its "
		       "certificate with --relay-ca-cert FILE.der, or a PEM CA bundle with "
		       "--ca-file FILE");
		return LP_ERR_UNSUPPORTED;
	}
	if (wolfSSL_Init() != WOLFSSL_SUCCESS)
		return LP_ERR_TLS;
	cr = calloc(1, sizeof(*cr));
	if (cr == NULL) {
		wolfSSL_Cleanup();
		return LP_ERR_NOMEM;
	}
	cr->log = log;
	cr->spki_pin_set = cfg->spki_pin_set;
	memcpy(cr->spki_pin, cfg->spki_pin, sizeof(cr->spki_pin));
	rv = LP_ERR_NOMEM;
	if (cfg->server_name != NULL) {
		cr->server_name = strdup(cfg->server_name);
		if (cr->server_name == NULL)
			goto fail;
		cr->name_is_ip = is_ip_literal(cfg->server_name);
	}
	cr->ctx = wolfSSL_CTX_new(wolfTLSv1_3_client_method());
	if (cr->ctx == NULL)
		goto fail;
	rv = LP_ERR_TLS;
	if (ngtcp2_crypto_wolfssl_configure_client_context(cr->ctx) != 0 ||
	    wolfSSL_CTX_set_cipher_list(cr->ctx, cipher_list) != WOLFSSL_SUCCESS)
		goto fail;
	if (cfg->pin_der_file != NULL) {
		rv = LP_ERR_NOMEM;
		cr->pin_file = strdup(cfg->pin_der_file);
		if (cr->pin_file == NULL)
			goto fail;
		rv = read_file(log, "pinned relay certificate (--relay-ca-cert)", cfg->pin_der_file,
		               &cr->pin, &cr->pin_len);
		if (rv != 0)
			goto fail;
		if (cr->pin_len == 0) {
			lp_log(log, LP_LOG_ERROR, "pinned relay certificate %s is empty",
			       cfg->pin_der_file);
			rv = LP_ERR_INVAL;
			goto fail;
		}
	} else if (cfg->ca_file != NULL) {
		/* fopen first: wolfSSL reports a missing file and a file
		 * without certificates alike. */
		FILE *f = fopen(cfg->ca_file, "rb");

		if (f == NULL) {
			lp_log(log, LP_LOG_ERROR, "cannot read CA file %s: %s", cfg->ca_file,
			       strerror(errno));
			rv = LP_ERR_IO;
			goto fail;
		}
		fclose(f);
		if (wolfSSL_CTX_load_verify_locations(cr->ctx, cfg->ca_file, NULL) !=
		    WOLFSSL_SUCCESS) {
			lp_log(log, LP_LOG_ERROR,
			       "cannot load CA file %s: no usable PEM certificate", cfg->ca_file);
			rv = LP_ERR_TLS;
			goto fail;
		}
		if (cr->server_name == NULL) {
			rv = LP_ERR_INVAL;
			goto fail;
		}
		cr->verify_chain = true;
	}
	wolfSSL_CTX_set_verify(cr->ctx, WOLFSSL_VERIFY_PEER, verify_cb);
	*out = cr;
	return 0;
fail:
	lp_tls_creds_del(cr);
	return rv;
}

/* ---- server: not in this build ------------------------------------------ */

int lp_tls_server_creds_new(const struct lp_quic_server_cfg *cfg, const struct lp_logger *log,
                            struct lp_tls_creds **out)
{
	(void)cfg;
	*out = NULL;
	lp_log(log, LP_LOG_ERROR,
	       "QUIC server not supported: the wolfSSL backend (Windows build) is client-only");
	return LP_ERR_UNSUPPORTED;
}

int lp_tls_server_creds_reload(struct lp_tls_creds *cr, const char *cert_file, const char *key_file)
{
	(void)cert_file;
	(void)key_file;
	lp_log(cr->log, LP_LOG_ERROR,
	       "QUIC server not supported: the wolfSSL backend (Windows build) is client-only");
	return LP_ERR_UNSUPPORTED;
}

int lp_tls_creds_cert_der(const struct lp_tls_creds *cr, const uint8_t **der, size_t *len)
{
	/* Only server credentials have a certificate of their own. */
	(void)cr;
	*der = NULL;
	*len = 0;
	return LP_ERR_STATE;
}

void lp_tls_creds_del(struct lp_tls_creds *cr)
{
	if (cr == NULL)
		return;
	/* Sessions hold their own reference to the WOLFSSL_CTX. */
	wolfSSL_CTX_free(cr->ctx);
	free(cr->pin);
	free(cr->pin_file);
	free(cr->server_name);
	free(cr);
	wolfSSL_Cleanup();
}

/* ---- sessions ----------------------------------------------------------- */

int lp_tls_session_new(struct lp_tls_creds *cr, bool server, ngtcp2_crypto_conn_ref *ref,
                       struct lp_tls_session **out)
{
	/* wolfSSL_UseALPN takes a mutable list (it copies it). */
	char alpn[] = LP_QUIC_ALPN;
	struct lp_tls_session *s;

	*out = NULL;
	if (server)
		return LP_ERR_STATE;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return LP_ERR_NOMEM;
	s->ref_copy = *ref;
	s->cr = cr;
	s->ssl = wolfSSL_new(cr->ctx);
	if (s->ssl == NULL) {
		free(s);
		return LP_ERR_NOMEM;
	}
	wolfSSL_set_app_data(s->ssl, &s->ref_copy);
	wolfSSL_SetCertCbCtx(s->ssl, s);
	/* The exporter (lp_tls_session_exporter) reads the handshake's saved
	 * secrets, which wolfSSL otherwise frees when the handshake ends;
	 * wolfSSL_free zeroes them (ForceZero in FreeArrays). */
	wolfSSL_KeepArrays(s->ssl);
	wolfSSL_set_connect_state(s->ssl);
	if (wolfSSL_UseALPN(s->ssl, alpn, (unsigned)(sizeof(alpn) - 1),
	                    WOLFSSL_ALPN_FAILED_ON_MISMATCH) != WOLFSSL_SUCCESS)
		goto fail;
	if (cr->server_name != NULL && !cr->name_is_ip &&
	    wolfSSL_UseSNI(s->ssl, WOLFSSL_SNI_HOST_NAME, cr->server_name,
	                   (unsigned short)strlen(cr->server_name)) != WOLFSSL_SUCCESS)
		goto fail;
	if (cr->verify_chain) {
		/* Chain trust needs the name check too: any certificate the CA
		 * signed would do otherwise. */
		if (cr->name_is_ip) {
			if (wolfSSL_X509_VERIFY_PARAM_set1_ip_asc(
			            wolfSSL_get0_param(s->ssl), cr->server_name) != WOLFSSL_SUCCESS)
				goto fail;
		} else if (wolfSSL_check_domain_name(s->ssl, cr->server_name) != WOLFSSL_SUCCESS) {
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	lp_tls_session_del(s);
	return LP_ERR_TLS;
}

void *lp_tls_session_native(struct lp_tls_session *s)
{
	return s->ssl;
}

int lp_tls_session_check_alpn(struct lp_tls_session *s)
{
	char *name = NULL;
	unsigned short len = 0;

	if (wolfSSL_ALPN_GetProtocol(s->ssl, &name, &len) != WOLFSSL_SUCCESS || name == NULL)
		return LP_ERR_ALPN;
	if (len != sizeof(LP_QUIC_ALPN) - 1 || memcmp(name, LP_QUIC_ALPN, len) != 0)
		return LP_ERR_ALPN;
	return 0;
}

bool lp_tls_session_cert_failed(const struct lp_tls_session *s)
{
	return s->cert_failed;
}

int lp_tls_session_peer_pin(const struct lp_tls_session *s, uint8_t pin[LP_QUIC_PIN_LEN])
{
	if (!s->leaf_pin_set || !s->leaf_ok || s->cert_failed)
		return LP_ERR_STATE;
	memcpy(pin, s->leaf_pin, LP_QUIC_PIN_LEN);
	return 0;
}

int lp_tls_session_exporter(struct lp_tls_session *s, const char *label, uint8_t *out, size_t len)
{
	/* use_context 0: TLS 1.3 hashes an empty context either way, which is
	 * what GnuTLS's gnutls_prf_rfc5705 with no context computes. */
	if (wolfSSL_export_keying_material(s->ssl, out, len, label, strlen(label), NULL, 0, 0) !=
	    WOLFSSL_SUCCESS)
		return LP_ERR_TLS;
	return 0;
}

void lp_tls_session_del(struct lp_tls_session *s)
{
	if (s == NULL)
		return;
	wolfSSL_free(s->ssl);
	free(s);
}

int lp_tls_sha256(const void *data, size_t len, uint8_t out[32])
{
	if (len > UINT32_MAX)
		return LP_ERR_INVAL;
	return wc_Sha256Hash(data, (word32)len, out) == 0 ? 0 : LP_ERR_TLS;
}

int lp_tls_random(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		int n = len > INT_MAX ? INT_MAX : (int)len;

		if (wolfSSL_RAND_bytes(p, n) != 1)
			return LP_ERR_TLS;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
