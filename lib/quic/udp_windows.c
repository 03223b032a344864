/*
 * udp_windows.c - the lp_udp_* interface of lp_quic.h on Winsock: one
 * recvfrom per datagram in, one sendto per GSO segment out (Windows has
 * no UDP GSO/GRO on the sendto path), path.local from getsockname (the
 * client binds one address and needs no per-packet IP_PKTINFO).
 *
 * Winsock must be started by the program (WSAStartup(MAKEWORD(2, 2))
 * before lp_udp_open, WSACleanup after the last lp_udp_close), as for
 * lib/net's resolver: a library cannot know when the process is done with
 * sockets. On failure lp_udp_open leaves the Winsock error in
 * WSAGetLastError() (the "errno preserved" of the contract).
 */
#include "lp_quic.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <mswsock.h>

#define SOCKBUF_BYTES (4 * 1024 * 1024)
#define MAX_SKIPS 64 /* per lp_udp_recv call */

struct lp_udp {
	SOCKET s;
	int family;
	struct sockaddr_storage local; /* bound address, for path.local */
	uint64_t truncated;
};

static int setopt(SOCKET s, int level, int name, int val)
{
	return setsockopt(s, level, name, (const char *)&val, (int)sizeof(val));
}

/* Windows reports an ICMP port unreachable for an earlier sendto as
 * WSAECONNRESET on the next recvfrom of an unconnected UDP socket. A relay
 * restarting must not look like a socket error: turn that off. */
static void no_connreset(SOCKET s)
{
	BOOL off = FALSE;
	DWORD ret = 0;

	(void)WSAIoctl(s, SIO_UDP_CONNRESET, &off, sizeof(off), NULL, 0, &ret, NULL, NULL);
}

int lp_udp_open(const struct sockaddr *addr, struct lp_udp **out)
{
	struct lp_udp *u;
	u_long nonblock = 1;
	int len, slen, saved;
	SOCKET s = INVALID_SOCKET;

	*out = NULL;
	if (addr->sa_family == AF_INET)
		len = (int)sizeof(struct sockaddr_in);
	else if (addr->sa_family == AF_INET6)
		len = (int)sizeof(struct sockaddr_in6);
	else
		return LP_ERR_INVAL;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return LP_ERR_NOMEM;
	s = socket(addr->sa_family, SOCK_DGRAM, IPPROTO_UDP);
	if (s == INVALID_SOCKET)
		goto fail;
	if (ioctlsocket(s, (long)FIONBIO, &nonblock) != 0)
		goto fail;
	if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)(const void *)addr;

		/* "::" serves IPv4 too (v4-mapped addresses); Windows
		 * defaults to v6-only. */
		if (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) &&
		    setopt(s, IPPROTO_IPV6, IPV6_V6ONLY, 0) != 0)
			goto fail;
	}
	/* Bigger buffers are an optimisation; the defaults still work. */
	(void)setopt(s, SOL_SOCKET, SO_RCVBUF, SOCKBUF_BYTES);
	(void)setopt(s, SOL_SOCKET, SO_SNDBUF, SOCKBUF_BYTES);
	no_connreset(s);
	if (bind(s, addr, len) != 0)
		goto fail;
	slen = (int)sizeof(u->local);
	if (getsockname(s, (struct sockaddr *)&u->local, &slen) != 0)
		goto fail;
	u->s = s;
	u->family = addr->sa_family;
	*out = u;
	return 0;
fail:
	saved = WSAGetLastError();
	if (s != INVALID_SOCKET)
		closesocket(s);
	free(u);
	WSASetLastError(saved);
	return LP_ERR_IO;
}

intptr_t lp_udp_fd(const struct lp_udp *u)
{
	return (intptr_t)u->s;
}

int lp_udp_local(const struct lp_udp *u, struct sockaddr_storage *out)
{
	int len = (int)sizeof(*out);

	memset(out, 0, sizeof(*out));
	return getsockname(u->s, (struct sockaddr *)out, &len) == 0 ? 0 : LP_ERR_IO;
}

