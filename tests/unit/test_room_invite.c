/*
 * test_room_invite.c - the invite line: the vector, round trips, and every
 * rejection with its message. Portable (Linux and Wine backends).
 *
 * The vector was written with python3 (base64.urlsafe_b64encode, '='
 * stripped) for the keys of test_room_keys.c: S = 00..1f, H = 20..3f, and
 * pin = SHA-256("spki").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lp_room.h"

#define ID "RrTlAg1UA9mBzFXJbXNvCw"
#define PIN "sha256:b-7MjBbFVR2f6z61934tp3O_aL2e-cUpJ86yyG5WiSs"
#define HOST "Kay64UG8yvCyLhqU000LxzYeUm0L_hLIl5S8kyKWbdc"
#define SECRET "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
#define Q "?pin=" PIN "&host=" HOST
#define INVITE "softlan://relay.example.org/" ID Q "#" SECRET

static void test_vector(void **state)
{
	struct lp_invite inv;
	char err[160], out[LP_INVITE_MAX];
	uint8_t pin[32];
	int i;

	(void)state;
	assert_int_equal(lp_invite_parse(INVITE, &inv, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(inv.host, "relay.example.org");
	assert_int_equal(inv.port, 443);
	for (i = 0; i < 32; i++)
		assert_int_equal(inv.secret[i], i);
	assert_int_equal(lp_room_pin_parse(PIN, pin), 0);
	assert_memory_equal(inv.pin, pin, 32);
	assert_int_equal(inv.room_id[0], 0x46);
	assert_int_equal(inv.host_pub[0], 0x29);
	assert_int_equal(lp_invite_format(&inv, out, sizeof(out)), strlen(INVITE));
	assert_string_equal(out, INVITE);
	lp_invite_wipe(&inv);
}

static void round_trip(const char *in, const char *want_host, uint16_t want_port,
                       const char *canonical)
{
	struct lp_invite inv;
	char err[160], out[LP_INVITE_MAX];

	assert_int_equal(lp_invite_parse(in, &inv, err, sizeof(err)), 0);
	assert_string_equal(inv.host, want_host);
	assert_int_equal(inv.port, want_port);
	assert_true(lp_invite_format(&inv, out, sizeof(out)) > 0);
	assert_string_equal(out, canonical);
}

static void test_hosts_and_ports(void **state)
{
	(void)state;
	round_trip("softlan://192.0.2.7:4433/" ID Q "#" SECRET, "192.0.2.7", 4433,
	           "softlan://192.0.2.7:4433/" ID Q "#" SECRET);
	round_trip("softlan://[2001:db8::7]/" ID Q "#" SECRET, "2001:db8::7", 443,
	           "softlan://[2001:db8::7]/" ID Q "#" SECRET);
	round_trip("softlan://[2001:db8::7]:65535/" ID Q "#" SECRET, "2001:db8::7", 65535,
	           "softlan://[2001:db8::7]:65535/" ID Q "#" SECRET);
	/* Explicit default port, whitespace of a pasted line, the query's
	 * order and the scheme's case are accepted; the output is canonical. */
	round_trip("  softlan://relay.example.org:443/" ID Q "#" SECRET "\r\n", "relay.example.org",
	           443, INVITE);
	round_trip("softlan://relay.example.org/" ID "?host=" HOST "&pin=" PIN "#" SECRET,
	           "relay.example.org", 443, INVITE);
	round_trip("Softlan://relay.example.org/" ID Q "#" SECRET, "relay.example.org", 443,
	           INVITE);
}

struct bad {
	const char *in;
	int rc;
	const char *msg; /* a piece of the message */
};

