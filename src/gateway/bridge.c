/*
 * bridge.c - the gateway's frame path; see bridge.h.
 *
 * Batching is what makes gigabit possible on two cores: one recvmmsg
 * fills up to 16 frames, every frame becomes a queued QUIC datagram, and
 * the runner writes them out once per batch with UDP GSO. The other way,
 * frames from the relay are queued into the capture's sendmmsg queue and
 * flushed once at the end of the loop iteration (a timer due "now" runs
 * after the fd callbacks of the same iteration).
 */
#include "bridge.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cam.h"
#include "gso.h"
#include "peer_events.h"

#define LAN_RX_ROUNDS 8 /* recvmmsg batches per readiness callback */
#define CAM_BATCH 16
#define STATUS_INTERVAL_DEFAULT (10 * LP_NS_PER_SEC)
#define LOG_BURST 10
#define LOG_INTERVAL LP_NS_PER_SEC

struct lp_bridge {
	struct lp_loop *loop;
	struct lp_capture *cap;
	struct lp_peer_events pe; /* the runner, finished sessions, event lines */
	const struct lp_logger *log;
	char room[LP_CTRL_ROOM_MAX + 1];
	uint64_t status_interval;

	struct lp_cam cam;
	struct lp_mac own;
	uint64_t cam_armed_at; /* deadline the CAM timer is armed for; UINT64_MAX: none */
	struct lp_loop_timer cam_timer;
	struct lp_loop_timer flush_timer; /* end-of-iteration LAN flush */
	struct lp_loop_timer status_timer;
	bool lan_want_write;
	bool failed;
	bool watching;

	/* Session state for logs and the status line. */
	bool admitted;
	uint32_t peer_id;
	uint32_t mtu;

	struct lp_bridge_stats st;
	struct lp_log_ratelimit rl_too_big;
	struct lp_log_ratelimit rl_drop;
	struct lp_log_ratelimit rl_io;

	/* The frame being bridged, for the drop log of its segments. */
	const struct lp_capture_frame *cur;
	struct lp_capture_frame frames[LP_CAPTURE_RX_BATCH];
	uint8_t scratch[LP_CAPTURE_FRAME_ROOM];
};

/* ---- Drop logging ------------------------------------------------------------ */

/*
 * One line per dropped frame, rate-limited per class: the frame event of
 * lib/obs plus the VLAN id when tagged and the budget it did not fit.
 * whole_len is the length of the whole frame (the wire length of a
 * truncated capture), never the length of a cut copy.
 */
static void log_drop(struct lp_bridge *b, enum lp_obs_dir dir, const uint8_t *frame, size_t len,
                     size_t whole_len, enum lp_drop_reason reason)
{
	struct lp_log_ratelimit *rl = reason == LP_DROP_TOO_BIG ? &b->rl_too_big : &b->rl_drop;
	enum lp_log_level level = LP_LOG_INFO;
	struct lp_obs_frame_event ev;
	struct lp_client *s;
	struct lp_eth eth;
	uint64_t suppressed = 0;
	char line[256], extra[96];
	size_t pos = 0;

	if (reason == LP_DROP_LOOP || reason == LP_DROP_NOT_READY)
		level = LP_LOG_DEBUG; /* expected in normal operation */
	if (!lp_log_enabled(b->log, level) ||
	    !lp_log_ratelimit_ok(rl, lp_loop_now(b->loop), &suppressed))
		return;
	memset(&ev, 0, sizeof(ev));
	ev.dir = dir;
	ev.peer_id = -1;
	ev.action = lp_obs_action_for(reason);
	ev.reason = reason;
	lp_obs_frame_event_from_frame(&ev, frame, len);
	ev.frame_len = whole_len;
	if (lp_obs_frame_event_format(&ev, line, sizeof(line)) < 0)
		return;
	extra[0] = '\0';
	if (len >= LP_ETH_HDR_LEN && lp_proto_eth_parse(frame, len, &eth) == 0 &&
	    eth.vlan_count > 0) {
		int n = snprintf(extra, sizeof(extra), " vlan=%u", (unsigned)eth.vlan_id[0]);

		if (n > 0)
			pos = (size_t)n;
	}
	s = lp_peer_events_session(&b->pe);
	if (reason == LP_DROP_TOO_BIG && s != NULL && pos < sizeof(extra))
		snprintf(extra + pos, sizeof(extra) - pos, " budget=%zu",
		         lp_client_datagram_budget(s));
	if (suppressed > 0)
		lp_log(b->log, level, "%s%s (%" PRIu64 " similar lines suppressed)", line, extra,
		       suppressed);
	else
		lp_log(b->log, level, "%s%s", line, extra);
}

