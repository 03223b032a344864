/*
 * impair - a cable with a bad internet path in it, for tests and benches.
 *
 * Forwards every Ethernet frame between two interfaces of the current
 * network namespace through AF_PACKET sockets, and on the way applies the
 * model of impair_sched.h per direction: loss, duplicates, a rate cap with
 * a bounded buffer, delay, jitter, reordering. This kernel has no netem, so
 * the netns benches put this between a player's veth and the relay's bridge.
 *
 * One thread, one epoll: the two packet sockets, a timerfd armed on the
 * earliest due packet (absolute CLOCK_MONOTONIC, nanoseconds) and a
 * signalfd. Packets wait in a pool allocated at start; a full pool drops.
 *
 * It refuses to run outside a namespace made by `ip netns add`: it is meant
 * to sit inside namespaces a test created, and sends only on the two
 * interfaces it is given.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "impair_sched.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define BATCH 256 /* frames read per wake-up and socket, for fairness */

struct impair {
	struct lp_impair *model;
	int sock[LP_IMPAIR_DIRS]; /* sock[d] receives direction d; sock[!d] sends it */
	const char *ifname[LP_IMPAIR_DIRS];
	int tfd;
	int sfd;
	int ep;
	const char *stats_path;
	uint64_t send_errors[LP_IMPAIR_DIRS];
	uint64_t truncated[LP_IMPAIR_DIRS];
	uint8_t *scratch;
	size_t slot_bytes;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: impair [options] IFACE_A IFACE_B\n"
	        "\n"
	        "Forwards every Ethernet frame between IFACE_A and IFACE_B (AF_PACKET) and\n"
	        "impairs each direction: A->B (\"a2b\") and B->A (\"b2a\"). Runs only inside a\n"
	        "network namespace made by `ip netns add` (named under /run/netns); MTUs up\n"
	        "to 9216. Disable TSO/GSO and checksum offload on the veths that send into A\n"
	        "and B (ethtool -K DEV tx off), so frames arrive whole and checksummed, one\n"
	        "wire packet each.\n"
	        "\n"
	        "  --a2b SPEC      impairment of frames entering A, leaving B\n"
	        "  --b2a SPEC      impairment of frames entering B, leaving A\n"
	        "  --both SPEC     the same SPEC for both directions (applied first)\n"
	        "  --seed N        seed of the random decisions (default 1); the same seed and\n"
	        "                  the same arrivals give the same schedule\n"
	        "  --pool N        frames held at once, both directions (default 16384)\n"
	        "  --stats FILE    write counters to FILE on SIGUSR1 and at exit (default: "
	        "stderr)\n"
	        "  -h, --help      this text\n"
	        "\n"
	        "SPEC is comma-separated key=value, applied in this order to each frame:\n"
	        "  loss=P          drop with probability P percent (Bernoulli)\n"
	        "  dup=P           send a copy too, probability P percent\n"
	        "  rate=R          cap at R bit/s (suffix kbit, mbit, gbit; default mbit): a\n"
	        "                  serialiser behind a FIFO, like an access link and its buffer\n"
	        "  queue=B         FIFO bound: bytes (b, kb, mb) or a time at the rate (50ms);\n"
	        "                  tail drop; default 50 ms at the rate\n"
	        "  burst=B         token bucket depth (default 0: send at line spacing)\n"
	        "  delay=T         one-way delay (ns, us, ms, s; default ms)\n"
	        "  jitter=T        uniform in [-T, +T], never reordering\n"
	        "  reorder=P       hold P percent of frames reorder-gap longer, so the ones\n"
	        "  reorder-gap=T   behind overtake them (default gap 1 ms)\n"
	        "\n"
	        "example: impair --both delay=10ms,loss=0.5%% --b2a rate=100mbit,queue=50ms p-c1 "
	        "imp-c1\n"
	        "stats, one line per direction: in out lost dups reordered queue_drops\n"
	        "pool_drops send_errors and the FIFO wait (avg, p50, p99, max, in us).\n");
}

/* 1 when this process runs in a namespace that `ip netns add` created (a
 * name under /run/netns), 0 when not, as tests/netns/lib.sh makes them. The
 * initial namespace has no such name. */
static int in_named_netns(void)
{
	struct stat self, ns;
	struct dirent *e;
	DIR *d;
	int found = 0;

	if (stat("/proc/self/ns/net", &self) != 0 || (d = opendir("/run/netns")) == NULL)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		char path[300];

		if (e->d_name[0] == '.' ||
		    snprintf(path, sizeof(path), "/run/netns/%s", e->d_name) >= (int)sizeof(path))
			continue;
		found = stat(path, &ns) == 0 && ns.st_ino == self.st_ino &&
		        ns.st_dev == self.st_dev;
	}
	closedir(d);
	return found;
}

