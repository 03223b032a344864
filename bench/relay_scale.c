/*
 * relay_scale.c - what the real lanparty-relay costs per peer, from 2 to
 * 1,000 peers in rooms of 8, with lib/client-core sessions generated in
 * this process (tests/integration/relay_proc.c) on loopback.
 *
 * For each peer count N: a fresh relay; RSS (VmRSS) and address space
 * (VmSize) of the relay before any peer and with N admitted idle peers
 * give the cost per idle peer (target <= 64 KiB of RSS). Then in every
 * room peer 0 sends 1200-byte unicast frames to peer 1 for the measuring
 * window; the relay's CPU time over the frames it forwarded is its cost
 * per frame (target: flat within 20% from 2 to 200), and RSS after traffic
 * shows what the datagram queues touched meanwhile. Last, one room of 32
 * where one peer broadcasts: CPU per broadcast frame and per copy, against
 * the unicast cost of the N = 2 run.
 *
 * Each relay is measured over `repeats` windows (default 3); the median is
 * printed, each window's figure beside it: on this shared machine one
 * window can be off by half. CPU and wake-ups ("runs": how often the relay
 * was put on a CPU) come from /proc/PID/schedstat. Per-frame CPU falls as
 * batches grow, so a peer count that this process drives more slowly
 * looks dearer: LP_SCALE_RATE=F offers F frames a second at every count.
 *
 * usage: relay_scale [seconds [max_peers [repeats]]]   (LP_RELAY_BIN: the relay)
 * For a profiler on the relay (LP_RELAY_BIN a wrapper script):
 *   LP_SCALE_ONLY=N     only the run with N peers, no broadcast run;
 *   LP_SCALE_HOLD=S     stay idle S seconds once the peers are admitted,
 *                       then stop the relay (massif writes its report);
 *   LP_SCALE_HOOK=CMD   run `CMD start|stop PID` around each measuring
 *                       window (callgrind_control --zero / --dump), and
 *                       print each window's frames to stderr.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "relay_proc.h"

#define SEC LP_NS_PER_SEC
#define MS LP_NS_PER_MS
#define FRAME_LEN 1200
#define ROOM 8
#define BIG_ROOM 32
#define REPEATS_MAX 15

struct run {
	size_t peers;
	long rss0_kb, rss_kb, vsz0_kb, vsz_kb, rss_after_kb;
	size_t windows;
	uint64_t frames[REPEATS_MAX], cpu_ns[REPEATS_MAX], runs[REPEATS_MAX];
	double per_frame[REPEATS_MAX];
};

/* The relay's CPU time in nanoseconds and how often it was run (its
 * wake-ups, near enough), from /proc/PID/schedstat: /proc/PID/stat counts
 * clock ticks, 10 ms, a few percent of a short window. */
static uint64_t cpu_ns(pid_t pid, uint64_t *runs)
{
	char path[64];
	unsigned long long ns = 0, wait = 0, n = 0;
	FILE *f;

	*runs = 0;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return rp_proc_cpu_ns(pid);
	if (fscanf(f, "%llu %llu %llu", &ns, &wait, &n) != 3)
		ns = 0;
	fclose(f);
	*runs = n;
	return ns != 0 ? (uint64_t)ns : rp_proc_cpu_ns(pid);
}

static void hook(const char *what, pid_t pid)
{
	const char *cmd = getenv("LP_SCALE_HOOK");
	char line[512];

	if (cmd == NULL || cmd[0] == '\0')
		return;
	snprintf(line, sizeof(line), "%s %s %d", cmd, what, (int)pid);
	if (system(line) != 0)
		fprintf(stderr, "relay_scale: '%s' failed\n", line);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, size_t n)
{
	double s[REPEATS_MAX];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static long proc_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	size_t klen = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			v = atol(line + klen + 1);
	fclose(f);
	return v;
}

static void mac_of(size_t i, char *out, size_t cap)
{
	snprintf(out, cap, "02:00:00:%02x:%02x:%02x", (unsigned)(i >> 16) & 0xff,
	         (unsigned)(i >> 8) & 0xff, (unsigned)i & 0xff);
}

