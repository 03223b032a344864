/*
 * status_windows.c - the local status channel on Windows: one instance of
 * a named pipe whose DACL admits only the user the daemon runs as, SYSTEM
 * and Administrators; see lp_status.h.
 *
 * One reader at a time, on one overlapped pipe instance whose event the
 * loop watches: LISTEN (ConnectNamedPipe pending) -> WRITE (the document)
 * -> DRAIN (a read that ends when the reader closes its end) -> LISTEN.
 * Draining before DisconnectNamedPipe matters: a disconnect discards what
 * the reader has not read yet. The reader stops at the document's newline
 * and closes, so neither side waits for the other; a reader that stalls is
 * cut off after LP_STATUS_WRITE_TIMEOUT_NS. Others wait in WaitNamedPipe.
 */
#include <winsock2.h>
#include <windows.h>
#include <sddl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lp_loop.h"
#include "lp_status.h"

#define PIPE_PREFIX "\\\\.\\pipe\\"

enum pipe_state { ST_LISTEN, ST_WRITE, ST_DRAIN };

struct lp_status_server {
	struct lp_loop *loop;
	const struct lp_logger *log;
	struct lp_status_server_cfg cfg;
	char name[LP_STATUS_PATH_MAX];
	HANDLE pipe;
	OVERLAPPED ov;
	enum pipe_state st;
	bool watching;
	uint64_t refused;
	size_t len;
	uint8_t drain[16];
	struct lp_loop_timer timer;
	char doc[LP_STATUS_DOC_MAX];
};

static void listen_next(struct lp_status_server *s);

/* "D:P(A;;GA;;;<our user's SID>)(A;;GA;;;SY)(A;;GA;;;BA)": protected, so
 * nothing is inherited; everyone else is denied by omission. */
static int make_sd(PSECURITY_DESCRIPTOR *out)
{
	char *sid = NULL, sddl[256];
	union {
		TOKEN_USER tu;
		uint8_t buf[256];
	} u;
	HANDLE tok = NULL;
	DWORD got = 0;
	int rc = LP_ERR_IO;

	*out = NULL;
	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
		return LP_ERR_IO;
	if (!GetTokenInformation(tok, TokenUser, u.buf, sizeof(u.buf), &got) ||
	    !ConvertSidToStringSidA(u.tu.User.Sid, &sid))
		goto out;
	if (snprintf(sddl, sizeof(sddl), "D:P(A;;GA;;;%s)(A;;GA;;;SY)(A;;GA;;;BA)", sid) >=
	    (int)sizeof(sddl))
		goto out;
	if (ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, out, NULL))
		rc = 0;
out:
	LocalFree(sid);
	CloseHandle(tok);
	return rc;
}

static void reset_pipe(struct lp_status_server *s)
{
	lp_loop_timer_cancel(s->loop, &s->timer);
	DisconnectNamedPipe(s->pipe);
	listen_next(s);
}

static void start_drain(struct lp_status_server *s)
{
	s->st = ST_DRAIN;
	ResetEvent(s->ov.hEvent);
	/* Completes (with ERROR_BROKEN_PIPE) once the reader closed its end. */
	if (!ReadFile(s->pipe, s->drain, sizeof(s->drain), NULL, &s->ov) &&
	    GetLastError() != ERROR_IO_PENDING)
		reset_pipe(s);
}

static void serve(struct lp_status_server *s)
{
	ssize_t n = s->cfg.render(s->cfg.user, s->doc, sizeof(s->doc));

	if (n <= 0 || (size_t)n > sizeof(s->doc)) {
		lp_log(s->log, LP_LOG_WARN, "status: cannot render the document: %s",
		       lp_strerror(n < 0 ? (int)n : LP_ERR_NOBUF));
		reset_pipe(s);
		return;
	}
	s->len = (size_t)n;
	s->st = ST_WRITE;
	ResetEvent(s->ov.hEvent);
	if (lp_loop_timer_arm(s->loop, &s->timer,
	                      lp_loop_now(s->loop) + LP_STATUS_WRITE_TIMEOUT_NS) != 0) {
		reset_pipe(s);
		return;
	}
	if (!WriteFile(s->pipe, s->doc, (DWORD)s->len, NULL, &s->ov) &&
	    GetLastError() != ERROR_IO_PENDING)
		reset_pipe(s);
}

