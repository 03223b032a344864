/*
 * bridge.h - the gateway's frame path on one event loop:
 *
 *   LAN (capture) --recvmmsg batch--> [truncated? loop? GSO/csum -> segments]
 *       --lp_client_runner_send_frame--> relay; one runner flush per batch
 *   relay --frame callback--> lp_capture_queue (bytes unchanged), CAM touch
 *       --one lp_capture_flush at the end of the loop iteration--> LAN
 *   CAM timer --due refresh frames--> LAN
 *
 * It also owns the relay session's events (logged one readable line each,
 * peer lifecycle feeding the CAM table) and the periodic status line.
 * Frames the session refuses are counted and logged (rate-limited), and
 * never stop the bridge.
 */
#ifndef LP_GATEWAY_BRIDGE_H
#define LP_GATEWAY_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "lp_base.h"
#include "lp_client.h"
#include "lp_loop.h"
#include "lp_obs.h"

struct lp_bridge;

struct lp_bridge_cfg {
	const char *room;            /* for log lines (borrowed) */
	uint64_t cam_interval_ns;    /* 0: LP_CAM_DEFAULT_INTERVAL_NS */
	uint64_t status_interval_ns; /* status line period; 0: 10 s */
};

/* The bridge's own counters (the session counts what it refuses itself). */
struct lp_bridge_stats {
	uint64_t lan_rx;        /* frames read from the LAN */
	uint64_t lan_tx;        /* frames queued toward the LAN */
	uint64_t segments;      /* wire frames made by lp_gso_segment */
	uint64_t cam_refreshes; /* CAM refresh frames sent */
	uint64_t drops[LP_DROP__COUNT];
};

/*
 * Creates the bridge on loop for capture (both borrowed) and starts
 * watching the capture socket. Frames read before lp_bridge_set_runner are
 * dropped as not_ready. Errors: LP_ERR_NOMEM, LP_ERR_INVAL, LP_ERR_IO.
 */
int lp_bridge_new(struct lp_loop *loop, struct lp_capture *cap, const struct lp_bridge_cfg *cfg,
                  const struct lp_logger *log, struct lp_bridge **out) LP_WUR;
/* Stops watching and frees. Accepts NULL. */
void lp_bridge_del(struct lp_bridge *b);

/* Callbacks to hand to lp_client_runner_new with user = the bridge. */
const struct lp_client_cbs *lp_bridge_client_cbs(void);
/* The runner the bridge sends through (NULL detaches it). */
void lp_bridge_set_runner(struct lp_bridge *b, struct lp_client_runner *r);

/* True once the runner gave up (STOPPED); the bridge stopped the loop. */
bool lp_bridge_failed(const struct lp_bridge *b);
/* Logs the status line now. */
void lp_bridge_log_status(struct lp_bridge *b);

#endif /* LP_GATEWAY_BRIDGE_H */
