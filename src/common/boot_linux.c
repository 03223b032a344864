/*
 * boot_linux.c - the Linux steps of the startup order (boot_os.h):
 * SIGINT/SIGTERM through the loop's signalfd, the relay lookup in an
 * unprivileged child (resolve_child.h), and the privilege drop.
 *
 * What each daemon keeps after the drop (step 5, before the first network
 * byte): the gateway no capability at all - its packet socket keeps
 * working for reads and writes; the Linux client CAP_NET_ADMIN alone, to
 * give its TAP the room MTU and bring it up at the welcome (and to follow
 * a changed room MTU after a reconnect). Both run as --user with
 * PR_SET_NO_NEW_PRIVS, and lp_privdrop checks that root cannot be regained.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "boot_os.h"
#include "lp_ctrl.h"
#include "lp_loop.h"
#include "privdrop.h"
#include "resolve_child.h"

const char lp_boot_os_name[] = "linux";
const char lp_boot_os_identity[] = "./" LP_CTRL_IDENTITY_FILE;

static volatile sig_atomic_t stop_requested;

int lp_boot_os_init(const struct lp_boot_app *app)
{
	(void)app;
	/* A peer that went away must not kill us through a write. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

void lp_boot_os_fini(void)
{
}

static void on_signal(struct lp_loop *l, int signo, void *arg)
{
	struct lp_boot *b = arg;

	lp_log(b->log, LP_LOG_INFO, "%s received, shutting down",
	       signo == SIGINT ? "SIGINT" : "SIGTERM");
	stop_requested = 1;
	lp_loop_stop(l);
}

int lp_boot_os_signals(struct lp_boot *b)
{
	int rc = lp_loop_signal_add(b->loop, SIGINT, on_signal, b);

	if (rc == 0)
		rc = lp_loop_signal_add(b->loop, SIGTERM, on_signal, b);
	return rc;
}

bool lp_boot_os_stopping(void)
{
	return stop_requested != 0;
}

/* The lookup as lp_resolve_child runs it. In the child (a copy of this
 * process) the room's keys are wiped before getaddrinfo reads a byte, so a
 * reply that took the child over finds none; run in this process (not
 * privileged, no child) it must keep them. */
static struct lp_peer_args *resolve_args;
static pid_t resolve_parent;

static int resolve_without_keys(const struct lp_net_endpoint *ep, struct sockaddr_storage *out,
                                size_t max, size_t *n)
{
	if (getpid() != resolve_parent)
		lp_peer_cli_free(resolve_args);
	return lp_net_resolve(ep, out, max, n);
}

int lp_boot_os_resolve(void *user, const struct lp_net_endpoint *ep, struct sockaddr_storage *out,
                       size_t max, size_t *n)
{
	struct lp_boot *b = user;

	resolve_args = &b->args;
	resolve_parent = getpid();
	return lp_resolve_child(ep, b->args.user, resolve_without_keys, b->log, out, max, n);
}

int lp_boot_os_drop(struct lp_boot *b)
{
	const char *user = b->args.user;
	bool net_admin = (b->app->peer->keep & LP_PRIVDROP_KEEP_NET_ADMIN) != 0;
	int rc;

	rc = lp_privdrop(user, b->app->peer->keep);
	if (rc == LP_ERR_NOT_FOUND)
		lp_log(b->log, LP_LOG_ERROR, "no such user '%s' (--user)", user);
	else if (rc == LP_ERR_INVAL)
		lp_log(b->log, LP_LOG_ERROR, "--user %s is root: refusing to keep root", user);
	else if (rc < 0)
		lp_log(b->log, LP_LOG_ERROR, "cannot drop privileges to %s: %s", user,
		       lp_strerror(rc));
	else
		lp_log(b->log, LP_LOG_INFO, "dropped privileges: running as uid %u, %s",
		       (unsigned)getuid(),
		       net_admin ? "CAP_NET_ADMIN kept" : "no capabilities left");
	return rc;
}

/* Signals arrive on the loop's own thread: no hook runs elsewhere. */
void lp_boot_os_disarm(void)
{
}
