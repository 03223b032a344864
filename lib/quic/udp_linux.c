/*
 * udp_linux.c - batched UDP for QUIC: recvmmsg + UDP_GRO in, UDP_SEGMENT
 * (GSO) out, IP_PKTINFO / IPV6_PKTINFO so replies leave from the address
 * the peer hit (a relay bound to a wildcard on a multi-homed host).
 */
#include "lp_quic.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define SOCKBUF_BYTES (4 * 1024 * 1024)
#define MAX_BATCH 64
#define CMSG_SPACE_RX (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)) + 64)

struct lp_udp {
	int fd;
	int family;
	uint16_t port;   /* network order, for path.local */
	bool gso_broken; /* the kernel/NIC refused UDP_SEGMENT once */
	uint64_t truncated;
	struct mmsghdr msgs[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	union {
		char buf[CMSG_SPACE_RX];
		struct cmsghdr align;
	} ctl[MAX_BATCH];
};

static int setopt(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val));
}

static void set_bufs(int fd)
{
	/* FORCE variants work as root beyond net.core.*mem_max. */
	if (setopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, SOCKBUF_BYTES) != 0)
		(void)setopt(fd, SOL_SOCKET, SO_RCVBUF, SOCKBUF_BYTES);
	if (setopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, SOCKBUF_BYTES) != 0)
		(void)setopt(fd, SOL_SOCKET, SO_SNDBUF, SOCKBUF_BYTES);
}

int lp_udp_open(const struct sockaddr *addr, struct lp_udp **out)
{
	struct lp_udp *u;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = -1, saved;

	*out = NULL;
	if (addr->sa_family == AF_INET)
		len = sizeof(struct sockaddr_in);
	else if (addr->sa_family == AF_INET6)
		len = sizeof(struct sockaddr_in6);
	else
		return LP_ERR_INVAL;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return LP_ERR_NOMEM;
	fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		goto fail;
	if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)addr;

		/* "::" serves IPv4 too (v4-mapped addresses). */
		if (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) &&
		    setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0) != 0)
			goto fail;
		if (setopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) != 0)
			goto fail;
	} else if (setopt(fd, IPPROTO_IP, IP_PKTINFO, 1) != 0) {
		goto fail;
	}
	set_bufs(fd);
	/* GRO is an optimisation: old kernels lack it. */
	(void)setopt(fd, IPPROTO_UDP, UDP_GRO, 1);
	if (bind(fd, addr, len) != 0)
		goto fail;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		goto fail;
	u->port = ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                   : ((struct sockaddr_in *)&ss)->sin_port;
	u->fd = fd;
	u->family = addr->sa_family;
	*out = u;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	free(u);
	errno = saved;
	return LP_ERR_IO;
}

intptr_t lp_udp_fd(const struct lp_udp *u)
{
	return u->fd;
}

int lp_udp_local(const struct lp_udp *u, struct sockaddr_storage *out)
{
	socklen_t len = sizeof(*out);

	memset(out, 0, sizeof(*out));
	return getsockname(u->fd, (struct sockaddr *)out, &len) == 0 ? 0 : LP_ERR_IO;
}

/* path.local from the packet-info control message (and the bound port). */
static void parse_cmsgs(struct lp_udp *u, struct msghdr *mh, struct lp_udp_rx *rx)
{
	memset(&rx->path.local, 0, sizeof(rx->path.local));
	rx->path.local.ss_family = (sa_family_t)u->family;
	if (u->family == AF_INET6)
		((struct sockaddr_in6 *)&rx->path.local)->sin6_port = u->port;
	else
		((struct sockaddr_in *)&rx->path.local)->sin_port = u->port;
	rx->segment_size = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO &&
		    u->family == AF_INET) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			((struct sockaddr_in *)&rx->path.local)->sin_addr = pi.ipi_addr;
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO &&
		           u->family == AF_INET6) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			((struct sockaddr_in6 *)&rx->path.local)->sin6_addr = pi.ipi6_addr;
		} else if (cm->cmsg_level == IPPROTO_UDP && cm->cmsg_type == UDP_GRO) {
			int seg;

			memcpy(&seg, CMSG_DATA(cm), sizeof(seg));
			if (seg > 0)
				rx->segment_size = (size_t)seg;
		}
	}
	if (rx->segment_size >= rx->len)
		rx->segment_size = 0;
}

