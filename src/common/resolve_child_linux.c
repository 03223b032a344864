/*
 * resolve_child_linux.c - the relay's lookup in an unprivileged child and
 * the record it answers with (see resolve_child.h).
 */
#include "resolve_child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "privdrop.h"

#define RECORD_VERSION 1
#define FAMILY_V4 4
#define FAMILY_V6 6

/* The lookup's outcome on the wire: a closed set, so an unknown value is
 * a malformed record rather than an error code passed through. */
enum status { ST_OK = 0, ST_PERM, ST_AGAIN, ST_NOMEM, ST_IO, ST_PRIVDROP, ST__COUNT };

static const int status_err[ST__COUNT] = {
	[ST_OK] = 0,
	[ST_PERM] = LP_ERR_RESOLVE_PERM,
	[ST_AGAIN] = LP_ERR_RESOLVE_AGAIN,
	[ST_NOMEM] = LP_ERR_NOMEM,
	[ST_IO] = LP_ERR_IO,
	[ST_PRIVDROP] = LP_ERR_PERM,
};

static uint8_t status_of(int rc)
{
	for (uint8_t s = 0; s < ST__COUNT; s++)
		if (status_err[s] == rc)
			return s;
	return ST_IO;
}

void lp_resolve_record_encode(int rc, const struct sockaddr_storage *addrs, size_t n,
                              uint8_t rec[LP_RESOLVE_RECORD_LEN])
{
	uint8_t *e = rec + 4;
	size_t k = 0;

	memset(rec, 0, LP_RESOLVE_RECORD_LEN);
	for (size_t i = 0; rc == 0 && i < n && k < LP_RESOLVE_RECORD_ADDRS; i++) {
		if (addrs[i].ss_family == AF_INET) {
			struct sockaddr_in sin;

			memcpy(&sin, &addrs[i], sizeof(sin));
			e[0] = FAMILY_V4;
			memcpy(&e[2], &sin.sin_port, 2); /* already network order */
			memcpy(&e[8], &sin.sin_addr, 4);
		} else if (addrs[i].ss_family == AF_INET6) {
			struct sockaddr_in6 sin6;

			memcpy(&sin6, &addrs[i], sizeof(sin6));
			e[0] = FAMILY_V6;
			memcpy(&e[2], &sin6.sin6_port, 2);
			lp_put_u32(&e[4], sin6.sin6_scope_id);
			memcpy(&e[8], &sin6.sin6_addr, 16);
		} else {
			continue;
		}
		e += LP_RESOLVE_ENTRY_LEN;
		k++;
	}
	if (rc == 0 && k == 0)
		rc = LP_ERR_RESOLVE_PERM;
	rec[0] = RECORD_VERSION;
	rec[1] = status_of(rc);
	rec[2] = (uint8_t)k;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

/* One entry into *ss; LP_ERR_FIELD_RANGE when it breaks a rule. */
static int entry_decode(struct lp_buf *b, uint16_t port, struct sockaddr_storage *ss)
{
	const uint8_t *addr;
	uint8_t family = lp_buf_u8(b), pad = lp_buf_u8(b);
	uint16_t p = lp_buf_u16(b);
	uint32_t scope = lp_buf_u32(b);

	lp_buf_bytes(b, &addr, 16);
	if (b->err != 0)
		return b->err;
	if (pad != 0 || p != port)
		return LP_ERR_FIELD_RANGE;
	memset(ss, 0, sizeof(*ss));
	if (family == FAMILY_V4) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(p) };

		if (scope != 0 || !all_zero(addr + 4, 12))
			return LP_ERR_FIELD_RANGE;
		memcpy(&sin.sin_addr, addr, 4);
		memcpy(ss, &sin, sizeof(sin));
		return 0;
	}
	if (family == FAMILY_V6) {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(p) };

		sin6.sin6_scope_id = scope;
		memcpy(&sin6.sin6_addr, addr, 16);
		memcpy(ss, &sin6, sizeof(sin6));
		return 0;
	}
	return LP_ERR_FIELD_RANGE;
}

int lp_resolve_record_decode(const uint8_t *rec, size_t len, uint16_t port,
                             struct sockaddr_storage *out, size_t max, size_t *n)
{
	struct sockaddr_storage tmp;
	const uint8_t *unused;
	struct lp_buf b;
	uint8_t version, status, count, pad;
	size_t k = 0, rest;
	int rc;

	if (rec == NULL || out == NULL || n == NULL || max == 0)
		return LP_ERR_INVAL;
	*n = 0;
	if (len < LP_RESOLVE_RECORD_LEN)
		return LP_ERR_TRUNCATED;
	if (len > LP_RESOLVE_RECORD_LEN)
		return LP_ERR_TRAILING;
	lp_buf_init(&b, rec, len);
	version = lp_buf_u8(&b);
	status = lp_buf_u8(&b);
	count = lp_buf_u8(&b);
	pad = lp_buf_u8(&b);
	if (b.err != 0)
		return b.err;
	if (version != RECORD_VERSION)
		return LP_ERR_VERSION;
	if (status >= ST__COUNT || pad != 0 || count > LP_RESOLVE_RECORD_ADDRS ||
	    (status == ST_OK) != (count > 0))
		return LP_ERR_FIELD_RANGE;
	for (uint8_t i = 0; i < count; i++) {
		rc = entry_decode(&b, port, k < max ? &out[k] : &tmp);
		if (rc < 0)
			return rc;
		if (k < max)
			k++;
	}
	/* The entries past count, all zero: nothing hides in the record. */
	rest = lp_buf_left(&b);
	lp_buf_bytes(&b, &unused, rest);
	if (b.err != 0 || !all_zero(unused, rest))
		return LP_ERR_FIELD_RANGE;
	if (status != ST_OK)
		return status_err[status];
	*n = k;
	return 0;
}

