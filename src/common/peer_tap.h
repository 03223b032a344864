/*
 * peer_tap.h - a TAP adapter of lib/client-tap as a frame device of the
 * pump (lib/client-core): what both clients hand to lp_pump_attach.
 */
#ifndef LP_PEER_TAP_H
#define LP_PEER_TAP_H

#include "lp_client.h"

/* dev is the struct lp_tap. */
extern const struct lp_pump_dev_ops lp_peer_tap_ops;

#endif /* LP_PEER_TAP_H */
