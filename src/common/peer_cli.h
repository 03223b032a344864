/*
 * peer_cli.h - the command-line flags every peer of a room shares (the
 * gateway, the Linux client and the Windows client): --relay,
 * --server-name, --relay-ca-cert, --ca-file, --relay-pin, --room, and the
 * private room's flags (the gateway's --room-file and --print-invite, the
 * clients' --invite and --invite-file), with their parsing and the checks
 * made before anything is touched. Portable C (the Windows
 * client compiles it too), on top of cli.h.
 *
 * Use: put LP_PEER_CLI_OPTS(...) first in the program's option table, then
 * LP_PEER_CLI_GATEWAY_OPTS or LP_PEER_CLI_CLIENT_OPTS, and number the
 * program's own options from LP_PEER_OPT__NEXT; hand every option to
 * lp_peer_cli_opt first; after lp_cli_parse call lp_peer_cli_finish with
 * the role; once logging is set up (and before dropping privileges: the
 * room file is the host's secret), lp_peer_cli_check_files; then
 * lp_peer_cli_tls and lp_peer_cli_session fill the runner's settings.
 * lp_peer_cli_free wipes the room's keys.
 */
#ifndef LP_PEER_CLI_H
#define LP_PEER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "lp_client.h"
#include "lp_net.h"
#include "lp_room.h"

enum {
	LP_PEER_OPT_RELAY = 1,
	LP_PEER_OPT_SERVER_NAME,
	LP_PEER_OPT_CA_CERT,
	LP_PEER_OPT_CA_FILE,
	LP_PEER_OPT_ROOM,
	LP_PEER_OPT_RELAY_PIN,
	LP_PEER_OPT_ROOM_FILE,    /* gateway */
	LP_PEER_OPT_PRINT_INVITE, /* gateway */
	LP_PEER_OPT_INVITE,       /* clients */
	LP_PEER_OPT_INVITE_FILE,  /* clients */
	/* Shared by some peers only: put their LP_PEER_CLI_* entries in the table. */
	LP_PEER_OPT_VIRTUAL_MAC,
	LP_PEER_OPT_IDENTITY,
	LP_PEER_OPT_USER,
	LP_PEER_OPT_STATUS_INTERVAL, /* --status-interval (clients) */
	LP_PEER_OPT_STATS_INTERVAL,  /* --stats-interval (gateway): the same period */
	LP_PEER_OPT_STATUS_SOCKET,   /* --status-socket: where `status` asks */
	LP_PEER_OPT__NEXT            /* the program's first own option id */
};

/* The six option-table entries; room_what says what the room is for
 * ("room to join"). --relay and --room are required unless an invite or a
 * room file stands for them (lp_peer_cli_finish checks). */
/* clang-format off */
#define LP_PEER_CLI_OPTS(room_what)                                                        \
	{ LP_PEER_OPT_RELAY, "relay", "HOST[:PORT]", "the invite's", false,                \
	  "relay address: DNS name, IPv4 address or [IPv6]:port; a bare host means UDP "   \
	  "port 443" },                                                                    \
	{ LP_PEER_OPT_RELAY_PIN, "relay-pin", "PIN", "the invite's", false,                \
	  "trust the relay whose key has this pin: sha256:... as the relay logs it at "    \
	  "start (no certificate file needed)" },                                          \
	{ LP_PEER_OPT_SERVER_NAME, "server-name", "NAME", "the --relay host name", false,  \
	  "TLS server name of the relay (SNI, and the name checked with --ca-file)" },     \
	{ LP_PEER_OPT_CA_CERT, "relay-ca-cert", "FILE", NULL, false,                       \
	  "pin the relay's certificate: a DER file (what the relay wrote with "            \
	  "--dev-cert-der-out)" },                                                         \
	{ LP_PEER_OPT_CA_FILE, "ca-file", "PEM", "system trust store", false,              \
	  "trust relays whose certificate chains to these PEM CA certificates" },          \
	{ LP_PEER_OPT_ROOM, "room", "CODE", NULL, false,                                   \
	  "open " room_what ": 1-32 of A-Z a-z 0-9 _ -; anyone who knows the code can "    \
	  "join (private rooms use an invite)" }

/* The gateway's private room. */
#define LP_PEER_CLI_GATEWAY_OPTS                                                           \
	{ LP_PEER_OPT_ROOM_FILE, "room-file", "FILE", NULL, false,                         \
	  "private room: its secret and host key, created (mode 0600) when missing and "   \
	  "kept; the invite for the players is printed at start" },                        \
	{ LP_PEER_OPT_PRINT_INVITE, "print-invite", NULL, NULL, false,                     \
	  "print the invite of --room-file and exit" }

/* The clients' private room. */
#define LP_PEER_CLI_CLIENT_OPTS                                                            \
	{ LP_PEER_OPT_INVITE, "invite", "softlan://...", NULL, false,                      \
	  "join the private room of this invite (relay, pin and room in one line)" },      \
	{ LP_PEER_OPT_INVITE_FILE, "invite-file", "FILE", NULL, false,                     \
	  "read the invite from FILE (keeps the secret out of the process list)" }

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

/* Every flag the two clients share, in the order of their --help; then
 * each adds its --tap and its own. status_def, id_def and id_where as for
 * LP_PEER_CLI_STATUS_OPT and LP_PEER_CLI_IDENTITY_OPTS. */
