/*
 * test_route_scope.c - the route logic of lib/client-route driven through a
 * fake struct lp_route_ops: a small in-memory route table, IP interface
 * entries and unicast addresses, with failure injection per call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lp_route.h"

/* ---- captured log ---------------------------------------------------------- */

struct logbuf {
	char text[8192];
	size_t len;
};

LP_PRINTF(3, 0)
static void log_capture(void *user, enum lp_log_level level, const char *fmt, va_list ap)
{
	struct logbuf *b = user;
	int n;

	(void)level;
	if (b->len >= sizeof(b->text) - 1)
		return;
	n = vsnprintf(b->text + b->len, sizeof(b->text) - b->len, fmt, ap);
	if (n < 0)
		return;
	b->len += (size_t)n;
	if (b->len >= sizeof(b->text) - 1)
		b->len = sizeof(b->text) - 1;
	else
		b->text[b->len++] = '\n';
	b->text[b->len] = '\0';
}

/* ---- the fake system ------------------------------------------------------- */

#define IF_WAN 7
#define IF_TAP 12
#define IF_WIFI 9

struct fake {
	struct lp_route_ipif ipif[8];
	size_t n_ipif;
	struct lp_route_entry routes[64];
	size_t n_routes;
	struct lp_route_addr uni[16];
	uint32_t uni_if[16];
	size_t n_uni;
	/* Fail the Nth call (1-based) of an op with fail_rc; 0 = never. */
	int set_calls, fail_set_at;
	int create_calls, fail_create_at;
	int delete_calls, fail_delete_at;
	int get_ipif_calls;
	int list_calls;
	int fail_rc;
	int get_ipif_rc; /* forced result of get_ip_interface when non-zero */
	/* Mutating calls in order, as text, to check the restore order. */
	char ops[64][96];
	size_t n_ops;
};

static void fake_note(struct fake *f, const char *fmt, ...) LP_PRINTF(2, 3);
static void fake_note(struct fake *f, const char *fmt, ...)
{
	va_list ap;

	assert_true(f->n_ops < LP_ARRAY_LEN(f->ops));
	va_start(ap, fmt);
	vsnprintf(f->ops[f->n_ops++], sizeof(f->ops[0]), fmt, ap);
	va_end(ap);
}

static struct lp_route_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	const uint8_t bytes[4] = { a, b, c, d };
	struct lp_route_addr r;

	assert_int_equal(lp_route_addr_set(&r, LP_ROUTE_INET, bytes, 0), 0);
	return r;
}

/* 2001:db8::<last> or fe80::<last> (link-local when ll). */
static struct lp_route_addr v6(int ll, uint8_t last)
{
	uint8_t bytes[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	struct lp_route_addr r;

	if (ll) {
		memset(bytes, 0, sizeof(bytes));
		bytes[0] = 0xfe;
		bytes[1] = 0x80;
	}
	bytes[15] = last;
	assert_int_equal(lp_route_addr_set(&r, LP_ROUTE_INET6, bytes, 0), 0);
	return r;
}

static struct lp_route_addr any(enum lp_route_family f)
{
	static const uint8_t zero[16];
	struct lp_route_addr r;

	assert_int_equal(lp_route_addr_set(&r, f, zero, 0), 0);
	return r;
}

static void add_ipif(struct fake *f, enum lp_route_family fam, uint32_t idx, uint32_t mtu,
                     bool automatic, uint32_t metric)
{
	struct lp_route_ipif *p = &f->ipif[f->n_ipif++];

	memset(p, 0, sizeof(*p));
	p->family = (uint8_t)fam;
	p->if_index = idx;
	p->if_luid = 0x0006000000000000ULL | idx;
	p->mtu = mtu;
	p->automatic_metric = automatic;
	p->metric = metric;
}

static struct lp_route_entry mkroute(uint32_t idx, struct lp_route_addr prefix, uint8_t len,
                                     struct lp_route_addr hop, uint32_t metric)
{
	struct lp_route_entry r;

	memset(&r, 0, sizeof(r));
	r.if_index = idx;
	r.if_luid = 0x0006000000000000ULL | idx;
	r.prefix = prefix;
	r.prefix_len = len;
	r.next_hop = hop;
	r.metric = metric;
	r.valid_lifetime = 1800;
	r.preferred_lifetime = 900;
	r.protocol = 2; /* local / DHCP-style, unlike the pins we make */
	r.origin = 3;
	r.site_prefix_len = 0;
	r.loopback = true;
	r.autoconfigure_address = false;
	r.publish = true;
	r.immortal = false;
	return r;
}

static void add_route(struct fake *f, struct lp_route_entry r)
{
	assert_true(f->n_routes < LP_ARRAY_LEN(f->routes));
	f->routes[f->n_routes++] = r;
}

static struct lp_route_ipif *find_ipif(struct fake *f, uint8_t fam, uint32_t idx)
{
	for (size_t i = 0; i < f->n_ipif; i++)
		if (f->ipif[i].family == fam && f->ipif[i].if_index == idx)
			return &f->ipif[i];
	return NULL;
}

static int prefix_match(const struct lp_route_addr *a, const struct lp_route_entry *r)
{
	if (a->family != r->prefix.family)
		return 0;
	for (unsigned bit = 0; bit < r->prefix_len; bit++) {
		unsigned mask = 0x80u >> (bit % 8);

		if ((a->bytes[bit / 8] & mask) != (r->prefix.bytes[bit / 8] & mask))
			return 0;
	}
	return 1;
}

static int same_key(const struct lp_route_entry *a, const struct lp_route_entry *b)
{
	return a->if_index == b->if_index && a->prefix_len == b->prefix_len &&
	       lp_route_addr_equal(&a->prefix, &b->prefix) &&
	       lp_route_addr_equal(&a->next_hop, &b->next_hop);
}

static int fk_get_best_route(void *ctx, const struct lp_route_addr *dest, struct lp_route_best *out)
{
	struct fake *f = ctx;
	const struct lp_route_entry *best = NULL;
	uint64_t best_metric = 0;

	/* Longest prefix wins, then the lowest route + interface metric, as Windows does. */
	for (size_t i = 0; i < f->n_routes; i++) {
		const struct lp_route_entry *r = &f->routes[i];
		const struct lp_route_ipif *p = find_ipif(f, r->prefix.family, r->if_index);
		uint64_t m = (uint64_t)r->metric + (p != NULL ? p->metric : 0);

		if (!prefix_match(dest, r))
			continue;
		if (best == NULL || r->prefix_len > best->prefix_len ||
		    (r->prefix_len == best->prefix_len && m < best_metric)) {
			best = r;
			best_metric = m;
		}
	}
	if (best == NULL)
		return LP_ERR_NOT_FOUND;
	out->next_hop = best->next_hop;
	out->if_index = best->if_index;
	out->if_luid = best->if_luid;
	out->prefix = best->prefix;
	out->prefix_len = best->prefix_len;
	out->route_metric = best->metric;
	for (size_t i = 0; i < f->n_uni; i++)
		if (f->uni_if[i] == best->if_index && f->uni[i].family == dest->family) {
			out->source = f->uni[i];
			break;
		}
	return 0;
}

static int fk_get_ip_interface(void *ctx, enum lp_route_family family, uint32_t if_index,
                               struct lp_route_ipif *out)
{
	struct fake *f = ctx;
	const struct lp_route_ipif *p;

