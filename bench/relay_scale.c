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
 * usage: relay_scale [seconds [max_peers]]   (LP_RELAY_BIN: the relay)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay_proc.h"

#define SEC LP_NS_PER_SEC
#define MS LP_NS_PER_MS
#define FRAME_LEN 1200
#define ROOM 8
#define BIG_ROOM 32

struct run {
	size_t peers;
	long rss0_kb, rss_kb, vsz0_kb, vsz_kb, rss_after_kb;
	uint64_t frames, cpu_ns;
};

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

/* Admits n peers in rooms of room_size; RSS and address space before and after. */
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
	return 0;
}

/* Senders send for `seconds`; returns frames the relay sent and its CPU. */
static int traffic(struct rp_relay *relay, struct rp_world *w, struct rp_peer **peers, size_t n,
                   size_t room_size, int broadcast, double seconds, struct run *r)
{
	static const char tx_key[] = "lanparty_relay_frames_tx_total";
	uint8_t f[FRAME_LEN];
	char src[32], dst[32];
	uint64_t t0 = 0, cpu0 = 0, tx0 = 0, seq = 0, start = lp_now_ns(), end;
	uint64_t warm = 300 * MS;

	end = start + warm + (uint64_t)(seconds * 1e9);
	for (;;) {
		uint64_t now = lp_now_ns();

		if (t0 == 0 && now - start >= warm) {
			t0 = now;
			cpu0 = rp_proc_cpu_ns(relay->pid);
			tx0 = rp_relay_metric(relay, tx_key);
		}
		if (now >= end)
			break;
		for (size_t i = 0; i + 1 < n; i += room_size) {
			mac_of(i + 1, src, sizeof(src));
			if (broadcast)
				snprintf(dst, sizeof(dst), "ff:ff:ff:ff:ff:ff");
			else
				mac_of(i + 2, dst, sizeof(dst));
			for (int k = 0; k < 32; k++) {
				rp_frame_build(f, FRAME_LEN, dst, src, LP_ETHERTYPE_IPV4,
				               (uint32_t)seq);
				if (rp_send_frame(peers[i], f, FRAME_LEN) != 0)
					break;
				seq++;
			}
		}
		(void)rp_pump(w, 0, NULL, NULL);
	}
	r->cpu_ns = rp_proc_cpu_ns(relay->pid) - cpu0;
	r->frames = rp_relay_metric(relay, tx_key) - tx0;
	r->rss_after_kb = proc_kb(relay->pid, "VmRSS");
	return tx0 == UINT64_MAX ? -1 : 0;
}

static int one(size_t n, size_t room_size, int broadcast, double seconds, struct run *r)
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
		if (populate(&relay, &w, peers, n, room_size, r) == 0 &&
		    traffic(&relay, &w, peers, n, room_size, broadcast, seconds, r) == 0)
			rc = 0;
		rp_world_free(&w);
	}
	(void)rp_relay_stop(&relay);
out:
	free(peers);
	return rc;
}

int main(int argc, char **argv)
{
	static const size_t counts[] = { 2, 20, 200, 1000 };
	double seconds = argc > 1 ? atof(argv[1]) : 3.0;
	size_t max = argc > 2 ? (size_t)atol(argv[2]) : 1000;
	double base = 0, worst = 0;
	struct run r;
	int fail = 0;

	printf("relay_scale: rooms of %d, %d-byte unicast frames, %.1f s a run\n", ROOM, FRAME_LEN,
	       seconds);
	printf("%6s %12s %12s %14s %12s %12s\n", "peers", "RSS/peer KiB", "VSZ/peer KiB",
	       "RSS/peer after", "frames/s", "CPU ns/frame");
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]) && counts[i] <= max; i++) {
		double per;

		if (one(counts[i], ROOM, 0, seconds, &r) != 0 || r.frames == 0) {
			printf("%6zu  failed\n", counts[i]);
			fail = 1;
			continue;
		}
		per = (double)r.cpu_ns / (double)r.frames;
		if (counts[i] == 2)
			base = per;
		if (counts[i] <= 200 && base > 0 && per / base > worst)
			worst = per / base;
		printf("%6zu %12.1f %12.1f %14.1f %12.0f %12.0f\n", counts[i],
		       (double)(r.rss_kb - r.rss0_kb) / (double)counts[i],
		       (double)(r.vsz_kb - r.vsz0_kb) / (double)counts[i],
		       (double)(r.rss_after_kb - r.rss0_kb) / (double)counts[i],
		       (double)r.frames / seconds, per);
	}
	if (base > 0)
		printf("CPU per frame, worst of 20/200 against 2 peers: %.2fx (target <= 1.20x)\n",
		       worst);
	if (one(BIG_ROOM, BIG_ROOM, 1, seconds, &r) == 0 && r.frames > 0) {
		double copies = (double)r.frames, bcasts = copies / (BIG_ROOM - 1);

		printf("broadcast to a room of %d: %.0f ns of relay CPU per broadcast, %.0f ns per "
		       "copy (%.2fx a unicast frame at 2 peers)\n",
		       BIG_ROOM, (double)r.cpu_ns / bcasts, (double)r.cpu_ns / copies,
		       base > 0 ? (double)r.cpu_ns / copies / base : 0.0);
	} else {
		printf("broadcast run failed\n");
		fail = 1;
	}
	return fail;
}
