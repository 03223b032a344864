/*
 * invite.c - the invite line: softlan://HOST[:PORT]/ROOM_ID?pin=sha256:PIN&host=P_H#S
 *
 * Strict on purpose: an invite is pasted between people, so every way it can
 * arrive damaged (cut short, re-wrapped, auto-corrected) gets its own error
 * line, and nothing is guessed or repaired. The host part goes through the
 * same parser as --relay (lib/net), so an invite never accepts a relay
 * address the command line would refuse.
 */
#include "lp_room.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lp_net.h"

#define INPUT_MAX 1024

static int fail(char *err, size_t errlen, int rc, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
	return rc;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* The authority (HOST[:PORT]) of len bytes at a into out. */
static int parse_authority(const char *a, size_t len, struct lp_invite *out, char *err,
                           size_t errlen)
{
	struct lp_net_endpoint ep;
	char buf[LP_NET_HOST_MAX + 16];
	const char *colon;
	int rc;

	if (len == 0)
		return fail(err, errlen, LP_ERR_HOST_SYNTAX, "invite has no relay host");
	if (len >= sizeof(buf))
		return fail(err, errlen, LP_ERR_HOST_SYNTAX,
		            "invite has a bad relay host (too long)");
	memcpy(buf, a, len);
	buf[len] = '\0';
	/* lp_net reads a bare "2001:db8::1" as an IPv6 host without port; an
	 * invite requires the brackets so the port can never be misread. */
	colon = strchr(buf, ':');
	if (buf[0] != '[' && colon != NULL && strchr(colon + 1, ':') != NULL)
		return fail(err, errlen, LP_ERR_HOST_SYNTAX,
		            "invite has a bad relay host (an IPv6 address must be in [brackets])");
	rc = lp_net_parse_relay(buf, &ep);
	if (rc == LP_ERR_PORT)
		return fail(err, errlen, LP_ERR_PORT,
		            "invite has a bad port (expected a number from 1 to 65535)");
	if (rc < 0)
		return fail(err, errlen, LP_ERR_HOST_SYNTAX,
		            "invite has a bad relay host (not a DNS name, IPv4 or [IPv6] address)");
	if (lp_strlcpy_checked(out->host, sizeof(out->host), ep.host) < 0)
		return fail(err, errlen, LP_ERR_HOST_SYNTAX,
		            "invite has a bad relay host (too long)");
	out->port = ep.port;
	return 0;
}

/* pin=...&host=... (q of len bytes, no '?', no fragment). */
static int parse_query(const char *q, size_t len, struct lp_invite *out, char *err, size_t errlen)
{
	char val[LP_ROOM_PIN_STR_SIZE + 1];
	int have_pin = 0, have_host = 0;
	size_t i = 0;

	while (i <= len) {
		size_t end = i, eq, vlen;

		while (end < len && q[end] != '&')
			end++;
		eq = i;
		while (eq < end && q[eq] != '=')
			eq++;
		if (eq == end)
			return fail(err, errlen, LP_ERR_INVAL,
			            "invite is damaged: a parameter has no '=' (expected "
			            "pin=...&host=...)");
		vlen = end - eq - 1;
		if (vlen >= sizeof(val))
			vlen = sizeof(val) - 1; /* too long for any value: refused below */
		memcpy(val, q + eq + 1, vlen);
		val[vlen] = '\0';
		if (eq - i == 3 && memcmp(q + i, "pin", 3) == 0) {
			if (have_pin++)
				return fail(err, errlen, LP_ERR_INVAL,
				            "invite has the relay pin twice");
			if (end - eq - 1 >= sizeof(val) || lp_room_pin_parse(val, out->pin) < 0)
				return fail(
				        err, errlen, LP_ERR_INVAL,
				        "invite is damaged: bad relay pin (expected sha256: and 43 "
				        "base64url characters)");
		} else if (eq - i == 4 && memcmp(q + i, "host", 4) == 0) {
			if (have_host++)
				return fail(err, errlen, LP_ERR_INVAL,
				            "invite has the host key twice");
			if (end - eq - 1 >= sizeof(val) ||
			    lp_room_b64url_decode_exact(val, out->host_pub, LP_ROOM_PUB_LEN) < 0)
				return fail(
				        err, errlen, LP_ERR_INVAL,
				        "invite is damaged: bad host key (expected 43 base64url "
				        "characters)");
		} else {
			return fail(
			        err, errlen, LP_ERR_INVAL,
			        "invite has an unknown parameter (only pin and host are allowed)");
		}
		i = end + 1;
	}
	if (!have_pin)
		return fail(err, errlen, LP_ERR_INVAL, "invite has no relay pin (pin=sha256:...)");
	if (!have_host)
		return fail(err, errlen, LP_ERR_INVAL, "invite has no host key (host=...)");
	return 0;
}

static int parse(const char *s, size_t n, struct lp_invite *out, char *err, size_t errlen)
{
	const size_t slen = sizeof(LP_INVITE_SCHEME) - 1;
	struct lp_room_keys keys;
	const char *p, *end = s + n, *slash, *qmark, *hash;
	char sec[LP_ROOM_B64_32_LEN + 1];
	char id[LP_ROOM_B64_ID_LEN + 1];
	int rc;

	if (n < slen || strncasecmp(s, LP_INVITE_SCHEME, slen) != 0)
		return fail(err, errlen, LP_ERR_INVAL,
		            "not an invite: it must start with softlan://");
	p = s + slen;
	slash = memchr(p, '/', (size_t)(end - p));
	qmark = memchr(p, '?', (size_t)(end - p));
	hash = memchr(p, '#', (size_t)(end - p));
	if (slash == NULL || (qmark != NULL && qmark < slash) || (hash != NULL && hash < slash))
		return fail(err, errlen, LP_ERR_INVAL,
		            "invite has no room id (expected softlan://HOST[:PORT]/ROOM_ID?...)");
	rc = parse_authority(p, (size_t)(slash - p), out, err, errlen);
	if (rc < 0)
		return rc;
	if (hash == NULL)
		return fail(err, errlen, LP_ERR_INVAL,
		            "invite is incomplete: the room secret after '#' is missing");
	if (qmark == NULL || qmark > hash)
		return fail(err, errlen, LP_ERR_INVAL,
		            "invite is incomplete: no '?' with the relay pin and host key");
	if ((size_t)(qmark - slash - 1) != LP_ROOM_B64_ID_LEN)
		return fail(err, errlen, LP_ERR_INVAL,
		            "invite is damaged: bad room id (expected 22 base64url characters)");
	memcpy(id, slash + 1, LP_ROOM_B64_ID_LEN);
	id[LP_ROOM_B64_ID_LEN] = '\0';
	if (lp_room_b64url_decode_exact(id, out->room_id, LP_ROOM_ID_LEN) < 0)
		return fail(err, errlen, LP_ERR_INVAL,
		            "invite is damaged: bad room id (expected 22 base64url characters)");
	rc = parse_query(qmark + 1, (size_t)(hash - qmark - 1), out, err, errlen);
	if (rc < 0)
		return rc;
	if ((size_t)(end - hash - 1) != LP_ROOM_B64_32_LEN)
		return fail(err, errlen, LP_ERR_INVAL,
		            "invite is damaged: bad room secret (expected 43 base64url characters "
		            "after '#')");
	memcpy(sec, hash + 1, LP_ROOM_B64_32_LEN);
	sec[LP_ROOM_B64_32_LEN] = '\0';
	rc = lp_room_b64url_decode_exact(sec, out->secret, LP_ROOM_SECRET_LEN);
	lp_room_wipe(sec, sizeof(sec));
	if (rc < 0)
		return fail(err, errlen, LP_ERR_INVAL,
		            "invite is damaged: bad room secret (expected 43 base64url characters "
		            "after '#')");
	rc = lp_room_keys_derive(out->secret, out->host_pub, &keys);
	if (rc < 0)
		return fail(err, errlen, rc, "cannot check the invite: crypto failure");
	rc = lp_room_ct_equal(keys.room_id, out->room_id, LP_ROOM_ID_LEN) ? 0 : LP_ERR_AUTH;
	lp_room_keys_wipe(&keys);
	if (rc < 0)
		return fail(err, errlen, rc,
		            "invite is damaged: room id does not match its secret");
	return 0;
}

int lp_invite_parse(const char *s, struct lp_invite *out, char *err, size_t errlen)
{
	size_t n;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (s == NULL || out == NULL)
		return fail(err, errlen, LP_ERR_INVAL, "no invite given");
	memset(out, 0, sizeof(*out));
	while (is_space(*s))
		s++;
	n = strnlen(s, INPUT_MAX + 1);
	if (n > INPUT_MAX)
		return fail(err, errlen, LP_ERR_INVAL, "invite is too long");
	while (n > 0 && is_space(s[n - 1]))
		n--;
	if (n == 0)
		return fail(err, errlen, LP_ERR_INVAL, "invite is empty");
	rc = parse(s, n, out, err, errlen);
	if (rc < 0)
		lp_invite_wipe(out);
	return rc;
}

ssize_t lp_invite_format(const struct lp_invite *in, char *out, size_t outlen)
{
	struct lp_net_endpoint ep;
	char auth[LP_NET_HOST_MAX + 16], check[sizeof(auth)];
	char pin[LP_ROOM_PIN_STR_SIZE];
	char id[LP_ROOM_B64_ID_LEN + 1], hk[LP_ROOM_B64_32_LEN + 1], sec[LP_ROOM_B64_32_LEN + 1];
	int v6, n, rc;

	if (in == NULL || out == NULL)
		return LP_ERR_INVAL;
	if (in->port == 0)
		return LP_ERR_PORT;
	if (memchr(in->host, '\0', sizeof(in->host)) == NULL || in->host[0] == '\0')
		return LP_ERR_HOST_SYNTAX;
	v6 = strchr(in->host, ':') != NULL;
	n = snprintf(auth, sizeof(auth), v6 ? "[%s]" : "%s", in->host);
	if (n < 0 || (size_t)n >= sizeof(auth))
		return LP_ERR_HOST_SYNTAX;
	if (in->port != LP_INVITE_DEFAULT_PORT) {
		if (snprintf(check, sizeof(check), "%s:%u", auth, (unsigned)in->port) >=
		    (int)sizeof(check))
			return LP_ERR_HOST_SYNTAX;
		memcpy(auth, check, sizeof(auth));
	}
	/* What the parser would refuse is not written. */
	rc = lp_net_parse_relay(auth, &ep);
	if (rc < 0 || strcmp(ep.host, in->host) != 0 || ep.port != in->port)
		return LP_ERR_HOST_SYNTAX;
	if (lp_room_pin_format(in->pin, pin) < 0 ||
	    lp_room_b64url_encode(in->room_id, LP_ROOM_ID_LEN, id, sizeof(id)) < 0 ||
	    lp_room_b64url_encode(in->host_pub, LP_ROOM_PUB_LEN, hk, sizeof(hk)) < 0 ||
	    lp_room_b64url_encode(in->secret, LP_ROOM_SECRET_LEN, sec, sizeof(sec)) < 0)
		return LP_ERR_INVAL;
	n = snprintf(out, outlen, "%s%s/%s?pin=%s&host=%s#%s", LP_INVITE_SCHEME, auth, id, pin, hk,
	             sec);
	lp_room_wipe(sec, sizeof(sec));
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			lp_room_wipe(out, outlen);
		return LP_ERR_NOBUF;
	}
	return n;
}

void lp_invite_wipe(struct lp_invite *inv)
{
	if (inv != NULL)
		lp_room_wipe(inv, sizeof(*inv));
}
