/*
 * lp_tap.h - the client's TAP adapter, one interface for every platform.
 *
 * Backends, chosen by the build: tap_linux.c (/dev/net/tun, IFF_TAP |
 * IFF_NO_PI) and tap_windows.c (a TAP-Windows6 adapter through its device
 * handle and driver IOCTLs).
 *
 * Frames are whole Ethernet frames without FCS, one per read or write. The
 * Linux backend sets no IFF_VNET_HDR, so the kernel hands over frames that
 * are already segmented and checksummed: what a wire would carry.
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
};

struct lp_tap_info {
	char name[LP_TAP_NAME_MAX]; /* interface / adapter name */
	char id[LP_TAP_NAME_MAX];   /* Windows: {NetCfgInstanceId}; Linux: "" */
	unsigned ifindex;           /* OS interface index */
	struct lp_mac mac;
	uint32_t mtu;
	bool up; /* Linux: IFF_UP; Windows: media connected */
};

/*
 * Creates or opens the adapter, applies cfg->mac and cfg->mtu, and leaves it
 * down. Non-blocking I/O. Errors: LP_ERR_INVAL (name too long, MAC not a
 * unicast identity), LP_ERR_MTU_RANGE, LP_ERR_NOT_FOUND (no TAP driver /
 * adapter), LP_ERR_PERM (not privileged), LP_ERR_NOMEM, LP_ERR_IO.
 */
int lp_tap_open(const struct lp_tap_config *cfg, struct lp_tap **out) LP_WUR;

/* Closes the adapter (Linux: the non-persistent interface disappears).
 * Accepts NULL. */
void lp_tap_close(struct lp_tap *t);

/* Brings the link up / down (Windows: media connected / disconnected).
 * LP_ERR_PERM, LP_ERR_IO. */
int lp_tap_set_up(struct lp_tap *t, bool up) LP_WUR;

/* Changes the MTU. LP_ERR_MTU_RANGE, LP_ERR_PERM, LP_ERR_IO. */
int lp_tap_set_mtu(struct lp_tap *t, uint32_t mtu) LP_WUR;

/*
 * Reads one frame into buf. Returns its length, LP_ERR_AGAIN when none is
 * waiting, LP_ERR_TRUNCATED when it did not fit cap (the frame is lost:
 * drop and count; pass cap >= LP_ETH_HDR_LEN + LP_ETH_VLAN_TAG_LEN + MTU),
 * LP_ERR_IO.
 */
ssize_t lp_tap_read(struct lp_tap *t, uint8_t *buf, size_t cap) LP_WUR;

/*
 * Writes one frame. Returns len, LP_ERR_AGAIN when the driver queue is full
 * (drop and count), LP_ERR_INVAL (shorter than an Ethernet header),
 * LP_ERR_IO (e.g. larger than the MTU allows).
 */
ssize_t lp_tap_write(struct lp_tap *t, const uint8_t *frame, size_t len) LP_WUR;

/* What the event loop waits on for reads. */
lp_tap_handle lp_tap_get_handle(const struct lp_tap *t);

/* Current name, index, MAC, MTU and state, read from the OS. LP_ERR_IO. */
int lp_tap_get_info(const struct lp_tap *t, struct lp_tap_info *out) LP_WUR;

/*
 * The adapter's first IPv4 address as text ("10.77.0.23"), or "" when it
 * has none yet (e.g. DHCP still pending). For diagnostics. Errors:
 * LP_ERR_NOBUF (cap too small for the text), LP_ERR_IO.
 */
int lp_tap_ipv4(const struct lp_tap *t, char *out, size_t cap) LP_WUR;

#endif /* LP_TAP_H */
