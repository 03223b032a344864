/*
 * tap_linux.c - lp_tap on Linux: /dev/net/tun in IFF_TAP | IFF_NO_PI mode,
 * with IFF_VNET_HDR and offloads where the kernel takes them.
 *
 * Why offloads: without them the local TCP stack hands over one 1.5 KB
 * frame per read and takes one per write, a syscall and a trip through the
 * stack each. With TSO the stack hands over up to 64 KB at once, which is
 * segmented here once (lp_gso_segment) and returned frame by frame from a
 * queue, so callers keep their frame-at-a-time loop; with coalescing the
 * segments of one TCP flow go up as one super-frame (lp_gro_add).
 */
#include "lp_tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lp_gso.h"

/* Newer than bookworm's headers (Linux 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

#define RX_CAP LP_GRO_BUF    /* a whole super-frame */
#define Q_MAX 1024           /* segments of one super-frame (gso_size >= 64) */
#define Q_BYTES (256 * 1024) /* their bytes: payload + headers of each */

struct lp_tap {
	int fd;  /* the tun/tap file */
	int ctl; /* AF_INET datagram socket for interface ioctls */
	/* With offloads the handle is an epoll set of fd and an eventfd that
	 * stays readable while segments wait in q: the kernel's fd is not,
	 * and a caller reading a bounded number per wake-up would strand them. */
	int ep, evfd;
	bool ev_set;
	char name[IFNAMSIZ];
	bool vnet;         /* IFF_VNET_HDR: every read and write has the header */
	bool coalesce;     /* cfg->coalesce and vnet: writes wait for lp_tap_flush */
	unsigned offloads; /* LP_TAP_OFFLOAD_* */
	uint64_t lost;     /* coalesced frames whose write failed, since lp_tap_flush */
	/* Segments of the last super-frame read, not yet returned. */
	unsigned q_n, q_next;
	size_t q_used;
	size_t q_off[Q_MAX], q_len[Q_MAX];
	uint8_t q[Q_BYTES];
	uint8_t rx[RX_CAP];
	uint8_t scratch[RX_CAP];
	struct lp_gro gro;
};

static int errno_to_lp(int e)
{
	switch (e) {
	case EPERM:
	case EACCES:
		return LP_ERR_PERM;
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return LP_ERR_NOT_FOUND;
	case ENOMEM:
		return LP_ERR_NOMEM;
	case EAGAIN:
		return LP_ERR_AGAIN;
	default:
		return LP_ERR_IO;
	}
}

static void ifr_init(const struct lp_tap *t, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	/* t->name came back from the kernel and fits. */
	memcpy(ifr->ifr_name, t->name, sizeof(t->name));
}

/* The most the kernel takes, newest first. Refusals are no error: with the
 * header on and no offloads it hands over wire frames. */
static void set_offloads(struct lp_tap *t)
{
	static const struct {
		unsigned tun, lp;
	} tries[] = {
		{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_USO4 | TUN_F_USO6,
		  LP_TAP_OFFLOAD_CSUM | LP_TAP_OFFLOAD_TSO4 | LP_TAP_OFFLOAD_TSO6 |
		          LP_TAP_OFFLOAD_USO },
		{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
		  LP_TAP_OFFLOAD_CSUM | LP_TAP_OFFLOAD_TSO4 | LP_TAP_OFFLOAD_TSO6 },
		{ TUN_F_CSUM, LP_TAP_OFFLOAD_CSUM },
	};
	size_t i;

	t->offloads = LP_TAP_OFFLOAD_VNET;
	for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)tries[i].tun) == 0) {
			t->offloads |= tries[i].lp;
			return;
		}
	}
}

static int make_handle(struct lp_tap *t)
{
	struct epoll_event ev = { .events = EPOLLIN };

	t->ep = epoll_create1(EPOLL_CLOEXEC);
	t->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->ep < 0 || t->evfd < 0)
		return errno_to_lp(errno);
	ev.data.fd = t->fd;
	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, t->fd, &ev) < 0)
		return errno_to_lp(errno);
	ev.data.fd = t->evfd;
	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, t->evfd, &ev) < 0)
		return errno_to_lp(errno);
	return 0;
}

