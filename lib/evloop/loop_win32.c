/*
 * loop_win32.c - the Windows backend of lp_loop.h: WaitForMultipleObjects
 * over the watched handles, the timeout rounded up to whole milliseconds.
 *
 * A socket source is watched through a WSAEventSelect event owned here
 * (FD_READ | FD_WRITE | FD_CLOSE). That event is manual-reset:
 * WSAEnumNetworkEvents clears it, and winsock sets it again after a
 * recvfrom that leaves data queued, so a reader that drains a bounded number
 * of datagrams per wake-up never loses one; LP_LOOP_READ is therefore
 * reported on every wake-up of a socket watched for reading. Winsock records
 * FD_WRITE once at the start and then only after a send failed with
 * WSAEWOULDBLOCK; a recorded FD_WRITE is kept until the watcher asks for
 * LP_LOOP_WRITE, so asking late still sees it (close to epoll's level).
 *
 * Signals come from a console control handler, which runs on a thread of
 * its own: it only records the event and sets sig_event, which the loop
 * watches. The handler and its events are process-wide and stay for the
 * life of the process (a handler still running must never see them closed).
 */
#include <winsock2.h>
#include <windows.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "loop_int.h"

/* For the close events Windows ends the process about 5 s after the handler
 * was called; leave most of it to the owner's cleanup. */
#define CLOSE_GRACE_MS 4000
#define SIG_BIT(signo) ((signo) == SIGINT ? 1L : 2L)

struct watcher {
	intptr_t src;
	HANDLE h;    /* what the wait watches: src, or the socket's event */
	SOCKET sock; /* INVALID_SOCKET: src is a plain handle */
	lp_loop_src_fn fn;
	void *arg;
	unsigned events;
	uint64_t gen; /* changes when the slot is reused: stale snapshots skip it */
	bool live;
	bool write_seen; /* FD_WRITE recorded, not yet reported */
};

struct sig_watcher {
	lp_loop_signal_fn fn;
	void *arg;
};

struct lp_loop_be {
	struct watcher w[LP_LOOP_WATCH_MAX];
	size_t nw; /* slots in use, live or waiting for compaction */
	uint64_t next_gen;
	bool dispatching;         /* removed watchers are compacted only between iterations */
	bool signals;             /* this loop owns the console handler */
	struct sig_watcher sw[2]; /* [0] SIGINT, [1] SIGTERM */
	/* What the last wait found: the snapshot and the index it named. */
	HANDLE hs[LP_LOOP_WATCH_MAX + 1];
	uint64_t gens[LP_LOOP_WATCH_MAX + 1];
	DWORD n, r;
};

static HANDLE sig_event;       /* set by the handler */
static HANDLE sig_done;        /* set by lp_loop_del: a close handler may return */
static volatile LONG sig_want; /* SIG_BIT of the signals the owner takes */
static volatile LONG sig_seen; /* SIG_BIT of the signals not yet delivered */
static struct lp_loop_be *sig_owner;

static BOOL WINAPI on_console(DWORD type);

int lp_loop_be_new(struct lp_loop_be **out)
{
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? 0 : LP_ERR_NOMEM;
}

void lp_loop_be_del(struct lp_loop_be *be)
{
	if (be == NULL)
		return;
	if (be->signals) {
		InterlockedExchange(&sig_want, 0);
		SetEvent(sig_done); /* a waiting close handler returns now */
		SetConsoleCtrlHandler(on_console, FALSE);
		sig_owner = NULL;
	}
	for (size_t i = 0; i < be->nw; i++) {
		if (be->w[i].live && be->w[i].sock != INVALID_SOCKET) {
			WSAEventSelect(be->w[i].sock, NULL, 0);
			WSACloseEvent(be->w[i].h);
		}
	}
	free(be);
}

/* ---- sources ---------------------------------------------------------------- */

static void compact(struct lp_loop_be *be)
{
	size_t i, j = 0;

	for (i = 0; i < be->nw; i++)
		if (be->w[i].live)
			be->w[j++] = be->w[i];
	be->nw = j;
}

static struct watcher *find(struct lp_loop_be *be, intptr_t src)
{
	for (size_t i = 0; i < be->nw; i++)
		if (be->w[i].live && be->w[i].src == src)
			return &be->w[i];
	return NULL;
}

static bool is_socket(intptr_t src)
{
	int type, len = (int)sizeof(type);

	/* WSAENOTSOCK (or WSANOTINITIALISED: then it cannot be a socket). */
	return getsockopt((SOCKET)src, SOL_SOCKET, SO_TYPE, (char *)&type, &len) == 0;
}

