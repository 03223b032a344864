/*
 * Tests for src/gateway/capture.c against the kernel's veth, in network
 * namespaces this test creates and deletes (needs root; skipped otherwise).
 *
 *   netns lp-test-capture-<pid>-b        netns lp-test-capture-<pid>-a
 *   +---------------------------+        +------------------------------+
 *   | va 10.99.7.1/24 mtu 9000  |--------| vb 10.99.7.2/24 mtu 9000     |
 *   | plain packet socket, TCP  |  veth  | lp_capture, TCP listener     |
 *   | client                    |        | (the test process lives here)|
 *   +---------------------------+        +------------------------------+
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture.h"
#include "lp_gso.h"

static char ns_a[64], ns_b[64];
static int orig_ns = -1;
static int tx_fd = -1; /* plain packet socket on va, in ns b */
static int va_index;
static struct lp_capture *cap;

static int sh(const char *fmt, ...) LP_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int enter_ns(const char *name)
{
	char path[128];
	int fd, rc;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = setns(fd, CLONE_NEWNET);
	close(fd);
	return rc;
}

static int teardown(void **state);

static int setup_ns(void **state)
{
	struct sockaddr_ll sll;

	(void)state;
	if (geteuid() != 0)
		return 0;
	snprintf(ns_a, sizeof(ns_a), "lp-test-capture-%d-a", (int)getpid());
	snprintf(ns_b, sizeof(ns_b), "lp-test-capture-%d-b", (int)getpid());
	orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig_ns < 0)
		return -1;
	if (sh("ip netns add %s && ip netns add %s", ns_a, ns_b) != 0)
		return -1;
	if (sh("ip -n %s link add vb type veth peer name va netns %s", ns_a, ns_b) != 0 ||
	    sh("ip -n %s link set vb mtu 9000 up && ip -n %s addr add 10.99.7.2/24 dev vb", ns_a,
	       ns_a) != 0 ||
	    sh("ip -n %s link set va mtu 9000 up && ip -n %s addr add 10.99.7.1/24 dev va", ns_b,
	       ns_b) != 0 ||
	    sh("ip -n %s link set lo up && ip -n %s link set lo up", ns_a, ns_b) != 0)
		return -1;

	/* The sender lives in ns b: a socket stays in the netns it was made in. */
	if (enter_ns(ns_b) < 0)
		return -1;
	va_index = (int)if_nametoindex("va");
	tx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (va_index == 0 || tx_fd < 0)
		return -1;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = va_index;
	if (bind(tx_fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -1;
	if (enter_ns(ns_a) < 0)
		return -1;
	return lp_capture_open("vb", &cap) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	lp_capture_close(cap);
	cap = NULL;
	if (tx_fd >= 0)
		close(tx_fd);
	tx_fd = -1;
	if (orig_ns >= 0) {
		if (setns(orig_ns, CLONE_NEWNET) < 0)
			perror("setns");
		close(orig_ns);
		orig_ns = -1;
		sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", ns_a, ns_b);
	}
	return 0;
}

static int setup(void **state)
{
	if (setup_ns(state) == 0)
		return 0;
	/* cmocka skips the group teardown when setup fails: clean up here */
	teardown(state);
	return -1;
}

static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

static void send_raw(const uint8_t *f, size_t len)
{
	assert_int_equal(send(tx_fd, f, len, 0), (ssize_t)len);
}

/* Builds a test frame: broadcast dst, src 02:..:01, optional tags, then
 * ethertype 0x88b5 and a payload starting with marker. */
static size_t make_frame(uint8_t *f, size_t len, const uint16_t *tags, int ntags, uint8_t marker)
{
	size_t off = 12, i;

	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	for (int t = 0; t < ntags; t++) {
		lp_put_u16(f + off, tags[2 * t]);
		lp_put_u16(f + off + 2, tags[2 * t + 1]);
		off += 4;
	}
	lp_put_u16(f + off, 0x88b5);
	off += 2;
	f[off++] = marker;
	for (i = off; i < len; i++)
		f[i] = (uint8_t)(i * 13 + marker);
	return len;
}

/* Waits up to timeout_ms for a frame of the test ethertype with marker. */
static int wait_marker(uint8_t marker, int timeout_ms, struct lp_capture_frame *hit, uint8_t *copy)
{
	struct lp_capture_frame fr[LP_CAPTURE_RX_BATCH];
	struct pollfd pfd = { .fd = lp_capture_fd(cap), .events = POLLIN };

	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		int n = lp_capture_recv(cap, fr, LP_CAPTURE_RX_BATCH);

		assert_true(n >= 0);
		for (int i = 0; i < n; i++) {
			struct lp_eth eth;

			if (lp_proto_eth_parse(fr[i].data, fr[i].len, &eth) != 0)
				continue;
			if (eth.inner_ethertype != 0x88b5 || eth.l3_len < 1 || eth.l3[0] != marker)
				continue;
			*hit = fr[i];
			memcpy(copy, fr[i].data, fr[i].len);
			hit->data = copy;
			return 1;
		}
		if (n == 0)
			(void)poll(&pfd, 1, 10);
	}
	return 0;
}

