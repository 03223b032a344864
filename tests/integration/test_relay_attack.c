/*
 * test_relay_attack.c - strangers attacking the real lanparty-relay, on
 * 127.0.0.1 only, each attack bounded in packets and time:
 *
 *   handshake_flood  FLOOD_INITIALS genuine client Initials (each a fresh
 *                    connection ID, never completed) from 64 source ports in
 *                    FLOOD_SECONDS, while gateway G and client C of room
 *                    FLOOD exchange 1000 frames/s each way and a new player
 *                    P tries to join 1.8 s into the flood.
 *                    Figures: frames delivered, P's time to admission,
 *                    relay VmRSS idle / VmHWM peak / VmRSS 10 s after.
 *   no_hello         a connection that completes the handshake and never
 *                    sends a hello (keep-alive every 500 ms, relay idle
 *                    timeout 2 s): how long it lives.
 *   room_slots       one connection per room from 127.0.0.1 until the
 *                    relay's --max-rooms 8 are used, then a player from
 *                    127.0.0.2 opens a room.
 *   source_cap       70 connections from 127.0.0.1, then one from
 *                    127.0.0.2.
 *
 * Each attack prints one "ATTACK" line (figure and target); see attack.h
 * for which targets are asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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
#define FLOOD_INITIALS 5000u
#define FLOOD_SECONDS 2
#define FLOOD_PORTS 64
#define FLOOD_JOIN_AT_NS (1800 * MS)
#define FLOOD_FRAMES 4000 /* per direction, 1 ms apart: the flood and its aftermath */
#define FRAME_LEN 600
#define RSS_CEILING_KIB (64u * 1024)
#define RSS_RETURN_KIB (10u * 1024)
#define G_MAC "02:00:00:00:a7:01"
#define C_MAC "02:00:00:00:a7:0c"
#define P_MAC "02:00:00:00:a7:0e"

static void sleep_until(uint64_t t)
{
	uint64_t now = lp_now_ns();

	if (now < t) {
		struct timespec ts = { (time_t)((t - now) / SEC), (long)((t - now) % SEC) };

		nanosleep(&ts, NULL);
	}
}

/*
 * The flooding child. Builds every Initial first (a real lib/quic client
 * connection per packet, deleted at once: only the first datagram is
 * kept), tells the parent it is ready, then sends them evenly over
 * FLOOD_SECONDS from FLOOD_PORTS sockets and exits 0.
 */
static void flood_child(const struct rp_relay *r, int ready_fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct lp_quic_client_cfg cfg = { .server_name = "localhost", .pin_der_file = r->der_path };
	static uint8_t pkts[FLOOD_INITIALS][1300];
	static size_t lens[FLOOD_INITIALS];
	int fds[FLOOD_PORTS];
	struct lp_quic_ctx *ctx = NULL;
	uint8_t *buf = malloc(LP_QUIC_WRITE_BUF_MIN);
	uint64_t t0;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (buf == NULL || lp_quic_ctx_new_client(&cfg, NULL, &ctx) != 0)
		_exit(2);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < FLOOD_PORTS; i++) {
		socklen_t len = sizeof(a);

		fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
		a.sin_port = 0;
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof(a)) != 0 ||
		    getsockname(fds[i], (struct sockaddr *)&a, &len) != 0)
			_exit(3);
	}
	for (unsigned i = 0; i < FLOOD_INITIALS; i++) {
		struct lp_quic_path path = { 0 };
		struct lp_quic_conn *c = NULL;
		struct sockaddr_in *l = (struct sockaddr_in *)&path.local;
		socklen_t len = sizeof(*l);
		size_t gso = 0;
		ssize_t n;

		if (getsockname(fds[i % FLOOD_PORTS], (struct sockaddr *)l, &len) != 0)
			_exit(4);
		path.remote = r->addr;
		if (lp_quic_conn_connect(ctx, &path, NULL, NULL, lp_now_ns(), &c) != 0)
			_exit(5);
		n = lp_quic_conn_write(c, buf, LP_QUIC_WRITE_BUF_MIN, &gso, &path, lp_now_ns());
		lens[i] = n <= 0 ? 0 : gso != 0 && gso < (size_t)n ? gso : (size_t)n;
		if (lens[i] == 0 || lens[i] > sizeof(pkts[i]))
			_exit(6);
		memcpy(pkts[i], buf, lens[i]);
		lp_quic_conn_del(c);
	}
	if (write(ready_fd, "r", 1) != 1)
		_exit(7);
	t0 = lp_now_ns();
	for (unsigned i = 0; i < FLOOD_INITIALS; i++) {
		sleep_until(t0 + (uint64_t)i * FLOOD_SECONDS * SEC / FLOOD_INITIALS);
		while (sendto(fds[i % FLOOD_PORTS], pkts[i], lens[i], 0,
		              (const struct sockaddr *)&r->addr, sizeof(struct sockaddr_in)) < 0)
			sleep_until(lp_now_ns() + 100 * 1000);
	}
	lp_quic_ctx_del(ctx);
	free(buf);
	_exit(0);
}

