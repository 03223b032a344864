/*
 * boot.c - the startup order and the run of every peer binary; see
 * boot.h. The per-OS steps are in boot_linux.c / boot_windows.c.
 *
 * The order is the security argument, so it is written once: nothing
 * reads network input before step 6, and step 6 runs only after the drop
 * succeeded - a binary cannot reach the runner with its privileges.
 */
#include "boot.h"

#include <stdio.h>
#include <string.h>

#include "boot_os.h"
#include "boot_status.h"
#include "lp_ctrl.h"
#include "lp_loop.h"
#include "lp_net.h"
#include "lp_quic.h"
#include "lp_version.h"

#define SHUTDOWN_WAIT (3 * LP_NS_PER_SEC)

void lp_boot_fail(struct lp_boot *b)
{
	b->failed = true;
	lp_loop_stop(b->loop);
}

/* ---- The runner's callbacks --------------------------------------------------- */

static void on_frame(struct lp_client *s, const uint8_t *frame, size_t len, void *user)
{
	struct lp_boot *b = user;

	(void)s;
	lp_pump_learn(b->pump, frame, len);
	if (b->app->peer->session.frame != NULL)
		b->app->peer->session.frame(b, frame, len);
	else
		lp_pump_from_relay(b->pump, frame, len);
}

/* The gateway's invite on stdout, a line of its own; relay_pin is the pin
 * the --ca-file chain verified (NULL before a connection). */
static int print_invite(struct lp_boot *b, const uint8_t *relay_pin)
{
	int rc = lp_peer_cli_print_invite(&b->args, relay_pin, stdout);

	if (rc == 0)
		b->invite_printed = true;
	else if (rc != LP_ERR_STATE || relay_pin != NULL)
		lp_log(b->log, LP_LOG_ERROR, "cannot write the invite: %s", lp_strerror(rc));
	else if (b->args.print_invite)
		lp_log(b->log, LP_LOG_ERROR,
		       "--print-invite with --ca-file needs --relay-pin (the relay logs its pin at "
		       "start)");
	else
		lp_log(b->log, LP_LOG_INFO,
		       "the invite follows once the relay's certificate is verified (--ca-file)");
	return rc;
}

static void on_event(struct lp_client *s, const struct lp_client_event *ev, void *user)
{
	struct lp_boot *b = user;
	enum lp_peer_action act;
	uint8_t pin[LP_QUIC_PIN_LEN];

	if (ev->type == LP_CLIENT_EV_WELCOME) {
		if (b->args.room_file != NULL && !b->invite_printed &&
		    lp_client_relay_pin(s, pin) == 0)
			(void)print_invite(b, pin);
		b->app->peer->session.welcome(b, s, ev);
		return;
	}
	act = lp_peer_events_log(&b->pe, s, ev);
	if (b->app->peer->session.event != NULL)
		b->app->peer->session.event(b, s, ev);
	if (act == LP_PEER_ACT_STATUS)
		b->app->peer->session.status(b);
	else if (act == LP_PEER_ACT_FAILED)
		lp_boot_fail(b);
}

/* A batch from the relay is through: the device writes what it held. */
static void on_frames_end(void *user)
{
	struct lp_boot *b = user;

	if (b->pump != NULL)
		lp_pump_frames_end(b->pump);
	if (b->app->peer->session.frames_end != NULL)
		b->app->peer->session.frames_end(b);
}

/* The runner wrote: a pump waiting for queue room may read again. */
static void on_writable(void *user)
{
	struct lp_boot *b = user;

	if (b->pump != NULL)
		lp_pump_writable(b->pump);
}

static const struct lp_client_cbs boot_cbs = {
	.frame = on_frame, .event = on_event, .frames_end = on_frames_end, .writable = on_writable
};

/* ---- The pump's callbacks ----------------------------------------------------- */

static void on_status(void *user)
{
	struct lp_boot *b = user;

	b->app->peer->session.status(b);
}

static void on_dead(void *user, int err)
{
	(void)err; /* the pump logged it */
	lp_boot_fail(user);
}

static const struct lp_pump_cbs pump_cbs = { .status = on_status, .dead = on_dead };

/* ---- Steps ---------------------------------------------------------------------- */

/* lp_cli_opt_fn: the shared peer flags first, then the binary's own. */
static int on_opt(void *user, int id, const char *arg, char *err, size_t cap)
{
	struct lp_boot *b = user;
	const struct lp_boot_app *app = b->app;
	int rc = lp_peer_cli_opt(&b->args, id, arg, err, cap);

	if (rc != LP_PEER_CLI_NOT_MINE)
		return rc;
	return app->opt != NULL ? app->opt(app->user, id, arg, err, cap) : LP_ERR_INVAL;
}

