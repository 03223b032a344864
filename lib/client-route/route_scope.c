/*
 * route_scope.c - all route logic over struct lp_route_ops: lookups, scoped
 * overrides with a reverse-order undo log, pin checks, address text.
 * No system call is made here, so the unit tests run it with fakes.
 */
#include "lp_route.h"

#include <stdio.h>
#include <string.h>

static const char *family_name(enum lp_route_family f)
{
	return f == LP_ROUTE_INET6 ? "IPv6" : "IPv4";
}

static int family_ok(uint8_t f)
{
	return f == LP_ROUTE_INET || f == LP_ROUTE_INET6;
}

static size_t family_len(uint8_t f)
{
	return f == LP_ROUTE_INET6 ? 16 : 4;
}

void lp_route_init_ops(struct lp_route *rt, const struct lp_route_ops *ops, void *ctx,
                       const struct lp_logger *log)
{
	memset(rt, 0, sizeof(*rt));
	rt->ops = ops;
	rt->ctx = ctx;
	rt->log = log;
}

void lp_route_close(struct lp_route *rt)
{
	if (rt == NULL)
		return;
	if (rt->close != NULL)
		rt->close(rt);
	memset(rt, 0, sizeof(*rt));
}

int lp_route_addr_set(struct lp_route_addr *a, enum lp_route_family family, const uint8_t *bytes,
                      uint32_t scope_id)
{
	memset(a, 0, sizeof(*a));
	if (!family_ok((uint8_t)family) || bytes == NULL)
		return LP_ERR_INVAL;
	a->family = (uint8_t)family;
	memcpy(a->bytes, bytes, family_len(a->family));
	a->scope_id = scope_id;
	return 0;
}

int lp_route_addr_equal(const struct lp_route_addr *a, const struct lp_route_addr *b)
{
	if (a->family != b->family || !family_ok(a->family))
		return 0;
	if (memcmp(a->bytes, b->bytes, family_len(a->family)) != 0)
		return 0;
	return a->scope_id == 0 || b->scope_id == 0 || a->scope_id == b->scope_id;
}

/* RFC 5952: lowercase hex, no leading zeros, the longest run (>= 2) of zero groups as "::". */
static int format_v6(const uint8_t *b, char *out, size_t cap)
{
	unsigned g[8];
	int best = -1, best_len = 0;
	size_t pos = 0;

	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	for (int i = 0; i < 8;) {
		int j = i;

		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		int n;

		if (i == best) {
			n = snprintf(out + pos, cap - pos, "::");
			i += best_len - 1;
		} else {
			n = snprintf(out + pos, cap - pos, "%s%x",
			             (i == 0 || i == best + best_len) ? "" : ":", g[i]);
		}
		if (n < 0 || (size_t)n >= cap - pos)
			return LP_ERR_NOBUF;
		pos += (size_t)n;
	}
	return (int)pos;
}

int lp_route_addr_format(const struct lp_route_addr *a, char *out, size_t cap)
{
	int n;

	if (cap == 0)
		return LP_ERR_NOBUF;
	out[0] = '\0';
	if (!family_ok(a->family))
		return LP_ERR_INVAL;
	if (a->family == LP_ROUTE_INET) {
		n = snprintf(out, cap, "%u.%u.%u.%u", a->bytes[0], a->bytes[1], a->bytes[2],
		             a->bytes[3]);
		if (n < 0 || (size_t)n >= cap)
			goto nobuf;
		return 0;
	}
	n = format_v6(a->bytes, out, cap);
	if (n < 0)
		goto nobuf;
	if (a->scope_id != 0) {
		int m = snprintf(out + n, cap - (size_t)n, "%%%lu", (unsigned long)a->scope_id);

		if (m < 0 || (size_t)m >= cap - (size_t)n)
			goto nobuf;
	}
	return 0;
nobuf:
	out[0] = '\0';
	return LP_ERR_NOBUF;
}

