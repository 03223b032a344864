/*
 * wakeup_chain - the latency floor of a chain of sleeping processes.
 *
 *   wakeup_chain HOPS COUNT INTERVAL_US
 *
 * Starts HOPS plain UDP forwarders on 127.0.0.1, each blocking in recv(),
 * and sends COUNT one-byte pings through the chain and back, INTERVAL_US
 * apart. No encryption, no tunnel: what remains is the cost of waking each
 * process, which a tunnel with the same number of processes per round trip
 * cannot go below. bench/lanparty.sh prints it next to the tunnel's RTT.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BASE_PORT 47100

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int udp_bound(int port, struct sockaddr_in *addr)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	addr->sin_family = AF_INET;
	addr->sin_port = htons((uint16_t)port);
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)addr, sizeof(*addr)) != 0) {
		perror("wakeup_chain: bind");
		exit(1);
	}
	return s;
}

static void forwarder(int i, int hops)
{
	struct sockaddr_in self, next = { 0 };
	int s = udp_bound(BASE_PORT + i, &self);
	char b[16];

	next = self;
	next.sin_port = htons((uint16_t)(i == hops ? BASE_PORT : BASE_PORT + i + 1));
	for (;;) {
		ssize_t r = recv(s, b, sizeof(b), 0);

		if (r <= 0)
			_exit(0);
		(void)sendto(s, b, (size_t)r, 0, (struct sockaddr *)&next, sizeof(next));
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in self, first;
	pid_t pids[64];
	double sum = 0, min = 1e12;
	int hops, count, interval, s;
	char b[1] = { 'x' };

	if (argc != 4 || (hops = atoi(argv[1])) < 1 || hops > 64 || (count = atoi(argv[2])) < 1 ||
	    (interval = atoi(argv[3])) < 0) {
		fprintf(stderr, "usage: wakeup_chain HOPS(1-64) COUNT INTERVAL_US\n");
		return 2;
	}
	for (int i = 1; i <= hops; i++) {
		pids[i - 1] = fork();
		if (pids[i - 1] == 0)
			forwarder(i, hops);
	}
	s = udp_bound(BASE_PORT, &self);
	first = self;
	first.sin_port = htons(BASE_PORT + 1);
	usleep(100000);
	for (int i = 0; i < count; i++) {
		double t = now_us(), r;

		if (sendto(s, b, 1, 0, (struct sockaddr *)&first, sizeof(first)) != 1 ||
		    recv(s, b, 1, 0) != 1)
			break;
		r = now_us() - t;
		sum += r;
		if (r < min)
			min = r;
		usleep((useconds_t)interval);
	}
	for (int i = 0; i < hops; i++) {
		kill(pids[i], SIGTERM);
		waitpid(pids[i], NULL, 0);
	}
	printf("%.3f %.3f\n", sum / count / 1000.0, min / 1000.0); /* avg and min RTT, ms */
	return 0;
}
