/*
 * test_status_http.c - the relay's metrics endpoint on a real loopback TCP
 * socket and the real loop: a large answer (8 MiB, more than loopback
 * socket buffers take) to readers that never read or read a trickle must
 * not stall the loop, those readers are cut off by the answer deadline,
 * and a reader that keeps up gets the whole answer.
 *
 * The loop's health is a 1 ms timer: the largest gap between two of its
 * runs is how long the loop was kept from everything else (the rooms).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lp_loop.h"
#include "status_http.h"

#define MS LP_NS_PER_MS
#define SEC LP_NS_PER_SEC
#define BODY_LEN (8u << 20)
#define STALL_MAX_NS                                                                               \
	(150 * MS) /* renders and scheduling noise on a shared machine, not a blocking send */

static ssize_t render_big(void *user, char *buf, size_t cap)
{
	(void)user;
	if (cap < BODY_LEN)
		return LP_ERR_NOBUF;
	for (size_t i = 0; i < BODY_LEN; i += 16)
		memcpy(buf + i, "lanparty_x 123\n\n", 16);
	return BODY_LEN;
}

enum reader_kind { NEVER, TRICKLE, FULL };

struct reader {
	enum reader_kind kind;
	int fd;
	size_t got;
	bool eof;       /* the relay closed (EOF or reset) */
	size_t content; /* Content-Length seen in the head */
	size_t head_len;
	char head[512];
};

struct run {
	struct lp_loop *loop;
	struct lp_loop_timer tick, stop;
	uint64_t last, max_gap;
	struct reader r[3];
};

static void reader_step(struct reader *rd, size_t max)
{
	static char buf[1 << 16];

	while (!rd->eof && max > 0) {
		ssize_t n = recv(rd->fd, buf, max < sizeof(buf) ? max : sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			rd->eof = true;
			return;
		}
		if (rd->head_len < sizeof(rd->head) - 1) {
			size_t k = (size_t)n < sizeof(rd->head) - 1 - rd->head_len
			                   ? (size_t)n
			                   : sizeof(rd->head) - 1 - rd->head_len;

			memcpy(rd->head + rd->head_len, buf, k);
			rd->head_len += k;
			rd->head[rd->head_len] = '\0';
		}
		rd->got += (size_t)n;
		max -= (size_t)n;
	}
}

static void on_tick(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct run *r = arg;
	uint64_t now = lp_now_ns();

	if (r->last != 0 && now - r->last > r->max_gap)
		r->max_gap = now - r->last;
	r->last = now;
	for (int i = 0; i < 3; i++) {
		if (r->r[i].kind == TRICKLE)
			reader_step(&r->r[i], 256);
		else if (r->r[i].kind == FULL)
			reader_step(&r->r[i], SIZE_MAX);
	}
	assert_int_equal(lp_loop_timer_arm(l, t, now + 1 * MS), 0);
}

static void on_stop(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	lp_loop_stop(l);
}

static uint16_t free_tcp_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int reader_open(const struct sockaddr_in *a, bool small_buf, const char *req)
{
	int rcvbuf = 2048;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	if (small_buf)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	assert_int_equal(connect(fd, (const struct sockaddr *)a, sizeof(*a)), 0);
	assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	return fd;
}

static void start(struct run *r, struct status_http **h, struct sockaddr_in *a)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(lp_loop_new(&r->loop), 0);
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = htons(free_tcp_port());
	assert_int_equal(
	        status_http_new(r->loop, (const struct sockaddr *)a, render_big, NULL, NULL, h), 0);
	lp_loop_timer_init(&r->tick, on_tick, r);
	lp_loop_timer_init(&r->stop, on_stop, r);
}

static void test_slow_readers_do_not_stall(void **state)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	struct status_http *h = NULL;
	struct sockaddr_in a;
	struct run r;
	uint64_t t0;

	(void)state;
	start(&r, &h, &a);
	r.r[0] = (struct reader){ .kind = NEVER, .fd = reader_open(&a, true, req) };
	r.r[1] = (struct reader){ .kind = TRICKLE, .fd = reader_open(&a, true, req) };
	r.r[2] = (struct reader){ .kind = FULL, .fd = reader_open(&a, false, req) };
	t0 = lp_now_ns();
	assert_int_equal(lp_loop_timer_arm(r.loop, &r.tick, t0), 0);
	/* The answer deadline is 5 s after accept. */
	assert_int_equal(lp_loop_timer_arm(r.loop, &r.stop, t0 + 6 * SEC), 0);
	assert_int_equal(lp_loop_run(r.loop), 0);
	for (int i = 0; i < 2; i++)
		reader_step(&r.r[i], SIZE_MAX); /* what is left in our buffers */

	print_message("largest loop stall %.1f ms; never-reader got %zu bytes (%s), trickle "
	              "reader %zu (%s), full reader %zu of %u (%s)\n",
	              (double)r.max_gap / 1e6, r.r[0].got, r.r[0].eof ? "cut off" : "open",
	              r.r[1].got, r.r[1].eof ? "cut off" : "open", r.r[2].got, BODY_LEN,
	              r.r[2].eof ? "closed" : "open");
	assert_true(r.max_gap < STALL_MAX_NS);
	assert_true(r.r[0].eof);
	assert_true(r.r[1].eof);
	assert_true(r.r[0].got < BODY_LEN);
	assert_true(r.r[1].got < BODY_LEN);
	/* The reader that keeps up gets everything, then the close. */
	assert_true(r.r[2].eof);
	assert_non_null(strstr(r.r[2].head, "HTTP/1.0 200 OK\r\n"));
	assert_non_null(strstr(r.r[2].head, "Content-Length: 8388608\r\n"));
	assert_true(r.r[2].got > BODY_LEN && r.r[2].got < BODY_LEN + 256);
	for (int i = 0; i < 3; i++)
		close(r.r[i].fd);
	status_http_del(h);
	lp_loop_del(r.loop);
}

static void test_not_found_and_silence(void **state)
{
	struct status_http *h = NULL;
	struct sockaddr_in a;
	struct run r;
	uint64_t t0;

	(void)state;
	start(&r, &h, &a);
	r.r[0] = (struct reader){ .kind = FULL,
		                  .fd = reader_open(&a, false, "GET / HTTP/1.0\r\n\r\n") };
	r.r[1] = (struct reader){ .kind = FULL, .fd = reader_open(&a, false, "GET /met") };
	t0 = lp_now_ns();
	assert_int_equal(lp_loop_timer_arm(r.loop, &r.tick, t0), 0);
	assert_int_equal(lp_loop_timer_arm(r.loop, &r.stop, t0 + 1500 * MS), 0);
	assert_int_equal(lp_loop_run(r.loop), 0);
	assert_true(r.r[0].eof);
	assert_non_null(strstr(r.r[0].head, "HTTP/1.0 404 Not Found\r\n"));
	/* An incomplete request gets nothing and is dropped after 1 s. */
	assert_true(r.r[1].eof);
	assert_int_equal(r.r[1].got, 0);
	close(r.r[0].fd);
	close(r.r[1].fd);
	status_http_del(h);
	lp_loop_del(r.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_readers_do_not_stall),
		cmocka_unit_test(test_not_found_and_silence),
	};

	return cmocka_run_group_tests_name("status_http", tests, NULL, NULL);
}
