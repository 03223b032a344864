/*
 * tls_gnutls.c - the GnuTLS backend of tls.h.
 */
#include "tls.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

/* TLS 1.3 only; AES-GCM only; no middlebox compatibility mode (QUIC
 * forbids the fake ChangeCipherSpec). */
static const char priority[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:"
                               "+AES-256-GCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:"
                               "+GROUP-SECP384R1:%DISABLE_TLS13_COMPAT_MODE";

#define DEV_CERT_DAYS 825
#define MAX_SAN 16

/* A certificate/key pair; sessions hold a reference so a reload does not
 * pull credentials from under a handshake in flight. */
struct cred_ref {
	unsigned refs;
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t der; /* our certificate (server), gnutls-allocated */
	/* Parsed once: gnutls_priority_set_direct() builds a cache of about
	 * 8 KiB per session, which a relay kept for every idle peer. */
	gnutls_priority_t prio;
};

struct lp_tls_creds {
	bool server;
	const struct lp_logger *log;
	struct cred_ref *cur;
	/* client */
	gnutls_datum_t pin; /* pinned DER; data NULL if none */
	char *server_name;  /* for SNI and the name check */
	bool sni;           /* server_name is a DNS name, not an IP literal */
	bool verify_chain;  /* CA file or system trust */
	char *pin_file;
	bool spki_pin_set; /* --relay-pin: the leaf's key */
	uint8_t spki_pin[LP_QUIC_PIN_LEN];
};

struct lp_tls_session {
	/* First member: GnuTLS's session pointer must be an
	 * ngtcp2_crypto_conn_ref *, and our callbacks get back to the
	 * session from it. */
	ngtcp2_crypto_conn_ref ref_copy;
	gnutls_session_t s;
	struct lp_tls_creds *cr;
	struct cred_ref *ref;
	bool cert_failed;
	bool peer_pin_set; /* the leaf passed our checks */
	uint8_t peer_pin[LP_QUIC_PIN_LEN];
};

static void cred_put(struct cred_ref *r)
{
	if (r == NULL || --r->refs > 0)
		return;
	gnutls_certificate_free_credentials(r->cred);
	if (r->prio != NULL)
		gnutls_priority_deinit(r->prio);
	gnutls_free(r->der.data);
	free(r);
}

static int cred_alloc(struct cred_ref **out)
{
	struct cred_ref *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (r == NULL)
		return LP_ERR_NOMEM;
	if (gnutls_certificate_allocate_credentials(&r->cred) < 0) {
		free(r);
		return LP_ERR_NOMEM;
	}
	r->refs = 1;
	if (gnutls_priority_init(&r->prio, priority, NULL) < 0) {
		cred_put(r);
		return LP_ERR_TLS;
	}
	*out = r;
	return 0;
}

static int read_file(const struct lp_logger *log, const char *what, const char *path,
                     gnutls_datum_t *out)
{
	int rv = gnutls_load_file(path, out);

	if (rv < 0) {
		lp_log(log, LP_LOG_ERROR, "cannot read %s %s: %s", what, path,
		       rv == GNUTLS_E_FILE_ERROR ? strerror(errno) : gnutls_strerror(rv));
		return LP_ERR_IO;
	}
	return 0;
}

static bool is_ip_literal(const char *s, uint8_t *buf, size_t *len)
{
	if (inet_pton(AF_INET, s, buf) == 1) {
		*len = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, buf) == 1) {
		*len = 16;
		return true;
	}
	return false;
}

/* ---- client --------------------------------------------------------------- */

int lp_tls_client_creds_new(const struct lp_quic_client_cfg *cfg, const struct lp_logger *log,
                            struct lp_tls_creds **out)
{
	struct lp_tls_creds *cr;
	uint8_t ip[16];
	size_t iplen;
	int rv;

