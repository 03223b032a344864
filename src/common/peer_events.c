/*
 * peer_events.c - the event lines and diagnostics every peer shares; see
 * peer_events.h.
 */
#include "peer_events.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void lp_peer_events_init(struct lp_peer_events *pe, const struct lp_logger *log)
{
	memset(pe, 0, sizeof(*pe));
	pe->log = log;
}

static void counters_add(struct lp_counters *to, const struct lp_counters *c)
{
	size_t i;

	to->frames_rx += c->frames_rx;
	to->frames_tx += c->frames_tx;
	to->datagrams_rx += c->datagrams_rx;
	to->datagrams_tx += c->datagrams_tx;
	to->bytes_rx += c->bytes_rx;
	to->bytes_tx += c->bytes_tx;
	to->broadcast_rx += c->broadcast_rx;
	for (i = 0; i < LP_DROP__COUNT; i++)
		to->drops[i] += c->drops[i];
}

enum lp_peer_action lp_peer_events_log(struct lp_peer_events *pe, struct lp_client *s,
                                       const struct lp_client_event *ev)
{
	enum lp_peer_action act = LP_PEER_ACT_NONE;
	char mac[LP_MAC_STR_LEN];

	switch (ev->type) {
	case LP_CLIENT_EV_CONNECTING:
	case LP_CLIENT_EV_CONNECTED:
		lp_log(pe->log, LP_LOG_INFO, "%s", ev->text);
		break;
	case LP_CLIENT_EV_WELCOME:
		break;
	case LP_CLIENT_EV_REJECTED:
		lp_log(pe->log, LP_LOG_ERROR, "%s", ev->text);
		break;
	case LP_CLIENT_EV_PEER_JOINED:
	case LP_CLIENT_EV_PEER_LEFT:
		if (ev->peer.role == LP_ROLE_GATEWAY) {
			lp_proto_mac_format(&ev->peer.mac, mac);
			lp_log(pe->log, LP_LOG_INFO, "%s; gateway MAC %s", ev->text, mac);
			act = LP_PEER_ACT_STATUS;
		} else {
			lp_log(pe->log, LP_LOG_INFO, "%s", ev->text);
		}
		break;
	case LP_CLIENT_EV_CLOSED:
		if (s != NULL)
			counters_add(&pe->past, lp_client_counters(s));
		pe->last_was_admitted = ev->was_admitted;
		snprintf(pe->last_close, sizeof(pe->last_close), "%s", ev->text);
		break;
	case LP_CLIENT_EV_RECONNECTING:
		if (pe->last_was_admitted) {
			lp_log(pe->log, LP_LOG_WARN, "relay lost (%s); %s", pe->last_close,
			       ev->text);
			act = LP_PEER_ACT_STATUS;
		} else {
			lp_log(pe->log, LP_LOG_WARN, "%s; %s", pe->last_close, ev->text);
		}
		pe->last_was_admitted = false;
		break;
	case LP_CLIENT_EV_STOPPED:
		lp_log(pe->log, LP_LOG_ERROR, "%s", ev->text);
		act = LP_PEER_ACT_FAILED;
		break;
	}
	return act;
}

struct lp_client *lp_peer_events_session(const struct lp_peer_events *pe)
{
	return pe->runner != NULL ? lp_client_runner_session(pe->runner) : NULL;
}

void lp_peer_events_counters(const struct lp_peer_events *pe, const uint64_t *drops,
                             struct lp_counters *out)
{
	struct lp_client *s = lp_peer_events_session(pe);
	size_t i;

	*out = pe->past;
	if (s != NULL)
		counters_add(out, lp_client_counters(s));
	for (i = 0; drops != NULL && i < LP_DROP__COUNT; i++)
		out->drops[i] += drops[i];
}

void lp_peer_events_diag(const struct lp_peer_events *pe, const uint64_t *drops,
                         struct lp_obs_diag *d)
{
	struct lp_client *s = lp_peer_events_session(pe);

	memset(d, 0, sizeof(*d));
	if (s != NULL)
		lp_client_fill_diag(s, d);
	lp_peer_events_counters(pe, drops, &d->counters);
	d->reconnects = pe->runner != NULL ? lp_client_runner_reconnects(pe->runner) : 0;
	d->route = LP_OBS_ROUTE_NA;
	d->tap = LP_OBS_TAP_ABSENT;
}

struct status_emit {
	const struct lp_logger *log;
	bool tap_pending;
};

static void emit_line(void *user, const char *line)
{
	const struct status_emit *e = user;

	if (e->tap_pending &&
	    (strncmp(line, "tap: no TAP", 11) == 0 || strncmp(line, "warning: no TAP", 15) == 0))
		return;
	lp_log(e->log, LP_LOG_INFO, "%s", line);
}

void lp_peer_status_lines(const struct lp_logger *log, const struct lp_obs_diag *d,
                          const struct lp_obs_diag *prev, bool tap_pending)
{
	struct status_emit e = { .log = log, .tap_pending = tap_pending };

	lp_obs_diag_lines(d, prev, emit_line, &e);
}

enum lp_drop_reason lp_peer_send_drop(int rc)
{
	switch (rc) {
	case LP_ERR_TOO_BIG:
	case LP_ERR_PAYLOAD_MAX:
		return LP_DROP_TOO_BIG;
	case LP_ERR_AGAIN:
		return LP_DROP_QUEUE_FULL;
	case LP_ERR_RUNT:
		return LP_DROP_MALFORMED;
	default:
		return LP_DROP_NONE;
	}
}

void lp_peer_log_drop(const struct lp_logger *log, struct lp_log_ratelimit *rl, uint64_t now,
                      enum lp_obs_dir dir, const uint8_t *frame, size_t len,
                      enum lp_drop_reason reason)
{
	enum lp_log_level level = reason == LP_DROP_NOT_READY ? LP_LOG_DEBUG : LP_LOG_INFO;
	struct lp_obs_frame_event ev;
	uint64_t suppressed = 0;
	char line[256];

	if (!lp_log_enabled(log, level) || !lp_log_ratelimit_ok(rl, now, &suppressed))
		return;
	memset(&ev, 0, sizeof(ev));
	ev.dir = dir;
	ev.peer_id = -1;
	ev.action = lp_obs_action_for(reason);
	ev.reason = reason;
	lp_obs_frame_event_from_frame(&ev, frame, len);
	if (lp_obs_frame_event_format(&ev, line, sizeof(line)) < 0)
		return;
	if (suppressed > 0)
		lp_log(log, level, "%s (%" PRIu64 " similar lines suppressed)", line, suppressed);
	else
		lp_log(log, level, "%s", line);
}