	f->get_ipif_calls++;
	if (f->get_ipif_rc != 0)
		return f->get_ipif_rc;
	p = find_ipif(f, (uint8_t)family, if_index);
	if (p == NULL)
		return LP_ERR_NOT_FOUND;
	*out = *p;
	return 0;
}

static int fk_set_ip_interface(void *ctx, const struct lp_route_ipif *in)
{
	struct fake *f = ctx;
	struct lp_route_ipif *p;

	if (++f->set_calls == f->fail_set_at)
		return f->fail_rc;
	p = find_ipif(f, in->family, in->if_index);
	if (p == NULL)
		return LP_ERR_NOT_FOUND;
	p->mtu = in->mtu;
	p->automatic_metric = in->automatic_metric;
	p->metric = in->metric;
	fake_note(f, "set if%u v%u mtu=%u auto=%d metric=%u", (unsigned)in->if_index,
	          (unsigned)in->family, (unsigned)in->mtu, (int)in->automatic_metric,
	          (unsigned)in->metric);
	return 0;
}

static int fk_list_routes(void *ctx, enum lp_route_family family, lp_route_visit_fn fn, void *user)
{
	struct fake *f = ctx;

	f->list_calls++;
	for (size_t i = 0; i < f->n_routes; i++) {
		int rc;

		if (f->routes[i].prefix.family != family)
			continue;
		rc = fn(user, &f->routes[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int fk_create_route(void *ctx, const struct lp_route_entry *r)
{
	struct fake *f = ctx;
	char p[LP_ROUTE_ADDR_STRLEN];

	if (++f->create_calls == f->fail_create_at)
		return f->fail_rc;
	for (size_t i = 0; i < f->n_routes; i++)
		if (same_key(&f->routes[i], r))
			return LP_ERR_IO; /* ERROR_OBJECT_ALREADY_EXISTS */
	add_route(f, *r);
	assert_int_equal(lp_route_addr_format(&r->prefix, p, sizeof(p)), 0);
	fake_note(f, "create if%u %s/%u", (unsigned)r->if_index, p, (unsigned)r->prefix_len);
	return 0;
}

static int fk_delete_route(void *ctx, const struct lp_route_entry *r)
{
	struct fake *f = ctx;
	char p[LP_ROUTE_ADDR_STRLEN];

	if (++f->delete_calls == f->fail_delete_at)
		return f->fail_rc;
	for (size_t i = 0; i < f->n_routes; i++) {
		if (!same_key(&f->routes[i], r))
			continue;
		f->routes[i] = f->routes[--f->n_routes];
		assert_int_equal(lp_route_addr_format(&r->prefix, p, sizeof(p)), 0);
		fake_note(f, "delete if%u %s/%u", (unsigned)r->if_index, p,
		          (unsigned)r->prefix_len);
		return 0;
	}
	return LP_ERR_NOT_FOUND;
}

static int fk_list_unicast(void *ctx, uint32_t if_index, struct lp_route_addr *out, size_t cap,
                           size_t *total)
{
	struct fake *f = ctx;

	*total = 0;
	for (size_t i = 0; i < f->n_uni; i++) {
		if (f->uni_if[i] != if_index)
			continue;
		if (*total < cap)
			out[*total] = f->uni[i];
		(*total)++;
	}
	return 0;
}

static const struct lp_route_guid tap_guid = {
	0x1d2c3b4aU, 0x5e6f, 0x7081, { 0x92, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8, 0x09 }
};

static int fk_guid_to_luid(void *ctx, const struct lp_route_guid *guid, uint64_t *luid)
{
	(void)ctx;
	if (memcmp(guid, &tap_guid, sizeof(*guid)) != 0)
		return LP_ERR_NOT_FOUND;
	*luid = 0x0006000000000000ULL | IF_TAP;
	return 0;
}

static int fk_luid_to_index(void *ctx, uint64_t luid, uint32_t *if_index)
{
	(void)ctx;
	if ((luid >> 48) != 6)
		return LP_ERR_NOT_FOUND;
	*if_index = (uint32_t)(luid & 0xffff);
	return 0;
}

static const struct lp_route_ops fake_ops = {
	.get_best_route = fk_get_best_route,
	.get_ip_interface = fk_get_ip_interface,
	.set_ip_interface = fk_set_ip_interface,
	.list_routes = fk_list_routes,
	.create_route = fk_create_route,
	.delete_route = fk_delete_route,
	.list_unicast = fk_list_unicast,
	.guid_to_luid = fk_guid_to_luid,
	.luid_to_index = fk_luid_to_index,
};

/*
 * A laptop: WAN (if 7, v4+v6, default routes via 192.168.1.1 / fe80::1),
 * a TAP (if 12, v4+v6, automatic metric 25, MTU 1500, with a DHCP default
 * route via 10.0.0.1 and an on-link 10.0.0.0/24), Wi-Fi (if 9, v4 only).
 */
struct world {
	struct fake f;
	struct logbuf log;
	struct lp_logger lg;
	struct lp_route rt;
	struct lp_route_scope s;
};

static void world_init(struct world *w)
{
	struct fake *f = &w->f;

	memset(w, 0, sizeof(*w));
	f->fail_rc = LP_ERR_IO;
	add_ipif(f, LP_ROUTE_INET, IF_WAN, 1500, true, 25);
	add_ipif(f, LP_ROUTE_INET6, IF_WAN, 1500, true, 25);
	add_ipif(f, LP_ROUTE_INET, IF_TAP, 1500, true, 35);
	add_ipif(f, LP_ROUTE_INET6, IF_TAP, 1400, false, 40);
	add_ipif(f, LP_ROUTE_INET, IF_WIFI, 1500, true, 50);
	add_route(f, mkroute(IF_WAN, any(LP_ROUTE_INET), 0, v4(192, 168, 1, 1), 0));
	add_route(f, mkroute(IF_WAN, v4(192, 168, 1, 0), 24, any(LP_ROUTE_INET), 256));
	add_route(f, mkroute(IF_WAN, any(LP_ROUTE_INET6), 0, v6(1, 1), 0));
	add_route(f, mkroute(IF_TAP, v4(10, 0, 0, 0), 24, any(LP_ROUTE_INET), 256));
	add_route(f, mkroute(IF_WIFI, any(LP_ROUTE_INET), 0, v4(172, 16, 0, 1), 0));
	f->uni[f->n_uni] = v4(192, 168, 1, 20);
	f->uni_if[f->n_uni++] = IF_WAN;
	f->uni[f->n_uni] = v6(0, 0x20);
	f->uni_if[f->n_uni++] = IF_WAN;
	f->uni[f->n_uni] = v4(10, 0, 0, 5);
	f->uni_if[f->n_uni++] = IF_TAP;
	f->uni[f->n_uni] = v6(1, 5);
	f->uni[f->n_uni].scope_id = IF_TAP;
	f->uni_if[f->n_uni++] = IF_TAP;
	w->lg.fn = log_capture;
	w->lg.user = &w->log;
	w->lg.level = LP_LOG_DEBUG;
	lp_route_init_ops(&w->rt, &fake_ops, f, &w->lg);
	lp_route_scope_init(&w->s, &w->rt);
}

static void add_tap_defaults(struct world *w)
{
	add_route(&w->f, mkroute(IF_TAP, any(LP_ROUTE_INET), 0, v4(10, 0, 0, 1), 5));
	add_route(&w->f, mkroute(IF_TAP, any(LP_ROUTE_INET6), 0, v6(1, 0x99), 7));
}

static const struct lp_route_entry *find_route(const struct fake *f, uint32_t idx,
                                               struct lp_route_addr prefix, uint8_t len)
{
	for (size_t i = 0; i < f->n_routes; i++)
		if (f->routes[i].if_index == idx && f->routes[i].prefix_len == len &&
		    lp_route_addr_equal(&f->routes[i].prefix, &prefix))
			return &f->routes[i];
	return NULL;
}

static void assert_route_equal(const struct lp_route_entry *a, const struct lp_route_entry *b)
{
	assert_int_equal(a->if_luid, b->if_luid);
	assert_int_equal(a->if_index, b->if_index);
	assert_true(lp_route_addr_equal(&a->prefix, &b->prefix));
	assert_int_equal(a->prefix_len, b->prefix_len);
	assert_true(lp_route_addr_equal(&a->next_hop, &b->next_hop));
	assert_int_equal(a->site_prefix_len, b->site_prefix_len);
	assert_int_equal(a->valid_lifetime, b->valid_lifetime);
	assert_int_equal(a->preferred_lifetime, b->preferred_lifetime);
	assert_int_equal(a->metric, b->metric);
	assert_int_equal(a->protocol, b->protocol);
	assert_int_equal(a->origin, b->origin);
	assert_int_equal(a->loopback, b->loopback);
	assert_int_equal(a->autoconfigure_address, b->autoconfigure_address);
	assert_int_equal(a->publish, b->publish);
	assert_int_equal(a->immortal, b->immortal);
}

/* ---- addresses and GUIDs --------------------------------------------------- */

static void expect_format(const uint8_t *b, enum lp_route_family fam, uint32_t scope,
                          const char *want)
{
	struct lp_route_addr a;
	char out[LP_ROUTE_ADDR_STRLEN];

	assert_int_equal(lp_route_addr_set(&a, fam, b, scope), 0);
	assert_int_equal(lp_route_addr_format(&a, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_addr_format(void **state)
{
	static const uint8_t v4b[4] = { 203, 0, 113, 7 };
	static const uint8_t zero[16];
	static const uint8_t lo[16] = { [15] = 1 };
	static const uint8_t doc[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	/* 2001:db8:0:0:1:0:0:1: two equal runs, the first is compressed. */
	static const uint8_t tie[16] = { 0x20, 0x01, 0x0d, 0xb8, [9] = 1, [15] = 1 };
	/* 1:0:0:2:0:0:0:3: the longer run wins. */
	static const uint8_t longer[16] = { 0, 1, [7] = 2, [15] = 3 };
	/* 2001:db8:0:1:1:1:1:1: a single zero group is not compressed. */
	static const uint8_t single[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1,
		                            0,    1,    0,    1,    0, 1, 0, 1 };
	static const uint8_t ll[16] = { 0xfe, 0x80, [14] = 0xab, [15] = 0xcd };
	static const uint8_t tail[16] = { 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct lp_route_addr a, b;
	char small[8];

	(void)state;
	expect_format(v4b, LP_ROUTE_INET, 0, "203.0.113.7");
	expect_format(zero, LP_ROUTE_INET, 0, "0.0.0.0");
	expect_format(zero, LP_ROUTE_INET6, 0, "::");
	expect_format(lo, LP_ROUTE_INET6, 0, "::1");
	expect_format(doc, LP_ROUTE_INET6, 0, "2001:db8::1");
	expect_format(tie, LP_ROUTE_INET6, 0, "2001:db8::1:0:0:1");
	expect_format(longer, LP_ROUTE_INET6, 0, "1:0:0:2::3");
	expect_format(single, LP_ROUTE_INET6, 0, "2001:db8:0:1:1:1:1:1");
	expect_format(ll, LP_ROUTE_INET6, 12, "fe80::abcd%12");
	expect_format(tail, LP_ROUTE_INET6, 0, "ffff::");

	assert_int_equal(lp_route_addr_set(&a, LP_ROUTE_INET, v4b, 0), 0);
	assert_int_equal(lp_route_addr_format(&a, small, sizeof(small)), LP_ERR_NOBUF);
	assert_string_equal(small, "");
	assert_int_equal(lp_route_addr_format(&a, small, 0), LP_ERR_NOBUF);
	assert_int_equal(lp_route_addr_set(&a, (enum lp_route_family)5, v4b, 0), LP_ERR_INVAL);
	assert_int_equal(a.family, 0);
	assert_int_equal(lp_route_addr_format(&a, small, sizeof(small)), LP_ERR_INVAL);

	/* Equality ignores a scope id only when one side has none. */
	assert_int_equal(lp_route_addr_set(&a, LP_ROUTE_INET6, ll, 12), 0);
	assert_int_equal(lp_route_addr_set(&b, LP_ROUTE_INET6, ll, 0), 0);
	assert_true(lp_route_addr_equal(&a, &b));
	b.scope_id = 13;
	assert_false(lp_route_addr_equal(&a, &b));
	assert_int_equal(lp_route_addr_set(&b, LP_ROUTE_INET, ll, 0), 0);
	assert_false(lp_route_addr_equal(&a, &b));
}

static void test_guid_parse(void **state)
{
	struct lp_route_guid g;

	(void)state;
	assert_int_equal(lp_route_guid_parse("{1D2C3B4A-5E6F-7081-92A3-B4C5D6E7F809}", &g), 0);
	assert_memory_equal(&g, &tap_guid, sizeof(g));
	assert_int_equal(lp_route_guid_parse("1d2c3b4a-5e6f-7081-92a3-b4c5d6e7f809", &g), 0);
	assert_memory_equal(&g, &tap_guid, sizeof(g));
	assert_int_equal(g.data1, 0x1d2c3b4aU);
	assert_int_equal(g.data2, 0x5e6f);
	assert_int_equal(g.data4[7], 0x09);

	assert_int_equal(lp_route_guid_parse("{1D2C3B4A-5E6F-7081-92A3-B4C5D6E7F809", &g),
	                 LP_ERR_INVAL);
	assert_int_equal(lp_route_guid_parse("1D2C3B4A-5E6F-7081-92A3-B4C5D6E7F809}", &g),
	                 LP_ERR_INVAL);
	assert_int_equal(lp_route_guid_parse("1D2C3B4A-5E6F-7081-92A3-B4C5D6E7F80", &g),
	                 LP_ERR_INVAL);
	assert_int_equal(lp_route_guid_parse("1D2C3B4A-5E6F-7081-92A3-B4C5D6E7F8090", &g),
	                 LP_ERR_INVAL);
	assert_int_equal(lp_route_guid_parse("1D2C3B4A5E6F-7081-92A3-B4C5D6E7F8090", &g),
	                 LP_ERR_INVAL);
	assert_int_equal(lp_route_guid_parse("1D2C3B4G-5E6F-7081-92A3-B4C5D6E7F809", &g),
	                 LP_ERR_INVAL);
	assert_int_equal(lp_route_guid_parse("", &g), LP_ERR_INVAL);
	assert_int_equal(lp_route_guid_parse(NULL, &g), LP_ERR_INVAL);
}

/* ---- lookups --------------------------------------------------------------- */

static void test_best_route_v4_v6(void **state)
{
	struct world w;
	struct lp_route_best b;
	struct lp_route_addr relay = v4(203, 0, 113, 7), relay6 = v6(0, 0x77);
	char t[LP_ROUTE_ADDR_STRLEN];

	(void)state;
	world_init(&w);
	/* Wi-Fi has a default route too, but WAN's metric (0 + 25) beats 0 + 50. */
	assert_int_equal(lp_route_best(&w.rt, &relay, &b), 0);
	assert_true(lp_route_addr_equal(&b.dest, &relay));
	assert_int_equal(b.if_index, IF_WAN);
	assert_int_equal(b.if_luid, 0x0006000000000000ULL | IF_WAN);
	assert_int_equal(lp_route_addr_format(&b.next_hop, t, sizeof(t)), 0);
	assert_string_equal(t, "192.168.1.1");
	assert_int_equal(lp_route_addr_format(&b.source, t, sizeof(t)), 0);
	assert_string_equal(t, "192.168.1.20");
	assert_int_equal(lp_route_addr_format(&b.prefix, t, sizeof(t)), 0);
	assert_string_equal(t, "0.0.0.0");
	assert_int_equal(b.prefix_len, 0);
	assert_int_equal(b.route_metric, 0);
	assert_true(b.if_metric_known);
	assert_int_equal(b.if_metric, 25);
	assert_int_equal(b.metric, 25);

	/* On-link destination: longest prefix, metric 256 + 25. */
	relay = v4(192, 168, 1, 99);
	assert_int_equal(lp_route_best(&w.rt, &relay, &b), 0);
	assert_int_equal(b.prefix_len, 24);
	assert_int_equal(b.metric, 281);

	assert_int_equal(lp_route_best(&w.rt, &relay6, &b), 0);
	assert_int_equal(b.if_index, IF_WAN);
	assert_int_equal(lp_route_addr_format(&b.next_hop, t, sizeof(t)), 0);
	assert_string_equal(t, "fe80::1");
	assert_int_equal(lp_route_addr_format(&b.source, t, sizeof(t)), 0);
	assert_string_equal(t, "2001:db8::20");
	assert_int_equal(b.metric, 25);

	/* The metric saturates instead of wrapping. */
	w.f.ipif[1].metric = UINT32_MAX - 1;
	w.f.routes[2].metric = 5;
	assert_int_equal(lp_route_best(&w.rt, &relay6, &b), 0);
	assert_int_equal(b.metric, UINT32_MAX);
}

static void test_best_route_errors(void **state)
{
	struct world w;
	struct lp_route_best b;
	struct lp_route_addr relay = v4(203, 0, 113, 7), unset;
	struct lp_route_ops no_best = fake_ops;
	struct lp_route rt;

	(void)state;
	world_init(&w);
	memset(&unset, 0, sizeof(unset));
	assert_int_equal(lp_route_best(&w.rt, &unset, &b), LP_ERR_INVAL);

	/* Interface metric unreadable (Wine lacks GetIpInterfaceEntry): still a result. */
	w.f.get_ipif_rc = LP_ERR_UNSUPPORTED;
	assert_int_equal(lp_route_best(&w.rt, &relay, &b), 0);
	assert_int_equal(b.if_index, IF_WAN);
	assert_false(b.if_metric_known);
	assert_int_equal(b.if_metric, 0);
	assert_int_equal(b.metric, b.route_metric);
	assert_non_null(strstr(w.log.text, "interface metric of interface 7 unknown"));
	w.f.get_ipif_rc = 0;

	/* No route at all. */
	w.f.n_routes = 0;
	assert_int_equal(lp_route_best(&w.rt, &relay, &b), LP_ERR_NOT_FOUND);
	assert_int_equal(b.if_index, 0);

	/* A table without the lookup reports unsupported instead of crashing. */
	no_best.get_best_route = NULL;
	lp_route_init_ops(&rt, &no_best, &w.f, NULL);
	assert_int_equal(lp_route_best(&rt, &relay, &b), LP_ERR_UNSUPPORTED);
}

static void test_if_from_guid(void **state)
{
	struct world w;
	struct lp_route_guid other = tap_guid;
	uint32_t idx = 99;
	uint64_t luid = 99;

	(void)state;
	world_init(&w);
	assert_int_equal(lp_route_if_from_guid(&w.rt, &tap_guid, &idx, &luid), 0);
	assert_int_equal(idx, IF_TAP);
	assert_int_equal(luid, 0x0006000000000000ULL | IF_TAP);
	assert_int_equal(lp_route_if_from_guid(&w.rt, &tap_guid, NULL, &luid), 0);

	other.data4[0] ^= 1;
	idx = 99;
	assert_int_equal(lp_route_if_from_guid(&w.rt, &other, &idx, &luid), LP_ERR_NOT_FOUND);
	assert_int_equal(idx, 99); /* untouched on failure */
}

static void test_unicast_list(void **state)
{
	struct world w;
	char out[4][LP_ROUTE_ADDR_STRLEN];
	size_t n = 99;

	(void)state;
	world_init(&w);
	assert_int_equal(lp_route_unicast_list(&w.rt, IF_TAP, out, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0], "10.0.0.5");
	assert_string_equal(out[1], "fe80::5%12");

	/* Truncated: first entries kept, NOBUF says there were more. */
	assert_int_equal(lp_route_unicast_list(&w.rt, IF_TAP, out, 1, &n), LP_ERR_NOBUF);
	assert_int_equal(n, 1);
	assert_string_equal(out[0], "10.0.0.5");

	/* No addresses yet (DHCP pending). */
	assert_int_equal(lp_route_unicast_list(&w.rt, IF_WIFI, out, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(lp_route_unicast_list(&w.rt, 0, out, 4, &n), LP_ERR_INVAL);
	assert_int_equal(lp_route_unicast_list(&w.rt, IF_TAP, NULL, 4, &n), LP_ERR_INVAL);
}

/* ---- scoped overrides ------------------------------------------------------ */

static void test_mtu_scope(void **state)
{
	struct world w;
	size_t failures = 99;

	(void)state;
	world_init(&w);
	assert_int_equal(lp_route_scope_set_mtu(&w.s, IF_TAP, 1380), 0);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET, IF_TAP)->mtu, 1380);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET6, IF_TAP)->mtu, 1380);
	/* Metric fields untouched by an MTU change. */
	assert_true(find_ipif(&w.f, LP_ROUTE_INET, IF_TAP)->automatic_metric);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET6, IF_TAP)->metric, 40);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET, IF_WAN)->mtu, 1500);

	/* Someone changes the metric meanwhile: restoring the MTU must not undo that. */
	find_ipif(&w.f, LP_ROUTE_INET, IF_TAP)->metric = 77;
	assert_int_equal(lp_route_scope_restore_all(&w.s, &failures), 0);
	assert_int_equal(failures, 0);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET, IF_TAP)->mtu, 1500);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET6, IF_TAP)->mtu, 1400);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET, IF_TAP)->metric, 77);
	/* Reverse order: IPv6 (set last) is restored first. */
	assert_int_equal(w.f.n_ops, 4);
	assert_string_equal(w.f.ops[2], "set if12 v6 mtu=1400 auto=0 metric=40");
	assert_string_equal(w.f.ops[3], "set if12 v4 mtu=1500 auto=1 metric=77");

	/* Only IPv4 on Wi-Fi: the missing family is skipped. */
	lp_route_scope_init(&w.s, &w.rt);
	assert_int_equal(lp_route_scope_set_mtu(&w.s, IF_WIFI, 1400), 0);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET, IF_WIFI)->mtu, 1400);
	assert_int_equal(lp_route_scope_restore_all(&w.s, NULL), 0);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET, IF_WIFI)->mtu, 1500);

	/* Unknown interface, bad arguments. */
	assert_int_equal(lp_route_scope_set_mtu(&w.s, 42, 1400), LP_ERR_NOT_FOUND);
	assert_int_equal(lp_route_scope_set_mtu(&w.s, 0, 1400), LP_ERR_INVAL);
	assert_int_equal(lp_route_scope_set_mtu(&w.s, IF_TAP, 0), LP_ERR_INVAL);
}

