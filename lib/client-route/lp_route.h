/*
 * lp_route.h - the Windows route-table boundary of the Windows client.
 *
 * Read-only lookups (best route for the relay, adapter GUID -> interface,
 * unicast address snapshots) and scoped overrides that are undone when the
 * scope ends (TAP MTU, TAP interface metric, TAP default-route suppression,
 * a host route pinning the relay to the pre-TAP interface).
 *
 * Every system call sits behind struct lp_route_ops. lp_route_open() binds
 * the platform table (route_windows.c: iphlpapi resolved at run time;
 * route_unsupported.c elsewhere); lp_route_init_ops() binds any other table,
 * which is how the unit tests drive all the logic with fakes. All logic
 * (scoping, restore order, pin checks) lives in route_scope.c.
 *
 * Addresses are family + network-order bytes, never sockaddrs, so this
 * header is the same on every platform.
 */
#ifndef LP_ROUTE_H
#define LP_ROUTE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"

/* Room for any formatted address, including "%<scope id>" (e.g. fe80::1%12). */
#define LP_ROUTE_ADDR_STRLEN 64
/* Undo steps one scope can hold (each family and each deleted route is one step). */
#define LP_ROUTE_SCOPE_MAX 32
/* Route metric offset of the pinned relay host route. */
#define LP_ROUTE_PIN_METRIC 1
/* MIB_IPPROTO_NETMGMT: a static route added by management (ours). */
#define LP_ROUTE_PROTO_NETMGMT 3
/* ValidLifetime / PreferredLifetime meaning "never expires". */
#define LP_ROUTE_LIFETIME_INFINITE UINT32_C(0xffffffff)

enum lp_route_family { LP_ROUTE_INET = 4, LP_ROUTE_INET6 = 6 };

/* An IP address; bytes in network order, only the first 4 used for IPv4. */
struct lp_route_addr {
	uint8_t family; /* enum lp_route_family; 0 = unset */
	uint8_t bytes[16];
	uint32_t scope_id; /* IPv6 zone (interface index) of link-local addresses, else 0 */
};

/* A Windows GUID with the same field layout (adapter NetCfgInstanceId). */
struct lp_route_guid {
	uint32_t data1;
	uint16_t data2;
	uint16_t data3;
	uint8_t data4[8];
};

/* Result of a best-route lookup (GetBestRoute2 + the interface metric). */
struct lp_route_best {
	struct lp_route_addr dest;     /* the address looked up */
	struct lp_route_addr source;   /* source address the stack would pick */
	struct lp_route_addr next_hop; /* all-zero bytes when the destination is on-link */
	uint32_t if_index;
	uint64_t if_luid;
	struct lp_route_addr prefix; /* destination prefix of the matched route */
	uint8_t prefix_len;
	uint32_t route_metric;
	uint32_t if_metric;   /* 0 when !if_metric_known */
	bool if_metric_known; /* false when the interface entry could not be read */
	uint32_t metric;      /* route_metric + if_metric, saturating */
};

/* The part of an IP interface entry (MIB_IPINTERFACE_ROW) this module touches. */
struct lp_route_ipif {
	uint8_t family; /* enum lp_route_family */
	uint32_t if_index;
	uint64_t if_luid;
	uint32_t mtu; /* NlMtu */
	bool automatic_metric;
	uint32_t metric;
};

/* A route (MIB_IPFORWARD_ROW2), with every field needed to re-create it. */
struct lp_route_entry {
	uint64_t if_luid;
	uint32_t if_index;
	struct lp_route_addr prefix;
	uint8_t prefix_len;
	struct lp_route_addr next_hop;
	uint8_t site_prefix_len;
	uint32_t valid_lifetime;
	uint32_t preferred_lifetime;
	uint32_t metric; /* route metric offset (the interface metric adds to it) */
	uint32_t protocol;
	uint32_t origin; /* read-only: ignored by create */
	bool loopback;
	bool autoconfigure_address;
	bool publish;
	bool immortal;
};

