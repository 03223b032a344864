/*
 * peer_cli.c - the flags every peer shares; see peer_cli.h.
 */
#include "peer_cli.h"

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
