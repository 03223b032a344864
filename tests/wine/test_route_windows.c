/*
 * test_route_windows.c - lib/client-route's real iphlpapi bindings, run
 * under Wine (meson's exe_wrapper) or on Windows.
 *
 * Each check is decided by what the running system really exports (looked
 * up here independently with GetProcAddress): a present function must give
 * real answers that agree with GetAdaptersAddresses; a missing one must
 * make the call return LP_ERR_UNSUPPORTED and name the function in the log,
 * never crash. Nothing is changed on the system except writes that set a
 * value to what it already is (only where the functions exist).
 *
 * Plain C with its own CHECK so it needs no cmocka for the Windows host.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lp_route.h"

static int failures;
static int checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#define CHECK_RC(expr, want)                                                                       \
	do {                                                                                       \
		int rc_ = (expr);                                                                  \
		checks++;                                                                          \
		if (rc_ != (want)) {                                                               \
			fprintf(stderr, "%s:%d: %s = %d (%s), want %d (%s)\n", __FILE__, __LINE__, \
			        #expr, rc_, lp_strerror(rc_), (want), lp_strerror(want));          \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* ---- captured log ---------------------------------------------------------- */

static char logtext[16384];
static size_t loglen;

LP_PRINTF(3, 0)
static void log_capture(void *user, enum lp_log_level level, const char *fmt, va_list ap)
{
	int n;

	(void)user;
	(void)level;
	if (loglen >= sizeof(logtext) - 1)
		return;
	n = vsnprintf(logtext + loglen, sizeof(logtext) - loglen, fmt, ap);
	if (n < 0)
		return;
	loglen += (size_t)n;
	if (loglen >= sizeof(logtext) - 1)
		loglen = sizeof(logtext) - 1;
	else
		logtext[loglen++] = '\n';
	logtext[loglen] = '\0';
}

static void log_clear(void)
{
	loglen = 0;
	logtext[0] = '\0';
}

static int log_has(const char *s)
{
	return strstr(logtext, s) != NULL;
}

/* ---- what the system exports ----------------------------------------------- */

static const char *const names[] = {
	"GetBestRoute2",
	"GetIpInterfaceEntry",
	"SetIpInterfaceEntry",
	"GetIpForwardTable2",
	"CreateIpForwardEntry2",
	"DeleteIpForwardEntry2",
	"GetUnicastIpAddressTable",
	"ConvertInterfaceGuidToLuid",
	"ConvertInterfaceLuidToIndex",
	"FreeMibTable",
};

static HMODULE iphlpapi;

static int has(const char *name)
{
	return GetProcAddress(iphlpapi, name) != NULL;
}

/* The loopback adapter as GetAdaptersAddresses (an independent API) sees it. */
struct loopback {
	uint32_t if_index;
	uint64_t luid;
	char guid[64];
	int found;
};

static void find_loopback(struct loopback *lo)
{
	ULONG size = 32768;
	IP_ADAPTER_ADDRESSES *list = NULL;
	ULONG rc = ERROR_BUFFER_OVERFLOW;

	memset(lo, 0, sizeof(*lo));
	for (int tries = 0; tries < 3 && rc == ERROR_BUFFER_OVERFLOW; tries++) {
		free(list);
		list = malloc(size);
		if (list == NULL)
			return;
		rc = GetAdaptersAddresses(AF_UNSPEC, 0, NULL, list, &size);
	}
	if (rc != NO_ERROR)
		goto out;
	for (IP_ADAPTER_ADDRESSES *a = list; a != NULL; a = a->Next) {
		if (a->IfType != IF_TYPE_SOFTWARE_LOOPBACK)
			continue;
		lo->if_index = a->IfIndex;
		lo->luid = a->Luid.Value;
		snprintf(lo->guid, sizeof(lo->guid), "%s", a->AdapterName);
		lo->found = 1;
		break;
	}
out:
	free(list);
}

/* ---- checks ---------------------------------------------------------------- */