static bool idle_cond(void *arg)
{
	(void)arg;
	return false;
}

/* Admits n peers in rooms of room_size; RSS and address space before and
 * after. 0, -1, or 1 when the relay was held idle and stopped (LP_SCALE_HOLD). */
static int populate(struct rp_relay *relay, struct rp_world *w, struct rp_peer **peers, size_t n,
                    size_t room_size, struct run *r)
{
	char mac[32], room[32], name[32];
	size_t i, done;

	(void)rp_pump(w, 200 * MS, idle_cond, NULL);
	r->rss0_kb = proc_kb(relay->pid, "VmRSS");
	r->vsz0_kb = proc_kb(relay->pid, "VmSize");
	/* Admit in steps of 16 so handshakes do not pile up past their timers;
	 * a session the relay refused (PMTUD not done before the hello when
	 * this process is slow: budget_too_small) is made again, twice at most. */
	for (done = 0; done < n;) {
		size_t step = n - done < 16 ? n - done : 16;
		int tries;

		for (tries = 0; tries < 3; tries++) {
			for (i = done; i < done + step; i++) {
				if (peers[i] != NULL && rp_admitted(peers[i]))
					continue;
				rp_peer_del(peers[i]);
				mac_of(i + 1, mac, sizeof(mac));
				snprintf(room, sizeof(room), "SCALE%zu", i / room_size);
				snprintf(name, sizeof(name), "p%zu", i);
				peers[i] = rp_session_new(w, name, LP_ROLE_CLIENT, room, mac, NULL);
				if (peers[i] == NULL)
					return -1;
				peers[i]->record_tags = false;
			}
			if (rp_pump_admitted(w, 20 * SEC, peers + done, step))
				break;
		}
		if (tries == 3) {
			size_t bad = done;

			while (bad < done + step && rp_admitted(peers[bad]))
				bad++;
			fprintf(stderr,
			        "relay_scale: peers %zu..%zu not admitted (%zu first: %s)\n", done,
			        done + step - 1, bad,
			        bad < done + step && peers[bad]->nev > 0
			                ? peers[bad]->ev[peers[bad]->nev - 1].text
			                : "no event");
			return -1;
		}
		done += step;
	}
	(void)rp_pump(w, 500 * MS, idle_cond, NULL);
	r->rss_kb = proc_kb(relay->pid, "VmRSS");
	r->vsz_kb = proc_kb(relay->pid, "VmSize");
	r->peers = n;
	if (getenv("LP_SCALE_HOLD") != NULL) {
		fprintf(stderr, "relay_scale: %zu peers idle, relay pid %d\n", n, (int)relay->pid);
		(void)rp_pump(w, (uint64_t)(atof(getenv("LP_SCALE_HOLD")) * 1e9), idle_cond, NULL);
		/* A profiler writes its report at exit, slower than
		 * rp_relay_stop waits: stop the relay here, idle. */
		(void)kill(relay->pid, SIGTERM);
		(void)waitpid(relay->pid, NULL, 0);
		relay->pid = -1;
		return 1;
	}
	return 0;
}

