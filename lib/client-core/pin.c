/*
 * pin.c - the relay TLS context of a runner and the signature of the
 * pinned certificate file it was built from (see lp_client.h), so that a
 * rewritten pin file is noticed after a certificate mismatch.
 */
#include <stdio.h>

#include "lp_client.h"

#define PIN_FILE_MAX (1024u * 1024u)

int lp_client_pin_sig_read(const char *path, struct lp_client_pin_sig *out)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a 64 */
	uint8_t buf[4096];
	size_t n, total = 0, i;
	FILE *f;
	int rc = 0;

	if (path == NULL || out == NULL)
		return LP_ERR_INVAL;
	f = fopen(path, "rb");
	if (f == NULL)
		return LP_ERR_IO;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		for (i = 0; i < n; i++) {
			h ^= buf[i];
			h *= UINT64_C(0x100000001b3);
		}
		total += n;
		if (total > PIN_FILE_MAX) {
			rc = LP_ERR_TOO_BIG;
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = LP_ERR_IO;
	fclose(f);
	if (rc == 0) {
		out->hash = h;
		out->len = total;
		out->valid = true;
	}
	return rc;
}

int lp_client_tls_new(const struct lp_quic_client_cfg *cfg, const struct lp_logger *log,
                      struct lp_quic_ctx **out, struct lp_client_pin_sig *sig)
{
	if (cfg == NULL || out == NULL || sig == NULL)
		return LP_ERR_INVAL;
	*out = NULL;
	sig->valid = false;
	/* The signature first: a rewrite racing the build is then seen as a
	 * change at the next mismatch rather than missed. */
	if (cfg->pin_der_file != NULL && lp_client_pin_sig_read(cfg->pin_der_file, sig) < 0)
		sig->valid = false;
	return lp_quic_ctx_new_client(cfg, log, out);
}