static void check_open(const struct lp_route *rt, int rc)
{
	CHECK_RC(rc, 0);
	CHECK(rt->ops != NULL);
	for (size_t i = 0; i < LP_ARRAY_LEN(names); i++) {
		/* open lists exactly the missing functions by name */
		char word[64];

		snprintf(word, sizeof(word), "%s", names[i]);
		if (has(names[i]))
			CHECK(!log_has(word));
		else
			CHECK(log_has(word));
	}
}

static void check_guid(const struct lp_route *rt, const struct loopback *lo)
{
	struct lp_route_guid g, none;
	uint32_t idx = 0;
	uint64_t luid = 0;
	int want_ok = has("ConvertInterfaceGuidToLuid") && has("ConvertInterfaceLuidToIndex");

	CHECK_RC(lp_route_guid_parse(lo->guid, &g), 0);
	log_clear();
	if (want_ok) {
		CHECK_RC(lp_route_if_from_guid(rt, &g, &idx, &luid), 0);
		CHECK(idx == lo->if_index);
		CHECK(luid == lo->luid);
		/* A GUID no adapter has. */
		CHECK_RC(lp_route_guid_parse("{00000000-1111-2222-3333-444455556666}", &none), 0);
		CHECK_RC(lp_route_if_from_guid(rt, &none, &idx, &luid), LP_ERR_NOT_FOUND);
	} else {
		CHECK_RC(lp_route_if_from_guid(rt, &g, &idx, &luid), LP_ERR_UNSUPPORTED);
		CHECK(log_has("not available in iphlpapi.dll"));
	}
}

static void check_unicast(const struct lp_route *rt, const struct loopback *lo)
{
	char out[16][LP_ROUTE_ADDR_STRLEN];
	size_t n = 0;
	int seen = 0;

	log_clear();
	if (!has("GetUnicastIpAddressTable") || !has("FreeMibTable")) {
		CHECK_RC(lp_route_unicast_list(rt, lo->if_index, out, 16, &n), LP_ERR_UNSUPPORTED);
		CHECK(log_has("not available in iphlpapi.dll"));
		return;
	}
	CHECK_RC(lp_route_unicast_list(rt, lo->if_index, out, 16, &n), 0);
	for (size_t i = 0; i < n; i++) {
		printf("  loopback address: %s\n", out[i]);
		if (strcmp(out[i], "127.0.0.1") == 0)
			seen = 1;
	}
	CHECK(seen);
	/* An interface index nobody has: empty, not an error. */
	CHECK_RC(lp_route_unicast_list(rt, 0x7ffffff0u, out, 16, &n), 0);
	CHECK(n == 0);
}

typedef NETIO_STATUS(WINAPI *best_route_fn)(NET_LUID *, NET_IFINDEX, const SOCKADDR_INET *,
                                            const SOCKADDR_INET *, ULONG, PMIB_IPFORWARD_ROW2,
                                            SOCKADDR_INET *);
typedef NETIO_STATUS(WINAPI *fwd_table_fn)(ADDRESS_FAMILY, PMIB_IPFORWARD_TABLE2 *);
typedef VOID(WINAPI *free_fn)(PVOID);

/*
 * GetBestRoute2 called directly: Wine 8 exports it as a stub that returns
 * ERROR_NOT_SUPPORTED, so "exported" is not "works". -1 when not exported.
 */
static long direct_best_route(uint32_t *if_index)
{
	FARPROC p = GetProcAddress(iphlpapi, "GetBestRoute2");
	SOCKADDR_INET d, src;
	MIB_IPFORWARD_ROW2 row;
	DWORD e;

	if (p == NULL)
		return -1;
	memset(&d, 0, sizeof(d));
	memset(&src, 0, sizeof(src));
	memset(&row, 0, sizeof(row));
	d.Ipv4.sin_family = AF_INET;
	d.Ipv4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	e = ((best_route_fn)(void (*)(void))p)(NULL, 0, NULL, &d, 0, &row, &src);
	*if_index = row.InterfaceIndex;
	return (long)e;
}

static int count_route(void *user, const struct lp_route_entry *route)
{
	size_t *n = user;

	(void)route;
	(*n)++;
	return 0;
}