int lp_udp_recv(struct lp_udp *u, struct lp_udp_rx *rx, size_t n)
{
	size_t got = 0, skipped = 0;

	/* Skipped datagrams and errors are bounded too: a socket that keeps
	 * reporting them must not hold the caller's loop. */
	while (got < n && skipped < MAX_SKIPS) {
		struct lp_udp_rx *r = &rx[got];
		int alen = (int)sizeof(r->path.remote);
		int cap = r->cap > INT_MAX ? INT_MAX : (int)r->cap;
		int len, err;

		len = recvfrom(u->s, (char *)r->data, cap, 0, (struct sockaddr *)&r->path.remote,
		               &alen);
		if (len >= 0) {
			r->len = (size_t)len;
			r->segment_size = 0;
			memcpy(&r->path.local, &u->local, sizeof(r->path.local));
			got++;
			continue;
		}
		err = WSAGetLastError();
		if (err == WSAEWOULDBLOCK)
			break;
		if (err == WSAEMSGSIZE) {
			/* The datagram did not fit and its tail is gone:
			 * drop it, count it, reuse the slot. */
			u->truncated++;
			skipped++;
			continue;
		}
		/* ICMP errors of earlier sends (when SIO_UDP_CONNRESET could
		 * not be turned off) and interrupted calls: not fatal. */
		if (err == WSAECONNRESET || err == WSAENETRESET || err == WSAEINTR) {
			skipped++;
			continue;
		}
		if (got > 0)
			break;
		return LP_ERR_IO;
	}
	return (int)got;
}

/* Winsock has no implicit IPv4 -> v4-mapped conversion on a dual-stack
 * socket (Linux does it in sendmsg), and an IPv4 socket cannot take a
 * v4-mapped destination: convert to the socket's family. */
static int dest_for(const struct lp_udp *u, const struct sockaddr_storage *remote,
                    struct sockaddr_storage *out, int *len)
{
	memset(out, 0, sizeof(*out));
	if (remote->ss_family == u->family) {
		memcpy(out, remote, sizeof(*out));
		*len = u->family == AF_INET6 ? (int)sizeof(struct sockaddr_in6)
		                             : (int)sizeof(struct sockaddr_in);
		return 0;
	}
	if (remote->ss_family == AF_INET && u->family == AF_INET6) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)(const void *)remote;
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)out;

		a6->sin6_family = AF_INET6;
		a6->sin6_port = a4->sin_port;
		a6->sin6_addr.s6_addr[10] = 0xff;
		a6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&a6->sin6_addr.s6_addr[12], &a4->sin_addr, 4);
		*len = (int)sizeof(*a6);
		return 0;
	}
	if (remote->ss_family == AF_INET6 && u->family == AF_INET) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)(const void *)remote;
		struct sockaddr_in *a4 = (struct sockaddr_in *)(void *)out;

		if (!IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
			return LP_ERR_INVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = a6->sin6_port;
		memcpy(&a4->sin_addr, &a6->sin6_addr.s6_addr[12], 4);
		*len = (int)sizeof(*a4);
		return 0;
	}
	return LP_ERR_INVAL;
}

int lp_udp_send(struct lp_udp *u, const struct lp_quic_path *path, const uint8_t *buf, size_t len,
                size_t gso_size)
{
	struct sockaddr_storage to;
	int tolen, err;

	if (dest_for(u, &path->remote, &to, &tolen) != 0)
		return LP_ERR_INVAL;
	if (gso_size == 0 || gso_size >= len)
		gso_size = len;
	for (size_t off = 0; off < len; off += gso_size) {
		size_t seg = len - off < gso_size ? len - off : gso_size;

		if (seg > INT_MAX)
			return LP_ERR_INVAL;
		if (sendto(u->s, (const char *)buf + off, (int)seg, 0, (const struct sockaddr *)&to,
		           tolen) == SOCKET_ERROR)
			goto err;
	}
	return 0;
err:
	err = WSAGetLastError();
	if (err == WSAEWOULDBLOCK || err == WSAENOBUFS)
		return LP_ERR_AGAIN;
	/* ICMP-reported errors of earlier packets: not this send's fault. */
	if (err == WSAECONNRESET || err == WSAEHOSTUNREACH || err == WSAENETUNREACH)
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
	closesocket(u->s);
	free(u);
}
