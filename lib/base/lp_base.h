/*
 * lp_base.h - plumbing shared by every softlan-vpn library: error codes, the
 * bounds-checked wire cursor, monotonic time and the injected log callback.
 *
 * Libraries never print and never exit. They return 0 (or a byte count) on
 * success and a negative LP_ERR_* on failure, and report diagnostics through
 * a struct lp_logger that the binary injects.
 */
#ifndef LP_BASE_H
#define LP_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__MINGW32__)
/* mingw: the C99 printf (__USE_MINGW_ANSI_STDIO) understands %zu; say so. */
#define LP_WUR __attribute__((warn_unused_result))
#define LP_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#elif defined(__GNUC__) || defined(__clang__)
#define LP_WUR __attribute__((warn_unused_result))
#define LP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define LP_WUR
#define LP_PRINTF(f, a)
#endif

#define LP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Error codes. Every distinct refusal a caller may want to tell apart has
 * its own code; lp_strerror() gives the human text.
 */
enum lp_err {
	LP_OK = 0,
	LP_ERR_INVAL = -1,           /* invalid argument */
	LP_ERR_NOMEM = -2,           /* out of memory */
	LP_ERR_NOBUF = -3,           /* output buffer too small */
	LP_ERR_TRUNCATED = -4,       /* input ends before the field it declares */
	LP_ERR_TRAILING = -5,        /* bytes after the declared end */
	LP_ERR_VERSION = -6,         /* unsupported protocol version */
	LP_ERR_TYPE = -7,            /* unknown message or datagram type */
	LP_ERR_TOO_BIG = -8,         /* exceeds the negotiated datagram budget */
	LP_ERR_PAYLOAD_MAX = -9,     /* exceeds the overlay payload ceiling */
	LP_ERR_RUNT = -10,           /* Ethernet frame shorter than its header */
	LP_ERR_MAC_SYNTAX = -11,     /* MAC address text is malformed */
	LP_ERR_MAC_ZERO = -12,       /* MAC is 00:00:00:00:00:00 */
	LP_ERR_MAC_GROUP = -13,      /* MAC is multicast or broadcast */
	LP_ERR_MAC_NOT_LOCAL = -14,  /* generated MAC must be locally administered */
	LP_ERR_BUDGET_SMALL = -15,   /* datagram budget cannot carry the minimum MTU */
	LP_ERR_MTU_RANGE = -16,      /* MTU outside the supported range */
	LP_ERR_ROOM_EMPTY = -17,     /* room code is empty */
	LP_ERR_ROOM_LONG = -18,      /* room code is too long */
	LP_ERR_ROOM_CHARS = -19,     /* room code has a forbidden character */
	LP_ERR_ROLE = -20,           /* unknown role */
	LP_ERR_ROLE_MAC = -21,       /* role and MAC are inconsistent */
	LP_ERR_PEER_ID = -22,        /* peer id out of range */
	LP_ERR_FRAME_LEN = -23,      /* control frame length prefix out of range */
	LP_ERR_JSON = -24,           /* control frame is not valid JSON */
	LP_ERR_FIELD_MISSING = -25,  /* a required field is absent */
	LP_ERR_FIELD_TYPE = -26,     /* a field has the wrong JSON type */
	LP_ERR_FIELD_RANGE = -27,    /* a field's value is out of range */
	LP_ERR_DECODER_BROKEN = -28, /* decoder already failed; reset it */
	LP_ERR_HOST_EMPTY = -29,     /* endpoint has no host */
	LP_ERR_PORT = -30,           /* port missing, not a number or out of range */
	LP_ERR_BRACKET = -31,        /* unbalanced or misplaced [ ] */
	LP_ERR_HOST_SYNTAX = -32,    /* host is not a valid name or address */
	LP_ERR_RESOLVE_PERM = -33,   /* name does not exist (permanent) */
	LP_ERR_RESOLVE_AGAIN = -34,  /* temporary resolver failure, retry later */
	LP_ERR_IO = -35,             /* system call failed, errno kept by caller */
	LP_ERR_AGAIN = -36,          /* would block / queue full, try later */
	LP_ERR_TLS = -37,            /* TLS setup or handshake failure */
	LP_ERR_CERT = -38,           /* peer certificate not trusted */
	LP_ERR_ALPN = -39,           /* peer did not select our ALPN */
	LP_ERR_QUIC = -40,           /* QUIC protocol failure */
	LP_ERR_CLOSED = -41,         /* connection closed or draining */
	LP_ERR_TIMEOUT = -42,        /* idle or handshake timeout */
	LP_ERR_NO_DATAGRAM = -43,    /* peer did not negotiate QUIC DATAGRAM */
	LP_ERR_STATE = -44,          /* call not valid in the current state */
	LP_ERR_REJECTED = -45,       /* relay rejected the hello */
	LP_ERR_UNSUPPORTED = -46,    /* not supported on this platform */
	LP_ERR_NOT_FOUND = -47,      /* no such adapter, route, file or entry */
	LP_ERR_PERM = -48,           /* permission denied */
	LP_ERR_JSON_LIMIT = -49,     /* JSON exceeds a size, depth or element cap */
	LP_ERR__MIN = -50
};

