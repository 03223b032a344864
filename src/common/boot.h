/*
 * boot.h - the one startup order of the three peer binaries (the gateway,
 * the Linux client, the Windows client) and the run that follows it. Each
 * binary's main() is its option table, a struct lp_boot_app (its command
 * line, its state, its struct lp_boot_peer) and lp_boot_main; the order
 * lives only here (peer = the binary's struct lp_boot_peer):
 *
 *   1. parse the flags (lp_cli_parse; the shared peer flags of peer_cli.h
 *      first), set up logging, check the files the flags name, load the
 *      tunnel identity (clients);
 *   2. the event loop and the stop signals, the TLS context;
 *   3. resolve the relay, before any interface is touched (its routes must
 *      not steer the lookup); on Linux a privileged process looks up in a
 *      child dropped to --user (resolve_child.h), so no DNS reply is
 *      parsed as root; the runner never resolves again (a reconnect cycles
 *      through these addresses);
 *   4. peer->open: open the devices while privileged (the TAP, the packet
 *      socket, the route table);
 *   5. drop privileges (boot_linux.c: lp_privdrop to --user, keeping
 *      peer->keep; boot_windows.c: nothing is dropped, see there);
 *   6. peer->start, then connect: the runner's first attempt sends the
 *      first network byte; frames and events go to peer->session;
 *   7. run until a stop signal or lp_boot_fail; peer->stopping, a graceful
 *      disconnect, peer->finish; exit status 0 after a stop, 1 after a
 *      failure, 2 on a usage error.
 */
#ifndef LP_BOOT_H
#define LP_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "lp_client.h"
#include "lp_obs.h"
#include "peer_cli.h"
#include "peer_events.h"

#define LP_BOOT_RELAY_MAX 8
#define LP_BOOT_USER_DEFAULT "nobody" /* --user (Linux) */

struct lp_loop;
struct lp_boot;
struct lp_status_server;

/* What the relay session's events do in a peer binary. */
struct lp_boot_session {
	/* A frame of the session; NULL: lp_pump_from_relay(b->pump). */
	void (*frame)(struct lp_boot *b, const uint8_t *frame, size_t len);
	/* The welcome (logged by the hook: each peer words it itself). */
	void (*welcome)(struct lp_boot *b, struct lp_client *s, const struct lp_client_event *ev);
	/* Any other event, after its shared log line (peer_events.h); may be NULL. */
	void (*event)(struct lp_boot *b, struct lp_client *s, const struct lp_client_event *ev);
	/* Logs the status lines: the pump's period, its address poll, and
	 * events that change the room for the user. */
	void (*status)(struct lp_boot *b);
	/* The frames of one socket batch were delivered, before the runner
	 * writes QUIC (its ACKs included); may be NULL. The gateway writes
	 * its LAN frames here, so they leave before the ACK that ends them. */
	void (*frames_end)(struct lp_boot *b);
};

/* What a peer binary adds to the shared order; b->app->user is its state.
 * Clients load the tunnel identity (--identity, --virtual-mac) at step 1;
 * the gateway's is its interface's MAC (open). */
struct lp_boot_peer {
	enum lp_role role;
	unsigned keep; /* Linux: the LP_PRIVDROP_* flags of the drop */
	/* 4. Opens the devices (privileged). The gateway sets b->mac. */
	int (*open)(struct lp_boot *b);
	/* 6. After the drop, before the runner; may be NULL. */
	int (*start)(struct lp_boot *b);
	struct lp_boot_session session;
	/* 7. Shutdown began (before the disconnect); may be NULL. */
	void (*stopping)(struct lp_boot *b);
	/* 7. After the disconnect: non-zero makes the exit status 1; may be NULL. */
	int (*finish)(struct lp_boot *b);
	/* Frees what open and start made; always called, may be NULL. */
	void (*cleanup)(struct lp_boot *b);
	/* Windows: the console is closing and main() did not finish in time;
	 * runs on the console control thread (see boot_windows.c). May be NULL. */
	void (*emergency)(struct lp_boot *b);
};

/* The command line of a program: its --help text (a struct lp_cli_prog)
 * and the handler of its own options (called with the app's user; the
 * shared ones, LP_PEER_OPT_*, land in b->args and never reach it). */
#define LP_BOOT_CLI(name_, summary_, opts_, examples_, notes_, opt_)                               \
	.prog = { .name = (name_),                                                                 \
		  .summary = (summary_),                                                           \
		  .opts = (opts_),                                                                 \
		  .n_opts = LP_ARRAY_LEN(opts_),                                                   \
		  .examples = (examples_),                                                         \
		  .notes = (notes_) },                                                             \
	.opt = (opt_)

/* One peer binary: LP_BOOT_CLI(...), its state and its peer table. */
struct lp_boot_app {
	struct lp_cli_prog prog;
	lp_cli_opt_fn opt; /* NULL: no options of its own */
	void *user;        /* the binary's state: opt's user, and the hooks' */
	const struct lp_boot_peer *peer;
};

/* Readable by the hooks; owned by lp_boot_main. */
struct lp_boot {
	const struct lp_boot_app *app;
	struct lp_peer_args args; /* the shared flags, with the OS's defaults */
	struct lp_obs_sink sink;
	const struct lp_logger *log; /* &sink.logger */
	struct lp_loop *loop;
	struct sockaddr_storage relay[LP_BOOT_RELAY_MAX];
	size_t relay_count;
	struct lp_mac mac;               /* the tunnel identity */
	struct lp_peer_events pe;        /* the runner (pe.runner) and the event lines */
	struct lp_pump *pump;            /* frames and the status timers (from step 6) */
	struct lp_status_server *status; /* `status` answers here (step 4; may be NULL) */
	bool failed;
	/* The room as logs name it (lp_peer_cli_room_name), from step 1. */
	char room_name[LP_CTRL_ROOM_MAX + 1];
	bool invite_printed; /* the gateway of a private room printed its invite */
};

/* Runs the binary: steps 1-7. Returns the exit status. */
int lp_boot_main(const struct lp_boot_app *app, int argc, char **argv);

/* The run failed: stops the loop, the exit status will be 1. */
void lp_boot_fail(struct lp_boot *b);

#endif /* LP_BOOT_H */