/* list_routes visitor: 0 to continue, a negative LP_ERR_* to stop with that error. */
typedef int (*lp_route_visit_fn)(void *user, const struct lp_route_entry *route);

/*
 * The system calls, one pointer each; every one returns 0 or a negative
 * LP_ERR_*. A NULL pointer means "not available" and makes the calls that
 * need it return LP_ERR_UNSUPPORTED. Implementations report a missing
 * system function as LP_ERR_UNSUPPORTED and a missing object (interface,
 * family not enabled on it, route) as LP_ERR_NOT_FOUND.
 */
struct lp_route_ops {
	/* Fills source, next_hop, if_index, if_luid, prefix, prefix_len, route_metric. */
	int (*get_best_route)(void *ctx, const struct lp_route_addr *dest,
	                      struct lp_route_best *out);
	/* Reads family's IP interface entry of if_index (NOT_FOUND: family not enabled). */
	int (*get_ip_interface)(void *ctx, enum lp_route_family family, uint32_t if_index,
	                        struct lp_route_ipif *out);
	/* Writes mtu, automatic_metric and metric of in->family's entry of in->if_index. */
	int (*set_ip_interface)(void *ctx, const struct lp_route_ipif *in);
	/* Calls fn for each route of family; stops at the first non-zero return. */
	int (*list_routes)(void *ctx, enum lp_route_family family, lp_route_visit_fn fn,
	                   void *user);
	int (*create_route)(void *ctx, const struct lp_route_entry *route);
	/* Deletes the route keyed by interface, prefix/length and next hop. */
	int (*delete_route)(void *ctx, const struct lp_route_entry *route);
	/* Writes up to cap unicast addresses of if_index to out, *total = how many exist. */
	int (*list_unicast)(void *ctx, uint32_t if_index, struct lp_route_addr *out, size_t cap,
	                    size_t *total);
	int (*guid_to_luid)(void *ctx, const struct lp_route_guid *guid, uint64_t *luid);
	int (*luid_to_index)(void *ctx, uint64_t luid, uint32_t *if_index);
};

/* A bound ops table. Caller storage; fields are private to this module. */
struct lp_route {
	const struct lp_route_ops *ops;
	void *ctx;
	const struct lp_logger *log;
	void (*close)(struct lp_route *rt);
};

/*
 * Binds the platform's route table (Windows: iphlpapi.dll, each function
 * resolved at run time; a function the system lacks is logged by name once
 * here at INFO, and each later call needing it logs its name and returns
 * LP_ERR_UNSUPPORTED instead of crashing). log may be NULL (silent) and must
 * outlive rt. Always leaves rt usable with the other calls and closable.
 * Returns 0, LP_ERR_NOMEM, or LP_ERR_UNSUPPORTED (iphlpapi.dll cannot be
 * loaded; on every non-Windows system: "route management is only available
 * on Windows", and every later call returns LP_ERR_UNSUPPORTED too).
 */
int lp_route_open(struct lp_route *rt, const struct lp_logger *log) LP_WUR;

/* Binds an arbitrary ops table (tests, other backends). ops and log must outlive rt. */
void lp_route_init_ops(struct lp_route *rt, const struct lp_route_ops *ops, void *ctx,
                       const struct lp_logger *log);

/* Releases what lp_route_open took. Accepts NULL and a zeroed or already closed rt. */
void lp_route_close(struct lp_route *rt);

/* Sets *a from family and 4 or 16 network-order bytes. LP_ERR_INVAL on a bad family. */
int lp_route_addr_set(struct lp_route_addr *a, enum lp_route_family family, const uint8_t *bytes,
                      uint32_t scope_id) LP_WUR;

/*
 * Formats a as dotted quad or RFC 5952 IPv6 text ("%scope" appended when
 * scope_id != 0). 0, LP_ERR_INVAL (unset family), LP_ERR_NOBUF (cap too
 * small; out is then an empty string if cap > 0).
 */
