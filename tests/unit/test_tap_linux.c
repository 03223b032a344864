/*
 * Tests for lib/client-tap/tap_linux.c against the kernel's TAP driver, in
 * a network namespace this test creates and deletes (root; else skipped).
 *
 *   netns lp-test-tap-<pid>
 *   +------------------------------------------------------------+
 *   |  lp_tap fd  <== /dev/net/tun ==>  lptest0 (02:11:22:33:44:55,|
 *   |                                   MTU 1380)                 |
 *   |                                      ^                      |
 *   |                      plain packet socket bound to lptest0    |
 *   +------------------------------------------------------------+
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
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lp_tap.h"

#define IFNAME "lptest0"

static char ns[64];
static int orig_ns = -1;

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

static int teardown(void **state)
{
	(void)state;
	if (orig_ns >= 0) {
		if (setns(orig_ns, CLONE_NEWNET) < 0)
			perror("setns");
		close(orig_ns);
		orig_ns = -1;
		sh("ip netns del %s 2>/dev/null", ns);
	}
	return 0;
}

static int setup(void **state)
{
	char path[128];
	int fd;

	if (geteuid() != 0)
		return 0;
	snprintf(ns, sizeof(ns), "lp-test-tap-%d", (int)getpid());
	orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig_ns < 0)
		return -1;
	/* No IPv6: its link-up chatter would make "nothing to read" racy. */
	if (sh("ip netns add %s && ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
	       "net.ipv6.conf.default.disable_ipv6=1",
	       ns, ns) != 0)
		goto fail;
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (setns(fd, CLONE_NEWNET) < 0) {
		close(fd);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	teardown(state);
	return -1;
}

static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

static const struct lp_mac tap_mac = { { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 } };

static int packet_socket(unsigned ifindex)
{
	struct sockaddr_ll sll;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	assert_true(fd >= 0);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return fd;
}