static void test_mtu_partial_failure(void **state)
{
	struct world w;

	(void)state;
	world_init(&w);
	/* IPv4 set succeeds, IPv6 set fails: the IPv4 change is still undone. */
	w.f.fail_set_at = 2;
	assert_int_equal(lp_route_scope_set_mtu(&w.s, IF_TAP, 1380), LP_ERR_IO);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET, IF_TAP)->mtu, 1380);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET6, IF_TAP)->mtu, 1400);
	assert_int_equal(lp_route_scope_restore_all(&w.s, NULL), 0);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET, IF_TAP)->mtu, 1500);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET6, IF_TAP)->mtu, 1400);
	/* Exactly one restore write: the failed IPv6 step was never recorded. */
	assert_int_equal(w.f.set_calls, 3);
}

static void test_metric_scope(void **state)
{
	struct world w;

	(void)state;
	world_init(&w);
	assert_int_equal(lp_route_scope_set_metric(&w.s, IF_TAP, 9000), 0);
	assert_false(find_ipif(&w.f, LP_ROUTE_INET, IF_TAP)->automatic_metric);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET, IF_TAP)->metric, 9000);
	assert_false(find_ipif(&w.f, LP_ROUTE_INET6, IF_TAP)->automatic_metric);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET6, IF_TAP)->metric, 9000);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET, IF_TAP)->mtu, 1500);
	assert_non_null(strstr(w.log.text, "was automatic 35"));

	assert_int_equal(lp_route_scope_restore_all(&w.s, NULL), 0);
	/* IPv4 was automatic (35), IPv6 was fixed (40): each gets its own back. */
	assert_true(find_ipif(&w.f, LP_ROUTE_INET, IF_TAP)->automatic_metric);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET, IF_TAP)->metric, 35);
	assert_false(find_ipif(&w.f, LP_ROUTE_INET6, IF_TAP)->automatic_metric);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET6, IF_TAP)->metric, 40);
}

