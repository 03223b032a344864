/*
 * lp_tap.h - the client's TAP adapter, one interface for every platform.
 *
 * Backends, chosen by the build: tap_linux.c (/dev/net/tun, IFF_TAP |
 * IFF_NO_PI) and tap_windows.c (a TAP-Windows6 adapter through its device
 * handle and driver IOCTLs).
 *
 * Frames are whole Ethernet frames without FCS, one per read or write:
 * what a wire would carry, segmented and checksummed. The Linux backend
 * asks the kernel for IFF_VNET_HDR and TSO/checksum offloads, so a read
 * may take a 64 KB super-frame, which it segments once (lp_gso.h) and
 * returns segment by segment on this and the next reads; with
 * cfg->coalesce it also merges the TCP segments written into one super-
 * frame per flow, written by lp_tap_flush. lp_tap_info.offloads says what
 * the kernel took (nothing on an old kernel: frames one by one as before).
 *
 * Configuration (MAC, MTU, up) needs privileges (CAP_NET_ADMIN on Linux):
 * do it all before dropping them. Reading and writing do not.
 */
#ifndef LP_TAP_H
#define LP_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lp_base.h"
#include "lp_proto.h"

/* The event-loop handle of an adapter, what the loop waits on. Linux: the
 * fd, readable when a frame waits. Windows: a HANDLE (cast) of an event set
 * when a pending read completes. */
typedef intptr_t lp_tap_handle;

#define LP_TAP_NAME_MAX 64

struct lp_tap;

struct lp_tap_config {
	/* Linux: interface name ("" or NULL: the kernel picks "tapN").
	 * Windows: adapter name or {GUID}; NULL: the first TAP-Windows6 adapter. */
	const char *name;
	/* MAC to give the adapter at creation (NULL: keep the driver's).
	 * Linux: SIOCSIFHWADDR while down; Windows: the NetworkAddress registry
	 * value, written before the device is opened. */
	const struct lp_mac *mac;
	uint32_t mtu; /* 0: keep the default; else LP_MTU_MIN..LP_MTU_MAX */
	/* For tests only (Windows; ignored on Linux). NULL: the adapter's
	 * device \\.\Global\{GUID}.tap. Else open this path instead, after the
	 * same adapter lookup and NetworkAddress write: a message-mode named
	 * pipe (tests/wine/tap_pipe_server.c) stands in for the driver, which
	 * does not exist under Wine. The driver IOCTLs then report
	 * LP_ERR_UNSUPPORTED. */
	const char *device_path;
	/* Linux: no IFF_VNET_HDR and no offloads (benchmarks' baseline). */
	bool no_offload;
	/* Linux, with offloads: lp_tap_write may hold TCP segments to coalesce
	 * them; the caller calls lp_tap_flush at the end of each batch of
	 * writes. False: every write goes to the kernel at once. Windows:
	 * ignored. */
	bool coalesce;
	/* Linux, with coalesce: every frame written was authenticated end to
	 * end (a private room's sealed frames), so coalescing skips the
	 * per-segment checksum checks (lp_gro in lp_gso.h says why that is
	 * sound). Windows: ignored. */
	bool authenticated;
};

/* lp_tap_info.offloads */
#define LP_TAP_OFFLOAD_VNET 0x01     /* IFF_VNET_HDR on */
#define LP_TAP_OFFLOAD_CSUM 0x02     /* partial checksums completed here */
#define LP_TAP_OFFLOAD_TSO4 0x04     /* TCP/IPv4 super-frames segmented here */
#define LP_TAP_OFFLOAD_TSO6 0x08     /* TCP/IPv6 */
#define LP_TAP_OFFLOAD_USO 0x10      /* UDP (Linux 6.2) */
#define LP_TAP_OFFLOAD_COALESCE 0x20 /* writes coalesced until lp_tap_flush */

struct lp_tap_info {
	char name[LP_TAP_NAME_MAX]; /* interface / adapter name */
	char id[LP_TAP_NAME_MAX];   /* Windows: {NetCfgInstanceId}; Linux: "" */
	unsigned ifindex;           /* OS interface index */
	struct lp_mac mac;
	uint32_t mtu;
	bool up;           /* Linux: IFF_UP; Windows: media connected */
	unsigned offloads; /* LP_TAP_OFFLOAD_*; 0 on Windows */
};

/*
 * Creates or opens the adapter, applies cfg->mac and cfg->mtu, and leaves it
 * down. Non-blocking I/O. Errors: LP_ERR_INVAL (name too long, MAC not a
 * unicast identity), LP_ERR_MTU_RANGE, LP_ERR_NOT_FOUND (no TAP driver /
 * adapter), LP_ERR_PERM (not privileged), LP_ERR_NOMEM, LP_ERR_IO.
 *
 * Windows: picks the adapter from the registry (ComponentId tap0901 or
 * root\tap0901; cfg->name matches the connection name or the {GUID}, case
 * insensitive, braces optional), writes cfg->mac as its NetworkAddress value
 * (the driver reads it only when the adapter is initialised: compare
 * lp_tap_get_info's MAC), then opens the device. LP_ERR_NOT_FOUND: no such
 * adapter (lp_tap_list tells "none installed" from "name not found") or its
 * device is missing (adapter disabled). cfg->mtu is only range-checked: the
 * driver's MTU is fixed when the adapter initialises, and the IP MTU belongs
 * to lib/client-route (lp_route_scope_set_mtu).
 */
