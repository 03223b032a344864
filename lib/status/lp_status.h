/*
 * lp_status.h - the local status channel of a running peer: the daemon
 * answers every connection on a local endpoint with one document (the JSON
 * of lp_ctrl_status_encode) and closes it; `lanparty-client status` and
 * `lanparty-gateway status` read it with lp_status_query.
 *
 * Who may read: only the daemon's own user and root (the status lists the
 * room's peers, their addresses and traffic).
 *  - Linux: a Unix stream socket in a directory of mode 0700, the socket
 *    itself mode 0600, both owned by the user the daemon runs as after its
 *    privilege drop; each accepted connection's SO_PEERCRED uid must be 0
 *    or the daemon's effective uid, else it is closed unanswered.
 *  - Windows: a named pipe whose security descriptor grants access to the
 *    daemon's user, SYSTEM and Administrators only.
 *
 * The server runs on the daemon's lib/evloop loop and never blocks it: the
 * listening endpoint is non-blocking, each document is rendered once per
 * connection into a bounded buffer (LP_CTRL_STATUS_MAX), at most
 * LP_STATUS_CLIENTS_MAX readers are served at a time (further ones are
 * closed at once) and a reader that does not take its document within
 * LP_STATUS_WRITE_TIMEOUT_NS is dropped.
 */
#ifndef LP_STATUS_H
#define LP_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lp_base.h"

#define LP_STATUS_CLIENTS_MAX 4
#define LP_STATUS_WRITE_TIMEOUT_NS (2 * LP_NS_PER_SEC)
#define LP_STATUS_DOC_MAX 65536u /* == LP_CTRL_STATUS_MAX */
#define LP_STATUS_PATH_MAX 108   /* sun_path */

struct lp_loop;
struct lp_status_server;

/* Renders the document into buf (cap bytes); returns its length or a
 * negative LP_ERR_* (the reader is then closed unanswered). */
typedef ssize_t (*lp_status_render_fn)(void *user, char *buf, size_t cap);

struct lp_status_server_cfg {
	const char *path; /* Linux: socket path; Windows: pipe name (\\.\pipe\...) */
	/* Linux, when running as root: the user the daemon will drop to, who
	 * then owns the socket and its directory. NULL: keep the owner. */
	const char *owner_user;
	lp_status_render_fn render;
	void *user;
};

/*
 * Creates the endpoint and watches it on loop. Linux: creates the socket's
 * directory (mode 0700) when missing, replaces a stale socket left by a
 * daemon that died (a live one makes this fail: LP_ERR_STATE), binds with
 * mode 0600. Errors: LP_ERR_INVAL (path too long or empty), LP_ERR_STATE,
 * LP_ERR_IO (errno kept), LP_ERR_NOMEM, the lp_loop_watch errors.
 */
int lp_status_server_new(struct lp_loop *loop, const struct lp_status_server_cfg *cfg,
                         const struct lp_logger *log, struct lp_status_server **out) LP_WUR;
/* Readers refused so far (wrong user, too many at once, timeouts). */
uint64_t lp_status_server_refused(const struct lp_status_server *s) LP_WUR;
/* Closes every reader and the endpoint, removes the socket file when it
 * still can. Accepts NULL. */
void lp_status_server_del(struct lp_status_server *s);

/*
 * The endpoint a daemon of kind ("client", "gateway") in room uses unless
 * told otherwise. Linux: $RUNTIME_DIRECTORY/status.sock when systemd set
 * it (its first entry), else LP_STATUS_RUN_DIR/<kind>-<room>/status.sock.
 * Windows: \\.\pipe\softlan-vpn-<kind>-<room>. LP_ERR_NOBUF, LP_ERR_INVAL.
 */
#define LP_STATUS_RUN_DIR "/run/softlan-vpn"
int lp_status_default_path(const char *kind, const char *room, char *out, size_t cap) LP_WUR;

/*
 * For `status` without --room: the endpoints of running daemons of kind
 * (Linux: LP_STATUS_RUN_DIR/<kind>-*\/status.sock; Windows: the pipes
 * softlan-vpn-<kind>-*). Returns how many exist (>= 0) and the first in
 * out (in name order), or LP_ERR_IO / LP_ERR_NOBUF.
 */
int lp_status_find(const char *kind, char *out, size_t cap) LP_WUR;

/*
 * Reads one document from the daemon at path into buf (NUL-terminated;
 * cap >= 2), waiting at most timeout_ns. *len gets its length. Errors:
 * LP_ERR_NOT_FOUND (no daemon there), LP_ERR_PERM (not allowed: another
 * user's daemon, or it closed without answering), LP_ERR_TIMEOUT,
 * LP_ERR_NOBUF (larger than cap - 1), LP_ERR_INVAL, LP_ERR_IO.
 */
int lp_status_query(const char *path, uint64_t timeout_ns, char *buf, size_t cap,
                    size_t *len) LP_WUR;

#endif /* LP_STATUS_H */
