/*
 * lanparty-relay - the public QUIC relay: hosts rooms, admits gateways and
 * clients, forwards Ethernet frames between the peers of a room.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "lp_obs.h"
#include "lp_room.h"
#include "lp_version.h"
#include "privdrop.h"
#include "relayd.h"

#define PROG "lanparty-relay"
#define DEFAULT_STATE_DIR "/var/lib/softlan-vpn"

enum {
	OPT_LISTEN = 1,
	OPT_CERT,
	OPT_KEY,
	OPT_DEV_DER,
	OPT_DEV_NAMES,
	OPT_IDLE,
	OPT_MAX_ROOMS,
	OPT_MAX_PEERS,
	OPT_ROOM_MTU,
	OPT_RATE_BCAST,
	OPT_RATE_UNKNOWN,
	OPT_RATE_TOTAL,
	OPT_RATE_GW_BCAST,
	OPT_RATE_GW_TOTAL,
	OPT_RATE_ROOM,
	OPT_MALFORMED,
	OPT_METRICS,
	OPT_STATUS,
	OPT_USER,
	OPT_ROOMS_PER_ADDR,
	OPT_CONNS_PER_ADDR,
	OPT_HELLO_TIMEOUT,
	OPT_PCAP,
	OPT_PCAP_MAX,
	OPT_STATE_DIR,
	OPT_PRIVATE_ONLY,
	OPT_TEST_TAMPER
};

static const struct lp_cli_opt relay_opts[] = {
	{ OPT_LISTEN, "listen", "ADDR", "443/udp", false,
	  "UDP address to serve: 443/udp (all addresses), 0.0.0.0:443, [::]:4433" },
	{ OPT_CERT, "cert", "FILE", NULL, false,
	  "PEM certificate chain (with --key); reloaded on SIGHUP" },
	{ OPT_KEY, "key", "FILE", NULL, false, "PEM private key of --cert" },
	{ OPT_DEV_DER, "dev-cert-der-out", "FILE", NULL, false,
	  "without --cert: write the generated development certificate (DER) here, for peers to "
	  "pin with --relay-ca-cert" },
	{ OPT_DEV_NAMES, "dev-cert-names", "NAMES", "localhost", false,
	  "comma-separated DNS names and IPs in the development certificate" },
	{ OPT_IDLE, "idle-timeout", "SECONDS", "30", false,
	  "close connections silent for this long (1-3600)" },
	{ OPT_MAX_ROOMS, "max-rooms", "N", "256", false, "rooms this relay hosts at most" },
	{ OPT_ROOMS_PER_ADDR, "rooms-per-address", "N", "16", false,
	  "rooms one address (IPv4, IPv6 /64) may open while it stays in them" },
	{ OPT_CONNS_PER_ADDR, "conns-per-address", "N", "64", false,
	  "QUIC connections one address (IPv4, IPv6 /64) may hold" },
	{ OPT_HELLO_TIMEOUT, "hello-timeout", "SECONDS", "3", false,
	  "close a connection that sends no hello this long after its handshake (1-600)" },
	{ OPT_MAX_PEERS, "max-peers", "N", "32", false,
	  "peers per room, gateway included (2-1024)" },
	{ OPT_ROOM_MTU, "room-mtu", "N", "1380", false,
	  "largest room MTU (1280-9000); a room's MTU is fixed by its first peer's path" },
	{ OPT_RATE_BCAST, "rate-broadcast", "FPS", "1000", false,
	  "broadcast/multicast frames per second per client, bursts of twice that (0: no limit)" },
	{ OPT_RATE_UNKNOWN, "rate-unknown", "FPS", "500", false,
	  "unknown-unicast frames per second per client (0: no limit)" },
	{ OPT_RATE_TOTAL, "rate-total-mbit", "N", "150", false,
	  "bandwidth per client in Mbit/s (0: no limit)" },
	{ OPT_RATE_GW_BCAST, "rate-gateway-broadcast", "FPS", "5000", false,
	  "broadcast/multicast frames per second per gateway (its LAN's), bursts of twice that "
	  "(0: no limit)" },
	{ OPT_RATE_GW_TOTAL, "rate-gateway-mbit", "N", "250", false,
	  "bandwidth per gateway in Mbit/s (0: no limit)" },
	{ OPT_RATE_ROOM, "rate-room-mbit", "N", "300", false,
	  "per room: Mbit/s the relay sends in it, a frame counted once per receiver, so one "
	  "busy room cannot take the relay from the others (0: no limit)" },
	{ OPT_MALFORMED, "malformed-limit", "N", "64", false,
	  "malformed datagrams before a peer is disconnected" },
	{ OPT_METRICS, "metrics-listen", "ADDR", NULL, false,
	  "serve Prometheus metrics on http://ADDR/metrics over TCP, e.g. 127.0.0.1:9477 "
	  "(no authentication: keep it on loopback or an operator network)" },
	{ OPT_STATUS, "status-interval", "SECONDS", "60", false,
	  "period of the status log line (0: none)" },
	{ OPT_USER, "user", "USER", LP_PRIVDROP_DEFAULT_USER, false,
	  "started as root: the user to switch to once the ports are bound (any other start "
	  "keeps its user and drops its capabilities)" },
	{ OPT_PCAP, "pcap", "FILE", NULL, false,
	  "debugging aid: write every frame the relay forwards, as it sees it, to this pcap file "
	  "(mode 0600; open rooms' frames are plaintext there)" },
	{ OPT_PCAP_MAX, "pcap-max-mb", "N", "100", false,
	  "stop the --pcap capture when the file reaches N MiB (1-100000)" },
	{ OPT_STATE_DIR, "state-dir", "DIR", DEFAULT_STATE_DIR, false,
	  "without --cert: keep the development key here (created 0700), so the relay's pin "
	  "survives restarts" },
	{ OPT_PRIVATE_ONLY, "private-rooms-only", NULL, NULL, false,
	  "refuse open rooms (a --room code): only private rooms joined with an invite" },
	{ OPT_TEST_TAMPER, "test-tamper", "N", "0", false,
	  "for tests only: after every Nth datagram sent, send it again as is, with a header bit "
	  "and with a payload bit flipped, as a hostile relay would (0: never)" },
};

static const char relay_examples[] =
        "lanparty-relay --listen 443/udp --state-dir /var/lib/softlan-vpn \\\n"
        "    --dev-cert-names relay.example.org --private-rooms-only\n"
        "lanparty-relay --listen [::]:443 --cert fullchain.pem --key privkey.pem \\\n"
        "    --metrics-listen 127.0.0.1:9477\n";

static const char relay_notes[] =
        "Signals: SIGHUP reloads --cert/--key without dropping rooms, SIGUSR1 logs every room and "
        "peer, SIGINT/SIGTERM close every connection and exit. Frame decisions (forwarded, "
        "dropped, filtered, rate-limited) are logged at --log-level debug. Privileges: the relay "
        "binds its UDP and metrics ports (port 443 needs root or CAP_NET_BIND_SERVICE), then "
        "switches to --user when started as root and gives up every capability before it reads "
        "a packet; --cert/--key must be readable by that user for SIGHUP reloads. Exit status: "
        "0 after SIGINT/SIGTERM, 1 on a startup failure, 2 on a usage error.";

struct relay_args {
	struct relayd_cfg cfg;
	const char *listen_text;
	const char *user;
	const char *state_dir;
	bool state_dir_given;
};

static int parse_addr(const char *flag, const char *s, struct sockaddr_storage *out, char *err,
                      size_t cap)
{
	struct lp_net_endpoint ep;
	size_t n = 0;
	int rv;

	rv = lp_net_parse_listen(s, &ep);
	if (rv == 0)
		rv = lp_net_resolve(&ep, out, 1, &n);
	if (rv != 0)
		snprintf(err, cap, "--%s: '%s': %s", flag, s, lp_strerror(rv));
	return rv;
}

static int parse_u32(const char *flag, const char *s, uint32_t min, uint32_t max, uint32_t *out,
                     char *err, size_t cap)
{
	uint64_t v;
	int rv = lp_cli_parse_u64(flag, s, min, max, &v, err, cap);

	if (rv == 0)
		*out = (uint32_t)v;
	return rv;
}

/* A frames-per-second limit (0: none) and its burst, twice the rate. */
static int parse_fps(const char *flag, const char *s, uint32_t *fps, uint32_t *burst, char *err,
                     size_t cap)
{
	int rv = parse_u32(flag, s, 0, 10000000, fps, err, cap);

	if (rv == 0)
		*burst = *fps * 2;
	return rv;
}

