/*
 * lanparty-gateway - bridges a wired LAN into a softlan-vpn room.
 *
 * Startup order matters: resolve the relay (nothing touched yet), open the
 * AF_PACKET capture (needs root / CAP_NET_RAW), drop privileges for good,
 * and only then talk to the network. After that one loop runs the bridge
 * (bridge.c) and the relay session with reconnects (lib/client-core).
 */
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "capture.h"
#include "cli.h"
#include "lp_client.h"
#include "lp_ctrl.h"
#include "lp_loop.h"
#include "lp_net.h"
#include "lp_obs.h"
#include "lp_quic.h"
#include "lp_version.h"
#include "peer_cli.h"
#include "privdrop.h"

#define PROG "lanparty-gateway"
#define RELAY_ADDRS_MAX 8
#define SHUTDOWN_WAIT (3 * LP_NS_PER_SEC)

enum { OPT_IFACE = LP_PEER_OPT__NEXT, OPT_USER, OPT_CAM_INTERVAL, OPT_STATS_INTERVAL };

static const struct lp_cli_opt gw_opts[] = {
	LP_PEER_CLI_OPTS("room to bridge the LAN into"),
	LP_PEER_CLI_GATEWAY_OPTS,
	{ OPT_IFACE, "iface", "IFACE", NULL, false,
	  "wired LAN interface to bridge (e.g. eth0); required unless --print-invite" },
	{ OPT_USER, "user", "USER", LP_PRIVDROP_DEFAULT_USER, false,
	  "user to switch to once the LAN socket is open" },
	{ OPT_CAM_INTERVAL, "cam-interval", "SECONDS", "30", false,
	  "how often each remote client's MAC is refreshed in the LAN switch (1-3600)" },
	{ OPT_STATS_INTERVAL, "stats-interval", "SECONDS", "10", false,
	  "period of the stats sent to the relay and of the status log line (1-3600)" },
};

static const char gw_examples[] =
        "  " PROG " --relay relay.example.org --room-file party.room --iface eth0\n"
        "  " PROG " --relay relay.example.org --room-file party.room --print-invite\n"
        "  " PROG " --relay relay.example.org --room LAN1 --iface eth0   (open room)\n"
        "  " PROG " --relay 198.18.0.1:4433 --server-name relay.test \\\n"
        "      --relay-ca-cert relay-cert.der --room LAN1 --iface eth0 --log-level debug\n";

static const char gw_notes[] =
        "Runs as root (or with CAP_NET_RAW) to open the LAN socket, then switches to --user "
        "with no capabilities left. Frames whose encoded datagram exceeds the room's QUIC "
        "budget are dropped and logged, never fragmented. Exit status: 0 after SIGINT/SIGTERM, "
        "1 on a startup or permanent failure, 2 on a usage error.";

struct gw_args {
	struct lp_peer_args peer;
	const char *iface;
	const char *user;
	uint64_t cam_interval;
	uint64_t stats_interval;
	const struct lp_logger *log;
	bool invite_printed;
};

static int on_opt(void *user, int id, const char *arg, char *err, size_t cap)
{
	struct gw_args *a = user;
	int rc;

	rc = lp_peer_cli_opt(&a->peer, id, arg, err, cap);
	if (rc != LP_PEER_CLI_NOT_MINE)
		return rc;
	switch (id) {
	case OPT_IFACE:
		if (strlen(arg) >= IFNAMSIZ) {
			snprintf(err, cap, "--iface: '%s' is longer than %d characters", arg,
			         IFNAMSIZ - 1);
			return LP_ERR_INVAL;
		}
		a->iface = arg;
		return 0;
	case OPT_USER:
		a->user = arg;
		return 0;
	case OPT_CAM_INTERVAL:
		return lp_cli_parse_seconds("cam-interval", arg, LP_NS_PER_SEC,
		                            3600 * LP_NS_PER_SEC, &a->cam_interval, err, cap);
	case OPT_STATS_INTERVAL:
		return lp_cli_parse_seconds("stats-interval", arg, LP_NS_PER_SEC,
		                            3600 * LP_NS_PER_SEC, &a->stats_interval, err, cap);
	default:
		return LP_ERR_INVAL;
	}
}

/* The invite on stdout, a line of its own; the log says why when it cannot. */
static int print_invite(struct gw_args *a, const uint8_t *relay_pin)
{
	int rc = lp_peer_cli_print_invite(&a->peer, relay_pin, stdout);

	if (rc == 0)
		a->invite_printed = true;
	else if (rc != LP_ERR_STATE || relay_pin != NULL)
		lp_log(a->log, LP_LOG_ERROR, "cannot write the invite: %s", lp_strerror(rc));
	else if (a->peer.print_invite)
		lp_log(a->log, LP_LOG_ERROR,
		       "--print-invite with --ca-file needs --relay-pin (the relay logs its pin at "
		       "start)");
	return rc;
}

