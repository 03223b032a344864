/*
 * test_winloop.c - the Windows backend of lib/evloop (loop.c with
 * loop_win32.c), run under Wine (meson's exe_wrapper) or on Windows: wait
 * rounding, timer order and re-arm rules, handle dispatch and fairness,
 * watcher removal from callbacks, sockets reported like epoll.
 *
 * Plain C with its own CHECK so it needs no cmocka for the Windows host.
 */
#include <winsock2.h>
#include <windows.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lp_loop.h"

static int failures;
static int checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* ---- timers ------------------------------------------------------------------ */

static char order[16];
static size_t norder;

struct tag {
	struct lp_loop_timer t;
	char name;
	struct lp_loop_timer *rearm; /* armed in the past from the callback */
};

static void on_tag(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct tag *g = arg;

	(void)t;
	if (norder < sizeof(order) - 1)
		order[norder++] = g->name;
	if (g->rearm != NULL)
		CHECK(lp_loop_timer_arm(l, g->rearm, 0) == 0);
}

static void test_timers(void)
{
	struct lp_loop *l = NULL;
	struct tag a = { .name = 'a' }, b = { .name = 'b' }, c = { .name = 'c' },
	           d = { .name = 'd' };
	uint64_t now = lp_now_ns(), t0;

	CHECK(lp_loop_new(&l) == 0);
	lp_loop_timer_init(&a.t, on_tag, &a);
	lp_loop_timer_init(&b.t, on_tag, &b);
	lp_loop_timer_init(&c.t, on_tag, &c);
	lp_loop_timer_init(&d.t, on_tag, &d);
	/* Due order b, a, c (a and c share a deadline: arm order decides). */
	CHECK(lp_loop_timer_arm(l, &a.t, now + 2 * LP_NS_PER_MS) == 0);
	CHECK(lp_loop_timer_arm(l, &b.t, now + 1 * LP_NS_PER_MS) == 0);
	CHECK(lp_loop_timer_arm(l, &c.t, now + 2 * LP_NS_PER_MS) == 0);
	CHECK(lp_loop_timer_arm(l, &d.t, now + 3 * LP_NS_PER_MS) == 0);
	lp_loop_timer_cancel(l, &d.t);
	CHECK(!lp_loop_timer_armed(&d.t));
	c.rearm = &d.t; /* armed in the past from c: next iteration, not this one */

	norder = 0;
	t0 = lp_now_ns();
	while (norder < 3)
		CHECK(lp_loop_run_once(l, 100 * LP_NS_PER_MS) >= 0);
	/* The wait rounds up: nothing fires before its deadline. */
	CHECK(lp_now_ns() >= now + 2 * LP_NS_PER_MS);
	CHECK(lp_now_ns() - t0 < 2 * LP_NS_PER_SEC);
	order[norder] = '\0';
	CHECK(strncmp(order, "bac", 3) == 0);
	CHECK(norder == 3);
	CHECK(lp_loop_timer_armed(&d.t));
	CHECK(lp_loop_run_once(l, 0) == 1);
	CHECK(norder == 4 && order[3] == 'd');
	CHECK(!lp_loop_timer_armed(&d.t));
	/* Nothing watched and nothing armed: an unbounded wait is refused. */
	CHECK(lp_loop_run_once(l, UINT64_MAX) == LP_ERR_INVAL);
	lp_loop_del(l);
}

/* ---- handles ----------------------------------------------------------------- */

struct watch {
	HANDLE ev;
	int calls;
	struct lp_loop *loop;
	struct watch *remove; /* watcher to remove from the callback */
	bool stop;
};

static void on_handle(struct lp_loop *l, intptr_t src, unsigned events, void *arg)
{
	struct watch *w = arg;
	HANDLE h = (HANDLE)src;

	CHECK(events == LP_LOOP_READ);
	CHECK(h == w->ev);
	w->calls++;
	ResetEvent(h);
	if (w->remove != NULL)
		lp_loop_unwatch(l, (intptr_t)w->remove->ev);
	if (w->stop)
		lp_loop_stop(l);
}