static void write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		len -= (size_t)w;
	}
}

/* The child: drop, look up, answer, exit. Never returns. */
static void child_run(int wfd, const struct lp_net_endpoint *ep, const char *user, lp_resolve_fn fn)
{
	struct sockaddr_storage addrs[LP_RESOLVE_RECORD_ADDRS];
	uint8_t rec[LP_RESOLVE_RECORD_LEN];
	sigset_t none;
	size_t n = 0;
	int rc;

	/* The parent blocks its stop signals (it reads them from a signalfd);
	 * a stop sent to the process group must end the lookup too. */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	rc = lp_privdrop(user, 0);
	if (rc == 0)
		rc = fn(ep, addrs, LP_RESOLVE_RECORD_ADDRS, &n);
	else
		rc = LP_ERR_PERM;
	lp_resolve_record_encode(rc, addrs, n, rec);
	write_all(wfd, rec, sizeof(rec));
	_exit(0);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reads the child's answer: up to one byte more than a record (so a
 * longer one is seen), until EOF or the deadline. Returns the length
 * read, or LP_ERR_TIMEOUT / LP_ERR_IO. */
static ssize_t read_record(int fd, uint8_t *buf, size_t cap)
{
	uint64_t end = now_ms() + LP_RESOLVE_CHILD_TIMEOUT_MS;
	size_t got = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = now_ms();
		ssize_t r;
		int pr;

		if (now >= end)
			return LP_ERR_TIMEOUT;
		pr = poll(&pfd, 1, (int)(end - now));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return LP_ERR_IO;
		if (pr == 0)
			continue;
		r = read(fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return LP_ERR_IO;
		if (r == 0 || (got += (size_t)r) == cap)
			return (ssize_t)got;
	}
}

static void logf_child(const struct lp_logger *log, const char *what, int status)
{
	if (WIFSIGNALED(status))
		lp_log(log, LP_LOG_ERROR,
		       "relay lookup: %s (the resolver process died of signal %d)", what,
		       WTERMSIG(status));
	else
		lp_log(log, LP_LOG_ERROR, "relay lookup: %s (the resolver process exited with %d)",
		       what, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int lp_resolve_child(const struct lp_net_endpoint *ep, const char *user, lp_resolve_fn fn,
                     const struct lp_logger *log, struct sockaddr_storage *out, size_t max,
                     size_t *n)
{
	uint8_t buf[LP_RESOLVE_RECORD_LEN + 1];
	int fds[2] = { -1, -1 };
	pid_t pid = -1;
	ssize_t len;
	int rc, status = 0;

	if (ep == NULL || out == NULL || n == NULL || max == 0)
		return LP_ERR_INVAL;
	*n = 0;
	if (fn == NULL)
		fn = lp_net_resolve;
	if (max > LP_RESOLVE_RECORD_ADDRS)
		max = LP_RESOLVE_RECORD_ADDRS;
	if (!lp_privdrop_privileged())
		return fn(ep, out, max, n);

	if (pipe2(fds, O_CLOEXEC) < 0) {
		rc = LP_ERR_IO;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = LP_ERR_IO;
		goto out;
	}
	if (pid == 0) {
		close(fds[0]);
		child_run(fds[1], ep, user, fn);
	}
	close(fds[1]);
	fds[1] = -1;
	len = read_record(fds[0], buf, sizeof(buf));
	if (len == LP_ERR_TIMEOUT) {
		lp_log(log, LP_LOG_WARN, "relay lookup: no answer within %d s, giving up on it",
		       LP_RESOLVE_CHILD_TIMEOUT_MS / 1000);
		(void)kill(pid, SIGKILL);
		rc = LP_ERR_RESOLVE_AGAIN;
		goto out;
	}
	/* The answer is complete at EOF: reap first, so a child that died
	 * half-way is reported as such. */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (len < 0) {
		rc = LP_ERR_IO;
		lp_log(log, LP_LOG_ERROR, "relay lookup: cannot read the resolver's answer");
		goto out;
	}
	if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM)) {
		/* A stop sent to the process group: temporary, so the caller's
		 * wait sees the stop request and ends the run quietly. */
		rc = LP_ERR_RESOLVE_AGAIN;
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = LP_ERR_IO;
		logf_child(log, "no answer", status);
		goto out;
	}
	rc = lp_resolve_record_decode(buf, (size_t)len, ep->port, out, max, n);
	if (rc == LP_ERR_PERM)
		lp_log(log, LP_LOG_ERROR,
		       "relay lookup: the resolver process could not drop privileges to %s",
		       user != NULL ? user : LP_PRIVDROP_DEFAULT_USER);
	else if (rc == LP_ERR_TRUNCATED || rc == LP_ERR_TRAILING || rc == LP_ERR_VERSION ||
	         rc == LP_ERR_FIELD_RANGE) {
		lp_log(log, LP_LOG_ERROR,
		       "relay lookup: refusing the resolver's malformed answer (%zd bytes: %s)",
		       len, lp_strerror(rc));
		rc = LP_ERR_IO;
	}
out:
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return rc;
}
