/* roomfile.c - the room file's text: format, strict parse, generation. */
#include "roomfile_int.h"

#include <stdio.h>
#include <string.h>

static const char header[] =
        "# softlan-vpn room file. SECRET: whoever can read it can join the room and act as\n"
        "# its gateway. Keep it mode 0600 and never share it: share the invite instead\n"
        "# (lanparty-gateway --print-invite).\n";

static int why_set(char *why, size_t whylen, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return LP_ERR_INVAL;
}

int lp_room_file_text_format(const struct lp_room_file *f, char *out, size_t cap)
{
	char sec[LP_ROOM_B64_32_LEN + 1], seed[LP_ROOM_B64_32_LEN + 1];
	int n = -1;

	if (lp_room_b64url_encode(f->secret, LP_ROOM_SECRET_LEN, sec, sizeof(sec)) >= 0 &&
	    lp_room_b64url_encode(f->host_seed, LP_ROOM_SEED_LEN, seed, sizeof(seed)) >= 0)
		n = snprintf(out, cap, "%sversion=1\nsecret=%s\nhost_seed=%s\n", header, sec, seed);
	lp_room_wipe(sec, sizeof(sec));
	lp_room_wipe(seed, sizeof(seed));
	if (n < 0 || (size_t)n >= cap) {
		lp_room_wipe(out, cap);
		return LP_ERR_NOBUF;
	}
	return n;
}

int lp_room_file_text_parse(const char *text, size_t len, struct lp_room_file *out, char *why,
                            size_t whylen)
{
	char val[LP_ROOM_B64_32_LEN + 1];
	int have_version = 0, have_secret = 0, have_seed = 0, rc = 0;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	if (memchr(text, '\0', len) != NULL)
		return why_set(why, whylen, "it contains a NUL byte");
	while (i < len && rc == 0) {
		const char *line = text + i, *eq;
		size_t n = 0, klen, vlen;

		while (i + n < len && text[i + n] != '\n')
			n++;
		i += n + 1;
		if (n == 0 || line[0] == '#')
			continue;
		eq = memchr(line, '=', n);
		if (eq == NULL) {
			rc = why_set(why, whylen, "a line is not key=value");
			break;
		}
		klen = (size_t)(eq - line);
		vlen = n - klen - 1;
		if (klen == 7 && memcmp(line, "version", 7) == 0) {
			if (have_version++ || vlen != 1 || eq[1] != '1')
				rc = why_set(why, whylen,
				             "bad or repeated version (expected version=1)");
			continue;
		}
		if (vlen != LP_ROOM_B64_32_LEN) {
			rc = why_set(why, whylen,
			             klen == 6 && memcmp(line, "secret", 6) == 0
			                     ? "bad secret (expected 43 base64url characters)"
			             : klen == 9 && memcmp(line, "host_seed", 9) == 0
			                     ? "bad host_seed (expected 43 base64url "
			                       "characters)"
			                     : "unknown key (expected version, secret, "
			                       "host_seed)");
			break;
		}
		memcpy(val, eq + 1, vlen);
		val[vlen] = '\0';
		if (klen == 6 && memcmp(line, "secret", 6) == 0) {
			if (have_secret++ ||
			    lp_room_b64url_decode_exact(val, out->secret, LP_ROOM_SECRET_LEN) < 0)
				rc = why_set(why, whylen, "bad or repeated secret");
		} else if (klen == 9 && memcmp(line, "host_seed", 9) == 0) {
			if (have_seed++ ||
			    lp_room_b64url_decode_exact(val, out->host_seed, LP_ROOM_SEED_LEN) < 0)
				rc = why_set(why, whylen, "bad or repeated host_seed");
		} else {
			rc = why_set(why, whylen,
			             "unknown key (expected version, secret, host_seed)");
		}
	}
	lp_room_wipe(val, sizeof(val));
	if (rc == 0 && (!have_version || !have_secret || !have_seed))
		rc = why_set(why, whylen,
		             !have_version  ? "no version line"
		             : !have_secret ? "no secret line"
		                            : "no host_seed line");
	if (rc == 0)
		rc = lp_room_host_pub_derive(out->host_seed, out->host_pub);
	if (rc < 0)
		lp_room_file_wipe(out);
	return rc;
}

int lp_room_file_generate(struct lp_room_file *out)
{
	int rc;

	rc = lp_room_random(out->secret, sizeof(out->secret));
	if (rc == 0)
		rc = lp_room_random(out->host_seed, sizeof(out->host_seed));
	if (rc == 0)
		rc = lp_room_host_pub_derive(out->host_seed, out->host_pub);
	if (rc < 0)
		lp_room_file_wipe(out);
	return rc;
}

void lp_room_file_wipe(struct lp_room_file *f)
{
	if (f != NULL)
		lp_room_wipe(f, sizeof(f[0]));
}
