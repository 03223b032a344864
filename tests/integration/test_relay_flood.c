/*
 * test_relay_flood.c - legitimate traffic through the real lanparty-relay
 * keeps flowing while the relay is attacked:
 *
 *   gateway G  <--- 2000 x 1000-byte unicast each way, paced --->  client C
 *        \                                                          /
 *         +------------------ lanparty-relay (child) ----------------+
 *                    ^                                  ^
 *   garbage child: 50k UDP packets (random bytes,      raw peer M (admitted):
 *   truncated / mutated QUIC Initials, random long     malformed datagrams
 *   and short headers) at 25k packets/s (10k at 5k/s   until the relay closes it
 *   under AddressSanitizer)
 *
 * Asserts: G and C each receive >= 99% of the other's frames, M is closed
 * with application error 0x3, the relay counted the garbage as dropped
 * packets, and it still shuts down cleanly. Prints the numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "relay_proc.h"

#define MS LP_NS_PER_MS
#define SEC LP_NS_PER_SEC
#define FRAMES 2000
#define FRAME_LEN 1000
#define PACE_NS (1 * MS) /* per direction: 1000 frames/s */
/* The flood lasts about as long as the legitimate traffic (2 s). A relay
 * built with AddressSanitizer is several times slower per packet (every
 * mutated Initial costs a key derivation and a failed decryption), so a
 * sanitized build gets a fifth of the rate: the test checks that garbage
 * the relay can absorb does not cost legitimate frames, not the
 * sanitizer's speed. */
#if defined(__SANITIZE_ADDRESS__)
#define LP_FLOOD_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LP_FLOOD_SANITIZED 1
#endif
#endif
#ifdef LP_FLOOD_SANITIZED
#define GARBAGE 10000u
#define GARBAGE_RATE 5000 /* packets/s */
#else
#define GARBAGE 50000u
#define GARBAGE_RATE 25000 /* packets/s */
#endif
#define BATCH 32
#define G_MAC "02:00:00:00:fd:01"
#define C_MAC "02:00:00:00:fd:0c"
#define M_MAC "02:00:00:00:fd:0d"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible garbage. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void rnd_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* A genuine client Initial (first flight) to mutate, from a connection that
 * is never used otherwise. */
static size_t capture_initial(const struct rp_world *w, uint8_t *out, size_t cap)
{
	struct lp_quic_path path = { 0 };
	struct lp_quic_conn *c = NULL;
	uint8_t *buf = malloc(LP_QUIC_WRITE_BUF_MIN);
	size_t gso = 0, len = 0;
	ssize_t n;

	assert_non_null(buf);
	path.local = w->relay->addr;
	path.remote = w->relay->addr;
	assert_int_equal(lp_quic_conn_connect(w->ctx, &path, NULL, NULL, lp_now_ns(), &c), 0);
	n = lp_quic_conn_write(c, buf, LP_QUIC_WRITE_BUF_MIN, &gso, &path, lp_now_ns());
	assert_true(n >= 1200);
	len = gso != 0 && gso < (size_t)n ? gso : (size_t)n;
	assert_true(len <= cap);
	memcpy(out, buf, len);
	lp_quic_conn_del(c);
	free(buf);
	return len;
}

/* One garbage packet of kind i % 5 into p; returns its length. */
static size_t make_garbage(uint8_t *p, size_t cap, unsigned i, const uint8_t *initial, size_t ilen)
{
	size_t len;

	switch (i % 5) {
	case 0: /* random bytes */
		len = 1 + rnd() % 1400;
		rnd_fill(p, len);
		return len;
	case 1: /* a truncated Initial */
		len = 1 + rnd() % (ilen - 1);
		memcpy(p, initial, len);
		return len;
	case 2: /* an Initial with a few flipped bytes (header or payload) */
		memcpy(p, initial, ilen);
		for (unsigned k = 0; k < 1 + rnd() % 4; k++)
			p[rnd() % ilen] ^= (uint8_t)(1 + rnd() % 255);
		return ilen;
	case 3: /* a long header: random version, CID lengths and body */
		len = 7 + rnd() % 1400;
		if (len > cap)
			len = cap;
		rnd_fill(p, len);
		p[0] |= 0xc0;
		if (rnd() % 2)
			lp_put_u32(p + 1, 1); /* QUIC v1 with nonsense after it */
		p[5] = (uint8_t)(rnd() % 21);
		return len;
	default: /* a short header for a connection that does not exist */
		len = 20 + rnd() % 1200;
		rnd_fill(p, len);
		p[0] = (uint8_t)((p[0] & 0x3f) | 0x40);
		return len;
	}
}

