/*
 * loop_epoll.c - the Linux backend of lp_loop.h: epoll over descriptors,
 * signals from one signalfd, nanosecond waits with epoll_pwait2().
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loop_int.h"

#define MAX_EVENTS 64
#define MAX_SIGNALS 8

/* epoll user data: generation << 32 | fd. Generation 0 marks the loop's own
 * descriptors; user watchers get a non-zero generation that changes on every
 * watch, so an event of a removed (and maybe re-added) fd is recognised as
 * stale within one batch. */
#define TAG(gen, fd) ((uint64_t)(gen) << 32 | (uint32_t)(fd))

struct watcher {
	lp_loop_src_fn fn;
	void *arg;
	unsigned events;
	uint32_t gen; /* 0: slot unused */
};

struct sig_watcher {
	int signo;
	lp_loop_signal_fn fn;
	void *arg;
};

struct lp_loop_be {
	int epfd;
	int sigfd; /* -1 until lp_loop_signal_add */
	int tfd;   /* -1 unless epoll_pwait2 is missing */
	struct watcher *w;
	size_t wcap;
	uint32_t gen;
	uint64_t tfd_deadline; /* what tfd is armed to; UINT64_MAX = disarmed */
	bool no_pwait2;
	sigset_t sigs;
	struct sig_watcher sw[MAX_SIGNALS];
	size_t nsig;
	struct epoll_event ev[MAX_EVENTS]; /* what the last wait found */
	int nev;
};

static uint32_t to_epoll(unsigned events)
{
	uint32_t e = 0;

	if (events & LP_LOOP_READ)
		e |= EPOLLIN;
	if (events & LP_LOOP_WRITE)
		e |= EPOLLOUT;
	return e;
}

static int ep_add(struct lp_loop_be *be, int fd, uint32_t ev, uint64_t tag)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.u64 = tag;
	return epoll_ctl(be->epfd, EPOLL_CTL_ADD, fd, &e) == 0 ? 0 : LP_ERR_IO;
}

int lp_loop_be_new(struct lp_loop_be **out)
{
	struct lp_loop_be *be;

	*out = NULL;
	be = calloc(1, sizeof(*be));
	if (be == NULL)
		return LP_ERR_NOMEM;
	be->sigfd = be->tfd = -1;
	be->tfd_deadline = UINT64_MAX;
	sigemptyset(&be->sigs);
	be->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (be->epfd < 0) {
		lp_loop_be_del(be);
		return LP_ERR_IO;
	}
	*out = be;
	return 0;
}

