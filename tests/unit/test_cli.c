/* test_cli.c - the shared command-line conventions (src/common/cli.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lp_version.h"

enum { OPT_RELAY = 1, OPT_ROOM, OPT_INTERVAL, OPT_VERBOSE };

static const struct lp_cli_opt opts[] = {
	{ OPT_RELAY, "relay", "HOST[:PORT]", NULL, true, "relay address" },
	{ OPT_ROOM, "room", "CODE", "LAN1", false, "room code" },
	{ OPT_INTERVAL, "interval", "SECONDS", "10", false,
	  "a long help text that has to be wrapped because it goes on and on well past the right "
	  "margin of a terminal" },
	{ OPT_VERBOSE, "verbose", NULL, NULL, false, "a flag" },
};

struct seen {
	char relay[64];
	char room[64];
	uint64_t interval;
	int verbose;
	int calls;
};

static int on_opt(void *user, int id, const char *arg, char *err, size_t cap)
{
	struct seen *s = user;

	s->calls++;
	switch (id) {
	case OPT_RELAY:
		snprintf(s->relay, sizeof(s->relay), "%s", arg);
		return 0;
	case OPT_ROOM:
		if (lp_cli_check_len("room", arg, 8, err, cap) < 0)
			return LP_ERR_INVAL;
		snprintf(s->room, sizeof(s->room), "%s", arg);
		return 0;
	case OPT_INTERVAL:
		return lp_cli_parse_seconds("interval", arg, LP_NS_PER_SEC, 3600 * LP_NS_PER_SEC,
		                            &s->interval, err, cap);
	case OPT_VERBOSE:
		assert_null(arg);
		s->verbose++;
		return 0;
	default:
		return -1;
	}
}

struct run {
	int rc;
	char *out;
	char *err;
	size_t out_len, err_len;
	struct seen seen;
	struct lp_cli_common common;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Parses a NULL-terminated argument list after argv[0]. */
static void run(struct run *r, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	struct lp_cli_prog prog = {
		.name = "lanparty-test",
		.summary = "Tests the option parser.",
		.opts = opts,
		.n_opts = LP_ARRAY_LEN(opts),
		.examples = "  lanparty-test --relay relay.example.org\n",
		.notes = "Some notes.",
	};
	FILE *out, *err;

	memset(r, 0, sizeof(*r));
	out = open_memstream(&r->out, &r->out_len);
	err = open_memstream(&r->err, &r->err_len);
	assert_non_null(out);
	assert_non_null(err);
	prog.out = out;
	prog.err = err;
	argv[argc++] = (char *)"lanparty-test";
	va_start(ap, r);
	for (;;) {
		char *a = va_arg(ap, char *);

		if (a == NULL)
			break;
		assert_true(argc < 31);
		argv[argc++] = a;
	}
	va_end(ap);
	argv[argc] = NULL;
	r->rc = lp_cli_parse(&prog, argc, argv, on_opt, &r->seen, &r->common);
	fclose(out);
	fclose(err);
}

/* One line on stderr: "<prog>: <want>; see --help\n". */
static void assert_usage_error(const struct run *r, const char *want)
{
	char line[512];

	snprintf(line, sizeof(line), "lanparty-test: %s; see --help\n", want);
	assert_int_equal(r->rc, LP_ERR_INVAL);
	assert_string_equal(r->err, line);
	assert_int_equal(r->out_len, 0);
}

static void test_parse_values(void **state)
{
	struct run r;

	(void)state;
	run(&r, "--relay", "relay.test:4433", "--room=LAN2", "--interval", "2.5", "--verbose",
	    "--log-level", "debug", "--log-json", NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.seen.relay, "relay.test:4433");
	assert_string_equal(r.seen.room, "LAN2");
	assert_int_equal(r.seen.interval, 2500 * LP_NS_PER_MS);
	assert_int_equal(r.seen.verbose, 1);
	assert_int_equal(r.common.log_level, LP_LOG_DEBUG);
	assert_true(r.common.log_json);
	assert_int_equal(r.err_len, 0);
	run_free(&r);

	/* defaults of the shared options; the last repeated value wins */
	run(&r, "--relay=a", "--relay", "b", NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.seen.relay, "b");
	assert_int_equal(r.seen.calls, 2);
	assert_int_equal(r.common.log_level, LP_LOG_INFO);
	assert_false(r.common.log_json);
	run_free(&r);
}

