/*
 * test_relay_attack_peers.c - admitted peers and operators' tools turned
 * against the real lanparty-relay, on 127.0.0.1 only, bounded in time:
 *
 *   ctrl_spam     a child process admitted in room SPAM sends valid stats
 *                 messages as fast as the relay takes them for SPAM_SECONDS;
 *                 gateway G and client C of room PING measure their frame
 *                 round trip (p99) before and during the spam.
 *   deaf_peer     peer D of room DEAF reads its packets and throws them
 *                 away (never acknowledges, never reads its control stream)
 *                 while players join and leave DEAF for DEAF_SECONDS: is D
 *                 closed, and what does the relay hold for it?
 *   slow_metrics  SLOW_READERS clients GET /metrics with a 2 KiB receive
 *                 buffer: half never read, half read 256 bytes every
 *                 100 ms; G/C of room PING measure their round trip.
 *
 * Each attack prints one "ATTACK" line (figure and target); see attack.h
 * for which targets are asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attack.h"

#define MS LP_NS_PER_MS
#define SEC LP_NS_PER_SEC
#define RTTS 300
#define SPAM_SECONDS 8
#define SPAM_PER_MS 400     /* stats messages queued per millisecond at most */
#define SPAM_BODY 2000      /* bytes: padded with JSON whitespace, still valid */
#define SPAM_RSS_KIB 262144 /* the child stops queueing above this RSS */
#define DEAF_SECONDS 12
#define SLOW_READERS 8
#define FILLERS 60 /* with G and C, within the relay's 64 connections per address */
#define G_MAC "02:00:00:00:b7:01"
#define C_MAC "02:00:00:00:b7:0c"

static const char stats_body[] =
        "{\"type\":\"stats\",\"frames_rx\":1,\"frames_tx\":2,\"datagrams_rx\":3,"
        "\"datagrams_tx\":4,\"bytes_rx\":5,\"bytes_tx\":6,\"broadcast_rx\":7,"
        "\"drops\":{\"too_big\":1,\"malformed\":2,\"queue_full\":3}}";

static bool established_cond(void *arg)
{
	const struct rp_peer *p = arg;

	return p->established || p->closed;
}

/* A room PING with G and C admitted, for round trips. */
static void ping_room(struct rp_world *w, struct attack_rtt *rt)
{
	struct rp_peer *pair[2];

	memset(rt, 0, sizeof(*rt));
	rt->w = w;
	rt->a = rp_session_new(w, "G", LP_ROLE_GATEWAY, "PING", G_MAC, NULL);
	rt->b = rp_session_new(w, "C", LP_ROLE_CLIENT, "PING", C_MAC, NULL);
	assert_non_null(rt->a);
	assert_non_null(rt->b);
	pair[0] = rt->a;
	pair[1] = rt->b;
	assert_true(rp_pump_admitted(w, 20 * SEC, pair, 2));
	rt->mac_a = G_MAC;
	rt->mac_b = C_MAC;
	rt->next_tag = 1;
	/* Let both learn each other and PMTUD settle. */
	{
		uint64_t warm[20];

		(void)attack_rtt_sample(rt, LP_ARRAY_LEN(warm), 1 * SEC, warm);
	}
}

/* A raw peer admitted into room with mac. */
static struct rp_peer *raw_admitted(struct rp_world *w, const char *name, const char *room,
                                    const char *mac)
{
	struct rp_peer *p = rp_raw_new(w, name);

	assert_non_null(p);
	assert_true(rp_pump(w, 10 * SEC, established_cond, p));
	assert_true(p->established);
	assert_int_equal(rp_raw_hello(p, LP_ROLE_CLIENT, room, mac, 1400), 0);
	assert_true(rp_pump_admitted(w, 10 * SEC, &p, 1));
	return p;
}

/*
 * The spamming child: its own world and raw peer in room SPAM; queues up to
 * SPAM_PER_MS stats messages per millisecond for SPAM_SECONDS. Exit status:
 * 0 closed by the relay, 1 never closed, 2+ setup failed; the count of
 * messages queued goes to fd.
 */
