/*
 * lanparty-client - joins a softlan-vpn room from Linux through a TAP
 * adapter; the Linux twin of lanparty-client-win.
 *
 * Startup order: identity (the tunnel MAC), resolve the relay before any
 * interface is touched, connect and get admitted, and only then create the
 * TAP with the room MTU the relay chose (client.c), then drop privileges.
 */
#include <errno.h>
#include <linux/capability.h>
#include <net/if.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "lp_client.h"
#include "lp_ctrl.h"
#include "lp_loop.h"
#include "lp_net.h"
#include "lp_obs.h"
#include "lp_quic.h"
#include "lp_version.h"
#include "peer_cli.h"
#include "privdrop.h"

#define PROG "lanparty-client"
#define RELAY_ADDRS_MAX 8
#define SHUTDOWN_WAIT (3 * LP_NS_PER_SEC)
#define TAP_DEFAULT "lanparty0"

enum { OPT_VIRTUAL_MAC = LP_PEER_OPT__NEXT, OPT_IDENTITY, OPT_TAP, OPT_USER, OPT_STATUS_INTERVAL };

static const struct lp_cli_opt client_opts[] = {
	LP_PEER_CLI_OPTS("room to join"),
	LP_PEER_CLI_CLIENT_OPTS,
	{ OPT_VIRTUAL_MAC, "virtual-mac", "MAC", "the identity file's MAC", false,
	  "tunnel MAC to use instead of the stored identity (testing); the file is not touched" },
	{ OPT_IDENTITY, "identity", "FILE", "./" LP_CTRL_IDENTITY_FILE, false,
	  "identity file holding this computer's tunnel MAC; created with a random locally "
	  "administered MAC when missing" },
	{ OPT_TAP, "tap", "NAME", TAP_DEFAULT, false, "name of the TAP interface to create" },
	{ OPT_USER, "user", "USER", LP_PRIVDROP_DEFAULT_USER, false,
	  "user to switch to once the TAP is up (CAP_NET_ADMIN is kept to follow room MTU "
	  "changes)" },
	{ OPT_STATUS_INTERVAL, "status-interval", "SECONDS", "10", false,
	  "period of the status lines and of the stats sent to the relay (1-3600)" },
};

static const char client_examples[] =
        "  " PROG " --invite-file party.invite\n"
        "  " PROG " --invite 'softlan://relay.example.org/...'\n"
        "  " PROG " --relay relay.example.org --room LAN1   (open room)\n"
        "  " PROG " --relay 198.18.0.1:4433 --server-name relay.test \\\n"
        "      --relay-ca-cert relay-cert.der --room LAN1 --tap lanparty0\n"
        "  then: udhcpc -i lanparty0   (or dhclient lanparty0) for an address from the LAN\n";

static const char client_notes[] =
        "Runs as root (or with CAP_NET_ADMIN). The TAP is created only after the relay "
        "admitted this client, so that its MTU is the room's MTU; privileges are then dropped "
        "to --user, keeping only CAP_NET_ADMIN so the TAP MTU can follow a changed room MTU "
        "after a reconnect. The TAP disappears when the client exits. Exit status: 0 after "
        "SIGINT/SIGTERM, 1 on a startup or permanent failure, 2 on a usage error.";

struct client_args {
	struct lp_peer_args peer;
	struct lp_peer_identity id;
	const char *tap;
	const char *user;
	uint64_t status_interval;
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
		if (strlen(arg) >= IFNAMSIZ || strchr(arg, '/') != NULL ||
		    strchr(arg, ' ') != NULL) {
			snprintf(err, cap,
			         "--tap: '%s' is not a valid interface name (at most %d "
			         "characters, no '/' or spaces)",
			         arg, IFNAMSIZ - 1);
			return LP_ERR_INVAL;
		}
		a->tap = arg;
		return 0;
	case OPT_USER:
		a->user = arg;
		return 0;
	case OPT_STATUS_INTERVAL:
		rc = lp_cli_parse_seconds("status-interval", arg, LP_NS_PER_SEC,
		                          3600 * LP_NS_PER_SEC, &ns, err, cap);
		if (rc == 0)
			a->status_interval = ns;
		return rc;
	default:
		return LP_ERR_INVAL;
	}
}

static volatile sig_atomic_t stop_requested;

static void on_signal(struct lp_loop *l, int signo, void *arg)
{
	const struct lp_obs_sink *sink = arg;

	lp_log(&sink->logger, LP_LOG_INFO, "%s received, shutting down",
	       signo == SIGINT ? "SIGINT" : "SIGTERM");
	stop_requested = 1;
	lp_loop_stop(l);
}

static int wait_on_loop(void *user, uint64_t ns)
{
	struct lp_loop *l = user;
	uint64_t end = lp_now_ns() + ns, now;

	while (!stop_requested && (now = lp_now_ns()) < end)
		if (lp_loop_run_once(l, end - now) < 0)
			return 1;
	return stop_requested ? 1 : 0;
}

/* CAP_NET_ADMIN in the effective set (root has it unless it was dropped). */
static bool have_net_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return (data[0].effective & (1u << CAP_NET_ADMIN)) != 0;
}

