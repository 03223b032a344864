/*
 * route_windows.c - struct lp_route_ops over iphlpapi (netioapi).
 *
 * Every function is resolved with GetProcAddress at open time instead of
 * being imported: Wine (8.x) lacks several of them, and an import would
 * make the whole client fail to load. A missing one turns each call that
 * needs it into LP_ERR_UNSUPPORTED with the function's name in the log.
 */
#include "lp_route.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <netioapi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	F_GET_BEST_ROUTE2,
	F_GET_IP_INTERFACE_ENTRY,
	F_SET_IP_INTERFACE_ENTRY,
	F_GET_IP_FORWARD_TABLE2,
	F_CREATE_IP_FORWARD_ENTRY2,
	F_DELETE_IP_FORWARD_ENTRY2,
	F_GET_UNICAST_IP_ADDRESS_TABLE,
	F_CONVERT_INTERFACE_GUID_TO_LUID,
	F_CONVERT_INTERFACE_LUID_TO_INDEX,
	F_FREE_MIB_TABLE,
	F_COUNT
};

static const char *const fn_names[F_COUNT] = {
	[F_GET_BEST_ROUTE2] = "GetBestRoute2",
	[F_GET_IP_INTERFACE_ENTRY] = "GetIpInterfaceEntry",
	[F_SET_IP_INTERFACE_ENTRY] = "SetIpInterfaceEntry",
	[F_GET_IP_FORWARD_TABLE2] = "GetIpForwardTable2",
	[F_CREATE_IP_FORWARD_ENTRY2] = "CreateIpForwardEntry2",
	[F_DELETE_IP_FORWARD_ENTRY2] = "DeleteIpForwardEntry2",
	[F_GET_UNICAST_IP_ADDRESS_TABLE] = "GetUnicastIpAddressTable",
	[F_CONVERT_INTERFACE_GUID_TO_LUID] = "ConvertInterfaceGuidToLuid",
	[F_CONVERT_INTERFACE_LUID_TO_INDEX] = "ConvertInterfaceLuidToIndex",
	[F_FREE_MIB_TABLE] = "FreeMibTable",
};

typedef NETIO_STATUS(WINAPI *get_best_route2_fn)(NET_LUID *, NET_IFINDEX, const SOCKADDR_INET *,
                                                 const SOCKADDR_INET *, ULONG, PMIB_IPFORWARD_ROW2,
                                                 SOCKADDR_INET *);
typedef NETIO_STATUS(WINAPI *ipif_fn)(PMIB_IPINTERFACE_ROW);
typedef NETIO_STATUS(WINAPI *fwd_table_fn)(ADDRESS_FAMILY, PMIB_IPFORWARD_TABLE2 *);
typedef NETIO_STATUS(WINAPI *fwd_entry_fn)(const MIB_IPFORWARD_ROW2 *);
typedef NETIO_STATUS(WINAPI *unicast_table_fn)(ADDRESS_FAMILY, PMIB_UNICASTIPADDRESS_TABLE *);
typedef NETIO_STATUS(WINAPI *guid_to_luid_fn)(const GUID *, PNET_LUID);
typedef NETIO_STATUS(WINAPI *luid_to_index_fn)(const NET_LUID *, PNET_IFINDEX);
typedef VOID(WINAPI *free_mib_fn)(PVOID);

struct route_win {
	HMODULE dll;
	const struct lp_logger *log;
	FARPROC fn[F_COUNT];
};

/* GetProcAddress returns a generic pointer; going through void (*)(void) keeps -Wcast-function-type
 * quiet. */
#define WIN_FN(w, id, type) ((type)(void (*)(void))(w)->fn[id])

static int need(const struct route_win *w, int id)
{
	if (w->fn[id] != NULL)
		return 0;
	lp_log(w->log, LP_LOG_WARN, "route: %s is not available in iphlpapi.dll on this system",
	       fn_names[id]);
	return LP_ERR_UNSUPPORTED;
}

static int map_err(const struct route_win *w, const char *fn, DWORD e)
{
	int rc;

	switch (e) {
	case NO_ERROR:
		return 0;
	case ERROR_NOT_FOUND:
	case ERROR_FILE_NOT_FOUND:
	case ERROR_NETWORK_UNREACHABLE:
	case ERROR_HOST_UNREACHABLE:
		rc = LP_ERR_NOT_FOUND;
		break;
	case ERROR_ACCESS_DENIED:
		rc = LP_ERR_PERM;
		break;
	case ERROR_INVALID_PARAMETER:
		rc = LP_ERR_INVAL;
		break;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		rc = LP_ERR_NOMEM;
		break;
	case ERROR_NOT_SUPPORTED:
	case ERROR_CALL_NOT_IMPLEMENTED:
		rc = LP_ERR_UNSUPPORTED;
		break;
	default:
		rc = LP_ERR_IO;
		break;
	}
	lp_log(w->log, rc == LP_ERR_NOT_FOUND ? LP_LOG_DEBUG : LP_LOG_WARN,
	       "route: %s failed: Windows error %lu", fn, (unsigned long)e);
	return rc;
}