int lp_route_guid_parse(const char *text, struct lp_route_guid *out)
{
	/* Hex digits per dash-separated group: 8-4-4-4-12. */
	static const int groups[5] = { 8, 4, 4, 4, 12 };
	uint8_t raw[16];
	size_t nraw = 0;
	const char *p = text;
	int braced;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return LP_ERR_INVAL;
	braced = *p == '{';
	if (braced)
		p++;
	for (int gi = 0; gi < 5; gi++) {
		if (gi > 0 && *p++ != '-')
			return LP_ERR_INVAL;
		for (int k = 0; k < groups[gi]; k += 2) {
			int hi = lp_hex_val(p[0]);
			int lo = hi < 0 ? -1 : lp_hex_val(p[1]);

			if (lo < 0)
				return LP_ERR_INVAL;
			raw[nraw++] = (uint8_t)(hi << 4 | lo);
			p += 2;
		}
	}
	if (braced && *p++ != '}')
		return LP_ERR_INVAL;
	if (*p != '\0')
		return LP_ERR_INVAL;
	out->data1 =
	        (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3];
	out->data2 = (uint16_t)(raw[4] << 8 | raw[5]);
	out->data3 = (uint16_t)(raw[6] << 8 | raw[7]);
	memcpy(out->data4, raw + 8, 8);
	return 0;
}

/* The text of an address for a log line; "?" when it cannot be formatted. */
struct addr_text {
	char s[LP_ROUTE_ADDR_STRLEN];
};

static struct addr_text addr_text(const struct lp_route_addr *a)
{
	struct addr_text t = { "" };

	if (lp_route_addr_format(a, t.s, sizeof(t.s)) != 0)
		snprintf(t.s, sizeof(t.s), "?");
	return t;
}

static uint32_t add_sat(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

int lp_route_best(const struct lp_route *rt, const struct lp_route_addr *dest,
                  struct lp_route_best *out)
{
	struct lp_route_ipif ipif;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!family_ok(dest->family))
		return LP_ERR_INVAL;
	if (rt->ops == NULL || rt->ops->get_best_route == NULL)
		return LP_ERR_UNSUPPORTED;
	rc = rt->ops->get_best_route(rt->ctx, dest, out);
	if (rc != 0) {
		memset(out, 0, sizeof(*out));
		lp_log(rt->log, LP_LOG_DEBUG, "route: no best route for %s: %s", addr_text(dest).s,
		       lp_strerror(rc));
		return rc;
	}
	out->dest = *dest;
	out->metric = out->route_metric;
	rc = rt->ops->get_ip_interface == NULL
	             ? LP_ERR_UNSUPPORTED
	             : rt->ops->get_ip_interface(rt->ctx, (enum lp_route_family)dest->family,
	                                         out->if_index, &ipif);
	if (rc != 0) {
		lp_log(rt->log, LP_LOG_WARN,
		       "route: interface metric of interface %lu unknown (%s); metric is the route "
		       "metric only",
		       (unsigned long)out->if_index, lp_strerror(rc));
		return 0;
	}
	out->if_metric = ipif.metric;
	out->if_metric_known = true;
	out->metric = add_sat(out->route_metric, ipif.metric);
	return 0;
}

int lp_route_if_from_guid(const struct lp_route *rt, const struct lp_route_guid *guid,
                          uint32_t *if_index, uint64_t *luid)
{
	uint64_t l = 0;
	uint32_t idx = 0;
	int rc;

	if (rt->ops == NULL || rt->ops->guid_to_luid == NULL || rt->ops->luid_to_index == NULL)
		return LP_ERR_UNSUPPORTED;
	rc = rt->ops->guid_to_luid(rt->ctx, guid, &l);
	if (rc == 0)
		rc = rt->ops->luid_to_index(rt->ctx, l, &idx);
	if (rc != 0)
		return rc;
	if (if_index != NULL)
		*if_index = idx;
	if (luid != NULL)
		*luid = l;
	return 0;
}

int lp_route_unicast_list(const struct lp_route *rt, uint32_t if_index,
                          char (*out)[LP_ROUTE_ADDR_STRLEN], size_t cap, size_t *n)
{
	/* Enough for any TAP adapter; more are reported as LP_ERR_NOBUF. */
	struct lp_route_addr addrs[32];
	size_t total = 0, want;
	int rc;

	*n = 0;
	if (if_index == 0 || (out == NULL && cap > 0))
		return LP_ERR_INVAL;
	if (rt->ops == NULL || rt->ops->list_unicast == NULL)
		return LP_ERR_UNSUPPORTED;
	want = cap < LP_ARRAY_LEN(addrs) ? cap : LP_ARRAY_LEN(addrs);
	rc = rt->ops->list_unicast(rt->ctx, if_index, addrs, want, &total);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < want && i < total; i++) {
		rc = lp_route_addr_format(&addrs[i], out[i], LP_ROUTE_ADDR_STRLEN);
		if (rc != 0)
			return rc;
		*n = i + 1;
	}
	return total > *n ? LP_ERR_NOBUF : 0;
}