/* Senders send for `seconds`; returns frames the relay sent and its CPU. */
static int traffic(struct rp_relay *relay, struct rp_world *w, struct rp_peer **peers, size_t n,
                   size_t room_size, int broadcast, double seconds, struct run *r, size_t k)
{
	static const char tx_key[] = "lanparty_relay_frames_tx_total";
	uint8_t f[FRAME_LEN];
	char src[32], dst[32];
	uint64_t t0 = 0, cpu0 = 0, runs0 = 0, runs1, tx0 = 0, seq = 0, start = lp_now_ns(), end;
	uint64_t warm = 300 * MS;
	/* LP_SCALE_RATE: offer this many frames a second in all, whatever the
	 * peer count (unset: as fast as this process can). */
	double rate = getenv("LP_SCALE_RATE") != NULL ? atof(getenv("LP_SCALE_RATE")) : 0;
	size_t senders = (n + room_size - 2) / room_size;

	end = start + warm + (uint64_t)(seconds * 1e9);
	for (;;) {
		uint64_t now = lp_now_ns();

		if (t0 == 0 && now - start >= warm) {
			/* Scrape the metrics outside the measured CPU: the page
			 * lists every peer (at 200 peers it costs the relay as
			 * much as ~10,000 forwarded frames). */
			tx0 = rp_relay_metric(relay, tx_key);
			hook("start", relay->pid);
			t0 = lp_now_ns();
			cpu0 = cpu_ns(relay->pid, &runs0);
		}
		if (now >= end)
			break;
		for (size_t i = 0; i + 1 < n; i += room_size) {
			int burst = 32;

			if (rate > 0) {
				double due = rate * (double)(now - start) / 1e9 - (double)seq;

				burst = due <= 0 ? 0 : (int)(due / (double)senders) + 1;
				burst = burst > 32 ? 32 : burst;
			}
			mac_of(i + 1, src, sizeof(src));
			if (broadcast)
				snprintf(dst, sizeof(dst), "ff:ff:ff:ff:ff:ff");
			else
				mac_of(i + 2, dst, sizeof(dst));
			for (int j = 0; j < burst; j++) {
				rp_frame_build(f, FRAME_LEN, dst, src, LP_ETHERTYPE_IPV4,
				               (uint32_t)seq);
				if (rp_send_frame(peers[i], f, FRAME_LEN) != 0)
					break;
				seq++;
			}
		}
		(void)rp_pump(w, 0, NULL, NULL);
	}
	r->cpu_ns[k] = cpu_ns(relay->pid, &runs1) - cpu0;
	r->runs[k] = runs1 - runs0;
	hook("stop", relay->pid);
	r->frames[k] = rp_relay_metric(relay, tx_key) - tx0;
	if (getenv("LP_SCALE_HOOK") != NULL)
		fprintf(stderr, "relay_scale: %zu peers, window %zu: %llu frames\n", n, k,
		        (unsigned long long)r->frames[k]);
	if (k == 0)
		r->rss_after_kb = proc_kb(relay->pid, "VmRSS");
	r->per_frame[k] = r->frames[k] > 0 ? (double)r->cpu_ns[k] / (double)r->frames[k] : 0;
	r->windows = k + 1;
	return tx0 == UINT64_MAX || r->frames[k] == 0 ? -1 : 0;
}

static int one(size_t n, size_t room_size, int broadcast, double seconds, size_t repeats,
               struct run *r)
{
	struct rp_relay relay;
	struct rp_world w;
	static const char *const args[] = { "--log-level", "warn", "--max-rooms", "1000",
		                            "--max-peers", "32", "--rate-broadcast", "10000000",
		                            "--rate-unknown", "10000000", "--rate-total-mbit",
		                            "100000", "--rate-room-mbit", "0", "--idle-timeout",
		                            "120",
		                            /* every peer is on 127.0.0.1 and waits
		                             * up to 20 s for PMTUD before its hello */
		                            "--rooms-per-address", "1000", "--conns-per-address",
		                            "2000", "--hello-timeout", "60", NULL };
	struct rp_peer **peers = calloc(n, sizeof(*peers));
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (peers == NULL)
		return -1;
	if (rp_relay_start(&relay, args) != 0)
		goto out;
	if (rp_world_init(&w, &relay) == 0) {
		/* With hundreds of sessions in one process PMTUD can take longer
		 * than the default second: its hello would then be refused. */
		w.pmtud_wait_ns = 20 * SEC;
		if (populate(&relay, &w, peers, n, room_size, r) == 0) {
			rc = 0;
			for (size_t k = 0; k < repeats && rc == 0; k++)
				rc = traffic(&relay, &w, peers, n, room_size, broadcast, seconds, r,
				             k);
		}
		rp_world_free(&w);
	}
	(void)rp_relay_stop(&relay);
out:
	free(peers);
	return rc;
}

static void loadavg(char *out, size_t cap)
{
	FILE *f = fopen("/proc/loadavg", "r");

	if (f == NULL || fgets(out, (int)cap, f) == NULL)
		snprintf(out, cap, "?\n");
	if (f != NULL)
		fclose(f);
}