static void test_suppress_default_routes(void **state)
{
	struct world w;
	struct lp_route_entry before4, before6;
	const struct lp_route_entry *r;
	bool had = false;

	(void)state;
	world_init(&w);
	add_tap_defaults(&w);
	before4 = *find_route(&w.f, IF_TAP, any(LP_ROUTE_INET), 0);
	before6 = *find_route(&w.f, IF_TAP, any(LP_ROUTE_INET6), 0);

	assert_int_equal(lp_route_scope_suppress_default_routes(&w.s, IF_TAP, &had), 0);
	assert_true(had);
	assert_null(find_route(&w.f, IF_TAP, any(LP_ROUTE_INET), 0));
	assert_null(find_route(&w.f, IF_TAP, any(LP_ROUTE_INET6), 0));
	/* Other interfaces' defaults and the TAP's on-link route stay. */
	assert_non_null(find_route(&w.f, IF_WAN, any(LP_ROUTE_INET), 0));
	assert_non_null(find_route(&w.f, IF_WIFI, any(LP_ROUTE_INET), 0));
	assert_non_null(find_route(&w.f, IF_TAP, v4(10, 0, 0, 0), 24));

	assert_int_equal(lp_route_scope_restore_all(&w.s, NULL), 0);
	/* Re-created with every field as it was. */
	r = find_route(&w.f, IF_TAP, any(LP_ROUTE_INET), 0);
	assert_non_null(r);
	assert_route_equal(r, &before4);
	r = find_route(&w.f, IF_TAP, any(LP_ROUTE_INET6), 0);
	assert_non_null(r);
	assert_route_equal(r, &before6);

	/* No TAP default routes: nothing deleted, had = false, restore is empty. */
	world_init(&w);
	had = true;
	assert_int_equal(lp_route_scope_suppress_default_routes(&w.s, IF_TAP, &had), 0);
	assert_false(had);
	assert_int_equal(w.f.delete_calls, 0);
	assert_int_equal(lp_route_scope_restore_all(&w.s, NULL), 0);
	assert_int_equal(w.f.create_calls, 0);
}