static void on_event(struct lp_loop *l, intptr_t src, unsigned events, void *arg)
{
	struct lp_status_server *s = arg;
	DWORD got = 0;
	BOOL ok;

	(void)l;
	(void)src;
	(void)events;
	ok = GetOverlappedResult(s->pipe, &s->ov, &got, FALSE);
	if (!ok && GetLastError() == ERROR_IO_INCOMPLETE)
		return;
	switch (s->st) {
	case ST_LISTEN:
		/* A reader that connected and left before we looked. */
		if (!ok && GetLastError() != ERROR_PIPE_CONNECTED) {
			reset_pipe(s);
			return;
		}
		serve(s);
		return;
	case ST_WRITE:
		if (!ok || got != s->len) {
			reset_pipe(s);
			return;
		}
		start_drain(s);
		return;
	case ST_DRAIN:
		/* The reader closed its end (or wrote something: ignored). */
		if (ok) {
			start_drain(s);
			return;
		}
		reset_pipe(s);
		return;
	}
}

static void on_timeout(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_status_server *s = arg;

	(void)l;
	(void)t;
	s->refused++;
	lp_log(s->log, LP_LOG_DEBUG, "status: a reader did not take its document in time");
	CancelIo(s->pipe);
	reset_pipe(s);
}

static void listen_next(struct lp_status_server *s)
{
	s->st = ST_LISTEN;
	ResetEvent(s->ov.hEvent);
	if (ConnectNamedPipe(s->pipe, &s->ov))
		SetEvent(s->ov.hEvent);
	else if (GetLastError() == ERROR_PIPE_CONNECTED)
		SetEvent(s->ov.hEvent); /* connected between create and connect */
	else if (GetLastError() != ERROR_IO_PENDING)
		lp_log(s->log, LP_LOG_WARN, "status: ConnectNamedPipe failed (error %lu)",
		       (unsigned long)GetLastError());
}

int lp_status_server_new(struct lp_loop *loop, const struct lp_status_server_cfg *cfg,
                         const struct lp_logger *log, struct lp_status_server **out)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, FALSE };
	struct lp_status_server *s = NULL;
	int rc;

	*out = NULL;
	if (cfg == NULL || cfg->render == NULL || cfg->path == NULL ||
	    strncmp(cfg->path, PIPE_PREFIX, strlen(PIPE_PREFIX)) != 0 ||
	    strlen(cfg->path) >= LP_STATUS_PATH_MAX)
		return LP_ERR_INVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return LP_ERR_NOMEM;
	s->loop = loop;
	s->log = log;
	s->cfg = *cfg;
	s->pipe = INVALID_HANDLE_VALUE;
	snprintf(s->name, sizeof(s->name), "%s", cfg->path);
	s->cfg.path = s->name;
	lp_loop_timer_init(&s->timer, on_timeout, s);
	rc = make_sd(&sd);
	if (rc != 0)
		goto fail;
	sa.lpSecurityDescriptor = sd;
	s->ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (s->ov.hEvent == NULL) {
		rc = LP_ERR_IO;
		goto fail;
	}
	/* One instance, and the first: a second daemon on the name fails. */
	s->pipe = CreateNamedPipeA(
	        s->name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
	        PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_REJECT_REMOTE_CLIENTS, 1,
	        LP_STATUS_DOC_MAX, 64, 0, &sa);
	if (s->pipe == INVALID_HANDLE_VALUE) {
		DWORD e = GetLastError();

		rc = e == ERROR_ACCESS_DENIED || e == ERROR_PIPE_BUSY ? LP_ERR_STATE : LP_ERR_IO;
		goto fail;
	}
	rc = lp_loop_watch(loop, (intptr_t)s->ov.hEvent, LP_LOOP_READ, on_event, s);
	if (rc != 0)
		goto fail;
	s->watching = true;
	listen_next(s);
	LocalFree(sd);
	*out = s;
	return 0;
fail:
	LocalFree(sd);
	lp_status_server_del(s);
	return rc;
}

uint64_t lp_status_server_refused(const struct lp_status_server *s)
{
	return s->refused;
}

