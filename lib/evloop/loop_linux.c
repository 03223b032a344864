/*
 * loop_linux.c - epoll event loop with a binary heap of nanosecond timers.
 */
#include "lp_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 64
#define MAX_SIGNALS 8

/* epoll user data: generation << 32 | fd. Generation 0 marks the loop's own
 * descriptors; user watchers get a non-zero generation that changes on every
 * add, so an event of a removed (and maybe re-added) fd is recognised as
 * stale within one batch. */
#define TAG(gen, fd) ((uint64_t)(gen) << 32 | (uint32_t)(fd))

struct watcher {
	lp_loop_fd_fn fn;
	void *arg;
	unsigned events;
	uint32_t gen; /* 0: slot unused */
};

struct sig_watcher {
	int signo;
	lp_loop_signal_fn fn;
	void *arg;
};

struct lp_loop {
	int epfd;
	int evfd;  /* lp_loop_wake */
	int sigfd; /* -1 until lp_loop_signal_add */
	int tfd;   /* -1 unless epoll_pwait2 is missing */
	struct watcher *w;
	size_t wcap;
	uint32_t gen;
	struct lp_loop_timer **heap;
	size_t hlen, hcap;
	uint64_t seq;
	uint64_t now;
	uint64_t tfd_deadline; /* what tfd is armed to; UINT64_MAX = disarmed */
	bool stop;
	bool no_pwait2;
	volatile sig_atomic_t *flag;
	sigset_t sigs;
	struct sig_watcher sw[MAX_SIGNALS];
	size_t nsig;
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

static int ep_add(struct lp_loop *l, int fd, uint32_t ev, uint64_t tag)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.u64 = tag;
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &e) == 0 ? 0 : LP_ERR_IO;
}

int lp_loop_new(struct lp_loop **out)
{
	struct lp_loop *l;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return LP_ERR_NOMEM;
	l->evfd = l->sigfd = l->tfd = -1;
	l->tfd_deadline = UINT64_MAX;
	sigemptyset(&l->sigs);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto fail;
	l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->evfd < 0 || ep_add(l, l->evfd, EPOLLIN, TAG(0, l->evfd)) != 0)
		goto fail;
	l->now = lp_now_ns();
	*out = l;
	return 0;
fail:
	lp_loop_del(l);
	return LP_ERR_IO;
}

void lp_loop_del(struct lp_loop *l)
{
	int saved = errno;

	if (l == NULL)
		return;
	if (l->sigfd >= 0) {
		struct signalfd_siginfo si;

		/* Consume what is pending so unblocking does not deliver a
		 * signal whose default action may kill the process. */
		while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			;
		sigprocmask(SIG_UNBLOCK, &l->sigs, NULL);
		close(l->sigfd);
	}
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->evfd >= 0)
		close(l->evfd);
	if (l->epfd >= 0)
		close(l->epfd);
	free(l->w);
	free(l->heap);
	free(l);
	errno = saved;
}

/* ---- fd watchers ---------------------------------------------------------- */

int lp_loop_fd_add(struct lp_loop *l, int fd, unsigned events, lp_loop_fd_fn fn, void *arg)
{
	struct watcher *w;

	if (fd < 0 || fn == NULL || (events & (LP_LOOP_READ | LP_LOOP_WRITE)) == 0)
		return LP_ERR_INVAL;
	if ((size_t)fd >= l->wcap) {
		size_t ncap = l->wcap ? l->wcap : 64;
		struct watcher *nw;

		while (ncap <= (size_t)fd)
			ncap *= 2;
		nw = realloc(l->w, ncap * sizeof(*nw));
		if (nw == NULL)
			return LP_ERR_NOMEM;
		memset(nw + l->wcap, 0, (ncap - l->wcap) * sizeof(*nw));
		l->w = nw;
		l->wcap = ncap;
	}
	w = &l->w[fd];
	if (w->gen != 0)
		return LP_ERR_INVAL;
	if (++l->gen == 0)
		l->gen = 1;
	if (ep_add(l, fd, to_epoll(events), TAG(l->gen, fd)) != 0)
		return LP_ERR_IO;
	w->fn = fn;
	w->arg = arg;
	w->events = events;
	w->gen = l->gen;
	return 0;
}

int lp_loop_fd_mod(struct lp_loop *l, int fd, unsigned events)
{
	struct epoll_event e;
	struct watcher *w;

	if (fd < 0 || (size_t)fd >= l->wcap || l->w[fd].gen == 0)
		return LP_ERR_NOT_FOUND;
	w = &l->w[fd];
	if (w->events == events)
		return 0;
	memset(&e, 0, sizeof(e));
	e.events = to_epoll(events);
	e.data.u64 = TAG(w->gen, fd);
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &e) != 0)
		return LP_ERR_IO;
	w->events = events;
	return 0;
}

