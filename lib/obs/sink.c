/*
 * sink.c - the standard log sink of the binaries: one text or JSON line per
 * message on a stdio stream.
 *
 * Each line is built completely in memory and written with one fwrite so
 * that lines from concurrent writers to the same stream do not interleave
 * mid-line. Messages often quote untrusted input (room codes, reasons from
 * the control channel), so a line is always exactly one line:
 *   text: control characters and DEL are written as \n, \r, \t or \xHH;
 *   JSON: strings are escaped per RFC 8259 and invalid UTF-8 bytes become
 *         U+FFFD, so every line parses as JSON.
 * The timestamp is wall-clock UTC with milliseconds, for humans only.
 */
#include "lp_obs.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINE_STACK 1024

/* A growable output buffer; `oom` sticks like lp_buf's err. */
struct sb {
	char *p;
	size_t len;
	size_t cap;
	int oom;
	char stack[LINE_STACK];
};

static void sb_init(struct sb *b)
{
	b->p = b->stack;
	b->len = 0;
	b->cap = sizeof(b->stack);
	b->oom = 0;
}

static void sb_free(struct sb *b)
{
	if (b->p != b->stack)
		free(b->p);
}

static int sb_reserve(struct sb *b, size_t n)
{
	size_t ncap;
	char *np;

	if (b->oom)
		return 0;
	if (b->cap - b->len >= n)
		return 1;
	ncap = b->cap * 2;
	while (ncap - b->len < n)
		ncap *= 2;
	np = malloc(ncap);
	if (np == NULL) {
		b->oom = 1;
		return 0;
	}
	memcpy(np, b->p, b->len);
	sb_free(b);
	b->p = np;
	b->cap = ncap;
	return 1;
}

static void sb_putn(struct sb *b, const char *s, size_t n)
{
	if (!sb_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void sb_puts(struct sb *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void sb_hex(struct sb *b, const char *prefix, unsigned v, int digits)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[8];
	size_t plen = strlen(prefix);
	int i;

	memcpy(tmp, prefix, plen);
	for (i = 0; i < digits; i++)
		tmp[plen + (size_t)i] = hex[(v >> (4 * (digits - 1 - i))) & 0xf];
	sb_putn(b, tmp, plen + (size_t)digits);
}

static void put_json_string(struct sb *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);

	sb_putn(b, "\"", 1);
	while (left > 0) {
		unsigned char c = *p;
		size_t n;

		switch (c) {
		case '"':
			sb_putn(b, "\\\"", 2);
			break;
		case '\\':
			sb_putn(b, "\\\\", 2);
			break;
		case '\n':
			sb_putn(b, "\\n", 2);
			break;
		case '\r':
			sb_putn(b, "\\r", 2);
			break;
		case '\t':
			sb_putn(b, "\\t", 2);
			break;
		case '\b':
			sb_putn(b, "\\b", 2);
			break;
		case '\f':
			sb_putn(b, "\\f", 2);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				sb_hex(b, "\\u", c, 4);
				break;
			}
			n = lp_utf8_seq(p, left);
			if (n == 0) {
				sb_puts(b, "\\ufffd");
				break;
			}
			sb_putn(b, (const char *)p, n);
			p += n;
			left -= n;
			continue;
		}
		p++;
		left--;
	}
	sb_putn(b, "\"", 1);
}

static void put_text(struct sb *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			sb_putn(b, "\\n", 2);
		else if (c == '\r')
			sb_putn(b, "\\r", 2);
		else if (c == '\t')
			sb_putn(b, "\\t", 2);
		else if (c < 0x20 || c == 0x7f)
			sb_hex(b, "\\x", c, 2);
		else
			sb_putn(b, s, 1);
	}
}

/*
 * Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
 * civil_from_days). Done by hand so the sink needs neither gmtime_r nor
 * gmtime_s and behaves the same on every platform.
 */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

static void put_timestamp(struct sb *b)
{
	struct timespec ts;
	int64_t secs, days, sod, year;
	unsigned mon, day;
	char tmp[64];
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	secs = (int64_t)ts.tv_sec;
	days = secs / 86400;
	sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	civil_from_days(days, &year, &mon, &day);
	n = snprintf(tmp, sizeof(tmp), "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", (long long)year,
	             mon, day, (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60),
	             (unsigned)(sod % 60), (unsigned)(ts.tv_nsec / 1000000));
	if (n > 0 && (size_t)n < sizeof(tmp))
		sb_putn(b, tmp, (size_t)n);
}

LP_PRINTF(3, 0)
static void sink_log(void *user, enum lp_log_level level, const char *fmt, va_list ap)
{
	struct lp_obs_sink *s = user;
	char stack_msg[LINE_STACK];
	char *msg = stack_msg;
	struct sb b;
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(stack_msg, sizeof(stack_msg), fmt, ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	if ((size_t)n >= sizeof(stack_msg)) {
		msg = malloc((size_t)n + 1);
		if (msg == NULL) {
			msg = stack_msg; /* log the truncated text rather than nothing */
		} else if (vsnprintf(msg, (size_t)n + 1, fmt, ap2) != n) {
			free(msg);
			msg = stack_msg;
		}
	}
	va_end(ap2);

	sb_init(&b);
	if (s->format == LP_OBS_FORMAT_JSON) {
		sb_puts(&b, "{\"ts\":\"");
		put_timestamp(&b);
		sb_puts(&b, "\",\"prog\":");
		put_json_string(&b, s->prog);
		sb_puts(&b, ",\"level\":\"");
		sb_puts(&b, lp_obs_level_name(level));
		sb_puts(&b, "\",\"msg\":");
		put_json_string(&b, msg);
		sb_puts(&b, "}\n");
	} else {
		put_timestamp(&b);
		sb_puts(&b, " ");
		put_text(&b, s->prog);
		sb_puts(&b, " ");
		sb_puts(&b, lp_obs_level_name(level));
		sb_puts(&b, ": ");
		put_text(&b, msg);
		sb_puts(&b, "\n");
	}
	if (!b.oom) {
		fwrite(b.p, 1, b.len, s->out);
		fflush(s->out);
	}
	sb_free(&b);
	if (msg != stack_msg)
		free(msg);
}

void lp_obs_sink_init(struct lp_obs_sink *s, const char *prog, enum lp_log_level level,
                      enum lp_obs_format format, FILE *out)
{
	memset(s, 0, sizeof(*s));
	s->out = out != NULL ? out : stderr;
	s->format = format;
	/* A program name longer than the field is cut, not refused: it only
	 * labels lines. */
	if (lp_strlcpy_checked(s->prog, sizeof(s->prog), prog != NULL ? prog : "") != 0)
		s->prog[sizeof(s->prog) - 1] = '\0'; /* already cut by snprintf; be explicit */
	s->logger.fn = sink_log;
	s->logger.user = s;
	s->logger.level = level;
}

static const char *const level_names[] = {
	[LP_LOG_ERROR] = "error", [LP_LOG_WARN] = "warn",   [LP_LOG_INFO] = "info",
	[LP_LOG_DEBUG] = "debug", [LP_LOG_TRACE] = "trace",
};

const char *lp_obs_level_name(enum lp_log_level level)
{
	if ((unsigned)level >= LP_ARRAY_LEN(level_names))
		return "unknown";
	return level_names[level];
}

int lp_obs_level_parse(const char *s, enum lp_log_level *out)
{
	size_t i;

	if (s == NULL)
		return LP_ERR_INVAL;
	for (i = 0; i < LP_ARRAY_LEN(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum lp_log_level)i;
			return 0;
		}
	}
	return LP_ERR_INVAL;
}