void lp_status_server_del(struct lp_status_server *s)
{
	if (s == NULL)
		return;
	lp_loop_timer_cancel(s->loop, &s->timer);
	if (s->watching)
		lp_loop_unwatch(s->loop, (intptr_t)s->ov.hEvent);
	if (s->pipe != INVALID_HANDLE_VALUE) {
		CancelIo(s->pipe);
		DisconnectNamedPipe(s->pipe);
		CloseHandle(s->pipe);
	}
	if (s->ov.hEvent != NULL)
		CloseHandle(s->ov.hEvent);
	free(s);
}

int lp_status_default_path(const char *kind, const char *room, char *out, size_t cap)
{
	int n;

	if (kind == NULL || room == NULL || strpbrk(room, "\\/") != NULL)
		return LP_ERR_INVAL;
	n = snprintf(out, cap, PIPE_PREFIX "softlan-vpn-%s-%s", kind, room);
	return n < 0 || (size_t)n >= cap || (size_t)n >= LP_STATUS_PATH_MAX ? LP_ERR_NOBUF : 0;
}

int lp_status_find(const char *kind, char *out, size_t cap)
{
	char pattern[96], best[LP_STATUS_PATH_MAX] = "";
	WIN32_FIND_DATAA fd;
	HANDLE h;
	int count = 0;

	snprintf(pattern, sizeof(pattern), PIPE_PREFIX "softlan-vpn-%s-*", kind);
	h = FindFirstFileA(pattern, &fd);
	if (h == INVALID_HANDLE_VALUE)
		return 0; /* none (or a system that cannot list pipes) */
	do {
		char path[LP_STATUS_PATH_MAX];

		if (snprintf(path, sizeof(path), PIPE_PREFIX "%s", fd.cFileName) >=
		    (int)sizeof(path))
			continue;
		if (count == 0 || strcmp(path, best) < 0)
			snprintf(best, sizeof(best), "%s", path);
		count++;
	} while (FindNextFileA(h, &fd));
	FindClose(h);
	if (count > 0 && snprintf(out, cap, "%s", best) >= (int)cap)
		return LP_ERR_NOBUF;
	return count;
}

int lp_status_query(const char *path, uint64_t timeout_ns, char *buf, size_t cap, size_t *len)
{
	uint64_t deadline = lp_now_ns() + timeout_ns;
	HANDLE h = INVALID_HANDLE_VALUE;
	size_t have = 0;
	int rc = 0;

	*len = 0;
	if (buf == NULL || cap < 2 || path == NULL)
		return LP_ERR_INVAL;
	for (;;) {
		DWORD e, ms;

		h = CreateFileA(path, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
		if (h != INVALID_HANDLE_VALUE)
			break;
		e = GetLastError();
		if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
			return LP_ERR_NOT_FOUND;
		if (e == ERROR_ACCESS_DENIED)
			return LP_ERR_PERM;
		if (e != ERROR_PIPE_BUSY)
			return LP_ERR_IO;
		if (lp_now_ns() >= deadline)
			return LP_ERR_TIMEOUT;
		/* Another reader is being served: wait for the instance. */
		ms = (DWORD)((deadline - lp_now_ns()) / LP_NS_PER_MS) + 1;
		WaitNamedPipeA(path, ms);
	}
	/* Bounded without overlapped I/O: peek, and read only what is there. */
	while (have == 0 || buf[have - 1] != '\n') {
		DWORD avail = 0, got = 0;

		if (!PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL)) {
			rc = have > 0 ? 0 : LP_ERR_PERM; /* closed without a word */
			break;
		}
		if (avail == 0) {
			if (lp_now_ns() >= deadline) {
				rc = LP_ERR_TIMEOUT;
				break;
			}
			Sleep(5);
			continue;
		}
		if (have + 1 >= cap) {
			rc = LP_ERR_NOBUF;
			break;
		}
		if (avail > cap - 1 - have)
			avail = (DWORD)(cap - 1 - have);
		if (!ReadFile(h, buf + have, avail, &got, NULL) || got == 0) {
			rc = LP_ERR_IO;
			break;
		}
		have += got;
	}
	CloseHandle(h);
	if (rc != 0)
		return rc;
	buf[have] = '\0';
	*len = have;
	return 0;
}
