/* test_quic_dgq.c - the DATAGRAM queue discipline (lib/quic/dgq.h): flows
 * keep their order, sparse flows pass bulk ones, CoDel drops a standing
 * queue, the queue is bounded and gives its memory back; time injected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dgq.h"

#define MS (1000ull * 1000)

/* An overlay datagram carrying Ethernet + IPv4 + TCP/UDP ports, len bytes
 * long; byte 60 onwards is a sequence number to tell datagrams apart. */
static size_t frame(uint8_t *d, size_t len, uint8_t flags, uint8_t proto, uint16_t sport,
                    uint16_t dport, uint32_t seq)
{
	memset(d, 0, len);
	d[0] = 0x11;
	d[1] = flags;
	d[2] = (uint8_t)((len - 4) >> 8);
	d[3] = (uint8_t)(len - 4);
	memset(d + 4, 0x02, 6);  /* dst MAC */
	memset(d + 10, 0x04, 6); /* src MAC */
	d[16] = 0x08;            /* IPv4 */
	d[18] = 0x45;
	d[18 + 9] = proto;
	d[18 + 12] = 10, d[18 + 15] = 1; /* 10.0.0.1 */
	d[18 + 16] = 10, d[18 + 19] = 2; /* 10.0.0.2 */
	d[38] = (uint8_t)(sport >> 8), d[39] = (uint8_t)sport;
	d[40] = (uint8_t)(dport >> 8), d[41] = (uint8_t)dport;
	memcpy(d + 60, &seq, sizeof(seq));
	return len;
}

static uint32_t seq_of(const uint8_t *d)
{
	uint32_t s;

	memcpy(&s, d + 60, sizeof(s));
	return s;
}

static void test_flow_key(void **state)
{
	uint8_t a[1400], b[100], ka[LP_DGQ_FLOW_KEY_MAX], kb[LP_DGQ_FLOW_KEY_MAX];
	size_t na, nb;

	(void)state;
	/* One TCP flow: a data segment and an ACK share the key. */
	na = lp_dgq_flow_key(a, frame(a, sizeof(a), 0, 6, 5001, 40000, 1), ka);
	nb = lp_dgq_flow_key(b, frame(b, sizeof(b), 0, 6, 5001, 40000, 2), kb);
	assert_int_equal(na, nb);
	assert_memory_equal(ka, kb, na);
	/* Another port: another key. */
	nb = lp_dgq_flow_key(b, frame(b, sizeof(b), 0, 6, 5002, 40000, 2), kb);
	assert_true(na != nb || memcmp(ka, kb, na) != 0);
	/* A fragment has no ports to read: keyed by addresses alone, so the
	 * first and the later fragments stay in one flow. */
	frame(a, sizeof(a), 0, 17, 1, 2, 0);
	a[18 + 6] = 0x20; /* MF */
	frame(b, sizeof(b), 0, 17, 0x1111, 0x2222, 0);
	b[18 + 7] = 0xb9; /* offset, no ports in it */
	na = lp_dgq_flow_key(a, sizeof(a), ka);
	nb = lp_dgq_flow_key(b, sizeof(b), kb);
	assert_int_equal(na, nb);
	assert_memory_equal(ka, kb, na);
	/* Sealed (private room): the ports are ciphertext; MACs only. */
	na = lp_dgq_flow_key(a, frame(a, sizeof(a), 1, 6, 1, 2, 0), ka);
	nb = lp_dgq_flow_key(b, frame(b, sizeof(b), 1, 6, 3, 4, 0), kb);
	assert_int_equal(na, nb);
	assert_memory_equal(ka, kb, na);
	/* Too short for Ethernet: one key for all such. */
	assert_int_equal(lp_dgq_flow_key(a, 10, ka), 1);
}