int lp_loop_watch(struct lp_loop *l, intptr_t src, unsigned events, lp_loop_src_fn fn, void *arg)
{
	struct lp_loop_be *be = l->be;
	struct watcher *w;

	if (src == 0 || src == (intptr_t)INVALID_HANDLE_VALUE || fn == NULL ||
	    (events & (LP_LOOP_READ | LP_LOOP_WRITE)) == 0 || find(be, src) != NULL)
		return LP_ERR_INVAL;
	if (be->nw == LP_LOOP_WATCH_MAX && !be->dispatching)
		compact(be);
	if (be->nw == LP_LOOP_WATCH_MAX)
		return LP_ERR_NOBUF;
	w = &be->w[be->nw];
	memset(w, 0, sizeof(*w));
	w->src = src;
	w->h = (HANDLE)src;
	w->sock = INVALID_SOCKET;
	if (is_socket(src)) {
		w->sock = (SOCKET)src;
		w->h = WSACreateEvent();
		if (w->h == WSA_INVALID_EVENT)
			return LP_ERR_IO;
		if (WSAEventSelect(w->sock, w->h, FD_READ | FD_WRITE | FD_CLOSE) == SOCKET_ERROR) {
			int err = WSAGetLastError();

			WSACloseEvent(w->h);
			WSASetLastError(err);
			return LP_ERR_IO;
		}
	}
	w->fn = fn;
	w->arg = arg;
	w->events = events;
	w->gen = ++be->next_gen;
	w->live = true;
	be->nw++;
	return 0;
}

int lp_loop_watch_mod(struct lp_loop *l, intptr_t src, unsigned events)
{
	struct watcher *w = find(l->be, src);

	if (w == NULL)
		return LP_ERR_NOT_FOUND;
	/* A write-ready recorded earlier: wake the next wait to report it. */
	if ((events & LP_LOOP_WRITE) && !(w->events & LP_LOOP_WRITE) && w->write_seen)
		WSASetEvent(w->h);
	w->events = events;
	return 0;
}

void lp_loop_unwatch(struct lp_loop *l, intptr_t src)
{
	struct lp_loop_be *be = l->be;
	struct watcher *w = find(be, src);

	if (w == NULL)
		return;
	if (w->sock != INVALID_SOCKET) {
		WSAEventSelect(w->sock, NULL, 0);
		WSACloseEvent(w->h);
	}
	w->live = false;
	if (!be->dispatching)
		compact(be);
}

/* ---- signals ---------------------------------------------------------------- */

static BOOL WINAPI on_console(DWORD type)
{
	LONG bit = type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT ? SIG_BIT(SIGINT)
	                                                            : SIG_BIT(SIGTERM);

	if ((InterlockedCompareExchange(&sig_want, 0, 0) & bit) == 0)
		return FALSE; /* not taken: the next handler (the default) decides */
	InterlockedOr(&sig_seen, bit);
	SetEvent(sig_event);
	if (bit == SIG_BIT(SIGTERM))
		WaitForSingleObject(sig_done, CLOSE_GRACE_MS);
	return TRUE;
}

int lp_loop_signal_add(struct lp_loop *l, int signo, lp_loop_signal_fn fn, void *arg)
{
	struct lp_loop_be *be = l->be;
	struct sig_watcher *sw;

	if (fn == NULL || (signo != SIGINT && signo != SIGTERM) ||
	    (sig_owner != NULL && sig_owner != be))
		return LP_ERR_INVAL;
	sw = &be->sw[signo == SIGINT ? 0 : 1];
	if (sw->fn != NULL)
		return LP_ERR_INVAL;
	if (sig_event == NULL)
		sig_event = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (sig_done == NULL)
		sig_done = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (sig_event == NULL || sig_done == NULL)
		return LP_ERR_IO;
	if (!be->signals) {
		ResetEvent(sig_done);
		if (!SetConsoleCtrlHandler(on_console, TRUE))
			return LP_ERR_IO;
		be->signals = true;
		sig_owner = be;
	}
	sw->fn = fn;
	sw->arg = arg;
	InterlockedOr(&sig_want, SIG_BIT(signo));
	return 0;
}