int lp_tap_open(const struct lp_tap_config *cfg, struct lp_tap **out) LP_WUR;

/* Closes the adapter (Linux: the non-persistent interface disappears).
 * Accepts NULL. */
void lp_tap_close(struct lp_tap *t);

/* Brings the link up / down (Windows: media connected / disconnected).
 * LP_ERR_PERM, LP_ERR_IO; Windows: LP_ERR_UNSUPPORTED when the device does
 * not answer the driver IOCTL (only cfg->device_path stand-ins). */
int lp_tap_set_up(struct lp_tap *t, bool up) LP_WUR;

/* Changes the MTU. LP_ERR_MTU_RANGE, LP_ERR_PERM, LP_ERR_IO. Windows: always
 * LP_ERR_UNSUPPORTED after the range check (see lp_tap_open). */
int lp_tap_set_mtu(struct lp_tap *t, uint32_t mtu) LP_WUR;

/*
 * Reads one frame into buf. Returns its length, LP_ERR_AGAIN when none is
 * waiting, LP_ERR_TRUNCATED when it did not fit cap (the frame is lost:
 * drop and count; pass cap >= LP_ETH_HDR_LEN + LP_ETH_VLAN_TAG_LEN + MTU),
 * LP_ERR_IO. Linux with offloads: segments of a super-frame read earlier
 * come first, without a syscall; a super-frame the segmenter refuses (or
 * the part of it past 1,024 segments) is lost as LP_ERR_TRUNCATED.
 *
 * Windows: one overlapped read is always in flight; a call collects it when
 * it completed (else LP_ERR_AGAIN) and starts the next, so the handle's
 * event stays set while frames wait. LP_ERR_IO is sticky there (the device
 * went away): close the adapter.
 */
ssize_t lp_tap_read(struct lp_tap *t, uint8_t *buf, size_t cap) LP_WUR;

/*
 * Writes one frame. Returns len, LP_ERR_AGAIN when the driver queue is full
 * (drop and count), LP_ERR_INVAL (shorter than an Ethernet header),
 * LP_ERR_IO (e.g. larger than the MTU allows). With cfg->coalesce a TCP
 * segment may be held (len returned) to join the next ones; any frame that
 * cannot join is written after the held ones, so order is kept.
 */
ssize_t lp_tap_write(struct lp_tap *t, const uint8_t *frame, size_t len) LP_WUR;

/*
 * Writes what lp_tap_write holds (one syscall per coalesced flow run).
 * Returns the number of frames held earlier whose write failed since the
 * last call (count them as dropped), usually 0. No-op without
 * cfg->coalesce, and on Windows (which writes every frame at once).
 */
uint64_t lp_tap_flush(struct lp_tap *t);

/* What the event loop waits on for reads. */
lp_tap_handle lp_tap_get_handle(const struct lp_tap *t);

/*
 * Current name, index, MAC, MTU and state, read from the OS. LP_ERR_IO.
 * Windows: mac and mtu are what the driver reports (GET_MAC, GET_MTU), id is
 * the {GUID} (lib/client-route turns it into the LUID), ifindex and up come
 * from GetAdaptersAddresses (0 / media state last set when it does not list
 * the adapter). LP_ERR_UNSUPPORTED when the device does not answer the
 * driver IOCTLs (cfg->device_path stand-ins): the other fields are filled,
 * mac and mtu are zero.
 */
int lp_tap_get_info(const struct lp_tap *t, struct lp_tap_info *out) LP_WUR;

/*
 * The adapter's first IPv4 address as text ("10.77.0.23"), or "" when it
 * has none yet (e.g. DHCP still pending). For diagnostics. Errors:
 * LP_ERR_NOBUF (cap too small for the text), LP_ERR_IO.
 */
int lp_tap_ipv4(const struct lp_tap *t, char *out, size_t cap) LP_WUR;

/* One installed TAP adapter, as lp_tap_list reports it. */
struct lp_tap_adapter {
	char name[LP_TAP_NAME_MAX]; /* connection name (UTF-8, may be cut), or "" */
	char id[LP_TAP_NAME_MAX];   /* {NetCfgInstanceId} */
};

/*
 * Windows only (the Linux backend creates its interface: nothing to list).
 * The installed TAP-Windows6 adapters, in registry order, the one lp_tap_open
 * picks for a NULL name first. Fills min(cap, total) entries of out and sets
 * *total; 0 adapters means the driver is not installed. LP_ERR_NOT_FOUND
 * (no network adapter class key at all), LP_ERR_PERM, LP_ERR_IO.
 */
int lp_tap_list(struct lp_tap_adapter *out, size_t cap, size_t *total) LP_WUR;

#endif /* LP_TAP_H */