static int mtu_ok(uint32_t mtu)
{
	return mtu >= LP_MTU_MIN && mtu <= LP_MTU_MAX;
}

int lp_tap_open(const struct lp_tap_config *cfg, struct lp_tap **out)
{
	struct lp_tap *t = NULL;
	struct ifreq ifr, want;
	int rc;

	*out = NULL;
	if (cfg->mac != NULL && lp_proto_mac_validate_identity(cfg->mac) < 0)
		return LP_ERR_INVAL;
	if (cfg->mtu != 0 && !mtu_ok(cfg->mtu))
		return LP_ERR_MTU_RANGE;
	memset(&ifr, 0, sizeof(ifr));
	if (cfg->name != NULL && lp_strlcpy_checked(ifr.ifr_name, IFNAMSIZ, cfg->name) < 0)
		return LP_ERR_INVAL;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return LP_ERR_NOMEM;
	t->ctl = t->ep = t->evfd = -1;
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		rc = errno_to_lp(errno);
		goto out;
	}
	want = ifr;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (cfg->no_offload ? 0 : IFF_VNET_HDR);
	if (ioctl(t->fd, TUNSETIFF, &ifr) == 0) {
		t->vnet = !cfg->no_offload;
	} else if (cfg->no_offload || errno != EINVAL) {
		rc = errno_to_lp(errno);
		goto out;
	} else {
		ifr = want; /* a kernel without IFF_VNET_HDR: frame at a time */
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
		if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
			rc = errno_to_lp(errno);
			goto out;
		}
	}
	if (ioctl(t->fd, TUNSETPERSIST, 0) < 0) {
		rc = errno_to_lp(errno);
		goto out;
	}
	if (t->vnet) {
		set_offloads(t);
		rc = make_handle(t);
		if (rc < 0)
			goto out;
	}
	t->coalesce = t->vnet && cfg->coalesce;
	t->gro.authenticated = cfg->authenticated;
	memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
	t->name[IFNAMSIZ - 1] = '\0';
	t->ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (t->ctl < 0) {
		rc = errno_to_lp(errno);
		goto out;
	}
	if (cfg->mac != NULL) {
		ifr_init(t, &ifr);
		ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
		memcpy(ifr.ifr_hwaddr.sa_data, cfg->mac->b, LP_MAC_LEN);
		if (ioctl(t->ctl, SIOCSIFHWADDR, &ifr) < 0) {
			rc = errno_to_lp(errno);
			goto out;
		}
	}
	if (cfg->mtu != 0) {
		rc = lp_tap_set_mtu(t, cfg->mtu);
		if (rc < 0)
			goto out;
	}
	*out = t;
	t = NULL;
	rc = 0;
out:
	lp_tap_close(t);
	return rc;
}

void lp_tap_close(struct lp_tap *t)
{
	if (t == NULL)
		return;
	if (t->fd >= 0)
		close(t->fd);
	if (t->ctl >= 0)
		close(t->ctl);
	if (t->ep >= 0)
		close(t->ep);
	if (t->evfd >= 0)
		close(t->evfd);
	free(t);
}

int lp_tap_set_up(struct lp_tap *t, bool up)
{
	struct ifreq ifr;

	ifr_init(t, &ifr);
	if (ioctl(t->ctl, SIOCGIFFLAGS, &ifr) < 0)
		return errno_to_lp(errno);
	if (up)
		ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
	else
		ifr.ifr_flags = (short)(ifr.ifr_flags & ~IFF_UP);
	if (ioctl(t->ctl, SIOCSIFFLAGS, &ifr) < 0)
		return errno_to_lp(errno);
	return 0;
}

int lp_tap_set_mtu(struct lp_tap *t, uint32_t mtu)
{
	struct ifreq ifr;

	if (!mtu_ok(mtu))
		return LP_ERR_MTU_RANGE;
	ifr_init(t, &ifr);
	ifr.ifr_mtu = (int)mtu;
	if (ioctl(t->ctl, SIOCSIFMTU, &ifr) < 0)
		return errno_to_lp(errno);
	return 0;
}

