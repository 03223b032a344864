/*
 * spki.c - the pin of a certificate: SHA-256 of its SubjectPublicKeyInfo.
 *
 * The DER walk is ours rather than a TLS library's so both backends pin
 * exactly the same bytes (RFC 5280 section 4.1: the seventh element of
 * tbsCertificate, counting the optional version). Only the outer layers are
 * read; the SubjectPublicKeyInfo itself is hashed as it stands.
 */
#include "tls.h"

#include <string.h>

#define DER_SEQUENCE 0x30
#define DER_INTEGER 0x02
#define DER_CTX0 0xa0 /* [0] EXPLICIT: the version */

/* One DER element: its tag, the element's first byte and total length, and
 * its content. Definite lengths of at most 4 bytes; no high tag numbers. */
struct der_elem {
	uint8_t tag;
	const uint8_t *start;
	size_t len;
	const uint8_t *content;
	size_t content_len;
};

static int der_next(struct lp_buf *b, struct der_elem *e)
{
	const uint8_t *start = b->p;
	uint8_t first;
	size_t len = 0;

	e->tag = lp_buf_u8(b);
	first = lp_buf_u8(b);
	if (b->err != 0)
		return b->err;
	if ((e->tag & 0x1f) == 0x1f)
		return LP_ERR_INVAL;
	if (first < 0x80) {
		len = first;
	} else {
		unsigned n = first & 0x7fu;

		if (n == 0 || n > 4)
			return LP_ERR_INVAL;
		while (n-- > 0)
			len = len << 8 | lp_buf_u8(b);
		if (b->err != 0)
			return b->err;
	}
	lp_buf_bytes(b, &e->content, len);
	if (b->err != 0)
		return b->err;
	e->content_len = len;
	e->start = start;
	e->len = (size_t)(b->p - start);
	return 0;
}

static int der_expect(struct lp_buf *b, uint8_t tag, struct der_elem *e)
{
	int rv = der_next(b, e);

	if (rv == 0 && e->tag != tag)
		rv = LP_ERR_INVAL;
	return rv;
}

int lp_quic_cert_spki(const uint8_t *der, size_t len, const uint8_t **spki, size_t *spki_len)
{
	struct lp_buf b, tbs;
	struct der_elem e;
	int rv, i;

	*spki = NULL;
	*spki_len = 0;
	if (der == NULL)
		return LP_ERR_INVAL;
	lp_buf_init(&b, der, len);
	rv = der_expect(&b, DER_SEQUENCE, &e); /* Certificate */
	if (rv != 0)
		return rv;
	lp_buf_init(&b, e.content, e.content_len);
	rv = der_expect(&b, DER_SEQUENCE, &e); /* tbsCertificate */
	if (rv != 0)
		return rv;
	lp_buf_init(&tbs, e.content, e.content_len);
	rv = der_next(&tbs, &e);
	if (rv == 0 && e.tag == DER_CTX0)
		rv = der_next(&tbs, &e);
	if (rv == 0 && e.tag != DER_INTEGER) /* serialNumber */
		rv = LP_ERR_INVAL;
	/* signature, issuer, validity, subject, subjectPublicKeyInfo */
	for (i = 0; rv == 0 && i < 5; i++)
		rv = der_expect(&tbs, DER_SEQUENCE, &e);
	if (rv != 0)
		return rv;
	*spki = e.start;
	*spki_len = e.len;
	return 0;
}

int lp_quic_cert_pin(const uint8_t *der, size_t len, uint8_t pin[LP_QUIC_PIN_LEN])
{
	const uint8_t *spki;
	size_t spki_len;
	int rv = lp_quic_cert_spki(der, len, &spki, &spki_len);

	if (rv != 0)
		return rv;
	return lp_tls_sha256(spki, spki_len, pin);
}

bool lp_quic_pin_equal(const uint8_t a[LP_QUIC_PIN_LEN], const uint8_t b[LP_QUIC_PIN_LEN])
{
	uint8_t d = 0;

	for (size_t i = 0; i < LP_QUIC_PIN_LEN; i++)
		d |= (uint8_t)(a[i] ^ b[i]);
	return d == 0;
}