static void count_drop(struct lp_bridge *b, enum lp_obs_dir dir, const uint8_t *frame, size_t len,
                       enum lp_drop_reason reason, bool session_counted)
{
	if (!session_counted)
		b->st.drops[reason]++;
	log_drop(b, dir, frame, len, len, reason);
}

/* ---- Relay -> LAN ------------------------------------------------------------- */

static void lan_flush(struct lp_bridge *b)
{
	int rc;

	if (b->lan_want_write)
		return;
	rc = lp_capture_flush(b->cap);
	if (rc == LP_ERR_AGAIN) {
		if (lp_loop_watch_mod(b->loop, lp_capture_fd(b->cap),
		                      LP_LOOP_READ | LP_LOOP_WRITE) == 0)
			b->lan_want_write = true;
	} else if (rc < 0) {
		uint64_t sup = 0;

		if (lp_log_ratelimit_ok(&b->rl_io, lp_loop_now(b->loop), &sup))
			lp_log(b->log, LP_LOG_WARN, "LAN send failed: %s", lp_strerror(rc));
	}
}

static void on_flush_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	(void)l;
	(void)t;
	lan_flush(arg);
}

static void lan_queue(struct lp_bridge *b, const uint8_t *frame, size_t len)
{
	int rc = lp_capture_queue(b->cap, frame, len);

	if (rc == 0) {
		b->st.lan_tx++;
	} else {
		enum lp_drop_reason r = rc == LP_ERR_AGAIN ? LP_DROP_QUEUE_FULL : LP_DROP_IO;

		count_drop(b, LP_OBS_DIR_FROM_RELAY, frame, len, r, false);
		return;
	}
	if (!lp_loop_timer_armed(&b->flush_timer) &&
	    lp_loop_timer_arm(b->loop, &b->flush_timer, lp_loop_now(b->loop)) < 0)
		lan_flush(b);
}

static void cam_rearm(struct lp_bridge *b)
{
	uint64_t d = lp_cam_next_deadline(&b->cam);

	if (d == UINT64_MAX) {
		lp_loop_timer_cancel(b->loop, &b->cam_timer);
		b->cam_armed_at = UINT64_MAX;
		return;
	}
	/* Entries only move later on their own (touch, collect); a timer that
	 * fires early finds nothing due and re-arms, which is cheaper than
	 * re-arming for every frame. */
	if (lp_loop_timer_armed(&b->cam_timer) && d >= b->cam_armed_at)
		return;
	if (lp_loop_timer_arm(b->loop, &b->cam_timer, d) == 0)
		b->cam_armed_at = d;
}

static void on_cam_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_bridge *b = arg;
	uint8_t frames[CAM_BATCH][LP_CAM_FRAME_LEN];
	uint64_t now = lp_loop_now(l);
	size_t n, i;

	(void)t;
	b->cam_armed_at = UINT64_MAX;
	do {
		n = lp_cam_collect(&b->cam, now, frames, CAM_BATCH);
		for (i = 0; i < n; i++) {
			if (lp_capture_queue(b->cap, frames[i], LP_CAM_FRAME_LEN) == 0)
				b->st.cam_refreshes++;
		}
	} while (n == CAM_BATCH);
	lan_flush(b);
	cam_rearm(b);
}

static void on_frame(struct lp_client *s, const uint8_t *frame, size_t len, void *user)
{
	struct lp_bridge *b = user;
	struct lp_mac src;

	(void)s;
	/* The session delivers parsed frames: at least an Ethernet header. */
	memcpy(src.b, frame + LP_MAC_LEN, LP_MAC_LEN);
	if (lp_cam_touch(&b->cam, &src, lp_loop_now(b->loop)) == 1)
		cam_rearm(b);
	lan_queue(b, frame, len);
}

/* ---- LAN -> relay -------------------------------------------------------------- */