static void spam_child(const struct rp_relay *r, int fd)
{
	static char body[SPAM_BODY + 1];
	struct rp_world w;
	struct rp_peer *s;
	uint64_t t0, sent = 0;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (rp_world_init(&w, r) != 0)
		_exit(2);
	s = rp_raw_new(&w, "spammer");
	if (s == NULL || !rp_pump(&w, 10 * SEC, established_cond, s) || !s->established)
		_exit(3);
	if (rp_raw_hello(s, LP_ROLE_CLIENT, "SPAM", "02:00:00:00:b7:55", 1400) != 0 ||
	    !rp_pump_admitted(&w, 10 * SEC, &s, 1))
		_exit(4);
	memset(body, ' ', SPAM_BODY);
	memcpy(body, stats_body, sizeof(stats_body) - 2); /* without the last '}' */
	body[SPAM_BODY - 1] = '}';
	body[SPAM_BODY] = '\0';
	t0 = lp_now_ns();
	while (!s->closed && lp_now_ns() - t0 < SPAM_SECONDS * SEC) {
		/* Bounded by our own memory: what the relay has not taken yet
		 * waits in our stream queue. */
		bool room = attack_proc_kib(getpid(), "VmRSS") < SPAM_RSS_KIB;

		for (int i = 0; room && i < SPAM_PER_MS && !s->closed; i++)
			if (rp_raw_ctrl_json(s, body) == 0)
				sent++;
		(void)rp_pump(&w, 1 * MS, NULL, NULL);
	}
	if (write(fd, &sent, sizeof(sent)) != (ssize_t)sizeof(sent))
		_exit(5);
	if (s->closed)
		fprintf(stdout, "  spammer closed after %.2f s: app code 0x%llx \"%s\"\n",
		        (double)(lp_now_ns() - t0) / 1e9, (unsigned long long)s->close_app,
		        s->close_reason);
	fflush(stdout);
	_exit(s->closed ? 0 : 1);
}

static void test_ctrl_spam(void **state)
{
	struct rp_relay relay;
	struct rp_world w;
	struct attack_rtt rt;
	uint64_t idle[RTTS], spam[RTTS], p99_idle, p99_spam, sent = 0, cpu0, cpu1;
	size_t ok_idle, ok_spam;
	int pipefd[2], status = -1;
	pid_t child;

	(void)state;
	assert_int_equal(rp_relay_start(&relay, NULL), 0);
	assert_int_equal(rp_world_init(&w, &relay), 0);
	ping_room(&w, &rt);
	ok_idle = attack_rtt_sample(&rt, RTTS, 1 * SEC, idle);

	assert_int_equal(pipe(pipefd), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(pipefd[0]);
		spam_child(&relay, pipefd[1]);
	}
	close(pipefd[1]);
	/* Give the spammer time to be admitted and reach full speed. */
	(void)rp_pump(&w, 1500 * MS, NULL, NULL);
	cpu0 = rp_proc_cpu_ns(relay.pid);
	ok_spam = attack_rtt_sample(&rt, RTTS, 1 * SEC, spam);
	cpu1 = rp_proc_cpu_ns(relay.pid);
	while (waitpid(child, &status, WNOHANG) == 0)
		(void)rp_pump(&w, 20 * MS, NULL, NULL);
	assert_int_equal(read(pipefd[0], &sent, sizeof(sent)), (ssize_t)sizeof(sent));
	close(pipefd[0]);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) <= 1);

	p99_idle = attack_percentile(idle, RTTS, 99);
	p99_spam = attack_percentile(spam, RTTS, 99);
	printf("  spammer queued %llu stats messages in <= %d s; relay CPU during the "
	       "sample %.0f ms\n",
	       (unsigned long long)sent, SPAM_SECONDS, (double)(cpu1 - cpu0) / 1e6);
	/* 2x of idle as the issue asks, with 1 ms of slack for a shared
	 * machine's scheduling noise at sub-millisecond round trips. */
	attack_report("ctrl_spam_rtt",
	              ok_spam == RTTS && ok_idle == RTTS && p99_spam <= 2 * p99_idle + 1 * MS,
	              "p99 <= 2x idle (+1 ms)", "other room's RTT p99 %.2f ms idle, %.2f ms spam",
	              (double)p99_idle / 1e6, (double)p99_spam / 1e6);
	attack_report("ctrl_spam_close", WEXITSTATUS(status) == 0,
	              "spammer throttled or closed with a reason", "spammer %s",
	              WEXITSTATUS(status) == 0 ? "closed" : "never closed");
	rp_world_free(&w);
	assert_int_equal(rp_relay_stop(&relay), 0);
}

