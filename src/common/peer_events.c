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

static struct lp_client *session_of(const struct lp_peer_events *pe)
{
	return pe->runner != NULL ? lp_client_runner_session(pe->runner) : NULL;
}

void lp_peer_events_counters(const struct lp_peer_events *pe, const uint64_t *drops,
                             struct lp_counters *out)
{
	struct lp_client *s = session_of(pe);
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
	struct lp_client *s = session_of(pe);

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

	/* The TAP lines speak of an adapter in use: absent or down is how a
	 * TAP waiting for the welcome is, by design. */
	if (e->tap_pending &&
	    (strncmp(line, "tap: ", 5) == 0 || strncmp(line, "warning: no TAP", 15) == 0 ||
	     strncmp(line, "warning: TAP", 12) == 0))
		return;
	lp_log(e->log, LP_LOG_INFO, "%s", line);
}

void lp_peer_status_log(struct lp_peer_events *pe, const struct lp_obs_diag *d, bool tap_pending)
{
	struct status_emit e = { .log = pe->log, .tap_pending = tap_pending };

	lp_obs_diag_lines(d, pe->have_prev ? &pe->prev : NULL, emit_line, &e);
	pe->prev = *d;
	pe->have_prev = true;
}