static size_t test_frame(uint8_t *f, size_t len, const struct lp_mac *dst, uint8_t marker)
{
	memcpy(f, dst->b, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x09", 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(marker + i);
	f[14] = marker;
	return len;
}

static void test_create_configure_and_frames(void **state)
{
	struct lp_tap_config cfg = { .name = IFNAME, .mac = &tap_mac, .mtu = 1380 };
	struct lp_tap *t = NULL;
	struct lp_tap_info info;
	struct ifreq ifr;
	uint8_t out[200], in[2048];
	char ip[64];
	int ctl, pfd, found = 0;
	ssize_t n;

	(void)state;
	need_root();
	assert_int_equal(lp_tap_open(&cfg, &t), 0);
	assert_non_null(t);

	/* Checked with our own ioctls, not the module's getters. */
	ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(ctl >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", IFNAME);
	assert_int_equal(ioctl(ctl, SIOCGIFHWADDR, &ifr), 0);
	assert_memory_equal(ifr.ifr_hwaddr.sa_data, tap_mac.b, 6);
	assert_int_equal(ioctl(ctl, SIOCGIFMTU, &ifr), 0);
	assert_int_equal(ifr.ifr_mtu, 1380);
	assert_int_equal(ioctl(ctl, SIOCGIFFLAGS, &ifr), 0);
	assert_int_equal(ifr.ifr_flags & IFF_UP, 0); /* left down */

	assert_int_equal(lp_tap_set_up(t, true), 0);
	assert_int_equal(ioctl(ctl, SIOCGIFFLAGS, &ifr), 0);
	assert_int_equal(ifr.ifr_flags & IFF_UP, IFF_UP);

	assert_int_equal(lp_tap_get_info(t, &info), 0);
	assert_string_equal(info.name, IFNAME);
	assert_string_equal(info.id, "");
	assert_int_equal(info.ifindex, if_nametoindex(IFNAME));
	assert_memory_equal(info.mac.b, tap_mac.b, 6);
	assert_int_equal(info.mtu, 1380);
	assert_true(info.up);
	assert_int_equal(lp_tap_get_handle(t) >= 0, 1);

	/* Nothing queued yet. */
	assert_int_equal(lp_tap_read(t, in, sizeof(in)), LP_ERR_AGAIN);

	/* tap -> kernel: what we write arrives on the interface. */
	pfd = packet_socket(info.ifindex);
	test_frame(out, sizeof(out), &tap_mac, 0xc1);
	assert_int_equal(lp_tap_write(t, out, sizeof(out)), (ssize_t)sizeof(out));
	for (int i = 0; i < 100 && !found; i++) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		if (poll(&p, 1, 10) <= 0)
			continue;
		n = recv(pfd, in, sizeof(in), MSG_DONTWAIT);
		if (n == (ssize_t)sizeof(out) && memcmp(in, out, sizeof(out)) == 0)
			found = 1;
	}
	assert_true(found);

	/* kernel -> tap: a frame sent out of the interface is read whole. */
	test_frame(out, sizeof(out), &tap_mac, 0xc2);
	assert_int_equal(send(pfd, out, sizeof(out), 0), (ssize_t)sizeof(out));
	found = 0;
	for (int i = 0; i < 100 && !found; i++) {
		struct pollfd p = { .fd = (int)lp_tap_get_handle(t), .events = POLLIN };

		if (poll(&p, 1, 10) <= 0)
			continue;
		n = lp_tap_read(t, in, sizeof(in));
		if (n == (ssize_t)sizeof(out) && memcmp(in, out, sizeof(out)) == 0)
			found = 1;
	}
	assert_true(found);

	/* A frame larger than the caller's buffer is reported, not cut silently. */
	test_frame(out, sizeof(out), &tap_mac, 0xc3);
	assert_int_equal(send(pfd, out, sizeof(out), 0), (ssize_t)sizeof(out));
	{
		struct pollfd p = { .fd = (int)lp_tap_get_handle(t), .events = POLLIN };

		assert_int_equal(poll(&p, 1, 1000), 1);
		assert_int_equal(lp_tap_read(t, in, 100), LP_ERR_TRUNCATED);
	}

	/* Writes too short for an Ethernet header are refused. */
	assert_int_equal(lp_tap_write(t, out, 10), LP_ERR_INVAL);

	/* IPv4 for diagnostics: "" first, then the assigned address. */
	assert_int_equal(lp_tap_ipv4(t, ip, sizeof(ip)), 0);
	assert_string_equal(ip, "");
	assert_int_equal(sh("ip addr add 10.98.0.5/24 dev %s", IFNAME), 0);
	assert_int_equal(sh("ip addr add 10.98.1.6/24 dev %s", IFNAME), 0);
	assert_int_equal(lp_tap_ipv4(t, ip, sizeof(ip)), 0);
	assert_string_equal(ip, "10.98.0.5");
	assert_int_equal(lp_tap_ipv4(t, ip, 5), LP_ERR_NOBUF);

	/* MTU changes and range checks. */
	assert_int_equal(lp_tap_set_mtu(t, 1400), 0);
	assert_int_equal(ioctl(ctl, SIOCGIFMTU, &ifr), 0);
	assert_int_equal(ifr.ifr_mtu, 1400);
	assert_int_equal(lp_tap_set_mtu(t, 1279), LP_ERR_MTU_RANGE);
	assert_int_equal(lp_tap_set_up(t, false), 0);
	assert_int_equal(ioctl(ctl, SIOCGIFFLAGS, &ifr), 0);
	assert_int_equal(ifr.ifr_flags & IFF_UP, 0);

	close(pfd);
	close(ctl);
	/* Not persistent: the interface goes away with the fd. */
	lp_tap_close(t);
	assert_int_equal(if_nametoindex(IFNAME), 0);
	lp_tap_close(NULL);
}

/* ---- offloads: a TCP connection from the namespace's stack to a peer
 * played by hand on the TAP ------------------------------------------------ */

static const struct lp_mac peer_mac = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x09 } };

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* RFC 1071 over a linear buffer, independent of lib/proto. */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (; len > 1; p += 2, len -= 2)
		sum += get16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static unsigned fin16(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* The TCP checksum over a frame's IPv4 packet: 0 when right. */
static unsigned tcp_check(const uint8_t *f)
{
	const uint8_t *ip = f + 14;
	size_t tot = get16(ip + 2), ihl = (size_t)(ip[0] & 15) * 4;

	return fin16(sum16(ip + ihl, tot - ihl, sum16(ip + 12, 8, 6u + (uint32_t)(tot - ihl))));
}

/* An IPv4 TCP frame from the peer 10.98.0.2:5555 to 10.98.0.1:dport. */
static size_t peer_frame(uint8_t *f, unsigned dport, uint32_t seq, uint32_t ack, uint8_t flags,
                         const uint8_t *data, size_t dlen, int mss_opt)
{
	size_t thl = mss_opt ? 24 : 20, tot = 20 + thl + dlen;
	uint8_t *ip = f + 14, *tcp = ip + 20;

	memset(f, 0, 14 + tot);
	memcpy(f, tap_mac.b, 6);
	memcpy(f + 6, peer_mac.b, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (unsigned)tot);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x62\x00\x02\x0a\x62\x00\x01", 8);
	put16(ip + 10, fin16(sum16(ip, 20, 0)));
	put16(tcp, 5555);
	put16(tcp + 2, dport);
	put32(tcp + 4, seq);
	put32(tcp + 8, ack);
	tcp[12] = (uint8_t)(thl / 4 << 4);
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	if (mss_opt)
		memcpy(tcp + 20, "\x02\x04\x05\xb4", 4);
	if (dlen > 0)
		memcpy(tcp + thl, data, dlen);
	put16(tcp + 16,
	      fin16(sum16(tcp, thl + dlen, sum16(ip + 12, 8, 6u + (uint32_t)(thl + dlen)))));
	return 14 + tot;
}

/* Next TCP frame of the namespace's stack read from the TAP (1 s). */
static ssize_t read_tcp(struct lp_tap *t, uint8_t *buf, size_t cap)
{
	for (int i = 0; i < 100; i++) {
		struct pollfd p = { .fd = (int)lp_tap_get_handle(t), .events = POLLIN };
		ssize_t n = lp_tap_read(t, buf, cap);

		if (n == LP_ERR_AGAIN) {
			poll(&p, 1, 10);
			continue;
		}
		assert_true(n > 0);
		if (n >= 54 && get16(buf + 12) == 0x0800 && buf[23] == 6)
			return n;
	}
	return -1;
}

/* Packets the interface counted, from /proc/self/net/dev (per namespace,
 * unlike /sys): tx = what the stack handed the TAP, rx = what was written. */
static uint64_t if_stat(int tx)
{
	unsigned long long v[10] = { 0 };
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/self/net/dev", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = strstr(line, IFNAME ":");

		if (p == NULL)
			continue;
		assert_int_equal(sscanf(p + strlen(IFNAME) + 1,
		                        "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		                        &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
		                        &v[9]),
		                 10);
		found = 1;
	}
	fclose(f);
	assert_true(found);
	return tx ? v[9] : v[1];
}

