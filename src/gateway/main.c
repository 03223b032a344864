/*
 * lanparty-gateway - bridges a wired LAN into a softlan-vpn room.
 *
 * Startup order matters: resolve the relay (nothing touched yet), open the
 * AF_PACKET capture (needs root / CAP_NET_RAW), drop privileges for good,
 * and only then talk to the network. After that one loop runs the bridge
 * (bridge.c) and the relay session with reconnects (lib/client-core).
 */
#include <errno.h>
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
#include "privdrop.h"

#define PROG "lanparty-gateway"
#define RELAY_ADDRS_MAX 8
#define SHUTDOWN_WAIT (3 * LP_NS_PER_SEC)

enum {
	OPT_RELAY = 1,
	OPT_SERVER_NAME,
	OPT_CA_CERT,
	OPT_CA_FILE,
	OPT_ROOM,
	OPT_IFACE,
	OPT_USER,
	OPT_CAM_INTERVAL,
	OPT_STATS_INTERVAL
};

static const struct lp_cli_opt gw_opts[] = {
	{ OPT_RELAY, "relay", "HOST[:PORT]", NULL, true,
	  "relay address: DNS name, IPv4 address or [IPv6]:port; a bare host means UDP port "
	  "443" },
	{ OPT_SERVER_NAME, "server-name", "NAME", "the --relay host name", false,
	  "TLS server name of the relay (SNI, and the name checked with --ca-file)" },
	{ OPT_CA_CERT, "relay-ca-cert", "FILE", NULL, false,
	  "pin the relay's certificate: a DER file (what the relay wrote with "
	  "--dev-cert-der-out)" },
	{ OPT_CA_FILE, "ca-file", "PEM", "system trust store", false,
	  "trust relays whose certificate chains to these PEM CA certificates" },
	{ OPT_ROOM, "room", "CODE", NULL, true,
	  "room to bridge the LAN into: 1-32 of A-Z a-z 0-9 _ -" },
	{ OPT_IFACE, "iface", "IFACE", NULL, true, "wired LAN interface to bridge (e.g. eth0)" },
	{ OPT_USER, "user", "USER", LP_PRIVDROP_DEFAULT_USER, false,
	  "user to switch to once the LAN socket is open" },
	{ OPT_CAM_INTERVAL, "cam-interval", "SECONDS", "30", false,
	  "how often each remote client's MAC is refreshed in the LAN switch (1-3600)" },
	{ OPT_STATS_INTERVAL, "stats-interval", "SECONDS", "10", false,
	  "period of the stats sent to the relay and of the status log line (1-3600)" },
};

static const char gw_examples[] =
        "  " PROG " --relay relay.example.org --room LAN1 --iface eth0\n"
        "  " PROG " --relay 198.18.0.1:4433 --server-name relay.test \\\n"
        "      --relay-ca-cert relay-cert.der --room LAN1 --iface eth0 --log-level debug\n";

static const char gw_notes[] =
        "Runs as root (or with CAP_NET_RAW) to open the LAN socket, then switches to --user "
        "with no capabilities left. Frames whose encoded datagram exceeds the room's QUIC "
        "budget are dropped and logged, never fragmented. Exit status: 0 after SIGINT/SIGTERM, "
        "1 on a startup or permanent failure, 2 on a usage error.";

struct gw_args {
	struct lp_net_endpoint relay;
	const char *server_name;
	const char *ca_cert;
	const char *ca_file;
	const char *room;
	const char *iface;
	const char *user;
	uint64_t cam_interval;
	uint64_t stats_interval;
};