int lp_route_addr_format(const struct lp_route_addr *a, char *out, size_t cap) LP_WUR;

/* 1 when family and bytes match (scope ids too, when both are non-zero), else 0. */
int lp_route_addr_equal(const struct lp_route_addr *a, const struct lp_route_addr *b);

/*
 * Parses an adapter GUID "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" (braces
 * optional, hex digits in either case). 0 or LP_ERR_INVAL.
 */
int lp_route_guid_parse(const char *text, struct lp_route_guid *out) LP_WUR;

/*
 * Best route the system would use now for dest (IPv4 or IPv6). Also reads
 * the interface metric; if that read fails (e.g. unsupported under Wine) the
 * lookup still succeeds with if_metric_known = false and metric =
 * route_metric, and a WARN is logged. Returns 0, LP_ERR_INVAL (dest unset),
 * LP_ERR_NOT_FOUND (no route), LP_ERR_UNSUPPORTED, or another LP_ERR_* of
 * the system call.
 */
int lp_route_best(const struct lp_route *rt, const struct lp_route_addr *dest,
                  struct lp_route_best *out) LP_WUR;

/*
 * Interface LUID and index of the adapter whose GUID is guid
 * (ConvertInterfaceGuidToLuid + ConvertInterfaceLuidToIndex). Either out
 * pointer may be NULL. 0, LP_ERR_NOT_FOUND (no such adapter),
 * LP_ERR_UNSUPPORTED, or another LP_ERR_*.
 */
int lp_route_if_from_guid(const struct lp_route *rt, const struct lp_route_guid *guid,
                          uint32_t *if_index, uint64_t *luid) LP_WUR;

/*
 * Snapshot of the unicast addresses (IPv4 and IPv6) on if_index, formatted
 * into out[0..cap); *n is set to how many were written. Returns 0,
 * LP_ERR_INVAL (if_index 0 or out NULL with cap > 0), LP_ERR_NOBUF (more
 * addresses than cap: the first cap are still written), LP_ERR_UNSUPPORTED
 * or another LP_ERR_*. An interface without addresses gives 0 and *n = 0.
 */
int lp_route_unicast_list(const struct lp_route *rt, uint32_t if_index,
                          char (*out)[LP_ROUTE_ADDR_STRLEN], size_t cap, size_t *n) LP_WUR;

/*
 * What a pinned host route was made of; filled by lp_route_scope_pin and
 * checked by lp_route_pin_check.
 */
struct lp_route_pin {
	struct lp_route_addr dest; /* the relay IP */
	struct lp_route_addr next_hop;
	uint32_t if_index;
	uint64_t if_luid;
	bool preexisting; /* an identical route existed: it was left alone and is kept */
};

enum lp_route_undo_kind {
	LP_ROUTE_UNDO_MTU = 1,      /* set ipif.mtu back */
	LP_ROUTE_UNDO_METRIC,       /* set ipif.automatic_metric and ipif.metric back */
	LP_ROUTE_UNDO_ROUTE_CREATE, /* re-create a route we deleted */
	LP_ROUTE_UNDO_ROUTE_DELETE  /* delete a route we created */
};

/* One recorded override. Private to this module. */
struct lp_route_undo {
	enum lp_route_undo_kind kind;
	atomic_bool claimed; /* set by the one restore_all call that runs this step */
	struct lp_route_ipif ipif;
	struct lp_route_entry route;
};

/*
 * A set of overrides undone together, in reverse order, by
 * lp_route_scope_restore_all. Caller storage (about 4 KiB); fields private.
 *
 * Threads: overrides are added from one thread. restore_all may also run
 * from a console control (Ctrl-C) handler thread at the same time as from
 * the main thread: every step is claimed atomically, so each runs exactly
 * once, whichever caller gets it.
 */