static void test_offloads_segment_and_coalesce(void **state)
{
	struct lp_tap_config cfg = {
		.name = IFNAME, .mac = &tap_mac, .mtu = 1500, .coalesce = true
	};
	static uint8_t in[2048], out[2048], data[60000], got[60000];
	struct lp_tap *t = NULL;
	struct lp_tap_info info;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(5555) };
	uint32_t cseq, sseq = 7000, next;
	uint64_t tx0, rx0;
	size_t total = 0, segs = 0, len;
	unsigned dport;
	int fd, one = 1;
	ssize_t n;

	(void)state;
	need_root();
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + i / 251);
	assert_int_equal(lp_tap_open(&cfg, &t), 0);
	assert_int_equal(lp_tap_get_info(t, &info), 0);
	/* This kernel (6.x) takes them all; a refusal would show here. */
	assert_int_equal(info.offloads & (LP_TAP_OFFLOAD_VNET | LP_TAP_OFFLOAD_CSUM |
	                                  LP_TAP_OFFLOAD_TSO4 | LP_TAP_OFFLOAD_COALESCE),
	                 LP_TAP_OFFLOAD_VNET | LP_TAP_OFFLOAD_CSUM | LP_TAP_OFFLOAD_TSO4 |
	                         LP_TAP_OFFLOAD_COALESCE);
	assert_int_equal(lp_tap_set_up(t, true), 0);
	assert_int_equal(sh("ip addr add 10.98.0.1/24 dev %s && ip neigh add 10.98.0.2 lladdr "
	                    "02:00:00:00:00:09 dev %s",
	                    IFNAME, IFNAME),
	                 0);

	/* The stack connects out; the test answers its SYN by hand. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	inet_pton(AF_INET, "10.98.0.2", &sin.sin_addr);
	assert_true(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno == EINPROGRESS);
	n = read_tcp(t, in, sizeof(in));
	assert_true(n > 0);
	assert_int_equal(in[14 + 20 + 13] & 0x12, 0x02); /* SYN */
	assert_int_equal(tcp_check(in), 0);
	dport = get16(in + 34);
	cseq = get32(in + 38) + 1;
	len = peer_frame(out, dport, sseq++, cseq, 0x12, NULL, 0, 1);
	assert_int_equal(lp_tap_write(t, out, len), (ssize_t)len); /* a SYN is never held */
	n = read_tcp(t, in, sizeof(in));                           /* the handshake's ACK */
	assert_true(n > 0);

	/* TSO: 40000 bytes from the stack come as super-frames, returned as
	 * wire segments of at most the MSS with right checksums, in order. */
	tx0 = if_stat(1);
	/* Ten rounds: well past the segment queue's bytes (a queue that is not
	 * reused once empty loses segments after a few super-frames). */
	next = cseq;
	for (int round = 0; round < 10; round++) {
		assert_int_equal(send(fd, data, 40000, 0), 40000);
		total = 0;
		while (total < 40000) {
			size_t pl;

			n = read_tcp(t, in, sizeof(in));
			assert_true(n > 0);
			assert_true((size_t)n <= 14 + 1500);
			assert_int_equal(tcp_check(in), 0);
			assert_int_equal(fin16(sum16(in + 14, 20, 0)), 0);
			pl = get16(in + 16) - 20 - (size_t)(in[46] >> 4) * 4;
			if (pl == 0)
				continue;
			assert_true(pl <= 1460);
			assert_int_equal(get32(in + 38), next);
			memcpy(got + total, in + n - (ssize_t)pl, pl);
			next += (uint32_t)pl;
			total += pl;
			segs++;
			/* ack as we go so the window opens */
			len = peer_frame(out, dport, sseq, next, 0x10, NULL, 0, 0);
			assert_int_equal(lp_tap_write(t, out, len), (ssize_t)len);
			assert_int_equal(lp_tap_flush(t), 0);
		}
		assert_memory_equal(got, data, 40000);
	}
	/* fewer kernel packets than wire segments: super-frames were read */
	assert_true(if_stat(1) - tx0 < segs);

	/* Coalescing: 30 segments of 1000 bytes written, then one flush: they
	 * arrive in order as one packet on the interface. */
	rx0 = if_stat(0);
	for (int i = 0; i < 30; i++) {
		len = peer_frame(out, dport, sseq + (uint32_t)i * 1000, next, i == 29 ? 0x18 : 0x10,
		                 data + (size_t)i * 1000, 1000, 0);
		assert_int_equal(lp_tap_write(t, out, len), (ssize_t)len);
	}
	assert_int_equal(if_stat(0), rx0); /* held until the flush */
	assert_int_equal(lp_tap_flush(t), 0);
	assert_int_equal(if_stat(0) - rx0, 1);
	total = 0;
	for (int i = 0; i < 100 && total < 30000; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		poll(&p, 1, 10);
		n = recv(fd, got + total, sizeof(got) - total, 0);
		if (n > 0)
			total += (size_t)n;
	}
	assert_int_equal(total, 30000);
	assert_memory_equal(got, data, 30000);

	close(fd);
	lp_tap_close(t);
}

