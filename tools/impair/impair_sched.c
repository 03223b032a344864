/* impair_sched.c - the impairment model: loss, duplicates, a rate-capped
 * link with a bounded FIFO, delay, jitter and reordering (impair_sched.h). */
#include "impair_sched.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PPM 1000000u

struct dir_state {
	struct lp_impair_spec spec;
	uint64_t rng;
	uint64_t link_free_ns; /* when the link finishes what it holds */
	uint64_t credit_ns;    /* token bucket, in ns of link time */
	uint64_t credit_at_ns; /* when credit_ns was last brought up to date */
	uint64_t last_due_ns;  /* jitter keeps order behind this */
	struct lp_impair_stats st;
};

struct lp_impair {
	struct lp_impair_pkt *slots;
	uint8_t *mem;
	size_t nslots;
	size_t slot_bytes;
	struct lp_impair_pkt **free; /* stack of free slots */
	size_t nfree;
	struct lp_heap heap; /* on (due_ns, seq); reserved for every slot */
	uint64_t seq;
	struct dir_state dir[LP_IMPAIR_DIRS];
};

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static bool chance(uint64_t draw, uint32_t ppm)
{
	return draw % PPM < ppm;
}

/* ns of link time that `bytes` take at rate_bps. */
static uint64_t link_ns(uint64_t bytes, uint64_t rate_bps)
{
	return rate_bps == 0 ? 0 : bytes * 8 * LP_NS_PER_SEC / rate_bps;
}