void lp_loop_fd_del(struct lp_loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->wcap || l->w[fd].gen == 0)
		return;
	/* Fails only if fd was already closed, which removed it anyway. */
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(&l->w[fd], 0, sizeof(l->w[fd]));
}

/* ---- timers: binary min-heap ordered by (deadline, seq) ----------------- */

static bool before(const struct lp_loop_timer *a, const struct lp_loop_timer *b)
{
	return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void heap_set(struct lp_loop *l, size_t i, struct lp_loop_timer *t)
{
	l->heap[i] = t;
	t->slot = i + 1;
}

static void sift_up(struct lp_loop *l, size_t i)
{
	struct lp_loop_timer *t = l->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!before(t, l->heap[p]))
			break;
		heap_set(l, i, l->heap[p]);
		i = p;
	}
	heap_set(l, i, t);
}

static void sift_down(struct lp_loop *l, size_t i)
{
	struct lp_loop_timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->hlen)
			break;
		if (c + 1 < l->hlen && before(l->heap[c + 1], l->heap[c]))
			c++;
		if (!before(l->heap[c], t))
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

static void heap_remove(struct lp_loop *l, struct lp_loop_timer *t)
{
	size_t i = t->slot - 1;
	struct lp_loop_timer *last = l->heap[--l->hlen];

	t->slot = 0;
	if (last == t)
		return;
	heap_set(l, i, last);
	if (i > 0 && before(last, l->heap[(i - 1) / 2]))
		sift_up(l, i);
	else
		sift_down(l, i);
}

void lp_loop_timer_init(struct lp_loop_timer *t, lp_loop_timer_fn fn, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
}

int lp_loop_timer_arm(struct lp_loop *l, struct lp_loop_timer *t, uint64_t deadline_ns)
{
	if (t->slot != 0) {
		/* Re-arm in place: no allocation, cannot fail. */
		t->deadline = deadline_ns;
		t->seq = l->seq++;
		heap_remove(l, t);
		l->heap[l->hlen] = t;
		sift_up(l, l->hlen++);
		return 0;
	}
	if (l->hlen == l->hcap) {
		size_t ncap = l->hcap ? l->hcap * 2 : 32;
		struct lp_loop_timer **nh = realloc(l->heap, ncap * sizeof(*nh));

		if (nh == NULL)
			return LP_ERR_NOMEM;
		l->heap = nh;
		l->hcap = ncap;
	}
	t->deadline = deadline_ns;
	t->seq = l->seq++;
	l->heap[l->hlen] = t;
	sift_up(l, l->hlen++);
	return 0;
}

void lp_loop_timer_cancel(struct lp_loop *l, struct lp_loop_timer *t)
{
	if (t->slot != 0)
		heap_remove(l, t);
}

size_t lp_loop_timer_count(const struct lp_loop *l)
{
	return l->hlen;
}

/* ---- signals, stop, wake ------------------------------------------------- */

int lp_loop_signal_add(struct lp_loop *l, int signo, lp_loop_signal_fn fn, void *arg)
{
	sigset_t one;
	int fd;

	if (fn == NULL || l->nsig == MAX_SIGNALS || signo <= 0 || signo >= NSIG ||
	    sigismember(&l->sigs, signo) == 1)
		return LP_ERR_INVAL;
	sigemptyset(&one);
	if (sigaddset(&one, signo) != 0)
		return LP_ERR_INVAL;
	if (sigprocmask(SIG_BLOCK, &one, NULL) != 0)
		return LP_ERR_IO;
	sigaddset(&l->sigs, signo);
	fd = signalfd(l->sigfd, &l->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (l->sigfd < 0) {
		l->sigfd = fd;
		if (ep_add(l, fd, EPOLLIN, TAG(0, fd)) != 0) {
			close(fd);
			l->sigfd = -1;
			goto fail;
		}
	}
	l->sw[l->nsig].signo = signo;
	l->sw[l->nsig].fn = fn;
	l->sw[l->nsig].arg = arg;
	l->nsig++;
	return 0;
fail:
	sigdelset(&l->sigs, signo);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	return LP_ERR_IO;
}

void lp_loop_set_stop_flag(struct lp_loop *l, volatile sig_atomic_t *flag)
{
	l->flag = flag;
}

void lp_loop_stop(struct lp_loop *l)
{
	l->stop = true;
}

void lp_loop_wake(struct lp_loop *l)
{
	uint64_t one = 1;
	int saved = errno;

	/* EAGAIN means the counter is already non-zero: the loop wakes anyway. */
	(void)!write(l->evfd, &one, sizeof(one));
	errno = saved;
}

uint64_t lp_loop_now(const struct lp_loop *l)
{
	return l->now;
}

/* ---- the iteration -------------------------------------------------------- */

static int dispatch_signals(struct lp_loop *l)
{
	struct signalfd_siginfo si;
	int ran = 0;

	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (size_t i = 0; i < l->nsig; i++) {
			if (l->sw[i].signo == (int)si.ssi_signo) {
				l->sw[i].fn(l, l->sw[i].signo, l->sw[i].arg);
				ran++;
				break;
			}
		}
	}
	return ran;
}