	*out = NULL;
	if (cfg->server_name == NULL && cfg->pin_der_file == NULL && !cfg->spki_pin_set)
		return LP_ERR_INVAL;
	cr = calloc(1, sizeof(*cr));
	if (cr == NULL)
		return LP_ERR_NOMEM;
	cr->log = log;
	cr->spki_pin_set = cfg->spki_pin_set;
	memcpy(cr->spki_pin, cfg->spki_pin, sizeof(cr->spki_pin));
	rv = cred_alloc(&cr->cur);
	if (rv != 0)
		goto fail;
	rv = LP_ERR_NOMEM;
	if (cfg->server_name != NULL) {
		cr->server_name = strdup(cfg->server_name);
		if (cr->server_name == NULL)
			goto fail;
		cr->sni = !is_ip_literal(cfg->server_name, ip, &iplen);
	}
	if (cfg->pin_der_file != NULL) {
		cr->pin_file = strdup(cfg->pin_der_file);
		if (cr->pin_file == NULL)
			goto fail;
		rv = read_file(log, "pinned relay certificate (--relay-ca-cert)", cfg->pin_der_file,
		               &cr->pin);
		if (rv != 0)
			goto fail;
		if (cr->pin.size == 0) {
			lp_log(log, LP_LOG_ERROR, "pinned relay certificate %s is empty",
			       cfg->pin_der_file);
			rv = LP_ERR_INVAL;
			goto fail;
		}
	} else if (cfg->ca_file != NULL) {
		rv = gnutls_certificate_set_x509_trust_file(cr->cur->cred, cfg->ca_file,
		                                            GNUTLS_X509_FMT_PEM);
		if (rv <= 0) {
			lp_log(log, LP_LOG_ERROR, "cannot load CA file %s: %s", cfg->ca_file,
			       rv == 0 ? "no certificate in it" : gnutls_strerror(rv));
			rv = rv == GNUTLS_E_FILE_ERROR ? LP_ERR_IO : LP_ERR_TLS;
			goto fail;
		}
		cr->verify_chain = true;
	} else if (!cfg->spki_pin_set) {
		rv = gnutls_certificate_set_x509_system_trust(cr->cur->cred);
		if (rv < 0) {
			lp_log(log, LP_LOG_ERROR, "cannot load the system trust store: %s",
			       gnutls_strerror(rv));
			rv = LP_ERR_TLS;
			goto fail;
		}
		cr->verify_chain = true;
	}
	*out = cr;
	return 0;
fail:
	lp_tls_creds_del(cr);
	return rv;
}

static struct lp_tls_session *session_of(gnutls_session_t gs)
{
	/* ref_copy is the first member (see struct lp_tls_session). */
	return (struct lp_tls_session *)gnutls_session_get_ptr(gs);
}

static int verify_pin(struct lp_tls_session *s, gnutls_session_t gs)
{
	const struct lp_tls_creds *cr = s->cr;
	const gnutls_datum_t *peers;
	unsigned n = 0;

	peers = gnutls_certificate_get_peers(gs, &n);
	if (peers == NULL || n == 0) {
		lp_log(cr->log, LP_LOG_ERROR, "the relay sent no certificate");
		return -1;
	}
	if (peers[0].size != cr->pin.size ||
	    memcmp(peers[0].data, cr->pin.data, cr->pin.size) != 0) {
		lp_log(cr->log, LP_LOG_ERROR,
		       "the relay's certificate does not match the pinned --relay-ca-cert file %s "
		       "(wrong relay, or its certificate changed: fetch the current one)",
		       cr->pin_file);
		return -1;
	}
	return 0;
}

static int verify_chain(struct lp_tls_session *s, gnutls_session_t gs)
{
	const struct lp_tls_creds *cr = s->cr;
	gnutls_datum_t txt = { NULL, 0 };
	unsigned status = 0;
	int rv;

	rv = gnutls_certificate_verify_peers3(gs, cr->server_name, &status);
	if (rv < 0) {
		lp_log(cr->log, LP_LOG_ERROR, "cannot verify the relay's certificate: %s",
		       gnutls_strerror(rv));
		return -1;
	}
	if (status == 0)
		return 0;
	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &txt, 0) == 0) {
		lp_log(cr->log, LP_LOG_ERROR, "the relay's certificate is not trusted for %s: %s",
		       cr->server_name, (const char *)txt.data);
		gnutls_free(txt.data);
	} else {
		lp_log(cr->log, LP_LOG_ERROR, "the relay's certificate is not trusted for %s",
		       cr->server_name);
	}
	return -1;
}

/* The leaf's pin, checked against --relay-pin when one is set. */
static int verify_spki(struct lp_tls_session *s, gnutls_session_t gs, uint8_t pin[LP_QUIC_PIN_LEN])
{
	const struct lp_tls_creds *cr = s->cr;
	const gnutls_datum_t *peers;
	unsigned n = 0;

	peers = gnutls_certificate_get_peers(gs, &n);
	if (peers == NULL || n == 0) {
		lp_log(cr->log, LP_LOG_ERROR, "the relay sent no certificate");
		return -1;
	}
	if (lp_quic_cert_pin(peers[0].data, peers[0].size, pin) != 0) {
		lp_log(cr->log, LP_LOG_ERROR, "the relay's certificate does not parse");
		return -1;
	}
	if (cr->spki_pin_set && !lp_quic_pin_equal(pin, cr->spki_pin)) {
		lp_log(cr->log, LP_LOG_ERROR,
		       "the relay's key does not match the pin (--relay-pin or the invite): "
		       "wrong relay, or it has a new key");
		return -1;
	}
	return 0;
}

