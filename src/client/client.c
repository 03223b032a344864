/*
 * client.c - the Linux client's run phase; see client.h.
 *
 * Privileges: the TAP is created as root when the first welcome arrives,
 * then lp_privdrop keeps CAP_NET_ADMIN only. That one capability is kept
 * so a later session whose room MTU differs (the relay restarted and chose
 * another MTU) can resize the TAP: with a stale, larger MTU the kernel
 * would hand us frames the tunnel must drop, and TCP would stall on them.
 */
#include "client.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lp_obs.h"
#include "lp_tap.h"
#include "peer_events.h"
#include "privdrop.h"

#define STATUS_INTERVAL_DEFAULT (10 * LP_NS_PER_SEC)
#define IP_POLL_INTERVAL LP_NS_PER_SEC
#define TAP_RX_MAX 64 /* frames per readiness callback before yielding */
#define TAP_BUF (LP_PROTO_PAYLOAD_MAX + 64u)
#define LOG_BURST 10
#define LOG_INTERVAL LP_NS_PER_SEC

struct lp_lclient {
	struct lp_loop *loop;
	struct lp_peer_events pe; /* the runner, finished sessions, event lines */
	const struct lp_logger *log;
	char tap_name[LP_TAP_NAME_MAX];
	struct lp_mac mac;
	char user[64];
	uint64_t status_interval;

	struct lp_tap *tap;
	int tap_fd;
	uint32_t tap_mtu;
	bool failed;

	uint64_t drops[LP_DROP__COUNT];

	struct lp_obs_diag prev;
	bool have_prev;
	struct lp_loop_timer status_timer;
	struct lp_loop_timer ip_timer;
	struct lp_log_ratelimit rl_drop;
	uint8_t buf[TAP_BUF];
};

static void fail(struct lp_lclient *c)
{
	c->failed = true;
	lp_loop_stop(c->loop);
}

/* ---- Status lines ---------------------------------------------------------------- */

static void snapshot(struct lp_lclient *c, struct lp_obs_diag *d)
{
	struct lp_tap_info info;

	/* Totals over every session, plus what the client itself dropped. */
	lp_peer_events_diag(&c->pe, c->drops, d);
	snprintf(d->tap_name, sizeof(d->tap_name), "%s", c->tap_name);
	if (c->tap != NULL && lp_tap_get_info(c->tap, &info) == 0) {
		d->tap = info.up ? LP_OBS_TAP_UP : LP_OBS_TAP_DOWN;
		snprintf(d->tap_name, sizeof(d->tap_name), "%s", info.name);
	}
	if (c->tap != NULL && lp_tap_ipv4(c->tap, d->tap_ip, sizeof(d->tap_ip)) < 0)
		d->tap_ip[0] = '\0';
}

void lp_lclient_log_status(struct lp_lclient *c)
{
	struct lp_obs_diag d;

	snapshot(c, &d);
	if (c->tap == NULL)
		lp_log(c->log, LP_LOG_INFO, "tap: %s is created once the relay admits this client",
		       c->tap_name);
	lp_peer_status_lines(c->log, &d, c->have_prev ? &c->prev : NULL, c->tap == NULL);
	c->prev = d;
	c->have_prev = true;
}

static void on_status_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_lclient *c = arg;

	lp_lclient_log_status(c);
	if (lp_loop_timer_arm(l, t, lp_loop_now(l) + c->status_interval) < 0)
		lp_log(c->log, LP_LOG_WARN, "cannot arm the status timer");
}

/* DHCP runs outside this process: poll for the address so its arrival is
 * reported at once rather than at the next status period. */
static void on_ip_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_lclient *c = arg;
	char ip[64];

	if (c->tap != NULL && lp_tap_ipv4(c->tap, ip, sizeof(ip)) == 0 &&
	    strcmp(ip, c->prev.tap_ip) != 0)
		lp_lclient_log_status(c);
	if (lp_loop_timer_arm(l, t, lp_loop_now(l) + IP_POLL_INTERVAL) < 0)
		lp_log(c->log, LP_LOG_WARN, "cannot arm the address poll timer");
}

/* ---- Frames ------------------------------------------------------------------------- */

static void log_drop(struct lp_lclient *c, enum lp_obs_dir dir, const uint8_t *frame, size_t len,
                     enum lp_drop_reason reason)
{
	lp_peer_log_drop(c->log, &c->rl_drop, lp_loop_now(c->loop), dir, frame, len, reason);
}