#define LP_PEER_CLI_CLIENT_TABLE(status_def, id_def, id_where)                             \
	LP_PEER_CLI_OPTS("room to join"), LP_PEER_CLI_CLIENT_OPTS,                         \
	LP_PEER_CLI_STATUS_OPT(status_def), LP_PEER_CLI_IDENTITY_OPTS(id_def, id_where),   \
	LP_PEER_CLI_INTERVAL_OPT(LP_PEER_OPT_STATUS_INTERVAL, "status-interval",           \
	                         "period of the status lines and of the stats sent to the " \
	                         "relay")

/* The clients' --help examples: the invite, an open room, a test relay
 * pinned by its certificate; cont continues a shell line ("\\" or "^"),
 * tap is a --tap value, then lines after them ("" for none). */
#define LP_PEER_CLI_CLIENT_EXAMPLES(prog, cont, tap, then)                                 \
	"  " prog " --invite-file party.invite\n"                                          \
	"  " prog " --invite \"softlan://relay.example.org/...\"\n"                        \
	"  " prog " --relay relay.example.org --room LAN1   (open room)\n"                 \
	"  " prog " --relay 198.18.0.1:4433 --server-name relay.test " cont "\n"           \
	"      --relay-ca-cert relay-cert.der --room LAN1 --tap " tap "\n" then

/* The clients' --help summary; dev is what joins ("a TAP interface"). */
#define LP_PEER_CLI_CLIENT_SUMMARY(dev)                                                    \
	"Joins a softlan-vpn room: this computer appears on the party's LAN through " dev  \
	", as if plugged into its switch."
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
	bool have_relay;
	const char *server_name;
	const char *ca_cert; /* --relay-ca-cert */
	const char *ca_file;
	const char *room;
	bool have_pin; /* --relay-pin, or the invite's pin */
	uint8_t pin[LP_ROOM_PIN_LEN];
	const char *room_file;   /* gateway */
	bool print_invite;       /* gateway */
	const char *invite;      /* clients: --invite text */
	const char *invite_file; /* clients */
	/* The private room, from the invite (lp_peer_cli_finish) or the room
	 * file (lp_peer_cli_check_files). */
	bool private_room;
	struct lp_room_keys keys;
	uint8_t secret[LP_ROOM_SECRET_LEN];  /* the gateway's, for its invite */
	uint8_t host_seed[LP_ROOM_SEED_LEN]; /* the gateway's */
	struct lp_peer_identity id;          /* clients */
	const char *user;                    /* --user: the privilege drop target (Linux) */
	uint64_t status_interval;            /* ns */
	const char *status_socket;           /* --status-socket; NULL: the default, "none": off */
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
 * After lp_cli_parse. Clients: exactly one of --room, --invite and
 * --invite-file; an invite (read and parsed now: a damaged one is a usage
 * error naming what is wrong) gives the relay, its pin and the room, and a
 * --relay or --relay-pin given as well must agree with it. The gateway:
 * --relay and exactly one of --room and --room-file; --print-invite needs
 * --room-file. --server-name defaults to the relay host when that is a DNS
 * name; an IP literal needs --server-name (the name on the relay's
 * certificate), --relay-ca-cert or a pin. On failure prints the usage-error
 * line for prog to stderr and returns LP_ERR_INVAL (exit LP_CLI_EXIT_USAGE).
 */
int lp_peer_cli_finish(struct lp_peer_args *a, enum lp_role role,
                       const struct lp_cli_prog *prog) LP_WUR;

/* Checks that --relay-ca-cert and --ca-file can be read, and loads (or
 * creates) the gateway's --room-file; logs "cannot read --<flag> <path>:
 * <reason>" or what is wrong with the room file and returns LP_ERR_IO /
 * the room file's error if not. */
int lp_peer_cli_check_files(struct lp_peer_args *a, const struct lp_logger *log) LP_WUR;

/* The runner's TLS settings from the flags (strings borrowed from a). */
void lp_peer_cli_tls(const struct lp_peer_args *a, struct lp_quic_client_cfg *out);
/* The session's room: the open room's code, or the private room's keys
 * (borrowed from a: keep a until the runner copied them). */
void lp_peer_cli_session(const struct lp_peer_args *a, struct lp_client_cfg *out);

/*
 * The gateway's invite, one line "softlan://..." and a newline to out, with
 * the pin it trusts: --relay-pin, else the key of --relay-ca-cert's
 * certificate, else relay_pin (what the --ca-file chain verified, from
 * lp_client_relay_pin; NULL before the first connection). Returns 0,
 * LP_ERR_STATE when no pin is known yet (nothing printed), LP_ERR_IO /
 * LP_ERR_INVAL for an unreadable certificate, LP_ERR_NOBUF.
 */
int lp_peer_cli_print_invite(const struct lp_peer_args *a, const uint8_t *relay_pin,
                             FILE *out) LP_WUR;
/* The room as logs name it: the open room's code, or "~" and the first 8
 * characters of the private room's id (what the relay and the session
 * show). buf holds at least LP_CTRL_ROOM_MAX + 1 bytes; returns buf. */
const char *lp_peer_cli_room_name(const struct lp_peer_args *a, char *buf, size_t cap);
/* Wipes the room's keys in a. */
void lp_peer_cli_free(struct lp_peer_args *a);

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