static int verify_cb(gnutls_session_t gs)
{
	struct lp_tls_session *s = session_of(gs);
	uint8_t pin[LP_QUIC_PIN_LEN];
	int rv;

	rv = verify_spki(s, gs, pin);
	if (rv == 0 && s->cr->pin.data != NULL)
		rv = verify_pin(s, gs);
	else if (rv == 0 && s->cr->verify_chain)
		rv = verify_chain(s, gs);
	if (rv != 0) {
		s->cert_failed = true;
		return rv;
	}
	memcpy(s->peer_pin, pin, sizeof(pin));
	s->peer_pin_set = true;
	return 0;
}

/* ---- server --------------------------------------------------------------- */

/*
 * The development key: loaded from the state directory when it is there,
 * else generated (and saved there when there is one), so the relay's pin
 * survives restarts.
 */
static int dev_key(const struct lp_quic_server_cfg *cfg, const struct lp_logger *log,
                   gnutls_x509_privkey_t key)
{
	char path[PATH_MAX];
	gnutls_datum_t d = { NULL, 0 };
	int rv;

	if (cfg->dev_state_dir != NULL) {
		if (snprintf(path, sizeof(path), "%s/" LP_QUIC_DEV_KEY_FILE, cfg->dev_state_dir) >=
		    (int)sizeof(path))
			return LP_ERR_INVAL;
		rv = gnutls_load_file(path, &d);
		if (rv == 0) {
			rv = gnutls_x509_privkey_import(key, &d, GNUTLS_X509_FMT_PEM);
			gnutls_memset(d.data, 0, d.size);
			gnutls_free(d.data);
			if (rv < 0) {
				lp_log(log, LP_LOG_ERROR,
				       "development key %s is not a PEM private key: %s "
				       "(delete it to make a new one: the relay's pin changes)",
				       path, gnutls_strerror(rv));
				return LP_ERR_TLS;
			}
			return 0;
		}
		if (errno != ENOENT) {
			lp_log(log, LP_LOG_ERROR, "cannot read development key %s: %s", path,
			       strerror(errno));
			return LP_ERR_IO;
		}
	}
	rv = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	                                  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (rv < 0) {
		lp_log(log, LP_LOG_ERROR, "cannot generate the development key: %s",
		       gnutls_strerror(rv));
		return LP_ERR_TLS;
	}
	if (cfg->dev_state_dir == NULL)
		return 0;
	if (gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d) < 0)
		return LP_ERR_TLS;
	rv = lp_file_write_atomic(path, d.data, d.size, 0);
	if (rv < 0)
		lp_log(log, LP_LOG_ERROR, "cannot write %s: %s", path, strerror(errno));
	else
		lp_log(log, LP_LOG_INFO, "generated a development key, kept in %s", path);
	gnutls_memset(d.data, 0, d.size);
	gnutls_free(d.data);
	return rv;
}

