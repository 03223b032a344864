/*
 * wakeup_chain - the latency floor of a chain of sleeping processes.
 *
 *   wakeup_chain HOPS COUNT INTERVAL_US [RTT_FILE]
 *
 * Starts HOPS plain UDP forwarders on 127.0.0.1, each blocking in recv(),
 * and sends COUNT one-byte pings through the chain and back, INTERVAL_US
 * apart. No encryption, no tunnel: what remains is the cost of waking each
 * process, which a tunnel with the same number of processes per round trip
 * cannot go below. bench/lanparty.sh prints it next to the tunnel's RTT.
 *
 * Prints "avg min median p90" RTT in ms; with RTT_FILE, each round trip is
 * also written there, one per line in ms (bench/floor.sh pools them).
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct sockaddr_in self, first;
	pid_t pids[64];
	double sum = 0, min = 1e12, *rtt;
	int hops, count, interval, s, done = 0;
	char b[1] = { 'x' };
	FILE *out = NULL;

	if ((argc != 4 && argc != 5) || (hops = atoi(argv[1])) < 1 || hops > 64 ||
	    (count = atoi(argv[2])) < 1 || (interval = atoi(argv[3])) < 0) {
		fprintf(stderr, "usage: wakeup_chain HOPS(1-64) COUNT INTERVAL_US [RTT_FILE]\n");
		return 2;
	}
	rtt = calloc((size_t)count, sizeof(*rtt));
	if (rtt == NULL || (argc == 5 && (out = fopen(argv[4], "w")) == NULL)) {
		perror("wakeup_chain");
		return 1;
	}
	for (int i = 1; i <= hops; i++) {
		pids[i - 1] = fork();
		if (pids[i - 1] == 0)
			forwarder(i, hops);
	}
	s = udp_bound(BASE_PORT, &self);
	/* A lost ping (a forwarder that could not bind, say) must not hang the
	 * bench: give up on it after a second. */
	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_sec = 1 },
	               sizeof(struct timeval)) != 0)
		perror("wakeup_chain: SO_RCVTIMEO");
	first = self;
	first.sin_port = htons(BASE_PORT + 1);
	usleep(100000);
	for (int i = 0; i < count; i++) {
		double t = now_us(), r;

		if (sendto(s, b, 1, 0, (struct sockaddr *)&first, sizeof(first)) != 1 ||
		    recv(s, b, 1, 0) != 1)
			break;
		r = now_us() - t;
		rtt[done++] = r / 1000.0;
		if (out != NULL)
			fprintf(out, "%.3f\n", r / 1000.0);
		sum += r;
		if (r < min)
			min = r;
		usleep((useconds_t)interval);
	}
	for (int i = 0; i < hops; i++) {
		kill(pids[i], SIGTERM);
		waitpid(pids[i], NULL, 0);
	}
	if (done == 0) {
		fprintf(stderr, "wakeup_chain: no round trip completed\n");
		return 1;
	}
	qsort(rtt, (size_t)done, sizeof(*rtt), cmp_double);
	/* avg, min, median and p90 RTT, ms */
	printf("%.3f %.3f %.3f %.3f\n", sum / done / 1000.0, min / 1000.0, rtt[done / 2],
	       rtt[(done * 9) / 10]);
	free(rtt);
	return out != NULL && fclose(out) != 0 ? 1 : 0;
}
