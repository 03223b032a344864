/*
 * cli.c - option parsing, --help and --version for the daemons.
 *
 * A hand-written parser rather than getopt_long: getopt prints its own
 * messages in its own words, permutes argv, and accepts abbreviations
 * ("--rel"), all of which make a daemon's command line harder to read in a
 * service file and its errors harder to act on.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "lp_net.h"
#include "lp_obs.h"
#include "lp_version.h"

#define HELP_COL 30   /* where the help text starts */
#define HELP_WIDTH 99 /* wrap before this column */

enum { COMMON_LOG_LEVEL = -1, COMMON_LOG_JSON = -2, COMMON_HELP = -3, COMMON_VERSION = -4 };

static const struct lp_cli_opt common_opts[] = {
	{ COMMON_LOG_LEVEL, "log-level", "LEVEL", "info", false,
	  "log verbosity: error, warn, info, debug or trace" },
	{ COMMON_LOG_JSON, "log-json", NULL, NULL, false,
	  "log one JSON object per line instead of text" },
	{ COMMON_HELP, "help", NULL, NULL, false, "show this help and exit (also -h)" },
	{ COMMON_VERSION, "version", NULL, NULL, false, "show the version and exit" },
};

static FILE *out_of(const struct lp_cli_prog *p)
{
	return p->out != NULL ? p->out : stdout;
}

static FILE *err_of(const struct lp_cli_prog *p)
{
	return p->err != NULL ? p->err : stderr;
}