/* The checks that would otherwise only fail after the relay admitted us. */
static int preflight(const struct client_args *a, const struct lp_logger *log)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (!have_net_admin()) {
		lp_log(log, LP_LOG_ERROR,
		       "creating the TAP needs root or CAP_NET_ADMIN (run with sudo)");
		return LP_ERR_PERM;
	}
	if (access("/dev/net/tun", R_OK | W_OK) < 0) {
		lp_log(log, LP_LOG_ERROR, "no TUN/TAP support: /dev/net/tun: %s (modprobe tun?)",
		       strerror(errno));
		return LP_ERR_NOT_FOUND;
	}
	if (geteuid() == 0) {
		if (getpwnam_r(a->user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
			lp_log(log, LP_LOG_ERROR, "no such user '%s' (--user)", a->user);
			return LP_ERR_NOT_FOUND;
		}
		if (res->pw_uid == 0) {
			lp_log(log, LP_LOG_ERROR, "--user %s is root: refusing to keep root",
			       a->user);
			return LP_ERR_INVAL;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct client_args a = { .id.path = "./" LP_CTRL_IDENTITY_FILE,
		                 .tap = TAP_DEFAULT,
		                 .user = LP_PRIVDROP_DEFAULT_USER,
		                 .status_interval = 10 * LP_NS_PER_SEC };
	struct lp_cli_prog prog = { .name = PROG,
		                    .summary = "Joins a softlan-vpn room: this computer appears on "
		                               "the party's LAN through a TAP interface, as if "
		                               "plugged into its switch.",
		                    .opts = client_opts,
		                    .n_opts = LP_ARRAY_LEN(client_opts),
		                    .examples = client_examples,
		                    .notes = client_notes };
	struct sockaddr_storage addrs[RELAY_ADDRS_MAX];
	struct lp_client_runner_cfg rcfg;
	struct lp_client_runner *runner = NULL;
	struct lp_lclient_cfg ccfg;
	struct lp_cli_common common;
	struct lp_obs_sink sink;
	const struct lp_logger *log = &sink.logger;
	struct lp_loop *loop = NULL;
	struct lp_lclient *client = NULL;
	struct lp_mac mac;
	char software[64];
	size_t naddr = 0;
	int rc, status = LP_CLI_EXIT_FAIL;

	memset(&rcfg, 0, sizeof(rcfg));
	rc = lp_cli_parse(&prog, argc, argv, on_opt, &a, &common);
	if (rc == LP_CLI_DONE)
		return LP_CLI_EXIT_OK;
	if (rc < 0)
		return LP_CLI_EXIT_USAGE;
	if (lp_peer_cli_finish(&a.peer, LP_ROLE_CLIENT, &prog) < 0)
		return LP_CLI_EXIT_USAGE;
	lp_obs_sink_init(&sink, PROG, common.log_level,
	                 common.log_json ? LP_OBS_FORMAT_JSON : LP_OBS_FORMAT_TEXT, stderr);

	if (lp_peer_cli_check_files(&a.peer, log) < 0)
		goto out;
	if (preflight(&a, log) < 0)
		goto out;
	if (lp_peer_identity_load(&a.id, log, &mac) < 0)
		goto out;

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

	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.tap_name = a.tap;
	ccfg.mac = mac;
	ccfg.user = a.user;
	ccfg.status_interval_ns = a.status_interval;
	rc = lp_lclient_new(loop, &ccfg, log, &client);
	if (rc < 0) {
		lp_log(log, LP_LOG_ERROR, "cannot start the client: %s", lp_strerror(rc));
		goto out;
	}
	lp_log(log, LP_LOG_INFO, "%s %s: joining %s%s", PROG, LP_VERSION,
	       a.peer.private_room ? "the private room of the invite" : "open room ",
	       a.peer.private_room ? "" : a.peer.room);

	snprintf(software, sizeof(software), "softlan-vpn %s client linux", LP_VERSION);
	rcfg.session.role = LP_ROLE_CLIENT;
	lp_peer_cli_session(&a.peer, &rcfg.session);
	rcfg.session.mac = mac;
	rcfg.session.software = software;
	rcfg.session.stats_interval_ns = a.status_interval;
	rcfg.relay = addrs;
	rcfg.relay_count = naddr;
	rc = lp_client_runner_new(loop, &rcfg, lp_lclient_cbs(), client, log, &runner);
	rcfg.quic = NULL; /* the runner's now */
	if (rc < 0) {
		lp_log(log, LP_LOG_ERROR, "cannot start the relay session: %s", lp_strerror(rc));
		goto out;
	}
	lp_lclient_set_runner(client, runner);

	if (!stop_requested && lp_loop_run(loop) < 0) {
		lp_log(log, LP_LOG_ERROR, "event loop failed");
		goto out;
	}
	rc = lp_client_runner_disconnect(
	        runner, lp_lclient_failed(client) ? "client failed" : "client shutting down",
	        SHUTDOWN_WAIT);
	if (rc == LP_ERR_TIMEOUT)
		lp_log(log, LP_LOG_INFO, "relay did not confirm the disconnect in time");
	if (lp_lclient_failed(client))
		goto out;
	lp_log(log, LP_LOG_INFO, "stopped");
	status = LP_CLI_EXIT_OK;
out:
	lp_client_runner_del(runner);
	lp_lclient_del(client);
	lp_quic_ctx_del(rcfg.quic);
	lp_peer_cli_free(&a.peer);
	lp_loop_del(loop);
	return status;
}
