/*
 * lanparty-client-win - joins a softlan-vpn room from Windows through a
 * TAP-Windows6 adapter; the Windows twin of lanparty-client.
 *
 * Startup order: winsock, identity (the tunnel MAC), resolve the relay
 * before the TAP adapter is touched, connect and get admitted, and only
 * then pin the relay route and bring the adapter up with the room MTU
 * (winclient.c). On exit - Ctrl-C, console close, or a failure - the relay
 * gets a best-effort disconnect while the pinned route still holds, then
 * every scoped route change is restored.
 */
#include <winsock2.h>
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lp_client.h"
#include "lp_ctrl.h"
#include "lp_net.h"
#include "lp_obs.h"
#include "lp_quic.h"
#include "lp_route.h"
#include "lp_tap.h"
#include "lp_version.h"
#include "lp_loop.h"
#include "peer_cli.h"
#include "winclient.h"

#define PROG "lanparty-client-win"
#define RELAY_ADDRS_MAX 8
#define SHUTDOWN_WAIT (3 * LP_NS_PER_SEC)
/* Console close / logoff / shutdown: Windows ends the process about 5 s
 * after the handler was called; leave room for the route restore. */
#define CTRL_CLOSE_GRACE_MS 4000
#define PIPE_PREFIX "\\\\.\\pipe\\"

enum {
	OPT_VIRTUAL_MAC = LP_PEER_OPT__NEXT,
	OPT_IDENTITY,
	OPT_TAP,
	OPT_STATUS_INTERVAL,
	OPT_ALLOW_NO_ROUTE
};

static const struct lp_cli_opt client_opts[] = {
	LP_PEER_CLI_OPTS("room to join"),
	{ OPT_VIRTUAL_MAC, "virtual-mac", "MAC", "the identity file's MAC", false,
	  "tunnel MAC to use instead of the stored identity (testing); the file is not touched" },
	{ OPT_IDENTITY, "identity", "FILE", LP_CTRL_IDENTITY_FILE, false,
	  "identity file holding this computer's tunnel MAC, relative to the working "
	  "directory; created with a random locally administered MAC when missing" },
	{ OPT_TAP, "tap", "NAME|GUID", "the first TAP-Windows6 adapter", false,
	  "TAP-Windows6 adapter to use: its connection name or {GUID}" },
	{ OPT_STATUS_INTERVAL, "status-interval", "SECONDS", "10", false,
	  "period of the status lines and of the stats sent to the relay (1-3600)" },
	{ OPT_ALLOW_NO_ROUTE, "allow-no-route-protection", NULL, NULL, false,
	  "for test rigs only (e.g. Wine): run even when the system cannot pin the relay "
	  "route or change TAP routes, with a warning, instead of refusing to bridge" },
};

static const char client_examples[] =
        "  " PROG " --relay relay.example.org --room LAN1\n"
        "  " PROG " --relay 198.18.0.1:4433 --server-name relay.test ^\n"
        "      --relay-ca-cert relay-cert.der --room LAN1 --tap \"LAN party\"\n";

static const char client_notes[] =
        "Runs as Administrator: it writes the adapter's NetworkAddress (the tunnel MAC) and "
        "changes routes. Once the relay admitted this client it pins a host route for the "
        "relay on the current interface, sets the TAP IP MTU to the room MTU and a low TAP "
        "interface metric, removes TAP default routes, and checks that the relay still "
        "routes outside the tunnel; all of it is undone on exit (Ctrl-C or closing the "
        "console). If the adapter reports another MAC than the identity, disable and enable "
        "it (or reinstall it) so the driver reads the new NetworkAddress. Windows then gets "
        "an address by DHCP from the party's LAN. Test rigs: --tap \\\\.\\pipe\\NAME opens "
        "that named pipe as a stand-in for the driver (tests/wine/tap_pipe_server), after "
        "the usual adapter lookup and NetworkAddress write. Exit status: 0 after Ctrl-C, 1 "
        "on a startup or permanent failure, 2 on a usage error.";

struct client_args {
	struct lp_peer_args peer;
	struct lp_peer_identity id;
	const char *tap;
	const char *tap_device;
	uint64_t status_interval;
	bool allow_no_route;
};