struct flood_run {
	struct rp_world *w;
	struct rp_peer *g, *c, *p;
	uint64_t t0, admit_ns;
	unsigned sent_c, sent_g;
	uint8_t fc[FRAME_LEN], fg[FRAME_LEN];
};

/* Paces G<->C and starts P at FLOOD_JOIN_AT_NS; true once every frame is
 * sent and P is admitted (or the run's time is up). */
static bool flood_cond(void *arg)
{
	struct flood_run *f = arg;
	uint64_t now = lp_now_ns(), due = (now - f->t0) / MS + 1;

	while (f->sent_c < FLOOD_FRAMES && f->sent_c < due) {
		rp_frame_build(f->fc, FRAME_LEN, G_MAC, C_MAC, LP_ETHERTYPE_IPV4, f->sent_c);
		if (rp_send_frame(f->c, f->fc, FRAME_LEN) != 0)
			break;
		f->sent_c++;
	}
	while (f->sent_g < FLOOD_FRAMES && f->sent_g < due) {
		rp_frame_build(f->fg, FRAME_LEN, C_MAC, G_MAC, LP_ETHERTYPE_IPV4, f->sent_g);
		if (rp_send_frame(f->g, f->fg, FRAME_LEN) != 0)
			break;
		f->sent_g++;
	}
	if (f->p == NULL && now - f->t0 >= FLOOD_JOIN_AT_NS) {
		f->p = rp_session_new(f->w, "P", LP_ROLE_CLIENT, "FLOOD", P_MAC, NULL);
		assert_non_null(f->p);
	}
	if (f->p != NULL && f->admit_ns == 0 && rp_admitted(f->p))
		f->admit_ns = now - f->t0 - FLOOD_JOIN_AT_NS;
	return f->sent_c == FLOOD_FRAMES && f->sent_g == FLOOD_FRAMES && f->admit_ns != 0;
}