static int on_opt(void *user, int id, const char *arg, char *err, size_t cap)
{
	struct gw_args *a = user;
	int rc;

	switch (id) {
	case OPT_RELAY:
		rc = lp_net_parse_relay(arg, &a->relay);
		if (rc < 0)
			snprintf(err, cap, "--relay: '%s': %s", arg, lp_strerror(rc));
		return rc;
	case OPT_SERVER_NAME:
		a->server_name = arg;
		return 0;
	case OPT_CA_CERT:
		a->ca_cert = arg;
		return 0;
	case OPT_CA_FILE:
		a->ca_file = arg;
		return 0;
	case OPT_ROOM:
		rc = lp_ctrl_room_validate(arg);
		if (rc < 0)
			snprintf(err, cap, "--room: '%s': %s (1-32 of A-Z a-z 0-9 _ -)", arg,
			         lp_strerror(rc));
		a->room = arg;
		return rc;
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

/*
 * A relay started with a development certificate makes a new one at every
 * restart and rewrites the file peers pin. After a certificate mismatch the
 * pinned file is read again; when its content changed, the session starts
 * over with a TLS context built from it (the runner borrows its context,
 * so runner and context are replaced together, outside runner callbacks).
 * The file must stay readable by --user.
 */
struct pin_reload {
	struct lp_loop *loop;
	const struct lp_logger *log;
	struct lp_quic_client_cfg qcfg;
	struct lp_client_runner_cfg rcfg;
	struct lp_quic_ctx *quic;
	struct lp_client_runner *runner;
	void *owner; /* the runner callbacks' user */
	struct lp_cli_filesig sig;
	bool have_sig;
	struct lp_loop_timer timer;
};

static void on_cert_mismatch(void *user)
{
	struct pin_reload *p = user;

	if (p->qcfg.pin_der_file != NULL && !lp_loop_timer_armed(&p->timer) &&
	    lp_loop_timer_arm(p->loop, &p->timer, lp_loop_now(p->loop)) < 0)
		lp_log(p->log, LP_LOG_WARN, "cannot schedule a check of the pinned certificate");
}

static void on_pin_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct pin_reload *p = arg;
	struct lp_client_runner *r = NULL;
	struct lp_quic_ctx *q = NULL;
	struct lp_cli_filesig sig;

	(void)t;
	if (lp_cli_file_sig(p->qcfg.pin_der_file, &sig) < 0) {
		lp_log(p->log, LP_LOG_WARN, "cannot read --relay-ca-cert %s again as %s: %s",
		       p->qcfg.pin_der_file, "--user", strerror(errno));
		return;
	}
	if (p->have_sig && sig.hash == p->sig.hash && sig.len == p->sig.len)
		return;
	if (lp_quic_ctx_new_client(&p->qcfg, p->log, &q) < 0)
		return; /* lib/quic logged why; the next mismatch tries again */
	lp_log(p->log, LP_LOG_INFO, "pinned certificate %s changed; reconnecting with it",
	       p->qcfg.pin_der_file);
	p->rcfg.quic = q;
	if (lp_client_runner_new(l, &p->rcfg, lp_bridge_client_cbs(), p->owner, p->log, &r) < 0) {
		lp_log(p->log, LP_LOG_ERROR, "cannot restart the relay session");
		p->rcfg.quic = p->quic;
		lp_quic_ctx_del(q);
		return;
	}
	lp_bridge_set_runner(p->owner, r);
	lp_client_runner_del(p->runner);
	lp_quic_ctx_del(p->quic);
	p->runner = r;
	p->quic = q;
	p->sig = sig;
	p->have_sig = true;
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
	struct pin_reload pr;
	struct lp_quic_client_cfg *qcfg = &pr.qcfg;
	struct lp_client_runner_cfg *rcfg = &pr.rcfg;
	struct lp_cli_common common;
	struct lp_obs_sink sink;
	const struct lp_logger *log = &sink.logger;
	struct lp_loop *loop = NULL;
	struct lp_capture *cap = NULL;
	struct lp_bridge *bridge = NULL;
	struct lp_bridge_cfg bcfg;
	struct lp_mac mac;
	char err[LP_CLI_ERR_MAX], macs[LP_MAC_STR_LEN], software[64];
	size_t naddr = 0;
	int rc, status = LP_CLI_EXIT_FAIL;

	memset(&pr, 0, sizeof(pr));
	pr.log = &sink.logger;
	lp_loop_timer_init(&pr.timer, on_pin_timer, &pr);
	rc = lp_cli_parse(&prog, argc, argv, on_opt, &a, &common);
	if (rc == LP_CLI_DONE)
		return LP_CLI_EXIT_OK;
	if (rc < 0)
		return LP_CLI_EXIT_USAGE;
	if (a.server_name == NULL && a.relay.kind == LP_NET_HOST_NAME)
		a.server_name = a.relay.host;
	if (a.server_name == NULL && a.ca_cert == NULL) {
		lp_cli_usage_error(&prog, stderr,
		                   "--relay is an IP address: give --server-name (the name on the "
		                   "relay's certificate) or pin it with --relay-ca-cert");
		return LP_CLI_EXIT_USAGE;
	}
	lp_obs_sink_init(&sink, PROG, common.log_level,
	                 common.log_json ? LP_OBS_FORMAT_JSON : LP_OBS_FORMAT_TEXT, stderr);

	if ((a.ca_cert != NULL &&
	     lp_cli_check_readable("relay-ca-cert", a.ca_cert, err, sizeof(err)) < 0) ||
	    (a.ca_file != NULL &&
	     lp_cli_check_readable("ca-file", a.ca_file, err, sizeof(err)) < 0)) {
		lp_log(log, LP_LOG_ERROR, "%s", err);
		goto out;
	}
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

	pr.loop = loop;
	qcfg->server_name = a.server_name;
	qcfg->pin_der_file = a.ca_cert;
	qcfg->ca_file = a.ca_file;
	if (a.ca_cert != NULL)
		pr.have_sig = lp_cli_file_sig(a.ca_cert, &pr.sig) == 0;
	rc = lp_quic_ctx_new_client(qcfg, log, &pr.quic);
	if (rc < 0) {
		/* lib/quic has logged the cause (which file, what is wrong). */
		lp_log(log, rc == LP_ERR_NOMEM ? LP_LOG_ERROR : LP_LOG_DEBUG,
		       "cannot set up TLS for the relay connection: %s", lp_strerror(rc));
		goto out;
	}

	rc = lp_cli_resolve_relay(&a.relay, addrs, RELAY_ADDRS_MAX, &naddr, log, wait_on_loop,
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
	       LP_VERSION, a.iface, macs, a.room, a.user);

	memset(&bcfg, 0, sizeof(bcfg));
	bcfg.cert_mismatch = on_cert_mismatch;
	bcfg.cert_user = &pr;
	bcfg.room = a.room;
	bcfg.cam_interval_ns = a.cam_interval;
	bcfg.status_interval_ns = a.stats_interval;
	rc = lp_bridge_new(loop, cap, &bcfg, log, &bridge);
	if (rc < 0) {
		lp_log(log, LP_LOG_ERROR, "cannot start the bridge: %s", lp_strerror(rc));
		goto out;
	}

	snprintf(software, sizeof(software), "softlan-vpn %s gateway linux", LP_VERSION);
	rcfg->session.role = LP_ROLE_GATEWAY;
	rcfg->session.room = a.room;
	rcfg->session.mac = mac;
	rcfg->session.software = software;
	rcfg->session.stats_interval_ns = a.stats_interval;
	rcfg->quic = pr.quic;
	rcfg->relay = addrs;
	rcfg->relay_count = naddr;
	pr.owner = bridge;
	rc = lp_client_runner_new(loop, rcfg, lp_bridge_client_cbs(), bridge, log, &pr.runner);
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
	lp_bridge_set_runner(bridge, pr.runner);

	if (!stop_requested && lp_loop_run(loop) < 0) {
		lp_log(log, LP_LOG_ERROR, "event loop failed");
		goto out;
	}
	if (lp_bridge_failed(bridge))
		goto out; /* the runner gave up: already logged */
	rc = lp_client_runner_disconnect(pr.runner, "gateway shutting down", SHUTDOWN_WAIT);
	if (rc == LP_ERR_TIMEOUT)
		lp_log(log, LP_LOG_INFO, "relay did not confirm the disconnect in time");
	lp_bridge_log_status(bridge);
	lp_log(log, LP_LOG_INFO, "stopped");
	status = LP_CLI_EXIT_OK;
out:
	if (loop != NULL)
		lp_loop_timer_cancel(loop, &pr.timer);
	lp_client_runner_del(pr.runner);
	lp_bridge_del(bridge);
	lp_capture_close(cap);
	lp_quic_ctx_del(pr.quic);
	lp_loop_del(loop);
	return status;
}