/* The flooding child: GARBAGE packets at GARBAGE_RATE, then exits 0. */
static void garbage_child(const struct rp_relay *r, const uint8_t *initial, size_t ilen)
{
	static uint8_t pkts[BATCH][1500];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t t0 = lp_now_ns();
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned sent = 0;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (fd < 0)
		_exit(2);
	rng_state ^= (uint64_t)getpid();
	while (sent < GARBAGE) {
		unsigned n = GARBAGE - sent < BATCH ? GARBAGE - sent : BATCH;
		uint64_t due = t0 + (uint64_t)sent * SEC / GARBAGE_RATE, now = lp_now_ns();
		int rv;

		if (now < due) {
			struct timespec ts = { 0, (long)(due - now) };

			nanosleep(&ts, NULL);
		}
		memset(msgs, 0, sizeof(msgs));
		for (unsigned k = 0; k < n; k++) {
			iov[k].iov_base = pkts[k];
			iov[k].iov_len =
			        make_garbage(pkts[k], sizeof(pkts[k]), sent + k, initial, ilen);
			msgs[k].msg_hdr.msg_iov = &iov[k];
			msgs[k].msg_hdr.msg_iovlen = 1;
			msgs[k].msg_hdr.msg_name = (void *)(uintptr_t)&r->addr;
			msgs[k].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
		}
		rv = sendmmsg(fd, msgs, n, 0);
		if (rv <= 0) {
			struct timespec ts = { 0, 100000 };

			nanosleep(&ts, NULL); /* socket buffer full: retry */
			continue;
		}
		sent += (unsigned)rv;
	}
	close(fd);
	_exit(0);
}