/* With --ca-file the pin is the one the verified chain ended in. */
static void on_welcome(void *user, struct lp_client *s)
{
	struct gw_args *a = user;
	uint8_t pin[LP_QUIC_PIN_LEN];

	if (a->invite_printed || !a->peer.private_room || lp_client_relay_pin(s, pin) != 0)
		return;
	(void)print_invite(a, pin);
}

static volatile sig_atomic_t stop_requested;

static void on_signal(struct lp_loop *l, int signo, void *arg)
{
	const struct lp_obs_sink *sink = arg;
	const struct lp_logger *log = &sink->logger;

	lp_log(log, LP_LOG_INFO, "%s received, shutting down",
	       signo == SIGINT ? "SIGINT" : "SIGTERM");
	stop_requested = 1;
	lp_loop_stop(l);
}

/* lp_cli_wait_fn: sleeps on the loop so signals still end the wait. */
static int wait_on_loop(void *user, uint64_t ns)
{
	struct lp_loop *l = user;
	uint64_t end = lp_now_ns() + ns, now;

	while (!stop_requested && (now = lp_now_ns()) < end)
		if (lp_loop_run_once(l, end - now) < 0)
			return 1;
	return stop_requested ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct gw_args a = { .user = LP_PRIVDROP_DEFAULT_USER,
		             .cam_interval = 30 * LP_NS_PER_SEC,
		             .stats_interval = 10 * LP_NS_PER_SEC };
	struct lp_cli_prog prog = { .name = PROG,
		                    .summary =
		                            "Bridges a wired LAN into a softlan-vpn room: LAN "
		                            "frames travel to the relay's remote clients as QUIC "
		                            "datagrams, and theirs come out on the LAN.",
		                    .opts = gw_opts,
		                    .n_opts = LP_ARRAY_LEN(gw_opts),
		                    .examples = gw_examples,
		                    .notes = gw_notes };
	struct sockaddr_storage addrs[RELAY_ADDRS_MAX];
	struct lp_client_runner_cfg rcfg;
	struct lp_client_runner *runner = NULL;
	struct lp_cli_common common;
	struct lp_obs_sink sink;
	const struct lp_logger *log = &sink.logger;
	struct lp_loop *loop = NULL;
	struct lp_capture *cap = NULL;
	struct lp_bridge *bridge = NULL;
	struct lp_bridge_cfg bcfg;
	struct lp_mac mac;
	char macs[LP_MAC_STR_LEN], software[64], room[LP_CTRL_ROOM_MAX + 1];
	size_t naddr = 0;
	int rc, status = LP_CLI_EXIT_FAIL;

	memset(&rcfg, 0, sizeof(rcfg));
	rc = lp_cli_parse(&prog, argc, argv, on_opt, &a, &common);
	if (rc == LP_CLI_DONE)
		return LP_CLI_EXIT_OK;
	if (rc < 0)
		return LP_CLI_EXIT_USAGE;
	if (lp_peer_cli_finish(&a.peer, LP_ROLE_GATEWAY, &prog) < 0)
		return LP_CLI_EXIT_USAGE;
	if (a.iface == NULL && !a.peer.print_invite) {
		lp_cli_usage_error(&prog, stderr, "--iface IFACE is required");
		return LP_CLI_EXIT_USAGE;
	}
	lp_obs_sink_init(&sink, PROG, common.log_level,
	                 common.log_json ? LP_OBS_FORMAT_JSON : LP_OBS_FORMAT_TEXT, stderr);
	a.log = log;

	if (lp_peer_cli_check_files(&a.peer, log) < 0)
		goto out;
	if (a.peer.print_invite) {
		if (print_invite(&a, NULL) == 0)
			status = LP_CLI_EXIT_OK;
		goto out;
	}
	if (a.peer.private_room && print_invite(&a, NULL) == LP_ERR_STATE)
		lp_log(log, LP_LOG_INFO,
		       "the invite follows once the relay's certificate is verified (--ca-file)");
	rc = lp_loop_new(&loop);
	if (rc == 0)
		rc = lp_loop_signal_add(loop, SIGINT, on_signal, &sink);
	if (rc == 0)
		rc = lp_loop_signal_add(loop, SIGTERM, on_signal, &sink);
	if (rc < 0) {
		lp_log(log, LP_LOG_ERROR, "cannot set up the event loop: %s", lp_strerror(rc));
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);

	/* Built before the privilege drop; the runner rebuilds it after a
	 * relay restart with a new pinned certificate (as --user). */
	lp_peer_cli_tls(&a.peer, &rcfg.tls);
	rc = lp_client_tls_new(&rcfg.tls, log, &rcfg.quic, &rcfg.pin_sig);
	if (rc < 0) {
		/* lib/quic has logged the cause (which file, what is wrong). */
		lp_log(log, rc == LP_ERR_NOMEM ? LP_LOG_ERROR : LP_LOG_DEBUG,
		       "cannot set up TLS for the relay connection: %s", lp_strerror(rc));
		goto out;
	}

	rc = lp_cli_resolve_relay(&a.peer.relay, addrs, RELAY_ADDRS_MAX, &naddr, log, wait_on_loop,
	                          loop);
	if (rc < 0) {
		if (stop_requested)
			status = LP_CLI_EXIT_OK;
		goto out;
	}

	rc = lp_capture_open(a.iface, &cap);
	if (rc < 0) {
		if (rc == LP_ERR_NOT_FOUND)
			lp_log(log, LP_LOG_ERROR, "no such interface '%s' (--iface)", a.iface);
		else if (rc == LP_ERR_PERM)
			lp_log(log, LP_LOG_ERROR,
			       "opening a packet socket on %s needs root or CAP_NET_RAW", a.iface);
		else
			lp_log(log, LP_LOG_ERROR, "cannot open the LAN interface %s: %s", a.iface,
			       lp_strerror(rc));
		goto out;
	}
	lp_capture_mac(cap, &mac);
	rc = lp_privdrop(a.user, 0);
	if (rc < 0) {
		if (rc == LP_ERR_NOT_FOUND)
			lp_log(log, LP_LOG_ERROR, "no such user '%s' (--user)", a.user);
		else if (rc == LP_ERR_INVAL)
			lp_log(log, LP_LOG_ERROR, "--user %s is root: refusing to keep root",
			       a.user);
		else
			lp_log(log, LP_LOG_ERROR, "cannot drop privileges to %s: %s", a.user,
			       lp_strerror(rc));
		goto out;
	}
	lp_proto_mac_format(&mac, macs);
	lp_log(log, LP_LOG_INFO,
	       "%s %s: bridging LAN interface %s (%s) into room %s, running as %s", PROG,
	       LP_VERSION, a.iface, macs, lp_peer_cli_room_name(&a.peer, room, sizeof(room)),
	       a.user);

	memset(&bcfg, 0, sizeof(bcfg));
	bcfg.room = lp_peer_cli_room_name(&a.peer, room, sizeof(room));
	bcfg.welcome = on_welcome;
	bcfg.welcome_user = &a;
	bcfg.cam_interval_ns = a.cam_interval;
	bcfg.status_interval_ns = a.stats_interval;
	rc = lp_bridge_new(loop, cap, &bcfg, log, &bridge);
	if (rc < 0) {
		lp_log(log, LP_LOG_ERROR, "cannot start the bridge: %s", lp_strerror(rc));
		goto out;
	}

	snprintf(software, sizeof(software), "softlan-vpn %s gateway linux", LP_VERSION);
	rcfg.session.role = LP_ROLE_GATEWAY;
	lp_peer_cli_session(&a.peer, &rcfg.session);
	rcfg.session.mac = mac;
	rcfg.session.software = software;
	rcfg.session.stats_interval_ns = a.stats_interval;
	rcfg.relay = addrs;
	rcfg.relay_count = naddr;
	rc = lp_client_runner_new(loop, &rcfg, lp_bridge_client_cbs(), bridge, log, &runner);
	rcfg.quic = NULL; /* the runner's now */
	if (rc < 0) {
		if (rc == LP_ERR_ROLE_MAC || rc == LP_ERR_ROLE)
			lp_log(log, LP_LOG_ERROR,
			       "interface %s has MAC %s, which cannot identify a gateway "
			       "(needs a unicast, non-zero MAC)",
			       a.iface, macs);
		else
			lp_log(log, LP_LOG_ERROR, "cannot start the relay session: %s",
			       lp_strerror(rc));
		goto out;
	}
	lp_bridge_set_runner(bridge, runner);

	if (!stop_requested && lp_loop_run(loop) < 0) {
		lp_log(log, LP_LOG_ERROR, "event loop failed");
		goto out;
	}
	if (lp_bridge_failed(bridge))
		goto out; /* the runner gave up: already logged */
	rc = lp_client_runner_disconnect(runner, "gateway shutting down", SHUTDOWN_WAIT);
	if (rc == LP_ERR_TIMEOUT)
		lp_log(log, LP_LOG_INFO, "relay did not confirm the disconnect in time");
	lp_bridge_log_status(bridge);
	lp_log(log, LP_LOG_INFO, "stopped");
	status = LP_CLI_EXIT_OK;
out:
	lp_client_runner_del(runner);
	lp_bridge_del(bridge);
	lp_capture_close(cap);
	lp_quic_ctx_del(rcfg.quic);
	lp_loop_del(loop);
	lp_peer_cli_free(&a.peer);
	return status;
}