/* ---- scoped overrides ---------------------------------------------------- */

void lp_route_scope_init(struct lp_route_scope *s, const struct lp_route *rt)
{
	memset(s, 0, sizeof(*s));
	s->rt = rt;
	atomic_init(&s->n, 0);
	for (size_t i = 0; i < LP_ROUTE_SCOPE_MAX; i++)
		atomic_init(&s->undo[i].claimed, false);
}

/* Slot for the next undo step, or NULL when full. Published by push_commit. */
static struct lp_route_undo *push_begin(struct lp_route_scope *s, enum lp_route_undo_kind kind)
{
	size_t n = atomic_load(&s->n);
	struct lp_route_undo *u;

	if (n >= LP_ROUTE_SCOPE_MAX)
		return NULL;
	u = &s->undo[n];
	u->kind = kind;
	atomic_store(&u->claimed, false);
	memset(&u->ipif, 0, sizeof(u->ipif));
	memset(&u->route, 0, sizeof(u->route));
	return u;
}

/* Makes the step filled since push_begin visible to restore_all (also in another thread). */
static void push_commit(struct lp_route_scope *s)
{
	atomic_fetch_add(&s->n, 1);
}

static size_t scope_room(const struct lp_route_scope *s)
{
	return LP_ROUTE_SCOPE_MAX - atomic_load(&s->n);
}

/*
 * Shared body of set_mtu / set_metric: for each family, read the entry,
 * record the old values, write the new ones.
 */
static int scope_set_ipif(struct lp_route_scope *s, uint32_t if_index, enum lp_route_undo_kind kind,
                          uint32_t value)
{
	static const enum lp_route_family fams[2] = { LP_ROUTE_INET, LP_ROUTE_INET6 };
	const struct lp_route *rt = s->rt;
	const char *what = kind == LP_ROUTE_UNDO_MTU ? "MTU" : "metric";
	int applied = 0;

	if (if_index == 0 || (kind == LP_ROUTE_UNDO_MTU && value == 0))
		return LP_ERR_INVAL;
	if (rt->ops == NULL || rt->ops->get_ip_interface == NULL ||
	    rt->ops->set_ip_interface == NULL)
		return LP_ERR_UNSUPPORTED;
	for (size_t i = 0; i < LP_ARRAY_LEN(fams); i++) {
		struct lp_route_ipif cur, next;
		struct lp_route_undo *u;
		int rc;

		rc = rt->ops->get_ip_interface(rt->ctx, fams[i], if_index, &cur);
		if (rc == LP_ERR_NOT_FOUND) {
			lp_log(rt->log, LP_LOG_DEBUG, "route: interface %lu has no %s; %s not set",
			       (unsigned long)if_index, family_name(fams[i]), what);
			continue;
		}
		if (rc != 0)
			return rc;
		u = push_begin(s, kind);
		if (u == NULL)
			return LP_ERR_NOBUF;
		next = cur;
		if (kind == LP_ROUTE_UNDO_MTU) {
			next.mtu = value;
		} else {
			next.automatic_metric = false;
			next.metric = value;
		}
		rc = rt->ops->set_ip_interface(rt->ctx, &next);
		if (rc != 0) {
			lp_log(rt->log, LP_LOG_WARN,
			       "route: setting %s %s %lu on interface %lu: %s",
			       family_name(fams[i]), what, (unsigned long)value,
			       (unsigned long)if_index, lp_strerror(rc));
			return rc;
		}
		u->ipif = cur;
		push_commit(s);
		applied++;
		lp_log(rt->log, LP_LOG_INFO, "route: interface %lu %s %s %lu (was %s%lu)",
		       (unsigned long)if_index, family_name(fams[i]), what, (unsigned long)value,
		       kind == LP_ROUTE_UNDO_METRIC && cur.automatic_metric ? "automatic " : "",
		       (unsigned long)(kind == LP_ROUTE_UNDO_MTU ? cur.mtu : cur.metric));
	}
	return applied > 0 ? 0 : LP_ERR_NOT_FOUND;
}