/* Human text for an LP_ERR_* code; never NULL, also for unknown codes. */
const char *lp_strerror(int err);

/*
 * Bounds-checked read cursor over wire bytes. Each getter checks the
 * remaining length first; a failed read sets err (sticky) and returns zero,
 * so a parser reads every field and checks err once at the end.
 */
struct lp_buf {
	const uint8_t *p;
	const uint8_t *end;
	int err;
};

static inline void lp_buf_init(struct lp_buf *b, const uint8_t *data, size_t len)
{
	b->p = data;
	b->end = data + len;
	b->err = 0;
}

static inline size_t lp_buf_left(const struct lp_buf *b)
{
	return (size_t)(b->end - b->p);
}

static inline int lp_buf_need(struct lp_buf *b, size_t n)
{
	if (b->err != 0)
		return 0;
	if (lp_buf_left(b) < n) {
		b->err = LP_ERR_TRUNCATED;
		return 0;
	}
	return 1;
}

static inline uint8_t lp_buf_u8(struct lp_buf *b)
{
	if (!lp_buf_need(b, 1))
		return 0;
	return *b->p++;
}

static inline uint16_t lp_buf_u16(struct lp_buf *b)
{
	uint16_t v;

	if (!lp_buf_need(b, 2))
		return 0;
	v = (uint16_t)((unsigned)b->p[0] << 8 | b->p[1]);
	b->p += 2;
	return v;
}

static inline uint32_t lp_buf_u32(struct lp_buf *b)
{
	uint32_t v;

	if (!lp_buf_need(b, 4))
		return 0;
	v = (uint32_t)b->p[0] << 24 | (uint32_t)b->p[1] << 16 | (uint32_t)b->p[2] << 8 |
	    (uint32_t)b->p[3];
	b->p += 4;
	return v;
}

/* Points *out at the next n bytes (no copy) and advances. */
static inline void lp_buf_bytes(struct lp_buf *b, const uint8_t **out, size_t n)
{
	*out = NULL;
	if (!lp_buf_need(b, n))
		return;
	*out = b->p;
	b->p += n;
}

static inline void lp_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void lp_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t lp_get_u16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* Time: uint64_t nanoseconds of a monotonic clock. Never wall-clock. */
#define LP_NS_PER_MS UINT64_C(1000000)
#define LP_NS_PER_SEC UINT64_C(1000000000)
uint64_t lp_now_ns(void);

/* Log levels, most severe first. */
enum lp_log_level {
	LP_LOG_ERROR = 0,
	LP_LOG_WARN = 1,
	LP_LOG_INFO = 2,
	LP_LOG_DEBUG = 3,
	LP_LOG_TRACE = 4
};

typedef void (*lp_log_fn)(void *user, enum lp_log_level level, const char *fmt, va_list ap);

/*
 * The injected log sink. A library keeps a const pointer to one of these
 * (NULL means silent) and calls lp_log(); only binaries decide where the
 * text goes (lib/obs provides the standard stderr/JSON sink).
 */
struct lp_logger {
	lp_log_fn fn;
	void *user;
	enum lp_log_level level; /* messages above this level are skipped cheaply */
};

void lp_log(const struct lp_logger *lg, enum lp_log_level level, const char *fmt, ...)
        LP_PRINTF(3, 4);

static inline int lp_log_enabled(const struct lp_logger *lg, enum lp_log_level level)
{
	return lg != NULL && lg->fn != NULL && level <= lg->level;
}

/*
 * Rate limiter for logs of untrusted input: allows `burst` messages, then
 * one per `interval_ns`; counts what it suppressed so the next allowed line
 * can say how many were skipped.
 */
struct lp_log_ratelimit {
	uint64_t interval_ns;
	uint64_t last_ns;
	uint32_t burst;
	uint32_t tokens;
	uint64_t suppressed;
};

void lp_log_ratelimit_init(struct lp_log_ratelimit *rl, uint32_t burst, uint64_t interval_ns);
/* 1 if a line may be logged now (and *suppressed gets the skipped count), 0 otherwise. */
int lp_log_ratelimit_ok(struct lp_log_ratelimit *rl, uint64_t now_ns, uint64_t *suppressed);

/* snprintf into a fixed buffer; LP_ERR_NOBUF when the text did not fit. */
int lp_strlcpy_checked(char *dst, size_t cap, const char *src) LP_WUR;

#endif /* LP_BASE_H */