static int on_opt(void *user, int id, const char *arg, char *err, size_t cap)
{
	struct client_args *a = user;
	uint64_t ns = 0;
	int rc;

	rc = lp_peer_cli_opt(&a->peer, id, arg, err, cap);
	if (rc != LP_PEER_CLI_NOT_MINE)
		return rc;
	switch (id) {
	case OPT_VIRTUAL_MAC:
		return lp_peer_identity_mac_opt(&a->id, arg, err, cap);
	case OPT_IDENTITY:
		a->id.path = arg;
		return 0;
	case OPT_TAP:
		if (strlen(arg) >= LP_TAP_NAME_MAX) {
			snprintf(err, cap, "--tap: '%s' is longer than %d characters", arg,
			         LP_TAP_NAME_MAX - 1);
			return LP_ERR_INVAL;
		}
		/* A named pipe is the test stand-in for the driver's device. */
		if (_strnicmp(arg, PIPE_PREFIX, strlen(PIPE_PREFIX)) == 0) {
			a->tap_device = arg;
			a->tap = NULL;
		} else {
			a->tap = arg;
			a->tap_device = NULL;
		}
		return 0;
	case OPT_STATUS_INTERVAL:
		rc = lp_cli_parse_seconds("status-interval", arg, LP_NS_PER_SEC,
		                          3600 * LP_NS_PER_SEC, &ns, err, cap);
		if (rc == 0)
			a->status_interval = ns;
		return rc;
	case OPT_ALLOW_NO_ROUTE:
		a->allow_no_route = true;
		return 0;
	default:
		return LP_ERR_INVAL;
	}
}

/* ---- Console control (Ctrl-C, close): runs on a thread of its own ---------------- */

static HANDLE stop_event; /* watched by the loop */
static HANDLE done_event; /* main finished its cleanup */
static volatile LONG stop_requested;
static volatile LONG ctrl_type_seen;
static SRWLOCK client_lock = SRWLOCK_INIT; /* guards client_for_ctrl */
static struct lp_wclient *client_for_ctrl;

static BOOL WINAPI on_console_ctrl(DWORD type)
{
	InterlockedExchange(&ctrl_type_seen, (LONG)type);
	InterlockedExchange(&stop_requested, 1);
	SetEvent(stop_event);
	if (type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT)
		return TRUE;
	/* Close, logoff, shutdown: the process dies when this returns. Give the
	 * main thread time to disconnect and restore; if it cannot finish,
	 * restore the routes from here (each step runs exactly once). */
	if (WaitForSingleObject(done_event, CTRL_CLOSE_GRACE_MS) != WAIT_OBJECT_0) {
		AcquireSRWLockExclusive(&client_lock);
		if (client_for_ctrl != NULL)
			lp_wclient_restore_routes(client_for_ctrl);
		ReleaseSRWLockExclusive(&client_lock);
	}
	return TRUE;
}

static void set_client_for_ctrl(struct lp_wclient *c)
{
	AcquireSRWLockExclusive(&client_lock);
	client_for_ctrl = c;
	ReleaseSRWLockExclusive(&client_lock);
}

static const char *ctrl_name(LONG type)
{
	switch (type) {
	case CTRL_C_EVENT:
		return "Ctrl-C";
	case CTRL_BREAK_EVENT:
		return "Ctrl-Break";
	case CTRL_CLOSE_EVENT:
		return "console close";
	case CTRL_LOGOFF_EVENT:
		return "logoff";
	case CTRL_SHUTDOWN_EVENT:
		return "system shutdown";
	default:
		return "console control event";
	}
}

static void on_stop_event(struct lp_loop *l, intptr_t src, unsigned events, void *arg)
{
	const struct lp_obs_sink *sink = arg;
	const struct lp_logger *log = &sink->logger;
	HANDLE h = (HANDLE)src;
	static bool logged;

	(void)events;
	ResetEvent(h); /* the flag stays; a set event would spin the shutdown waits */
	if (!logged)
		lp_log(log, LP_LOG_INFO, "%s received, shutting down",
		       ctrl_name(InterlockedCompareExchange(&ctrl_type_seen, 0, 0)));
	logged = true;
	lp_loop_stop(l);
}

