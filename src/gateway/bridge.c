/*
 * bridge.c - the gateway's frame path; see bridge.h.
 *
 * Batching is what makes gigabit possible on two cores: one recvmmsg
 * fills up to 16 frames, every frame becomes a queued QUIC datagram, and
 * the runner writes them out once per batch with UDP GSO. The other way,
 * frames from the relay are queued into the capture's sendmmsg queue and
 * flushed once per socket batch, before the runner writes QUIC (the
 * session's frames_end hook): the LAN host gets its frame before the relay
 * gets the ACK. Frames queued outside a batch (CAM refreshes) are flushed
 * by a timer due "now" (it runs after the fd callbacks of the iteration).
 */
#include "bridge.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cam.h"
#include "lp_gso.h"
#include "lp_l2filter.h"
#include "lp_loop.h"

#define LAN_RX_ROUNDS 8 /* recvmmsg batches per readiness callback */
#define CAM_BATCH 16
#define LOG_BURST 10
#define LOG_INTERVAL LP_NS_PER_SEC

/* ---- Drop logging ------------------------------------------------------------ */

static void count_drop(struct lp_gateway *b, enum lp_obs_dir dir, const uint8_t *frame, size_t len,
                       enum lp_drop_reason reason, bool session_counted)
{
	if (!session_counted)
		lp_pump_count_drop(b->boot->pump, reason);
	lp_pump_log_frame(b->boot->pump, dir, frame, len, len, reason);
}

/* ---- Relay -> LAN ------------------------------------------------------------- */

static void lan_flush(struct lp_gateway *b)
{
	int rc;

	if (b->lan_want_write)
		return;
	rc = lp_capture_flush(b->cap);
	if (rc == LP_ERR_AGAIN) {
		if (lp_loop_watch_mod(b->boot->loop, lp_capture_fd(b->cap),
		                      LP_LOOP_READ | LP_LOOP_WRITE) == 0)
			b->lan_want_write = true;
	} else if (rc < 0) {
		uint64_t sup = 0;

		if (lp_log_ratelimit_ok(&b->rl_io, lp_loop_now(b->boot->loop), &sup))
			lp_log(b->boot->log, LP_LOG_WARN, "LAN send failed: %s", lp_strerror(rc));
	}
}

static void on_flush_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	(void)l;
	(void)t;
	lan_flush(arg);
}

static void lan_queue(struct lp_gateway *b, const uint8_t *frame, size_t len)
{
	int rc = lp_capture_queue(b->cap, frame, len);

	if (rc < 0) {
		count_drop(b, LP_OBS_DIR_FROM_RELAY, frame, len,
		           rc == LP_ERR_AGAIN ? LP_DROP_QUEUE_FULL : LP_DROP_IO, false);
		return;
	}
	if (!lp_loop_timer_armed(&b->flush_timer) &&
	    lp_loop_timer_arm(b->boot->loop, &b->flush_timer, lp_loop_now(b->boot->loop)) < 0)
		lan_flush(b);
}

static void cam_rearm(struct lp_gateway *b)
{
	uint64_t d = lp_cam_next_deadline(&b->cam);

	if (d == UINT64_MAX) {
		lp_loop_timer_cancel(b->boot->loop, &b->cam_timer);
		b->cam_armed_at = UINT64_MAX;
		return;
	}
	/* Entries only move later on their own (touch, collect); a timer that
	 * fires early finds nothing due and re-arms, which is cheaper than
	 * re-arming for every frame. */
	if (lp_loop_timer_armed(&b->cam_timer) && d >= b->cam_armed_at)
		return;
	if (lp_loop_timer_arm(b->boot->loop, &b->cam_timer, d) == 0)
		b->cam_armed_at = d;
}

static void on_cam_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_gateway *b = arg;
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

static void on_frame(struct lp_gateway *b, const uint8_t *frame, size_t len)
{
	enum lp_drop_reason why;
	bool added = false;

	/* Every room frame comes from a client. In an open room the relay
	 * filtered it already; in a private one only we can read it. */
	why = lp_l2filter_rx(frame, len, false);
	if (why == LP_DROP_NONE)
		why = lp_cam_from_room(&b->cam, frame, len, lp_loop_now(b->boot->loop), &added);
	if (why != LP_DROP_NONE) {
		count_drop(b, LP_OBS_DIR_FROM_RELAY, frame, len, why, false);
		return;
	}
	if (added)
		cam_rearm(b);
	lan_queue(b, frame, len);
}