static int on_opt(void *user, int id, const char *arg, char *err, size_t cap)
{
	struct relay_args *a = user;
	struct relayd_cfg *cfg = &a->cfg;
	uint32_t v = 0;
	int rv;

	switch (id) {
	case OPT_LISTEN:
		a->listen_text = arg;
		return parse_addr("listen", arg, &cfg->listen, err, cap);
	case OPT_CERT:
		cfg->quic.cert_file = arg;
		return 0;
	case OPT_KEY:
		cfg->quic.key_file = arg;
		return 0;
	case OPT_DEV_DER:
		cfg->quic.dev_cert_der_out = arg;
		return 0;
	case OPT_DEV_NAMES:
		cfg->quic.dev_cert_names = arg;
		return 0;
	case OPT_IDLE:
		return lp_cli_parse_seconds("idle-timeout", arg, LP_NS_PER_SEC,
		                            3600 * LP_NS_PER_SEC, &cfg->quic.idle_timeout_ns, err,
		                            cap);
	case OPT_MAX_ROOMS:
		return parse_u32("max-rooms", arg, 1, 1000000, &cfg->engine.max_rooms, err, cap);
	case OPT_MAX_PEERS:
		return parse_u32("max-peers", arg, 2, LP_RELAY_MAX_PEERS_LIMIT,
		                 &cfg->engine.max_peers_per_room, err, cap);
	case OPT_ROOM_MTU:
		return parse_u32("room-mtu", arg, LP_MTU_MIN, 9000, &cfg->engine.mtu_ceiling, err,
		                 cap);
	case OPT_RATE_BCAST:
		return parse_fps("rate-broadcast", arg, &cfg->engine.bcast_fps,
		                 &cfg->engine.bcast_burst, err, cap);
	case OPT_RATE_UNKNOWN:
		return parse_fps("rate-unknown", arg, &cfg->engine.unknown_fps,
		                 &cfg->engine.unknown_burst, err, cap);
	case OPT_RATE_TOTAL:
		return parse_u32("rate-total-mbit", arg, 0, 100000, &cfg->engine.bandwidth_mbps,
		                 err, cap);
	case OPT_RATE_GW_BCAST:
		return parse_fps("rate-gateway-broadcast", arg, &cfg->engine.gw_bcast_fps,
		                 &cfg->engine.gw_bcast_burst, err, cap);
	case OPT_RATE_GW_TOTAL:
		return parse_u32("rate-gateway-mbit", arg, 0, 100000,
		                 &cfg->engine.gw_bandwidth_mbps, err, cap);
	case OPT_RATE_ROOM:
		return parse_u32("rate-room-mbit", arg, 0, 100000, &cfg->engine.room_mbps, err,
		                 cap);
	case OPT_MALFORMED:
		return parse_u32("malformed-limit", arg, 1, 1000000,
		                 &cfg->engine.malformed_threshold, err, cap);
	case OPT_METRICS:
		cfg->metrics_enabled = true;
		return parse_addr("metrics-listen", arg, &cfg->metrics_listen, err, cap);
	case OPT_STATUS:
		return lp_cli_parse_seconds("status-interval", arg, 0, 86400 * LP_NS_PER_SEC,
		                            &cfg->status_interval_ns, err, cap);
	case OPT_USER:
		a->user = arg;
		return 0;
	case OPT_ROOMS_PER_ADDR:
		return parse_u32("rooms-per-address", arg, 1, 1000000, &cfg->rooms_per_source, err,
		                 cap);
	case OPT_CONNS_PER_ADDR:
		rv = parse_u32("conns-per-address", arg, 1, 1000000, &v, err, cap);
		cfg->quic.conns_per_source = v;
		return rv;
	case OPT_HELLO_TIMEOUT:
		return lp_cli_parse_seconds("hello-timeout", arg, LP_NS_PER_SEC,
		                            600 * LP_NS_PER_SEC, &cfg->hello_timeout_ns, err, cap);
	case OPT_PCAP:
		cfg->pcap_path = arg;
		return 0;
	case OPT_PCAP_MAX:
		rv = parse_u32("pcap-max-mb", arg, 1, 100000, &v, err, cap);
		cfg->pcap_max_bytes = (uint64_t)v << 20;
		return rv;
	case OPT_STATE_DIR:
		a->state_dir = arg;
		a->state_dir_given = true;
		return 0;
	case OPT_PRIVATE_ONLY:
		cfg->engine.private_rooms_only = true;
		return 0;
	case OPT_TEST_TAMPER:
		return parse_u32("test-tamper", arg, 0, 1000000, &cfg->test_tamper, err, cap);
	default:
		return LP_ERR_INVAL;
	}
}

