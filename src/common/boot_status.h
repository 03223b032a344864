/*
 * boot_status.h - the status of a running peer binary: the local status
 * server it runs (lib/status; only its user and root may read it) and the
 * `status` subcommand that reads and prints it, like `wg show` or
 * `tailscale status`:
 *
 *   lanparty-client status [--json] [--room CODE | --status-socket PATH]
 *
 * Without --room or --status-socket the subcommand looks for the one
 * running daemon of its kind (lp_status_find).
 */
#ifndef LP_BOOT_STATUS_H
#define LP_BOOT_STATUS_H

#include <stdio.h>

#include "boot.h"
#include "lp_ctrl.h"

#define LP_BOOT_STATUS_QUERY_TIMEOUT (3 * LP_NS_PER_SEC)

/* Starts the status server of b (step 4, while privileged: the socket is
 * handed to --user). Failing is not fatal: the daemon runs without one
 * and says so. */
void lp_boot_status_open(struct lp_boot *b);
void lp_boot_status_close(struct lp_boot *b);

/* `<prog> status ...`: argv[0] is "status". Returns the exit status: 0,
 * 1 (no daemon, refused, unreadable answer), 2 (usage). */
int lp_boot_status_cmd(const struct lp_boot_app *app, int argc, char **argv);

/* Prints the document as the subcommand's table (tests use it too). */
void lp_boot_status_print(const struct lp_ctrl_status *st, FILE *out);

#endif /* LP_BOOT_STATUS_H */
