/*
 * pump.c - the frame pump between a TAP-like device and the runner; see
 * lp_client.h.
 *
 * Why a run of failed reads and not the first one means "device gone": on
 * Windows a read error is sticky (every later read fails at once), on
 * Linux a tun read can fail once and work again. Counting failures in a
 * row, reset by any frame or LP_ERR_AGAIN, tells the two apart on both
 * without platform cases, and a dead device is found within one readiness
 * callback (LP_PUMP_DEAD_READS < LP_PUMP_RX_MAX).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lp_client.h"
#include "lp_loop.h"

#define STATUS_INTERVAL_DEFAULT (10 * LP_NS_PER_SEC)
#define PUMP_BUF (LP_PROTO_PAYLOAD_MAX + 64u)
#define ADDR_MAX 64
#define LOG_BURST 10
#define LOG_INTERVAL LP_NS_PER_SEC

struct lp_pump {
	struct lp_loop *loop;
	const struct lp_logger *log;
	const struct lp_pump_cbs *cbs;
	void *user;
	struct lp_client_runner *runner;
	char name[64];
	uint64_t status_interval;
	uint64_t addr_poll;

	const struct lp_pump_dev_ops *ops; /* NULL: no device attached */
	void *dev;
	intptr_t src;
	unsigned failed_reads; /* in a row */
	bool paused;           /* the device is not read: the datagram queue is full */
	uint64_t pauses;
	bool timers_stopped;
	char addr[ADDR_MAX]; /* last address the poll saw */

	uint64_t drops[LP_DROP__COUNT];
	struct lp_lanip lanip; /* LAN addresses seen in frames, both ways */
	struct lp_loop_timer status_timer;
	struct lp_loop_timer addr_timer;
	struct lp_log_ratelimit rl_too_big; /* too_big lines do not crowd out the others */
	struct lp_log_ratelimit rl_drop;
	struct lp_log_ratelimit rl_err;
	uint8_t buf[PUMP_BUF];
};

static void arm(struct lp_pump *p, struct lp_loop_timer *t, uint64_t delay, const char *what)
{
	int rc = lp_loop_timer_arm(p->loop, t, lp_loop_now(p->loop) + delay);

	if (rc < 0)
		lp_log(p->log, LP_LOG_WARN, "cannot arm the %s timer: %s", what, lp_strerror(rc));
}

/* ---- Log lines ------------------------------------------------------------------ */

void lp_pump_log_frame(struct lp_pump *p, enum lp_obs_dir dir, const uint8_t *frame, size_t len,
                       size_t whole_len, enum lp_drop_reason reason)
{
	struct lp_log_ratelimit *rl = reason == LP_DROP_TOO_BIG ? &p->rl_too_big : &p->rl_drop;
	enum lp_log_level level = LP_LOG_INFO;
	struct lp_obs_frame_event ev;
	struct lp_client *s;
	struct lp_eth eth;
	uint64_t suppressed = 0;
	char line[256], extra[96];
	size_t pos = 0;

	if (reason == LP_DROP_NONE)
		level = LP_LOG_TRACE;
	else if (reason == LP_DROP_NOT_READY || reason == LP_DROP_LOOP)
		level = LP_LOG_DEBUG; /* expected in normal operation */
	if (!lp_log_enabled(p->log, level) ||
	    (reason != LP_DROP_NONE && !lp_log_ratelimit_ok(rl, lp_loop_now(p->loop), &suppressed)))
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
	s = lp_pump_session(p);
	if (reason == LP_DROP_TOO_BIG && s != NULL && pos < sizeof(extra))
		snprintf(extra + pos, sizeof(extra) - pos, " budget=%zu",
		         lp_client_datagram_budget(s));
	if (suppressed > 0)
		lp_log(p->log, level, "%s%s (%" PRIu64 " similar lines suppressed)", line, extra,
		       suppressed);
	else
		lp_log(p->log, level, "%s%s", line, extra);
}

static void drop(struct lp_pump *p, enum lp_obs_dir dir, const uint8_t *frame, size_t len,
                 enum lp_drop_reason reason)
{
	p->drops[reason]++;
	lp_pump_log_frame(p, dir, frame, len, len, reason);
}

/* ---- Session -> device ---------------------------------------------------------- */

void lp_pump_frames_end(struct lp_pump *p)
{
	if (p->ops != NULL && p->ops->flush != NULL)
		p->drops[LP_DROP_QUEUE_FULL] += p->ops->flush(p->dev);
}

void lp_pump_from_relay(struct lp_pump *p, const uint8_t *frame, size_t len)
{
	ssize_t n;

	if (p->ops == NULL) {
		p->drops[LP_DROP_NOT_READY]++;
		return;
	}
	n = p->ops->write(p->dev, frame, len);
	if (n >= 0)
		lp_pump_log_frame(p, LP_OBS_DIR_FROM_RELAY, frame, len, len, LP_DROP_NONE);
	else
		drop(p, LP_OBS_DIR_FROM_RELAY, frame, len,
		     n == LP_ERR_AGAIN ? LP_DROP_QUEUE_FULL : LP_DROP_IO);
}