static void test_flood(void **state)
{
	static const char *const args[] = { "--log-level", "info", NULL };
	struct rp_relay relay;
	struct rp_world w;
	struct rp_peer *g, *c, *m, *pair[2];
	uint8_t initial[1500], fc[FRAME_LEN], fg[FRAME_LEN], junk[64];
	size_t ilen;
	unsigned sent_c = 0, sent_g = 0, junk_sent = 0;
	uint64_t t0, t_end, dropped0, dropped1, malformed;
	pid_t child;
	int status = -1;

	(void)state;
	assert_int_equal(rp_relay_start(&relay, args), 0);
	assert_int_equal(rp_world_init(&w, &relay), 0);
	g = rp_session_new(&w, "G", LP_ROLE_GATEWAY, "FLOOD", G_MAC, NULL);
	c = rp_session_new(&w, "C", LP_ROLE_CLIENT, "FLOOD", C_MAC, NULL);
	assert_non_null(g);
	assert_non_null(c);
	pair[0] = g;
	pair[1] = c;
	assert_true(rp_pump_admitted(&w, 20 * SEC, pair, 2));
	g->record_tags = false;
	c->record_tags = false;

	m = rp_raw_new(&w, "M");
	assert_non_null(m);
	while (!m->established && !m->closed)
		(void)rp_pump(&w, 10 * MS, NULL, NULL);
	assert_true(m->established);
	assert_int_equal(rp_raw_hello(m, LP_ROLE_CLIENT, "FLOOD", M_MAC, 1400), 0);
	assert_true(rp_pump_admitted(&w, 20 * SEC, &m, 1));

	ilen = capture_initial(&w, initial, sizeof(initial));
	dropped0 = rp_relay_metric(&relay, "lanparty_relay_quic_dropped_packets_total");
	assert_true(dropped0 != UINT64_MAX);

	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		garbage_child(&relay, initial, ilen);

	/* Paced legitimate traffic both ways; M sends a malformed datagram per
	 * round until the relay closes it. */
	t0 = lp_now_ns();
	while (sent_c < FRAMES || sent_g < FRAMES) {
		uint64_t due = (lp_now_ns() - t0) / PACE_NS + 1;

		while (sent_c < FRAMES && sent_c < due) {
			rp_frame_build(fc, FRAME_LEN, G_MAC, C_MAC, LP_ETHERTYPE_IPV4, sent_c);
			if (rp_send_frame(c, fc, FRAME_LEN) != 0)
				break;
			sent_c++;
		}
		while (sent_g < FRAMES && sent_g < due) {
			rp_frame_build(fg, FRAME_LEN, C_MAC, G_MAC, LP_ETHERTYPE_IPV4, sent_g);
			if (rp_send_frame(g, fg, FRAME_LEN) != 0)
				break;
			sent_g++;
		}
		if (!m->closed) {
			rnd_fill(junk, sizeof(junk));
			junk[0] = 0xff; /* never a valid overlay version */
			if (rp_raw_datagram(m, junk, 1 + rnd() % sizeof(junk)) == 0)
				junk_sent++;
		}
		(void)rp_pump(&w, 200 * 1000, NULL, NULL);
		assert_true(lp_now_ns() - t0 < 60 * SEC);
	}
	/* Let the last frames arrive and the flood finish. */
	while (waitpid(child, &status, WNOHANG) == 0)
		(void)rp_pump(&w, 20 * MS, NULL, NULL);
	(void)rp_pump(&w, 1 * SEC, NULL, NULL);
	t_end = lp_now_ns();
	dropped1 = rp_relay_metric(&relay, "lanparty_relay_quic_dropped_packets_total");
	malformed = rp_relay_metric(&relay, "lanparty_relay_drops_total{reason=\"malformed\"}");

	printf("  legit: client->gateway %u sent, %llu received (%.2f%%); gateway->client %u sent, "
	       "%llu received (%.2f%%)\n",
	       sent_c, (unsigned long long)g->frames, 100.0 * (double)g->frames / FRAMES, sent_g,
	       (unsigned long long)c->frames, 100.0 * (double)c->frames / FRAMES);
	printf("  garbage: %u UDP packets sent by the flooder; relay dropped-packet counter "
	       "+%llu (lanparty_relay_quic_dropped_packets_total %llu)\n",
	       GARBAGE, (unsigned long long)(dropped1 - dropped0), (unsigned long long)dropped1);
	printf("  malformed peer: %u datagrams sent, closed %s with app code 0x%llx (\"%s\"); "
	       "relay malformed drops %llu\n",
	       junk_sent, m->closed ? "yes" : "NO", (unsigned long long)m->close_app,
	       m->close_reason, (unsigned long long)malformed);
	printf("  relay: frames in %llu, frames out %llu, egress queue drops %llu; time: %.2f s\n",
	       (unsigned long long)rp_relay_metric(&relay, "lanparty_relay_frames_rx_total"),
	       (unsigned long long)rp_relay_metric(&relay, "lanparty_relay_frames_tx_total"),
	       (unsigned long long)rp_relay_metric(
	               &relay, "lanparty_relay_drops_total{reason=\"queue_full\"}"),
	       (double)(t_end - t0) / 1e9);

	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(sent_c, FRAMES);
	assert_int_equal(sent_g, FRAMES);
	assert_true(g->frames * 100 >= (uint64_t)FRAMES * 99);
	assert_true(c->frames * 100 >= (uint64_t)FRAMES * 99);
	assert_true(g->frames <= FRAMES);
	assert_true(c->frames <= FRAMES);
	assert_true(rp_admitted(g));
	assert_true(rp_admitted(c));
	assert_true(m->closed);
	assert_int_equal(m->close_app, LP_QUIC_APP_MALFORMED);
	assert_true(malformed >= 64); /* the default --malformed-limit */
	/* Every packet of the flood reached the relay's socket on loopback; at
	 * least the ones no connection could own must be counted as dropped. */
	assert_true(dropped1 != UINT64_MAX);
	assert_true(dropped1 - dropped0 >= GARBAGE / 2);

	rp_world_free(&w);
	assert_int_equal(rp_relay_stop(&relay), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flood),
	};

	return cmocka_run_group_tests_name("relay_flood", tests, NULL, NULL);
}