static int dispatch_internal(struct lp_loop *l, int fd)
{
	uint64_t v;

	if (fd == l->sigfd)
		return dispatch_signals(l);
	/* evfd or tfd: just clear the counter; the timer heap is checked anyway. */
	(void)!read(fd, &v, sizeof(v));
	return 0;
}

/* Waits until `deadline` (absolute ns, UINT64_MAX: forever). */
static int wait_events(struct lp_loop *l, struct epoll_event *ev, uint64_t deadline)
{
	uint64_t now = lp_now_ns();
	int n;

	if (!l->no_pwait2) {
		struct timespec ts, *tsp = NULL;

		if (deadline != UINT64_MAX) {
			uint64_t d = deadline > now ? deadline - now : 0;

			ts.tv_sec = (time_t)(d / LP_NS_PER_SEC);
			ts.tv_nsec = (long)(d % LP_NS_PER_SEC);
			tsp = &ts;
		}
		n = epoll_pwait2(l->epfd, ev, MAX_EVENTS, tsp, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		/* Kernel older than 5.11: switch to a timerfd for good. */
		l->no_pwait2 = true;
		l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (l->tfd < 0)
			return -1;
		if (ep_add(l, l->tfd, EPOLLIN, TAG(0, l->tfd)) != 0)
			return -1;
	}
	if (deadline <= now)
		return epoll_wait(l->epfd, ev, MAX_EVENTS, 0);
	if (deadline != l->tfd_deadline) {
		struct itimerspec its;

		memset(&its, 0, sizeof(its));
		if (deadline != UINT64_MAX) {
			its.it_value.tv_sec = (time_t)(deadline / LP_NS_PER_SEC);
			its.it_value.tv_nsec = (long)(deadline % LP_NS_PER_SEC);
		}
		if (timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
			return -1;
		l->tfd_deadline = deadline;
	}
	return epoll_wait(l->epfd, ev, MAX_EVENTS, -1);
}

int lp_loop_run_once(struct lp_loop *l, uint64_t max_wait_ns)
{
	struct epoll_event ev[MAX_EVENTS];
	uint64_t deadline = UINT64_MAX, seq_limit;
	int n, ran = 0;

	if (l->hlen > 0)
		deadline = l->heap[0]->deadline;
	if (max_wait_ns != UINT64_MAX) {
		uint64_t now = lp_now_ns();
		uint64_t lim = now + max_wait_ns < now ? UINT64_MAX : now + max_wait_ns;

		if (lim < deadline)
			deadline = lim;
	}
	n = wait_events(l, ev, deadline);
	if (n < 0) {
		if (errno != EINTR)
			return LP_ERR_IO;
		n = 0;
	}
	l->now = lp_now_ns();
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)ev[i].data.u64;
		uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);
		struct watcher *w;
		unsigned revents = 0;

		if (gen == 0) {
			ran += dispatch_internal(l, fd);
			continue;
		}
		if ((size_t)fd >= l->wcap || l->w[fd].gen != gen)
			continue; /* removed by an earlier callback of this batch */
		w = &l->w[fd];
		if (ev[i].events & EPOLLIN)
			revents |= LP_LOOP_READ;
		if (ev[i].events & EPOLLOUT)
			revents |= LP_LOOP_WRITE;
		if (ev[i].events & (EPOLLERR | EPOLLHUP))
			revents |= LP_LOOP_ERROR;
		w->fn(l, fd, revents, w->arg);
		ran++;
	}
	/* Timers armed by the timer callbacks below wait for the next round. */
	seq_limit = l->seq;
	while (l->hlen > 0) {
		struct lp_loop_timer *t = l->heap[0];

		if (t->deadline > l->now || t->seq >= seq_limit)
			break;
		heap_remove(l, t);
		t->fn(l, t, t->arg);
		ran++;
	}
	return ran;
}

int lp_loop_run(struct lp_loop *l)
{
	l->stop = false;
	while (!l->stop && (l->flag == NULL || *l->flag == 0)) {
		int r = lp_loop_run_once(l, UINT64_MAX);

		if (r < 0)
			return r;
	}
	return 0;
}