/* lp_cli_wait_fn: sleeps on the loop so a stop request ends the wait. */
static int wait_on_loop(void *user, uint64_t ns)
{
	struct lp_loop *l = user;
	uint64_t end = lp_now_ns() + ns, now;

	while (!lp_boot_os_stopping() && (now = lp_now_ns()) < end)
		if (lp_loop_run_once(l, end - now) < 0)
			return 1;
	return lp_boot_os_stopping() ? 1 : 0;
}

/* Steps 1-3 after parsing; 0, or the exit status. */
static int prepare(struct lp_boot *b, struct lp_client_runner_cfg *rcfg)
{
	struct lp_peer_args *a = &b->args;
	int rc;

	if (lp_peer_cli_check_files(a, b->log) < 0)
		return LP_CLI_EXIT_FAIL;
	(void)lp_peer_cli_room_name(a, b->room_name, sizeof(b->room_name));
	if (a->room_file != NULL)
		(void)print_invite(b, NULL);
	if (b->app->peer->role == LP_ROLE_CLIENT &&
	    lp_peer_identity_load(&a->id, b->log, &b->mac) < 0)
		return LP_CLI_EXIT_FAIL;
	rc = lp_loop_new(&b->loop);
	if (rc == 0)
		rc = lp_boot_os_signals(b);
	if (rc < 0) {
		lp_log(b->log, LP_LOG_ERROR, "cannot set up the event loop: %s", lp_strerror(rc));
		return LP_CLI_EXIT_FAIL;
	}
	/* Built while the files are still readable as the starting user; the
	 * runner rebuilds it after a relay restart with a new pinned
	 * certificate (as --user). */
	lp_peer_cli_tls(a, &rcfg->tls);
	rc = lp_client_tls_new(&rcfg->tls, b->log, &rcfg->quic, &rcfg->pin_sig);
	if (rc < 0) {
		/* lib/quic has logged the cause (which file, what is wrong). */
		lp_log(b->log, rc == LP_ERR_NOMEM ? LP_LOG_ERROR : LP_LOG_DEBUG,
		       "cannot set up TLS for the relay connection: %s", lp_strerror(rc));
		return LP_CLI_EXIT_FAIL;
	}
	rc = lp_cli_resolve_relay(&a->relay, b->relay, LP_BOOT_RELAY_MAX, &b->relay_count, b->log,
	                          lp_boot_os_resolve, b, wait_on_loop, b->loop);
	if (rc < 0)
		return lp_boot_os_stopping() ? LP_CLI_EXIT_OK : LP_CLI_EXIT_FAIL;
	return 0;
}

/* Steps 4-6; 0, or the exit status. */
static int start(struct lp_boot *b, struct lp_client_runner_cfg *rcfg, char *software, size_t cap)
{
	const struct lp_boot_app *app = b->app;
	const struct lp_boot_peer *h = app->peer;
	struct lp_pump_cfg pcfg = { .status_interval_ns = b->args.status_interval };
	struct lp_client_runner *runner = NULL;
	int rc;

	if (h->open(b) < 0)
		return LP_CLI_EXIT_FAIL;
	lp_boot_status_open(b); /* privileged: the socket is handed to --user */
	if (lp_boot_os_drop(b) < 0)
		return LP_CLI_EXIT_FAIL;
	rc = lp_pump_new(b->loop, &pcfg, &pump_cbs, b, b->log, &b->pump);
	if (rc < 0) {
		lp_log(b->log, LP_LOG_ERROR, "cannot start the frame pump: %s", lp_strerror(rc));
		return LP_CLI_EXIT_FAIL;
	}
	if (h->start != NULL && h->start(b) < 0)
		return LP_CLI_EXIT_FAIL;

	lp_log(b->log, LP_LOG_INFO, "%s %s: joining room %s", app->prog.name, LP_VERSION,
	       b->room_name);
	snprintf(software, cap, "softlan-vpn %s %s %s", LP_VERSION,
	         lp_ctrl_role_name(app->peer->role), lp_boot_os_name);
	rcfg->session.role = app->peer->role;
	lp_peer_cli_session(&b->args, &rcfg->session);
	rcfg->session.mac = b->mac;
	rcfg->session.software = software;
	rcfg->session.stats_interval_ns = b->args.status_interval;
	rcfg->relay = b->relay;
	rcfg->relay_count = b->relay_count;
	rc = lp_client_runner_new(b->loop, rcfg, &boot_cbs, b, b->log, &runner);
	rcfg->quic = NULL; /* the runner's now */
	if (rc < 0) {
		if (rc == LP_ERR_ROLE_MAC || rc == LP_ERR_ROLE) {
			char mac[LP_MAC_STR_LEN];

			lp_proto_mac_format(&b->mac, mac);
			lp_log(b->log, LP_LOG_ERROR,
			       "MAC %s cannot identify a %s (needs a unicast, non-zero MAC)", mac,
			       lp_ctrl_role_name(app->peer->role));
		} else {
			lp_log(b->log, LP_LOG_ERROR, "cannot start the relay session: %s",
			       lp_strerror(rc));
		}
		return LP_CLI_EXIT_FAIL;
	}
	b->pe.runner = runner;
	lp_pump_set_runner(b->pump, runner);
	return 0;
}