/*
 * The state directory for the development key: created 0700 when missing.
 * An explicit --state-dir that cannot be used is fatal; the default one
 * (a service's) only costs a stable pin, so a relay run by hand without it
 * warns and goes on with a key of its own each start.
 */
static int prepare_state_dir(struct relay_args *a, const struct lp_logger *log)
{
	struct stat st;

	if (a->cfg.quic.cert_file != NULL)
		return 0;
	if (mkdir(a->state_dir, 0700) != 0 && errno != EEXIST)
		goto fail;
	if (stat(a->state_dir, &st) != 0)
		goto fail;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto fail;
	}
	if ((st.st_mode & 0077) != 0)
		lp_log(log, LP_LOG_WARN,
		       "state directory %s is open to other users (mode %03o): the relay's "
		       "development key is kept there",
		       a->state_dir, (unsigned)(st.st_mode & 0777));
	a->cfg.quic.dev_state_dir = a->state_dir;
	return 0;
fail:
	if (a->state_dir_given) {
		lp_log(log, LP_LOG_ERROR, "cannot use --state-dir %s: %s", a->state_dir,
		       strerror(errno));
		return LP_ERR_IO;
	}
	lp_log(log, LP_LOG_WARN,
	       "cannot use the state directory %s (%s): the development key is new at every "
	       "start, so the relay's pin and every invite change with it; give --state-dir",
	       a->state_dir, strerror(errno));
	return 0;
}

