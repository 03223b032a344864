/*
 * relay_forward.c - forwarding cost of the real lanparty-relay next to a
 * plain UDP forwarder, on loopback, in one run.
 *
 *   relay:  session A --QUIC--> lanparty-relay (child) --QUIC--> session B
 *   plain:  UDP sender --> forwarder child (recvmmsg/sendmmsg) --> UDP receiver
 *
 * Session A sends 1200-byte frames to B's MAC as fast as its QUIC
 * connection takes them for N seconds; the relay's CPU time (utime + stime
 * from /proc/<pid>/stat) over the frames it forwarded gives its cost per
 * frame. The plain forwarder then gets 1200-byte UDP packets at the frame
 * rate the relay achieved, for the same time, and its CPU per packet is
 * measured the same way. Prints a table and the ratio (target <= 3x).
 *
 * usage: relay_forward [seconds]     (LP_RELAY_BIN: the relay binary)
 */
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

#include "relay_proc.h"

#define MS LP_NS_PER_MS
#define SEC LP_NS_PER_SEC
#define FRAME_LEN 1200
#define WARMUP_NS (500 * MS)
#define BATCH 64
#define A_MAC "02:00:00:00:be:0a"
#define B_MAC "02:00:00:00:be:0b"

struct result {
	double seconds;
	uint64_t frames;   /* forwarded by the forwarder under test */
	uint64_t received; /* arrived at the receiver */
	uint64_t cpu_ns;   /* forwarder's CPU time over the window */
};

static int relay_run(double seconds, struct result *res)
{
	static const char *const args[] = {
		"--log-level", "warn", "--rate-total-mbit", "0", "--rate-room-mbit", "0", NULL
	};
	static const char tx_key[] = "lanparty_relay_frames_tx_total";
	struct rp_relay relay;
	struct rp_world w;
	struct rp_peer *a, *b, *pair[2];
	uint8_t f[FRAME_LEN];
	uint64_t t0, t1, cpu0, cpu1, tx0, tx1, rx0, seq = 0, end;
	int rv = -1;

	if (rp_relay_start(&relay, args) != 0)
		return -1;
	if (rp_world_init(&w, &relay) != 0)
		goto out_relay;
	a = rp_session_new(&w, "A", LP_ROLE_CLIENT, "BENCH", A_MAC, NULL);
	b = rp_session_new(&w, "B", LP_ROLE_CLIENT, "BENCH", B_MAC, NULL);
	if (a == NULL || b == NULL)
		goto out;
	a->record_tags = b->record_tags = false;
	pair[0] = a;
	pair[1] = b;
	if (!rp_pump_admitted(&w, 20 * SEC, pair, 2)) {
		fprintf(stderr, "relay_forward: sessions not admitted\n");
		goto out;
	}
	t0 = cpu0 = tx0 = rx0 = 0;
	end = lp_now_ns() + WARMUP_NS + (uint64_t)(seconds * 1e9);
	for (uint64_t start = lp_now_ns();;) {
		uint64_t now = lp_now_ns();

		if (t0 == 0 && now - start >= WARMUP_NS) {
			t0 = now;
			cpu0 = rp_proc_cpu_ns(relay.pid);
			tx0 = rp_relay_metric(&relay, tx_key);
			rx0 = b->frames;
		}
		if (now >= end)
			break;
		/* Fill A's datagram queue, then one pump round. */
		for (int k = 0; k < 256; k++) {
			rp_frame_build(f, FRAME_LEN, B_MAC, A_MAC, LP_ETHERTYPE_IPV4,
			               (uint32_t)seq);
			if (rp_send_frame(a, f, FRAME_LEN) != 0)
				break;
			seq++;
		}
		(void)rp_pump(&w, 0, NULL, NULL);
	}
	t1 = lp_now_ns();
	cpu1 = rp_proc_cpu_ns(relay.pid);
	tx1 = rp_relay_metric(&relay, tx_key);
	if (tx0 == UINT64_MAX || tx1 == UINT64_MAX || cpu1 == 0) {
		fprintf(stderr, "relay_forward: cannot read the relay's metrics or CPU time\n");
		goto out;
	}
	res->seconds = (double)(t1 - t0) / 1e9;
	res->frames = tx1 - tx0;
	res->received = b->frames - rx0;
	res->cpu_ns = cpu1 - cpu0;
	rv = 0;
out:
	rp_world_free(&w);
out_relay:
	(void)rp_relay_stop(&relay);
	return rv;
}

