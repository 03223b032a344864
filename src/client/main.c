/*
 * lanparty-client - joins a softlan-vpn room from Linux through a TAP
 * adapter; the Linux twin of lanparty-client-win.
 *
 * The startup order is src/common/boot.h's: resolve the relay, create the
 * TAP (client.c), drop privileges to --user keeping CAP_NET_ADMIN, then
 * connect. This file is the command line.
 */
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "lp_status.h"
#include "client.h"
#include "lp_ctrl.h"

#define PROG "lanparty-client"
#define TAP_DEFAULT "lanparty0"

enum { OPT_TAP = LP_PEER_OPT__NEXT };

static const struct lp_cli_opt lnx_opts[] = {
	LP_PEER_CLI_CLIENT_TABLE(LP_STATUS_RUN_DIR
	                         "/ROLE-ROOM/status.sock, or $RUNTIME_DIRECTORY/status.sock",
	                         "./" LP_CTRL_IDENTITY_FILE, ""),
	{ OPT_TAP, "tap", "NAME", TAP_DEFAULT, false, "name of the TAP interface to create" },
	{ LP_PEER_OPT_USER, "user", "USER", LP_BOOT_USER_DEFAULT, false,
	  "user to switch to once the TAP exists, before connecting (CAP_NET_ADMIN is kept to "
	  "give the TAP the room MTU)" },
};

static int on_opt(void *user, int id, const char *arg, char *err, size_t cap)
{
	struct lp_lclient *c = user;

	if (id != OPT_TAP)
		return LP_ERR_INVAL;
	if (strlen(arg) >= IFNAMSIZ || strchr(arg, '/') != NULL || strchr(arg, ' ') != NULL) {
		snprintf(err, cap,
		         "--tap: '%s' is not a valid interface name (at most %d characters, no "
		         "'/' or spaces)",
		         arg, IFNAMSIZ - 1);
		return LP_ERR_INVAL;
	}
	c->tap_arg = arg;
	return 0;
}

static const char lnx_summary[] = LP_PEER_CLI_CLIENT_SUMMARY("a TAP interface");

static const char lnx_examples[] = LP_PEER_CLI_CLIENT_EXAMPLES(
        PROG, "\\", "lanparty0",
        "  then: udhcpc -i lanparty0   (or dhclient lanparty0) for an address from the LAN\n");

static const char lnx_notes[] =
        "Runs as root (or with CAP_NET_ADMIN). It resolves the relay, creates the TAP (down), "
        "then drops privileges to --user, keeping only CAP_NET_ADMIN, before it sends a "
        "byte to the relay. Once the relay admitted this client the TAP gets the room MTU "
        "and is brought up; it follows a changed room MTU after a reconnect. The TAP "
        "disappears when the client exits. Exit status: 0 after SIGINT/SIGTERM, 1 on a "
        "startup or permanent failure, 2 on a usage error.";

int main(int argc, char **argv)
{
	static struct lp_lclient c = { .tap_arg = TAP_DEFAULT };
	const struct lp_boot_app app = {
		LP_BOOT_CLI(PROG, lnx_summary, lnx_opts, lnx_examples, lnx_notes, on_opt),
		.user = &c,
		.peer = &lp_lclient_peer,
	};

	return lp_boot_main(&app, argc, argv);
}
