/*
 * runner_linux.c - binds the runner (runner.c) to lib/evloop: the UDP
 * socket's descriptor on epoll (readable; writable only while a send found
 * the buffer full) and the session and retry timers.
 */
#include <stdlib.h>

#include "lp_loop.h"
#include "runner_int.h"

struct lp_runner_io {
	struct lp_loop *loop;
	struct lp_client_runner *r;
	struct lp_loop_timer timer[LP_RUNNER_TIMER__COUNT];
	int fd; /* -1: not watching */
};

static void on_readable(struct lp_loop *l, int fd, unsigned events, void *arg)
{
	struct lp_runner_io *io = arg;

	(void)l;
	(void)fd;
	lp_runner_socket_ready(io->r, (events & LP_LOOP_WRITE) != 0);
}

static void on_session_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_runner_io *io = arg;

	(void)l;
	(void)t;
	lp_runner_timer_fired(io->r, LP_RUNNER_TIMER_SESSION);
}

static void on_retry_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_runner_io *io = arg;

	(void)l;
	(void)t;
	lp_runner_timer_fired(io->r, LP_RUNNER_TIMER_RETRY);
}

int lp_runner_io_new(struct lp_loop *loop, struct lp_client_runner *r, const struct lp_logger *log,
                     struct lp_runner_io **out)
{
	struct lp_runner_io *io = calloc(1, sizeof(*io));

	(void)log;
	if (io == NULL)
		return LP_ERR_NOMEM;
	io->loop = loop;
	io->r = r;
	io->fd = -1;
	lp_loop_timer_init(&io->timer[LP_RUNNER_TIMER_SESSION], on_session_timer, io);
	lp_loop_timer_init(&io->timer[LP_RUNNER_TIMER_RETRY], on_retry_timer, io);
	*out = io;
	return 0;
}

void lp_runner_io_del(struct lp_runner_io *io)
{
	size_t i;

	if (io == NULL)
		return;
	for (i = 0; i < LP_RUNNER_TIMER__COUNT; i++)
		lp_loop_timer_cancel(io->loop, &io->timer[i]);
	lp_runner_io_unwatch(io);
	free(io);
}

int lp_runner_io_watch(struct lp_runner_io *io, struct lp_udp *udp)
{
	int fd = (int)lp_udp_fd(udp);
	int rc = lp_loop_fd_add(io->loop, fd, LP_LOOP_READ, on_readable, io);

	if (rc == 0)
		io->fd = fd;
	return rc;
}

void lp_runner_io_unwatch(struct lp_runner_io *io)
{
	if (io->fd >= 0)
		lp_loop_fd_del(io->loop, io->fd);
	io->fd = -1;
}

int lp_runner_io_want_write(struct lp_runner_io *io, bool on)
{
	return lp_loop_fd_mod(io->loop, io->fd, on ? LP_LOOP_READ | LP_LOOP_WRITE : LP_LOOP_READ);
}

int lp_runner_io_timer_arm(struct lp_runner_io *io, enum lp_runner_timer t, uint64_t deadline_ns)
{
	return lp_loop_timer_arm(io->loop, &io->timer[t], deadline_ns);
}

void lp_runner_io_timer_cancel(struct lp_runner_io *io, enum lp_runner_timer t)
{
	lp_loop_timer_cancel(io->loop, &io->timer[t]);
}

int lp_runner_io_run_once(struct lp_runner_io *io, uint64_t max_wait_ns)
{
	return lp_loop_run_once(io->loop, max_wait_ns);
}
