/*
 * client.h - the Linux client's run phase on one event loop: relay session
 * events (logged one readable line each), the TAP adapter created once the
 * relay admitted us (so its MTU is the room MTU), the privilege drop right
 * after, the frame path TAP <-> session, and the status lines.
 *
 *   TAP --read until EAGAIN--> lp_client_runner_send_frame ... one flush
 *   session frame --> lp_tap_write (one frame per write)
 */
#ifndef LP_LINUX_CLIENT_H
#define LP_LINUX_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "lp_base.h"
#include "lp_client.h"
#include "lp_loop.h"
#include "lp_proto.h"

struct lp_lclient;

struct lp_lclient_cfg {
	const char *tap_name;        /* borrowed */
	struct lp_mac mac;           /* the TAP's MAC: the tunnel identity */
	const char *user;            /* privilege drop target (borrowed) */
	uint64_t status_interval_ns; /* 0: 10 s */
};

/* Errors: LP_ERR_INVAL, LP_ERR_NOMEM. Nothing is opened yet. */
int lp_lclient_new(struct lp_loop *loop, const struct lp_lclient_cfg *cfg,
                   const struct lp_logger *log, struct lp_lclient **out) LP_WUR;
/* Closes the TAP (the interface disappears) and frees. Accepts NULL. */
void lp_lclient_del(struct lp_lclient *c);

/* Callbacks for lp_client_runner_new with user = the client. */
const struct lp_client_cbs *lp_lclient_cbs(void);
/* The runner frames go to (NULL detaches it). */
void lp_lclient_set_runner(struct lp_lclient *c, struct lp_client_runner *r);

/* True after a fatal failure (TAP creation, privilege drop, the runner
 * gave up); the loop was stopped. */
bool lp_lclient_failed(const struct lp_lclient *c);
/* Logs the status lines now. */
void lp_lclient_log_status(struct lp_lclient *c);

#endif /* LP_LINUX_CLIENT_H */
