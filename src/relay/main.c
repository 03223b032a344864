/*
 * lanparty-relay - the public QUIC relay: hosts rooms, admits gateways and
 * clients, forwards Ethernet frames between the peers of a room.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lp_obs.h"
#include "lp_version.h"
#include "relayd.h"

static const char usage_text[] =
        "usage: lanparty-relay [options]\n"
        "\n"
        "Hosts LAN-party rooms over QUIC: admits a LAN gateway and remote clients per room and\n"
        "forwards their Ethernet frames, with L2 safety filters and rate limits.\n"
        "\n"
        "Listening and certificates:\n"
        "  --listen ADDR             UDP address: 443/udp, 0.0.0.0:443, [::]:4433 (default "
        "443/udp)\n"
        "  --cert FILE --key FILE    PEM certificate chain and key (reloaded on SIGHUP)\n"
        "  --dev-cert-der-out FILE   without --cert: write the generated development certificate\n"
        "                            (DER) here, for clients to pin with --relay-ca-cert\n"
        "  --dev-cert-names NAMES    names/IPs in the development certificate (default localhost)\n"
        "  --idle-timeout SECONDS    close silent connections after this long (default 30)\n"
        "\n"
        "Rooms and limits:\n"
        "  --max-rooms N             rooms per relay (default 256)\n"
        "  --max-peers N             peers per room, gateway included (default 32)\n"
        "  --room-mtu N              largest room MTU; a room's MTU is fixed by its first peer\n"
        "                            (default 1380, at least 1280)\n"
        "  --rate-broadcast FPS      per-client broadcast/multicast frames per second (default "
        "1000;\n"
        "                            0 = unlimited); bursts of twice that pass\n"
        "  --rate-unknown FPS        per-client unknown-unicast frames per second (default 500)\n"
        "  --rate-total-mbit N       per-client bandwidth in Mbit/s (default 2000; 0 = unlimited)\n"
        "  --malformed-limit N       malformed datagrams before a peer is disconnected (default "
        "64)\n"
        "\n"
        "Operations:\n"
        "  --metrics-listen ADDR     serve Prometheus metrics on http://ADDR/metrics (TCP),\n"
        "                            e.g. 127.0.0.1:9477; off by default\n"
        "  --status-interval SECONDS a status line every SECONDS (default 60; 0 = off)\n"
        "  --log-level LEVEL         error, warn, info, debug (frame decisions), trace (default "
        "info)\n"
        "  --log-json                log JSON lines instead of text\n"
        "  --help, --version\n"
        "\n"
        "Signals: SIGHUP reloads --cert/--key, SIGUSR1 logs every room and peer, SIGINT/SIGTERM\n"
        "close every connection and exit.\n"
        "\n"
        "Example:\n"
        "  lanparty-relay --listen 443/udp --dev-cert-der-out relay-cert.der \\\n"
        "      --dev-cert-names relay.example.org\n";

enum {
	OPT_LISTEN = 256,
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
	OPT_MALFORMED,
	OPT_METRICS,
	OPT_STATUS,
	OPT_LOG_LEVEL,
	OPT_LOG_JSON,
	OPT_HELP,
	OPT_VERSION
};

static const struct option options[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "dev-cert-der-out", required_argument, NULL, OPT_DEV_DER },
	{ "dev-cert-names", required_argument, NULL, OPT_DEV_NAMES },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "max-rooms", required_argument, NULL, OPT_MAX_ROOMS },
	{ "max-peers", required_argument, NULL, OPT_MAX_PEERS },
	{ "room-mtu", required_argument, NULL, OPT_ROOM_MTU },
	{ "rate-broadcast", required_argument, NULL, OPT_RATE_BCAST },
	{ "rate-unknown", required_argument, NULL, OPT_RATE_UNKNOWN },
	{ "rate-total-mbit", required_argument, NULL, OPT_RATE_TOTAL },
	{ "malformed-limit", required_argument, NULL, OPT_MALFORMED },
	{ "metrics-listen", required_argument, NULL, OPT_METRICS },
	{ "status-interval", required_argument, NULL, OPT_STATUS },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "log-json", no_argument, NULL, OPT_LOG_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int bad(const char *flag, const char *value, const char *why)
{
	fprintf(stderr, "lanparty-relay: invalid %s '%s': %s (see --help)\n", flag, value, why);
	return 2;
}

/* Parses a decimal in [min, max]; 0 or a usage error (2). */
static int parse_u32(const char *flag, const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;
	char why[64];

	if (s[0] < '0' || s[0] > '9')
		return bad(flag, s, "not a number");
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return bad(flag, s, "not a number");
	if (v < min || v > max) {
		snprintf(why, sizeof(why), "must be %u..%u", (unsigned)min, (unsigned)max);
		return bad(flag, s, why);
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_addr(const char *flag, const char *s, struct sockaddr_storage *out)
{
	struct lp_net_endpoint ep;
	size_t n = 0;
	int rv;

	rv = lp_net_parse_listen(s, &ep);
	if (rv == 0)
		rv = lp_net_resolve(&ep, out, 1, &n);
	if (rv != 0)
		return bad(flag, s, lp_strerror(rv));
	return 0;
}

static volatile sig_atomic_t stop_requested;

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
	struct relayd_cfg cfg;
	struct lp_obs_sink sink;
	enum lp_log_level level = LP_LOG_INFO;
	enum lp_obs_format format = LP_OBS_FORMAT_TEXT;
	const char *listen_text = "443/udp";
	struct lp_loop *loop = NULL;
	struct relayd *d = NULL;
	uint32_t v;
	int opt, rv = 2;

	memset(&cfg, 0, sizeof(cfg));
	lp_relay_cfg_defaults(&cfg.engine);
	cfg.status_interval_ns = 60 * LP_NS_PER_SEC;
	cfg.pmtud_wait_ns = 1 * LP_NS_PER_SEC;
	if (parse_addr("--listen", listen_text, &cfg.listen) != 0)
		return 2;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case OPT_LISTEN:
			listen_text = optarg;
			if (parse_addr("--listen", optarg, &cfg.listen) != 0)
				return 2;
			break;
		case OPT_CERT:
			cfg.quic.cert_file = optarg;
			break;
		case OPT_KEY:
			cfg.quic.key_file = optarg;
			break;
		case OPT_DEV_DER:
			cfg.quic.dev_cert_der_out = optarg;
			break;
		case OPT_DEV_NAMES:
			cfg.quic.dev_cert_names = optarg;
			break;
		case OPT_IDLE:
			if (parse_u32("--idle-timeout", optarg, 1, 3600, &v) != 0)
				return 2;
			cfg.quic.idle_timeout_ns = v * LP_NS_PER_SEC;
			break;
		case OPT_MAX_ROOMS:
			if (parse_u32("--max-rooms", optarg, 1, 1000000, &cfg.engine.max_rooms) !=
			    0)
				return 2;
			break;
		case OPT_MAX_PEERS:
			if (parse_u32("--max-peers", optarg, 2, LP_RELAY_MAX_PEERS_LIMIT,
			              &cfg.engine.max_peers_per_room) != 0)
				return 2;
			break;
		case OPT_ROOM_MTU:
			if (parse_u32("--room-mtu", optarg, LP_MTU_MIN, 9000,
			              &cfg.engine.mtu_ceiling) != 0)
				return 2;
			break;
		case OPT_RATE_BCAST:
			if (parse_u32("--rate-broadcast", optarg, 0, 10000000, &v) != 0)
				return 2;
			cfg.engine.bcast_fps = v;
			cfg.engine.bcast_burst = v * 2;
			break;
		case OPT_RATE_UNKNOWN:
			if (parse_u32("--rate-unknown", optarg, 0, 10000000, &v) != 0)
				return 2;
			cfg.engine.unknown_fps = v;
			cfg.engine.unknown_burst = v * 2;
			break;
		case OPT_RATE_TOTAL:
			if (parse_u32("--rate-total-mbit", optarg, 0, 100000,
			              &cfg.engine.bandwidth_mbps) != 0)
				return 2;
			break;
		case OPT_MALFORMED:
			if (parse_u32("--malformed-limit", optarg, 1, 1000000,
			              &cfg.engine.malformed_threshold) != 0)
				return 2;
			break;
		case OPT_METRICS:
			if (parse_addr("--metrics-listen", optarg, &cfg.metrics_listen) != 0)
				return 2;
			cfg.metrics_enabled = true;
			break;
		case OPT_STATUS:
			if (parse_u32("--status-interval", optarg, 0, 86400, &v) != 0)
				return 2;
			cfg.status_interval_ns = v * LP_NS_PER_SEC;
			break;
		case OPT_LOG_LEVEL:
			if (lp_obs_level_parse(optarg, &level) != 0)
				return bad("--log-level", optarg,
				           "use error, warn, info, debug or trace");
			break;
		case OPT_LOG_JSON:
			format = LP_OBS_FORMAT_JSON;
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			return 0;
		case OPT_VERSION:
			printf("lanparty-relay %s\n", LP_VERSION);
			return 0;
		default:
			fprintf(stderr, "lanparty-relay: see --help\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "lanparty-relay: unexpected argument '%s' (see --help)\n",
		        argv[optind]);
		return 2;
	}
	if ((cfg.quic.cert_file == NULL) != (cfg.quic.key_file == NULL)) {
		fprintf(stderr, "lanparty-relay: --cert and --key go together (see --help)\n");
		return 2;
	}
	if (cfg.quic.cert_file != NULL && cfg.quic.dev_cert_der_out != NULL) {
		fprintf(stderr, "lanparty-relay: --dev-cert-der-out only applies without --cert\n");
		return 2;
	}

	lp_obs_sink_init(&sink, "lanparty-relay", level, format, NULL);
	rv = lp_loop_new(&loop);
	if (rv != 0) {
		lp_log(&sink.logger, LP_LOG_ERROR, "cannot create the event loop: %s",
		       lp_strerror(rv));
		return 1;
	}
	rv = relayd_new(&cfg, loop, &sink.logger, &d);
	if (rv != 0)
		goto out;
	if (lp_loop_signal_add(loop, SIGINT, on_signal, d) != 0 ||
	    lp_loop_signal_add(loop, SIGTERM, on_signal, d) != 0 ||
	    lp_loop_signal_add(loop, SIGHUP, on_signal, d) != 0 ||
	    lp_loop_signal_add(loop, SIGUSR1, on_signal, d) != 0) {
		rv = LP_ERR_IO;
		goto out;
	}
	lp_loop_set_stop_flag(loop, &stop_requested);
	lp_log(&sink.logger, LP_LOG_INFO, "relay up on %s/udp (softlan-vpn %s)", listen_text,
	       LP_VERSION);
	if (cfg.quic.dev_cert_der_out != NULL)
		lp_log(&sink.logger, LP_LOG_INFO,
		       "development certificate written to %s: pin it with --relay-ca-cert",
		       cfg.quic.dev_cert_der_out);
	rv = lp_loop_run(loop);
	lp_log(&sink.logger, LP_LOG_INFO, "relay stopped");
out:
	relayd_del(d);
	lp_loop_del(loop);
	return rv == 0 ? 0 : 1;
}