static bool is_remote_client(const struct lp_bridge *b, const uint8_t *src)
{
	size_t i;

	for (i = 0; i < b->cam.count; i++)
		if (memcmp(b->cam.e[i].mac.b, src, LP_MAC_LEN) == 0)
			return true;
	return false;
}

static int send_wire_frame(void *user, const uint8_t *frame, size_t len)
{
	struct lp_bridge *b = user;
	int rc;

	if (lp_peer_events_session(&b->pe) == NULL) {
		count_drop(b, LP_OBS_DIR_TO_RELAY, frame, len, LP_DROP_NOT_READY, false);
		return 0;
	}
	rc = lp_client_runner_send_frame(b->pe.runner, frame, len);
	switch (rc) {
	case 0:
		break;
	case LP_ERR_TOO_BIG:
	case LP_ERR_PAYLOAD_MAX:
		count_drop(b, LP_OBS_DIR_TO_RELAY, frame, len, LP_DROP_TOO_BIG, true);
		break;
	case LP_ERR_AGAIN:
		count_drop(b, LP_OBS_DIR_TO_RELAY, frame, len, LP_DROP_QUEUE_FULL, true);
		break;
	case LP_ERR_RUNT:
		count_drop(b, LP_OBS_DIR_TO_RELAY, frame, len, LP_DROP_MALFORMED, true);
		break;
	default: /* LP_ERR_STATE: not admitted yet (the session counted it) */
		count_drop(b, LP_OBS_DIR_TO_RELAY, frame, len, LP_DROP_NOT_READY, true);
		break;
	}
	/* A refused frame never stops segmentation of the others. */
	return 0;
}

static int count_segment(void *user, const uint8_t *frame, size_t len)
{
	struct lp_bridge *b = user;

	b->st.segments++;
	return send_wire_frame(b, frame, len);
}

static void lan_frame(struct lp_bridge *b, struct lp_capture_frame *f)
{
	int rc;

	b->st.lan_rx++;
	if (f->truncated) {
		/* Log the length the wire carried, not the cut copy. */
		b->st.drops[LP_DROP_TRUNCATED]++;
		log_drop(b, LP_OBS_DIR_TO_RELAY, f->data, f->len, f->wire_len, LP_DROP_TRUNCATED);
		return;
	}
	if (f->len < LP_ETH_HDR_LEN) {
		count_drop(b, LP_OBS_DIR_TO_RELAY, f->data, f->len, LP_DROP_MALFORMED, false);
		return;
	}
	/* A remote client's MAC as a LAN source: our own frame looped back
	 * (another bridge, a switch loop) - never send it back to the relay. */
	if (is_remote_client(b, f->data + LP_MAC_LEN)) {
		count_drop(b, LP_OBS_DIR_TO_RELAY, f->data, f->len, LP_DROP_LOOP, false);
		return;
	}
	if (f->gso.gso_type == LP_GSO_NONE && !(f->gso.flags & LP_GSO_F_NEEDS_CSUM)) {
		(void)send_wire_frame(b, f->data, f->len);
		return;
	}
	rc = lp_gso_segment(&f->gso, f->data, f->len, b->scratch, sizeof(b->scratch), count_segment,
	                    b);
	if (rc < 0) {
		uint64_t sup = 0;

		b->st.drops[LP_DROP_MALFORMED]++;
		if (lp_log_ratelimit_ok(&b->rl_drop, lp_loop_now(b->loop), &sup))
			lp_log(b->log, LP_LOG_INFO,
			       "LAN frame of %zu bytes (gso type %u, size %u) not segmented: %s",
			       f->len, (unsigned)f->gso.gso_type, (unsigned)f->gso.gso_size,
			       lp_strerror(rc));
	}
}