static ssize_t read_plain(struct lp_tap *t, uint8_t *buf, size_t cap)
{
	uint8_t spill;
	struct iovec iov[2] = { { buf, cap }, { &spill, 1 } };
	ssize_t n;

	/* tun silently cuts a frame to the buffer; a byte landing in the
	 * spill slot is how truncation shows. */
	do {
		n = readv(t->fd, iov, 2);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? LP_ERR_AGAIN : LP_ERR_IO;
	if ((size_t)n > cap)
		return LP_ERR_TRUNCATED;
	return n;
}

static int queue_segment(void *user, const uint8_t *frame, size_t len)
{
	struct lp_tap *t = user;

	if (t->q_n == Q_MAX || Q_BYTES - t->q_used < len)
		return LP_ERR_NOBUF;
	memcpy(t->q + t->q_used, frame, len);
	t->q_off[t->q_n] = t->q_used;
	t->q_len[t->q_n] = len;
	t->q_used += len;
	t->q_n++;
	return 0;
}

/* Keeps the eventfd readable exactly while segments wait. */
static void mark_pending(struct lp_tap *t, bool pending)
{
	uint64_t v = 1;

	if (pending == t->ev_set)
		return;
	if (pending ? write(t->evfd, &v, sizeof(v)) == sizeof(v)
	            : read(t->evfd, &v, sizeof(v)) == sizeof(v) || errno == EAGAIN)
		t->ev_set = pending;
}

static ssize_t pop_segment(struct lp_tap *t, uint8_t *buf, size_t cap)
{
	size_t len = t->q_len[t->q_next], off = t->q_off[t->q_next];

	if (++t->q_next == t->q_n) {
		t->q_n = t->q_next = 0;
		t->q_used = 0;
	}
	mark_pending(t, t->q_n > 0);
	if (len > cap)
		return LP_ERR_TRUNCATED;
	memcpy(buf, t->q + off, len);
	return (ssize_t)len;
}

/* Completes the checksum in place when the frame is in the caller's
 * buffer; lp_gso_segment emits such a frame itself, once. */
static int in_place(void *user, const uint8_t *frame, size_t len)
{
	(void)user;
	(void)frame;
	(void)len;
	return 0;
}

ssize_t lp_tap_read(struct lp_tap *t, uint8_t *buf, size_t cap)
{
	uint8_t hdr[LP_GSO_VNET_HDR_LEN];
	struct iovec iov[3] = { { hdr, sizeof(hdr) }, { buf, cap }, { t->rx, RX_CAP } };
	struct lp_gso_meta m;
	size_t len;
	ssize_t n;
	int rc;

	if (t->q_n > 0)
		return pop_segment(t, buf, cap);
	if (!t->vnet)
		return read_plain(t, buf, cap);
	/* A frame that fits buf lands there (no copy); a super-frame spills
	 * into rx and is made whole there. */
	if (cap > RX_CAP)
		iov[1].iov_len = RX_CAP;
	iov[2].iov_len = RX_CAP - iov[1].iov_len;
	iov[2].iov_base = t->rx + iov[1].iov_len;
	do {
		n = readv(t->fd, iov, iov[2].iov_len > 0 ? 3 : 2);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? LP_ERR_AGAIN : LP_ERR_IO;
	if ((size_t)n < sizeof(hdr))
		return LP_ERR_TRUNCATED;
	len = (size_t)n - sizeof(hdr);
	if (lp_gso_meta_decode(hdr, sizeof(hdr), &m) < 0)
		return LP_ERR_TRUNCATED;
	if (len <= iov[1].iov_len && (m.gso_type & ~LP_GSO_ECN) == LP_GSO_NONE) {
		if ((m.flags & LP_GSO_F_NEEDS_CSUM) &&
		    lp_gso_segment(&m, buf, len, t->scratch, sizeof(t->scratch), in_place, NULL) <
		            0)
			return LP_ERR_TRUNCATED;
		return (ssize_t)len;
	}
	memcpy(t->rx, buf, len < iov[1].iov_len ? len : iov[1].iov_len);
	rc = lp_gso_segment(&m, t->rx, len, t->scratch, sizeof(t->scratch), queue_segment, t);
	if (t->q_n == 0)
		return rc < 0 ? LP_ERR_TRUNCATED : LP_ERR_AGAIN;
	return pop_segment(t, buf, cap);
}

static ssize_t write_vnet(struct lp_tap *t, const struct lp_gso_meta *m, const uint8_t *frame,
                          size_t len)
{
	uint8_t hdr[LP_GSO_VNET_HDR_LEN];
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)(uintptr_t)frame, len } };
	ssize_t n;

	lp_gso_meta_encode(m, hdr);
	do {
		n = writev(t->fd, iov, 2);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? LP_ERR_AGAIN : LP_ERR_IO;
	return n < (ssize_t)sizeof(hdr) ? LP_ERR_IO : n - (ssize_t)sizeof(hdr);
}

