/*
 * lanparty-gateway - bridges a wired LAN into a softlan-vpn room.
 *
 * The startup order is src/common/boot.h's: resolve the relay, open the
 * AF_PACKET socket (bridge.c; needs root / CAP_NET_RAW), drop privileges
 * for good, then connect. This file is the command line.
 */
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "lp_status.h"
#include "bridge.h"

#define PROG "lanparty-gateway"

enum { OPT_IFACE = LP_PEER_OPT__NEXT, OPT_CAM_INTERVAL };

static const struct lp_cli_opt gw_opts[] = {
	LP_PEER_CLI_OPTS("room to bridge the LAN into"),
	LP_PEER_CLI_GATEWAY_OPTS,
	LP_PEER_CLI_STATUS_OPT(LP_STATUS_RUN_DIR
	                       "/ROLE-ROOM/status.sock, or $RUNTIME_DIRECTORY/status.sock"),
	{ OPT_IFACE, "iface", "IFACE", NULL, false,
	  "wired LAN interface to bridge (e.g. eth0); required unless --print-invite" },
	{ LP_PEER_OPT_USER, "user", "USER", LP_BOOT_USER_DEFAULT, false,
	  "user to switch to once the LAN socket is open, before connecting" },
	{ OPT_CAM_INTERVAL, "cam-interval", "SECONDS", "30", false,
	  "how often each remote client's MAC is refreshed in the LAN switch (1-3600)" },
	LP_PEER_CLI_INTERVAL_OPT(
	        LP_PEER_OPT_STATS_INTERVAL, "stats-interval",
	        "period of the stats sent to the relay and of the status log line"),
};

static int on_opt(void *user, int id, const char *arg, char *err, size_t cap)
{
	struct lp_gateway *g = user;

	switch (id) {
	case OPT_IFACE:
		if (lp_cli_check_len("iface", arg, IFNAMSIZ - 1, err, cap) < 0)
			return LP_ERR_INVAL;
		g->iface = arg;
		return 0;
	case OPT_CAM_INTERVAL:
		return lp_cli_parse_seconds("cam-interval", arg, LP_NS_PER_SEC,
		                            3600 * LP_NS_PER_SEC, &g->cam_interval_ns, err, cap);
	default:
		return LP_ERR_INVAL;
	}
}

static const char gw_summary[] =
        "Bridges a wired LAN into a softlan-vpn room: LAN frames travel to the relay's remote "
        "clients as QUIC datagrams, and theirs come out on the LAN.";

static const char gw_examples[] =
        "  " PROG " --relay relay.example.org --room-file party.room --iface eth0\n"
        "  " PROG " --relay relay.example.org --room-file party.room --print-invite\n"
        "  " PROG " --relay relay.example.org --room LAN1 --iface eth0   (open room)\n"
        "  " PROG " --relay 198.18.0.1:4433 --server-name relay.test \\\n"
        "      --relay-ca-cert relay-cert.der --room LAN1 --iface eth0 --log-level debug\n";

static const char gw_notes[] =
        "Runs as root (or with CAP_NET_RAW) to open the LAN socket, then switches to --user "
        "with no capabilities left, before it sends a byte to the relay. Frames whose "
        "encoded datagram exceeds the room's QUIC budget are dropped and logged, never "
        "fragmented. Exit status: 0 after SIGINT/SIGTERM, 1 on a startup or permanent "
        "failure, 2 on a usage error.";

int main(int argc, char **argv)
{
	static struct lp_gateway g = { .cam_interval_ns = 30 * LP_NS_PER_SEC };
	const struct lp_boot_app app = {
		LP_BOOT_CLI(PROG, gw_summary, gw_opts, gw_examples, gw_notes, on_opt),
		.user = &g,
		.peer = &lp_bridge_peer,
	};

	return lp_boot_main(&app, argc, argv);
}