/* Step 7; the exit status. */
static int run(struct lp_boot *b)
{
	const struct lp_boot_peer *h = b->app->peer;
	char reason[64];
	int rc;

	if (!lp_boot_os_stopping() && lp_loop_run(b->loop) < 0) {
		lp_log(b->log, LP_LOG_ERROR, "event loop failed");
		b->failed = true;
	}
	if (h->stopping != NULL)
		h->stopping(b);
	lp_pump_stop_timers(b->pump);
	/* A runner that gave up has no session left to disconnect. */
	if (!lp_client_runner_stopped(b->pe.runner)) {
		snprintf(reason, sizeof(reason), "%s %s", lp_ctrl_role_name(b->app->peer->role),
		         b->failed ? "failed" : "shutting down");
		rc = lp_client_runner_disconnect(b->pe.runner, reason, SHUTDOWN_WAIT);
		if (rc == LP_ERR_TIMEOUT)
			lp_log(b->log, LP_LOG_INFO, "relay did not confirm the disconnect in time");
	}
	if (h->finish != NULL && h->finish(b) != 0)
		b->failed = true;
	if (b->failed)
		return LP_CLI_EXIT_FAIL;
	lp_log(b->log, LP_LOG_INFO, "stopped");
	return LP_CLI_EXIT_OK;
}

int lp_boot_main(const struct lp_boot_app *app, int argc, char **argv)
{
	struct lp_cli_common common;
	struct lp_client_runner_cfg rcfg;
	struct lp_boot b;
	char software[64];
	int rc, status;

	if (argc >= 2 && strcmp(argv[1], "status") == 0)
		return lp_boot_status_cmd(app, argc - 1, argv + 1);
	memset(&b, 0, sizeof(b));
	memset(&rcfg, 0, sizeof(rcfg));
	b.app = app;
	b.args.id.path = lp_boot_os_identity;
	b.args.user = LP_BOOT_USER_DEFAULT;
	b.args.status_interval = LP_CLIENT_STATS_INTERVAL_DEFAULT;
	rc = lp_cli_parse(&app->prog, argc, argv, on_opt, &b, &common);
	if (rc == LP_CLI_DONE)
		return LP_CLI_EXIT_OK;
	if (rc < 0 || lp_peer_cli_finish(&b.args, app->peer->role, &app->prog) < 0)
		return LP_CLI_EXIT_USAGE;
	if (lp_boot_os_init(app) < 0)
		return LP_CLI_EXIT_FAIL;
	lp_obs_sink_init(&b.sink, app->prog.name, common.log_level,
	                 common.log_json ? LP_OBS_FORMAT_JSON : LP_OBS_FORMAT_TEXT, stderr);
	b.log = &b.sink.logger;
	lp_peer_events_init(&b.pe, b.log);

	if (b.args.print_invite) {
		/* --print-invite: the room file (made when missing), the line, exit. */
		status = lp_peer_cli_check_files(&b.args, b.log) == 0 && print_invite(&b, NULL) == 0
		                 ? LP_CLI_EXIT_OK
		                 : LP_CLI_EXIT_FAIL;
		lp_peer_cli_free(&b.args);
		return status;
	}
	status = prepare(&b, &rcfg);
	if (status == 0)
		status = start(&b, &rcfg, software, sizeof(software));
	if (status == 0)
		status = run(&b);
	lp_boot_os_disarm();
	lp_boot_status_close(&b);
	lp_client_runner_del(b.pe.runner);
	lp_pump_del(b.pump);
	if (app->peer->cleanup != NULL)
		app->peer->cleanup(&b);
	lp_quic_ctx_del(rcfg.quic);
	lp_loop_del(b.loop);
	lp_boot_os_fini();
	lp_peer_cli_free(&b.args);
	return status;
}