static uint8_t sent[9100], got[LP_CAPTURE_FRAME_ROOM];

static void test_plain_frame(void **state)
{
	struct lp_capture_frame hit;
	size_t len = make_frame(sent, 60, NULL, 0, 0xa1);

	(void)state;
	need_root();
	send_raw(sent, len);
	assert_true(wait_marker(0xa1, 2000, &hit, got));
	assert_int_equal(hit.len, 60);
	assert_int_equal(hit.wire_len, 60);
	assert_false(hit.truncated);
	assert_false(hit.vlan_restored);
	assert_int_equal(hit.gso.gso_type, LP_GSO_NONE);
	assert_memory_equal(hit.data, sent, len);
}

static void test_vlan_frame_restored(void **state)
{
	static const uint16_t tag[] = { 0x8100, 0x6000 | 42 }; /* PCP 3, VID 42 */
	struct lp_capture_frame hit;
	size_t len = make_frame(sent, 64, tag, 1, 0xa2);

	(void)state;
	need_root();
	send_raw(sent, len);
	assert_true(wait_marker(0xa2, 2000, &hit, got));
	assert_true(hit.vlan_restored); /* the kernel did strip it */
	assert_false(hit.truncated);
	assert_int_equal(hit.len, 64);
	assert_memory_equal(hit.data, sent, len);
}

static void test_qinq_frame_restored(void **state)
{
	static const uint16_t tags[] = { 0x88a8, 100, 0x8100, 200 };
	struct lp_capture_frame hit;
	size_t len = make_frame(sent, 90, tags, 2, 0xa3);

	(void)state;
	need_root();
	send_raw(sent, len);
	assert_true(wait_marker(0xa3, 2000, &hit, got));
	assert_true(hit.vlan_restored);
	assert_int_equal(hit.len, 90);
	assert_memory_equal(hit.data, sent, len);
}

static void test_jumbo_frame_whole(void **state)
{
	struct lp_capture_frame hit;
	size_t len = make_frame(sent, 3000, NULL, 0, 0xa4);

	(void)state;
	need_root();
	send_raw(sent, len);
	assert_true(wait_marker(0xa4, 2000, &hit, got));
	assert_false(hit.truncated);
	assert_int_equal(hit.len, 3000);
	assert_int_equal(hit.wire_len, 3000);
	assert_memory_equal(hit.data, sent, len);
}

/* What capture writes reaches the peer but never comes back to capture. */
static void test_own_frames_not_read_back(void **state)
{
	struct lp_capture_frame hit;
	struct lp_capture_stats st;
	size_t len = make_frame(sent, 100, NULL, 0, 0xa5);
	uint8_t rx[256];
	int seen = 0;

	(void)state;
	need_root();
	assert_int_equal(lp_capture_queue(cap, sent, len), 0);
	sent[14] = 0xa6;
	assert_int_equal(lp_capture_queue(cap, sent, len), 0);
	assert_int_equal(lp_capture_pending(cap), 2);
	assert_int_equal(lp_capture_flush(cap), 0);
	assert_int_equal(lp_capture_pending(cap), 0);
	lp_capture_get_stats(cap, &st);
	assert_true(st.tx_frames >= 2);

	/* The peer got both. */
	for (int i = 0; i < 200 && seen < 2; i++) {
		struct pollfd pfd = { .fd = tx_fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 10) <= 0)
			continue;
		n = recv(tx_fd, rx, sizeof(rx), MSG_DONTWAIT);
		if (n == (ssize_t)len && rx[12] == 0x88 && rx[13] == 0xb5 &&
		    (rx[14] == 0xa5 || rx[14] == 0xa6))
			seen++;
	}
	assert_int_equal(seen, 2);
	assert_false(wait_marker(0xa5, 300, &hit, got));
	assert_false(wait_marker(0xa6, 10, &hit, got));
}