static void test_suppress_too_many(void **state)
{
	struct world w;
	bool had = true;

	(void)state;
	world_init(&w);
	/* More default routes than the scope can record: refuse before deleting any. */
	for (uint8_t i = 0; i < LP_ROUTE_SCOPE_MAX + 1; i++)
		add_route(&w.f, mkroute(IF_TAP, any(LP_ROUTE_INET), 0,
		                        v4(10, 0, 0, (uint8_t)(i + 1)), i));
	assert_int_equal(lp_route_scope_suppress_default_routes(&w.s, IF_TAP, &had), LP_ERR_NOBUF);
	assert_false(had);
	assert_int_equal(w.f.delete_calls, 0);
	assert_int_equal(lp_route_scope_suppress_default_routes(&w.s, 0, &had), LP_ERR_INVAL);
}

static void test_pin(void **state)
{
	struct world w;
	struct lp_route_best via;
	struct lp_route_pin pin;
	struct lp_route_addr relay = v4(203, 0, 113, 7);
	const struct lp_route_entry *r;
	char t[LP_ROUTE_ADDR_STRLEN];

	(void)state;
	world_init(&w);
	assert_int_equal(lp_route_best(&w.rt, &relay, &via), 0);
	assert_int_equal(lp_route_scope_pin(&w.s, &via, &pin), 0);
	assert_false(pin.preexisting);
	assert_int_equal(pin.if_index, IF_WAN);
	r = find_route(&w.f, IF_WAN, relay, 32);
	assert_non_null(r);
	assert_int_equal(lp_route_addr_format(&r->next_hop, t, sizeof(t)), 0);
	assert_string_equal(t, "192.168.1.1");
	assert_int_equal(r->metric, LP_ROUTE_PIN_METRIC);
	assert_int_equal(r->protocol, LP_ROUTE_PROTO_NETMGMT);
	assert_int_equal(r->valid_lifetime, LP_ROUTE_LIFETIME_INFINITE);
	assert_false(r->publish);

	assert_int_equal(lp_route_scope_restore_all(&w.s, NULL), 0);
	assert_null(find_route(&w.f, IF_WAN, relay, 32));
	assert_non_null(find_route(&w.f, IF_WAN, any(LP_ROUTE_INET), 0));
}