static void test_usage_errors(void **state)
{
	struct run r;

	(void)state;
	run(&r, NULL);
	assert_usage_error(&r, "missing --relay HOST[:PORT]");
	run_free(&r);
	run(&r, "--relay", "x", "--bogus", NULL);
	assert_usage_error(&r, "unknown option '--bogus'");
	run_free(&r);
	run(&r, "--relay", "x", "--bogus=1", NULL);
	assert_usage_error(&r, "unknown option '--bogus'");
	run_free(&r);
	/* no abbreviations */
	run(&r, "--rel", "x", NULL);
	assert_usage_error(&r, "unknown option '--rel'");
	run_free(&r);
	run(&r, "-x", NULL);
	assert_usage_error(&r, "unknown option '-x'");
	run_free(&r);
	run(&r, "--", NULL);
	assert_usage_error(&r, "unknown option '--'");
	run_free(&r);
	run(&r, "--relay", "x", "stray", NULL);
	assert_usage_error(&r, "unexpected argument 'stray'");
	run_free(&r);
	run(&r, "--relay", NULL);
	assert_usage_error(&r, "--relay needs a value (HOST[:PORT])");
	run_free(&r);
	run(&r, "--relay=", NULL);
	assert_usage_error(&r, "--relay needs a non-empty value (HOST[:PORT])");
	run_free(&r);
	run(&r, "--relay", "x", "--verbose=yes", NULL);
	assert_usage_error(&r, "--verbose takes no value");
	run_free(&r);
	run(&r, "--relay", "x", "--log-level", "loud", NULL);
	assert_usage_error(&r, "--log-level: 'loud' is not one of error, warn, info, debug, trace");
	run_free(&r);
	/* the callback's message, and parsing stops at the first error */
	run(&r, "--relay", "x", "--interval", "0.5", "--room", "R", NULL);
	assert_usage_error(&r, "--interval: 0.5 s is out of range (1..3600 s)");
	assert_string_equal(r.seen.room, "");
	run_free(&r);
	run(&r, "--relay", "x", "--interval", "ten", NULL);
	assert_usage_error(&r, "--interval: 'ten' is not a number of seconds (e.g. 10 or 0.5)");
	run_free(&r);
	/* lp_cli_check_len: 8 bytes pass, 9 are refused with the option's name */
	run(&r, "--relay", "x", "--room", "ROOM5678", NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.seen.room, "ROOM5678");
	run_free(&r);
	run(&r, "--relay", "x", "--room", "ROOM56789", NULL);
	assert_usage_error(&r, "--room: 'ROOM56789' is longer than 8 characters");
	assert_string_equal(r.seen.room, "");
	run_free(&r);
}

static void test_help_and_version(void **state)
{
	char want[128];
	struct run r;

	(void)state;
	run(&r, "--relay", "x", "--help", "--bogus", NULL);
	assert_int_equal(r.rc, LP_CLI_DONE);
	assert_int_equal(r.err_len, 0);
	assert_non_null(strstr(r.out, "Usage: lanparty-test --relay HOST[:PORT] [options]\n"));
	assert_non_null(strstr(r.out, "  --relay HOST[:PORT]"));
	assert_non_null(strstr(r.out, "relay address (required)\n"));
	assert_non_null(strstr(r.out, "room code (default: LAN1)\n"));
	assert_non_null(strstr(r.out, "  --verbose "));
	/* the shared options are listed with their defaults */
	assert_non_null(strstr(r.out, "  --log-level LEVEL"));
	assert_non_null(strstr(r.out, "(default: info)"));
	assert_non_null(strstr(r.out, "  --log-json"));
	assert_non_null(strstr(r.out, "  --help"));
	assert_non_null(strstr(r.out, "  --version"));
	assert_non_null(strstr(r.out, "\nExamples:\n  lanparty-test --relay relay.example.org\n"));
	assert_non_null(strstr(r.out, "\nNotes:\nSome notes.\n"));
	/* the long help text is wrapped: no line reaches 100 columns */
	for (const char *p = r.out; *p != '\0';) {
		size_t n = strcspn(p, "\n");

		assert_true(n < 100);
		p += n + (p[n] == '\n');
	}
	assert_non_null(strstr(r.out, "(default: 10)"));
	run_free(&r);

	run(&r, "-h", NULL); /* help needs no required option */
	assert_int_equal(r.rc, LP_CLI_DONE);
	assert_non_null(strstr(r.out, "Usage: "));
	run_free(&r);

	run(&r, "--version", NULL);
	assert_int_equal(r.rc, LP_CLI_DONE);
	snprintf(want, sizeof(want), "lanparty-test (softlan-vpn) %s\n", LP_VERSION);
	assert_string_equal(r.out, want);
	run_free(&r);
}

