/* attack.c - see attack.h. */
#include "attack.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The attacks whose fixes have landed: their targets are asserted. */
static const char *const enforced[] = {
	"flood_frames", "flood_admit",     "flood_rss_peak", "flood_rss_after",
	"no_hello",     "ctrl_spam_close", "deaf_peer",      "slow_metrics",
	"ncid_retire",  "source_cap",      "room_slots",
};

uint64_t attack_proc_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			v = strtoull(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

bool attack_enforced(const char *name)
{
	const char *env = getenv("LP_ATTACK_ENFORCE");

	if (env != NULL && strcmp(env, "all") == 0)
		return true;
	for (size_t i = 0; i < LP_ARRAY_LEN(enforced); i++)
		if (strcmp(enforced[i], name) == 0)
			return true;
	return false;
}

bool attack_report(const char *name, bool met, const char *target, const char *fmt, ...)
{
	char fig[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fig, sizeof(fig), fmt, ap);
	va_end(ap);
	printf("ATTACK %-16s %s | target %s: %s%s\n", name, fig, target, met ? "met" : "NOT met",
	       attack_enforced(name) ? "" : " (not enforced yet)");
	fflush(stdout);
	if (attack_enforced(name) && !met)
		fail_msg("attack %s: target not met: %s (%s)", name, target, fig);
	return met;
}

struct rtt_wait {
	struct attack_rtt *r;
	struct rp_peer *p;
	uint32_t tag;
};

static bool rtt_cond(void *arg)
{
	struct rtt_wait *wt = arg;

	if (wt->r->tick != NULL)
		wt->r->tick(wt->r->tick_arg);
	return rp_has_tag(wt->p, wt->tag);
}

static bool one_way(struct attack_rtt *r, struct rp_peer *from, struct rp_peer *to, const char *dst,
                    const char *src, uint32_t tag, uint64_t timeout_ns)
{
	uint8_t frame[200];
	struct rtt_wait wt = { r, to, tag };

	rp_frame_build(frame, sizeof(frame), dst, src, LP_ETHERTYPE_IPV4, tag);
	if (rp_send_frame(from, frame, sizeof(frame)) != 0)
		return false;
	return rp_pump(r->w, timeout_ns, rtt_cond, &wt);
}

size_t attack_rtt_sample(struct attack_rtt *r, size_t n, uint64_t timeout_ns, uint64_t *out_ns)
{
	size_t done = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t tag = r->next_tag++;
		uint64_t t0 = lp_now_ns();
		bool ok;

		/* Tags are recorded only up to RP_TAGS_MAX per peer: start over. */
		if (r->a->ntags >= RP_TAGS_MAX - 1 || r->b->ntags >= RP_TAGS_MAX - 1)
			r->a->ntags = r->b->ntags = 0;
		ok = one_way(r, r->a, r->b, r->mac_b, r->mac_a, tag, timeout_ns) &&
		     one_way(r, r->b, r->a, r->mac_a, r->mac_b, tag, timeout_ns);
		out_ns[i] = ok ? lp_now_ns() - t0 : timeout_ns;
		done += ok;
	}
	return done;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t attack_percentile(uint64_t *v, size_t n, unsigned p)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	i = (n * p + 99) / 100;
	return v[i == 0 ? 0 : i - 1];
}