static void on_lan(struct lp_loop *l, intptr_t fd, unsigned events, void *arg)
{
	struct lp_bridge *b = arg;
	int round, n, i;

	(void)fd;
	if ((events & LP_LOOP_WRITE) && b->lan_want_write) {
		b->lan_want_write = false;
		if (lp_loop_watch_mod(l, lp_capture_fd(b->cap), LP_LOOP_READ) < 0)
			b->lan_want_write = true;
		lan_flush(b);
	}
	if (!(events & (LP_LOOP_READ | LP_LOOP_ERROR)))
		return;
	for (round = 0; round < LAN_RX_ROUNDS; round++) {
		n = lp_capture_recv(b->cap, b->frames, LP_CAPTURE_RX_BATCH);
		if (n < 0) {
			uint64_t sup = 0;

			if (lp_log_ratelimit_ok(&b->rl_io, lp_loop_now(l), &sup))
				lp_log(b->log, LP_LOG_WARN, "LAN receive failed: %s",
				       lp_strerror(n));
			break;
		}
		for (i = 0; i < n; i++)
			lan_frame(b, &b->frames[i]);
		if (n < (int)LP_CAPTURE_RX_BATCH)
			break;
	}
	if (b->pe.runner != NULL)
		lp_client_runner_flush(b->pe.runner);
}

/* ---- Session events -------------------------------------------------------------- */

static void cam_reset(struct lp_bridge *b, uint64_t interval)
{
	lp_cam_init(&b->cam, &b->own, interval);
	cam_rearm(b);
}

static void on_peer(struct lp_bridge *b, const struct lp_client_event *ev)
{
	char mac[LP_MAC_STR_LEN];
	int rc;

	if (ev->peer.role != LP_ROLE_CLIENT)
		return;
	lp_proto_mac_format(&ev->peer.mac, mac);
	if (ev->type == LP_CLIENT_EV_PEER_JOINED) {
		rc = lp_cam_add(&b->cam, &ev->peer.mac, lp_loop_now(b->loop));
		if (rc == 1)
			cam_rearm(b);
		else if (rc < 0)
			lp_log(b->log, LP_LOG_WARN,
			       "client %s: not kept for CAM refresh (%s); the LAN switch may "
			       "flood its traffic",
			       mac, lp_strerror(rc));
	} else {
		/* LP_ERR_NOT_FOUND: never tracked (refused or table full). */
		if (lp_cam_remove(&b->cam, &ev->peer.mac) == 0)
			cam_rearm(b);
	}
}

static void on_event(struct lp_client *s, const struct lp_client_event *ev, void *user)
{
	struct lp_bridge *b = user;

	switch (ev->type) {
	case LP_CLIENT_EV_WELCOME:
		b->admitted = true;
		b->peer_id = ev->welcome->peer_id;
		b->mtu = ev->welcome->mtu;
		lp_log(b->log, LP_LOG_INFO,
		       "admitted to room %s as peer %u, MTU %u, datagram budget %zu", b->room,
		       (unsigned)b->peer_id, (unsigned)b->mtu,
		       s != NULL ? lp_client_datagram_budget(s) : (size_t)0);
		/* The relay now replays the room's clients as peer_joined. */
		cam_reset(b, b->cam.interval_ns);
		lp_bridge_log_status(b);
		return;
	case LP_CLIENT_EV_CLOSED:
		b->admitted = false;
		break;
	default:
		break;
	}
	/* The status line only follows admissions: the rest is one log line. */
	if (lp_peer_events_log(&b->pe, s, ev) == LP_PEER_ACT_FAILED) {
		b->failed = true;
		lp_loop_stop(b->loop);
	}
	if (ev->type == LP_CLIENT_EV_PEER_JOINED || ev->type == LP_CLIENT_EV_PEER_LEFT)
		on_peer(b, ev);
}

static const struct lp_client_cbs bridge_cbs = { .frame = on_frame, .event = on_event };

const struct lp_client_cbs *lp_bridge_client_cbs(void)
{
	return &bridge_cbs;
}

/* ---- Status ------------------------------------------------------------------------ */

