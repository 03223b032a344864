/*
 * tap_linux.c - lp_tap on Linux: /dev/net/tun in IFF_TAP | IFF_NO_PI mode.
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
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

struct lp_tap {
	int fd;  /* the tun/tap file */
	int ctl; /* AF_INET datagram socket for interface ioctls */
	char name[IFNAMSIZ];
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

static int mtu_ok(uint32_t mtu)
{
	return mtu >= LP_MTU_MIN && mtu <= LP_MTU_MAX;
}

int lp_tap_open(const struct lp_tap_config *cfg, struct lp_tap **out)
{
	struct lp_tap *t = NULL;
	struct ifreq ifr;
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
	t->ctl = -1;
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		rc = errno_to_lp(errno);
		goto out;
	}
	/* No IFF_VNET_HDR: the kernel segments and checksums for us. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0 || ioctl(t->fd, TUNSETPERSIST, 0) < 0) {
		rc = errno_to_lp(errno);
		goto out;
	}
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

ssize_t lp_tap_read(struct lp_tap *t, uint8_t *buf, size_t cap)
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

ssize_t lp_tap_write(struct lp_tap *t, const uint8_t *frame, size_t len)
{
	ssize_t n;

	if (len < LP_ETH_HDR_LEN)
		return LP_ERR_INVAL;
	do {
		n = write(t->fd, frame, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? LP_ERR_AGAIN : LP_ERR_IO;
	return n;
}

lp_tap_handle lp_tap_get_handle(const struct lp_tap *t)
{
	return t->fd;
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