int lp_route_scope_set_mtu(struct lp_route_scope *s, uint32_t if_index, uint32_t mtu)
{
	return scope_set_ipif(s, if_index, LP_ROUTE_UNDO_MTU, mtu);
}

int lp_route_scope_set_metric(struct lp_route_scope *s, uint32_t if_index, uint32_t metric)
{
	return scope_set_ipif(s, if_index, LP_ROUTE_UNDO_METRIC, metric);
}

/* Default routes found on one interface, collected before any is deleted. */
struct default_scan {
	uint32_t if_index;
	size_t n;
	size_t overflow;
	struct lp_route_entry found[LP_ROUTE_SCOPE_MAX];
};

static int collect_default(void *user, const struct lp_route_entry *r)
{
	struct default_scan *d = user;

	if (r->if_index != d->if_index || r->prefix_len != 0)
		return 0;
	if (d->n < LP_ARRAY_LEN(d->found))
		d->found[d->n++] = *r;
	else
		d->overflow++;
	return 0;
}

int lp_route_scope_suppress_default_routes(struct lp_route_scope *s, uint32_t if_index,
                                           bool *had_default)
{
	const struct lp_route *rt = s->rt;
	struct default_scan scan;
	int rc;

	if (had_default != NULL)
		*had_default = false;
	if (if_index == 0)
		return LP_ERR_INVAL;
	if (rt->ops == NULL || rt->ops->list_routes == NULL || rt->ops->delete_route == NULL ||
	    rt->ops->create_route == NULL)
		return LP_ERR_UNSUPPORTED;
	memset(&scan, 0, sizeof(scan));
	scan.if_index = if_index;
	rc = rt->ops->list_routes(rt->ctx, LP_ROUTE_INET, collect_default, &scan);
	if (rc == 0)
		rc = rt->ops->list_routes(rt->ctx, LP_ROUTE_INET6, collect_default, &scan);
	if (rc != 0)
		return rc;
	if (scan.overflow > 0 || scan.n > scope_room(s))
		return LP_ERR_NOBUF;
	if (had_default != NULL)
		*had_default = scan.n > 0;
	for (size_t i = 0; i < scan.n; i++) {
		const struct lp_route_entry *r = &scan.found[i];
		struct lp_route_undo *u = push_begin(s, LP_ROUTE_UNDO_ROUTE_CREATE);

		if (u == NULL)
			return LP_ERR_NOBUF;
		rc = rt->ops->delete_route(rt->ctx, r);
		if (rc != 0) {
			lp_log(rt->log, LP_LOG_WARN,
			       "route: deleting default route via %s on interface %lu: %s",
			       addr_text(&r->next_hop).s, (unsigned long)if_index, lp_strerror(rc));
			return rc;
		}
		u->route = *r;
		push_commit(s);
		lp_log(rt->log, LP_LOG_INFO,
		       "route: suppressed default route %s/0 via %s on interface %lu",
		       addr_text(&r->prefix).s, addr_text(&r->next_hop).s, (unsigned long)if_index);
	}
	return 0;
}

/* Route key as Windows defines it: interface, destination prefix, next hop. */
static int same_route(const struct lp_route_entry *a, const struct lp_route_entry *b)
{
	return a->if_index == b->if_index && a->prefix_len == b->prefix_len &&
	       lp_route_addr_equal(&a->prefix, &b->prefix) &&
	       lp_route_addr_equal(&a->next_hop, &b->next_hop);
}

struct route_find {
	const struct lp_route_entry *want;
	bool found;
};

static int find_route(void *user, const struct lp_route_entry *r)
{
	struct route_find *f = user;

	if (same_route(r, f->want))
		f->found = true;
	return 0;
}

int lp_route_scope_pin(struct lp_route_scope *s, const struct lp_route_best *via,
                       struct lp_route_pin *pin)
{
	const struct lp_route *rt = s->rt;
	struct lp_route_entry r;
	struct route_find find;
	struct lp_route_undo *u;
	int rc;