void lp_bridge_log_status(struct lp_bridge *b)
{
	struct lp_client *s = lp_peer_events_session(&b->pe);
	struct lp_capture_stats cs;
	struct lp_counters c;
	char drops[512], relay[160];
	size_t pos = 0, i;

	lp_peer_events_counters(&b->pe, b->st.drops, &c);
	drops[0] = '\0';
	for (i = 1; i < LP_DROP__COUNT && pos < sizeof(drops); i++) {
		int n;

		if (c.drops[i] == 0)
			continue;
		n = snprintf(drops + pos, sizeof(drops) - pos, " %s=%" PRIu64,
		             lp_obs_drop_name((enum lp_drop_reason)i), c.drops[i]);
		if (n < 0)
			break;
		pos += (size_t)n;
	}
	if (s != NULL && b->admitted)
		snprintf(relay, sizeof(relay),
		         "relay up, room %s peer %u MTU %u budget %zu, %zu peers", b->room,
		         (unsigned)b->peer_id, (unsigned)b->mtu, lp_client_datagram_budget(s),
		         lp_client_peer_count(s));
	else
		snprintf(relay, sizeof(relay), "relay down");
	lp_capture_get_stats(b->cap, &cs);
	lp_log(b->log, LP_LOG_INFO,
	       "status: %s, %zu remote clients; to relay %" PRIu64 " frames / %" PRIu64
	       " bytes, from relay %" PRIu64 " frames / %" PRIu64 " bytes; LAN rx %" PRIu64
	       " tx %" PRIu64 " tx_errors %" PRIu64 " segments %" PRIu64 " cam_refreshes %" PRIu64
	       "; reconnects %" PRIu64 "; drops %" PRIu64 "%s",
	       relay, b->cam.count, c.frames_tx, c.bytes_tx, c.frames_rx, c.bytes_rx, b->st.lan_rx,
	       cs.tx_frames, cs.tx_errors, b->st.segments, b->st.cam_refreshes,
	       b->pe.runner != NULL ? lp_client_runner_reconnects(b->pe.runner) : 0,
	       lp_obs_drops_total(&c), drops);
}

static void on_status_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_bridge *b = arg;

	lp_bridge_log_status(b);
	if (lp_loop_timer_arm(l, t, lp_loop_now(l) + b->status_interval) < 0)
		lp_log(b->log, LP_LOG_WARN, "cannot arm the status timer");
}

/* ---- Lifetime ------------------------------------------------------------------------ */

int lp_bridge_new(struct lp_loop *loop, struct lp_capture *cap, const struct lp_bridge_cfg *cfg,
                  const struct lp_logger *log, struct lp_bridge **out)
{
	struct lp_bridge *b;
	int rc;

	if (loop == NULL || cap == NULL || cfg == NULL || out == NULL)
		return LP_ERR_INVAL;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return LP_ERR_NOMEM;
	b->loop = loop;
	b->cap = cap;
	b->log = log;
	lp_peer_events_init(&b->pe, log);
	if (cfg->room != NULL)
		snprintf(b->room, sizeof(b->room), "%s", cfg->room);
	b->status_interval =
	        cfg->status_interval_ns ? cfg->status_interval_ns : STATUS_INTERVAL_DEFAULT;
	lp_capture_mac(cap, &b->own);
	b->cam_armed_at = UINT64_MAX;
	lp_loop_timer_init(&b->cam_timer, on_cam_timer, b);
	lp_loop_timer_init(&b->flush_timer, on_flush_timer, b);
	lp_loop_timer_init(&b->status_timer, on_status_timer, b);
	lp_cam_init(&b->cam, &b->own, cfg->cam_interval_ns);
	lp_log_ratelimit_init(&b->rl_too_big, LOG_BURST, LOG_INTERVAL);
	lp_log_ratelimit_init(&b->rl_drop, LOG_BURST, LOG_INTERVAL);
	lp_log_ratelimit_init(&b->rl_io, LOG_BURST, LOG_INTERVAL);
	rc = lp_loop_watch(loop, lp_capture_fd(cap), LP_LOOP_READ, on_lan, b);
	if (rc == 0) {
		b->watching = true;
		rc = lp_loop_timer_arm(loop, &b->status_timer, lp_now_ns() + b->status_interval);
	}
	if (rc < 0) {
		lp_bridge_del(b);
		return rc;
	}
	*out = b;
	return 0;
}

void lp_bridge_del(struct lp_bridge *b)
{
	if (b == NULL)
		return;
	if (b->watching)
		lp_loop_unwatch(b->loop, lp_capture_fd(b->cap));
	lp_loop_timer_cancel(b->loop, &b->cam_timer);
	lp_loop_timer_cancel(b->loop, &b->flush_timer);
	lp_loop_timer_cancel(b->loop, &b->status_timer);
	free(b);
}

void lp_bridge_set_runner(struct lp_bridge *b, struct lp_client_runner *r)
{
	b->pe.runner = r;
}

bool lp_bridge_failed(const struct lp_bridge *b)
{
	return b->failed;
}