static bool stopping(void)
{
	return InterlockedCompareExchange(&stop_requested, 0, 0) != 0;
}

static int wait_on_loop(void *user, uint64_t ns)
{
	struct lp_loop *l = user;
	uint64_t end = lp_now_ns() + ns, now;

	while (!stopping() && (now = lp_now_ns()) < end)
		if (lp_loop_run_once(l, end - now) < 0)
			return 1;
	return stopping() ? 1 : 0;
}

/* Everything after the command line; main() owns winsock and the timer period. */
static int run(struct client_args *a, const struct lp_cli_common *common)
{
	struct sockaddr_storage addrs[RELAY_ADDRS_MAX];
	struct lp_client_runner_cfg rcfg;
	struct lp_wclient_cfg wcfg;
	struct lp_obs_sink sink;
	const struct lp_logger *log = &sink.logger;
	struct lp_loop *loop = NULL;
	struct lp_wclient *client = NULL;
	struct lp_client_runner *runner = NULL;
	struct lp_route route;
	struct lp_mac mac;
	char software[64];
	size_t naddr = 0, failures;
	int rc, status = LP_CLI_EXIT_FAIL;

	memset(&route, 0, sizeof(route));
	memset(&rcfg, 0, sizeof(rcfg));
	lp_obs_sink_init(&sink, PROG, common->log_level,
	                 common->log_json ? LP_OBS_FORMAT_JSON : LP_OBS_FORMAT_TEXT, stderr);
	if (lp_peer_cli_check_files(&a->peer, log) < 0)
		goto out;
	if (lp_peer_identity_load(&a->id, log, &mac) < 0)
		goto out;

	rc = lp_loop_new(&loop);
	if (rc == 0)
		rc = lp_loop_watch(loop, (intptr_t)stop_event, LP_LOOP_READ, on_stop_event, &sink);
	if (rc < 0) {
		lp_log(log, LP_LOG_ERROR, "cannot set up the event loop: %s", lp_strerror(rc));
		goto out;
	}

	lp_peer_cli_tls(&a->peer, &rcfg.tls);
	rc = lp_client_tls_new(&rcfg.tls, log, &rcfg.quic, &rcfg.pin_sig);
	if (rc < 0) {
		lp_log(log, LP_LOG_ERROR, "cannot set up TLS for the relay connection: %s",
		       lp_strerror(rc));
		goto out;
	}
	/* Before the TAP adapter is touched: its routes must not steer the lookup. */
	rc = lp_cli_resolve_relay(&a->peer.relay, addrs, RELAY_ADDRS_MAX, &naddr, log, wait_on_loop,
	                          loop);
	if (rc < 0) {
		if (stopping())
			status = LP_CLI_EXIT_OK;
		goto out;
	}
	/* Missing functions are logged here (INFO) and again by each step needing one;
	 * whether that ends the run is decided per step (--allow-no-route-protection). */
	rc = lp_route_open(&route, log);
	if (rc < 0 && rc != LP_ERR_UNSUPPORTED) {
		lp_log(log, LP_LOG_ERROR, "cannot open the route table: %s", lp_strerror(rc));
		goto out;
	}

	memset(&wcfg, 0, sizeof(wcfg));
	wcfg.tap = a->tap;
	wcfg.tap_device = a->tap_device;
	wcfg.mac = mac;
	wcfg.status_interval_ns = a->status_interval;
	wcfg.allow_no_route_protection = a->allow_no_route;
	wcfg.relay = addrs;
	wcfg.relay_count = naddr;
	wcfg.route = &route;
	rc = lp_wclient_new(loop, &wcfg, log, &client);
	if (rc < 0) {
		lp_log(log, LP_LOG_ERROR, "cannot start the client: %s", lp_strerror(rc));
		goto out;
	}
	set_client_for_ctrl(client);
	lp_log(log, LP_LOG_INFO, "%s %s: joining room %s", PROG, LP_VERSION, a->peer.room);

	snprintf(software, sizeof(software), "softlan-vpn %s client windows", LP_VERSION);
	rcfg.session.role = LP_ROLE_CLIENT;
	rcfg.session.room = a->peer.room;
	rcfg.session.mac = mac;
	rcfg.session.software = software;
	rcfg.session.stats_interval_ns = a->status_interval;
	rcfg.relay = addrs;
	rcfg.relay_count = naddr;
	rc = lp_client_runner_new(loop, &rcfg, lp_wclient_cbs(), client, log, &runner);
	rcfg.quic = NULL; /* the runner's now */
	if (rc < 0) {
		lp_log(log, LP_LOG_ERROR, "cannot start the relay session: %s", lp_strerror(rc));
		goto out;
	}
	lp_wclient_set_runner(client, runner);

	if (!stopping() && lp_loop_run(loop) < 0) {
		lp_log(log, LP_LOG_ERROR, "event loop failed (Windows error %lu)",
		       (unsigned long)GetLastError());
		goto out;
	}
	lp_wclient_stopping(client);
	rc = lp_client_runner_disconnect(
	        runner, lp_wclient_failed(client) ? "client failed" : "client shutting down",
	        SHUTDOWN_WAIT);
	if (rc == LP_ERR_TIMEOUT)
		lp_log(log, LP_LOG_INFO, "relay did not confirm the disconnect in time");
	failures = lp_wclient_teardown(client);
	if (failures > 0) {
		lp_log(log, LP_LOG_ERROR,
		       "%zu route change(s) could not be restored (see above): check 'route "
		       "print' and the TAP adapter's IP settings",
		       failures);
		goto out;
	}
	if (lp_wclient_failed(client))
		goto out;
	lp_log(log, LP_LOG_INFO, "stopped");
	status = LP_CLI_EXIT_OK;
out:
	if (runner != NULL && !lp_client_runner_stopped(runner))
		(void)lp_client_runner_disconnect(runner, "client failed", SHUTDOWN_WAIT);
	lp_client_runner_del(runner);
	set_client_for_ctrl(NULL);
	lp_wclient_del(client); /* restores whatever a failed run left */
	lp_route_close(&route);
	lp_quic_ctx_del(rcfg.quic);
	lp_loop_del(loop);
	return status;
}

