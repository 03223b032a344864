/*
 * dhcp_probe - TEST ONLY (Linux): a DHCP client at the Ethernet level for
 * the Windows client's end-to-end run under Wine. It speaks to
 * tests/wine/tap_pipe_server, whose UDP socket on 127.0.0.1 carries one
 * Ethernet frame per datagram to and from the client's TAP stand-in:
 *
 *   dhcp_probe --(DISCOVER frame)--> tap_pipe_server --> client.exe --> relay
 *        <--(OFFER frame)-- ... <-- gateway <-- LAN dnsmasq
 *
 * Usage: dhcp_probe --mac MAC --port PORT --server-port PORT [--timeout SECONDS]
 *   --mac          the client's tunnel MAC: the frame's source and chaddr
 *                  (the relay drops frames from any other source MAC)
 *   --port         UDP port to bind on 127.0.0.1 (tap_pipe_server --peer)
 *   --server-port  tap_pipe_server's UDP port (its --port)
 *   --timeout      give up after this many seconds (default 20)
 * Sends a broadcast DISCOVER every second until an OFFER for its xid and
 * MAC comes back; then prints "offer YIADDR from SERVER" and exits 0.
 * Exit 1: no offer in time; 2: bad usage or a system call failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lp_base.h"

#define ETH_HDR 14
#define IP_HDR 20
#define UDP_HDR 8
#define BOOTP_LEN 300 /* fixed part (236) + cookie + options, padded like real clients */
#define DHCP_COOKIE 0x63825363u

static uint8_t mac[6];
static uint32_t xid;

static int usage(void)
{
	fprintf(stderr, "usage: dhcp_probe --mac MAC --port PORT --server-port PORT "
	                "[--timeout SECONDS]\n");
	return 2;
}

static bool parse_mac(const char *s, uint8_t out[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
	           &tail) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		out[i] = (uint8_t)v[i];
	return true;
}