static void test_queue_errors(void **state)
{
	(void)state;
	need_root();
	assert_int_equal(lp_capture_queue(cap, sent, 0), LP_ERR_INVAL);
	assert_int_equal(lp_capture_queue(cap, got, LP_PROTO_PAYLOAD_MAX + 1), LP_ERR_TOO_BIG);
	/* A runt the kernel refuses is dropped and counted, the rest go. */
	{
		struct lp_capture_stats before, after;

		lp_capture_get_stats(cap, &before);
		assert_int_equal(lp_capture_queue(cap, sent, 5), 0);
		make_frame(sent, 60, NULL, 0, 0xa7);
		assert_int_equal(lp_capture_queue(cap, sent, 60), 0);
		assert_int_equal(lp_capture_flush(cap), 0);
		lp_capture_get_stats(cap, &after);
		assert_int_equal(after.tx_errors, before.tx_errors + 1);
		assert_int_equal(after.tx_frames, before.tx_frames + 1);
	}
	{
		struct lp_capture *c2 = NULL;

		assert_int_equal(lp_capture_open("lp-no-such-if", &c2), LP_ERR_NOT_FOUND);
		assert_null(c2);
	}
}

/* RFC 1071 over a linear buffer, independent of gso.c. */
static uint16_t rfc1071(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

struct tcp_check {
	size_t payload;
	int segments;
	int bad;
};

static int check_segment(void *user, const uint8_t *f, size_t len)
{
	struct tcp_check *tc = user;
	uint8_t ph[12 + 1600];
	const uint8_t *ip = f + 14;
	size_t ihl = (size_t)(ip[0] & 15) * 4, tot = lp_get_u16(ip + 2), l4_len, doff;

	if (len > 14 + 1500 || tot + 14 > len || rfc1071(ip, ihl) != 0) {
		tc->bad++;
		return 0;
	}
	l4_len = tot - ihl;
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	lp_put_u16(ph + 10, (uint16_t)l4_len);
	memcpy(ph + 12, ip + ihl, l4_len);
	if (rfc1071(ph, 12 + l4_len) != 0)
		tc->bad++;
	doff = (size_t)(ip[ihl + 12] >> 4) * 4;
	/* count only data from the client (10.99.7.1) */
	if (ip[15] == 1)
		tc->payload += l4_len - doff;
	tc->segments++;
	return 0;
}

/*
 * The real thing: the kernel's TCP in ns b sends through va with TSO, so vb
 * receives super-frames with CHECKSUM_PARTIAL. After lp_gso_segment every
 * frame must be MTU-sized with valid checksums, and all data accounted for.
 */
static void test_tcp_super_frames_segmented(void **state)
{
	struct lp_capture_frame fr[LP_CAPTURE_RX_BATCH];
	struct pollfd pfd = { .fd = lp_capture_fd(cap), .events = POLLIN };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7777) };
	struct tcp_check tc = { 0 };
	static uint8_t data[60000], scratch[LP_CAPTURE_FRAME_ROOM];
	int lfd, cfd, afd, one = 1, gso_frames = 0, csum_frames = 0;
	size_t total = sizeof(data);

	(void)state;
	need_root();
	assert_int_equal(
	        sh("ip -n %s link set va mtu 1500 && ip -n %s link set vb mtu 1500", ns_b, ns_a),
	        0);
	/* drain whatever link changes produced */
	while (lp_capture_recv(cap, fr, LP_CAPTURE_RX_BATCH) > 0)
		;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	inet_pton(AF_INET, "10.99.7.2", &sin.sin_addr);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(enter_ns(ns_b), 0);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(enter_ns(ns_a), 0);
	assert_true(cfd >= 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	memset(data, 0x5a, sizeof(data));
	assert_int_equal(send(cfd, data, sizeof(data), 0), (ssize_t)sizeof(data));

	for (int waited = 0; waited < 3000 && tc.payload < total; waited += 10) {
		int n = lp_capture_recv(cap, fr, LP_CAPTURE_RX_BATCH);

		assert_true(n >= 0);
		if (n == 0) {
			char sink[65536];

			while (recv(afd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
				;
			(void)poll(&pfd, 1, 10);
			continue;
		}
		for (int i = 0; i < n; i++) {
			struct lp_eth eth;

			assert_false(fr[i].truncated);
			if (lp_proto_eth_parse(fr[i].data, fr[i].len, &eth) != 0 ||
			    eth.inner_ethertype != LP_ETHERTYPE_IPV4)
				continue;
			if (fr[i].gso.gso_type != LP_GSO_NONE)
				gso_frames++;
			if (fr[i].gso.flags & LP_GSO_F_NEEDS_CSUM)
				csum_frames++;
			assert_true(lp_gso_segment(&fr[i].gso, fr[i].data, fr[i].len, scratch,
			                           sizeof(scratch), check_segment, &tc) >= 1);
		}
	}
	close(afd);
	close(cfd);
	close(lfd);
	assert_int_equal(tc.bad, 0);
	assert_int_equal(tc.payload, total);
	assert_true(tc.segments >= 42); /* 60000 / 1448 data segments at least */
	assert_true(gso_frames >= 1);
	assert_true(csum_frames >= 1);
}

static struct lp_capture_frame co_seg[32];
static uint8_t co_buf[32][1600];
static int co_n;

static int co_collect(void *user, const uint8_t *f, size_t len)
{
	(void)user;
	assert_true(co_n < 32 && len <= sizeof(co_buf[0]));
	memcpy(co_buf[co_n], f, len);
	co_seg[co_n].data = co_buf[co_n];
	co_seg[co_n].len = len;
	co_n++;
	return 0;
}

/* TCP segments queued toward the LAN leave as one super-frame (the veth
 * peer's packet socket sees the GSO skb whole), between the frames queued
 * before and after them. */
static void test_tcp_segments_coalesced(void **state)
{
	static uint8_t super[20000 + 54], scratch[LP_CAPTURE_FRAME_ROOM], rx[70000];
	struct lp_gso_meta m = { .gso_type = LP_GSO_TCPV4, .gso_size = 1000 };
	size_t plen = make_frame(sent, 100, NULL, 0, 0xb1), slen = sizeof(super);
	int order[3] = { 0, 0, 0 }, seen = 0;
	struct lp_capture_stats st0, st;

	(void)state;
	need_root();
	memset(super, 0, sizeof(super));
	memcpy(super, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	super[14] = 0x45;
	lp_put_u16(super + 16, (uint16_t)(slen - 14));
	lp_put_u16(super + 20, 0x4000);
	super[22] = 64;
	super[23] = 6;
	memcpy(super + 26, "\x0a\x63\x07\x09\x0a\x63\x07\x08", 8);
	lp_put_u16(super + 34, 1234);
	lp_put_u16(super + 36, 5678);
	lp_put_u32(super + 38, 100);
	lp_put_u32(super + 42, 200);
	super[46] = 0x50;
	super[47] = 0x10;
	lp_put_u16(super + 48, 1000);
	for (size_t i = 54; i < slen; i++)
		super[i] = (uint8_t)(i * 7);
	co_n = 0;
	assert_int_equal(
	        lp_gso_segment(&m, super, slen, scratch, sizeof(scratch), co_collect, NULL), 20);
	lp_capture_get_stats(cap, &st0);
	assert_int_equal(lp_capture_queue(cap, sent, plen), 0);
	for (int i = 0; i < co_n; i++)
		assert_int_equal(lp_capture_queue(cap, co_seg[i].data, co_seg[i].len), 0);
	sent[14] = 0xb2;
	assert_int_equal(lp_capture_queue(cap, sent, plen), 0);
	assert_int_equal(lp_capture_flush(cap), 0);
	lp_capture_get_stats(cap, &st);
	assert_int_equal(st.tx_frames - st0.tx_frames, 22); /* counted as wire frames */

	for (int i = 0; i < 300 && seen < 3; i++) {
		struct pollfd pfd = { .fd = tx_fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 10) <= 0)
			continue;
		n = recv(tx_fd, rx, sizeof(rx), MSG_DONTWAIT);
		if (n == (ssize_t)plen && rx[12] == 0x88 && rx[13] == 0xb5 &&
		    (rx[14] == 0xb1 || rx[14] == 0xb2))
			order[seen++] = rx[14];
		else if (n == (ssize_t)slen && rx[23] == 6 && lp_get_u16(rx + 34) == 1234) {
			/* one packet: every payload byte in order */
			assert_memory_equal(rx + 54, super + 54, slen - 54);
			order[seen++] = 1;
		}
	}
	assert_int_equal(seen, 3);
	assert_int_equal(order[0], 0xb1);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 0xb2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_frame),
		cmocka_unit_test(test_vlan_frame_restored),
		cmocka_unit_test(test_qinq_frame_restored),
		cmocka_unit_test(test_jumbo_frame_whole),
		cmocka_unit_test(test_own_frames_not_read_back),
		cmocka_unit_test(test_queue_errors),
		cmocka_unit_test(test_tcp_super_frames_segmented),
		cmocka_unit_test(test_tcp_segments_coalesced),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
