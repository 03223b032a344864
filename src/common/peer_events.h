/*
 * peer_events.h - what every peer of a room (gateway, Linux client,
 * Windows client) does alike with its relay runner's events and
 * diagnostics: the log line of each event, the counters of finished
 * sessions, the status snapshot and its lines.
 */
#ifndef LP_PEER_EVENTS_H
#define LP_PEER_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lp_client.h"
#include "lp_obs.h"

/* Caller storage; lp_peer_events_init it, then read the fields freely. */
struct lp_peer_events {
	const struct lp_logger *log;
	struct lp_client_runner *runner; /* NULL until set */
	struct lp_counters past;         /* counters of finished sessions */
	char last_close[LP_CLIENT_TEXT_MAX];
	bool last_was_admitted;
	struct lp_obs_diag prev; /* the last status snapshot logged */
	bool have_prev;
};

void lp_peer_events_init(struct lp_peer_events *pe, const struct lp_logger *log);

/* What the caller should do after lp_peer_events_log. */
enum lp_peer_action {
	LP_PEER_ACT_NONE = 0,
	LP_PEER_ACT_STATUS, /* the room changed for the user: log the status lines */
	LP_PEER_ACT_FAILED  /* the runner gave up: stop */
};

/*
 * Logs ev and keeps the bookkeeping behind the lines:
 *  CONNECTING, CONNECTED: the text (INFO);
 *  WELCOME: nothing - each peer words its admission itself;
 *  REJECTED: the text (ERROR);
 *  PEER_JOINED / PEER_LEFT: the text (INFO); the session names clients by
 *    MAC, the gateway gets "; gateway MAC M" appended (and ACT_STATUS);
 *  CLOSED: adds the session's counters to past and remembers the close;
 *  RECONNECTING: "relay lost (CLOSE); TEXT" after an admitted session (and
 *    ACT_STATUS), else "CLOSE; TEXT" (WARN);
 *  STOPPED: the text (ERROR) and ACT_FAILED.
 */
enum lp_peer_action lp_peer_events_log(struct lp_peer_events *pe, struct lp_client *s,
                                       const struct lp_client_event *ev) LP_WUR;

/* Totals over every session: past + the live session + drops (the peer's
 * own drop counts, may be NULL). */
void lp_peer_events_counters(const struct lp_peer_events *pe, const uint64_t *drops,
                             struct lp_counters *out);

/*
 * The status snapshot of a TAP peer: the live session's diagnostics,
 * lp_peer_events_counters, the runner's reconnects, route not applicable
 * and tap absent (the caller fills in the TAP and the route).
 */
void lp_peer_events_diag(const struct lp_peer_events *pe, const uint64_t *drops,
                         struct lp_obs_diag *d);

/* Logs lp_obs_diag_lines(d, the previous snapshot) at INFO and keeps d as
 * the previous one. tap_pending: the TAP is not in use yet by design
 * (before the first welcome), so the generic TAP lines ("no TAP adapter",
 * "TAP adapter ... is down"), which would send the user looking for a
 * missing driver or a broken link, are left out. */
void lp_peer_status_log(struct lp_peer_events *pe, const struct lp_obs_diag *d, bool tap_pending);

#endif /* LP_PEER_EVENTS_H */
