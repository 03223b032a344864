/*
 * boot_os.h - the steps of boot.c that differ per OS, one file each chosen
 * by the build: boot_linux.c (signals through the loop, lp_privdrop) and
 * boot_windows.c (winsock, the console control handler, no drop).
 */
#ifndef LP_BOOT_OS_H
#define LP_BOOT_OS_H

#include <stdbool.h>

#include "boot.h"

/* "linux" / "windows": the software string the relay logs. */
extern const char lp_boot_os_name[];
/* --identity's default (relative to the working directory). */
extern const char lp_boot_os_identity[];

/* Right after the command line was parsed, before logging is set up:
 * process-wide setup. Prints its own error line. 0 or LP_ERR_IO. */
int lp_boot_os_init(const struct lp_boot_app *app);
/* Undoes lp_boot_os_init; main() is about to return. */
void lp_boot_os_fini(void);

/* Delivers the stop requests (SIGINT/SIGTERM, Ctrl-C, console close)
 * through b->loop: each logs one line and stops the loop. From now until
 * lp_boot_os_disarm the app's emergency hook may run on another thread. */
int lp_boot_os_signals(struct lp_boot *b) LP_WUR;
/* True once a stop was requested. */
bool lp_boot_os_stopping(void);

/* Step 3, one lookup of the relay (an lp_cli_lookup_fn; user is the
 * struct lp_boot): Linux runs it in an unprivileged child while the
 * process is privileged (lp_resolve_child, as --user); Windows in this
 * process. Results and errors as lp_net_resolve, plus lp_resolve_child's. */
int lp_boot_os_resolve(void *user, const struct lp_net_endpoint *ep, struct sockaddr_storage *out,
                       size_t max, size_t *n) LP_WUR;

/* Step 5: gives up what the run does not need; logs what is kept, or why
 * it failed (then the run ends). */
int lp_boot_os_drop(struct lp_boot *b) LP_WUR;

/* Before the app's cleanup: no emergency hook after this returns. */
void lp_boot_os_disarm(void);

#endif /* LP_BOOT_OS_H */