static int open_port(const char *name, size_t *mtu_out)
{
	struct sockaddr_ll sll = { 0 };
	struct packet_mreq mr = { 0 };
	struct ifreq ifr = { 0 };
	int one = 1, buf = 8 << 20;
	unsigned idx = if_nametoindex(name);
	int fd = -1;

	if (idx == 0) {
		fprintf(stderr, "impair: no interface %s: %s\n", name, strerror(errno));
		return -1;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("impair: socket(AF_PACKET)");
		return -1;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)idx;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		fprintf(stderr, "impair: bind %s: %s\n", name, strerror(errno));
		goto fail;
	}
	mr.mr_ifindex = (int)idx;
	mr.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) != 0) {
		fprintf(stderr, "impair: promiscuous %s: %s\n", name, strerror(errno));
		goto fail;
	}
	/* Our own sends would come back as outgoing frames; older kernels
	 * lack the option, so recv also checks sll_pkttype. */
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	(void)setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name) >= (int)sizeof(ifr.ifr_name) ||
	    ioctl(fd, SIOCGIFMTU, &ifr) != 0) {
		fprintf(stderr, "impair: MTU of %s: %s\n", name, strerror(errno));
		goto fail;
	}
	*mtu_out = (size_t)ifr.ifr_mtu;
	return fd;
fail:
	close(fd);
	return -1;
}

static void write_stats(struct impair *im)
{
	static const char *names[LP_IMPAIR_DIRS] = { "a2b", "b2a" };
	FILE *f = stderr;

	if (im->stats_path != NULL && (f = fopen(im->stats_path, "w")) == NULL) {
		fprintf(stderr, "impair: %s: %s\n", im->stats_path, strerror(errno));
		return;
	}
	for (int d = 0; d < LP_IMPAIR_DIRS; d++) {
		const struct lp_impair_stats *st = lp_impair_stats(im->model, d);
		uint64_t crossed = st->in - st->lost - st->queue_drops - st->pool_drops + st->dups;

		fprintf(f,
		        "impair %s %s->%s in=%" PRIu64 " out=%" PRIu64 " lost=%" PRIu64
		        " dups=%" PRIu64 " reordered=%" PRIu64 " queue_drops=%" PRIu64
		        " pool_drops=%" PRIu64 " send_errors=%" PRIu64 " truncated=%" PRIu64
		        " bytes_out=%" PRIu64 " wait_avg_us=%.1f wait_p50_us=%.1f"
		        " wait_p99_us=%.1f wait_max_us=%.1f\n",
		        names[d], im->ifname[d], im->ifname[!d], st->in, st->out, st->lost,
		        st->dups, st->reordered, st->queue_drops, st->pool_drops,
		        im->send_errors[d], im->truncated[d], st->bytes_out,
		        crossed ? (double)st->wait_sum_ns / (double)crossed / 1e3 : 0.0,
		        (double)lp_impair_wait_quantile(im->model, d, 0.5) / 1e3,
		        (double)lp_impair_wait_quantile(im->model, d, 0.99) / 1e3,
		        (double)st->wait_max_ns / 1e3);
	}
	if (f != stderr)
		fclose(f);
}

/* Reads up to BATCH frames of direction d into the model. */
static void drain(struct impair *im, int d)
{
	for (int i = 0; i < BATCH; i++) {
		struct lp_impair_pkt *p = lp_impair_slot(im->model);
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		uint8_t *buf = p != NULL ? p->data : im->scratch;
		ssize_t n = recvfrom(im->sock[d], buf, im->slot_bytes, MSG_TRUNC,
		                     (struct sockaddr *)&from, &flen);

		if (n < 0)
			return; /* EAGAIN, or an error the next wake-up sees again */
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if ((size_t)n > im->slot_bytes) {
			im->truncated[d]++;
			continue;
		}
		if (p != NULL)
			p->len = (size_t)n;
		(void)lp_impair_submit(im->model, p, d, lp_now_ns());
	}
}

static void flush(struct impair *im)
{
	uint64_t now = lp_now_ns();
	struct lp_impair_pkt *p;

	while ((p = lp_impair_pop(im->model, now)) != NULL) {
		if (send(im->sock[!p->dir], p->data, p->len, 0) != (ssize_t)p->len)
			im->send_errors[p->dir]++;
		lp_impair_done(im->model, p);
	}
}

