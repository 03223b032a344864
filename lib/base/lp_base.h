/*
 * lp_base.h - plumbing shared by every softlan-vpn library: error codes, the
 * bounds-checked wire cursor, monotonic time, the injected log callback and
 * two intrusive containers (a binary heap and a doubly-linked list).
 *
 * Libraries never print and never exit. They return 0 (or a byte count) on
 * success and a negative LP_ERR_* on failure, and report diagnostics through
 * a struct lp_logger that the binary injects.
 */
#ifndef LP_BASE_H
#define LP_BASE_H

#include <stdarg.h>
#include <stdbool.h>
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
	LP_ERR_AUTH = -49,           /* signature, tag or room id does not verify */
	LP_ERR_CRYPTO = -50,         /* crypto backend or random source failed */
	LP_ERR_JSON_LIMIT = -51,     /* JSON exceeds a size, depth or element cap */
	LP_ERR__MIN = -52
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
/* Nanoseconds from `then` to `now`; 0 when `now` is the earlier reading (a
 * caller's older clock value is no time at all, not an unsigned wrap). */
static inline uint64_t lp_ns_since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

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

/* The value of a hex digit (either case), or -1 when c is none. */
int lp_hex_val(char c) LP_WUR;

/* snprintf into a fixed buffer; LP_ERR_NOBUF when the text did not fit. */
int lp_strlcpy_checked(char *dst, size_t cap, const char *src) LP_WUR;

/* UTF-8 (RFC 3629: no overlong forms, surrogates or code points above
 * U+10FFFF). lp_utf8_seq: the length (1..4) of the valid sequence at s,
 * which has left >= 1 bytes, or 0 when none starts there. */
size_t lp_utf8_seq(const uint8_t *s, size_t left) LP_WUR;
bool lp_utf8_valid(const char *s, size_t len) LP_WUR;

/*
 * Writes a file atomically: len bytes of data into a new temporary file
 * beside path, created owner-only (mode 0600 on POSIX, under a name nobody
 * could plant), flushed to disk, then moved onto path, so a crash leaves
 * the old file or the new one, never a partial one. Replaces path unless
 * flags has LP_FILE_NOREPLACE: then an existing path (also one another
 * process created meanwhile) is kept and the call returns 1. Returns 0, 1
 * or LP_ERR_IO with errno kept; the temporary is gone either way.
 */
#define LP_FILE_NOREPLACE 1u
int lp_file_write_atomic(const char *path, const void *data, size_t len, unsigned flags) LP_WUR;

/* Fills buf with len bytes from the OS CSPRNG (getrandom, BCryptGenRandom).
 * 0, LP_ERR_IO or LP_ERR_INVAL (len too large for the OS call). */
int lp_os_random(void *buf, size_t len) LP_WUR;

/*
 * SipHash-2-4 of in[0..len) under the 128-bit key (k0, k1). For hash tables
 * keyed by bytes a remote peer chooses (connection IDs, MAC addresses):
 * with a random key per process, the peer cannot predict which keys
 * collide, so it cannot build long chains.
 */
uint64_t lp_siphash24(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len);

/* The struct of type `type` whose member `member` is at ptr. Like the
 * kernel's container_of it does not carry const: pass a const type when
 * ptr is const. */
#define LP_CONTAINER_OF(ptr, type, member)                                                         \
	((type *)(uintptr_t)((const char *)(ptr)-offsetof(type, member)))

/*
 * Binary min-heap of intrusive entries (the spirit of ngtcp2_pq): the
 * caller embeds a struct lp_heap_entry in each object and owns its storage;
 * the heap only holds pointers, so a push allocates only when the array
 * must grow (never once it reached the largest size seen; lp_heap_reserve
 * grows it up front). Each entry knows its index, so removing or re-keying
 * an entry anywhere in the heap is O(log n).
 *
 * `less` orders two entries; ties are the caller's business (add a
 * sequence number to the key for a stable order). Zeroed storage is a
 * valid unqueued entry. One thread; an entry is in at most one heap.
 */
struct lp_heap_entry {
	size_t slot; /* index + 1; 0: not queued */
};