static bool parse_port(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v == 0 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Ethernet + IPv4 + UDP + BOOTP DISCOVER from mac; returns the frame length. */
static size_t build_discover(uint8_t *f)
{
	uint8_t *ip = f + ETH_HDR, *udp = ip + IP_HDR, *b = udp + UDP_HDR, *o;
	size_t total = ETH_HDR + IP_HDR + UDP_HDR + BOOTP_LEN;

	memset(f, 0, total);
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	lp_put_u16(f + 12, 0x0800);

	ip[0] = 0x45;
	lp_put_u16(ip + 2, IP_HDR + UDP_HDR + BOOTP_LEN);
	lp_put_u16(ip + 4, (uint16_t)(xid & 0xffff));
	ip[8] = 64;
	ip[9] = 17;
	memset(ip + 16, 0xff, 4); /* 255.255.255.255; source 0.0.0.0 */
	lp_put_u16(ip + 10, ip_checksum(ip, IP_HDR));

	lp_put_u16(udp, 68);
	lp_put_u16(udp + 2, 67);
	lp_put_u16(udp + 4, UDP_HDR + BOOTP_LEN); /* checksum 0: none (IPv4) */

	b[0] = 1; /* BOOTREQUEST */
	b[1] = 1; /* Ethernet */
	b[2] = 6;
	lp_put_u32(b + 4, xid);
	lp_put_u16(b + 10, 0x8000); /* ask for a broadcast reply */
	memcpy(b + 28, mac, 6);
	lp_put_u32(b + 236, DHCP_COOKIE);
	o = b + 240;
	*o++ = 53, *o++ = 1, *o++ = 1; /* DISCOVER */
	*o++ = 61, *o++ = 7, *o++ = 1; /* client id: Ethernet + MAC */
	memcpy(o, mac, 6);
	o += 6;
	*o++ = 55, *o++ = 3, *o++ = 1, *o++ = 3, *o++ = 6; /* mask, router, DNS */
	*o = 255;
	return total;
}

/*
 * 1 and *yiaddr / *server when f is a DHCP OFFER for our xid and MAC, 0 for
 * any other frame (the tunnel also carries the LAN's ARP and broadcasts).
 */
static int parse_offer(const uint8_t *f, size_t len, uint32_t *yiaddr, uint32_t *server)
{
	struct lp_buf b;
	const uint8_t *dst, *src, *chaddr, *skip;
	uint8_t vihl, proto, op;
	uint16_t type, sport, dport;
	uint32_t rx_xid, cookie;
	size_t ihl;
	int msg = 0;

	lp_buf_init(&b, f, len);
	lp_buf_bytes(&b, &dst, 6);
	lp_buf_bytes(&b, &src, 6);
	type = lp_buf_u16(&b);
	vihl = lp_buf_u8(&b);
	if (b.err != 0 || type != 0x0800 || vihl >> 4 != 4 || (vihl & 0xf) < 5)
		return 0;
	ihl = (size_t)(vihl & 0xf) * 4;
	lp_buf_bytes(&b, &skip, 7); /* tos, length, id, fragment */
	lp_buf_u8(&b);              /* ttl */
	proto = lp_buf_u8(&b);
	lp_buf_u16(&b); /* checksum */
	*server = lp_buf_u32(&b);
	lp_buf_u32(&b); /* destination */
	lp_buf_bytes(&b, &skip, ihl - IP_HDR);
	sport = lp_buf_u16(&b);
	dport = lp_buf_u16(&b);
	lp_buf_bytes(&b, &skip, 4); /* length, checksum */
	op = lp_buf_u8(&b);
	lp_buf_bytes(&b, &skip, 3); /* htype, hlen, hops */
	rx_xid = lp_buf_u32(&b);
	lp_buf_bytes(&b, &skip, 8); /* secs, flags, ciaddr */
	*yiaddr = lp_buf_u32(&b);
	lp_buf_bytes(&b, &skip, 8); /* siaddr, giaddr */
	lp_buf_bytes(&b, &chaddr, 6);
	lp_buf_bytes(&b, &skip, 10 + 64 + 128); /* chaddr padding, sname, file */
	cookie = lp_buf_u32(&b);
	if (b.err != 0 || proto != 17 || sport != 67 || dport != 68 || op != 2 || rx_xid != xid ||
	    memcmp(chaddr, mac, 6) != 0 || cookie != DHCP_COOKIE)
		return 0;
	while (lp_buf_left(&b) > 0) {
		uint8_t code = lp_buf_u8(&b), olen;
		const uint8_t *val;

		if (code == 0)
			continue;
		if (code == 255)
			break;
		olen = lp_buf_u8(&b);
		lp_buf_bytes(&b, &val, olen);
		if (b.err != 0)
			return 0;
		if (code == 53 && olen == 1)
			msg = val[0];
	}
	return msg == 2;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct sockaddr_in local = { .sin_family = AF_INET }, server = { .sin_family = AF_INET };
	uint16_t port = 0, server_port = 0;
	unsigned long timeout = 20;
	bool have_mac = false;
	uint8_t frame[2048], rx[65536];
	uint64_t end, next_send = 0;
	unsigned sent = 0, other = 0;
	int fd;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--mac") == 0)
			have_mac = parse_mac(argv[++i], mac);
		else if (strcmp(argv[i], "--port") == 0) {
			if (!parse_port(argv[++i], &port))
				return usage();
		} else if (strcmp(argv[i], "--server-port") == 0) {
			if (!parse_port(argv[++i], &server_port))
				return usage();
		} else if (strcmp(argv[i], "--timeout") == 0)
			timeout = strtoul(argv[++i], NULL, 10);
		else
			return usage();
	}
	if (!have_mac || port == 0 || server_port == 0 || timeout == 0)
		return usage();
	xid = (uint32_t)getpid() * 2654435761u;

	local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	local.sin_port = htons(port);
	server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	server.sin_port = htons(server_port);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		perror("dhcp_probe: bind");
		return 2;
	}
	end = now_ms() + timeout * 1000;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = now_ms();
		uint32_t yiaddr, srv;
		ssize_t n;

		if (now >= end)
			break;
		if (now >= next_send) {
			size_t len = build_discover(frame);

			if (sendto(fd, frame, len, 0, (struct sockaddr *)&server, sizeof(server)) <
			    0)
				perror("dhcp_probe: sendto");
			sent++;
			next_send = now + 1000;
		}
		if (poll(&pfd, 1, (int)(next_send < end ? next_send - now : end - now)) <= 0)
			continue;
		n = recv(fd, rx, sizeof(rx), 0);
		if (n <= 0)
			continue; /* ICMP port unreachable before the server is up, or its hello */
		if (parse_offer(rx, (size_t)n, &yiaddr, &srv)) {
			struct in_addr y = { htonl(yiaddr) }, s = { htonl(srv) };
			char ys[INET_ADDRSTRLEN], ss[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &y, ys, sizeof(ys));
			inet_ntop(AF_INET, &s, ss, sizeof(ss));
			printf("offer %s from %s\n", ys, ss);
			return 0;
		}
		other++;
	}
	fprintf(stderr, "dhcp_probe: no OFFER after %lu s (%u DISCOVERs sent, %u other frames)\n",
	        timeout, sent, other);
	return 1;
}