static void test_handshake_flood(void **state)
{
	static const char *const args[] = { "--log-level", "warn", NULL };
	struct rp_relay relay;
	struct rp_world w;
	struct rp_peer *pair[2];
	struct flood_run f = { 0 };
	uint64_t idle_kib, peak_kib, after_kib, conns_peak = 0, t_flood_end;
	double pct_g, pct_c;
	int pipefd[2], status = -1;
	char ready = 0;
	pid_t child;

	(void)state;
	assert_int_equal(rp_relay_start(&relay, args), 0);
	assert_int_equal(rp_world_init(&w, &relay), 0);
	f.w = &w;
	f.g = rp_session_new(&w, "G", LP_ROLE_GATEWAY, "FLOOD", G_MAC, NULL);
	f.c = rp_session_new(&w, "C", LP_ROLE_CLIENT, "FLOOD", C_MAC, NULL);
	assert_non_null(f.g);
	assert_non_null(f.c);
	pair[0] = f.g;
	pair[1] = f.c;
	assert_true(rp_pump_admitted(&w, 20 * SEC, pair, 2));
	f.g->record_tags = f.c->record_tags = false;
	(void)rp_pump(&w, 500 * MS, NULL, NULL);
	idle_kib = attack_proc_kib(relay.pid, "VmRSS");
	assert_true(idle_kib > 0);

	assert_int_equal(pipe(pipefd), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(pipefd[0]);
		flood_child(&relay, pipefd[1]);
	}
	close(pipefd[1]);
	/* Keep the room alive while the child builds its Initials. */
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };

		if (poll(&pfd, 1, 0) == 1) {
			assert_int_equal(read(pipefd[0], &ready, 1), 1);
			break;
		}
		(void)rp_pump(&w, 20 * MS, NULL, NULL);
	}
	close(pipefd[0]);

	f.t0 = lp_now_ns();
	while (!flood_cond(&f) && lp_now_ns() - f.t0 < 14 * SEC) {
		(void)rp_pump(&w, 200 * 1000, NULL, NULL);
		if (lp_now_ns() - f.t0 < FLOOD_SECONDS * SEC + 500 * MS) {
			uint64_t n = rp_relay_metric(&relay, "lanparty_relay_quic_connections");

			if (n != UINT64_MAX && n > conns_peak)
				conns_peak = n;
		}
	}
	while (waitpid(child, &status, WNOHANG) == 0)
		(void)rp_pump(&w, 20 * MS, NULL, NULL);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	t_flood_end = f.t0 + FLOOD_SECONDS * SEC;
	(void)rp_pump(&w, 300 * MS, NULL, NULL);
	peak_kib = attack_proc_kib(relay.pid, "VmHWM");
	/* 10 s after the flood ended, with the room still in use. */
	while (lp_now_ns() < t_flood_end + 10 * SEC)
		(void)rp_pump(&w, 50 * MS, NULL, NULL);
	after_kib = attack_proc_kib(relay.pid, "VmRSS");
	pct_g = 100.0 * (double)f.g->frames / FLOOD_FRAMES;
	pct_c = 100.0 * (double)f.c->frames / FLOOD_FRAMES;

	printf("  flood: %u Initials in %d s from %d ports; relay connections peak %llu, "
	       "Retry packets %llu\n",
	       FLOOD_INITIALS, FLOOD_SECONDS, FLOOD_PORTS, (unsigned long long)conns_peak,
	       (unsigned long long)rp_relay_metric(&relay, "lanparty_relay_quic_retries_total"));
	attack_report("flood_frames", pct_g >= 99.0 && pct_c >= 99.0, ">= 99% delivered",
	              "C->G %.1f%%, G->C %.1f%% of %d frames", pct_g, pct_c, FLOOD_FRAMES);
	attack_report("flood_admit", f.admit_ns != 0 && f.admit_ns <= 2 * SEC,
	              "new player admitted <= 2 s", "new player %s %.2f s after trying",
	              f.admit_ns != 0 ? "admitted" : "NOT admitted",
	              (double)(f.admit_ns != 0 ? f.admit_ns : 14 * SEC - FLOOD_JOIN_AT_NS) / 1e9);
	attack_report("flood_rss_peak", peak_kib < RSS_CEILING_KIB, "peak < 64 MiB",
	              "relay RSS idle %.1f MiB, peak %.1f MiB", (double)idle_kib / 1024,
	              (double)peak_kib / 1024);
	attack_report("flood_rss_after", after_kib <= idle_kib + RSS_RETURN_KIB,
	              "<= idle + 10 MiB 10 s after", "relay RSS 10 s after the flood %.1f MiB",
	              (double)after_kib / 1024);
	rp_world_free(&w);
	assert_int_equal(rp_relay_stop(&relay), 0);
}

static bool established_cond(void *arg)
{
	const struct rp_peer *p = arg;

	return p->established || p->closed;
}

static void test_no_hello(void **state)
{
	static const char *const args[] = { "--idle-timeout", "2", NULL };
	struct rp_relay relay;
	struct rp_world w;
	struct rp_peer *m;
	uint64_t t0, lived;

	(void)state;
	assert_int_equal(rp_relay_start(&relay, args), 0);
	assert_int_equal(rp_world_init(&w, &relay), 0);
	m = rp_raw_new(&w, "silent");
	assert_non_null(m);
	assert_true(rp_pump(&w, 10 * SEC, established_cond, m));
	assert_true(m->established);
	t0 = lp_now_ns();
	(void)rp_pump_closed(&w, m, 12 * SEC);
	lived = lp_now_ns() - t0;
	attack_report("no_hello", m->closed && lived <= 5 * SEC,
	              "closed <= 5 s after the handshake", "%s after %.1f s (idle timeout 2 s)",
	              m->closed ? "closed" : "still open", (double)lived / 1e9);
	if (m->closed)
		printf("  closed with app code 0x%llx \"%s\"\n", (unsigned long long)m->close_app,
		       m->close_reason);
	rp_world_free(&w);
	assert_int_equal(rp_relay_stop(&relay), 0);
}

