/*
 * bridge.h - the gateway's frame path on one event loop:
 *
 *   LAN (capture) --recvmmsg batch--> [truncated? loop? GSO/csum -> segments]
 *       --lp_client_runner_send_frame--> relay; one runner flush per batch
 *   relay --frame callback--> lp_capture_queue (bytes unchanged), CAM touch
 *       --one lp_capture_flush at the end of the loop iteration--> LAN
 *   CAM timer --due refresh frames--> LAN
 *
 * The session half (send, flush, drop counts, the status period) is the
 * frame pump of lib/client-core, as for the clients; the LAN half reads
 * batches, so it is the bridge's own.
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

#include "boot.h"
#include "cam.h"
#include "capture.h"
#include "lp_loop.h"

/* The gateway's state: the command line's choices, then what the run
 * opened (the packet socket at step 4, the bridge at step 6). */
struct lp_gateway {
	const char *iface;        /* --iface (borrowed) */
	uint64_t cam_interval_ns; /* 0: LP_CAM_DEFAULT_INTERVAL_NS */
	struct lp_capture *cap;

	struct lp_boot *boot; /* from step 6 on: loop, log, the runner's events, the pump */
	struct lp_cam cam;
	uint64_t cam_armed_at; /* deadline the CAM timer is armed for; UINT64_MAX: none */
	struct lp_loop_timer cam_timer;
	struct lp_loop_timer flush_timer; /* end-of-iteration LAN flush */
	bool lan_want_write;
	bool watching;

	/* Session state for logs and the status line. */
	bool admitted;
	uint32_t peer_id;
	uint32_t mtu;

	/* The bridge's own counters (the session and the pump count the drops). */
	struct {
		uint64_t lan_rx;        /* frames read from the LAN */
		uint64_t segments;      /* wire frames made by lp_gso_segment */
		uint64_t cam_refreshes; /* CAM refresh frames sent */
	} st;
	struct lp_log_ratelimit rl_drop; /* GSO failures */
	struct lp_log_ratelimit rl_io;

	struct lp_capture_frame frames[LP_CAPTURE_RX_BATCH];
	uint8_t scratch[LP_CAPTURE_FRAME_ROOM];
};

/*
 * The peer table, for an app whose user is a struct lp_gateway: step 4 opens
 * the packet socket on iface (the tunnel MAC is the interface's), step 6
 * starts the bridge on it; the session's frames and events go to the
 * bridge; the status line follows admissions and the pump's period.
 */
extern const struct lp_boot_peer lp_bridge_peer;

#endif /* LP_GATEWAY_BRIDGE_H */
