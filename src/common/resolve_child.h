/*
 * resolve_child.h - resolving the relay without parsing DNS replies as
 * root (Linux; step 3 of the startup order, boot.h).
 *
 * getaddrinfo parses what the network answers. The gateway and the Linux
 * client resolve before they open their devices and drop privileges, so
 * a privileged process runs the lookup in a forked child that first drops
 * to the daemon's --user (lp_privdrop: setgroups, setresgid, setresuid, no
 * capability, PR_SET_NO_NEW_PRIVS). The child writes its answer as one
 * fixed-size record into a pipe and exits; the parent trusts nothing in
 * it: the record is decoded through a bounds-checked cursor and every
 * field validated (the child may have been taken over by a reply).
 * What such a child could still do: it runs as --user with no capability
 * and no way to gain one, but it is a copy of the parent. The daemons' fn
 * (boot_linux.c) wipes the room's keys in the child before the lookup; an
 * invite given with --invite is still in the copy's argv (--invite-file
 * avoids that), and fork + exec of a helper would share nothing at all.
 *
 * The record (LP_RESOLVE_RECORD_LEN bytes, network byte order):
 *   u8 version (1), u8 status (enum lp_resolve_status), u8 count, u8 0,
 *   LP_RESOLVE_RECORD_ADDRS entries of
 *     u8 family (4 or 6), u8 0, u16 port, u32 IPv6 scope id,
 *     16 address bytes (IPv4: 4 bytes, then 12 zero bytes);
 *   entries at and past count are all zero. status 0 has count >= 1,
 *   any other status count 0.
 */
#ifndef LP_RESOLVE_CHILD_H
#define LP_RESOLVE_CHILD_H

#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"
#include "lp_net.h"

#define LP_RESOLVE_RECORD_ADDRS 8
#define LP_RESOLVE_ENTRY_LEN 24
#define LP_RESOLVE_RECORD_LEN (4 + LP_RESOLVE_RECORD_ADDRS * LP_RESOLVE_ENTRY_LEN)
/* How long the parent waits for the child's record: longer than glibc's
 * worst case for a name (5 s x 2 attempts x 3 servers), then the child is
 * killed and the lookup counts as a temporary failure. */
#define LP_RESOLVE_CHILD_TIMEOUT_MS 45000

/* The lookup the child runs: lp_net_resolve, or a test's stand-in. */
typedef int (*lp_resolve_fn)(const struct lp_net_endpoint *ep, struct sockaddr_storage *out,
                             size_t max, size_t *n);

/*
 * Resolves ep like lp_net_resolve (through fn; NULL means lp_net_resolve)
 * without running the lookup with privileges: when the process is root or
 * holds any capability, fn runs in a child dropped to `user` (NULL:
 * "nobody") and its answer comes back as a record (above); otherwise fn
 * runs in this process. At most min(max, LP_RESOLVE_RECORD_ADDRS)
 * addresses; each carries ep->port. Logs through log (may be NULL) why a
 * child's answer was refused. Returns 0 with *n >= 1, or what fn returned
 * (LP_ERR_RESOLVE_PERM, LP_ERR_RESOLVE_AGAIN, LP_ERR_NOMEM, LP_ERR_IO),
 * LP_ERR_RESOLVE_AGAIN when the child did not answer within
 * LP_RESOLVE_CHILD_TIMEOUT_MS or was ended by SIGINT/SIGTERM (a stop sent
 * to the process group: the child does not block them), LP_ERR_PERM when the child could not drop
 * privileges, LP_ERR_IO when the child died or its record is malformed,
 * LP_ERR_INVAL for bad arguments. Call from a single-threaded process.
 */
int lp_resolve_child(const struct lp_net_endpoint *ep, const char *user, lp_resolve_fn fn,
                     const struct lp_logger *log, struct sockaddr_storage *out, size_t max,
                     size_t *n) LP_WUR;

/*
 * Writes the record of a lookup that returned rc with the n addresses of
 * addrs into rec (LP_RESOLVE_RECORD_LEN bytes): addresses of another
 * family, and those past LP_RESOLVE_RECORD_ADDRS, are left out; an rc of
 * 0 with no address left becomes LP_ERR_RESOLVE_PERM.
 */
void lp_resolve_record_encode(int rc, const struct sockaddr_storage *addrs, size_t n,
                              uint8_t rec[LP_RESOLVE_RECORD_LEN]);

/*
 * Decodes a record of len bytes whose addresses must all carry `port`.
 * Returns 0 with at most max addresses in out and *n >= 1, the lookup's
 * error (LP_ERR_RESOLVE_PERM, LP_ERR_RESOLVE_AGAIN, LP_ERR_NOMEM,
 * LP_ERR_IO, LP_ERR_PERM), or LP_ERR_TRUNCATED / LP_ERR_TRAILING (len is
 * not LP_RESOLVE_RECORD_LEN), LP_ERR_VERSION, LP_ERR_FIELD_RANGE (an
 * unknown status, a count that does not match it or above
 * LP_RESOLVE_RECORD_ADDRS, a family other than 4 or 6, another port,
 * non-zero padding or unused bytes, a scope id on IPv4) for a malformed
 * record. *n is 0 on every error.
 */
int lp_resolve_record_decode(const uint8_t *rec, size_t len, uint16_t port,
                             struct sockaddr_storage *out, size_t max, size_t *n) LP_WUR;

#endif /* LP_RESOLVE_CHILD_H */