static ADDRESS_FAMILY win_family(enum lp_route_family f)
{
	return f == LP_ROUTE_INET6 ? AF_INET6 : AF_INET;
}

static void addr_to_win(const struct lp_route_addr *a, SOCKADDR_INET *out)
{
	memset(out, 0, sizeof(*out));
	if (a->family == LP_ROUTE_INET6) {
		out->Ipv6.sin6_family = AF_INET6;
		memcpy(&out->Ipv6.sin6_addr, a->bytes, 16);
		out->Ipv6.sin6_scope_id = a->scope_id;
	} else {
		out->Ipv4.sin_family = AF_INET;
		memcpy(&out->Ipv4.sin_addr, a->bytes, 4);
	}
}

static void addr_from_win(const SOCKADDR_INET *in, struct lp_route_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (in->si_family == AF_INET6) {
		out->family = LP_ROUTE_INET6;
		memcpy(out->bytes, &in->Ipv6.sin6_addr, 16);
		out->scope_id = in->Ipv6.sin6_scope_id;
	} else if (in->si_family == AF_INET) {
		out->family = LP_ROUTE_INET;
		memcpy(out->bytes, &in->Ipv4.sin_addr, 4);
	}
}

static void route_from_win(const MIB_IPFORWARD_ROW2 *row, struct lp_route_entry *r)
{
	memset(r, 0, sizeof(*r));
	r->if_luid = row->InterfaceLuid.Value;
	r->if_index = row->InterfaceIndex;
	addr_from_win(&row->DestinationPrefix.Prefix, &r->prefix);
	r->prefix_len = row->DestinationPrefix.PrefixLength;
	addr_from_win(&row->NextHop, &r->next_hop);
	r->site_prefix_len = row->SitePrefixLength;
	r->valid_lifetime = row->ValidLifetime;
	r->preferred_lifetime = row->PreferredLifetime;
	r->metric = row->Metric;
	r->protocol = (uint32_t)row->Protocol;
	r->origin = (uint32_t)row->Origin;
	r->loopback = row->Loopback != 0;
	r->autoconfigure_address = row->AutoconfigureAddress != 0;
	r->publish = row->Publish != 0;
	r->immortal = row->Immortal != 0;
}

/* Every field set explicitly, so InitializeIpForwardEntry (absent in Wine) is not needed. */
static void route_to_win(const struct lp_route_entry *r, MIB_IPFORWARD_ROW2 *row)
{
	memset(row, 0, sizeof(*row));
	row->InterfaceLuid.Value = r->if_luid;
	row->InterfaceIndex = r->if_index;
	addr_to_win(&r->prefix, &row->DestinationPrefix.Prefix);
	row->DestinationPrefix.PrefixLength = r->prefix_len;
	addr_to_win(&r->next_hop, &row->NextHop);
	row->SitePrefixLength = r->site_prefix_len;
	row->ValidLifetime = r->valid_lifetime;
	row->PreferredLifetime = r->preferred_lifetime;
	row->Metric = r->metric;
	row->Protocol = (NL_ROUTE_PROTOCOL)r->protocol;
	row->Loopback = r->loopback;
	row->AutoconfigureAddress = r->autoconfigure_address;
	row->Publish = r->publish;
	row->Immortal = r->immortal;
}

static int w_get_best_route(void *ctx, const struct lp_route_addr *dest, struct lp_route_best *out)
{
	struct route_win *w = ctx;
	SOCKADDR_INET d, src;
	MIB_IPFORWARD_ROW2 row;
	int rc;

	if ((rc = need(w, F_GET_BEST_ROUTE2)) != 0)
		return rc;
	addr_to_win(dest, &d);
	memset(&src, 0, sizeof(src));
	memset(&row, 0, sizeof(row));
	rc = map_err(
	        w, fn_names[F_GET_BEST_ROUTE2],
	        WIN_FN(w, F_GET_BEST_ROUTE2, get_best_route2_fn)(NULL, 0, NULL, &d, 0, &row, &src));
	if (rc != 0)
		return rc;
	addr_from_win(&src, &out->source);
	addr_from_win(&row.NextHop, &out->next_hop);
	out->if_index = row.InterfaceIndex;
	out->if_luid = row.InterfaceLuid.Value;
	addr_from_win(&row.DestinationPrefix.Prefix, &out->prefix);
	out->prefix_len = row.DestinationPrefix.PrefixLength;
	out->route_metric = row.Metric;
	return 0;
}