static void test_room_slots(void **state)
{
	static const char *const args[] = { "--max-rooms", "8", "--rooms-per-address", "4", NULL };
	struct rp_relay relay;
	struct rp_world w;
	struct rp_peer *att[8], *v;
	unsigned admitted = 0;
	const struct lp_ctrl_msg *rej;

	(void)state;
	assert_int_equal(rp_relay_start(&relay, args), 0);
	assert_int_equal(rp_world_init(&w, &relay), 0);
	for (unsigned i = 0; i < 8; i++) {
		char name[16], room[16], mac[24];

		snprintf(name, sizeof(name), "A%u", i);
		snprintf(room, sizeof(room), "SQUAT%u", i);
		snprintf(mac, sizeof(mac), "02:00:00:00:5a:%02x", i);
		att[i] = rp_raw_new(&w, name);
		assert_non_null(att[i]);
		assert_true(rp_pump(&w, 10 * SEC, established_cond, att[i]));
		assert_int_equal(rp_raw_hello(att[i], LP_ROLE_CLIENT, room, mac, 1400), 0);
	}
	(void)rp_pump_admitted(&w, 10 * SEC, att, 8);
	for (unsigned i = 0; i < 8; i++)
		admitted += rp_admitted(att[i]);

	w.bind_ip = 0x7f000002; /* 127.0.0.2: another address */
	v = rp_raw_new(&w, "victim");
	assert_non_null(v);
	assert_true(rp_pump(&w, 10 * SEC, established_cond, v));
	assert_true(v->established);
	assert_int_equal(rp_raw_hello(v, LP_ROLE_CLIENT, "PARTY", "02:00:00:00:5a:ff", 1400), 0);
	(void)rp_pump_admitted(&w, 10 * SEC, &v, 1);
	rej = rp_raw_msg(v, LP_CTRL_REJECT);
	attack_report("room_slots", rp_admitted(v) && admitted < 8,
	              "one address cannot take every room; others still open one",
	              "attacker from 127.0.0.1 opened %u/8 rooms; player from 127.0.0.2: %s",
	              admitted,
	              rp_admitted(v) ? "admitted"
	              : rej != NULL  ? lp_ctrl_reject_name(rej->u.reject.reason)
	                             : "no answer");
	rp_world_free(&w);
	assert_int_equal(rp_relay_stop(&relay), 0);
}

/* One address opens more connections than the relay gives one source
 * (64): the rest are not answered, while another address still connects. */
static bool all_settled(void *arg)
{
	struct rp_world *w = arg;

	for (size_t i = 0; i < w->npeers; i++)
		if (!w->peers[i]->established && !w->peers[i]->closed)
			return false;
	return true;
}

static void test_source_cap(void **state)
{
	struct rp_relay relay;
	struct rp_world w;
	struct rp_peer *v;
	unsigned established = 0;
	uint64_t capped;

	(void)state;
	assert_int_equal(rp_relay_start(&relay, NULL), 0);
	assert_int_equal(rp_world_init(&w, &relay), 0);
	for (unsigned i = 0; i < 70; i++)
		assert_non_null(rp_raw_new(&w, "S"));
	/* Well within the 3 s hello deadline, and long enough for 64. */
	(void)rp_pump(&w, 2500 * MS, all_settled, &w);
	for (size_t i = 0; i < w.npeers; i++)
		established += w.peers[i]->established;
	w.bind_ip = 0x7f000002;
	v = rp_raw_new(&w, "other");
	assert_non_null(v);
	(void)rp_pump(&w, 2 * SEC, established_cond, v);
	capped = rp_relay_metric(&relay, "lanparty_relay_quic_source_capped_total");
	attack_report("source_cap", established <= 64 && v->established,
	              "<= 64 connections per source; another source still connects",
	              "127.0.0.1 established %u of 70; 127.0.0.2 %s; %llu Initials capped",
	              established, v->established ? "established" : "NOT established",
	              (unsigned long long)capped);
	rp_world_free(&w);
	assert_int_equal(rp_relay_stop(&relay), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_flood),
		cmocka_unit_test(test_no_hello),
		cmocka_unit_test(test_room_slots),
		cmocka_unit_test(test_source_cap),
	};

	return cmocka_run_group_tests_name("relay_attack", tests, NULL, NULL);
}