int lp_udp_recv(struct lp_udp *u, struct lp_udp_rx *rx, size_t n)
{
	int got, out = 0;

	if (n > MAX_BATCH)
		n = MAX_BATCH;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct msghdr *mh = &u->msgs[i].msg_hdr;

		u->iov[i].iov_base = rx[i].data;
		u->iov[i].iov_len = rx[i].cap;
		memset(mh, 0, sizeof(*mh));
		mh->msg_name = &rx[i].path.remote;
		mh->msg_namelen = sizeof(rx[i].path.remote);
		mh->msg_iov = &u->iov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = u->ctl[i].buf;
		mh->msg_controllen = sizeof(u->ctl[i].buf);
	}
	got = recvmmsg(u->fd, u->msgs, (unsigned)n, MSG_DONTWAIT, NULL);
	if (got < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		/* ICMP errors surface here on Linux for unconnected sockets;
		 * they are not fatal to the socket. */
		if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
			return 0;
		return LP_ERR_IO;
	}
	/* Compact: drop truncated datagrams (the sender's packet is lost to us
	 * anyway; QUIC recovers). */
	for (int i = 0; i < got; i++) {
		struct msghdr *mh = &u->msgs[i].msg_hdr;

		if (mh->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
			u->truncated++;
			continue;
		}
		if (out != i) {
			/* Move the result into slot `out`; its buffer is the
			 * caller's buffer of slot i, so swap the buffers too. */
			uint8_t *d = rx[out].data;
			size_t cap = rx[out].cap;

			rx[out].data = rx[i].data;
			rx[out].cap = rx[i].cap;
			rx[i].data = d;
			rx[i].cap = cap;
			memcpy(&rx[out].path.remote, &rx[i].path.remote, sizeof(rx[i].path.remote));
		}
		rx[out].len = u->msgs[i].msg_len;
		parse_cmsgs(u, mh, &rx[out]);
		out++;
	}
	return out;
}

static size_t add_pktinfo(struct lp_udp *u, const struct lp_quic_path *path, char *buf)
{
	struct cmsghdr *cm = (struct cmsghdr *)(void *)buf;

	if (path->local.ss_family == AF_INET6 && u->family == AF_INET6) {
		const struct sockaddr_in6 *l = (const struct sockaddr_in6 *)&path->local;
		struct in6_pktinfo pi;

		if (IN6_IS_ADDR_UNSPECIFIED(&l->sin6_addr))
			return 0;
		memset(&pi, 0, sizeof(pi));
		pi.ipi6_addr = l->sin6_addr;
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	if (path->local.ss_family == AF_INET && u->family == AF_INET) {
		const struct sockaddr_in *l = (const struct sockaddr_in *)&path->local;
		struct in_pktinfo pi;

		if (l->sin_addr.s_addr == htonl(INADDR_ANY))
			return 0;
		memset(&pi, 0, sizeof(pi));
		pi.ipi_spec_dst = l->sin_addr;
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	return 0;
}

static int send_one(struct lp_udp *u, const struct lp_quic_path *path, const uint8_t *buf,
                    size_t len, size_t gso_size)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh;
	size_t clen;

	memset(&ctl, 0, sizeof(ctl));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = (void *)(uintptr_t)&path->remote;
	mh.msg_namelen = path->remote.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                                    : sizeof(struct sockaddr_in);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	clen = add_pktinfo(u, path, ctl.buf);
	if (gso_size > 0 && len > gso_size) {
		struct cmsghdr *cm = (struct cmsghdr *)(void *)(ctl.buf + clen);
		uint16_t seg = (uint16_t)gso_size;

		cm->cmsg_level = IPPROTO_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(seg));
		memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
		clen += CMSG_SPACE(sizeof(seg));
	}
	if (clen > 0) {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = clen;
	}
	for (;;) {
		if (sendmsg(u->fd, &mh, 0) >= 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

int lp_udp_send(struct lp_udp *u, const struct lp_quic_path *path, const uint8_t *buf, size_t len,
                size_t gso_size)
{
	if (gso_size == 0 || gso_size >= len) {
		gso_size = 0;
	} else if (!u->gso_broken) {
		if (send_one(u, path, buf, len, gso_size) == 0)
			return 0;
		if (errno != EIO && errno != EINVAL && errno != EOPNOTSUPP)
			goto err;
		/* No GSO here (old kernel, or a device without checksum
		 * offload): remember and fall back to one send per segment. */
		u->gso_broken = true;
	}
	if (gso_size == 0) {
		if (send_one(u, path, buf, len, 0) == 0)
			return 0;
		goto err;
	}
	for (size_t off = 0; off < len; off += gso_size) {
		size_t n = len - off < gso_size ? len - off : gso_size;

		if (send_one(u, path, buf + off, n, 0) != 0)
			goto err;
	}
	return 0;
err:
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
		return LP_ERR_AGAIN;
	/* ICMP-reported errors of earlier packets: not this send's fault. */
	if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
		return LP_ERR_AGAIN;
	return LP_ERR_IO;
}

uint64_t lp_udp_truncated(const struct lp_udp *u)
{
	return u->truncated;
}

void lp_udp_close(struct lp_udp *u)
{
	if (u == NULL)
		return;
	close(u->fd);
	free(u);
}