static int dispatch_signals(struct lp_loop *l)
{
	struct lp_loop_be *be = l->be;
	LONG seen;
	int ran = 0;

	ResetEvent(sig_event);
	seen = InterlockedExchange(&sig_seen, 0);
	if ((seen & SIG_BIT(SIGINT)) && be->sw[0].fn != NULL) {
		be->sw[0].fn(l, SIGINT, be->sw[0].arg);
		ran++;
	}
	if ((seen & SIG_BIT(SIGTERM)) && be->sw[1].fn != NULL) {
		be->sw[1].fn(l, SIGTERM, be->sw[1].arg);
		ran++;
	}
	return ran;
}

/* ---- wait and dispatch ------------------------------------------------------ */

/* Milliseconds to wait for a deadline ns_left away, rounded up and capped
 * below INFINITE. */
static DWORD wait_ms(uint64_t ns_left)
{
	uint64_t ms = ns_left / LP_NS_PER_MS + (ns_left % LP_NS_PER_MS != 0);

	/* INFINITE is 0xffffffff; stay one below so a far deadline still ends. */
	return ms >= INFINITE ? INFINITE - 1 : (DWORD)ms;
}

int lp_loop_be_wait(struct lp_loop *l, uint64_t deadline)
{
	struct lp_loop_be *be = l->be;
	uint64_t now = lp_now_ns();
	DWORD ms, n = 0, r;

	compact(be);
	be->n = 0;
	if (be->signals) {
		be->hs[n] = sig_event;
		be->gens[n++] = 0;
	}
	for (size_t i = 0; i < be->nw; i++) {
		if (be->w[i].events == 0)
			continue;
		be->hs[n] = be->w[i].h;
		be->gens[n++] = be->w[i].gen;
	}
	ms = deadline == UINT64_MAX ? INFINITE : wait_ms(deadline <= now ? 0 : deadline - now);
	if (n == 0) {
		if (ms == INFINITE)
			return LP_ERR_INVAL; /* nothing could ever wake us */
		Sleep(ms);
		return 0;
	}
	r = WaitForMultipleObjects(n, be->hs, FALSE, ms);
	if (r == WAIT_FAILED)
		return LP_ERR_IO;
	be->n = n;
	be->r = r;
	return 0;
}

/* Runs the callback of socket watcher w after its event fired. */
static int dispatch_socket(struct lp_loop *l, struct watcher *w)
{
	WSANETWORKEVENTS ne;
	unsigned revents = 0;

	memset(&ne, 0, sizeof(ne));
	if (WSAEnumNetworkEvents(w->sock, w->h, &ne) == SOCKET_ERROR)
		WSAResetEvent(w->h);
	if (ne.lNetworkEvents & FD_WRITE)
		w->write_seen = true;
	if (w->events & LP_LOOP_READ)
		revents |= LP_LOOP_READ;
	if ((w->events & LP_LOOP_WRITE) && w->write_seen) {
		revents |= LP_LOOP_WRITE;
		w->write_seen = false;
	}
	if ((ne.lNetworkEvents & FD_CLOSE) || ne.iErrorCode[FD_READ_BIT] != 0)
		revents |= LP_LOOP_ERROR;
	if (revents == 0)
		return 0;
	w->fn(l, w->src, revents, w->arg);
	return 1;
}

/* Runs the callback of snapshot entry i if its watcher still exists. */
static int dispatch(struct lp_loop *l, size_t i)
{
	struct lp_loop_be *be = l->be;

	if (be->gens[i] == 0)
		return dispatch_signals(l);
	for (size_t k = 0; k < be->nw; k++) {
		struct watcher *w = &be->w[k];

		if (!w->live || w->h != be->hs[i] || w->gen != be->gens[i])
			continue;
		if (w->sock != INVALID_SOCKET)
			return dispatch_socket(l, w);
		w->fn(l, w->src, LP_LOOP_READ, w->arg);
		return 1;
	}
	return 0;
}

int lp_loop_be_dispatch(struct lp_loop *l)
{
	struct lp_loop_be *be = l->be;
	size_t i, first;
	int ran = 0;

	/* WAIT_OBJECT_0 is 0: r < n means "handle r was signaled". */
	if (be->r >= WAIT_OBJECT_0 + be->n)
		return 0;
	be->dispatching = true;
	first = (size_t)(be->r - WAIT_OBJECT_0);
	ran += dispatch(l, first);
	/* WaitForMultipleObjects names only the lowest signaled index: poll the
	 * rest so a busy handle early in the array cannot starve them. */
	for (i = first + 1; i < be->n; i++)
		if (WaitForSingleObject(be->hs[i], 0) == WAIT_OBJECT_0)
			ran += dispatch(l, i);
	be->dispatching = false;
	be->n = 0;
	compact(be);
	return ran;
}