static void test_deaf_peer(void **state)
{
	/* 300 bytes of reason: each peer_left the relay queues for D is big. */
	static char reason[190];
	struct rp_relay relay;
	struct rp_world w;
	struct rp_peer *d;
	uint64_t rss0, rss1, t0, churns = 0, in_room;
	char key[64];

	(void)state;
	memset(reason, 'r', sizeof(reason) - 1);
	assert_int_equal(rp_relay_start(&relay, NULL), 0);
	assert_int_equal(rp_world_init(&w, &relay), 0);
	d = raw_admitted(&w, "D", "DEAF", "02:00:00:00:b7:dd");
	d->deaf = true;
	rss0 = attack_proc_kib(relay.pid, "VmRSS");
	t0 = lp_now_ns();
	while (lp_now_ns() - t0 < DEAF_SECONDS * SEC) {
		char mac[24];
		struct rp_peer *j;

		snprintf(mac, sizeof(mac), "02:00:00:01:%02x:%02x", (unsigned)(churns >> 8) & 0xff,
		         (unsigned)churns & 0xff);
		j = raw_admitted(&w, "J", "DEAF", mac);
		lp_quic_conn_close(j->qc, LP_QUIC_APP_NO_ERROR, reason);
		(void)rp_pump(&w, 5 * MS, NULL, NULL);
		rp_peer_del(j);
		churns++;
	}
	(void)rp_pump(&w, 500 * MS, NULL, NULL);
	rss1 = attack_proc_kib(relay.pid, "VmRSS");
	snprintf(key, sizeof(key), "lanparty_relay_room_peers{room=\"DEAF\"}");
	in_room = rp_relay_metric(&relay, key);
	printf("  relay log: %zu \"does not read\" closes\n",
	       rp_relay_log_count(&relay, "does not read its control stream"));
	printf("  %llu players joined and left room DEAF in %d s; relay RSS %.1f -> %.1f MiB\n",
	       (unsigned long long)churns, DEAF_SECONDS, (double)rss0 / 1024, (double)rss1 / 1024);
	attack_report("deaf_peer", in_room == UINT64_MAX || in_room == 0,
	              "closed with a reason, nothing stalled",
	              "deaf peer %s after %d s of churn (%llu lifecycle messages owed)",
	              in_room == UINT64_MAX || in_room == 0 ? "closed" : "still in its room",
	              DEAF_SECONDS, (unsigned long long)churns * 2);
	rp_world_free(&w);
	assert_int_equal(rp_relay_stop(&relay), 0);
}

struct slow_reader {
	const struct rp_relay *relay;
	uint64_t open_at; /* the request is sent from the round-trip loop */
	int fd;
	bool trickle; /* reads 256 bytes every 100 ms; else never reads */
	uint64_t next_read;
	size_t got;
	bool eof;
};