static void test_handles(void)
{
	struct lp_loop *l = NULL;
	struct watch x = { 0 }, y = { 0 };
	uint64_t t0;

	CHECK(lp_loop_new(&l) == 0);
	x.ev = CreateEventW(NULL, TRUE, FALSE, NULL);
	y.ev = CreateEventW(NULL, TRUE, FALSE, NULL);
	CHECK(lp_loop_watch(l, (intptr_t)x.ev, LP_LOOP_READ, on_handle, &x) == 0);
	CHECK(lp_loop_watch(l, (intptr_t)x.ev, LP_LOOP_READ, on_handle, &x) == LP_ERR_INVAL);
	CHECK(lp_loop_watch(l, (intptr_t)NULL, LP_LOOP_READ, on_handle, &x) == LP_ERR_INVAL);
	CHECK(lp_loop_watch(l, (intptr_t)INVALID_HANDLE_VALUE, LP_LOOP_READ, on_handle, &x) ==
	      LP_ERR_INVAL);
	CHECK(lp_loop_watch(l, (intptr_t)y.ev, LP_LOOP_READ, on_handle, &y) == 0);

	/* Nothing signaled: the bounded wait times out with no callback. */
	t0 = lp_now_ns();
	CHECK(lp_loop_run_once(l, 5 * LP_NS_PER_MS) == 0);
	CHECK(lp_now_ns() - t0 >= 5 * LP_NS_PER_MS);

	/* Both signaled: both run in one iteration, though the wait names only x. */
	SetEvent(x.ev);
	SetEvent(y.ev);
	CHECK(lp_loop_run_once(l, 1000 * LP_NS_PER_MS) == 2);
	CHECK(x.calls == 1 && y.calls == 1);

	/* x removes y while y is pending: y's signal is not delivered. */
	x.remove = &y;
	SetEvent(x.ev);
	SetEvent(y.ev);
	CHECK(lp_loop_run_once(l, 1000 * LP_NS_PER_MS) == 1);
	CHECK(x.calls == 2 && y.calls == 1);
	x.remove = NULL;
	/* y is gone: signaled, it no longer wakes the loop. */
	CHECK(lp_loop_run_once(l, 2 * LP_NS_PER_MS) == 0);
	CHECK(y.calls == 1);
	CHECK(lp_loop_watch(l, (intptr_t)y.ev, LP_LOOP_READ, on_handle, &y) ==
	      0); /* and can come back */
	CHECK(lp_loop_run_once(l, 1000 * LP_NS_PER_MS) == 1);
	CHECK(y.calls == 2);

	/* lp_loop_run returns once a callback stops it. */
	x.stop = true;
	SetEvent(x.ev);
	CHECK(lp_loop_run(l) == 0);
	CHECK(x.calls == 3);

	/* A closed watched handle makes the wait fail instead of spinning. */
	lp_loop_unwatch(l, (intptr_t)x.ev);
	CloseHandle(x.ev);
	CloseHandle(y.ev);
	CHECK(lp_loop_run_once(l, 10 * LP_NS_PER_MS) == LP_ERR_IO);
	lp_loop_del(l);
}

/* ---- sockets ----------------------------------------------------------------- */

struct sockw {
	SOCKET s;
	int reads, writes, bytes;
};

static void on_sock(struct lp_loop *l, intptr_t src, unsigned events, void *arg)
{
	struct sockw *w = arg;
	char b[64];
	int n;

	(void)l;
	CHECK((SOCKET)src == w->s);
	if (events & LP_LOOP_READ) {
		w->reads++;
		while ((n = recv(w->s, b, sizeof(b), 0)) > 0)
			w->bytes += n;
	}
	if (events & LP_LOOP_WRITE)
		w->writes++;
}

/* A SOCKET source is watched through the loop's own WSAEventSelect event
 * and reported with the epoll bits. */