void lp_loop_be_del(struct lp_loop_be *be)
{
	int saved = errno;

	if (be == NULL)
		return;
	if (be->sigfd >= 0) {
		struct signalfd_siginfo si;

		/* Consume what is pending so unblocking does not deliver a
		 * signal whose default action may kill the process. */
		while (read(be->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			;
		sigprocmask(SIG_UNBLOCK, &be->sigs, NULL);
		close(be->sigfd);
	}
	if (be->tfd >= 0)
		close(be->tfd);
	if (be->epfd >= 0)
		close(be->epfd);
	free(be->w);
	free(be);
	errno = saved;
}

/* ---- sources ---------------------------------------------------------------- */

static struct watcher *find(struct lp_loop_be *be, intptr_t src)
{
	if (src < 0 || (uintptr_t)src >= be->wcap || be->w[src].gen == 0)
		return NULL;
	return &be->w[src];
}

int lp_loop_watch(struct lp_loop *l, intptr_t src, unsigned events, lp_loop_src_fn fn, void *arg)
{
	struct lp_loop_be *be = l->be;
	struct watcher *w;
	int fd = (int)src;

	if (src < 0 || src > INT32_MAX || fn == NULL ||
	    (events & (LP_LOOP_READ | LP_LOOP_WRITE)) == 0)
		return LP_ERR_INVAL;
	if ((size_t)fd >= be->wcap) {
		size_t ncap = be->wcap ? be->wcap : 64;
		struct watcher *nw;

		while (ncap <= (size_t)fd)
			ncap *= 2;
		nw = realloc(be->w, ncap * sizeof(*nw));
		if (nw == NULL)
			return LP_ERR_NOMEM;
		memset(nw + be->wcap, 0, (ncap - be->wcap) * sizeof(*nw));
		be->w = nw;
		be->wcap = ncap;
	}
	w = &be->w[fd];
	if (w->gen != 0)
		return LP_ERR_INVAL;
	if (++be->gen == 0)
		be->gen = 1;
	if (ep_add(be, fd, to_epoll(events), TAG(be->gen, fd)) != 0)
		return LP_ERR_IO;
	w->fn = fn;
	w->arg = arg;
	w->events = events;
	w->gen = be->gen;
	return 0;
}

int lp_loop_watch_mod(struct lp_loop *l, intptr_t src, unsigned events)
{
	struct watcher *w = find(l->be, src);
	struct epoll_event e;

	if (w == NULL)
		return LP_ERR_NOT_FOUND;
	if (w->events == events)
		return 0;
	memset(&e, 0, sizeof(e));
	e.events = to_epoll(events);
	e.data.u64 = TAG(w->gen, src);
	if (epoll_ctl(l->be->epfd, EPOLL_CTL_MOD, (int)src, &e) != 0)
		return LP_ERR_IO;
	w->events = events;
	return 0;
}

void lp_loop_unwatch(struct lp_loop *l, intptr_t src)
{
	struct watcher *w = find(l->be, src);

	if (w == NULL)
		return;
	/* Fails only if fd was already closed, which removed it anyway. */
	(void)epoll_ctl(l->be->epfd, EPOLL_CTL_DEL, (int)src, NULL);
	memset(w, 0, sizeof(*w));
}

/* ---- signals ---------------------------------------------------------------- */

int lp_loop_signal_add(struct lp_loop *l, int signo, lp_loop_signal_fn fn, void *arg)
{
	struct lp_loop_be *be = l->be;
	sigset_t one;
	int fd;

	if (fn == NULL || be->nsig == MAX_SIGNALS || signo <= 0 || signo >= NSIG ||
	    sigismember(&be->sigs, signo) == 1)
		return LP_ERR_INVAL;
	sigemptyset(&one);
	if (sigaddset(&one, signo) != 0)
		return LP_ERR_INVAL;
	if (sigprocmask(SIG_BLOCK, &one, NULL) != 0)
		return LP_ERR_IO;
	sigaddset(&be->sigs, signo);
	fd = signalfd(be->sigfd, &be->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (be->sigfd < 0) {
		be->sigfd = fd;
		if (ep_add(be, fd, EPOLLIN, TAG(0, fd)) != 0) {
			close(fd);
			be->sigfd = -1;
			goto fail;
		}
	}
	be->sw[be->nsig].signo = signo;
	be->sw[be->nsig].fn = fn;
	be->sw[be->nsig].arg = arg;
	be->nsig++;
	return 0;
fail:
	sigdelset(&be->sigs, signo);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	return LP_ERR_IO;
}

static int dispatch_signals(struct lp_loop *l)
{
	struct lp_loop_be *be = l->be;
	struct signalfd_siginfo si;
	int ran = 0;

	while (read(be->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (size_t i = 0; i < be->nsig; i++) {
			if (be->sw[i].signo == (int)si.ssi_signo) {
				be->sw[i].fn(l, be->sw[i].signo, be->sw[i].arg);
				ran++;
				break;
			}
		}
	}
	return ran;
}

/* ---- wait and dispatch ------------------------------------------------------ */

static int wait_events(struct lp_loop_be *be, uint64_t deadline)
{
	uint64_t now = lp_now_ns();
	int n;

	if (!be->no_pwait2) {
		struct timespec ts, *tsp = NULL;

		if (deadline != UINT64_MAX) {
			uint64_t d = deadline > now ? deadline - now : 0;

			ts.tv_sec = (time_t)(d / LP_NS_PER_SEC);
			ts.tv_nsec = (long)(d % LP_NS_PER_SEC);
			tsp = &ts;
		}
		n = epoll_pwait2(be->epfd, be->ev, MAX_EVENTS, tsp, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		/* Kernel older than 5.11: switch to a timerfd for good. */
		be->no_pwait2 = true;
		be->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (be->tfd < 0)
			return -1;
		if (ep_add(be, be->tfd, EPOLLIN, TAG(0, be->tfd)) != 0)
			return -1;
	}
	if (deadline <= now)
		return epoll_wait(be->epfd, be->ev, MAX_EVENTS, 0);
	if (deadline != be->tfd_deadline) {
		struct itimerspec its;

		memset(&its, 0, sizeof(its));
		if (deadline != UINT64_MAX) {
			its.it_value.tv_sec = (time_t)(deadline / LP_NS_PER_SEC);
			its.it_value.tv_nsec = (long)(deadline % LP_NS_PER_SEC);
		}
		if (timerfd_settime(be->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
			return -1;
		be->tfd_deadline = deadline;
	}
	return epoll_wait(be->epfd, be->ev, MAX_EVENTS, -1);
}

int lp_loop_be_wait(struct lp_loop *l, uint64_t deadline)
{
	struct lp_loop_be *be = l->be;
	int n = wait_events(be, deadline);

	be->nev = 0;
	if (n < 0)
		return errno == EINTR ? 0 : LP_ERR_IO;
	be->nev = n;
	return 0;
}

int lp_loop_be_dispatch(struct lp_loop *l)
{
	struct lp_loop_be *be = l->be;
	int i, n = be->nev, ran = 0;

	be->nev = 0;
	for (i = 0; i < n; i++) {
		const struct epoll_event *e = &be->ev[i];
		int fd = (int)(uint32_t)e->data.u64;
		uint32_t gen = (uint32_t)(e->data.u64 >> 32);
		struct watcher *w;
		unsigned revents = 0;
		uint64_t v;

		if (gen == 0) {
			if (fd == be->sigfd)
				ran += dispatch_signals(l);
			else /* the timerfd: the timer heap is checked anyway */
				(void)!read(fd, &v, sizeof(v));
			continue;
		}
		if ((size_t)fd >= be->wcap || be->w[fd].gen != gen)
			continue; /* removed by an earlier callback of this batch */
		w = &be->w[fd];
		if (e->events & EPOLLIN)
			revents |= LP_LOOP_READ;
		if (e->events & EPOLLOUT)
			revents |= LP_LOOP_WRITE;
		if (e->events & (EPOLLERR | EPOLLHUP))
			revents |= LP_LOOP_ERROR;
		w->fn(l, fd, revents, w->arg);
		ran++;
	}
	return ran;
}
