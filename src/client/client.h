/*
 * client.h - the Linux client's hooks on the startup order and run of
 * src/common/boot.h: the TAP adapter, created while root with a default
 * MTU, then given the room MTU and brought up at the welcome with the one
 * capability the drop keeps; its frames move through the pump of
 * lib/client-core; the status lines.
 */
#ifndef LP_LINUX_CLIENT_H
#define LP_LINUX_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "boot.h"
#include "lp_tap.h"

/* The client's state: --tap, then what the run opened. */
struct lp_lclient {
	const char *tap_arg; /* --tap (borrowed) */
	char tap_name[LP_TAP_NAME_MAX];
	struct lp_tap *tap;
	uint32_t tap_mtu;
	bool up;
};

/* The peer table, for an app whose user is a struct lp_lclient. */
extern const struct lp_boot_peer lp_lclient_peer;

#endif /* LP_LINUX_CLIENT_H */