typedef bool (*lp_heap_less_fn)(const struct lp_heap_entry *a, const struct lp_heap_entry *b);

struct lp_heap {
	struct lp_heap_entry **q;
	size_t len, cap;
	lp_heap_less_fn less;
};

void lp_heap_init(struct lp_heap *h, lp_heap_less_fn less);
/* Frees the array; entries are only forgotten (their storage is the
 * caller's, and they still read as queued). Accepts NULL. */
void lp_heap_free(struct lp_heap *h);
/* Grows the array to hold n entries. Errors: LP_ERR_NOMEM. */
int lp_heap_reserve(struct lp_heap *h, size_t n) LP_WUR;
/* Queues e (which must not be queued). Errors: LP_ERR_NOMEM (h unchanged). */
int lp_heap_push(struct lp_heap *h, struct lp_heap_entry *e) LP_WUR;
/* Removes e (which must be queued in h). */
void lp_heap_remove(struct lp_heap *h, struct lp_heap_entry *e);
/* Restores the order after the key of queued entry e changed; never fails. */
void lp_heap_update(struct lp_heap *h, struct lp_heap_entry *e);

/* The smallest entry, or NULL when the heap is empty. */
static inline struct lp_heap_entry *lp_heap_top(const struct lp_heap *h)
{
	return h->len > 0 ? h->q[0] : NULL;
}

static inline size_t lp_heap_len(const struct lp_heap *h)
{
	return h->len;
}

static inline bool lp_heap_queued(const struct lp_heap_entry *e)
{
	return e->slot != 0;
}

/*
 * Intrusive circular doubly-linked list (OpenBSD TAILQ's use, with a
 * sentinel head so insert and remove have no special cases). Embed a
 * struct lp_list_node per list an object can be on; zeroed storage is an
 * unlinked node. No allocation, nothing can fail.
 */
struct lp_list_node {
	struct lp_list_node *next, *prev; /* NULL: not on a list */
};

struct lp_list {
	struct lp_list_node head;
};

static inline void lp_list_init(struct lp_list *l)
{
	l->head.next = l->head.prev = &l->head;
}

static inline bool lp_list_empty(const struct lp_list *l)
{
	return l->head.next == &l->head;
}

static inline bool lp_list_linked(const struct lp_list_node *n)
{
	return n->next != NULL;
}

static inline void lp_list_insert_before(struct lp_list_node *at, struct lp_list_node *n)
{
	n->next = at;
	n->prev = at->prev;
	at->prev->next = n;
	at->prev = n;
}

static inline void lp_list_insert_tail(struct lp_list *l, struct lp_list_node *n)
{
	lp_list_insert_before(&l->head, n);
}

static inline void lp_list_insert_head(struct lp_list *l, struct lp_list_node *n)
{
	lp_list_insert_before(l->head.next, n);
}

/* Unlinks n (which must be linked) and marks it unlinked. */
static inline void lp_list_remove(struct lp_list_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = NULL;
}

/* Moves every node of src to the end of dst; src ends up empty. */
static inline void lp_list_splice_tail(struct lp_list *dst, struct lp_list *src)
{
	if (lp_list_empty(src))
		return;
	src->head.next->prev = dst->head.prev;
	dst->head.prev->next = src->head.next;
	src->head.prev->next = &dst->head;
	dst->head.prev = src->head.prev;
	lp_list_init(src);
}

/* The first node, or NULL when empty. */
static inline struct lp_list_node *lp_list_first(const struct lp_list *l)
{
	return lp_list_empty(l) ? NULL : l->head.next;
}

/* The node after n on l, or NULL at the end. */
static inline struct lp_list_node *lp_list_next(const struct lp_list *l,
                                                const struct lp_list_node *n)
{
	return n->next == &l->head ? NULL : n->next;
}

/* Visits every node; the body may unlink `n` itself (tmp holds the next). */
#define LP_LIST_FOREACH_SAFE(n, tmp, l)                                                            \
	for ((n) = (l)->head.next, (tmp) = (n)->next; (n) != &(l)->head;                           \
	     (n) = (tmp), (tmp) = (n)->next)

#endif /* LP_BASE_H */
