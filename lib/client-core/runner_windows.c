/*
 * runner_windows.c - binds the runner (runner.c) to the Windows loop
 * (lp_winloop.h): the UDP socket through a WSAEventSelect event and the
 * session and retry timers.
 *
 * The socket is watched through a WSAEventSelect event (FD_READ |
 * FD_WRITE). That event is manual-reset: WSAEnumNetworkEvents clears it,
 * and winsock sets it again after a recvfrom that leaves data queued, so
 * draining a bounded number of datagrams per wake-up never loses one.
 * FD_WRITE is only recorded after a send failed with WSAEWOULDBLOCK,
 * which is exactly when the runner waits for room (want_write), so asking
 * for writability needs no call here.
 */
#include <stdlib.h>
#include <string.h>

#include "lp_winloop.h"
#include "runner_int.h"

struct lp_runner_io {
	struct lp_loop *loop;
	struct lp_client_runner *r;
	const struct lp_logger *log;
	struct lp_loop_timer timer[LP_RUNNER_TIMER__COUNT];
	SOCKET sock;
	WSAEVENT ev; /* WSAEventSelect(sock, ev, FD_READ | FD_WRITE) */
};

static void on_socket(struct lp_loop *l, HANDLE h, void *arg)
{
	struct lp_runner_io *io = arg;
	WSANETWORKEVENTS ne;

	(void)l;
	(void)h;
	/* Clears the event; reads are attempted whatever it reports, since a
	 * drain cut short by the runner's read rounds leaves FD_READ to winsock. */
	memset(&ne, 0, sizeof(ne));
	if (WSAEnumNetworkEvents(io->sock, io->ev, &ne) == SOCKET_ERROR)
		WSAResetEvent(io->ev);
	lp_runner_socket_ready(io->r, (ne.lNetworkEvents & FD_WRITE) != 0);
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

	if (io == NULL)
		return LP_ERR_NOMEM;
	io->loop = loop;
	io->r = r;
	io->log = log;
	io->sock = INVALID_SOCKET;
	io->ev = WSA_INVALID_EVENT;
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
	io->sock = (SOCKET)lp_udp_fd(udp);
	io->ev = WSACreateEvent();
	if (io->ev == WSA_INVALID_EVENT ||
	    WSAEventSelect(io->sock, io->ev, FD_READ | FD_WRITE) == SOCKET_ERROR) {
		lp_log(io->log, LP_LOG_ERROR,
		       "client: cannot watch the UDP socket: winsock error %d", WSAGetLastError());
		lp_runner_io_unwatch(io);
		return LP_ERR_IO;
	}
	return lp_loop_handle_add(io->loop, io->ev, on_socket, io);
}

void lp_runner_io_unwatch(struct lp_runner_io *io)
{
	if (io->ev != WSA_INVALID_EVENT) {
		lp_loop_handle_del(io->loop, io->ev);
		if (io->sock != INVALID_SOCKET)
			WSAEventSelect(io->sock, NULL, 0);
		WSACloseEvent(io->ev);
	}
	io->ev = WSA_INVALID_EVENT;
	io->sock = INVALID_SOCKET;
}

int lp_runner_io_want_write(struct lp_runner_io *io, bool on)
{
	(void)io;
	(void)on;
	return 0; /* FD_WRITE is always selected; see the top of the file */
}

int lp_runner_io_timer_arm(struct lp_runner_io *io, enum lp_runner_timer t, uint64_t deadline_ns)
{
	lp_loop_timer_arm(io->loop, &io->timer[t], deadline_ns);
	return 0;
}

void lp_runner_io_timer_cancel(struct lp_runner_io *io, enum lp_runner_timer t)
{
	lp_loop_timer_cancel(io->loop, &io->timer[t]);
}

int lp_runner_io_run_once(struct lp_runner_io *io, uint64_t max_wait_ns)
{
	return lp_loop_run_once(io->loop, max_wait_ns);
}