static void write_pending(struct lp_tap *t)
{
	struct lp_gso_meta m;
	const uint8_t *f;
	size_t len;
	unsigned segs = lp_gro_finish(&t->gro, &m, &f, &len);

	if (segs > 0 && write_vnet(t, &m, f, len) < 0)
		t->lost += segs;
}

ssize_t lp_tap_write(struct lp_tap *t, const uint8_t *frame, size_t len)
{
	static const struct lp_gso_meta none;
	ssize_t n;
	int rc;

	if (len < LP_ETH_HDR_LEN)
		return LP_ERR_INVAL;
	if (t->coalesce) {
		rc = lp_gro_add(&t->gro, frame, len);
		if (rc == 0) {
			write_pending(t);
			rc = lp_gro_add(&t->gro, frame, len);
		}
		if (rc == 1)
			return (ssize_t)len;
		write_pending(t); /* order kept: what waited goes first */
	}
	if (t->vnet)
		return write_vnet(t, &none, frame, len);
	do {
		n = write(t->fd, frame, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? LP_ERR_AGAIN : LP_ERR_IO;
	return n;
}

uint64_t lp_tap_flush(struct lp_tap *t)
{
	uint64_t lost;

	if (t->coalesce)
		write_pending(t);
	lost = t->lost;
	t->lost = 0;
	return lost;
}

lp_tap_handle lp_tap_get_handle(const struct lp_tap *t)
{
	return t->ep >= 0 ? t->ep : t->fd;
}

int lp_tap_get_info(const struct lp_tap *t, struct lp_tap_info *out)
{
	struct ifreq ifr;
	unsigned idx;

	memset(out, 0, sizeof(*out));
	memcpy(out->name, t->name, sizeof(t->name));
	idx = if_nametoindex(t->name);
	if (idx == 0)
		return LP_ERR_IO;
	out->ifindex = idx;
	ifr_init(t, &ifr);
	if (ioctl(t->ctl, SIOCGIFHWADDR, &ifr) < 0)
		return LP_ERR_IO;
	memcpy(out->mac.b, ifr.ifr_hwaddr.sa_data, LP_MAC_LEN);
	ifr_init(t, &ifr);
	if (ioctl(t->ctl, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu < 0)
		return LP_ERR_IO;
	out->mtu = (uint32_t)ifr.ifr_mtu;
	ifr_init(t, &ifr);
	if (ioctl(t->ctl, SIOCGIFFLAGS, &ifr) < 0)
		return LP_ERR_IO;
	out->up = (ifr.ifr_flags & IFF_UP) != 0;
	out->offloads = t->offloads | (t->coalesce ? LP_TAP_OFFLOAD_COALESCE : 0);
	return 0;
}

int lp_tap_ipv4(const struct lp_tap *t, char *out, size_t cap)
{
	struct sockaddr_in sin;
	struct ifreq ifr;
	char text[INET_ADDRSTRLEN];

	if (cap == 0)
		return LP_ERR_NOBUF;
	out[0] = '\0';
	ifr_init(t, &ifr);
	ifr.ifr_addr.sa_family = AF_INET;
	/* SIOCGIFADDR gives the interface's primary (first) IPv4 address. */
	if (ioctl(t->ctl, SIOCGIFADDR, &ifr) < 0)
		return errno == EADDRNOTAVAIL ? 0 : LP_ERR_IO;
	memcpy(&sin, &ifr.ifr_addr, sizeof(sin));
	if (inet_ntop(AF_INET, &sin.sin_addr, text, sizeof(text)) == NULL)
		return LP_ERR_IO;
	return lp_strlcpy_checked(out, cap, text);
}