static void test_sockets(void)
{
	struct lp_loop *l = NULL;
	struct sockw w = { INVALID_SOCKET, 0, 0, 0 };
	struct sockaddr_in a;
	int alen = (int)sizeof(a), i;
	SOCKET tx;
	WSADATA wsa;

	CHECK(WSAStartup(MAKEWORD(2, 2), &wsa) == 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	w.s = socket(AF_INET, SOCK_DGRAM, 0);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(w.s != INVALID_SOCKET && tx != INVALID_SOCKET);
	CHECK(bind(w.s, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(getsockname(w.s, (struct sockaddr *)&a, &alen) == 0);
	CHECK(lp_loop_new(&l) == 0);
	CHECK(lp_loop_watch(l, (intptr_t)w.s, LP_LOOP_READ, on_sock, &w) == 0);
	CHECK(lp_loop_watch(l, (intptr_t)w.s, LP_LOOP_READ, on_sock, &w) == LP_ERR_INVAL);

	/* Readable once a datagram arrives (drained by the callback). */
	CHECK(sendto(tx, "hello", 5, 0, (struct sockaddr *)&a, sizeof(a)) == 5);
	for (i = 0; i < 100 && w.bytes < 5; i++)
		CHECK(lp_loop_run_once(l, 100 * LP_NS_PER_MS) >= 0);
	CHECK(w.bytes == 5 && w.reads >= 1);
	CHECK(w.writes == 0); /* not asked for */

	/* Asked for later, the writability winsock recorded is still reported. */
	CHECK(lp_loop_watch_mod(l, (intptr_t)w.s, LP_LOOP_READ | LP_LOOP_WRITE) == 0);
	for (i = 0; i < 100 && w.writes == 0; i++)
		CHECK(lp_loop_run_once(l, 100 * LP_NS_PER_MS) >= 0);
	CHECK(w.writes == 1);
	CHECK(lp_loop_watch_mod(l, (intptr_t)w.s, LP_LOOP_READ) == 0);
	CHECK(lp_loop_watch_mod(l, (intptr_t)tx, LP_LOOP_READ) == LP_ERR_NOT_FOUND);

	/* Unwatched: a datagram no longer runs the callback. */
	lp_loop_unwatch(l, (intptr_t)w.s);
	i = w.reads;
	CHECK(sendto(tx, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)) == 1);
	CHECK(lp_loop_run_once(l, 20 * LP_NS_PER_MS) == 0);
	CHECK(w.reads == i);
	lp_loop_del(l);
	closesocket(tx);
	closesocket(w.s);
	WSACleanup();
}

/* ---- signals ----------------------------------------------------------------- */

static int got_signo;

static void on_signal(struct lp_loop *l, int signo, void *arg)
{
	(void)arg;
	got_signo = signo;
	lp_loop_stop(l);
}

/* Ctrl-C reaches the loop as SIGINT through the console handler. */
static void test_signals(void)
{
	struct lp_loop *l = NULL, *other = NULL;
	int i;

	CHECK(lp_loop_new(&l) == 0);
	CHECK(lp_loop_new(&other) == 0);
	CHECK(lp_loop_signal_add(l, SIGINT, on_signal, NULL) == 0);
	CHECK(lp_loop_signal_add(l, SIGINT, on_signal, NULL) == LP_ERR_INVAL);
	CHECK(lp_loop_signal_add(l, SIGTERM, on_signal, NULL) == 0);
	CHECK(lp_loop_signal_add(l, 99, on_signal, NULL) == LP_ERR_INVAL);
	/* One loop per process takes the console. */
	CHECK(lp_loop_signal_add(other, SIGINT, on_signal, NULL) == LP_ERR_INVAL);
	/* Nothing pending: a bounded wait runs nothing. */
	CHECK(lp_loop_run_once(l, 5 * LP_NS_PER_MS) == 0);
	/* Run without a console (meson's wine): make one to send Ctrl-C to. */
	if (!GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0) &&
	    !(FreeConsole(), AllocConsole() && GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0))) {
		printf("test_winloop: no console to send Ctrl-C to (error %lu), delivery not "
		       "checked\n",
		       (unsigned long)GetLastError());
	} else {
		for (i = 0; i < 100 && got_signo == 0; i++)
			CHECK(lp_loop_run_once(l, 20 * LP_NS_PER_MS) >= 0);
		CHECK(got_signo == SIGINT);
	}
	lp_loop_del(l);
	/* Given back: another loop may take the console now. */
	CHECK(lp_loop_signal_add(other, SIGINT, on_signal, NULL) == 0);
	lp_loop_del(other);
}

int main(void)
{
	test_timers();
	test_handles();
	test_sockets();
	test_signals();
	printf("test_winloop: %d checks, %d failures\n", checks, failures);
	return failures == 0 ? 0 : 1;
}