static void test_pin_v6_and_onlink(void **state)
{
	struct world w;
	struct lp_route_best via;
	struct lp_route_pin pin;
	struct lp_route_addr relay6 = v6(0, 0x77), near = v4(192, 168, 1, 50);
	const struct lp_route_entry *r;
	char t[LP_ROUTE_ADDR_STRLEN];

	(void)state;
	world_init(&w);
	assert_int_equal(lp_route_best(&w.rt, &relay6, &via), 0);
	assert_int_equal(lp_route_scope_pin(&w.s, &via, &pin), 0);
	r = find_route(&w.f, IF_WAN, relay6, 128);
	assert_non_null(r);
	assert_int_equal(lp_route_addr_format(&r->next_hop, t, sizeof(t)), 0);
	assert_string_equal(t, "fe80::1");

	/* An on-link relay: the pin has the unspecified next hop. */
	assert_int_equal(lp_route_best(&w.rt, &near, &via), 0);
	assert_int_equal(lp_route_scope_pin(&w.s, &via, &pin), 0);
	r = find_route(&w.f, IF_WAN, near, 32);
	assert_non_null(r);
	assert_int_equal(lp_route_addr_format(&r->next_hop, t, sizeof(t)), 0);
	assert_string_equal(t, "0.0.0.0");

	assert_int_equal(lp_route_scope_restore_all(&w.s, NULL), 0);
	assert_null(find_route(&w.f, IF_WAN, relay6, 128));
	assert_null(find_route(&w.f, IF_WAN, near, 32));

	memset(&via, 0, sizeof(via));
	assert_int_equal(lp_route_scope_pin(&w.s, &via, &pin), LP_ERR_INVAL);
}

static void test_pin_preexisting_kept(void **state)
{
	struct world w;
	struct lp_route_best via;
	struct lp_route_pin pin;
	struct lp_route_addr relay = v4(203, 0, 113, 7);

	(void)state;
	world_init(&w);
	/* The user (or an earlier run) already has exactly this host route. */
	add_route(&w.f, mkroute(IF_WAN, relay, 32, v4(192, 168, 1, 1), 3));
	assert_int_equal(lp_route_best(&w.rt, &relay, &via), 0);
	assert_int_equal(via.prefix_len, 32);
	assert_int_equal(lp_route_scope_pin(&w.s, &via, &pin), 0);
	assert_true(pin.preexisting);
	assert_int_equal(w.f.create_calls, 0);
	assert_int_equal(lp_route_scope_restore_all(&w.s, NULL), 0);
	assert_int_equal(w.f.delete_calls, 0);
	assert_non_null(find_route(&w.f, IF_WAN, relay, 32));
	assert_int_equal(find_route(&w.f, IF_WAN, relay, 32)->metric, 3);
}