static void on_frame(struct lp_client *s, const uint8_t *frame, size_t len, void *user)
{
	struct lp_lclient *c = user;
	ssize_t n;

	(void)s;
	if (c->tap == NULL) {
		c->drops[LP_DROP_NOT_READY]++;
		return;
	}
	n = lp_tap_write(c->tap, frame, len);
	if (n >= 0)
		return;
	if (n == LP_ERR_AGAIN) {
		c->drops[LP_DROP_QUEUE_FULL]++;
		log_drop(c, LP_OBS_DIR_FROM_RELAY, frame, len, LP_DROP_QUEUE_FULL);
	} else {
		c->drops[LP_DROP_IO]++;
		log_drop(c, LP_OBS_DIR_FROM_RELAY, frame, len, LP_DROP_IO);
	}
}

static void tap_frame(struct lp_lclient *c, const uint8_t *frame, size_t len)
{
	enum lp_drop_reason why;

	if (lp_peer_events_session(&c->pe) == NULL) {
		c->drops[LP_DROP_NOT_READY]++;
		return;
	}
	/* The session counts its refusals in its own counters. */
	why = lp_peer_send_drop(lp_client_runner_send_frame(c->pe.runner, frame, len));
	if (why != LP_DROP_NONE)
		log_drop(c, LP_OBS_DIR_TO_RELAY, frame, len, why);
}

static void on_tap(struct lp_loop *l, intptr_t fd, unsigned events, void *arg)
{
	struct lp_lclient *c = arg;
	ssize_t n;
	int i;

	(void)l;
	(void)fd;
	(void)events;
	for (i = 0; i < TAP_RX_MAX && c->tap != NULL; i++) {
		n = lp_tap_read(c->tap, c->buf, sizeof(c->buf));
		if (n == LP_ERR_AGAIN)
			break;
		if (n == LP_ERR_TRUNCATED) {
			c->drops[LP_DROP_TRUNCATED]++;
			continue;
		}
		if (n < 0) {
			uint64_t sup = 0;

			if (lp_log_ratelimit_ok(&c->rl_drop, lp_loop_now(c->loop), &sup))
				lp_log(c->log, LP_LOG_WARN, "TAP %s: read failed: %s", c->tap_name,
				       lp_strerror((int)n));
			break;
		}
		tap_frame(c, c->buf, (size_t)n);
	}
	if (c->pe.runner != NULL)
		lp_client_runner_flush(c->pe.runner);
}

/* ---- TAP lifetime ------------------------------------------------------------------- */

/* First admission: create the TAP with the room MTU, bring it up, drop
 * privileges (keeping CAP_NET_ADMIN, see the top of the file). */
static int tap_create(struct lp_lclient *c, uint32_t mtu)
{
	struct lp_tap_config cfg = { .name = c->tap_name, .mac = &c->mac, .mtu = mtu };
	struct lp_tap_info info;
	char mac[LP_MAC_STR_LEN];
	int rc;

	rc = lp_tap_open(&cfg, &c->tap);
	if (rc < 0) {
		if (rc == LP_ERR_PERM)
			lp_log(c->log, LP_LOG_ERROR,
			       "cannot create TAP %s: needs root or CAP_NET_ADMIN", c->tap_name);
		else if (rc == LP_ERR_NOT_FOUND)
			lp_log(c->log, LP_LOG_ERROR,
			       "cannot create TAP %s: no TUN/TAP support (/dev/net/tun)",
			       c->tap_name);
		else
			lp_log(c->log, LP_LOG_ERROR,
			       "cannot create TAP %s: %s (is another client using that name?)",
			       c->tap_name, lp_strerror(rc));
		return rc;
	}
	rc = lp_tap_set_up(c->tap, true);
	if (rc < 0) {
		lp_log(c->log, LP_LOG_ERROR, "cannot bring TAP %s up: %s", c->tap_name,
		       lp_strerror(rc));
		return rc;
	}
	rc = lp_privdrop(c->user, LP_PRIVDROP_KEEP_NET_ADMIN);
	if (rc < 0) {
		lp_log(c->log, LP_LOG_ERROR, "cannot drop privileges to %s: %s", c->user,
		       lp_strerror(rc));
		return rc;
	}
	c->tap_fd = (int)lp_tap_get_handle(c->tap);
	rc = lp_loop_watch(c->loop, c->tap_fd, LP_LOOP_READ, on_tap, c);
	if (rc < 0) {
		c->tap_fd = -1;
		lp_log(c->log, LP_LOG_ERROR, "cannot watch TAP %s: %s", c->tap_name,
		       lp_strerror(rc));
		return rc;
	}
	c->tap_mtu = mtu;
	if (lp_tap_get_info(c->tap, &info) == 0)
		snprintf(c->tap_name, sizeof(c->tap_name), "%s", info.name);
	lp_proto_mac_format(&c->mac, mac);
	lp_log(c->log, LP_LOG_INFO, "TAP %s up: MAC %s, MTU %u; running as %s (CAP_NET_ADMIN kept)",
	       c->tap_name, mac, (unsigned)mtu, c->user);
	if (lp_loop_timer_arm(c->loop, &c->ip_timer, lp_loop_now(c->loop) + IP_POLL_INTERVAL) < 0)
		lp_log(c->log, LP_LOG_WARN, "cannot arm the address poll timer");
	return 0;
}