static void test_sparse_flow_first(void **state)
{
	struct lp_dgq q;
	uint8_t d[1400];
	size_t len;
	int pos = -1;

	(void)state;
	lp_dgq_init(&q, 256, 1, 2);
	for (uint32_t i = 0; i < 200; i++)
		assert_int_equal(lp_dgq_push(&q, d, frame(d, 1400, 0, 6, 5001, 40000, i), MS), 0);
	assert_int_equal(lp_dgq_push(&q, d, frame(d, 98, 0, 1, 0, 0, 9999), MS), 0); /* ping */
	for (int i = 0; i < 201; i++) {
		const uint8_t *p = lp_dgq_peek(&q, &len, MS + 100);

		assert_non_null(p);
		if (seq_of(p) == 9999) {
			pos = i;
			assert_int_equal(len, 98);
		}
		lp_dgq_pop(&q, LP_DGQ_SENT, MS + 100);
	}
	/* Behind 200 bulk datagrams in a FIFO it would leave last; here at
	 * most one quantum of bulk goes first. */
	assert_true(pos >= 0 && pos <= 2);
	assert_null(lp_dgq_peek(&q, &len, MS + 100));
	assert_int_equal(q.count, 0);
	lp_dgq_clear(&q);
}

static void test_flow_keeps_order(void **state)
{
	struct lp_dgq q;
	uint8_t d[1400];
	uint32_t next[2] = { 0, 1000 };
	size_t len;

	(void)state;
	lp_dgq_init(&q, 256, 3, 4);
	/* Two flows, each alternating full segments and small ACK-sized
	 * datagrams: small ones never pass the large ones of their flow. */
	for (uint32_t i = 0; i < 100; i++) {
		size_t n = i % 2 ? 80 : 1400;

		assert_int_equal(lp_dgq_push(&q, d, frame(d, n, 0, 6, 1, 2, i), 0), 0);
		assert_int_equal(lp_dgq_push(&q, d, frame(d, n, 0, 6, 3, 4, 1000 + i), 0), 0);
	}
	for (int i = 0; i < 200; i++) {
		const uint8_t *p = lp_dgq_peek(&q, &len, 1);
		uint32_t s;

		assert_non_null(p);
		s = seq_of(p);
		assert_int_equal(s, next[s >= 1000]);
		next[s >= 1000]++;
		lp_dgq_pop(&q, LP_DGQ_SENT, 1);
	}
	assert_int_equal(q.drops[LP_DGQ_DROP_CODEL], 0);
	lp_dgq_clear(&q);
}

/* A bulk flow sent 10% faster than the link takes it (11 datagrams per
 * 10 ms, 1 leaves per ms), for 5 s: a FIFO would stand at 500 datagrams
 * (500 ms); CoDel drops until the delay is near target. */
static void test_codel_drops_standing_queue(void **state)
{
	struct lp_dgq q;
	uint8_t d[1400];
	uint64_t now = 1000 * MS, backlog = 0;
	uint32_t seq = 0;
	size_t len;

	(void)state;
	lp_dgq_init(&q, 100000, 5, 6);
	for (int ms = 0; ms < 5000; ms++, now += MS) {
		const uint8_t *p;

		for (int k = 0; k < (ms % 10 == 0 ? 2 : 1); k++)
			assert_int_equal(lp_dgq_push(&q, d, frame(d, 1400, 0, 6, 1, 2, seq++), now),
			                 0);
		p = lp_dgq_peek(&q, &len, now);
		assert_non_null(p);
		lp_dgq_pop(&q, LP_DGQ_SENT, now);
		backlog = q.count;
	}
	print_message("codel: %llu drops, %llu queued at the end\n",
	              (unsigned long long)q.drops[LP_DGQ_DROP_CODEL], (unsigned long long)backlog);
	assert_true(q.drops[LP_DGQ_DROP_CODEL] > 300);
	assert_true(backlog < 100);
	assert_int_equal(q.drops[LP_DGQ_DROP_FULL], 0);
	lp_dgq_clear(&q);
}

