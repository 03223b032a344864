/*
 * tls.h - what lib/quic needs from a TLS library (internal).
 *
 * One backend per platform implements it: tls_gnutls.c on Linux, a
 * wolfSSL one for the Windows build (ngtcp2 0.12 has a wolfSSL crypto
 * helper). No TLS library type appears here: credentials and sessions are
 * opaque, the native handle is a void * handed to
 * ngtcp2_conn_set_tls_native_handle().
 *
 * Policy every backend enforces: TLS 1.3 only, AES-128-GCM / AES-256-GCM
 * only (ChaCha20 in software is several times slower per datagram), ALPN
 * LP_QUIC_ALPN mandatory on both sides.
 */
#ifndef LP_QUIC_TLS_H
#define LP_QUIC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include "lp_quic.h"

/* TLS alert numbers the QUIC layer maps to LP_ERR_* codes. */
#define LP_TLS_ALERT_BAD_CERTIFICATE 42
#define LP_TLS_ALERT_NO_APPLICATION_PROTOCOL 120

/* Credentials: shared by every session of a context. Server credentials
 * are reference-counted so a reload leaves established sessions intact. */
struct lp_tls_creds;
struct lp_tls_session;

/*
 * Client credentials from cfg: spki_pin (the leaf's key), checked first
 * when set; then pin_der_file (exact DER match), else ca_file (PEM CA
 * bundle + server_name check), else - without spki_pin - the system trust
 * store. Errors: LP_ERR_IO (file unreadable, logged), LP_ERR_INVAL
 * (server_name NULL without a pin, empty pin), LP_ERR_TLS, LP_ERR_NOMEM.
 */
int lp_tls_client_creds_new(const struct lp_quic_client_cfg *cfg, const struct lp_logger *log,
                            struct lp_tls_creds **out) LP_WUR;
/*
 * Server credentials: cert_file + key_file (PEM), or both NULL for a
 * generated self-signed ECDSA P-256 certificate whose subjectAltName lists
 * dev_cert_names (its DER is written to dev_cert_der_out when set).
 * Errors: LP_ERR_IO, LP_ERR_INVAL, LP_ERR_TLS, LP_ERR_NOMEM.
 */
int lp_tls_server_creds_new(const struct lp_quic_server_cfg *cfg, const struct lp_logger *log,
                            struct lp_tls_creds **out) LP_WUR;
/* Replaces a server's certificate and key; sessions created before keep the
 * old pair. On error nothing changes. Errors as lp_tls_server_creds_new,
 * LP_ERR_STATE for client credentials. */
int lp_tls_server_creds_reload(struct lp_tls_creds *cr, const char *cert_file,
                               const char *key_file) LP_WUR;
/* DER of the server's current certificate (valid until the next reload). */
int lp_tls_creds_cert_der(const struct lp_tls_creds *cr, const uint8_t **der, size_t *len) LP_WUR;
void lp_tls_creds_del(struct lp_tls_creds *cr);

/*
 * A TLS session for one QUIC connection, configured for ngtcp2's crypto
 * helper: its application pointer is `ref` (ref->get_conn returns the
 * ngtcp2_conn). The caller passes lp_tls_session_native() to
 * ngtcp2_conn_set_tls_native_handle(). Errors: LP_ERR_TLS, LP_ERR_NOMEM.
 */
int lp_tls_session_new(struct lp_tls_creds *cr, bool server, ngtcp2_crypto_conn_ref *ref,
                       struct lp_tls_session **out) LP_WUR;
void *lp_tls_session_native(struct lp_tls_session *s);
/* After the handshake: 0 when the negotiated ALPN is LP_QUIC_ALPN, else
 * LP_ERR_ALPN (none selected or another one). */
int lp_tls_session_check_alpn(struct lp_tls_session *s) LP_WUR;
/* Client: true once the peer certificate was refused by our verification
 * (pin mismatch, untrusted chain, wrong name); the reason is logged. */
bool lp_tls_session_cert_failed(const struct lp_tls_session *s);
/* Client: the pin of the leaf certificate our verification accepted;
 * LP_ERR_STATE before it ran. */
int lp_tls_session_peer_pin(const struct lp_tls_session *s, uint8_t pin[LP_QUIC_PIN_LEN]) LP_WUR;
/* The exporter (empty context) once the handshake completed. LP_ERR_TLS. */
int lp_tls_session_exporter(struct lp_tls_session *s, const char *label, uint8_t *out,
                            size_t len) LP_WUR;
void lp_tls_session_del(struct lp_tls_session *s);

/* SHA-256. Errors: LP_ERR_TLS. */
int lp_tls_sha256(const void *data, size_t len, uint8_t out[32]) LP_WUR;

/* Cryptographically strong random bytes. Errors: LP_ERR_TLS. */
int lp_tls_random(void *buf, size_t len) LP_WUR;

#endif /* LP_QUIC_TLS_H */
