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
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
