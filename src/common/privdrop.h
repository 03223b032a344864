/*
 * privdrop.h - what the gateway and the Linux client do once their raw
 * socket / TAP is open: give up root before parsing any input (called by
 * boot_linux.c, step 5 of the startup order).
 */
#ifndef LP_PRIVDROP_H
#define LP_PRIVDROP_H

#include <stdbool.h>

#include "lp_base.h"

#define LP_PRIVDROP_DEFAULT_USER "nobody"

/*
 * Keep CAP_NET_ADMIN (only it) across the drop. Not needed by the gateway
 * or the client as designed: the packet socket and the TAP fd keep working
 * for reads and writes without privileges; only reconfiguring an interface
 * (MTU, up/down, MAC) later would need it.
 */
#define LP_PRIVDROP_KEEP_NET_ADMIN 0x1u

/*
 * Drops privileges for good:
 *  - running as root: switches to `user` (NULL: "nobody") with
 *    setgroups(1, {its group}) / setresgid / setresuid, drops every
 *    capability (except CAP_NET_ADMIN with LP_PRIVDROP_KEEP_NET_ADMIN);
 *  - running as another user (file capabilities): drops the capabilities
 *    only, the user stays;
 * then sets PR_SET_NO_NEW_PRIVS and checks that regaining root fails.
 * Call before starting threads. Errors: LP_ERR_NOT_FOUND (no such user),
 * LP_ERR_INVAL (the user is root), LP_ERR_PERM (a step failed, or root
 * could be regained: the process must exit), LP_ERR_IO.
 */
int lp_privdrop(const char *user, unsigned flags) LP_WUR;

/* True when the process runs as root (any of its uids) or holds a
 * capability in its permitted set (file capabilities): what lp_privdrop
 * would give up. A failing capget counts as privileged. */
bool lp_privdrop_privileged(void) LP_WUR;

#endif /* LP_PRIVDROP_H */