void lp_cli_usage_error(const struct lp_cli_prog *prog, FILE *f, const char *fmt, ...)
{
	char msg[LP_CLI_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(f, "%s: %s; see --help\n", prog->name, msg);
}

void lp_cli_version(const struct lp_cli_prog *prog, FILE *out)
{
	fprintf(out, "%s (softlan-vpn) %s\n", prog->name, LP_VERSION);
}

/* Writes text wrapped at HELP_WIDTH, continuation lines indented to col;
 * the cursor is at column `at` when called. */
static void wrap(FILE *out, const char *text, size_t at, size_t col)
{
	const char *p = text;

	while (*p != '\0') {
		size_t word = strcspn(p, " ");

		if (at > col && at + 1 + word > HELP_WIDTH) {
			fprintf(out, "\n%*s", (int)col, "");
			at = col;
		} else if (at > col) {
			fputc(' ', out);
			at++;
		}
		fwrite(p, 1, word, out);
		at += word;
		p += word;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

static void usage_opt(FILE *out, const struct lp_cli_opt *o)
{
	char head[96], text[512];
	int n;

	n = snprintf(head, sizeof(head), "  --%s%s%s", o->name, o->arg ? " " : "",
	             o->arg ? o->arg : "");
	if (n < 0)
		return;
	snprintf(text, sizeof(text), "%s%s%s%s", o->help, o->required ? " (required)" : "",
	         o->def ? " (default: " : "", o->def ? o->def : "");
	if (o->def != NULL && strlen(text) + 1 < sizeof(text))
		strcat(text, ")");
	fputs(head, out);
	if ((size_t)n + 2 > HELP_COL) {
		fprintf(out, "\n%*s", HELP_COL, "");
		n = HELP_COL;
	} else {
		fprintf(out, "%*s", HELP_COL - n, "");
		n = HELP_COL;
	}
	wrap(out, text, (size_t)n, HELP_COL);
}

void lp_cli_usage(const struct lp_cli_prog *prog, FILE *out)
{
	size_t i;

	fprintf(out, "Usage: %s", prog->name);
	for (i = 0; i < prog->n_opts; i++) {
		const struct lp_cli_opt *o = &prog->opts[i];

		if (o->required)
			fprintf(out, " --%s %s", o->name, o->arg ? o->arg : "");
	}
	fprintf(out, " [options]\n\n");
	if (prog->summary != NULL)
		wrap(out, prog->summary, 0, 0);
	fprintf(out, "\nOptions:\n");
	for (i = 0; i < prog->n_opts; i++)
		usage_opt(out, &prog->opts[i]);
	for (i = 0; i < LP_ARRAY_LEN(common_opts); i++)
		usage_opt(out, &common_opts[i]);
	if (prog->examples != NULL)
		fprintf(out, "\nExamples:\n%s", prog->examples);
	if (prog->notes != NULL) {
		fprintf(out, "\nNotes:\n");
		wrap(out, prog->notes, 0, 0);
	}
}

static const struct lp_cli_opt *find_opt(const struct lp_cli_prog *prog, const char *name,
                                         size_t len)
{
	size_t i;

	for (i = 0; i < prog->n_opts; i++)
		if (strlen(prog->opts[i].name) == len && memcmp(prog->opts[i].name, name, len) == 0)
			return &prog->opts[i];
	for (i = 0; i < LP_ARRAY_LEN(common_opts); i++)
		if (strlen(common_opts[i].name) == len &&
		    memcmp(common_opts[i].name, name, len) == 0)
			return &common_opts[i];
	return NULL;
}

/* Handles one shared option; returns 0, LP_CLI_DONE or LP_ERR_INVAL. */
static int common_opt(const struct lp_cli_prog *prog, int id, const char *arg,
                      struct lp_cli_common *common, char *err, size_t cap)
{
	switch (id) {
	case COMMON_LOG_LEVEL:
		if (lp_obs_level_parse(arg, &common->log_level) < 0) {
			snprintf(err, cap,
			         "--log-level: '%s' is not one of error, warn, info, debug, trace",
			         arg);
			return LP_ERR_INVAL;
		}
		return 0;
	case COMMON_LOG_JSON:
		common->log_json = true;
		return 0;
	case COMMON_HELP:
		lp_cli_usage(prog, out_of(prog));
		return LP_CLI_DONE;
	case COMMON_VERSION:
		lp_cli_version(prog, out_of(prog));
		return LP_CLI_DONE;
	default:
		return LP_ERR_INVAL;
	}
}

int lp_cli_parse(const struct lp_cli_prog *prog, int argc, char *const *argv, lp_cli_opt_fn fn,
                 void *user, struct lp_cli_common *common)
{
	bool seen[64] = { false };
	char err[LP_CLI_ERR_MAX];
	int i, rc = 0;
	size_t k;

	common->log_level = LP_LOG_INFO;
	common->log_json = false;
	err[0] = '\0';
	if (prog->n_opts > LP_ARRAY_LEN(seen))
		return LP_ERR_INVAL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *val = NULL;
		const struct lp_cli_opt *o;
		size_t nlen;

		if (strcmp(a, "-h") == 0)
			a = "--help";
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			if (a[0] == '-')
				snprintf(err, sizeof(err), "unknown option '%s'", a);
			else
				snprintf(err, sizeof(err), "unexpected argument '%s'", a);
			rc = LP_ERR_INVAL;
			break;
		}
		name = a + 2;
		eq = strchr(name, '=');
		nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
		o = find_opt(prog, name, nlen);
		if (o == NULL) {
			snprintf(err, sizeof(err), "unknown option '--%.*s'", (int)nlen, name);
			rc = LP_ERR_INVAL;
			break;
		}
		if (o->arg == NULL && eq != NULL) {
			snprintf(err, sizeof(err), "--%s takes no value", o->name);
			rc = LP_ERR_INVAL;
			break;
		}
		if (o->arg != NULL) {
			if (eq != NULL)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				snprintf(err, sizeof(err), "--%s needs a value (%s)", o->name,
				         o->arg);
				rc = LP_ERR_INVAL;
				break;
			}
			if (val[0] == '\0') {
				snprintf(err, sizeof(err), "--%s needs a non-empty value (%s)",
				         o->name, o->arg);
				rc = LP_ERR_INVAL;
				break;
			}
		}
		if (o >= common_opts && o < common_opts + LP_ARRAY_LEN(common_opts)) {
			rc = common_opt(prog, o->id, val, common, err, sizeof(err));
		} else {
			seen[o - prog->opts] = true;
			rc = fn(user, o->id, val, err, sizeof(err));
			if (rc < 0 && err[0] == '\0')
				snprintf(err, sizeof(err), "--%s: invalid value", o->name);
		}
		if (rc != 0)
			break;
	}
	if (rc == 0) {
		for (k = 0; k < prog->n_opts; k++) {
			if (prog->opts[k].required && !seen[k]) {
				snprintf(err, sizeof(err), "missing --%s %s", prog->opts[k].name,
				         prog->opts[k].arg ? prog->opts[k].arg : "");
				rc = LP_ERR_INVAL;
				break;
			}
		}
	}
	if (rc < 0) {
		lp_cli_usage_error(prog, err_of(prog), "%s", err);
		return LP_ERR_INVAL;
	}
	return rc;
}

/* Digits only, into *v; LP_ERR_INVAL when empty or not digits,
 * LP_ERR_FIELD_RANGE on overflow. *len gets the digits consumed. */
static int digits(const char *s, uint64_t *v, size_t *len)
{
	uint64_t x = 0;
	size_t i = 0;

	while (s[i] >= '0' && s[i] <= '9') {
		unsigned d = (unsigned)(s[i] - '0');

		if (x > (UINT64_MAX - d) / 10)
			return LP_ERR_FIELD_RANGE;
		x = x * 10 + d;
		i++;
	}
	if (i == 0)
		return LP_ERR_INVAL;
	*v = x;
	*len = i;
	return 0;
}

int lp_cli_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out,
                     char *err, size_t cap)
{
	uint64_t v = 0;
	size_t n = 0;
	int rc = digits(s, &v, &n);

	if (rc == 0 && s[n] != '\0')
		rc = LP_ERR_INVAL;
	if (rc == 0 && (v < min || v > max))
		rc = LP_ERR_FIELD_RANGE;
	if (rc == LP_ERR_INVAL)
		snprintf(err, cap, "--%s: '%s' is not a whole number", opt, s);
	else if (rc == LP_ERR_FIELD_RANGE)
		snprintf(err, cap, "--%s: %s is out of range (%llu..%llu)", opt, s,
		         (unsigned long long)min, (unsigned long long)max);
	else
		*out = v;
	return rc;
}