struct lp_route_scope {
	const struct lp_route *rt;
	atomic_size_t n;
	struct lp_route_undo undo[LP_ROUTE_SCOPE_MAX];
};

/* Starts an empty scope over rt (which must outlive it). */
void lp_route_scope_init(struct lp_route_scope *s, const struct lp_route *rt);

/*
 * Sets the IP MTU (NlMtu) of if_index to mtu for IPv4 and IPv6, recording
 * each previous value. A family not enabled on the interface is skipped.
 * Returns 0 when at least one family was set; LP_ERR_INVAL (if_index or mtu
 * 0), LP_ERR_NOT_FOUND (neither family exists), LP_ERR_NOBUF (scope full),
 * LP_ERR_UNSUPPORTED, or another LP_ERR_*. On failure the families already
 * changed stay recorded: restore_all undoes them.
 */
int lp_route_scope_set_mtu(struct lp_route_scope *s, uint32_t if_index, uint32_t mtu) LP_WUR;

/*
 * Sets a fixed interface metric on if_index (UseAutomaticMetric = FALSE,
 * Metric = metric) for IPv4 and IPv6, recording the previous automatic flag
 * and metric of each. Same returns and partial-failure rule as set_mtu
 * (metric 0 is valid).
 */
int lp_route_scope_set_metric(struct lp_route_scope *s, uint32_t if_index, uint32_t metric) LP_WUR;

/*
 * Deletes every default route (0.0.0.0/0 and ::/0) on if_index, recording
 * each so restore_all re-creates it with all its fields. *had_default (may
 * be NULL) tells whether any existed, so the caller can warn "TAP default
 * routes were enabled before protection". May be called again later (e.g.
 * after DHCP on the TAP): it deletes and records only what is there now.
 * Returns 0, LP_ERR_INVAL, LP_ERR_NOBUF (more default routes than the scope
 * can record: nothing was deleted), LP_ERR_UNSUPPORTED, or another LP_ERR_*
 * (routes deleted before a failing delete stay recorded).
 */
int lp_route_scope_suppress_default_routes(struct lp_route_scope *s, uint32_t if_index,
                                           bool *had_default) LP_WUR;

/*
 * Pins a host route (/32 or /128) for via->dest to via's interface and next
 * hop; via is the best route looked up before the TAP came up. If an
 * identical route (same interface, prefix and next hop) already exists it is
 * left alone, pin->preexisting is set and restore will not remove it;
 * otherwise the created route is removed by restore_all. pin may be NULL.
 * Returns 0, LP_ERR_INVAL (via->dest unset or via->if_index 0), LP_ERR_NOBUF
 * (scope full), LP_ERR_UNSUPPORTED, or another LP_ERR_*.
 */
int lp_route_scope_pin(struct lp_route_scope *s, const struct lp_route_best *via,
                       struct lp_route_pin *pin) LP_WUR;

/*
 * Undoes every recorded override, newest first. A failing step is logged
 * (ERROR, with what it was restoring) and restore continues with the next.
 * Each step runs at most once: calling again (or concurrently, see above)
 * does nothing for steps already run. *failures (may be NULL) gets how many
 * steps failed in this call. Returns 0, or the error of the first step that
 * failed in this call.
 */
int lp_route_scope_restore_all(struct lp_route_scope *s, size_t *failures);

/*
 * Whether the relay still routes through the pinned route: looks up the
 * best route for pin->dest now and compares interface and next hop. *ok is
 * set, and why (may be NULL) gets a one-line explanation for the user.
 * Returns 0 (whatever *ok is), LP_ERR_INVAL, or the lookup's error (then
 * *ok = false and why says the lookup failed). The explanation is cut to
 * cap, never an error.
 */
int lp_route_pin_check(const struct lp_route *rt, const struct lp_route_pin *pin, bool *ok,
                       char *why, size_t cap) LP_WUR;

#endif /* LP_ROUTE_H */