/* ---- LAN -> relay -------------------------------------------------------------- */

static bool is_remote_client(const struct lp_gateway *b, const uint8_t *src)
{
	size_t i;

	for (i = 0; i < b->cam.count; i++)
		if (memcmp(b->cam.e[i].mac.b, src, LP_MAC_LEN) == 0)
			return true;
	return false;
}

static int send_wire_frame(void *user, const uint8_t *frame, size_t len)
{
	struct lp_gateway *b = user;
	enum lp_drop_reason why = lp_pump_to_relay(b->boot->pump, frame, len, false);

	/* Counted already (by the session, or by the pump without one); the
	 * line is the bridge's, with the VLAN and the budget. */
	if (why != LP_DROP_NONE)
		lp_pump_log_frame(b->boot->pump, LP_OBS_DIR_TO_RELAY, frame, len, len, why);
	/* A refused frame never stops segmentation of the others. */
	return 0;
}

static int count_segment(void *user, const uint8_t *frame, size_t len)
{
	struct lp_gateway *b = user;

	b->st.segments++;
	return send_wire_frame(b, frame, len);
}

static void lan_frame(struct lp_gateway *b, struct lp_capture_frame *f)
{
	struct lp_mac src;
	int rc;

	b->st.lan_rx++;
	if (f->truncated) {
		/* Log the length the wire carried, not the cut copy. */
		lp_pump_count_drop(b->boot->pump, LP_DROP_TRUNCATED);
		lp_pump_log_frame(b->boot->pump, LP_OBS_DIR_TO_RELAY, f->data, f->len, f->wire_len,
		                  LP_DROP_TRUNCATED);
		return;
	}
	if (f->len < LP_ETH_HDR_LEN) {
		count_drop(b, LP_OBS_DIR_TO_RELAY, f->data, f->len, LP_DROP_MALFORMED, false);
		return;
	}
	/* The LAN owns every source it shows: a player claiming one is refused
	 * in on_frame, and is no longer refreshed onto the switch. */
	memcpy(src.b, f->data + LP_MAC_LEN, LP_MAC_LEN);
	if (lp_cam_lan_seen(&b->cam, &src, lp_loop_now(b->boot->loop)) == 1)
		cam_rearm(b);
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

		lp_pump_count_drop(b->boot->pump, LP_DROP_MALFORMED);
		if (lp_log_ratelimit_ok(&b->rl_drop, lp_loop_now(b->boot->loop), &sup))
			lp_log(b->boot->log, LP_LOG_INFO,
			       "LAN frame of %zu bytes (gso type %u, size %u) not segmented: %s",
			       f->len, (unsigned)f->gso.gso_type, (unsigned)f->gso.gso_size,
			       lp_strerror(rc));
	}
}

static void on_lan(struct lp_loop *l, intptr_t fd, unsigned events, void *arg)
{
	struct lp_gateway *b = arg;
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
				lp_log(b->boot->log, LP_LOG_WARN, "LAN receive failed: %s",
				       lp_strerror(n));
			break;
		}
		for (i = 0; i < n; i++)
			lan_frame(b, &b->frames[i]);
		if (n < (int)LP_CAPTURE_RX_BATCH)
			break;
	}
	lp_pump_flush(b->boot->pump);
}

/* ---- Session events -------------------------------------------------------------- */

static void cam_reset(struct lp_gateway *b)
{
	lp_cam_clear_remote(&b->cam); /* what the LAN showed stays true */
	cam_rearm(b);
}