static int find_default(void *user, const struct lp_route_entry *route)
{
	uint32_t *idx = user;

	if (route->prefix_len == 0 && *idx == 0)
		*idx = route->if_index;
	return 0;
}

static void check_best(const struct lp_route *rt, const struct loopback *lo)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	struct lp_route_addr dest;
	struct lp_route_best b;
	struct lp_route_pin pin;
	char src[LP_ROUTE_ADDR_STRLEN], why[256];
	uint32_t direct_if = 0;
	long direct = direct_best_route(&direct_if);
	bool ok = true;
	int rc;

	printf("  GetBestRoute2(127.0.0.1) called directly: %ld\n", direct);
	CHECK_RC(lp_route_addr_set(&dest, LP_ROUTE_INET, lo4, 0), 0);
	memset(&pin, 0, sizeof(pin));
	pin.dest = dest;
	pin.if_index = lo->if_index;
	pin.next_hop.family = LP_ROUTE_INET;
	log_clear();
	rc = lp_route_best(rt, &dest, &b);
	if (direct != NO_ERROR) {
		CHECK_RC(rc, LP_ERR_UNSUPPORTED);
		CHECK(log_has("GetBestRoute2"));
		CHECK(b.if_index == 0);
		/* The pin check cannot look anything up: it says so. */
		CHECK_RC(lp_route_pin_check(rt, &pin, &ok, why, sizeof(why)), LP_ERR_UNSUPPORTED);
		CHECK(!ok);
		CHECK(strcmp(why, "relay 127.0.0.1: route lookup failed: not supported on this "
		                  "platform") == 0);
		return;
	}
	CHECK_RC(rc, 0);
	CHECK_RC(lp_route_addr_format(&b.source, src, sizeof(src)), 0);
	printf("  best route to 127.0.0.1: interface %lu, source %s, prefix /%u, metric %lu%s\n",
	       (unsigned long)b.if_index, src, b.prefix_len, (unsigned long)b.metric,
	       b.if_metric_known ? "" : " (route metric only)");
	CHECK(b.if_index == direct_if);
	CHECK(b.if_index == lo->if_index);
	CHECK(b.if_luid == lo->luid);
	CHECK(strcmp(src, "127.0.0.1") == 0);
	CHECK(b.if_metric_known == (has("GetIpInterfaceEntry") != 0));

	pin.next_hop = b.next_hop;
	CHECK_RC(lp_route_pin_check(rt, &pin, &ok, why, sizeof(why)), 0);
	CHECK(ok);
	printf("  pin check: %s\n", why);
	pin.if_index = b.if_index + 1000;
	CHECK_RC(lp_route_pin_check(rt, &pin, &ok, why, sizeof(why)), 0);
	CHECK(!ok);
	CHECK(strstr(why, "not the pinned") != NULL);
}