static int gen_dev_cert(const struct lp_quic_server_cfg *cfg, const struct lp_logger *log,
                        struct cred_ref *r)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	char names[512], *save = NULL, *tok;
	const char *list = cfg->dev_cert_names ? cfg->dev_cert_names : "localhost";
	const char *cn = NULL;
	uint8_t serial[16];
	time_t now = time(NULL);
	int rv, err = LP_ERR_TLS;

	if (lp_strlcpy_checked(names, sizeof(names), list) != 0)
		return LP_ERR_INVAL;
	if (gnutls_x509_privkey_init(&key) < 0 || gnutls_x509_crt_init(&crt) < 0)
		goto out;
	err = dev_key(cfg, log, key);
	if (err != 0)
		goto out;
	err = LP_ERR_TLS;
	if (gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)) < 0)
		goto out;
	serial[0] &= 0x7f; /* positive */
	if ((rv = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rv = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (rv = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (rv = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)DEV_CERT_DAYS * 86400)) <
	            0 ||
	    (rv = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (rv = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (rv = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (rv = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0)
		goto tls_fail;
	for (tok = strtok_r(names, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		uint8_t ip[16];
		size_t iplen;

		while (*tok == ' ')
			tok++;
		if (*tok == '\0')
			continue;
		if (cn == NULL)
			cn = tok;
		if (is_ip_literal(tok, ip, &iplen))
			rv = gnutls_x509_crt_set_subject_alt_name(
			        crt, GNUTLS_SAN_IPADDRESS, ip, (unsigned)iplen, GNUTLS_FSAN_APPEND);
		else
			rv = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, tok,
			                                          (unsigned)strlen(tok),
			                                          GNUTLS_FSAN_APPEND);
		if (rv < 0)
			goto tls_fail;
	}
	if (cn == NULL) {
		err = LP_ERR_INVAL;
		goto out;
	}
	rv = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
	                                   (unsigned)strlen(cn));
	if (rv < 0 || (rv = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0)
		goto tls_fail;
	if ((rv = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &r->der)) < 0 ||
	    (rv = gnutls_certificate_set_x509_key(r->cred, &crt, 1, key)) < 0)
		goto tls_fail;
	if (cfg->dev_cert_der_out != NULL) {
		FILE *f = fopen(cfg->dev_cert_der_out, "wb");

		if (f == NULL || fwrite(r->der.data, 1, r->der.size, f) != r->der.size) {
			lp_log(log, LP_LOG_ERROR,
			       "cannot write the development certificate to %s: %s",
			       cfg->dev_cert_der_out, strerror(errno));
			if (f != NULL)
				fclose(f);
			err = LP_ERR_IO;
			goto out;
		}
		if (fclose(f) != 0) {
			err = LP_ERR_IO;
			goto out;
		}
	}
	err = 0;
	goto out;
tls_fail:
	lp_log(log, LP_LOG_ERROR, "cannot generate the development certificate: %s",
	       gnutls_strerror(rv));
out:
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return err;
}

static int load_pair(const struct lp_logger *log, const char *cert_file, const char *key_file,
                     struct cred_ref *r)
{
	int rv = gnutls_certificate_set_x509_key_file2(r->cred, cert_file, key_file,
	                                               GNUTLS_X509_FMT_PEM, NULL, 0);

	if (rv < 0) {
		lp_log(log, LP_LOG_ERROR, "cannot load certificate %s / key %s: %s", cert_file,
		       key_file, gnutls_strerror(rv));
		return rv == GNUTLS_E_FILE_ERROR ? LP_ERR_IO : LP_ERR_TLS;
	}
	rv = gnutls_certificate_get_crt_raw(r->cred, 0, 0, &r->der);
	if (rv < 0)
		return LP_ERR_TLS;
	/* get_crt_raw points into the credentials: keep our own copy so
	 * cred_put can free it uniformly. */
	{
		uint8_t *copy = gnutls_malloc(r->der.size);

		if (copy == NULL) {
			r->der.data = NULL;
			return LP_ERR_NOMEM;
		}
		memcpy(copy, r->der.data, r->der.size);
		r->der.data = copy;
	}
	return 0;
}

static int server_pair(const struct lp_logger *log, const struct lp_quic_server_cfg *cfg,
                       const char *cert_file, const char *key_file, struct cred_ref **out)
{
	struct cred_ref *r;
	int rv;

	*out = NULL;
	if ((cert_file == NULL) != (key_file == NULL))
		return LP_ERR_INVAL;
	rv = cred_alloc(&r);
	if (rv != 0)
		return rv;
	rv = cert_file != NULL ? load_pair(log, cert_file, key_file, r) : gen_dev_cert(cfg, log, r);
	if (rv != 0) {
		cred_put(r);
		return rv;
	}
	*out = r;
	return 0;
}

int lp_tls_server_creds_new(const struct lp_quic_server_cfg *cfg, const struct lp_logger *log,
                            struct lp_tls_creds **out)
{
	struct lp_tls_creds *cr;
	int rv;

	*out = NULL;
	cr = calloc(1, sizeof(*cr));
	if (cr == NULL)
		return LP_ERR_NOMEM;
	cr->server = true;
	cr->log = log;
	rv = server_pair(log, cfg, cfg->cert_file, cfg->key_file, &cr->cur);
	if (rv != 0) {
		free(cr);
		return rv;
	}
	*out = cr;
	return 0;
}

int lp_tls_server_creds_reload(struct lp_tls_creds *cr, const char *cert_file, const char *key_file)
{
	struct lp_quic_server_cfg none;
	struct cred_ref *r;
	int rv;

	if (!cr->server)
		return LP_ERR_STATE;
	if (cert_file == NULL || key_file == NULL)
		return LP_ERR_INVAL;
	memset(&none, 0, sizeof(none));
	rv = server_pair(cr->log, &none, cert_file, key_file, &r);
	if (rv != 0)
		return rv;
	cred_put(cr->cur);
	cr->cur = r;
	return 0;
}

int lp_tls_creds_cert_der(const struct lp_tls_creds *cr, const uint8_t **der, size_t *len)
{
	if (!cr->server || cr->cur->der.data == NULL)
		return LP_ERR_STATE;
	*der = cr->cur->der.data;
	*len = cr->cur->der.size;
	return 0;
}

void lp_tls_creds_del(struct lp_tls_creds *cr)
{
	if (cr == NULL)
		return;
	cred_put(cr->cur);
	gnutls_free(cr->pin.data);
	free(cr->server_name);
	free(cr->pin_file);
	free(cr);
}

/* ---- sessions ------------------------------------------------------------- */

int lp_tls_session_new(struct lp_tls_creds *cr, bool server, ngtcp2_crypto_conn_ref *ref,
                       struct lp_tls_session **out)
{
	static const gnutls_datum_t alpn = { (unsigned char *)(uintptr_t)LP_QUIC_ALPN,
		                             sizeof(LP_QUIC_ALPN) - 1 };
	struct lp_tls_session *s;
	int rv;

	*out = NULL;
	if (server != cr->server)
		return LP_ERR_STATE;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return LP_ERR_NOMEM;
	s->ref_copy = *ref;
	s->cr = cr;
	rv = gnutls_init(&s->s, server ? GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET
	                               : GNUTLS_CLIENT | GNUTLS_NO_END_OF_EARLY_DATA);
	if (rv < 0) {
		free(s);
		return LP_ERR_NOMEM;
	}
	s->ref = cr->cur;
	s->ref->refs++;
	if (gnutls_priority_set(s->s, s->ref->prio) < 0)
		goto fail;
	rv = server ? ngtcp2_crypto_gnutls_configure_server_session(s->s)
	            : ngtcp2_crypto_gnutls_configure_client_session(s->s);
	if (rv != 0)
		goto fail;
	gnutls_session_set_ptr(s->s, &s->ref_copy);
	if (gnutls_credentials_set(s->s, GNUTLS_CRD_CERTIFICATE, s->ref->cred) < 0)
		goto fail;
	if (gnutls_alpn_set_protocols(s->s, &alpn, 1, GNUTLS_ALPN_MANDATORY) < 0)
		goto fail;
	if (!server) {
		if (cr->sni && gnutls_server_name_set(s->s, GNUTLS_NAME_DNS, cr->server_name,
		                                      strlen(cr->server_name)) < 0)
			goto fail;
		gnutls_session_set_verify_function(s->s, verify_cb);
	}
	*out = s;
	return 0;
fail:
	lp_tls_session_del(s);
	return LP_ERR_TLS;
}

void *lp_tls_session_native(struct lp_tls_session *s)
{
	return s->s;
}

int lp_tls_session_check_alpn(struct lp_tls_session *s)
{
	gnutls_datum_t p = { NULL, 0 };

	if (gnutls_alpn_get_selected_protocol(s->s, &p) < 0)
		return LP_ERR_ALPN;
	if (p.size != sizeof(LP_QUIC_ALPN) - 1 || memcmp(p.data, LP_QUIC_ALPN, p.size) != 0)
		return LP_ERR_ALPN;
	return 0;
}

bool lp_tls_session_cert_failed(const struct lp_tls_session *s)
{
	return s->cert_failed;
}

int lp_tls_session_peer_pin(const struct lp_tls_session *s, uint8_t pin[LP_QUIC_PIN_LEN])
{
	if (!s->peer_pin_set)
		return LP_ERR_STATE;
	memcpy(pin, s->peer_pin, LP_QUIC_PIN_LEN);
	return 0;
}

int lp_tls_session_exporter(struct lp_tls_session *s, const char *label, uint8_t *out, size_t len)
{
	/* TLS 1.3 makes no difference between an absent and an empty context. */
	if (gnutls_prf_rfc5705(s->s, strlen(label), label, 0, NULL, len, (char *)out) < 0)
		return LP_ERR_TLS;
	return 0;
}

void lp_tls_session_del(struct lp_tls_session *s)
{
	if (s == NULL)
		return;
	gnutls_deinit(s->s);
	cred_put(s->ref);
	free(s);
}

int lp_tls_sha256(const void *data, size_t len, uint8_t out[32])
{
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, out) == 0 ? 0 : LP_ERR_TLS;
}

int lp_tls_random(void *buf, size_t len)
{
	return gnutls_rnd(GNUTLS_RND_RANDOM, buf, len) == 0 ? 0 : LP_ERR_TLS;
}