static void on_peer(struct lp_gateway *b, const struct lp_client_event *ev)
{
	char mac[LP_MAC_STR_LEN];
	int rc;

	if (ev->peer.role != LP_ROLE_CLIENT)
		return;
	lp_proto_mac_format(&ev->peer.mac, mac);
	if (ev->type == LP_CLIENT_EV_PEER_JOINED) {
		rc = lp_cam_add(&b->cam, &ev->peer.mac, lp_loop_now(b->boot->loop));
		if (rc == 1)
			cam_rearm(b);
		else if (lp_cam_is_lan(&b->cam, &ev->peer.mac, lp_loop_now(b->boot->loop)))
			lp_log(b->boot->log, LP_LOG_WARN,
			       "client %s uses the MAC of a host on the LAN: its frames are "
			       "dropped (lan_mac) and it is never refreshed onto the switch",
			       mac);
		else if (rc < 0)
			lp_log(b->boot->log, LP_LOG_WARN,
			       "client %s: not kept for CAM refresh (%s); the LAN switch may "
			       "flood its traffic",
			       mac, lp_strerror(rc));
	} else {
		/* LP_ERR_NOT_FOUND: never tracked (refused or table full). */
		if (lp_cam_remove(&b->cam, &ev->peer.mac) == 0)
			cam_rearm(b);
	}
}

static void on_status(struct lp_boot *boot);

/* The gateway once step 6 started the bridge; NULL before. */
static struct lp_gateway *br(struct lp_boot *boot)
{
	struct lp_gateway *b = boot->app->user;

	return b->boot != NULL ? b : NULL;
}

static void on_welcome(struct lp_boot *boot, struct lp_client *s, const struct lp_client_event *ev)
{
	struct lp_gateway *b = br(boot);

	b->admitted = true;
	b->peer_id = ev->welcome->peer_id;
	b->mtu = ev->welcome->mtu;
	lp_log(b->boot->log, LP_LOG_INFO,
	       "admitted to room %s as peer %u, MTU %u, datagram budget %zu", boot->room_name,
	       (unsigned)b->peer_id, (unsigned)b->mtu,
	       s != NULL ? lp_client_datagram_budget(s) : (size_t)0);
	/* The relay now replays the room's clients as peer_joined. */
	cam_reset(b);
	on_status(boot);
}

static void on_event(struct lp_boot *boot, struct lp_client *s, const struct lp_client_event *ev)
{
	struct lp_gateway *b = br(boot);

	(void)s;
	if (ev->type == LP_CLIENT_EV_CLOSED)
		b->admitted = false;
	else if (ev->type == LP_CLIENT_EV_PEER_JOINED || ev->type == LP_CLIENT_EV_PEER_LEFT)
		on_peer(b, ev);
}

static void on_relay_frame(struct lp_boot *boot, const uint8_t *frame, size_t len)
{
	on_frame(br(boot), frame, len);
}

/* The batch is through: its LAN frames go out before the runner's ACKs. */
static void on_frames_end(struct lp_boot *boot)
{
	struct lp_gateway *b = br(boot);

	if (b == NULL || !lp_loop_timer_armed(&b->flush_timer))
		return; /* nothing queued since the last flush */
	lp_loop_timer_cancel(b->boot->loop, &b->flush_timer);
	lan_flush(b);
}

/* ---- Status ------------------------------------------------------------------------ */

static void on_status(struct lp_boot *boot)
{
	struct lp_gateway *b = br(boot);
	struct lp_capture_stats cs;
	struct lp_counters c;
	struct lp_client *s;
	char drops[512], relay[160];
	size_t pos = 0, i;

	if (b == NULL)
		return; /* the pump's first period ended before the bridge started */
	s = lp_pump_session(b->boot->pump);
	lp_peer_events_counters(&boot->pe, lp_pump_drops(b->boot->pump), &c);
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
		         "relay up, room %s peer %u MTU %u budget %zu, %zu peers", boot->room_name,
		         (unsigned)b->peer_id, (unsigned)b->mtu, lp_client_datagram_budget(s),
		         lp_client_peer_count(s));
	else
		snprintf(relay, sizeof(relay), "relay down");
	lp_capture_get_stats(b->cap, &cs);
	lp_log(b->boot->log, LP_LOG_INFO,
	       "status: %s, %zu remote clients; to relay %" PRIu64 " frames / %" PRIu64
	       " bytes, from relay %" PRIu64 " frames / %" PRIu64 " bytes; LAN rx %" PRIu64
	       " tx %" PRIu64 " tx_errors %" PRIu64 " segments %" PRIu64 " cam_refreshes %" PRIu64
	       "; reconnects %" PRIu64 "; drops %" PRIu64 "%s",
	       relay, b->cam.count, c.frames_tx, c.bytes_tx, c.frames_rx, c.bytes_rx, b->st.lan_rx,
	       cs.tx_frames, cs.tx_errors, b->st.segments, b->st.cam_refreshes,
	       boot->pe.runner != NULL ? lp_client_runner_reconnects(boot->pe.runner) : 0,
	       lp_obs_drops_total(&c), drops);
}

