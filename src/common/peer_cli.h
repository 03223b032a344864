/*
 * peer_cli.h - the command-line flags every peer of a room shares (the
 * gateway, the Linux client and the Windows client): --relay,
 * --server-name, --relay-ca-cert, --ca-file, --room, with their parsing
 * and the checks made before anything is touched. Portable C (the Windows
 * client compiles it too), on top of cli.h.
 *
 * Use: put LP_PEER_CLI_OPTS(...) first in the program's option table and
 * number the program's own options from LP_PEER_OPT__NEXT; hand every
 * option to lp_peer_cli_opt first; after lp_cli_parse call
 * lp_peer_cli_finish; once logging is set up, lp_peer_cli_check_files.
 */
#ifndef LP_PEER_CLI_H
#define LP_PEER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "lp_client.h"
#include "lp_net.h"

enum {
	LP_PEER_OPT_RELAY = 1,
	LP_PEER_OPT_SERVER_NAME,
	LP_PEER_OPT_CA_CERT,
	LP_PEER_OPT_CA_FILE,
	LP_PEER_OPT_ROOM,
	/* Shared by some peers only: put their LP_PEER_CLI_* entries in the table. */
	LP_PEER_OPT_VIRTUAL_MAC,
	LP_PEER_OPT_IDENTITY,
	LP_PEER_OPT_USER,
	LP_PEER_OPT_STATUS_INTERVAL, /* --status-interval (clients) */
	LP_PEER_OPT_STATS_INTERVAL,  /* --stats-interval (gateway): the same period */
	LP_PEER_OPT_STATUS_SOCKET,   /* --status-socket: where `status` asks */
	LP_PEER_OPT__NEXT            /* the program's first own option id */
};

/* The five option-table entries; room_what says what the room is for
 * ("room to join"). */
/* clang-format off */
#define LP_PEER_CLI_OPTS(room_what)                                                        \
	{ LP_PEER_OPT_RELAY, "relay", "HOST[:PORT]", NULL, true,                           \
	  "relay address: DNS name, IPv4 address or [IPv6]:port; a bare host means UDP "   \
	  "port 443" },                                                                    \
	{ LP_PEER_OPT_SERVER_NAME, "server-name", "NAME", "the --relay host name", false,  \
	  "TLS server name of the relay (SNI, and the name checked with --ca-file)" },     \
	{ LP_PEER_OPT_CA_CERT, "relay-ca-cert", "FILE", NULL, false,                       \
	  "pin the relay's certificate: a DER file (what the relay wrote with "            \
	  "--dev-cert-der-out)" },                                                         \
	{ LP_PEER_OPT_CA_FILE, "ca-file", "PEM", "system trust store", false,              \
	  "trust relays whose certificate chains to these PEM CA certificates" },          \
	{ LP_PEER_OPT_ROOM, "room", "CODE", NULL, true,                                    \
	  room_what ": 1-32 of A-Z a-z 0-9 _ -" }

/* The clients' tunnel identity; default_path is --identity's default. */
#define LP_PEER_CLI_IDENTITY_OPTS(default_path, where)                                     \
	{ LP_PEER_OPT_VIRTUAL_MAC, "virtual-mac", "MAC", "the identity file's MAC", false, \
	  "tunnel MAC to use instead of the stored identity (testing); the file is not "   \
	  "touched" },                                                                     \
	{ LP_PEER_OPT_IDENTITY, "identity", "FILE", default_path, false,                   \
	  "identity file holding this computer's tunnel MAC" where "; created with a "     \
	  "random locally administered MAC when missing" }

/* The local status endpoint (lib/status); def is the OS's default text. */
#define LP_PEER_CLI_STATUS_OPT(def)                                                        \
	{ LP_PEER_OPT_STATUS_SOCKET, "status-socket", "PATH", def, false,                  \
	  "where the status command reads this daemon's status (only this user and "       \
	  "root may); \"none\" turns it off" }

/* The period of the status lines and of the stats sent to the relay. */
#define LP_PEER_CLI_INTERVAL_OPT(id, name, what)                                           \
	{ id, name, "SECONDS", "10", false, what " (1-3600)" }
/* clang-format on */

/* ---- The clients' tunnel identity (--virtual-mac, --identity) ---------- */
struct lp_peer_identity {
	const char *path;  /* --identity: the identity file */
	bool have_mac;     /* --virtual-mac was given: the file is not used */
	struct lp_mac mac; /* --virtual-mac */
};

/* What the shared flags decided (strings borrowed from argv). Preset the
 * defaults (id.path, user, status_interval) before parsing. */
struct lp_peer_args {
	struct lp_net_endpoint relay;
	const char *server_name;
	const char *ca_cert; /* --relay-ca-cert */
	const char *ca_file;
	const char *room;
	struct lp_peer_identity id; /* clients */
	const char *user;           /* --user: the privilege drop target (Linux) */
	uint64_t status_interval;   /* ns */
	const char *status_socket;  /* --status-socket; NULL: the default, "none": off */
};

/* Returned by lp_peer_cli_opt for an id that is not a shared flag. */
#define LP_PEER_CLI_NOT_MINE 1

/*
 * Handles one shared flag as an lp_cli_opt_fn would: 0, a negative error
 * with a message naming the flag in err (bad --relay, bad --room), or
 * LP_PEER_CLI_NOT_MINE for the program's own options.
 */
int lp_peer_cli_opt(struct lp_peer_args *a, int id, const char *arg, char *err, size_t cap) LP_WUR;

/*
 * After lp_cli_parse: --server-name defaults to the --relay host when that
 * is a DNS name; an IP literal needs --server-name (the name on the
 * relay's certificate) or --relay-ca-cert. On that failure prints the
 * usage-error line for prog to stderr and returns LP_ERR_INVAL (exit
 * LP_CLI_EXIT_USAGE).
 */
int lp_peer_cli_finish(struct lp_peer_args *a, const struct lp_cli_prog *prog) LP_WUR;

/* Checks that --relay-ca-cert and --ca-file can be read; logs
 * "cannot read --<flag> <path>: <reason>" and returns LP_ERR_IO if not. */
int lp_peer_cli_check_files(const struct lp_peer_args *a, const struct lp_logger *log) LP_WUR;

/* The runner's TLS settings from the flags (strings borrowed from a). */
void lp_peer_cli_tls(const struct lp_peer_args *a, struct lp_quic_client_cfg *out);

/* Parses --virtual-mac (a unicast, non-zero MAC); err gets one line. */
int lp_peer_identity_mac_opt(struct lp_peer_identity *pi, const char *arg, char *err,
                             size_t cap) LP_WUR;
/*
 * The tunnel MAC: --virtual-mac, else the identity file's, generated and
 * saved when the file is missing. Logs which one and why it failed (an
 * invalid file is never overwritten). Errors: those of
 * lp_ctrl_identity_load_or_create.
 */
int lp_peer_identity_load(const struct lp_peer_identity *pi, const struct lp_logger *log,
                          struct lp_mac *out) LP_WUR;

#endif /* LP_PEER_CLI_H */