static void check_routes(const struct lp_route *rt, const struct loopback *lo)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	FARPROC get = GetProcAddress(iphlpapi, "GetIpForwardTable2");
	FARPROC fre = GetProcAddress(iphlpapi, "FreeMibTable");
	PMIB_IPFORWARD_TABLE2 table = NULL;
	struct lp_route_scope s;
	struct lp_route_best via;
	struct lp_route_pin pin;
	size_t n = 0, fails = 99;
	uint32_t def_if = 0;
	bool had = true;
	int rc;

	lp_route_scope_init(&s, rt);
	log_clear();
	if (get == NULL || fre == NULL) {
		CHECK_RC(lp_route_scope_suppress_default_routes(&s, lo->if_index, &had),
		         LP_ERR_UNSUPPORTED);
		return;
	}
	/* The listing agrees with GetIpForwardTable2 called directly. */
	CHECK_RC(rt->ops->list_routes(rt->ctx, LP_ROUTE_INET, count_route, &n), 0);
	CHECK(((fwd_table_fn)(void (*)(void))get)(AF_INET, &table) == NO_ERROR);
	if (table != NULL) {
		CHECK(n == table->NumEntries);
		((free_fn)(void (*)(void))fre)(table);
	}
	printf("  IPv4 routes: %lu\n", (unsigned long)n);

	/* Loopback has no default route: nothing to suppress, nothing changed. */
	CHECK_RC(lp_route_scope_suppress_default_routes(&s, lo->if_index, &had), 0);
	CHECK(!had);

	/*
	 * Where deleting is impossible, suppressing a real default route must
	 * see it, refuse cleanly and leave it in place. (Where it is possible
	 * this would really delete it, so it is not tried.)
	 */
	CHECK_RC(rt->ops->list_routes(rt->ctx, LP_ROUTE_INET, find_default, &def_if), 0);
	if (def_if != 0 && !has("DeleteIpForwardEntry2")) {
		size_t after = 0;

		log_clear();
		CHECK_RC(lp_route_scope_suppress_default_routes(&s, def_if, &had),
		         LP_ERR_UNSUPPORTED);
		CHECK(had);
		CHECK(log_has("DeleteIpForwardEntry2 is not available"));
		CHECK_RC(rt->ops->list_routes(rt->ctx, LP_ROUTE_INET, count_route, &after), 0);
		CHECK(after == n);
	}

	/*
	 * Pin 127.0.0.1/32 on loopback. Without CreateIpForwardEntry2 it must
	 * fail cleanly; on Windows the on-link 127.0.0.1/32 already exists and
	 * is kept (or, unelevated, the create is refused).
	 */
	memset(&via, 0, sizeof(via));
	CHECK_RC(lp_route_addr_set(&via.dest, LP_ROUTE_INET, lo4, 0), 0);
	via.if_index = lo->if_index;
	via.if_luid = lo->luid;
	log_clear();
	rc = lp_route_scope_pin(&s, &via, &pin);
	if (rc == 0) {
		CHECK(pin.if_index == lo->if_index);
		printf("  pin 127.0.0.1/32: %s\n",
		       pin.preexisting ? "already existed, kept" : "created");
	} else if (!has("CreateIpForwardEntry2")) {
		CHECK_RC(rc, LP_ERR_UNSUPPORTED);
		CHECK(log_has("CreateIpForwardEntry2 is not available"));
	} else {
		CHECK_RC(rc, LP_ERR_PERM);
	}
	CHECK_RC(lp_route_scope_restore_all(&s, &fails), 0);
	CHECK(fails == 0);
	CHECK_RC(lp_route_scope_restore_all(&s, &fails), 0);
	CHECK(fails == 0);
}

static void check_ipif(const struct lp_route *rt, const struct loopback *lo)
{
	struct lp_route_scope s;
	struct lp_route_ipif cur;
	size_t fails = 99;
	int rc;

	lp_route_scope_init(&s, rt);
	log_clear();
	if (!has("GetIpInterfaceEntry")) {
		CHECK_RC(lp_route_scope_set_mtu(&s, lo->if_index, 1500), LP_ERR_UNSUPPORTED);
		CHECK(log_has("GetIpInterfaceEntry is not available"));
		CHECK_RC(lp_route_scope_set_metric(&s, lo->if_index, 50), LP_ERR_UNSUPPORTED);
		CHECK_RC(lp_route_scope_restore_all(&s, &fails), 0);
		CHECK(fails == 0);
		return;
	}
	CHECK_RC(rt->ops->get_ip_interface(rt->ctx, LP_ROUTE_INET, lo->if_index, &cur), 0);
	printf("  loopback IPv4 interface: MTU %lu, %s metric %lu\n", (unsigned long)cur.mtu,
	       cur.automatic_metric ? "automatic" : "fixed", (unsigned long)cur.metric);
	/* Write the MTU it already has: exercises Set without changing the system. */
	rc = lp_route_scope_set_mtu(&s, lo->if_index, cur.mtu);
	if (!has("SetIpInterfaceEntry")) {
		CHECK_RC(rc, LP_ERR_UNSUPPORTED);
		CHECK(log_has("SetIpInterfaceEntry is not available"));
	} else if (rc != LP_ERR_PERM) {
		CHECK_RC(rc, 0);
	}
	CHECK_RC(lp_route_scope_restore_all(&s, &fails), 0);
}

static int never_visit(void *user, const struct lp_route_entry *route)
{
	(void)user;
	(void)route;
	CHECK(!"a route listed although the listing function is missing");
	return 0;
}