	if (pin != NULL)
		memset(pin, 0, sizeof(*pin));
	if (!family_ok(via->dest.family) || via->if_index == 0)
		return LP_ERR_INVAL;
	if (rt->ops == NULL || rt->ops->list_routes == NULL || rt->ops->create_route == NULL ||
	    rt->ops->delete_route == NULL)
		return LP_ERR_UNSUPPORTED;
	memset(&r, 0, sizeof(r));
	r.if_index = via->if_index;
	r.if_luid = via->if_luid;
	r.prefix = via->dest;
	r.prefix.scope_id = 0;
	r.prefix_len = via->dest.family == LP_ROUTE_INET6 ? 128 : 32;
	r.next_hop = via->next_hop;
	if (!family_ok(r.next_hop.family)) {
		/* On-link: the unspecified address of the destination's family. */
		memset(&r.next_hop, 0, sizeof(r.next_hop));
		r.next_hop.family = via->dest.family;
	}
	r.valid_lifetime = LP_ROUTE_LIFETIME_INFINITE;
	r.preferred_lifetime = LP_ROUTE_LIFETIME_INFINITE;
	r.metric = LP_ROUTE_PIN_METRIC;
	r.protocol = LP_ROUTE_PROTO_NETMGMT;
	r.loopback = true;
	r.autoconfigure_address = true;
	r.publish = false; /* never advertise the relay route to anyone */
	r.immortal = true;

	find.want = &r;
	find.found = false;
	rc = rt->ops->list_routes(rt->ctx, (enum lp_route_family)r.prefix.family, find_route,
	                          &find);
	if (rc != 0)
		return rc;
	if (pin != NULL) {
		pin->dest = via->dest;
		pin->next_hop = r.next_hop;
		pin->if_index = r.if_index;
		pin->if_luid = r.if_luid;
		pin->preexisting = find.found;
	}
	if (find.found) {
		lp_log(rt->log, LP_LOG_INFO,
		       "route: host route %s/%u via %s on interface %lu already exists; kept as is",
		       addr_text(&r.prefix).s, r.prefix_len, addr_text(&r.next_hop).s,
		       (unsigned long)r.if_index);
		return 0;
	}
	u = push_begin(s, LP_ROUTE_UNDO_ROUTE_DELETE);
	if (u == NULL)
		return LP_ERR_NOBUF;
	rc = rt->ops->create_route(rt->ctx, &r);
	if (rc != 0) {
		lp_log(rt->log, LP_LOG_WARN, "route: pinning %s/%u via %s on interface %lu: %s",
		       addr_text(&r.prefix).s, r.prefix_len, addr_text(&r.next_hop).s,
		       (unsigned long)r.if_index, lp_strerror(rc));
		return rc;
	}
	u->route = r;
	push_commit(s);
	lp_log(rt->log, LP_LOG_INFO, "route: pinned %s/%u via %s on interface %lu",
	       addr_text(&r.prefix).s, r.prefix_len, addr_text(&r.next_hop).s,
	       (unsigned long)r.if_index);
	return 0;
}

/* Writes back only the fields this step changed, on top of the entry as it is now. */
static int restore_ipif(const struct lp_route *rt, const struct lp_route_undo *u)
{
	struct lp_route_ipif cur;
	int rc;

	if (rt->ops == NULL || rt->ops->get_ip_interface == NULL ||
	    rt->ops->set_ip_interface == NULL)
		return LP_ERR_UNSUPPORTED;
	rc = rt->ops->get_ip_interface(rt->ctx, (enum lp_route_family)u->ipif.family,
	                               u->ipif.if_index, &cur);
	if (rc != 0)
		return rc;
	if (u->kind == LP_ROUTE_UNDO_MTU) {
		cur.mtu = u->ipif.mtu;
	} else {
		cur.automatic_metric = u->ipif.automatic_metric;
		cur.metric = u->ipif.metric;
	}
	return rt->ops->set_ip_interface(rt->ctx, &cur);
}

static int restore_one(const struct lp_route *rt, const struct lp_route_undo *u)
{
	switch (u->kind) {
	case LP_ROUTE_UNDO_MTU:
	case LP_ROUTE_UNDO_METRIC:
		return restore_ipif(rt, u);
	case LP_ROUTE_UNDO_ROUTE_CREATE:
		if (rt->ops == NULL || rt->ops->create_route == NULL)
			return LP_ERR_UNSUPPORTED;
		return rt->ops->create_route(rt->ctx, &u->route);
	case LP_ROUTE_UNDO_ROUTE_DELETE:
		if (rt->ops == NULL || rt->ops->delete_route == NULL)
			return LP_ERR_UNSUPPORTED;
		return rt->ops->delete_route(rt->ctx, &u->route);
	}
	return LP_ERR_INVAL;
}