static void test_pin_check(void **state)
{
	struct world w;
	struct lp_route_best via;
	struct lp_route_pin pin;
	struct lp_route_addr relay = v4(203, 0, 113, 7);
	bool ok = false;
	char why[256];

	(void)state;
	world_init(&w);
	assert_int_equal(lp_route_best(&w.rt, &relay, &via), 0);
	assert_int_equal(lp_route_scope_pin(&w.s, &via, &pin), 0);

	/* TAP comes up with a better default route: the /32 pin still wins. */
	add_route(&w.f, mkroute(IF_TAP, any(LP_ROUTE_INET), 0, v4(10, 0, 0, 1), 0));
	find_ipif(&w.f, LP_ROUTE_INET, IF_TAP)->metric = 1;
	assert_int_equal(lp_route_pin_check(&w.rt, &pin, &ok, why, sizeof(why)), 0);
	assert_true(ok);
	assert_string_equal(why, "relay 203.0.113.7 uses the pinned route via 192.168.1.1 on "
	                         "interface 7 (203.0.113.7/32)");

	/* The pin vanishes (someone deleted it): the TAP default takes the relay. */
	assert_int_equal(lp_route_scope_restore_all(&w.s, NULL), 0);
	assert_int_equal(lp_route_pin_check(&w.rt, &pin, &ok, why, sizeof(why)), 0);
	assert_false(ok);
	assert_string_equal(why, "relay 203.0.113.7 now routes via 10.0.0.1 on interface 12 "
	                         "(0.0.0.0/0), not the pinned 192.168.1.1 on interface 7");

	/* Short buffer: cut, not an error. */
	assert_int_equal(lp_route_pin_check(&w.rt, &pin, &ok, why, 12), 0);
	assert_string_equal(why, "relay 203.0");

	/* Lookup failure. */
	w.f.n_routes = 0;
	ok = true;
	assert_int_equal(lp_route_pin_check(&w.rt, &pin, &ok, why, sizeof(why)), LP_ERR_NOT_FOUND);
	assert_false(ok);
	assert_string_equal(why, "relay 203.0.113.7: route lookup failed: not found");

	memset(&pin, 0, sizeof(pin));
	assert_int_equal(lp_route_pin_check(&w.rt, &pin, &ok, NULL, 0), LP_ERR_INVAL);
}

/* The whole client sequence; restore is exact, in reverse order, and idempotent. */
static void test_full_scope_reverse_and_twice(void **state)
{
	struct world w;
	struct fake snapshot;
	struct lp_route_best via;
	struct lp_route_addr relay = v4(203, 0, 113, 7);
	bool had = false;
	size_t failures = 99, n_ops;

	(void)state;
	world_init(&w);
	add_tap_defaults(&w);
	snapshot = w.f;
	assert_int_equal(lp_route_best(&w.rt, &relay, &via), 0);
	assert_int_equal(lp_route_scope_pin(&w.s, &via, NULL), 0);
	assert_int_equal(lp_route_scope_set_mtu(&w.s, IF_TAP, 1380), 0);
	assert_int_equal(lp_route_scope_set_metric(&w.s, IF_TAP, 9000), 0);
	assert_int_equal(lp_route_scope_suppress_default_routes(&w.s, IF_TAP, &had), 0);
	assert_true(had);
	n_ops = w.f.n_ops;
	assert_int_equal(n_ops, 7); /* pin, 2 MTU, 2 metric, 2 deletes */

	assert_int_equal(lp_route_scope_restore_all(&w.s, &failures), 0);
	assert_int_equal(failures, 0);
	assert_int_equal(w.f.n_ops, 2 * n_ops);
	/* Each restore undoes the matching change, newest first. */
	assert_non_null(strstr(w.f.ops[n_ops + 0], "create if12 ::/0"));
	assert_non_null(strstr(w.f.ops[n_ops + 1], "create if12 0.0.0.0/0"));
	assert_string_equal(w.f.ops[n_ops + 2], "set if12 v6 mtu=1380 auto=0 metric=40");
	assert_string_equal(w.f.ops[n_ops + 3], "set if12 v4 mtu=1380 auto=1 metric=35");
	assert_string_equal(w.f.ops[n_ops + 4], "set if12 v6 mtu=1400 auto=0 metric=40");
	assert_string_equal(w.f.ops[n_ops + 5], "set if12 v4 mtu=1500 auto=1 metric=35");
	assert_string_equal(w.f.ops[n_ops + 6], "delete if7 203.0.113.7/32");
	/* The system is back where it was (route order aside). */
	assert_memory_equal(w.f.ipif, snapshot.ipif, sizeof(snapshot.ipif));
	assert_int_equal(w.f.n_routes, snapshot.n_routes);
	for (size_t i = 0; i < snapshot.n_routes; i++) {
		const struct lp_route_entry *want = &snapshot.routes[i];
		const struct lp_route_entry *got =
		        find_route(&w.f, want->if_index, want->prefix, want->prefix_len);

		assert_non_null(got);
		assert_route_equal(got, want);
	}

	/* Twice (e.g. error path, then the Ctrl-C handler): nothing more happens. */
	assert_int_equal(lp_route_scope_restore_all(&w.s, &failures), 0);
	assert_int_equal(failures, 0);
	assert_int_equal(w.f.n_ops, 2 * n_ops);
}

