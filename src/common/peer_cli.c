/*
 * peer_cli.c - the flags every peer shares; see peer_cli.h.
 */
#include "peer_cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lp_ctrl.h"

int lp_peer_cli_opt(struct lp_peer_args *a, int id, const char *arg, char *err, size_t cap)
{
	int rc;

	switch (id) {
	case LP_PEER_OPT_RELAY:
		rc = lp_net_parse_relay(arg, &a->relay);
		if (rc < 0)
			snprintf(err, cap, "--relay: '%s': %s", arg, lp_strerror(rc));
		return rc;
	case LP_PEER_OPT_SERVER_NAME:
		a->server_name = arg;
		return 0;
	case LP_PEER_OPT_CA_CERT:
		a->ca_cert = arg;
		return 0;
	case LP_PEER_OPT_CA_FILE:
		a->ca_file = arg;
		return 0;
	case LP_PEER_OPT_ROOM:
		rc = lp_ctrl_room_validate(arg);
		if (rc < 0)
			snprintf(err, cap, "--room: '%s': %s (1-32 of A-Z a-z 0-9 _ -)", arg,
			         lp_strerror(rc));
		a->room = arg;
		return rc;
	case LP_PEER_OPT_VIRTUAL_MAC:
		return lp_peer_identity_mac_opt(&a->id, arg, err, cap);
	case LP_PEER_OPT_IDENTITY:
		a->id.path = arg;
		return 0;
	case LP_PEER_OPT_USER:
		a->user = arg;
		return 0;
	case LP_PEER_OPT_STATUS_SOCKET:
		if (arg[0] == '\0' || strlen(arg) >= 108) {
			snprintf(err, cap, "--status-socket: '%s': empty or longer than 107 bytes",
			         arg);
			return LP_ERR_INVAL;
		}
		a->status_socket = arg;
		return 0;
	case LP_PEER_OPT_STATUS_INTERVAL:
	case LP_PEER_OPT_STATS_INTERVAL:
		return lp_cli_parse_seconds(
		        id == LP_PEER_OPT_STATUS_INTERVAL ? "status-interval" : "stats-interval",
		        arg, LP_NS_PER_SEC, 3600 * LP_NS_PER_SEC, &a->status_interval, err, cap);
	default:
		return LP_PEER_CLI_NOT_MINE;
	}
}

int lp_peer_cli_finish(struct lp_peer_args *a, const struct lp_cli_prog *prog)
{
	if (a->server_name == NULL && a->relay.kind == LP_NET_HOST_NAME)
		a->server_name = a->relay.host;
	if (a->server_name == NULL && a->ca_cert == NULL) {
		lp_cli_usage_error(prog, prog->err != NULL ? prog->err : stderr,
		                   "--relay is an IP address: give --server-name (the name on the "
		                   "relay's certificate) or pin it with --relay-ca-cert");
		return LP_ERR_INVAL;
	}
	return 0;
}

int lp_peer_cli_check_files(const struct lp_peer_args *a, const struct lp_logger *log)
{
	char err[LP_CLI_ERR_MAX];

	if ((a->ca_cert != NULL &&
	     lp_cli_check_readable("relay-ca-cert", a->ca_cert, err, sizeof(err)) < 0) ||
	    (a->ca_file != NULL &&
	     lp_cli_check_readable("ca-file", a->ca_file, err, sizeof(err)) < 0)) {
		lp_log(log, LP_LOG_ERROR, "%s", err);
		return LP_ERR_IO;
	}
	return 0;
}

void lp_peer_cli_tls(const struct lp_peer_args *a, struct lp_quic_client_cfg *out)
{
	memset(out, 0, sizeof(*out));
	out->server_name = a->server_name;
	out->pin_der_file = a->ca_cert;
	out->ca_file = a->ca_file;
}

int lp_peer_identity_mac_opt(struct lp_peer_identity *pi, const char *arg, char *err, size_t cap)
{
	int rc = lp_proto_mac_parse(arg, &pi->mac);

	if (rc == 0)
		rc = lp_proto_mac_validate_generated(&pi->mac); /* the relay refuses others */
	if (rc < 0)
		snprintf(err, cap, "--virtual-mac: '%s': %s", arg, lp_strerror(rc));
	pi->have_mac = rc == 0;
	return rc;
}

/* lib/ctrl keeps errno for LP_ERR_IO on every platform (the CRT on Windows). */
int lp_peer_identity_load(const struct lp_peer_identity *pi, const struct lp_logger *log,
                          struct lp_mac *out)
{
	struct lp_ctrl_identity id;
	char mac[LP_MAC_STR_LEN];
	bool created = false;
	int rc;

	if (pi->have_mac) {
		*out = pi->mac;
		lp_proto_mac_format(out, mac);
		lp_log(log, LP_LOG_INFO, "tunnel MAC %s (--virtual-mac; identity file not used)",
		       mac);
		return 0;
	}
	rc = lp_ctrl_identity_load_or_create(pi->path, &id, &created);
	if (rc < 0) {
		if (rc == LP_ERR_IO)
			lp_log(log, LP_LOG_ERROR, "cannot read or create identity file %s: %s",
			       pi->path, strerror(errno));
		else
			lp_log(log, LP_LOG_ERROR,
			       "identity file %s is invalid (%s): fix or delete it to generate a "
			       "new MAC, or pass --virtual-mac",
			       pi->path, lp_strerror(rc));
		return rc;
	}
	*out = id.mac;
	lp_proto_mac_format(out, mac);
	if (created)
		lp_log(log, LP_LOG_INFO, "generated tunnel MAC %s, saved to %s", mac, pi->path);
	else
		lp_log(log, LP_LOG_INFO, "tunnel MAC %s from %s", mac, pi->path);
	return 0;
}
