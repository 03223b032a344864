/* boot_status.c - the status server of a peer binary and its `status`
 * subcommand; see boot_status.h. */
#include "boot_status.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lp_loop.h"
#include "lp_room.h"
#include "lp_status.h"

/* ---- The server side ------------------------------------------------------------ */

/* The room's name: an open room's code, or a private room's label, "~" and
 * the start of its id in base64url, as the relay logs it. */
static const char *room_label(const struct lp_boot *b, char *out, size_t cap)
{
	char b64[64];

	if (!b->args.private_room)
		return b->args.room;
	if (lp_room_b64url_encode(b->args.keys.room_id, sizeof(b->args.keys.room_id), b64,
	                          sizeof(b64)) < 0)
		return NULL;
	snprintf(out, cap, "~%.*s", LP_CTRL_STATUS_PRIVATE_LABEL, b64);
	return out;
}

static ssize_t render(void *user, char *buf, size_t cap)
{
	static struct lp_ctrl_status st; /* one loop thread; too large for the stack */
	struct lp_boot *b = user;
	char label[16];
	struct lp_client_status_src src = {
		.program = b->app->prog.name,
		.room = room_label(b, label, sizeof(label)),
		.role = b->app->peer->role,
		.mac = b->mac,
		.session = b->pump != NULL ? lp_pump_session(b->pump) : NULL,
		.lanip = b->pump != NULL ? lp_pump_lanip(b->pump) : NULL,
		.now = lp_loop_now(b->loop),
	};

	if (src.room == NULL)
		return LP_ERR_INVAL;
	lp_client_status_fill(&src, &st);
	return lp_ctrl_status_encode(&st, buf, cap);
}

void lp_boot_status_open(struct lp_boot *b)
{
	const char *kind = lp_ctrl_role_name(b->app->peer->role);
	struct lp_status_server_cfg cfg = { .owner_user = b->args.user,
		                            .render = render,
		                            .user = b };
	char path[LP_STATUS_PATH_MAX], label[16];
	const char *room = room_label(b, label, sizeof(label));
	int rc;

	if (b->args.status_socket != NULL && strcmp(b->args.status_socket, "none") == 0)
		return;
	if (b->args.status_socket != NULL)
		rc = lp_strlcpy_checked(path, sizeof(path), b->args.status_socket);
	else
		rc = room != NULL ? lp_status_default_path(kind, room, path, sizeof(path))
		                  : LP_ERR_INVAL;
	cfg.path = path;
	if (rc == 0)
		rc = lp_status_server_new(b->loop, &cfg, b->log, &b->status);
	if (rc == LP_ERR_STATE)
		lp_log(b->log, LP_LOG_WARN,
		       "status: %s is in use by another running %s; no status for this one "
		       "(give it --status-socket)",
		       path, b->app->prog.name);
	else if (rc < 0)
		lp_log(b->log, LP_LOG_WARN, "status: cannot listen on %s: %s; no status command",
		       path, rc == LP_ERR_IO ? strerror(errno) : lp_strerror(rc));
	else
		lp_log(b->log, LP_LOG_INFO, "status: `%s status` reads %s", b->app->prog.name,
		       path);
}

void lp_boot_status_close(struct lp_boot *b)
{
	lp_status_server_del(b->status);
	b->status = NULL;
}

/* ---- The table ----------------------------------------------------------------- */

static const char *fmt_rtt(uint64_t us, char *out, size_t cap)
{
	if (us == 0)
		snprintf(out, cap, "-");
	else if (us < 10000)
		snprintf(out, cap, "%.2f ms", (double)us / 1000.0);
	else
		snprintf(out, cap, "%.0f ms", (double)us / 1000.0);
	return out;
}

static const char *fmt_bytes(uint64_t n, char *out, size_t cap)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1000.0 && u + 1 < LP_ARRAY_LEN(unit)) {
		v /= 1000.0;
		u++;
	}
	snprintf(out, cap, u == 0 ? "%.0f %s" : "%.1f %s", v, unit[u]);
	return out;
}

static const char *fmt_loss(uint64_t lost, uint64_t sent, char *out, size_t cap)
{
	if (sent == 0)
		snprintf(out, cap, "-");
	else
		snprintf(out, cap, "%.1f%%", 100.0 * (double)lost / (double)sent);
	return out;
}