static bool pkt_before(const struct lp_heap_entry *ea, const struct lp_heap_entry *eb)
{
	const struct lp_impair_pkt *a = LP_CONTAINER_OF(ea, const struct lp_impair_pkt, he);
	const struct lp_impair_pkt *b = LP_CONTAINER_OF(eb, const struct lp_impair_pkt, he);

	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

int lp_impair_new(struct lp_impair **out, const struct lp_impair_config *cfg)
{
	struct lp_impair *m = NULL;
	int rc = LP_ERR_NOMEM;

	*out = NULL;
	if (cfg->pool_slots == 0 || cfg->slot_bytes == 0)
		return LP_ERR_INVAL;
	for (int d = 0; d < LP_IMPAIR_DIRS; d++) {
		const struct lp_impair_spec *s = &cfg->dir[d];

		if (s->loss_ppm > PPM || s->dup_ppm > PPM || s->reorder_ppm > PPM)
			return LP_ERR_INVAL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		goto out;
	m->nslots = cfg->pool_slots;
	m->slot_bytes = cfg->slot_bytes;
	m->slots = calloc(m->nslots, sizeof(*m->slots));
	m->mem = malloc(m->nslots * m->slot_bytes);
	m->free = calloc(m->nslots, sizeof(*m->free));
	lp_heap_init(&m->heap, pkt_before);
	if (m->slots == NULL || m->mem == NULL || m->free == NULL ||
	    lp_heap_reserve(&m->heap, m->nslots) != 0)
		goto out;
	for (size_t i = 0; i < m->nslots; i++) {
		m->slots[i].data = m->mem + i * m->slot_bytes;
		m->slots[i].index = i;
		m->free[m->nfree++] = &m->slots[m->nslots - 1 - i];
	}
	for (int d = 0; d < LP_IMPAIR_DIRS; d++) {
		struct dir_state *ds = &m->dir[d];

		ds->spec = cfg->dir[d];
		if (ds->spec.rate_bps > 0 && ds->spec.queue_bytes == 0)
			ds->spec.queue_bytes = (uint32_t)(ds->spec.rate_bps / 8 / 20); /* 50 ms */
		ds->rng = cfg->seed ^ (UINT64_C(0x5851f42d4c957f2d) * (uint64_t)(d + 1));
		ds->credit_ns = link_ns(ds->spec.burst_bytes, ds->spec.rate_bps);
	}
	*out = m;
	m = NULL;
	rc = 0;
out:
	lp_impair_del(m);
	return rc;
}

void lp_impair_del(struct lp_impair *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m->mem);
	free(m->free);
	lp_heap_free(&m->heap);
	free(m);
}

struct lp_impair_pkt *lp_impair_slot(struct lp_impair *m)
{
	return m->nfree == 0 ? NULL : m->free[m->nfree - 1];
}

/* p came from lp_impair_slot: the top of the free stack. */
static void slot_take(struct lp_impair *m, struct lp_impair_pkt *p)
{
	assert(m->nfree > 0 && m->free[m->nfree - 1] == p);
	m->nfree--;
}

/* Puts p on the link and then on the schedule; false when the FIFO is full. */
static bool link_and_schedule(struct lp_impair *m, struct dir_state *ds, struct lp_impair_pkt *p,
                              uint64_t now, uint64_t jitter_draw, bool held)
{
	const struct lp_impair_spec *s = &ds->spec;
	uint64_t depart = now, due;
	int rc;

	if (s->rate_bps > 0) {
		uint64_t cost = link_ns(p->len, s->rate_bps);
		uint64_t backlog = ds->link_free_ns > now ? ds->link_free_ns - now : 0;
		uint64_t start = now > ds->link_free_ns ? now : ds->link_free_ns;
		uint64_t cap = link_ns(s->burst_bytes, s->rate_bps);

		if (backlog > 0 && backlog + cost > link_ns(s->queue_bytes, s->rate_bps)) {
			ds->st.queue_drops++;
			return false;
		}
		ds->credit_ns += start - ds->credit_at_ns;
		if (ds->credit_ns > cap)
			ds->credit_ns = cap;
		if (ds->credit_ns >= cost) {
			depart = start;
			ds->credit_ns -= cost;
		} else {
			depart = start + (cost - ds->credit_ns);
			ds->credit_ns = 0;
		}
		ds->credit_at_ns = depart;
		ds->link_free_ns = depart;
	}
	{
		uint64_t wait = depart - now, b = wait / LP_IMPAIR_HIST_NS;

		ds->st.wait_sum_ns += wait;
		if (wait > ds->st.wait_max_ns)
			ds->st.wait_max_ns = wait;
		ds->st.wait_hist[b < LP_IMPAIR_HIST ? b : LP_IMPAIR_HIST]++;
	}
	due = depart + s->delay_ns;
	if (s->jitter_ns > 0) {
		uint64_t j = jitter_draw % (2 * s->jitter_ns + 1);

		if (j >= s->jitter_ns)
			due += j - s->jitter_ns;
		else if (s->jitter_ns - j < s->delay_ns)
			due -= s->jitter_ns - j;
		else
			due = depart;
	}
	if (held) {
		due += s->reorder_ns;
	} else {
		if (due < ds->last_due_ns)
			due = ds->last_due_ns;
		ds->last_due_ns = due;
	}
	p->due_ns = due;
	p->seq = m->seq++;
	rc = lp_heap_push(&m->heap, &p->he);
	assert(rc == 0); /* the heap was reserved for every slot */
	(void)rc;
	return true;
}

int lp_impair_submit(struct lp_impair *m, struct lp_impair_pkt *p, int dir, uint64_t now)
{
	struct dir_state *ds = &m->dir[dir];
	uint64_t u_loss, u_dup, u_reorder, u_jit, u_jit2;
	struct lp_impair_pkt *copy = NULL;
	bool held;
	int n = 0;

	assert(dir >= 0 && dir < LP_IMPAIR_DIRS);
	ds->st.in++;
	if (p == NULL) {
		ds->st.pool_drops++;
		return 0;
	}
	/* Five draws per packet, whatever the settings: schedules stay
	 * comparable across runs that change one knob. */
	u_loss = splitmix64(&ds->rng);
	u_dup = splitmix64(&ds->rng);
	u_reorder = splitmix64(&ds->rng);
	u_jit = splitmix64(&ds->rng);
	u_jit2 = splitmix64(&ds->rng);
	slot_take(m, p);
	p->dir = dir;
	if (chance(u_loss, ds->spec.loss_ppm)) {
		ds->st.lost++;
		lp_impair_done(m, p);
		return 0;
	}
	if (chance(u_dup, ds->spec.dup_ppm)) {
		copy = lp_impair_slot(m);
		if (copy != NULL) {
			slot_take(m, copy);
			memcpy(copy->data, p->data, p->len);
			copy->len = p->len;
			copy->dir = dir;
			ds->st.dups++;
		} else {
			ds->st.pool_drops++;
		}
	}
	held = chance(u_reorder, ds->spec.reorder_ppm);
	if (link_and_schedule(m, ds, p, now, u_jit, held)) {
		n++;
		ds->st.reordered += held;
	} else {
		lp_impair_done(m, p);
	}
	if (copy != NULL) {
		if (link_and_schedule(m, ds, copy, now, u_jit2, false))
			n++;
		else
			lp_impair_done(m, copy);
	}
	return n;
}

uint64_t lp_impair_next_due(const struct lp_impair *m)
{
	const struct lp_heap_entry *top = lp_heap_top(&m->heap);

	return top == NULL ? UINT64_MAX
	                   : LP_CONTAINER_OF(top, const struct lp_impair_pkt, he)->due_ns;
}

struct lp_impair_pkt *lp_impair_pop(struct lp_impair *m, uint64_t now)
{
	struct lp_heap_entry *top = lp_heap_top(&m->heap);
	struct lp_impair_pkt *p;

	if (top == NULL || (p = LP_CONTAINER_OF(top, struct lp_impair_pkt, he))->due_ns > now)
		return NULL;
	lp_heap_remove(&m->heap, top);
	m->dir[p->dir].st.out++;
	m->dir[p->dir].st.bytes_out += p->len;
	return p;
}

void lp_impair_done(struct lp_impair *m, struct lp_impair_pkt *p)
{
	assert(m->nfree < m->nslots);
	m->free[m->nfree++] = p;
}

const struct lp_impair_stats *lp_impair_stats(const struct lp_impair *m, int dir)
{
	return &m->dir[dir].st;
}

uint64_t lp_impair_wait_quantile(const struct lp_impair *m, int dir, double q)
{
	const struct lp_impair_stats *st = &m->dir[dir].st;
	uint64_t total = 0, acc = 0;

	for (size_t b = 0; b <= LP_IMPAIR_HIST; b++)
		total += st->wait_hist[b];
	if (total == 0)
		return 0;
	for (size_t b = 0; b <= LP_IMPAIR_HIST; b++) {
		acc += st->wait_hist[b];
		if ((double)acc >= q * (double)total)
			return b == LP_IMPAIR_HIST ? st->wait_max_ns : (b + 1) * LP_IMPAIR_HIST_NS;
	}
	return st->wait_max_ns;
}

/* ---- spec text ------------------------------------------------------------ */

static bool unit_is(const char *u, const char *want)
{
	return strcasecmp(u, want) == 0;
}

static int parse_time(const char *v, uint64_t *out)
{
	char *end;
	double x = strtod(v, &end);
	double mul;

	if (end == v || !(x >= 0) || x > 1e6)
		return LP_ERR_INVAL;
	if (*end == '\0' || unit_is(end, "ms"))
		mul = 1e6;
	else if (unit_is(end, "us"))
		mul = 1e3;
	else if (unit_is(end, "ns"))
		mul = 1;
	else if (unit_is(end, "s"))
		mul = 1e9;
	else
		return LP_ERR_INVAL;
	*out = (uint64_t)llround(x * mul);
	return 0;
}

static int parse_ppm(const char *v, uint32_t *out)
{
	char *end;
	double x = strtod(v, &end);

	if (end == v || !(x >= 0) || x > 100 || (*end != '\0' && strcmp(end, "%") != 0))
		return LP_ERR_INVAL;
	*out = (uint32_t)llround(x * 1e4);
	return 0;
}

static int parse_rate(const char *v, uint64_t *out)
{
	char *end;
	double x = strtod(v, &end);
	double mul;

	if (end == v || !(x >= 0) || x > 1e12)
		return LP_ERR_INVAL;
	if (*end == '\0' || unit_is(end, "mbit"))
		mul = 1e6;
	else if (unit_is(end, "kbit"))
		mul = 1e3;
	else if (unit_is(end, "gbit"))
		mul = 1e9;
	else if (unit_is(end, "bit"))
		mul = 1;
	else
		return LP_ERR_INVAL;
	*out = (uint64_t)llround(x * mul);
	return 0;
}

/* Bytes, or (when the text ends in a time unit) a time in *t_ns. */
static int parse_size(const char *v, uint32_t *out, uint64_t *t_ns)
{
	char *end;
	double x = strtod(v, &end);
	double mul;

	*t_ns = 0;
	if (end == v || !(x >= 0) || x > 4e9)
		return LP_ERR_INVAL;
	if (*end == '\0' || unit_is(end, "b"))
		mul = 1;
	else if (unit_is(end, "kb"))
		mul = 1e3;
	else if (unit_is(end, "mb"))
		mul = 1e6;
	else
		return parse_time(v, t_ns) == 0 && *t_ns > 0 ? 0 : LP_ERR_INVAL;
	if (x * mul > 4e9)
		return LP_ERR_INVAL;
	*out = (uint32_t)llround(x * mul);
	return 0;
}

int lp_impair_spec_parse(struct lp_impair_spec *spec, const char *text)
{
	struct lp_impair_spec s = *spec;
	uint64_t queue_t = 0, burst_t = 0;
	char buf[512], *save = NULL, *kv;

	if (lp_strlcpy_checked(buf, sizeof(buf), text) != 0)
		return LP_ERR_INVAL;
	for (kv = strtok_r(buf, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');
		int rc;

		if (v == NULL)
			return LP_ERR_INVAL;
		*v++ = '\0';
		if (strcmp(kv, "delay") == 0)
			rc = parse_time(v, &s.delay_ns);
		else if (strcmp(kv, "jitter") == 0)
			rc = parse_time(v, &s.jitter_ns);
		else if (strcmp(kv, "reorder-gap") == 0)
			rc = parse_time(v, &s.reorder_ns);
		else if (strcmp(kv, "loss") == 0)
			rc = parse_ppm(v, &s.loss_ppm);
		else if (strcmp(kv, "dup") == 0)
			rc = parse_ppm(v, &s.dup_ppm);
		else if (strcmp(kv, "reorder") == 0)
			rc = parse_ppm(v, &s.reorder_ppm);
		else if (strcmp(kv, "rate") == 0)
			rc = parse_rate(v, &s.rate_bps);
		else if (strcmp(kv, "queue") == 0)
			rc = parse_size(v, &s.queue_bytes, &queue_t);
		else if (strcmp(kv, "burst") == 0)
			rc = parse_size(v, &s.burst_bytes, &burst_t);
		else
			rc = LP_ERR_INVAL;
		if (rc != 0)
			return rc;
	}
	/* Times given for the queue or the bucket mean bytes at the rate. */
	if ((queue_t > 0 || burst_t > 0) && s.rate_bps == 0)
		return LP_ERR_INVAL;
	if (queue_t > 0)
		s.queue_bytes = (uint32_t)(s.rate_bps / 8 * queue_t / LP_NS_PER_SEC);
	if (burst_t > 0)
		s.burst_bytes = (uint32_t)(s.rate_bps / 8 * burst_t / LP_NS_PER_SEC);
	if (s.reorder_ppm > 0 && s.reorder_ns == 0)
		s.reorder_ns = LP_NS_PER_MS;
	*spec = s;
	return 0;
}