static int udp_bound(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), big = 4 << 20;

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* The plain forwarder: everything arriving on in_fd goes to out_port. */
static void forwarder_child(int in_fd, uint16_t out_port)
{
	static uint8_t bufs[BATCH][2048];
	struct sockaddr_in to = loopback(out_port);
	struct mmsghdr in[BATCH], out[BATCH];
	struct iovec iov[BATCH], oiov[BATCH];
	int out_fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (out_fd < 0)
		_exit(2);
	for (;;) {
		int n, sent = 0;

		memset(in, 0, sizeof(in));
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			in[i].msg_hdr.msg_iov = &iov[i];
			in[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(in_fd, in, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		memset(out, 0, sizeof(out));
		for (int i = 0; i < n; i++) {
			oiov[i].iov_base = bufs[i];
			oiov[i].iov_len = in[i].msg_len;
			out[i].msg_hdr.msg_iov = &oiov[i];
			out[i].msg_hdr.msg_iovlen = 1;
			out[i].msg_hdr.msg_name = &to;
			out[i].msg_hdr.msg_namelen = sizeof(to);
		}
		while (sent < n) {
			int r = sendmmsg(out_fd, out + sent, (unsigned)(n - sent), 0);

			if (r <= 0)
				break;
			sent += r;
		}
	}
}

static uint64_t drain(int fd)
{
	static uint8_t bufs[BATCH][2048];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	uint64_t got = 0;
	int n;

	do {
		memset(m, 0, sizeof(m));
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
		if (n > 0)
			got += (uint64_t)n;
	} while (n == BATCH);
	return got;
}

/* Offers rate packets/s of FRAME_LEN bytes for `seconds` through a plain
 * forwarder child. */
static int plain_run(double seconds, double rate, struct result *res)
{
	static uint8_t payload[FRAME_LEN];
	uint16_t fwd_port = 0, rx_port = 0;
	int fwd_fd = udp_bound(&fwd_port), rx_fd = udp_bound(&rx_port);
	int tx_fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = loopback(fwd_port);
	struct mmsghdr m[BATCH];
	struct iovec iov = { payload, sizeof(payload) };
	uint64_t sent = 0, got = 0, got0 = 0, cpu0 = 0, cpu1, t0 = 0, t1, start, end;
	pid_t pid;
	int rv = -1;

	if (fwd_fd < 0 || rx_fd < 0 || tx_fd < 0)
		goto out;
	pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0) {
		close(rx_fd);
		close(tx_fd);
		forwarder_child(fwd_fd, rx_port);
	}
	memset(m, 0, sizeof(m));
	for (int i = 0; i < BATCH; i++) {
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_hdr.msg_name = &to;
		m[i].msg_hdr.msg_namelen = sizeof(to);
	}
	start = lp_now_ns();
	end = start + WARMUP_NS + (uint64_t)(seconds * 1e9);
	for (;;) {
		uint64_t now = lp_now_ns(), due = (uint64_t)((double)(now - start) / 1e9 * rate);
		struct pollfd pfd = { rx_fd, POLLIN, 0 };

		if (t0 == 0 && now - start >= WARMUP_NS) {
			t0 = now;
			cpu0 = rp_proc_cpu_ns(pid);
			got0 = got;
		}
		if (now >= end)
			break;
		while (sent < due) {
			unsigned n = due - sent < BATCH ? (unsigned)(due - sent) : BATCH;
			int r = sendmmsg(tx_fd, m, n, MSG_DONTWAIT);

			if (r <= 0)
				break;
			sent += (uint64_t)r;
		}
		got += drain(rx_fd);
		(void)poll(&pfd, 1, 1);
	}
	t1 = lp_now_ns();
	cpu1 = rp_proc_cpu_ns(pid);
	got += drain(rx_fd);
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
	res->seconds = (double)(t1 - t0) / 1e9;
	res->frames = got - got0;
	res->received = got - got0;
	res->cpu_ns = cpu1 - cpu0;
	rv = cpu1 != 0 ? 0 : -1;
out:
	if (fwd_fd >= 0)
		close(fwd_fd);
	if (rx_fd >= 0)
		close(rx_fd);
	if (tx_fd >= 0)
		close(tx_fd);
	return rv;
}

static void row(const char *name, const struct result *r)
{
	double fps = (double)r->frames / r->seconds;
	double us = r->frames ? (double)r->cpu_ns / 1e3 / (double)r->frames : 0;

	printf("%-22s %12.0f %14.2f %12.1f %10llu %10llu\n", name, fps, us,
	       100.0 * (double)r->cpu_ns / 1e9 / r->seconds, (unsigned long long)r->frames,
	       (unsigned long long)r->received);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3.0;
	struct result relay = { 0 }, plain = { 0 };
	double relay_pf, plain_pf;

	if (seconds <= 0.1) {
		fprintf(stderr, "usage: relay_forward [seconds]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("relay_forward: %d-byte frames, %.1f s per measurement, loopback\n\n", FRAME_LEN,
	       seconds);
	if (relay_run(seconds, &relay) != 0 || relay.frames == 0) {
		fprintf(stderr, "relay_forward: relay measurement failed\n");
		return 1;
	}
	if (plain_run(seconds, (double)relay.frames / relay.seconds, &plain) != 0 ||
	    plain.frames == 0) {
		fprintf(stderr, "relay_forward: plain forwarder measurement failed\n");
		return 1;
	}
	printf("%-22s %12s %14s %12s %10s %10s\n", "forwarder", "frames/s", "CPU us/frame", "CPU %",
	       "forwarded", "received");
	row("lanparty-relay", &relay);
	row("plain UDP forwarder", &plain);
	relay_pf = (double)relay.cpu_ns / (double)relay.frames;
	plain_pf = (double)plain.cpu_ns / (double)plain.frames;
	if (plain.cpu_ns == 0) {
		printf("ratio: plain forwarder used less than one clock tick; run longer\n");
		return 0;
	}
	printf("ratio relay CPU per frame / plain forwarder CPU per frame: %.2fx (target <= 3x)\n",
	       relay_pf / plain_pf);
	return 0;
}