/* Every op whose system function is missing says so by name, without crashing. */
static void check_missing_ops(const struct lp_route *rt)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	struct lp_route_addr a;
	struct lp_route_best b;
	struct lp_route_ipif ipif;
	struct lp_route_entry r;
	struct lp_route_guid g;
	struct lp_route_addr addrs[4];
	size_t total;
	uint64_t luid;
	uint32_t idx;
	char want[96];

	memset(&ipif, 0, sizeof(ipif));
	ipif.family = LP_ROUTE_INET;
	ipif.if_index = 1;
	memset(&r, 0, sizeof(r));
	CHECK_RC(lp_route_addr_set(&a, LP_ROUTE_INET, lo4, 0), 0);
	r.prefix = a;
	r.next_hop = a;
	r.prefix_len = 32;
	r.if_index = 1;
	memset(&g, 0, sizeof(g));
	for (size_t i = 0; i < LP_ARRAY_LEN(names); i++) {
		const char *n = names[i];
		int rc;

		if (has(n))
			continue;
		log_clear();
		if (strcmp(n, "GetBestRoute2") == 0)
			rc = rt->ops->get_best_route(rt->ctx, &a, &b);
		else if (strcmp(n, "GetIpInterfaceEntry") == 0)
			rc = rt->ops->get_ip_interface(rt->ctx, LP_ROUTE_INET, 1, &ipif);
		else if (strcmp(n, "SetIpInterfaceEntry") == 0)
			rc = rt->ops->set_ip_interface(rt->ctx, &ipif);
		else if (strcmp(n, "CreateIpForwardEntry2") == 0)
			rc = rt->ops->create_route(rt->ctx, &r);
		else if (strcmp(n, "DeleteIpForwardEntry2") == 0)
			rc = rt->ops->delete_route(rt->ctx, &r);
		else if (strcmp(n, "GetUnicastIpAddressTable") == 0)
			rc = rt->ops->list_unicast(rt->ctx, 1, addrs, 4, &total);
		else if (strcmp(n, "ConvertInterfaceGuidToLuid") == 0)
			rc = rt->ops->guid_to_luid(rt->ctx, &g, &luid);
		else if (strcmp(n, "ConvertInterfaceLuidToIndex") == 0)
			rc = rt->ops->luid_to_index(rt->ctx, 1, &idx);
		else /* GetIpForwardTable2, FreeMibTable */
			rc = rt->ops->list_routes(rt->ctx, LP_ROUTE_INET, never_visit, NULL);
		CHECK_RC(rc, LP_ERR_UNSUPPORTED);
		snprintf(want, sizeof(want), "%s is not available in iphlpapi.dll", n);
		CHECK(log_has(want));
	}
}

int main(void)
{
	struct lp_logger lg = { log_capture, NULL, LP_LOG_DEBUG };
	struct lp_route rt;
	struct loopback lo;
	int missing = 0;
	int rc;

	iphlpapi = LoadLibraryA("iphlpapi.dll");
	CHECK(iphlpapi != NULL);
	if (iphlpapi == NULL)
		return 1;
	printf("iphlpapi functions this system lacks:");
	for (size_t i = 0; i < LP_ARRAY_LEN(names); i++) {
		if (!has(names[i])) {
			printf(" %s", names[i]);
			missing++;
		}
	}
	printf("%s\n", missing ? "" : " none");

	rc = lp_route_open(&rt, &lg);
	check_open(&rt, rc);
	find_loopback(&lo);
	CHECK(lo.found);
	if (lo.found) {
		printf("loopback: interface %lu, GUID %s\n", (unsigned long)lo.if_index, lo.guid);
		check_guid(&rt, &lo);
		check_unicast(&rt, &lo);
		check_best(&rt, &lo);
		check_routes(&rt, &lo);
		check_ipif(&rt, &lo);
	}
	check_missing_ops(&rt);
	lp_route_close(&rt);
	lp_route_close(&rt);
	FreeLibrary(iphlpapi);

	printf("%d checks, %d failed\n", checks, failures);
	return failures == 0 ? 0 : 1;
}