static int read_ipif(struct route_win *w, enum lp_route_family family, uint32_t if_index,
                     MIB_IPINTERFACE_ROW *row)
{
	int rc;

	if ((rc = need(w, F_GET_IP_INTERFACE_ENTRY)) != 0)
		return rc;
	/* Get needs only Family and the index; it fills in the rest. */
	memset(row, 0, sizeof(*row));
	row->Family = win_family(family);
	row->InterfaceIndex = if_index;
	return map_err(w, fn_names[F_GET_IP_INTERFACE_ENTRY],
	               WIN_FN(w, F_GET_IP_INTERFACE_ENTRY, ipif_fn)(row));
}

static int w_get_ip_interface(void *ctx, enum lp_route_family family, uint32_t if_index,
                              struct lp_route_ipif *out)
{
	MIB_IPINTERFACE_ROW row;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = read_ipif(ctx, family, if_index, &row);
	if (rc != 0)
		return rc;
	out->family = (uint8_t)family;
	out->if_index = row.InterfaceIndex;
	out->if_luid = row.InterfaceLuid.Value;
	out->mtu = row.NlMtu;
	out->automatic_metric = row.UseAutomaticMetric != 0;
	out->metric = row.Metric;
	return 0;
}

static int w_set_ip_interface(void *ctx, const struct lp_route_ipif *in)
{
	struct route_win *w = ctx;
	MIB_IPINTERFACE_ROW row;
	int rc;

	if ((rc = need(w, F_SET_IP_INTERFACE_ENTRY)) != 0)
		return rc;
	/* Read-modify-write: Set takes the whole row, so start from the current one. */
	rc = read_ipif(w, (enum lp_route_family)in->family, in->if_index, &row);
	if (rc != 0)
		return rc;
	row.NlMtu = in->mtu;
	row.UseAutomaticMetric = in->automatic_metric;
	row.Metric = in->metric;
	/* Set rejects an IPv4 row whose SitePrefixLength is not 0 (as Get returns it). */
	if (row.Family == AF_INET)
		row.SitePrefixLength = 0;
	return map_err(w, fn_names[F_SET_IP_INTERFACE_ENTRY],
	               WIN_FN(w, F_SET_IP_INTERFACE_ENTRY, ipif_fn)(&row));
}

static int w_list_routes(void *ctx, enum lp_route_family family, lp_route_visit_fn fn, void *user)
{
	struct route_win *w = ctx;
	PMIB_IPFORWARD_TABLE2 table = NULL;
	int rc;

	if ((rc = need(w, F_GET_IP_FORWARD_TABLE2)) != 0 || (rc = need(w, F_FREE_MIB_TABLE)) != 0)
		return rc;
	rc = map_err(w, fn_names[F_GET_IP_FORWARD_TABLE2],
	             WIN_FN(w, F_GET_IP_FORWARD_TABLE2, fwd_table_fn)(win_family(family), &table));
	if (rc != 0)
		goto out;
	for (ULONG i = 0; i < table->NumEntries; i++) {
		struct lp_route_entry r;

		route_from_win(&table->Table[i], &r);
		rc = fn(user, &r);
		if (rc != 0)
			goto out;
	}
out:
	if (table != NULL)
		WIN_FN(w, F_FREE_MIB_TABLE, free_mib_fn)(table);
	return rc;
}

static int w_create_route(void *ctx, const struct lp_route_entry *route)
{
	struct route_win *w = ctx;
	MIB_IPFORWARD_ROW2 row;
	int rc;

	if ((rc = need(w, F_CREATE_IP_FORWARD_ENTRY2)) != 0)
		return rc;
	route_to_win(route, &row);
	return map_err(w, fn_names[F_CREATE_IP_FORWARD_ENTRY2],
	               WIN_FN(w, F_CREATE_IP_FORWARD_ENTRY2, fwd_entry_fn)(&row));
}

static int w_delete_route(void *ctx, const struct lp_route_entry *route)
{
	struct route_win *w = ctx;
	MIB_IPFORWARD_ROW2 row;
	int rc;

	if ((rc = need(w, F_DELETE_IP_FORWARD_ENTRY2)) != 0)
		return rc;
	route_to_win(route, &row);
	return map_err(w, fn_names[F_DELETE_IP_FORWARD_ENTRY2],
	               WIN_FN(w, F_DELETE_IP_FORWARD_ENTRY2, fwd_entry_fn)(&row));
}

