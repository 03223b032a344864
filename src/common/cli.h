/*
 * cli.h - command-line plumbing shared by the daemons (relay, gateway,
 * Linux client): one option table per program, a --help generated from it
 * (every flag with its default, then examples and notes), --version, and
 * the options every daemon has (--log-level, --log-json, --help,
 * --version) handled once here.
 *
 * Conventions the daemons share:
 *   - "--name value" and "--name=value"; "-h" is --help; the last of a
 *     repeated option wins; positional arguments are refused;
 *   - a usage error prints exactly one line "<prog>: <what>; see --help"
 *     and the daemon exits with LP_CLI_EXIT_USAGE (2);
 *   - a startup failure (missing file, no such interface, not root) is one
 *     log line and LP_CLI_EXIT_FAIL (1).
 */
#ifndef LP_CLI_H
#define LP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lp_base.h"

#define LP_CLI_EXIT_OK 0
#define LP_CLI_EXIT_FAIL 1
#define LP_CLI_EXIT_USAGE 2

/* Returned by lp_cli_parse when --help or --version was printed: exit 0. */
#define LP_CLI_DONE 1

#define LP_CLI_ERR_MAX 256

/* One program option. */
struct lp_cli_opt {
	int id;           /* handed to the callback; any value the program likes */
	const char *name; /* long name without the dashes: "relay" */
	const char *arg;  /* metavariable ("HOST[:PORT]"); NULL: a flag without value */
	const char *def;  /* default for --help ("443", "nobody"); NULL: none shown */
	bool required;    /* lp_cli_parse fails when it is absent */
	const char *help; /* one sentence; --help wraps it */
};

/*
 * Called for every program option in command-line order. arg is NULL for
 * flags. Return 0, or a negative value after writing a message for the
 * user into err (cap LP_CLI_ERR_MAX), e.g. with lp_cli_parse_seconds; the
 * message should name the option.
 */
typedef int (*lp_cli_opt_fn)(void *user, int id, const char *arg, char *err, size_t cap);

struct lp_cli_prog {
	const char *name;    /* "lanparty-gateway" */
	const char *summary; /* one line under the usage line */
	const struct lp_cli_opt *opts;
	size_t n_opts;
	const char *examples; /* lines, each '\n'-terminated; NULL: none */
	const char *notes;    /* free text after the examples; NULL: none */
	FILE *out;            /* --help / --version; NULL: stdout */
	FILE *err;            /* usage errors; NULL: stderr */
};

/* What the shared options decided. */
struct lp_cli_common {
	enum lp_log_level log_level; /* --log-level, default LP_LOG_INFO */
	bool log_json;               /* --log-json */
};

/*
 * Parses argv[1..argc-1]. Program options go to fn; --log-level,
 * --log-json, --help/-h and --version are handled here into *common.
 * Returns 0 (run), LP_CLI_DONE (help or version printed: exit 0), or
 * LP_ERR_INVAL after printing one usage line to prog->err (exit
 * LP_CLI_EXIT_USAGE): unknown option, missing value, value given to a flag,
 * positional argument, missing required option, bad --log-level, or fn's
 * message.
 */
int lp_cli_parse(const struct lp_cli_prog *prog, int argc, char *const *argv, lp_cli_opt_fn fn,
                 void *user, struct lp_cli_common *common) LP_WUR;

/* The --help text (also used by lp_cli_parse). */
void lp_cli_usage(const struct lp_cli_prog *prog, FILE *out);
/* "lanparty-gateway (softlan-vpn) 0.1.0\n". */
void lp_cli_version(const struct lp_cli_prog *prog, FILE *out);

/*
 * Decimal unsigned integer in [min, max], no sign, no spaces, no suffix.
 * Errors, with a message "--<opt>: ..." in err: LP_ERR_INVAL (not a
 * number), LP_ERR_FIELD_RANGE (outside min..max, also on overflow).
 */
int lp_cli_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out,
                     char *err, size_t cap) LP_WUR;

/*
 * Seconds as a decimal ("10", "0.5", "2.25"; at most 9 fractional digits)
 * into nanoseconds, in [min_ns, max_ns]. Errors as lp_cli_parse_u64.
 */
int lp_cli_parse_seconds(const char *opt, const char *s, uint64_t min_ns, uint64_t max_ns,
                         uint64_t *out_ns, char *err, size_t cap) LP_WUR;

/* Prints "<prog>: <message>; see --help\n" to f (the usage-error line). */
void lp_cli_usage_error(const struct lp_cli_prog *prog, FILE *f, const char *fmt, ...)
        LP_PRINTF(3, 4);

/* ---- Startup helpers ------------------------------------------------------ */
struct lp_net_endpoint;
struct sockaddr_storage;

/* Waits ns unless a stop was requested; returns non-zero to give up. */
typedef int (*lp_cli_wait_fn)(void *user, uint64_t ns);
/* One lookup, with lp_net_resolve's contract (its results and errors). */
typedef int (*lp_cli_lookup_fn)(void *user, const struct lp_net_endpoint *ep,
                                struct sockaddr_storage *out, size_t max, size_t *n);

/*
 * Resolves the --relay endpoint before anything else is touched, logging
 * through log; each attempt is lookup(lookup_user, ...) (NULL:
 * lp_net_resolve in this process): a permanent failure (no such name) returns at once; a
 * temporary one ("try again") is retried with a delay doubling from 1 s to
 * 30 s, waiting through wait() (which may give up). Returns 0 with *n
 * addresses, LP_ERR_RESOLVE_PERM / LP_ERR_IO / LP_ERR_NOMEM, or
 * LP_ERR_RESOLVE_AGAIN when wait() gave up.
 */
int lp_cli_resolve_relay(const struct lp_net_endpoint *ep, struct sockaddr_storage *out, size_t max,
                         size_t *n, const struct lp_logger *log, lp_cli_lookup_fn lookup,
                         void *lookup_user, lp_cli_wait_fn wait, void *wait_user) LP_WUR;

/* A value of at most max bytes; else "--<opt>: '<arg>' is longer than <max>
 * characters" in err and LP_ERR_INVAL. */
int lp_cli_check_len(const char *opt, const char *arg, size_t max, char *err, size_t cap) LP_WUR;

/* Checks that a file named by an option can be read; on failure writes
 * "cannot read --<opt> <path>: <strerror>" into err. 0 or LP_ERR_IO. */
int lp_cli_check_readable(const char *opt, const char *path, char *err, size_t cap) LP_WUR;

#endif /* LP_CLI_H */