static void on_welcome(struct lp_lclient *c, const struct lp_ctrl_welcome *w)
{
	int rc;

	if (c->tap == NULL) {
		if (tap_create(c, w->mtu) < 0) {
			fail(c);
			return;
		}
	} else if (w->mtu != c->tap_mtu) {
		rc = lp_tap_set_mtu(c->tap, w->mtu);
		if (rc < 0) {
			lp_log(c->log, LP_LOG_WARN,
			       "room MTU is now %u but TAP %s stays at MTU %u: %s",
			       (unsigned)w->mtu, c->tap_name, (unsigned)c->tap_mtu,
			       lp_strerror(rc));
		} else {
			lp_log(c->log, LP_LOG_INFO, "room MTU changed: TAP %s MTU %u -> %u",
			       c->tap_name, (unsigned)c->tap_mtu, (unsigned)w->mtu);
			c->tap_mtu = w->mtu;
		}
	}
	lp_lclient_log_status(c);
}

/* ---- Session events ----------------------------------------------------------------- */

static void on_event(struct lp_client *s, const struct lp_client_event *ev, void *user)
{
	struct lp_lclient *c = user;

	if (ev->type == LP_CLIENT_EV_WELCOME) {
		lp_log(c->log, LP_LOG_INFO, "%s", ev->text);
		on_welcome(c, ev->welcome);
		return;
	}
	switch (lp_peer_events_log(&c->pe, s, ev)) {
	case LP_PEER_ACT_STATUS:
		lp_lclient_log_status(c);
		break;
	case LP_PEER_ACT_FAILED:
		fail(c);
		break;
	case LP_PEER_ACT_NONE:
		break;
	}
}

static const struct lp_client_cbs lclient_cbs = { .frame = on_frame, .event = on_event };

const struct lp_client_cbs *lp_lclient_cbs(void)
{
	return &lclient_cbs;
}

/* ---- Lifetime ----------------------------------------------------------------------- */

int lp_lclient_new(struct lp_loop *loop, const struct lp_lclient_cfg *cfg,
                   const struct lp_logger *log, struct lp_lclient **out)
{
	struct lp_lclient *c;

	if (loop == NULL || cfg == NULL || cfg->tap_name == NULL || out == NULL)
		return LP_ERR_INVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return LP_ERR_NOMEM;
	c->loop = loop;
	c->log = log;
	lp_peer_events_init(&c->pe, log);
	c->tap_fd = -1;
	c->mac = cfg->mac;
	if (lp_strlcpy_checked(c->tap_name, sizeof(c->tap_name), cfg->tap_name) < 0 ||
	    lp_strlcpy_checked(c->user, sizeof(c->user),
	                       cfg->user != NULL ? cfg->user : LP_PRIVDROP_DEFAULT_USER) < 0) {
		free(c);
		return LP_ERR_INVAL;
	}
	c->status_interval =
	        cfg->status_interval_ns ? cfg->status_interval_ns : STATUS_INTERVAL_DEFAULT;
	lp_loop_timer_init(&c->status_timer, on_status_timer, c);
	lp_loop_timer_init(&c->ip_timer, on_ip_timer, c);
	lp_log_ratelimit_init(&c->rl_drop, LOG_BURST, LOG_INTERVAL);
	if (lp_loop_timer_arm(loop, &c->status_timer, lp_now_ns() + c->status_interval) < 0) {
		free(c);
		return LP_ERR_NOMEM;
	}
	*out = c;
	return 0;
}

void lp_lclient_del(struct lp_lclient *c)
{
	if (c == NULL)
		return;
	if (c->tap_fd >= 0)
		lp_loop_unwatch(c->loop, c->tap_fd);
	lp_loop_timer_cancel(c->loop, &c->status_timer);
	lp_loop_timer_cancel(c->loop, &c->ip_timer);
	lp_tap_close(c->tap);
	free(c);
}

void lp_lclient_set_runner(struct lp_lclient *c, struct lp_client_runner *r)
{
	c->pe.runner = r;
}

bool lp_lclient_failed(const struct lp_lclient *c)
{
	return c->failed;
}