/* ---- Step 4: the packet socket, as root ----------------------------------------- */

static int on_open(struct lp_boot *boot)
{
	struct lp_gateway *g = boot->app->user;
	char mac[LP_MAC_STR_LEN];
	int rc;

	if (g->iface == NULL) {
		lp_log(boot->log, LP_LOG_ERROR, "--iface IFACE is required (the wired LAN port)");
		return LP_ERR_INVAL;
	}
	rc = lp_capture_open(g->iface, &g->cap);
	if (rc == LP_ERR_NOT_FOUND)
		lp_log(boot->log, LP_LOG_ERROR, "no such interface '%s' (--iface)", g->iface);
	else if (rc == LP_ERR_PERM)
		lp_log(boot->log, LP_LOG_ERROR,
		       "opening a packet socket on %s needs root or CAP_NET_RAW", g->iface);
	else if (rc < 0)
		lp_log(boot->log, LP_LOG_ERROR, "cannot open the LAN interface %s: %s", g->iface,
		       lp_strerror(rc));
	if (rc < 0)
		return rc;
	lp_capture_set_authenticated(g->cap, boot->args.private_room);
	lp_capture_mac(g->cap, &boot->mac);
	lp_proto_mac_format(&boot->mac, mac);
	lp_log(boot->log, LP_LOG_INFO, "LAN interface %s (%s) open", g->iface, mac);
	return 0;
}

/* ---- Step 6: the bridge ------------------------------------------------------------ */

static int on_start(struct lp_boot *boot)
{
	struct lp_gateway *b = boot->app->user;
	int rc;

	b->boot = boot;
	b->cam_armed_at = UINT64_MAX;
	lp_loop_timer_init(&b->cam_timer, on_cam_timer, b);
	lp_loop_timer_init(&b->flush_timer, on_flush_timer, b);
	lp_cam_init(&b->cam, &boot->mac, b->cam_interval_ns);
	lp_log_ratelimit_init(&b->rl_drop, LOG_BURST, LOG_INTERVAL);
	lp_log_ratelimit_init(&b->rl_io, LOG_BURST, LOG_INTERVAL);
	rc = lp_loop_watch(boot->loop, lp_capture_fd(b->cap), LP_LOOP_READ, on_lan, b);
	if (rc < 0) {
		lp_log(boot->log, LP_LOG_ERROR, "cannot start the bridge: %s", lp_strerror(rc));
		return rc;
	}
	b->watching = true;
	lp_log(boot->log, LP_LOG_INFO, "bridging LAN interface %s into room %s", b->iface,
	       boot->room_name);
	return 0;
}

/* ---- Shutdown -------------------------------------------------------------------- */

static int on_finish(struct lp_boot *boot)
{
	on_status(boot);
	return 0;
}

static void on_cleanup(struct lp_boot *boot)
{
	struct lp_gateway *b = boot->app->user;

	if (b->watching)
		lp_loop_unwatch(boot->loop, lp_capture_fd(b->cap));
	b->watching = false;
	if (b->boot != NULL) {
		lp_loop_timer_cancel(boot->loop, &b->cam_timer);
		lp_loop_timer_cancel(boot->loop, &b->flush_timer);
		b->boot = NULL;
	}
	lp_capture_close(b->cap);
	b->cap = NULL;
}

const struct lp_boot_peer lp_bridge_peer = {
	.role = LP_ROLE_GATEWAY,
	.open = on_open,
	.start = on_start,
	.session = { .frame = on_relay_frame,
	             .welcome = on_welcome,
	             .event = on_event,
	             .status = on_status,
	             .frames_end = on_frames_end },
	.finish = on_finish,
	.cleanup = on_cleanup,
};
