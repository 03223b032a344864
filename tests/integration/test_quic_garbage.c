/*
 * test_quic_garbage.c - a server under garbage (random bytes, truncated and
 * mutated Initials, mutated packets of a live connection) keeps serving a
 * real client that exchanges datagrams the whole time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define SEC LP_NS_PER_SEC

static uint32_t rng = 0x12345678;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static bool both_established(struct h_env *e, void *arg)
{
	(void)arg;
	return e->cl[0].p.established && e->s.npeers > 0 && e->s.peers[0].established;
}

/* A real client Initial, produced by a throwaway connection. */
static size_t real_initial(struct h_env *e, uint8_t *out)
{
	struct lp_quic_client_cfg ccfg;
	struct lp_quic_ctx *ctx;
	struct lp_quic_conn *c;
	struct lp_quic_path path;
	size_t gso;
	ssize_t n;

	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.server_name = "localhost";
	ccfg.pin_der_file = "/dev/null";
	memset(&path, 0, sizeof(path));
	path.remote = e->s.addr;
	path.local.ss_family = AF_INET;
	/* An empty pin is refused: use the system store instead. */
	ccfg.pin_der_file = NULL;
	assert_int_equal(lp_quic_ctx_new_client(&ccfg, NULL, &ctx), 0);
	assert_int_equal(lp_quic_conn_connect(ctx, &path, NULL, NULL, lp_now_ns(), &c), 0);
	n = lp_quic_conn_write(c, e->txbuf, LP_QUIC_WRITE_BUF_MIN, &gso, &path, lp_now_ns());
	assert_true(n >= 1200);
	memcpy(out, e->txbuf, 1500 < (size_t)n ? 1500 : (size_t)n);
	lp_quic_conn_del(c);
	lp_quic_ctx_del(ctx);
	return (size_t)n > 1500 ? 1500 : (size_t)n;
}

static void test_garbage_while_serving(void **state)
{
	struct h_env *e = calloc(1, sizeof(*e));
	struct lp_quic_server_cfg scfg;
	struct lp_quic_client_cfg ccfg;
	char pin[256];
	uint8_t init[1500], pkt[1500], dg[1000];
	size_t init_len;
	struct lp_udp *atk;
	struct sockaddr_in a;
	struct lp_quic_path apath;
	uint64_t sent_dg = 0, garbage = 0, kinds[5] = { 0 };
	uint64_t end;

	(void)state;
	h_env_init(e);
	memset(&scfg, 0, sizeof(scfg));
	snprintf(pin, sizeof(pin), "%s/garbage.der", h_tmpdir());
	scfg.dev_cert_der_out = pin;
	scfg.max_connections = 64;
	assert_int_equal(h_server_start(e, &scfg), 0);
	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.pin_der_file = pin;
	assert_int_equal(h_client_start(e, 0, &ccfg), 0);
	assert_true(h_pump(e, 5 * SEC, both_established, NULL));
	init_len = real_initial(e, init);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(lp_udp_open((struct sockaddr *)&a, &atk), 0);
	memset(&apath, 0, sizeof(apath));
	apath.remote = e->s.addr;

	e->capture = true;
	end = lp_now_ns() + 2 * SEC;
	for (uint32_t seq = 0; lp_now_ns() < end; seq++) {
		/* The real client: a datagram per round. */
		h_fill(dg, sizeof(dg), seq);
		if (lp_quic_conn_datagram_send(e->cl[0].p.c, dg, sizeof(dg)) == 0)
			sent_dg++;
		/* The attacker: a few packets per round. */
		for (int k = 0; k < 4; k++) {
			size_t len;
			unsigned kind = rnd() % 5;

			switch (kind) {
			case 0: /* random bytes */
				len = 1 + rnd() % 1400;
				for (size_t i = 0; i < len; i++)
					pkt[i] = (uint8_t)rnd();
				break;
			case 1: /* truncated Initial */
				len = 1 + rnd() % (init_len - 1);
				memcpy(pkt, init, len);
				break;
			case 2: /* mutated Initial */
				len = init_len;
				memcpy(pkt, init, len);
				for (int m = 0; m < 1 + (int)(rnd() % 8); m++)
					pkt[rnd() % len] ^= (uint8_t)(1 + rnd() % 255);
				break;
			case 3: /* mutated packet of the live connection */
				if (e->ncap == 0)
					continue;
				len = e->cap_len[rnd() % (e->ncap < 16 ? e->ncap : 16)];
				memcpy(pkt, e->cap_pkt[(e->ncap - 1) % 16], len);
				for (int m = 0; m < 1 + (int)(rnd() % 4); m++)
					pkt[rnd() % len] ^= (uint8_t)(1 + rnd() % 255);
				break;
			default: /* long header, random version and CIDs */
				len = 1200;
				for (size_t i = 0; i < len; i++)
					pkt[i] = (uint8_t)rnd();
				pkt[0] |= 0xc0;
				pkt[5] = (uint8_t)(rnd() % 24);
				break;
			}
			(void)!lp_udp_send(atk, &apath, pkt, len, 0);
			garbage++;
			kinds[kind]++;
		}
		h_pump(e, 200000, NULL, NULL);
	}
	e->capture = false;
	/* Let the last datagrams arrive. */
	h_pump(e, 300 * LP_NS_PER_MS, NULL, NULL);
	printf("# garbage sent %llu (random %llu, truncated Initial %llu, mutated Initial %llu, "
	       "mutated 1-RTT %llu, random long header %llu); server dropped %llu, "
	       "connections now %zu; real client: %llu/%llu datagrams delivered\n",
	       (unsigned long long)garbage, (unsigned long long)kinds[0],
	       (unsigned long long)kinds[1], (unsigned long long)kinds[2],
	       (unsigned long long)kinds[3], (unsigned long long)kinds[4],
	       (unsigned long long)lp_quic_server_dropped(e->s.srv),
	       lp_quic_server_conn_count(e->s.srv), (unsigned long long)e->s.peers[0].dgrams,
	       (unsigned long long)sent_dg);
	assert_int_equal(lp_quic_conn_state(e->cl[0].p.c), LP_QUIC_ESTABLISHED);
	assert_false(e->cl[0].p.closed);
	assert_false(e->s.peers[0].closed);
	assert_true(sent_dg > 100);
	assert_true(e->s.peers[0].dgrams >= sent_dg * 99 / 100);
	assert_int_equal(e->s.peers[0].dgram_bad, 0);
	assert_true(lp_quic_server_dropped(e->s.srv) >= kinds[0] / 2);
	assert_true(lp_quic_server_conn_count(e->s.srv) <= 64);
	/* The control stream still works both ways. */
	e->s.peers[0].echo_stream = true;
	assert_int_equal(lp_quic_conn_stream_send(e->cl[0].p.c, (const uint8_t *)"still here", 10),
	                 0);
	h_pump(e, SEC, NULL, NULL);
	assert_int_equal(e->cl[0].p.stream_len, 10);
	assert_memory_equal(e->cl[0].p.stream, "still here", 10);
	lp_udp_close(atk);
	h_env_free(e);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garbage_while_serving),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