int main(int argc, char **argv)
{
	struct client_args a = { .id.path = LP_CTRL_IDENTITY_FILE,
		                 .status_interval = 10 * LP_NS_PER_SEC };
	struct lp_cli_prog prog = { .name = PROG,
		                    .summary = "Joins a softlan-vpn room: this computer appears on "
		                               "the party's LAN through a TAP-Windows6 adapter, as "
		                               "if plugged into its switch.",
		                    .opts = client_opts,
		                    .n_opts = LP_ARRAY_LEN(client_opts),
		                    .examples = client_examples,
		                    .notes = client_notes };
	struct lp_cli_common common;
	WSADATA wsa;
	int rc, status;

	rc = lp_cli_parse(&prog, argc, argv, on_opt, &a, &common);
	if (rc == LP_CLI_DONE)
		return LP_CLI_EXIT_OK;
	if (rc < 0)
		return LP_CLI_EXIT_USAGE;
	if (lp_peer_cli_finish(&a.peer, &prog) < 0)
		return LP_CLI_EXIT_USAGE;
	if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
		fprintf(stderr, "%s: cannot start winsock (WSAStartup)\n", PROG);
		return LP_CLI_EXIT_FAIL;
	}
	stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
	done_event = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (stop_event == NULL || done_event == NULL ||
	    !SetConsoleCtrlHandler(on_console_ctrl, TRUE)) {
		fprintf(stderr, "%s: cannot install the console control handler (error %lu)\n",
		        PROG, (unsigned long)GetLastError());
		WSACleanup();
		return LP_CLI_EXIT_FAIL;
	}
	/* 1 ms wait granularity instead of the 15.6 ms tick (see lp_loop.h). */
	timeBeginPeriod(1);
	status = run(&a, &common);
	timeEndPeriod(1);
	SetEvent(done_event);
	WSACleanup();
	return status;
}