/* ---- Device -> session ---------------------------------------------------------- */

static enum lp_drop_reason send_drop(int rc)
{
	switch (rc) {
	case 0:
		return LP_DROP_NONE;
	case LP_ERR_TOO_BIG:
	case LP_ERR_PAYLOAD_MAX:
		return LP_DROP_TOO_BIG;
	case LP_ERR_AGAIN:
		return LP_DROP_QUEUE_FULL;
	case LP_ERR_RUNT:
		return LP_DROP_MALFORMED;
	default: /* LP_ERR_STATE: not admitted (yet, or any more) */
		return LP_DROP_NOT_READY;
	}
}

enum lp_drop_reason lp_pump_to_relay(struct lp_pump *p, const uint8_t *frame, size_t len,
                                     bool log_drops)
{
	enum lp_drop_reason why;

	lp_pump_learn(p, frame, len);
	if (lp_pump_session(p) == NULL) {
		p->drops[LP_DROP_NOT_READY]++;
		why = LP_DROP_NOT_READY;
	} else {
		/* The session counts its refusals in its own counters. */
		why = send_drop(lp_client_runner_send_frame(p->runner, frame, len));
	}
	if (why == LP_DROP_NONE || log_drops)
		lp_pump_log_frame(p, LP_OBS_DIR_TO_RELAY, frame, len, len, why);
	return why;
}

void lp_pump_learn(struct lp_pump *p, const uint8_t *frame, size_t len)
{
	(void)lp_lanip_observe(&p->lanip, frame, len, lp_loop_now(p->loop));
}

const struct lp_lanip *lp_pump_lanip(const struct lp_pump *p)
{
	return &p->lanip;
}

void lp_pump_flush(struct lp_pump *p)
{
	if (p->runner != NULL)
		lp_client_runner_flush(p->runner);
	/* A timer whose arming failed (no memory) gets another chance. */
	if (p->timers_stopped)
		return;
	if (p->status_interval != UINT64_MAX && !lp_loop_timer_armed(&p->status_timer))
		arm(p, &p->status_timer, p->status_interval, "status");
	if (p->ops != NULL && p->ops->ipv4 != NULL && !lp_loop_timer_armed(&p->addr_timer))
		arm(p, &p->addr_timer, p->addr_poll, "address poll");
}

/* A failed read: true when the device is gone (the pump let go of it). */
static bool read_failed(struct lp_pump *p, int err)
{
	uint64_t sup = 0;

	p->drops[LP_DROP_IO]++;
	if (++p->failed_reads < LP_PUMP_DEAD_READS) {
		if (lp_log_ratelimit_ok(&p->rl_err, lp_loop_now(p->loop), &sup))
			lp_log(p->log, LP_LOG_WARN, "%s: read failed: %s", p->name,
			       lp_strerror(err));
		return false;
	}
	lp_log(p->log, LP_LOG_ERROR,
	       "%s stopped working (%u reads in a row failed: %s): was it disabled, deleted or "
	       "its driver removed?",
	       p->name, p->failed_reads, lp_strerror(err));
	lp_pump_detach(p);
	if (p->cbs->dead != NULL)
		p->cbs->dead(p->user, err);
	return true;
}

/* Room in the session's datagram queue (SIZE_MAX: no session to wait for). */
static size_t tx_room(const struct lp_pump *p)
{
	struct lp_client *s = lp_pump_session(p);

	return s != NULL ? lp_client_datagram_room(s) : SIZE_MAX;
}

/* The queue is full: leave the frames in the device until it drains. */
static void pause_reads(struct lp_pump *p)
{
	if (p->paused || lp_loop_watch_mod(p->loop, p->src, 0) < 0)
		return; /* not paused: the next frames are dropped as queue_full */
	p->paused = true;
	p->pauses++;
}

void lp_pump_writable(struct lp_pump *p)
{
	if (!p->paused || p->ops == NULL || tx_room(p) == 0)
		return;
	/* Level-triggered: what waits in the device is read on the next turn. */
	if (lp_loop_watch_mod(p->loop, p->src, LP_LOOP_READ) == 0)
		p->paused = false;
}

uint64_t lp_pump_pauses(const struct lp_pump *p)
{
	return p->pauses;
}

static void drain(struct lp_pump *p)
{
	ssize_t n;
	int i;

	for (i = 0; i < LP_PUMP_RX_MAX && p->ops != NULL; i++) {
		if (tx_room(p) == 0) {
			pause_reads(p);
			break;
		}
		n = p->ops->read(p->dev, p->buf, sizeof(p->buf));
		if (n == LP_ERR_TRUNCATED) {
			p->failed_reads = 0;
			p->drops[LP_DROP_TRUNCATED]++;
			continue;
		}
		if (n == LP_ERR_AGAIN) {
			p->failed_reads = 0;
			break;
		}
		if (n < 0) {
			if (read_failed(p, (int)n))
				break;
			continue;
		}
		p->failed_reads = 0;
		(void)lp_pump_to_relay(p, p->buf, (size_t)n, true);
	}
	lp_pump_flush(p);
}