static void test_restore_failure_midway(void **state)
{
	struct world w;
	struct lp_route_best via;
	struct lp_route_addr relay = v4(203, 0, 113, 7);
	size_t failures = 0;
	int sets_before;

	(void)state;
	world_init(&w);
	add_tap_defaults(&w);
	assert_int_equal(lp_route_best(&w.rt, &relay, &via), 0);
	assert_int_equal(lp_route_scope_pin(&w.s, &via, NULL), 0);
	assert_int_equal(lp_route_scope_set_mtu(&w.s, IF_TAP, 1380), 0);
	assert_int_equal(lp_route_scope_suppress_default_routes(&w.s, IF_TAP, NULL), 0);

	/* The first re-create (::/0) and the IPv4 MTU restore fail; the rest still run. */
	w.f.fail_create_at = w.f.create_calls + 1;
	sets_before = w.f.set_calls;
	w.f.fail_set_at = sets_before + 2;
	w.f.fail_rc = LP_ERR_PERM;
	assert_int_equal(lp_route_scope_restore_all(&w.s, &failures), LP_ERR_PERM);
	assert_int_equal(failures, 2);
	assert_null(find_route(&w.f, IF_TAP, any(LP_ROUTE_INET6), 0));
	assert_non_null(find_route(&w.f, IF_TAP, any(LP_ROUTE_INET), 0));
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET6, IF_TAP)->mtu, 1400);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET, IF_TAP)->mtu, 1380);
	assert_null(find_route(&w.f, IF_WAN, relay, 32));
	/* Each failure is reported with what it was restoring. */
	assert_non_null(strstr(w.log.text,
	                       "restore failed (re-creating route ::/0 via fe80::99 on interface "
	                       "12): permission denied"));
	assert_non_null(strstr(w.log.text, "restore failed (IPv4 MTU 1500 on interface 12): "
	                                   "permission denied"));
	assert_int_equal(w.f.set_calls, sets_before + 2);

	/* A second call does not retry or repeat anything. */
	w.f.fail_create_at = 0;
	w.f.fail_set_at = 0;
	assert_int_equal(lp_route_scope_restore_all(&w.s, &failures), 0);
	assert_int_equal(failures, 0);
	assert_int_equal(w.f.set_calls, sets_before + 2);
	assert_null(find_route(&w.f, IF_TAP, any(LP_ROUTE_INET6), 0));
}

static void test_scope_full(void **state)
{
	struct world w;
	int rc = 0;
	int calls = 0;

	(void)state;
	world_init(&w);
	/* Two steps per call: the 17th call finds no room. */
	while (rc == 0 && calls < 100) {
		rc = lp_route_scope_set_mtu(&w.s, IF_TAP, (uint32_t)(1300 + calls));
		calls++;
	}
	assert_int_equal(rc, LP_ERR_NOBUF);
	assert_int_equal(calls, LP_ROUTE_SCOPE_MAX / 2 + 1);
	assert_int_equal(lp_route_scope_restore_all(&w.s, NULL), 0);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET, IF_TAP)->mtu, 1500);
	assert_int_equal(find_ipif(&w.f, LP_ROUTE_INET6, IF_TAP)->mtu, 1400);
}

static void test_missing_ops(void **state)
{
	struct world w;
	struct lp_route_ops partial = fake_ops;
	struct lp_route rt;
	struct lp_route_scope s;
	struct lp_route_best via;
	char out[2][LP_ROUTE_ADDR_STRLEN];
	size_t n;
	bool had;
	uint32_t idx;

	(void)state;
	world_init(&w);
	assert_int_equal(lp_route_best(&w.rt, &w.f.routes[0].next_hop, &via), 0);
	partial.set_ip_interface = NULL;
	partial.create_route = NULL;
	partial.list_unicast = NULL;
	partial.luid_to_index = NULL;
	lp_route_init_ops(&rt, &partial, &w.f, NULL);
	lp_route_scope_init(&s, &rt);
	assert_int_equal(lp_route_scope_set_mtu(&s, IF_TAP, 1380), LP_ERR_UNSUPPORTED);
	assert_int_equal(lp_route_scope_set_metric(&s, IF_TAP, 10), LP_ERR_UNSUPPORTED);
	assert_int_equal(lp_route_scope_suppress_default_routes(&s, IF_TAP, &had),
	                 LP_ERR_UNSUPPORTED);
	assert_int_equal(lp_route_scope_pin(&s, &via, NULL), LP_ERR_UNSUPPORTED);
	assert_int_equal(lp_route_unicast_list(&rt, IF_TAP, out, 2, &n), LP_ERR_UNSUPPORTED);
	assert_int_equal(lp_route_if_from_guid(&rt, &tap_guid, &idx, NULL), LP_ERR_UNSUPPORTED);
	assert_int_equal(lp_route_scope_restore_all(&s, NULL), 0);
	assert_int_equal(w.f.n_ops, 0);

	/* A zeroed (never bound) handle is refused the same way. */
	memset(&rt, 0, sizeof(rt));
	assert_int_equal(lp_route_best(&rt, &w.f.routes[0].next_hop, &via), LP_ERR_UNSUPPORTED);
	lp_route_close(&rt);
	lp_route_close(NULL);
}

/*
 * The platform binding. On Linux lp_route_open must refuse with the clear
 * message; on Windows it is exercised by tests/wine/test_route_windows.c.
 */
static void test_platform_open(void **state)
{
	struct logbuf log;
	struct lp_logger lg = { log_capture, &log, LP_LOG_DEBUG };
	struct lp_route rt;
	struct lp_route_best b;
	struct lp_route_addr relay = v4(203, 0, 113, 7);
	struct lp_route_scope s;
	int rc;

	(void)state;
	memset(&log, 0, sizeof(log));
	rc = lp_route_open(&rt, &lg);
#ifdef _WIN32
	assert_int_equal(rc, 0);
#else
	assert_int_equal(rc, LP_ERR_UNSUPPORTED);
	assert_non_null(strstr(log.text, "route management is only available on Windows"));
	assert_int_equal(lp_route_best(&rt, &relay, &b), LP_ERR_UNSUPPORTED);
	lp_route_scope_init(&s, &rt);
	assert_int_equal(lp_route_scope_set_mtu(&s, 3, 1400), LP_ERR_UNSUPPORTED);
	assert_int_equal(lp_route_scope_restore_all(&s, NULL), 0);
#endif
	(void)b;
	(void)relay;
	(void)s;
	lp_route_close(&rt);
	lp_route_close(&rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_format),
		cmocka_unit_test(test_guid_parse),
		cmocka_unit_test(test_best_route_v4_v6),
		cmocka_unit_test(test_best_route_errors),
		cmocka_unit_test(test_if_from_guid),
		cmocka_unit_test(test_unicast_list),
		cmocka_unit_test(test_mtu_scope),
		cmocka_unit_test(test_mtu_partial_failure),
		cmocka_unit_test(test_metric_scope),
		cmocka_unit_test(test_suppress_default_routes),
		cmocka_unit_test(test_suppress_too_many),
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_pin_v6_and_onlink),
		cmocka_unit_test(test_pin_preexisting_kept),
		cmocka_unit_test(test_pin_check),
		cmocka_unit_test(test_full_scope_reverse_and_twice),
		cmocka_unit_test(test_restore_failure_midway),
		cmocka_unit_test(test_scope_full),
		cmocka_unit_test(test_missing_ops),
		cmocka_unit_test(test_platform_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
