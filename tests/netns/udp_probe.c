/*
 * udp_probe - game-discovery stand-in for the netns tests.
 *
 *   udp_probe send ADDR PORT TEXT [COUNT [IFACE]]  send TEXT COUNT times, 100 ms apart,
 *                                           out of IFACE when given
 *   udp_probe recv PORT TEXT SECONDS        exit 0 once a datagram containing TEXT arrives
 *
 * `send` enables SO_BROADCAST; with IFACE it binds to that device, so the
 * limited broadcast 255.255.255.255 needs no route (the test namespaces have
 * no default route).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: udp_probe send ADDR PORT TEXT [COUNT [IFACE]]\n"
	                "       udp_probe recv PORT TEXT SECONDS\n");
	return 2;
}

static int do_send(const char *addr, int port, const char *text, int count, const char *ifname)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd, on = 1;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return usage();
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) < 0) {
		perror("udp_probe: socket");
		return 1;
	}
	if (ifname != NULL &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0) {
		perror("udp_probe: SO_BINDTODEVICE");
		return 1;
	}
	for (int i = 0; i < count; i++) {
		if (sendto(fd, text, strlen(text), 0, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			perror("udp_probe: sendto");
		usleep(100 * 1000);
	}
	close(fd);
	return 0;
}

static int do_recv(int port, const char *text, int seconds)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timespec start, now;
	char buf[2048];
	int fd, on = 1;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("udp_probe: bind");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left_ms;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left_ms = seconds * 1000L - ((now.tv_sec - start.tv_sec) * 1000L +
		                             (now.tv_nsec - start.tv_nsec) / 1000000L);
		if (left_ms <= 0)
			break;
		if (poll(&pfd, 1, (int)left_ms) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			continue;
		buf[n] = '\0';
		if (strstr(buf, text) != NULL) {
			printf("udp_probe: received \"%s\"\n", buf);
			return 0;
		}
	}
	fprintf(stderr, "udp_probe: nothing containing \"%s\" on port %d within %d s\n", text, port,
	        seconds);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "send") == 0)
		return do_send(argv[2], atoi(argv[3]), argv[4], argc > 5 ? atoi(argv[5]) : 5,
		               argc > 6 ? argv[6] : NULL);
	if (argc == 5 && strcmp(argv[1], "recv") == 0)
		return do_recv(atoi(argv[2]), argv[3], atoi(argv[4]));
	return usage();
}