static const char *fmt_ip(bool has, const uint8_t ip[4], char *out, size_t cap)
{
	if (!has)
		snprintf(out, cap, "-");
	else
		snprintf(out, cap, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
	return out;
}

static const char *fmt_traffic(uint64_t frames, uint64_t bytes, char *out, size_t cap)
{
	char b[24];

	snprintf(out, cap, "%" PRIu64 "/%s", frames, fmt_bytes(bytes, b, sizeof(b)));
	return out;
}

void lp_boot_status_print(const struct lp_ctrl_status *st, FILE *out)
{
	char mac[LP_MAC_STR_LEN], ip[20], rtt[24], rmin[24], loss[16], tx[40], rx[40], est[24];
	const struct lp_ctrl_status_link *l = &st->link;

	lp_proto_mac_format(&st->mac, mac);
	fprintf(out, "room %s: %s", st->room, st->state);
	if (st->peer_id != 0)
		fprintf(out, " as peer %" PRIu32 ", MTU %" PRIu32, st->peer_id, st->mtu);
	fprintf(out, " (%s)\n", st->program);
	fprintf(out, "  you: %s %s, LAN %s, RTT to relay %s (min %s), loss %s\n",
	        lp_ctrl_role_name(st->role), mac, fmt_ip(st->has_ip, st->ip, ip, sizeof(ip)),
	        fmt_rtt(l->rtt_us, rtt, sizeof(rtt)), fmt_rtt(l->rtt_min_us, rmin, sizeof(rmin)),
	        fmt_loss(l->dg_lost, l->dg_sent, loss, sizeof(loss)));
	fprintf(out, "       tx %s, rx %s (frames/bytes)\n\n",
	        fmt_traffic(l->tx_frames, l->tx_bytes, tx, sizeof(tx)),
	        fmt_traffic(l->rx_frames, l->rx_bytes, rx, sizeof(rx)));
	fprintf(out, "  %-5s %-8s %-18s %-15s %-10s %-6s %-14s %-14s %s\n", "PEER", "ROLE", "MAC",
	        "LAN IPV4", "RTT RELAY", "LOSS", "TX", "RX", "RTT VIA RELAY");
	for (uint32_t i = 0; i < st->count; i++) {
		const struct lp_ctrl_status_peer *p = &st->peers[i];

		lp_proto_mac_format(&p->mac, mac);
		fprintf(out, "  %-5" PRIu32 " %-8s %-18s %-15s %-10s %-6s %-14s %-14s %s\n",
		        p->peer_id, lp_ctrl_role_name(p->role), mac,
		        fmt_ip(p->has_ip, p->ip, ip, sizeof(ip)),
		        fmt_rtt(p->link.rtt_us, rtt, sizeof(rtt)),
		        fmt_loss(p->link.dg_lost, p->link.dg_sent, loss, sizeof(loss)),
		        fmt_traffic(p->link.tx_frames, p->link.tx_bytes, tx, sizeof(tx)),
		        fmt_traffic(p->link.rx_frames, p->link.rx_bytes, rx, sizeof(rx)),
		        fmt_rtt(p->est_rtt_us, est, sizeof(est)));
	}
	if (st->count == 0)
		fprintf(out, "  (no other peer in the room)\n");
	if (st->nhosts > 0) {
		fprintf(out, "\n  LAN hosts seen:");
		for (uint32_t i = 0; i < st->nhosts; i++) {
			lp_proto_mac_format(&st->hosts[i].mac, mac);
			fprintf(out, "%s %s (%s)", i ? "," : "",
			        fmt_ip(true, st->hosts[i].ip, ip, sizeof(ip)), mac);
		}
		fprintf(out, "\n");
	}
	if (st->has_table)
		fprintf(out,
		        "\n  peer numbers: the relay's, %.1f s ago; %" PRIu32
		        " peers in the room;\n"
		        "  loss: relay -> peer datagrams lost (yours: you -> relay)\n",
		        (double)st->table_age_ms / 1000.0, st->peers_total);
	else
		fprintf(out, "\n  no table from the relay yet\n");
}

/* ---- The subcommand ------------------------------------------------------------ */

enum { SOPT_JSON = 1, SOPT_SOCKET, SOPT_ROOM };

static const struct lp_cli_opt status_opts[] = {
	{ SOPT_JSON, "json", NULL, NULL, false, "print the status document as JSON" },
	{ SOPT_ROOM, "room", "CODE", NULL, false,
	  "the room of the daemon to ask (needed when several run): its code, or a private "
	  "room's ~label" },
	{ SOPT_SOCKET, "status-socket", "PATH", "the one running daemon's", false,
	  "ask the daemon listening there (its --status-socket)" },
};

struct status_args {
	bool json;
	const char *room;
	const char *socket;
};

static int status_opt(void *user, int id, const char *arg, char *err, size_t cap)
{
	struct status_args *a = user;

	switch (id) {
	case SOPT_JSON:
		a->json = true;
		return 0;
	case SOPT_ROOM:
		/* A code, or a private room's label as the daemon logs it. */
		if (arg[0] == '~' ? strlen(arg) != 1 + LP_CTRL_STATUS_PRIVATE_LABEL ||
		                            strpbrk(arg, "/\\.") != NULL
		                  : lp_ctrl_room_validate(arg) < 0) {
			snprintf(err, cap, "--room: '%s' is neither a room code nor a ~label", arg);
			return LP_ERR_INVAL;
		}
		a->room = arg;
		return 0;
	case SOPT_SOCKET:
		a->socket = arg;
		return 0;
	default:
		return LP_ERR_INVAL;
	}
}

/* The endpoint to ask; 0 or the exit status after a message. */
static int pick_path(const char *prog, const char *kind, const struct status_args *a, char *path,
                     size_t cap)
{
	int n;

	if (a->socket != NULL) {
		if (lp_strlcpy_checked(path, cap, a->socket) == 0)
			return 0;
		fprintf(stderr, "%s status: --status-socket is too long\n", prog);
		return LP_CLI_EXIT_USAGE;
	}
	if (a->room != NULL) {
		if (lp_status_default_path(kind, a->room, path, cap) == 0)
			return 0;
		fprintf(stderr, "%s status: cannot name the endpoint of room %s\n", prog, a->room);
		return LP_CLI_EXIT_FAIL;
	}
	n = lp_status_find(kind, path, cap);
	if (n == 1)
		return 0;
	if (n == 0)
		fprintf(stderr,
		        "%s status: no running %s found (in %s); give --room or --status-socket\n",
		        prog, prog, LP_STATUS_RUN_DIR);
	else if (n > 1)
		fprintf(stderr,
		        "%s status: %d %s daemons run; say which with --room or --status-socket\n",
		        prog, n, kind);
	else
		fprintf(stderr, "%s status: cannot look for running daemons: %s\n", prog,
		        lp_strerror(n));
	return LP_CLI_EXIT_FAIL;
}

int lp_boot_status_cmd(const struct lp_boot_app *app, int argc, char **argv)
{
	static char doc[LP_CTRL_STATUS_MAX + 1];
	static struct lp_ctrl_status st;
	const char *kind = lp_ctrl_role_name(app->peer->role);
	char name[64], path[LP_STATUS_PATH_MAX];
	struct lp_cli_prog prog = {
		.name = name,
		.summary =
		        "Prints the room as the running daemon sees it: you, then every peer with "
		        "its role, MAC, LAN IPv4 (when seen in ARP or DHCP), RTT to the relay, "
		        "loss, traffic and the estimated RTT to it through the relay.",
		.opts = status_opts,
		.n_opts = LP_ARRAY_LEN(status_opts),
		.notes = "Only the daemon's user and root may read its status. Exit status: 0, 1 "
		         "when "
		         "no daemon answers (or refuses), 2 on a usage error.",
	};
	struct status_args a = { 0 };
	struct lp_cli_common common;
	size_t len = 0;
	int rc;

	snprintf(name, sizeof(name), "%s status", app->prog.name);
	rc = lp_cli_parse(&prog, argc, argv, status_opt, &a, &common);
	if (rc == LP_CLI_DONE)
		return LP_CLI_EXIT_OK;
	if (rc < 0)
		return LP_CLI_EXIT_USAGE;
	rc = pick_path(app->prog.name, kind, &a, path, sizeof(path));
	if (rc != 0)
		return rc;
	rc = lp_status_query(path, LP_BOOT_STATUS_QUERY_TIMEOUT, doc, sizeof(doc), &len);
	if (rc == LP_ERR_NOT_FOUND)
		fprintf(stderr, "%s status: no %s is running at %s\n", app->prog.name, kind, path);
	else if (rc == LP_ERR_PERM)
		fprintf(stderr,
		        "%s status: permission denied: %s belongs to another user (ask as that "
		        "user or as root)\n",
		        app->prog.name, path);
	else if (rc < 0)
		fprintf(stderr, "%s status: %s: %s\n", app->prog.name, path, lp_strerror(rc));
	if (rc < 0)
		return LP_CLI_EXIT_FAIL;
	rc = lp_ctrl_status_parse((const uint8_t *)doc, len, &st);
	if (rc < 0) {
		fprintf(stderr, "%s status: the daemon's answer is not a status document: %s\n",
		        app->prog.name, lp_strerror(rc));
		return LP_CLI_EXIT_FAIL;
	}
	if (a.json)
		fputs(doc, stdout);
	else
		lp_boot_status_print(&st, stdout);
	return fflush(stdout) == 0 ? LP_CLI_EXIT_OK : LP_CLI_EXIT_FAIL;
}