int main(int argc, char **argv)
{
	static const size_t counts[] = { 2, 20, 200, 1000 };
	double seconds = argc > 1 ? atof(argv[1]) : 3.0;
	size_t max = argc > 2 ? (size_t)atol(argv[2]) : 1000;
	size_t repeats = argc > 3 ? (size_t)atol(argv[3]) : 3;
	size_t only = getenv("LP_SCALE_ONLY") != NULL ? (size_t)atol(getenv("LP_SCALE_ONLY")) : 0;
	double base = 0, at200 = 0, worst = 0;
	char load[128];
	struct run r;
	int fail = 0;

	if (repeats < 1 || repeats > REPEATS_MAX) {
		fprintf(stderr, "relay_scale: repeats 1..%d\n", REPEATS_MAX);
		return 2;
	}
	loadavg(load, sizeof(load));
	printf("relay_scale: rooms of %d, %d-byte unicast frames, median of %zu x %.1f s a run; "
	       "loadavg %s",
	       ROOM, FRAME_LEN, repeats, seconds, load);
	if (getenv("LP_SCALE_RATE") != NULL)
		printf("offered load: %s frames/s in all (LP_SCALE_RATE)\n",
		       getenv("LP_SCALE_RATE"));
	printf("%6s %12s %12s %14s %12s %10s %12s  %s\n", "peers", "RSS/peer KiB", "VSZ/peer KiB",
	       "RSS/peer after", "frames/s", "runs/kfr", "CPU ns/frame", "(each window)");
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]) && counts[i] <= max; i++) {
		double per, fps[REPEATS_MAX], rpk[REPEATS_MAX];
		char each[REPEATS_MAX * 8] = "", *e = each;

		if (only != 0 && counts[i] != only)
			continue;
		if (one(counts[i], ROOM, 0, seconds, repeats, &r) != 0) {
			printf("%6zu  failed\n", counts[i]);
			fail = 1;
			continue;
		}
		for (size_t k = 0; k < r.windows; k++) {
			fps[k] = (double)r.frames[k] / seconds;
			rpk[k] = (double)r.runs[k] * 1000 / (double)r.frames[k];
			e += snprintf(e, sizeof(each) - (size_t)(e - each), " %.0f",
			              r.per_frame[k]);
		}
		per = median(r.per_frame, r.windows);
		if (counts[i] == 2)
			base = per;
		if (counts[i] == 200)
			at200 = per;
		if (counts[i] <= 200 && base > 0 && per / base > worst)
			worst = per / base;
		printf("%6zu %12.1f %12.1f %14.1f %12.0f %10.1f %12.0f  (%s )\n", counts[i],
		       (double)(r.rss_kb - r.rss0_kb) / (double)counts[i],
		       (double)(r.vsz_kb - r.vsz0_kb) / (double)counts[i],
		       (double)(r.rss_after_kb - r.rss0_kb) / (double)counts[i],
		       median(fps, r.windows), median(rpk, r.windows), per, each + 1);
	}
	if (base > 0 && at200 > 0)
		printf("CPU per frame, 200 against 2 peers: %.2fx; worst of 20/200: %.2fx (target "
		       "<= 1.20x)\n",
		       at200 / base, worst);
	if (only != 0)
		return fail;
	if (one(BIG_ROOM, BIG_ROOM, 1, seconds, repeats, &r) == 0) {
		double per_copy[REPEATS_MAX], copies;

		for (size_t k = 0; k < r.windows; k++)
			per_copy[k] = r.per_frame[k];
		copies = median(per_copy, r.windows);
		printf("broadcast to a room of %d: %.0f ns of relay CPU per broadcast, %.0f ns per "
		       "copy (%.2fx a unicast frame at 2 peers)\n",
		       BIG_ROOM, copies * (BIG_ROOM - 1), copies, base > 0 ? copies / base : 0.0);
	} else {
		printf("broadcast run failed\n");
		fail = 1;
	}
	loadavg(load, sizeof(load));
	printf("loadavg at the end: %s", load);
	return fail;
}
