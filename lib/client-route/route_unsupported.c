/*
 * route_unsupported.c - lp_route_open for systems other than Windows. The
 * bound table answers every call with LP_ERR_UNSUPPORTED and says why, so a
 * caller that ignores the open error still gets a clear message.
 */
#include "lp_route.h"

#include <string.h>

static const char unsupported_msg[] = "route management is only available on Windows";

static int unsupported(void *ctx)
{
	lp_log(ctx, LP_LOG_WARN, "route: %s", unsupported_msg);
	return LP_ERR_UNSUPPORTED;
}

static int u_get_best_route(void *ctx, const struct lp_route_addr *dest, struct lp_route_best *out)
{
	(void)dest;
	(void)out;
	return unsupported(ctx);
}

static int u_get_ip_interface(void *ctx, enum lp_route_family family, uint32_t if_index,
                              struct lp_route_ipif *out)
{
	(void)family;
	(void)if_index;
	(void)out;
	return unsupported(ctx);
}

static int u_set_ip_interface(void *ctx, const struct lp_route_ipif *in)
{
	(void)in;
	return unsupported(ctx);
}

static int u_list_routes(void *ctx, enum lp_route_family family, lp_route_visit_fn fn, void *user)
{
	(void)family;
	(void)fn;
	(void)user;
	return unsupported(ctx);
}

static int u_route(void *ctx, const struct lp_route_entry *route)
{
	(void)route;
	return unsupported(ctx);
}

static int u_list_unicast(void *ctx, uint32_t if_index, struct lp_route_addr *out, size_t cap,
                          size_t *total)
{
	(void)if_index;
	(void)out;
	(void)cap;
	*total = 0;
	return unsupported(ctx);
}

static int u_guid_to_luid(void *ctx, const struct lp_route_guid *guid, uint64_t *luid)
{
	(void)guid;
	*luid = 0;
	return unsupported(ctx);
}

static int u_luid_to_index(void *ctx, uint64_t luid, uint32_t *if_index)
{
	(void)luid;
	*if_index = 0;
	return unsupported(ctx);
}

static const struct lp_route_ops unsupported_ops = {
	.get_best_route = u_get_best_route,
	.get_ip_interface = u_get_ip_interface,
	.set_ip_interface = u_set_ip_interface,
	.list_routes = u_list_routes,
	.create_route = u_route,
	.delete_route = u_route,
	.list_unicast = u_list_unicast,
	.guid_to_luid = u_guid_to_luid,
	.luid_to_index = u_luid_to_index,
};

int lp_route_open(struct lp_route *rt, const struct lp_logger *log)
{
	/* The logger is the ops context: the only state these functions need. */
	lp_route_init_ops(rt, &unsupported_ops, (void *)(uintptr_t)log, log);
	lp_log(log, LP_LOG_WARN, "route: %s", unsupported_msg);
	return LP_ERR_UNSUPPORTED;
}