static void on_readable(struct lp_loop *l, intptr_t src, unsigned events, void *arg)
{
	(void)l;
	(void)src;
	(void)events;
	drain(arg);
}

/* ---- Timers --------------------------------------------------------------------- */

static void on_status_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_pump *p = arg;

	(void)l;
	p->cbs->status(p->user);
	arm(p, t, p->status_interval, "status");
}

static void on_addr_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct lp_pump *p = arg;
	char addr[ADDR_MAX];

	(void)l;
	if (p->ops == NULL)
		return;
	if (p->ops->ipv4(p->dev, addr, sizeof(addr)) == 0 && strcmp(addr, p->addr) != 0) {
		memcpy(p->addr, addr, sizeof(addr));
		p->cbs->status(p->user);
	}
	arm(p, t, p->addr_poll, "address poll");
}

/* ---- Lifetime ------------------------------------------------------------------- */

int lp_pump_new(struct lp_loop *loop, const struct lp_pump_cfg *cfg, const struct lp_pump_cbs *cbs,
                void *user, const struct lp_logger *log, struct lp_pump **out)
{
	struct lp_pump *p;
	int rc;

	if (loop == NULL || cfg == NULL || cbs == NULL || cbs->status == NULL || out == NULL)
		return LP_ERR_INVAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return LP_ERR_NOMEM;
	p->loop = loop;
	p->log = log;
	p->cbs = cbs;
	p->user = user;
	p->status_interval =
	        cfg->status_interval_ns ? cfg->status_interval_ns : STATUS_INTERVAL_DEFAULT;
	p->addr_poll = cfg->addr_poll_ns ? cfg->addr_poll_ns : LP_PUMP_ADDR_POLL_DEFAULT;
	lp_lanip_init(&p->lanip);
	lp_loop_timer_init(&p->status_timer, on_status_timer, p);
	lp_loop_timer_init(&p->addr_timer, on_addr_timer, p);
	lp_log_ratelimit_init(&p->rl_too_big, LOG_BURST, LOG_INTERVAL);
	lp_log_ratelimit_init(&p->rl_drop, LOG_BURST, LOG_INTERVAL);
	lp_log_ratelimit_init(&p->rl_err, LOG_BURST, LOG_INTERVAL);
	if (p->status_interval != UINT64_MAX) {
		rc = lp_loop_timer_arm(loop, &p->status_timer, lp_now_ns() + p->status_interval);
		if (rc < 0) {
			free(p);
			return rc;
		}
	}
	*out = p;
	return 0;
}

void lp_pump_del(struct lp_pump *p)
{
	if (p == NULL)
		return;
	lp_pump_detach(p);
	lp_pump_stop_timers(p);
	free(p);
}

void lp_pump_set_runner(struct lp_pump *p, struct lp_client_runner *r)
{
	p->runner = r;
}

int lp_pump_attach(struct lp_pump *p, const struct lp_pump_dev_ops *ops, void *dev, intptr_t src,
                   const char *name)
{
	int rc;

	if (ops == NULL || ops->read == NULL || ops->write == NULL || p->ops != NULL)
		return LP_ERR_INVAL;
	rc = lp_loop_watch(p->loop, src, LP_LOOP_READ, on_readable, p);
	if (rc < 0)
		return rc;
	p->ops = ops;
	p->dev = dev;
	p->src = src;
	snprintf(p->name, sizeof(p->name), "%s", name != NULL ? name : "TAP");
	p->failed_reads = 0;
	p->addr[0] = '\0';
	if (ops->ipv4 != NULL)
		arm(p, &p->addr_timer, p->addr_poll, "address poll");
	/* Frames the device queued before it was watched. */
	drain(p);
	return 0;
}

void lp_pump_detach(struct lp_pump *p)
{
	if (p->ops == NULL)
		return;
	lp_loop_unwatch(p->loop, p->src);
	lp_loop_timer_cancel(p->loop, &p->addr_timer);
	p->paused = false;
	p->ops = NULL;
	p->dev = NULL;
}

void lp_pump_stop_timers(struct lp_pump *p)
{
	p->timers_stopped = true;
	lp_loop_timer_cancel(p->loop, &p->status_timer);
	lp_loop_timer_cancel(p->loop, &p->addr_timer);
}

void lp_pump_count_drop(struct lp_pump *p, enum lp_drop_reason reason)
{
	p->drops[reason]++;
}

const uint64_t *lp_pump_drops(const struct lp_pump *p)
{
	return p->drops;
}

struct lp_client *lp_pump_session(const struct lp_pump *p)
{
	return p->runner != NULL ? lp_client_runner_session(p->runner) : NULL;
}