static void describe_undo(const struct lp_route_undo *u, char *out, size_t cap)
{
	const struct lp_route_entry *r = &u->route;

	switch (u->kind) {
	case LP_ROUTE_UNDO_MTU:
		snprintf(out, cap, "%s MTU %lu on interface %lu",
		         family_name((enum lp_route_family)u->ipif.family),
		         (unsigned long)u->ipif.mtu, (unsigned long)u->ipif.if_index);
		return;
	case LP_ROUTE_UNDO_METRIC:
		snprintf(out, cap, "%s %s metric %lu on interface %lu",
		         family_name((enum lp_route_family)u->ipif.family),
		         u->ipif.automatic_metric ? "automatic" : "fixed",
		         (unsigned long)u->ipif.metric, (unsigned long)u->ipif.if_index);
		return;
	case LP_ROUTE_UNDO_ROUTE_CREATE:
	case LP_ROUTE_UNDO_ROUTE_DELETE:
		snprintf(out, cap, "%s route %s/%u via %s on interface %lu",
		         u->kind == LP_ROUTE_UNDO_ROUTE_CREATE ? "re-creating" : "removing",
		         addr_text(&r->prefix).s, r->prefix_len, addr_text(&r->next_hop).s,
		         (unsigned long)r->if_index);
		return;
	}
	snprintf(out, cap, "unknown step");
}

int lp_route_scope_restore_all(struct lp_route_scope *s, size_t *failures)
{
	size_t n = atomic_load(&s->n);
	size_t failed = 0;
	int first = 0;

	for (size_t i = n; i-- > 0;) {
		struct lp_route_undo *u = &s->undo[i];
		char what[256];
		int rc;

		if (atomic_exchange(&u->claimed, true))
			continue;
		rc = restore_one(s->rt, u);
		describe_undo(u, what, sizeof(what));
		if (rc != 0) {
			failed++;
			if (first == 0)
				first = rc;
			lp_log(s->rt->log, LP_LOG_ERROR, "route: restore failed (%s): %s", what,
			       lp_strerror(rc));
			continue;
		}
		lp_log(s->rt->log, LP_LOG_INFO, "route: restored (%s)", what);
	}
	if (failures != NULL)
		*failures = failed;
	return first;
}

int lp_route_pin_check(const struct lp_route *rt, const struct lp_route_pin *pin, bool *ok,
                       char *why, size_t cap)
{
	struct lp_route_best now;
	char dest[LP_ROUTE_ADDR_STRLEN], pin_hop[LP_ROUTE_ADDR_STRLEN];
	int rc;

	*ok = false;
	if (why != NULL && cap > 0)
		why[0] = '\0';
	if (!family_ok(pin->dest.family) || pin->if_index == 0)
		return LP_ERR_INVAL;
	snprintf(dest, sizeof(dest), "%s", addr_text(&pin->dest).s);
	snprintf(pin_hop, sizeof(pin_hop), "%s", addr_text(&pin->next_hop).s);
	rc = lp_route_best(rt, &pin->dest, &now);
	if (rc != 0) {
		if (why != NULL && cap > 0)
			snprintf(why, cap, "relay %s: route lookup failed: %s", dest,
			         lp_strerror(rc));
		return rc;
	}
	/* A missing next hop on either side means on-link: compare as unspecified. */
	if (!family_ok(now.next_hop.family)) {
		memset(&now.next_hop, 0, sizeof(now.next_hop));
		now.next_hop.family = pin->dest.family;
	}
	*ok = now.if_index == pin->if_index && lp_route_addr_equal(&now.next_hop, &pin->next_hop);
	if (why == NULL || cap == 0)
		return 0;
	if (*ok)
		snprintf(why, cap, "relay %s uses the pinned route via %s on interface %lu (%s/%u)",
		         dest, pin_hop, (unsigned long)pin->if_index, addr_text(&now.prefix).s,
		         now.prefix_len);
	else
		snprintf(why, cap,
		         "relay %s now routes via %s on interface %lu (%s/%u), not the pinned %s "
		         "on interface %lu",
		         dest, addr_text(&now.next_hop).s, (unsigned long)now.if_index,
		         addr_text(&now.prefix).s, now.prefix_len, pin_hop,
		         (unsigned long)pin->if_index);
	return 0;
}