static int slow_open(const struct rp_relay *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	int rcvbuf = 2048;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	a.sin_port = htons(r->metrics_port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
	return fd;
}

static void slow_tick(void *arg)
{
	struct slow_reader *s = arg;
	uint64_t now = lp_now_ns();
	char buf[256];

	for (int i = 0; i < SLOW_READERS; i++) {
		ssize_t n;

		if (s[i].fd < 0 && now >= s[i].open_at)
			s[i].fd = slow_open(s[i].relay);
		if (s[i].fd < 0 || !s[i].trickle || s[i].eof || now < s[i].next_read)
			continue;
		s[i].next_read = now + 100 * MS;
		n = recv(s[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			s[i].got += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			s[i].eof = true;
	}
}

/* Drains a reader (waiting up to 200 ms for more): true when the relay
 * closed it, by EOF or reset. */
static bool slow_cut_off(struct slow_reader *s)
{
	char buf[4096];

	for (;;) {
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 200) != 1)
			return false;
		n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			s->got += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		return true;
	}
}

static void test_slow_metrics(void **state)
{
	static const char *const args[] = { "--rooms-per-address", "100", NULL };
	static char body[1 << 20];
	struct rp_relay relay;
	struct rp_world w;
	struct attack_rtt rt;
	struct slow_reader rd[SLOW_READERS];
	struct rp_peer *fill[FILLERS];
	static uint64_t slow[RTTS * 20];
	uint64_t idle[RTTS], p99_idle, p99_slow, max_slow = 0, t0;
	size_t ok_idle, ok_slow = 0, n_slow = 0, cut = 0;

	(void)state;
	assert_int_equal(rp_relay_start(&relay, args), 0);
	assert_int_equal(rp_world_init(&w, &relay), 0);
	ping_room(&w, &rt);
	/* Rooms and peers make the body large (every peer has ~30 lines),
	 * larger than the socket buffers of a loopback TCP connection. */
	for (unsigned i = 0; i < FILLERS; i++) {
		fill[i] = rp_raw_new(&w, "F");
		assert_non_null(fill[i]);
	}
	for (unsigned i = 0; i < FILLERS; i++) {
		char room[16], mac[24];

		assert_true(rp_pump(&w, 10 * SEC, established_cond, fill[i]));
		snprintf(room, sizeof(room), "FILL%u", i);
		snprintf(mac, sizeof(mac), "02:00:00:00:f1:%02x", i);
		assert_int_equal(rp_raw_hello(fill[i], LP_ROLE_CLIENT, room, mac, 1400), 0);
	}
	assert_true(rp_pump_admitted(&w, 20 * SEC, fill, FILLERS));
	assert_int_equal(rp_relay_metrics(&relay, body, sizeof(body)), 0);
	printf("  metrics body: %zu bytes\n", strlen(body));
	ok_idle = attack_rtt_sample(&rt, RTTS, 1 * SEC, idle);

	/* One request every 100 ms while the round trips are measured. */
	t0 = lp_now_ns();
	for (int i = 0; i < SLOW_READERS; i++)
		rd[i] = (struct slow_reader){ .relay = &relay,
			                      .open_at = t0 + (uint64_t)i * 100 * MS,
			                      .fd = -1,
			                      .trickle = i % 2 == 1 };
	rt.tick = slow_tick;
	rt.tick_arg = rd;
	/* Round trips for 3 s (every request is sent by then); a stalled
	 * relay makes each last up to the 1 s timeout. */
	while (lp_now_ns() - t0 < 3 * SEC) {
		uint64_t batch[10];

		ok_slow += attack_rtt_sample(&rt, 10, 1 * SEC, batch);
		for (int i = 0; i < 10; i++) {
			max_slow = batch[i] > max_slow ? batch[i] : max_slow;
			slow[(n_slow + (size_t)i) % LP_ARRAY_LEN(slow)] = batch[i];
		}
		n_slow += 10;
	}
	/* 5 s after the last request, a relay with a deadline has cut every
	 * reader off. */
	while (lp_now_ns() - t0 < 7500 * MS)
		(void)rp_pump(&w, 20 * MS, NULL, NULL);
	for (int i = 0; i < SLOW_READERS; i++) {
		if (rd[i].fd < 0)
			fail_msg("reader %d never opened (n_slow %zu, %.1f s)", i, n_slow,
			         (double)(lp_now_ns() - t0) / 1e9);
		cut += slow_cut_off(&rd[i]);
		close(rd[i].fd);
	}
	p99_idle = attack_percentile(idle, RTTS, 99);
	p99_slow = attack_percentile(slow,
	                             n_slow < LP_ARRAY_LEN(slow) ? n_slow : LP_ARRAY_LEN(slow), 99);
	/* On loopback the kernel buffers about 2 MiB per TCP connection, more
	 * than this body: the stall itself is measured by test_status_http with
	 * an 8 MiB body. Here: nothing waits on the readers (no round trip near
	 * the 200 ms a blocked send used to cost per reader; below that is the
	 * shared machine's scheduling), and each is cut off. */
	attack_report("slow_metrics",
	              ok_idle == RTTS && ok_slow == n_slow && max_slow < 200 * MS &&
	                      cut == SLOW_READERS,
	              "no round trip >= 200 ms, readers cut off <= 5 s",
	              "other room's RTT p99 %.2f ms idle, %.2f ms (max %.1f ms, %zu/%zu "
	              "done) with %d slow readers; %zu/%d cut off",
	              (double)p99_idle / 1e6, (double)p99_slow / 1e6, (double)max_slow / 1e6,
	              ok_slow, n_slow, SLOW_READERS, cut, SLOW_READERS);
	rp_world_free(&w);
	assert_int_equal(rp_relay_stop(&relay), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctrl_spam),
		cmocka_unit_test(test_deaf_peer),
		cmocka_unit_test(test_slow_metrics),
	};

	return cmocka_run_group_tests_name("relay_attack_peers", tests, NULL, NULL);
}