static void test_rejections(void **state)
{
	static const struct bad v[] = {
		{ "", LP_ERR_INVAL, "empty" },
		{ "   \n", LP_ERR_INVAL, "empty" },
		{ "https://relay.example.org/" ID Q "#" SECRET, LP_ERR_INVAL, "softlan://" },
		{ "softlan:/relay.example.org/" ID Q "#" SECRET, LP_ERR_INVAL, "softlan://" },
		{ "relay.example.org/" ID Q "#" SECRET, LP_ERR_INVAL, "softlan://" },
		{ "softlan://relay.example.org", LP_ERR_INVAL, "no room id" },
		{ "softlan://relay.example.org?pin=" PIN, LP_ERR_INVAL, "no room id" },
		{ "softlan:///" ID Q "#" SECRET, LP_ERR_HOST_SYNTAX, "no relay host" },
		{ "softlan://relay..example.org/" ID Q "#" SECRET, LP_ERR_HOST_SYNTAX,
		  "relay host" },
		{ "softlan://relay_example.org/" ID Q "#" SECRET, LP_ERR_HOST_SYNTAX,
		  "relay host" },
		{ "softlan://user@relay.example.org/" ID Q "#" SECRET, LP_ERR_HOST_SYNTAX, "host" },
		{ "softlan://192.0.2.300/" ID Q "#" SECRET, LP_ERR_HOST_SYNTAX, "relay host" },
		{ "softlan://2001:db8::7/" ID Q "#" SECRET, LP_ERR_HOST_SYNTAX, "[brackets]" },
		{ "softlan://[2001:db8::7/" ID Q "#" SECRET, LP_ERR_HOST_SYNTAX, "relay host" },
		{ "softlan://[relay.example.org]/" ID Q "#" SECRET, LP_ERR_HOST_SYNTAX, "host" },
		{ "softlan://relay.example.org:0/" ID Q "#" SECRET, LP_ERR_PORT, "bad port" },
		{ "softlan://relay.example.org:65536/" ID Q "#" SECRET, LP_ERR_PORT, "bad port" },
		{ "softlan://relay.example.org:/" ID Q "#" SECRET, LP_ERR_PORT, "bad port" },
		{ "softlan://relay.example.org:44x/" ID Q "#" SECRET, LP_ERR_PORT, "bad port" },
		{ "softlan://relay.example.org:-1/" ID Q "#" SECRET, LP_ERR_PORT, "bad port" },
		{ "softlan://relay.example.org/" ID Q, LP_ERR_INVAL,
		  "secret after '#' is missing" },
		{ "softlan://relay.example.org/" ID "#" SECRET, LP_ERR_INVAL, "no '?'" },
		{ "softlan://relay.example.org/" ID "#" SECRET Q, LP_ERR_INVAL, "no '?'" },
		{ "softlan://relay.example.org/RrTlAg1UA9mBzFXJbXNvC" Q "#" SECRET, LP_ERR_INVAL,
		  "bad room id" },
		{ "softlan://relay.example.org/RrTlAg1UA9mBzFXJbXNvCw0" Q "#" SECRET, LP_ERR_INVAL,
		  "bad room id" },
		{ "softlan://relay.example.org/RrTlAg1UA9mBzFXJbXNvC+" Q "#" SECRET, LP_ERR_INVAL,
		  "bad room id" },
		{ "softlan://relay.example.org/" ID "/" Q "#" SECRET, LP_ERR_INVAL, "bad room id" },
		{ "softlan://relay.example.org/" ID "?"
		  "#" SECRET,
		  LP_ERR_INVAL, "no '='" },
		{ "softlan://relay.example.org/" ID Q "&"
		  "#" SECRET,
		  LP_ERR_INVAL, "no '='" },
		{ "softlan://relay.example.org/" ID "?host=" HOST "#" SECRET, LP_ERR_INVAL,
		  "no relay pin" },
		{ "softlan://relay.example.org/" ID "?pin=" PIN "#" SECRET, LP_ERR_INVAL,
		  "no host key" },
		{ "softlan://relay.example.org/" ID Q "&pin=" PIN "#" SECRET, LP_ERR_INVAL,
		  "relay pin twice" },
		{ "softlan://relay.example.org/" ID Q "&host=" HOST "#" SECRET, LP_ERR_INVAL,
		  "host key twice" },
		{ "softlan://relay.example.org/" ID Q "&room=PARTY1#" SECRET, LP_ERR_INVAL,
		  "unknown parameter" },
		{ "softlan://relay.example.org/" ID Q "&=x#" SECRET, LP_ERR_INVAL,
		  "unknown parameter" },
		{ "softlan://relay.example.org/" ID "?PIN=" PIN "&host=" HOST "#" SECRET,
		  LP_ERR_INVAL, "unknown parameter" },
		{ "softlan://relay.example.org/" ID
		  "?pin=b-7MjBbFVR2f6z61934tp3O_aL2e-cUpJ86yyG5WiSs"
		  "&host=" HOST "#" SECRET,
		  LP_ERR_INVAL, "bad relay pin" },
		{ "softlan://relay.example.org/" ID
		  "?pin=sha256:b-7MjBbFVR2f6z61934tp3O_aL2e-cUpJ86yyG5"
		  "&host=" HOST "#" SECRET,
		  LP_ERR_INVAL, "bad relay pin" },
		{ "softlan://relay.example.org/" ID
		  "?pin=sha256:b-7MjBbFVR2f6z61934tp3O_aL2e-cUpJ86yyG5"
		  "WiSsAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&host=" HOST "#" SECRET,
		  LP_ERR_INVAL, "bad relay pin" },
		{ "softlan://relay.example.org/" ID "?pin=" PIN "&host=Kay64UG8yvCyLhqU000LxzYeUm0L"
		  "_hLIl5S8kyKWbd#" SECRET,
		  LP_ERR_INVAL, "bad host key" },
		{ "softlan://relay.example.org/" ID "?pin=" PIN "&host=Kay64UG8yvCyLhqU000LxzYeUm0L"
		  "_hLIl5S8kyKWbd%63#" SECRET,
		  LP_ERR_INVAL, "bad host key" },
		{ "softlan://relay.example.org/" ID Q "#", LP_ERR_INVAL, "bad room secret" },
		{ "softlan://relay.example.org/" ID Q "#AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh",
		  LP_ERR_INVAL, "bad room secret" },
		{ "softlan://relay.example.org/" ID Q
		  "#AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		  LP_ERR_INVAL, "bad room secret" },
		{ "softlan://relay.example.org/" ID Q
		  "#AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9",
		  LP_ERR_INVAL, "bad room secret" },
		{ "softlan://relay.example.org/" ID Q "#" SECRET "#" SECRET, LP_ERR_INVAL,
		  "bad room secret" },
		{ "softlan://relay.example.org/" ID Q
		  "#AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8 x",
		  LP_ERR_INVAL, "bad room secret" },
		/* Well-formed, but the parts do not belong together. */
		{ "softlan://relay.example.org/" ID Q
		  "#BAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		  LP_ERR_AUTH, "room id does not match its secret" },
		{ "softlan://relay.example.org/SrTlAg1UA9mBzFXJbXNvCw" Q "#" SECRET, LP_ERR_AUTH,
		  "room id does not match its secret" },
		{ "softlan://relay.example.org/" ID "?pin=" PIN
		  "&host=Lay64UG8yvCyLhqU000LxzYeUm0L_hLIl5S8kyKWbdc#" SECRET,
		  LP_ERR_AUTH, "room id does not match its secret" },
	};
	struct lp_invite inv;
	const struct lp_invite zero = { 0 };
	char err[200];
	size_t i;

	(void)state;
	for (i = 0; i < LP_ARRAY_LEN(v); i++) {
		int rc;

		memset(&inv, 0x5a, sizeof(inv));
		rc = lp_invite_parse(v[i].in, &inv, err, sizeof(err));
		if (rc != v[i].rc || strstr(err, v[i].msg) == NULL)
			fail_msg("case %zu (%s): rc %d, err '%s'", i, v[i].in, rc, err);
		/* Wiped, and the secret never in the message. */
		assert_memory_equal(&inv, &zero, sizeof(inv));
		assert_null(strstr(err, SECRET));
		assert_null(strstr(err, "AAECAwQF"));
	}
	assert_int_equal(lp_invite_parse(NULL, &inv, err, sizeof(err)), LP_ERR_INVAL);
	assert_int_equal(lp_invite_parse(INVITE, &inv, NULL, 0), 0);
	/* err is cut to its size, always terminated. */
	assert_int_equal(lp_invite_parse("x", &inv, err, 8), LP_ERR_INVAL);
	assert_int_equal(strlen(err), 7);
}

static void test_too_long(void **state)
{
	char big[1400];
	struct lp_invite inv;
	char err[160];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "softlan://", 10);
	assert_int_equal(lp_invite_parse(big, &inv, err, sizeof(err)), LP_ERR_INVAL);
	assert_non_null(strstr(err, "too long"));
}

static void test_format_refusals(void **state)
{
	struct lp_invite inv;
	char out[LP_INVITE_MAX];

	(void)state;
	assert_int_equal(lp_invite_parse(INVITE, &inv, NULL, 0), 0);
	assert_int_equal(lp_invite_format(&inv, out, strlen(INVITE)), LP_ERR_NOBUF);
	assert_int_equal(lp_invite_format(&inv, out, strlen(INVITE) + 1), strlen(INVITE));
	inv.port = 0;
	assert_int_equal(lp_invite_format(&inv, out, sizeof(out)), LP_ERR_PORT);
	inv.port = 443;
	snprintf(inv.host, sizeof(inv.host), "bad host");
	assert_int_equal(lp_invite_format(&inv, out, sizeof(out)), LP_ERR_HOST_SYNTAX);
	snprintf(inv.host, sizeof(inv.host), "relay.example.org/x");
	assert_int_equal(lp_invite_format(&inv, out, sizeof(out)), LP_ERR_HOST_SYNTAX);
	inv.host[0] = '\0';
	assert_int_equal(lp_invite_format(&inv, out, sizeof(out)), LP_ERR_HOST_SYNTAX);
	/* The longest host: still fits LP_INVITE_MAX. */
	memset(inv.host, 0, sizeof(inv.host));
	for (int i = 0; i < 253; i++)
		inv.host[i] = (i % 64 == 63) ? '.' : 'a';
	inv.port = 65535;
	assert_true(lp_invite_format(&inv, out, sizeof(out)) > 0);
	{
		struct lp_invite back;

		assert_int_equal(lp_invite_parse(out, &back, NULL, 0), 0);
		assert_string_equal(back.host, inv.host);
	}
	lp_invite_wipe(&inv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),          cmocka_unit_test(test_hosts_and_ports),
		cmocka_unit_test(test_rejections),      cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_format_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
