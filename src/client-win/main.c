/*
 * lanparty-client-win - joins a softlan-vpn room from Windows through a
 * TAP-Windows6 adapter; the Windows twin of lanparty-client.
 *
 * The startup order is src/common/boot.h's: resolve the relay before the
 * TAP adapter is touched, open the route table, connect; once admitted
 * winclient.c pins the relay route and brings the adapter up with the
 * room MTU. On exit - Ctrl-C, console close, or a failure - the relay gets
 * a best-effort disconnect while the pinned route still holds, then every
 * scoped route change is restored. This file is the command line.
 */
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "lp_ctrl.h"
#include "lp_tap.h"
#include "winclient.h"

#define PROG "lanparty-client-win"
#define PIPE_PREFIX "\\\\.\\pipe\\"

enum { OPT_TAP = LP_PEER_OPT__NEXT, OPT_ALLOW_NO_ROUTE };

static const struct lp_cli_opt win_opts[] = {
	LP_PEER_CLI_CLIENT_TABLE(PIPE_PREFIX "softlan-vpn-client-ROOM", LP_CTRL_IDENTITY_FILE,
	                         ", relative to the working directory"),
	{ OPT_TAP, "tap", "NAME|GUID", "the first TAP-Windows6 adapter", false,
	  "TAP-Windows6 adapter to use: its connection name or {GUID}" },
	{ OPT_ALLOW_NO_ROUTE, "allow-no-route-protection", NULL, NULL, false,
	  "for test rigs only (e.g. Wine): run even when the system cannot pin the relay "
	  "route or change TAP routes, with a warning, instead of refusing to bridge" },
};

static int on_opt(void *user, int id, const char *arg, char *err, size_t cap)
{
	struct lp_wclient *c = user;

	if (id == OPT_ALLOW_NO_ROUTE) {
		c->allow_no_route_protection = true;
		return 0;
	}
	if (id != OPT_TAP || lp_cli_check_len("tap", arg, LP_TAP_NAME_MAX - 1, err, cap) < 0)
		return LP_ERR_INVAL;
	/* A named pipe is the test stand-in for the driver's device. */
	if (_strnicmp(arg, PIPE_PREFIX, strlen(PIPE_PREFIX)) == 0) {
		c->tap_device = arg;
		c->tap_arg = NULL;
	} else {
		c->tap_arg = arg;
		c->tap_device = NULL;
	}
	return 0;
}

static const char win_summary[] = LP_PEER_CLI_CLIENT_SUMMARY("a TAP-Windows6 adapter");

static const char win_examples[] = LP_PEER_CLI_CLIENT_EXAMPLES(PROG, "^", "\"LAN party\"", "");

static const char win_notes[] =
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

int main(int argc, char **argv)
{
	static struct lp_wclient c;
	const struct lp_boot_app app = {
		LP_BOOT_CLI(PROG, win_summary, win_opts, win_examples, win_notes, on_opt),
		.user = &c,
		.peer = &lp_wclient_peer,
	};

	return lp_boot_main(&app, argc, argv);
}