/* The same flow at exactly the link rate: no standing queue, no drop. */
static void test_codel_leaves_short_queue(void **state)
{
	struct lp_dgq q;
	uint8_t d[1400];
	uint64_t now = MS;
	size_t len;

	(void)state;
	lp_dgq_init(&q, 256, 7, 8);
	/* A burst of 4, then steady: each waits at most 4 ms < 5 ms. */
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(lp_dgq_push(&q, d, frame(d, 1400, 0, 6, 1, 2, i), now), 0);
	for (int ms = 0; ms < 2000; ms++, now += MS) {
		assert_int_equal(lp_dgq_push(&q, d, frame(d, 1400, 0, 6, 1, 2, 100), now), 0);
		assert_non_null(lp_dgq_peek(&q, &len, now));
		lp_dgq_pop(&q, LP_DGQ_SENT, now);
	}
	assert_int_equal(q.drops[LP_DGQ_DROP_CODEL], 0);
	lp_dgq_clear(&q);
}

static void test_bounded(void **state)
{
	struct lp_dgq q;
	uint8_t d[1400];
	size_t len;
	const uint8_t *p;

	(void)state;
	lp_dgq_init(&q, 8, 9, 10);
	for (uint32_t i = 0; i < 8; i++)
		assert_int_equal(lp_dgq_push(&q, d, frame(d, 1400, 0, 6, 1, 2, i), 0), 0);
	/* The largest flow's next datagram: refused. */
	assert_int_equal(lp_dgq_push(&q, d, frame(d, 1400, 0, 6, 1, 2, 8), 0), LP_ERR_AGAIN);
	assert_int_equal(q.drops[LP_DGQ_DROP_FULL], 1);
	/* Another flow's: taken, the bulk flow's oldest makes room. */
	assert_int_equal(lp_dgq_push(&q, d, frame(d, 80, 0, 17, 7, 7, 500), 0), 0);
	assert_int_equal(q.drops[LP_DGQ_DROP_OVERFLOW], 1);
	assert_int_equal(q.count, 8);
	p = lp_dgq_peek(&q, &len, 0);
	assert_non_null(p);
	assert_int_equal(seq_of(p), 1); /* 0 was dropped */
	lp_dgq_pop(&q, LP_DGQ_DROP_UNSENDABLE, 0);
	assert_int_equal(q.drops[LP_DGQ_DROP_UNSENDABLE], 1);
	assert_int_equal(q.count, 7);
	assert_int_equal(lp_dgq_push(&q, NULL, 10, 0), LP_ERR_INVAL);
	assert_int_equal(lp_dgq_push(&q, d, 0, 0), LP_ERR_INVAL);
	lp_dgq_clear(&q);
}

static void test_memory_released_when_idle(void **state)
{
	struct lp_dgq q;
	uint8_t d[1400];
	size_t len;

	(void)state;
	lp_dgq_init(&q, 256, 11, 12);
	assert_int_equal(lp_dgq_mem(&q), 0); /* nothing before the first push */
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(lp_dgq_push(&q, d, frame(d, 1000, 0, 6, 1, 2, i), MS), 0);
	assert_true(lp_dgq_mem(&q) >= 10 * 1000);
	while (lp_dgq_peek(&q, &len, 2 * MS) != NULL)
		lp_dgq_pop(&q, LP_DGQ_SENT, 2 * MS);
	assert_int_equal(q.count, 0);
	assert_non_null(q.flows);
	/* A time from before the queue emptied (a caller's older clock
	 * reading) is no idle time at all, not 2^64 ns of it. */
	lp_dgq_trim(&q, 2 * MS - 1);
	assert_non_null(q.flows);
	lp_dgq_trim(&q, 2 * MS + LP_DGQ_IDLE_NS - 1); /* not yet */
	assert_non_null(q.flows);
	lp_dgq_trim(&q, 2 * MS + LP_DGQ_IDLE_NS);
	assert_null(q.flows);
	assert_int_equal(lp_dgq_mem(&q), 0);
	/* Usable again. */
	assert_int_equal(lp_dgq_push(&q, d, frame(d, 100, 0, 6, 1, 2, 0), 3 * LP_DGQ_IDLE_NS), 0);
	assert_int_equal(q.count, 1);
	lp_dgq_clear(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_key),
		cmocka_unit_test(test_sparse_flow_first),
		cmocka_unit_test(test_flow_keeps_order),
		cmocka_unit_test(test_codel_drops_standing_queue),
		cmocka_unit_test(test_codel_leaves_short_queue),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_memory_released_when_idle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