static void log_pin(struct relayd *d, const struct relay_args *a, const struct lp_logger *log)
{
	uint8_t pin[LP_QUIC_PIN_LEN];
	char text[LP_ROOM_PIN_STR_SIZE];

	if (relayd_cert_pin(d, pin) != 0 || lp_room_pin_format(pin, text) != 0) {
		lp_log(log, LP_LOG_WARN, "cannot compute the relay's pin");
		return;
	}
	lp_log(log, LP_LOG_INFO, "relay pin: %s (%s)", text,
	       a->cfg.quic.cert_file != NULL ? "the key of --cert: renewals that keep the key "
	                                       "keep it"
	       : a->cfg.quic.dev_state_dir != NULL ? "development key in the state directory"
	                                           : "development key of this run only");
	if (!a->cfg.engine.private_rooms_only)
		lp_log(log, LP_LOG_INFO,
		       "open rooms (a --room code) are allowed; --private-rooms-only refuses them");
}

static void on_signal(struct lp_loop *l, int signo, void *arg)
{
	struct relayd *d = arg;

	(void)l;
	if (signo == SIGHUP)
		relayd_reload(d);
	else if (signo == SIGUSR1)
		relayd_log_snapshot(d);
	else
		relayd_shutdown(d);
}

int main(int argc, char **argv)
{
	struct lp_cli_prog prog = { .name = PROG,
		                    .summary =
		                            "Hosts LAN-party rooms over QUIC: admits a LAN gateway "
		                            "and remote clients per room and forwards their "
		                            "Ethernet frames, with L2 safety filters and rate "
		                            "limits.",
		                    .opts = relay_opts,
		                    .n_opts = LP_ARRAY_LEN(relay_opts),
		                    .examples = relay_examples,
		                    .notes = relay_notes };
	struct relay_args a = { .listen_text = "443/udp",
		                .user = LP_PRIVDROP_DEFAULT_USER,
		                .state_dir = DEFAULT_STATE_DIR };
	struct relayd_cfg *cfgp = &a.cfg;
	struct lp_cli_common common;
	struct lp_obs_sink sink;
	struct lp_loop *loop = NULL;
	struct relayd *d = NULL;
	char err[LP_CLI_ERR_MAX];
	int rv;

	lp_relay_cfg_defaults(&cfgp->engine);
	cfgp->status_interval_ns = 60 * LP_NS_PER_SEC;
	cfgp->pmtud_wait_ns = 1 * LP_NS_PER_SEC;
	cfgp->pcap_max_bytes = (uint64_t)100 << 20;
	if (parse_addr("listen", a.listen_text, &cfgp->listen, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return LP_CLI_EXIT_FAIL;
	}
	rv = lp_cli_parse(&prog, argc, argv, on_opt, &a, &common);
	if (rv == LP_CLI_DONE)
		return LP_CLI_EXIT_OK;
	if (rv < 0)
		return LP_CLI_EXIT_USAGE;
	if ((cfgp->quic.cert_file == NULL) != (cfgp->quic.key_file == NULL)) {
		lp_cli_usage_error(&prog, stderr, "--cert and --key go together");
		return LP_CLI_EXIT_USAGE;
	}
	if (cfgp->quic.cert_file != NULL && cfgp->quic.dev_cert_der_out != NULL) {
		lp_cli_usage_error(&prog, stderr, "--dev-cert-der-out only applies without --cert");
		return LP_CLI_EXIT_USAGE;
	}

	lp_obs_sink_init(&sink, PROG, common.log_level,
	                 common.log_json ? LP_OBS_FORMAT_JSON : LP_OBS_FORMAT_TEXT, NULL);
	rv = lp_loop_new(&loop);
	if (rv != 0) {
		lp_log(&sink.logger, LP_LOG_ERROR, "cannot create the event loop: %s",
		       lp_strerror(rv));
		return 1;
	}
	rv = prepare_state_dir(&a, &sink.logger);
	if (rv != 0)
		goto out;
	rv = relayd_new(cfgp, loop, &sink.logger, &d);
	if (rv != 0)
		goto out;
	/* Every socket is bound and the certificate loaded: nothing the relay
	 * does from here needs a privilege, and no packet has been read yet. */
	rv = lp_privdrop(a.user, 0);
	if (rv != 0) {
		lp_log(&sink.logger, LP_LOG_ERROR, "cannot drop privileges to user '%s': %s",
		       a.user, lp_strerror(rv));
		goto out;
	}
	if (lp_loop_signal_add(loop, SIGINT, on_signal, d) != 0 ||
	    lp_loop_signal_add(loop, SIGTERM, on_signal, d) != 0 ||
	    lp_loop_signal_add(loop, SIGHUP, on_signal, d) != 0 ||
	    lp_loop_signal_add(loop, SIGUSR1, on_signal, d) != 0) {
		rv = LP_ERR_IO;
		goto out;
	}
	lp_log(&sink.logger, LP_LOG_INFO, "relay up on %s/udp (softlan-vpn %s)", a.listen_text,
	       LP_VERSION);
	log_pin(d, &a, &sink.logger);
	if (cfgp->quic.dev_cert_der_out != NULL)
		lp_log(&sink.logger, LP_LOG_INFO,
		       "development certificate written to %s: pin it with --relay-ca-cert",
		       cfgp->quic.dev_cert_der_out);
	if (cfgp->test_tamper != 0)
		lp_log(&sink.logger, LP_LOG_WARN,
		       "--test-tamper %u: this relay replays and alters datagrams of its rooms "
		       "(for "
		       "tests only)",
		       (unsigned)cfgp->test_tamper);
	rv = lp_loop_run(loop);
	lp_log(&sink.logger, LP_LOG_INFO, "relay stopped");
out:
	relayd_del(d);
	lp_loop_del(loop);
	return rv == 0 ? 0 : 1;
}