/* no_offload: the header stays off, frames come one by one as before. */
static void test_no_offload(void **state)
{
	struct lp_tap_config cfg = { .name = IFNAME, .no_offload = true, .coalesce = true };
	struct lp_tap *t = NULL;
	struct lp_tap_info info;

	(void)state;
	need_root();
	assert_int_equal(lp_tap_open(&cfg, &t), 0);
	assert_int_equal(lp_tap_get_info(t, &info), 0);
	assert_int_equal(info.offloads, 0);
	lp_tap_close(t);
}

static void test_kernel_picks_name(void **state)
{
	struct lp_tap_config cfg = { 0 };
	struct lp_tap *t = NULL;
	struct lp_tap_info info;

	(void)state;
	need_root();
	assert_int_equal(lp_tap_open(&cfg, &t), 0);
	assert_int_equal(lp_tap_get_info(t, &info), 0);
	assert_int_equal(strncmp(info.name, "tap", 3), 0);
	assert_true(info.ifindex > 0);
	assert_int_equal(lp_proto_mac_validate_identity(&info.mac), 0);
	lp_tap_close(t);
}

static void test_bad_config(void **state)
{
	struct lp_mac group = { { 0x01, 0, 0, 0, 0, 1 } };
	struct lp_tap_config cfg = { .name = IFNAME };
	struct lp_tap *t = NULL;

	(void)state;
	/* validated before any system call: no root needed */
	cfg.mac = &group;
	assert_int_equal(lp_tap_open(&cfg, &t), LP_ERR_INVAL);
	cfg.mac = NULL;
	cfg.mtu = 100;
	assert_int_equal(lp_tap_open(&cfg, &t), LP_ERR_MTU_RANGE);
	cfg.mtu = 0;
	cfg.name = "this-name-is-far-too-long-for-linux";
	assert_int_equal(lp_tap_open(&cfg, &t), LP_ERR_INVAL);
	assert_null(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_configure_and_frames),
		cmocka_unit_test(test_kernel_picks_name),
		cmocka_unit_test(test_offloads_segment_and_coalesce),
		cmocka_unit_test(test_no_offload),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