static int arm(struct impair *im)
{
	uint64_t due = lp_impair_next_due(im->model);
	struct itimerspec its = { 0 };

	if (due != UINT64_MAX) {
		if (due == 0)
			due = 1; /* zero would disarm */
		its.it_value.tv_sec = (time_t)(due / LP_NS_PER_SEC);
		its.it_value.tv_nsec = (long)(due % LP_NS_PER_SEC);
	}
	return timerfd_settime(im->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static int run(struct impair *im)
{
	for (;;) {
		struct epoll_event ev[4];
		int n = epoll_wait(im->ep, ev, 4, -1);

		if (n < 0 && errno != EINTR) {
			perror("impair: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;

			if (fd == im->sock[0] || fd == im->sock[1]) {
				drain(im, fd == im->sock[1]);
			} else if (fd == im->tfd) {
				uint64_t ticks;

				(void)read(im->tfd, &ticks, sizeof(ticks));
			} else if (fd == im->sfd) {
				struct signalfd_siginfo si;

				if (read(im->sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				write_stats(im);
				if (si.ssi_signo != SIGUSR1)
					return 0;
			}
		}
		flush(im);
		if (arm(im) != 0) {
			perror("impair: timerfd_settime");
			return 1;
		}
	}
}

static int watch(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "a2b", required_argument, NULL, 'a' },  { "b2a", required_argument, NULL, 'b' },
		{ "both", required_argument, NULL, 'B' }, { "seed", required_argument, NULL, 's' },
		{ "pool", required_argument, NULL, 'p' }, { "stats", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 }
	};
	struct lp_impair_config cfg = { .seed = 1, .pool_slots = 16384 };
	struct impair im = { .sock = { -1, -1 }, .tfd = -1, .sfd = -1, .ep = -1 };
	const char *a2b = NULL, *b2a = NULL, *both = NULL;
	size_t mtu[2] = { 0, 0 };
	sigset_t sigs;
	char *end;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			a2b = optarg;
			break;
		case 'b':
			b2a = optarg;
			break;
		case 'B':
			both = optarg;
			break;
		case 's':
			errno = 0;
			cfg.seed = strtoull(optarg, &end, 0);
			if (errno != 0 || *end != '\0') {
				fprintf(stderr, "impair: bad --seed %s\n", optarg);
				return 2;
			}
			break;
		case 'p':
			cfg.pool_slots = strtoul(optarg, &end, 0);
			if (*end != '\0' || cfg.pool_slots == 0 || cfg.pool_slots > (1u << 22)) {
				fprintf(stderr, "impair: bad --pool %s\n", optarg);
				return 2;
			}
			break;
		case 'S':
			im.stats_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	if ((both != NULL && (lp_impair_spec_parse(&cfg.dir[0], both) != 0 ||
	                      lp_impair_spec_parse(&cfg.dir[1], both) != 0)) ||
	    (a2b != NULL && lp_impair_spec_parse(&cfg.dir[0], a2b) != 0) ||
	    (b2a != NULL && lp_impair_spec_parse(&cfg.dir[1], b2a) != 0)) {
		fprintf(stderr, "impair: bad SPEC (see --help)\n");
		return 2;
	}
	if (!in_named_netns()) {
		fprintf(stderr, "impair: refusing to run outside a network namespace of a test\n");
		return 2;
	}
	im.ifname[0] = argv[optind];
	im.ifname[1] = argv[optind + 1];
	(void)prctl(PR_SET_TIMERSLACK, 1UL);
	for (int d = 0; d < LP_IMPAIR_DIRS; d++)
		if ((im.sock[d] = open_port(im.ifname[d], &mtu[d])) < 0)
			goto out;
	if (mtu[0] > 9216 || mtu[1] > 9216) {
		fprintf(stderr, "impair: MTU above 9216 (%zu, %zu)\n", mtu[0], mtu[1]);
		goto out;
	}
	/* Room for the largest frame of either side plus a VLAN tag. */
	im.slot_bytes = (mtu[0] > mtu[1] ? mtu[0] : mtu[1]) + ETH_HLEN + 4;
	cfg.slot_bytes = im.slot_bytes;
	if (lp_impair_new(&im.model, &cfg) != 0) {
		fprintf(stderr, "impair: cannot allocate %zu frames of %zu bytes\n", cfg.pool_slots,
		        cfg.slot_bytes);
		goto out;
	}
	im.scratch = malloc(im.slot_bytes);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	if (im.scratch == NULL || sigprocmask(SIG_BLOCK, &sigs, NULL) != 0 ||
	    (im.sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0 ||
	    (im.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
	    (im.ep = epoll_create1(EPOLL_CLOEXEC)) < 0 || watch(im.ep, im.sock[0]) != 0 ||
	    watch(im.ep, im.sock[1]) != 0 || watch(im.ep, im.tfd) != 0 ||
	    watch(im.ep, im.sfd) != 0) {
		perror("impair: setup");
		goto out;
	}
	fprintf(stderr, "impair: %s <-> %s, seed %" PRIu64 ", %zu frames of %zu bytes\n",
	        im.ifname[0], im.ifname[1], cfg.seed, cfg.pool_slots, cfg.slot_bytes);
	rc = run(&im);
out:
	for (int d = 0; d < LP_IMPAIR_DIRS; d++)
		if (im.sock[d] >= 0)
			close(im.sock[d]);
	if (im.tfd >= 0)
		close(im.tfd);
	if (im.sfd >= 0)
		close(im.sfd);
	if (im.ep >= 0)
		close(im.ep);
	free(im.scratch);
	lp_impair_del(im.model);
	return rc;
}