static int w_list_unicast(void *ctx, uint32_t if_index, struct lp_route_addr *out, size_t cap,
                          size_t *total)
{
	struct route_win *w = ctx;
	PMIB_UNICASTIPADDRESS_TABLE table = NULL;
	int rc;

	*total = 0;
	if ((rc = need(w, F_GET_UNICAST_IP_ADDRESS_TABLE)) != 0 ||
	    (rc = need(w, F_FREE_MIB_TABLE)) != 0)
		return rc;
	rc = map_err(
	        w, fn_names[F_GET_UNICAST_IP_ADDRESS_TABLE],
	        WIN_FN(w, F_GET_UNICAST_IP_ADDRESS_TABLE, unicast_table_fn)(AF_UNSPEC, &table));
	if (rc != 0)
		goto out;
	for (ULONG i = 0; i < table->NumEntries; i++) {
		const MIB_UNICASTIPADDRESS_ROW *row = &table->Table[i];

		if (row->InterfaceIndex != if_index)
			continue;
		if (*total < cap)
			addr_from_win(&row->Address, &out[*total]);
		(*total)++;
	}
out:
	if (table != NULL)
		WIN_FN(w, F_FREE_MIB_TABLE, free_mib_fn)(table);
	return rc;
}

static int w_guid_to_luid(void *ctx, const struct lp_route_guid *guid, uint64_t *luid)
{
	struct route_win *w = ctx;
	GUID g;
	NET_LUID l;
	int rc;

	*luid = 0;
	if ((rc = need(w, F_CONVERT_INTERFACE_GUID_TO_LUID)) != 0)
		return rc;
	g.Data1 = guid->data1;
	g.Data2 = guid->data2;
	g.Data3 = guid->data3;
	memcpy(g.Data4, guid->data4, sizeof(g.Data4));
	l.Value = 0;
	rc = map_err(w, fn_names[F_CONVERT_INTERFACE_GUID_TO_LUID],
	             WIN_FN(w, F_CONVERT_INTERFACE_GUID_TO_LUID, guid_to_luid_fn)(&g, &l));
	/* An unknown GUID is reported as an invalid parameter; to the caller it is "no such
	 * adapter". */
	if (rc == LP_ERR_INVAL)
		rc = LP_ERR_NOT_FOUND;
	if (rc == 0)
		*luid = l.Value;
	return rc;
}

static int w_luid_to_index(void *ctx, uint64_t luid, uint32_t *if_index)
{
	struct route_win *w = ctx;
	NET_LUID l;
	NET_IFINDEX idx = 0;
	int rc;

	*if_index = 0;
	if ((rc = need(w, F_CONVERT_INTERFACE_LUID_TO_INDEX)) != 0)
		return rc;
	l.Value = luid;
	rc = map_err(w, fn_names[F_CONVERT_INTERFACE_LUID_TO_INDEX],
	             WIN_FN(w, F_CONVERT_INTERFACE_LUID_TO_INDEX, luid_to_index_fn)(&l, &idx));
	if (rc == 0)
		*if_index = idx;
	return rc;
}

static const struct lp_route_ops win_ops = {
	.get_best_route = w_get_best_route,
	.get_ip_interface = w_get_ip_interface,
	.set_ip_interface = w_set_ip_interface,
	.list_routes = w_list_routes,
	.create_route = w_create_route,
	.delete_route = w_delete_route,
	.list_unicast = w_list_unicast,
	.guid_to_luid = w_guid_to_luid,
	.luid_to_index = w_luid_to_index,
};

static void win_close(struct lp_route *rt)
{
	struct route_win *w = rt->ctx;

	if (w == NULL)
		return;
	if (w->dll != NULL)
		FreeLibrary(w->dll);
	free(w);
}

int lp_route_open(struct lp_route *rt, const struct lp_logger *log)
{
	struct route_win *w;
	char missing[256] = "";
	size_t used = 0;

	lp_route_init_ops(rt, NULL, NULL, log);
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return LP_ERR_NOMEM;
	w->log = log;
	/* LoadLibrary (not GetModuleHandle) so the module stays loaded until close. */
	w->dll = LoadLibraryA("iphlpapi.dll");
	if (w->dll == NULL) {
		lp_log(log, LP_LOG_ERROR, "route: cannot load iphlpapi.dll: Windows error %lu",
		       (unsigned long)GetLastError());
		free(w);
		return LP_ERR_UNSUPPORTED;
	}
	for (int i = 0; i < F_COUNT; i++) {
		w->fn[i] = GetProcAddress(w->dll, fn_names[i]);
		if (w->fn[i] == NULL && used < sizeof(missing)) {
			int n = snprintf(missing + used, sizeof(missing) - used, "%s%s",
			                 used > 0 ? ", " : "", fn_names[i]);

			if (n > 0)
				used += (size_t)n;
		}
	}
	if (used > 0)
		lp_log(log, LP_LOG_INFO,
		       "route: iphlpapi.dll lacks %s; route calls needing them will report "
		       "\"not supported\"",
		       missing);
	lp_route_init_ops(rt, &win_ops, w, log);
	rt->close = win_close;
	return 0;
}