/* "30 s" / "0.5 s" for range messages. */
static void fmt_seconds(uint64_t ns, char *out, size_t cap)
{
	uint64_t frac = ns % LP_NS_PER_SEC;
	int w = 9;

	if (frac == 0) {
		snprintf(out, cap, "%llu", (unsigned long long)(ns / LP_NS_PER_SEC));
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		w--;
	}
	snprintf(out, cap, "%llu.%0*llu", (unsigned long long)(ns / LP_NS_PER_SEC), w,
	         (unsigned long long)frac);
}

int lp_cli_parse_seconds(const char *opt, const char *s, uint64_t min_ns, uint64_t max_ns,
                         uint64_t *out_ns, char *err, size_t cap)
{
	uint64_t whole = 0, frac = 0, scale = LP_NS_PER_SEC, ns = 0;
	size_t n = 0, fn = 0;
	int rc = digits(s, &whole, &n);

	if (rc == 0 && s[n] == '.') {
		rc = digits(s + n + 1, &frac, &fn);
		if (rc == LP_ERR_FIELD_RANGE)
			rc = LP_ERR_INVAL; /* more fractional digits than nanoseconds */
		if (rc == 0 && (fn > 9 || s[n + 1 + fn] != '\0'))
			rc = LP_ERR_INVAL;
		if (rc == 0) {
			while (fn-- > 0)
				scale /= 10;
			frac *= scale;
		}
	} else if (rc == 0 && s[n] != '\0') {
		rc = LP_ERR_INVAL;
	}
	if (rc == 0 && whole > (UINT64_MAX - frac) / LP_NS_PER_SEC)
		rc = LP_ERR_FIELD_RANGE;
	if (rc == 0) {
		ns = whole * LP_NS_PER_SEC + frac;
		if (ns < min_ns || ns > max_ns)
			rc = LP_ERR_FIELD_RANGE;
	}
	if (rc == LP_ERR_INVAL) {
		snprintf(err, cap, "--%s: '%s' is not a number of seconds (e.g. 10 or 0.5)", opt,
		         s);
	} else if (rc == LP_ERR_FIELD_RANGE) {
		char lo[32], hi[32];

		fmt_seconds(min_ns, lo, sizeof(lo));
		fmt_seconds(max_ns, hi, sizeof(hi));
		snprintf(err, cap, "--%s: %s s is out of range (%s..%s s)", opt, s, lo, hi);
	} else {
		*out_ns = ns;
	}
	return rc;
}

int lp_cli_resolve_relay(const struct lp_net_endpoint *ep, struct sockaddr_storage *out, size_t max,
                         size_t *n, const struct lp_logger *log, lp_cli_lookup_fn lookup,
                         void *lookup_user, lp_cli_wait_fn wait, void *wait_user)
{
	uint64_t delay = LP_NS_PER_SEC;
	char name[LP_NET_HOST_MAX + 16];
	int rc;

	if (lp_net_endpoint_format(ep, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "%s", ep->host);
	for (;;) {
		rc = lookup != NULL ? lookup(lookup_user, ep, out, max, n)
		                    : lp_net_resolve(ep, out, max, n);
		if (rc != LP_ERR_RESOLVE_AGAIN)
			break;
		lp_log(log, LP_LOG_WARN, "relay %s: temporary DNS failure (%s); retrying in %llu s",
		       name, lp_strerror(rc), (unsigned long long)(delay / LP_NS_PER_SEC));
		if (wait(wait_user, delay) != 0)
			return LP_ERR_RESOLVE_AGAIN;
		delay = delay * 2 > 30 * LP_NS_PER_SEC ? 30 * LP_NS_PER_SEC : delay * 2;
	}
	if (rc == LP_ERR_RESOLVE_PERM)
		lp_log(log, LP_LOG_ERROR,
		       "cannot resolve relay %s: the name does not exist or has no IPv4/IPv6 "
		       "address",
		       name);
	else if (rc < 0)
		lp_log(log, LP_LOG_ERROR, "cannot resolve relay %s: %s", name, lp_strerror(rc));
	return rc;
}

int lp_cli_check_readable(const char *opt, const char *path, char *err, size_t cap)
{
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		snprintf(err, cap, "cannot read --%s %s: %s", opt, path, strerror(errno));
		return LP_ERR_IO;
	}
	fclose(f);
	return 0;
}

int lp_cli_check_len(const char *opt, const char *arg, size_t max, char *err, size_t cap)
{
	if (strlen(arg) <= max)
		return 0;
	snprintf(err, cap, "--%s: '%s' is longer than %zu characters", opt, arg, max);
	return LP_ERR_INVAL;
}