static void test_parse_u64(void **state)
{
	char err[LP_CLI_ERR_MAX];
	uint64_t v = 7;

	(void)state;
	assert_int_equal(lp_cli_parse_u64("n", "0", 0, 10, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(lp_cli_parse_u64("n", "10", 0, 10, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 10);
	assert_int_equal(
	        lp_cli_parse_u64("n", "18446744073709551615", 0, UINT64_MAX, &v, err, sizeof(err)),
	        0);
	assert_true(v == UINT64_MAX);
	v = 7;
	assert_int_equal(lp_cli_parse_u64("n", "11", 0, 10, &v, err, sizeof(err)),
	                 LP_ERR_FIELD_RANGE);
	assert_string_equal(err, "--n: 11 is out of range (0..10)");
	assert_int_equal(v, 7);
	assert_int_equal(
	        lp_cli_parse_u64("n", "18446744073709551616", 0, UINT64_MAX, &v, err, sizeof(err)),
	        LP_ERR_FIELD_RANGE);
	assert_int_equal(lp_cli_parse_u64("n", "0", 1, 10, &v, err, sizeof(err)),
	                 LP_ERR_FIELD_RANGE);
	assert_int_equal(lp_cli_parse_u64("n", "", 0, 10, &v, err, sizeof(err)), LP_ERR_INVAL);
	assert_string_equal(err, "--n: '' is not a whole number");
	assert_int_equal(lp_cli_parse_u64("n", "-1", 0, 10, &v, err, sizeof(err)), LP_ERR_INVAL);
	assert_int_equal(lp_cli_parse_u64("n", "+1", 0, 10, &v, err, sizeof(err)), LP_ERR_INVAL);
	assert_int_equal(lp_cli_parse_u64("n", " 1", 0, 10, &v, err, sizeof(err)), LP_ERR_INVAL);
	assert_int_equal(lp_cli_parse_u64("n", "1 ", 0, 10, &v, err, sizeof(err)), LP_ERR_INVAL);
	assert_int_equal(lp_cli_parse_u64("n", "1k", 0, 10, &v, err, sizeof(err)), LP_ERR_INVAL);
	assert_int_equal(lp_cli_parse_u64("n", "0x1", 0, 10, &v, err, sizeof(err)), LP_ERR_INVAL);
	assert_int_equal(v, 7);
}

static void test_parse_seconds(void **state)
{
	const uint64_t max = 3600 * LP_NS_PER_SEC;
	char err[LP_CLI_ERR_MAX];
	uint64_t ns = 1;

	(void)state;
	assert_int_equal(lp_cli_parse_seconds("t", "10", 0, max, &ns, err, sizeof(err)), 0);
	assert_true(ns == 10 * LP_NS_PER_SEC);
	assert_int_equal(lp_cli_parse_seconds("t", "0.5", 0, max, &ns, err, sizeof(err)), 0);
	assert_true(ns == 500 * LP_NS_PER_MS);
	assert_int_equal(lp_cli_parse_seconds("t", "2.000000001", 0, max, &ns, err, sizeof(err)),
	                 0);
	assert_true(ns == 2 * LP_NS_PER_SEC + 1);
	assert_int_equal(lp_cli_parse_seconds("t", "3600", 0, max, &ns, err, sizeof(err)), 0);
	assert_true(ns == max);
	assert_int_equal(lp_cli_parse_seconds("t", "0", 0, max, &ns, err, sizeof(err)), 0);
	assert_true(ns == 0);
	ns = 1;
	assert_int_equal(lp_cli_parse_seconds("t", "3600.000000001", 0, max, &ns, err, sizeof(err)),
	                 LP_ERR_FIELD_RANGE);
	assert_string_equal(err, "--t: 3600.000000001 s is out of range (0..3600 s)");
	assert_int_equal(
	        lp_cli_parse_seconds("t", "0.05", LP_NS_PER_SEC / 10, max, &ns, err, sizeof(err)),
	        LP_ERR_FIELD_RANGE);
	assert_string_equal(err, "--t: 0.05 s is out of range (0.1..3600 s)");
	assert_int_equal(lp_cli_parse_seconds("t", "99999999999999999999", 0, UINT64_MAX, &ns, err,
	                                      sizeof(err)),
	                 LP_ERR_FIELD_RANGE);
	assert_int_equal(
	        lp_cli_parse_seconds("t", "18446744074", 0, UINT64_MAX, &ns, err, sizeof(err)),
	        LP_ERR_FIELD_RANGE);
	/* malformed */
	assert_int_equal(lp_cli_parse_seconds("t", "1.", 0, max, &ns, err, sizeof(err)),
	                 LP_ERR_INVAL);
	assert_int_equal(lp_cli_parse_seconds("t", ".5", 0, max, &ns, err, sizeof(err)),
	                 LP_ERR_INVAL);
	assert_int_equal(lp_cli_parse_seconds("t", "1.0000000001", 0, max, &ns, err, sizeof(err)),
	                 LP_ERR_INVAL);
	assert_int_equal(lp_cli_parse_seconds("t", "1.00000000000000000000001", 0, max, &ns, err,
	                                      sizeof(err)),
	                 LP_ERR_INVAL);
	assert_int_equal(lp_cli_parse_seconds("t", "1s", 0, max, &ns, err, sizeof(err)),
	                 LP_ERR_INVAL);
	assert_int_equal(lp_cli_parse_seconds("t", "1.5.", 0, max, &ns, err, sizeof(err)),
	                 LP_ERR_INVAL);
	assert_int_equal(lp_cli_parse_seconds("t", "-1", 0, max, &ns, err, sizeof(err)),
	                 LP_ERR_INVAL);
	assert_int_equal(lp_cli_parse_seconds("t", "1e3", 0, max, &ns, err, sizeof(err)),
	                 LP_ERR_INVAL);
	assert_string_equal(err, "--t: '1e3' is not a number of seconds (e.g. 10 or 0.5)");
	assert_int_equal(ns, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_values),     cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_help_and_version), cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_seconds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
