/*
 * peer_cli.c - the flags every peer shares; see peer_cli.h.
 */
#include "peer_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lp_ctrl.h"
#include "lp_quic.h"

/* An invite file holds one line; anything much larger is not one. */
#define INVITE_FILE_MAX 4096
/* A DER certificate larger than this is not a certificate. */
#define CERT_FILE_MAX (64 * 1024)

int lp_peer_cli_opt(struct lp_peer_args *a, int id, const char *arg, char *err, size_t cap)
{
	int rc;

	switch (id) {
	case LP_PEER_OPT_RELAY:
		rc = lp_net_parse_relay(arg, &a->relay);
		if (rc < 0)
			snprintf(err, cap, "--relay: '%s': %s", arg, lp_strerror(rc));
		a->have_relay = rc == 0;
		return rc;
	case LP_PEER_OPT_RELAY_PIN:
		rc = lp_room_pin_parse(arg, a->pin);
		if (rc < 0)
			snprintf(err, cap,
			         "--relay-pin: '%s' is not a pin: want sha256: and 43 base64url "
			         "characters, as the relay logs it at start",
			         arg);
		a->have_pin = rc == 0;
		return rc;
	case LP_PEER_OPT_ROOM_FILE:
		a->room_file = arg;
		return 0;
	case LP_PEER_OPT_PRINT_INVITE:
		a->print_invite = true;
		return 0;
	case LP_PEER_OPT_INVITE:
		a->invite = arg;
		return 0;
	case LP_PEER_OPT_INVITE_FILE:
		a->invite_file = arg;
		return 0;
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

/* Reads a small file into buf (NUL-terminated). 0, LP_ERR_IO (errno
 * kept), LP_ERR_TOO_BIG. */
static int read_small(const char *path, char *buf, size_t cap, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = 0;

	if (f == NULL)
		return LP_ERR_IO;
	n = fread(buf, 1, cap - 1, f);
	if (ferror(f))
		rc = LP_ERR_IO;
	else if (n == cap - 1 && fgetc(f) != EOF)
		rc = LP_ERR_TOO_BIG;
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return rc;
}

/* The invite of --invite or --invite-file: the room's keys, the relay and
 * its pin. Returns 0 or LP_ERR_INVAL after the usage line. */
static int take_invite(struct lp_peer_args *a, const struct lp_cli_prog *prog, FILE *ef)
{
	char text[INVITE_FILE_MAX], why[160], relay[LP_NET_HOST_MAX + 16];
	const char *src = a->invite;
	struct lp_invite inv;
	int rc;

	if (src == NULL) {
		rc = read_small(a->invite_file, text, sizeof(text), NULL);
		if (rc < 0) {
			lp_cli_usage_error(
			        prog, ef, "cannot read --invite-file %s: %s", a->invite_file,
			        rc == LP_ERR_IO ? strerror(errno) : "too large for an invite");
			return LP_ERR_INVAL;
		}
		src = text;
	}
	rc = lp_invite_parse(src, &inv, why, sizeof(why));
	lp_room_wipe(text, sizeof(text));
	if (rc < 0) {
		lp_cli_usage_error(prog, ef, "%s: %s",
		                   a->invite != NULL ? "--invite" : a->invite_file, why);
		return LP_ERR_INVAL;
	}
	if (a->have_pin && !lp_room_ct_equal(a->pin, inv.pin, sizeof(a->pin))) {
		lp_invite_wipe(&inv);
		lp_cli_usage_error(prog, ef, "--relay-pin differs from the invite's pin");
		return LP_ERR_INVAL;
	}
	rc = lp_room_keys_derive(inv.secret, inv.host_pub, &a->keys);
	memcpy(a->pin, inv.pin, sizeof(a->pin));
	a->have_pin = true;
	/* --relay may name the same relay by another address. */
	if (rc == 0 && !a->have_relay) {
		snprintf(relay, sizeof(relay), strchr(inv.host, ':') != NULL ? "[%s]:%u" : "%s:%u",
		         inv.host, (unsigned)inv.port);
		rc = lp_net_parse_relay(relay, &a->relay);
		a->have_relay = rc == 0;
	}
	lp_invite_wipe(&inv);
	if (rc < 0) {
		lp_cli_usage_error(prog, ef, "invite unusable: %s", lp_strerror(rc));
		return LP_ERR_INVAL;
	}
	a->private_room = true;
	return 0;
}

static int finish_client(struct lp_peer_args *a, const struct lp_cli_prog *prog, FILE *ef)
{
	if (a->room_file != NULL || a->print_invite) {
		lp_cli_usage_error(prog, ef, "--room-file and --print-invite are the gateway's");
		return LP_ERR_INVAL;
	}
	if ((a->room != NULL) + (a->invite != NULL) + (a->invite_file != NULL) != 1) {
		lp_cli_usage_error(prog, ef,
		                   "give one of --invite 'softlan://...', --invite-file FILE (a "
		                   "private room) or --room CODE (an open room)");
		return LP_ERR_INVAL;
	}
	if (a->room == NULL && take_invite(a, prog, ef) < 0)
		return LP_ERR_INVAL;
	return 0;
}

static int finish_gateway(struct lp_peer_args *a, const struct lp_cli_prog *prog, FILE *ef)
{
	if (a->invite != NULL || a->invite_file != NULL) {
		lp_cli_usage_error(prog, ef,
		                   "--invite is for players: the gateway's room is --room-file");
		return LP_ERR_INVAL;
	}
	if ((a->room != NULL) == (a->room_file != NULL)) {
		lp_cli_usage_error(
		        prog, ef,
		        "give --room-file FILE (a private room, created when missing) or "
		        "--room CODE (an open room)");
		return LP_ERR_INVAL;
	}
	if (a->print_invite && a->room_file == NULL) {
		lp_cli_usage_error(prog, ef, "--print-invite needs --room-file");
		return LP_ERR_INVAL;
	}
	return 0;
}

int lp_peer_cli_finish(struct lp_peer_args *a, enum lp_role role, const struct lp_cli_prog *prog)
{
	FILE *ef = prog->err != NULL ? prog->err : stderr;
	int rc = role == LP_ROLE_GATEWAY ? finish_gateway(a, prog, ef) : finish_client(a, prog, ef);

	if (rc < 0)
		return rc;
	if (!a->have_relay) {
		lp_cli_usage_error(prog, ef, "--relay HOST[:PORT] is required");
		return LP_ERR_INVAL;
	}
	if (a->server_name == NULL && a->relay.kind == LP_NET_HOST_NAME)
		a->server_name = a->relay.host;
	if (a->server_name == NULL && a->ca_cert == NULL && !a->have_pin) {
		lp_cli_usage_error(prog, ef,
		                   "--relay is an IP address: give --server-name (the name on the "
		                   "relay's certificate), or pin it with --relay-pin or "
		                   "--relay-ca-cert");
		return LP_ERR_INVAL;
	}
	return 0;
}

/* The gateway's room file: loaded, or created with a fresh secret. */
static int load_room_file(struct lp_peer_args *a, const struct lp_logger *log)
{
	struct lp_room_file rf;
	char err[LP_CLI_ERR_MAX];
	bool created = false;
	int rc;

	rc = lp_room_file_open(a->room_file, &rf, &created, err, sizeof(err));
	if (rc < 0) {
		lp_log(log, LP_LOG_ERROR, "%s", err);
		return rc;
	}
	rc = lp_room_keys_derive(rf.secret, rf.host_pub, &a->keys);
	memcpy(a->secret, rf.secret, sizeof(a->secret));
	memcpy(a->host_seed, rf.host_seed, sizeof(a->host_seed));
	lp_room_file_wipe(&rf);
	if (rc < 0) {
		lp_log(log, LP_LOG_ERROR, "cannot derive the room's keys: %s", lp_strerror(rc));
		return rc;
	}
	a->private_room = true;
	lp_log(log, LP_LOG_INFO, "%s room file %s (it is the room: keep it private)",
	       created ? "created the" : "private room from", a->room_file);
	return 0;
}

int lp_peer_cli_check_files(struct lp_peer_args *a, const struct lp_logger *log)
{
	char err[LP_CLI_ERR_MAX];

	if ((a->ca_cert != NULL &&
	     lp_cli_check_readable("relay-ca-cert", a->ca_cert, err, sizeof(err)) < 0) ||
	    (a->ca_file != NULL &&
	     lp_cli_check_readable("ca-file", a->ca_file, err, sizeof(err)) < 0)) {
		lp_log(log, LP_LOG_ERROR, "%s", err);
		return LP_ERR_IO;
	}
	if (a->room_file != NULL)
		return load_room_file(a, log);
	if (!a->private_room)
		lp_log(log, LP_LOG_WARN,
		       "open room %s: anyone who knows or guesses the code can join; a private "
		       "room (%s) cannot be joined that way",
		       a->room,
		       a->invite != NULL || a->invite_file != NULL ? "an invite" : "--room-file");
	return 0;
}

void lp_peer_cli_tls(const struct lp_peer_args *a, struct lp_quic_client_cfg *out)
{
	memset(out, 0, sizeof(*out));
	out->server_name = a->server_name;
	out->pin_der_file = a->ca_cert;
	out->ca_file = a->ca_file;
	out->spki_pin_set = a->have_pin;
	memcpy(out->spki_pin, a->pin, sizeof(out->spki_pin));
}

void lp_peer_cli_session(const struct lp_peer_args *a, struct lp_client_cfg *out)
{
	if (!a->private_room) {
		out->room = a->room;
		return;
	}
	out->room = NULL;
	out->room_keys = &a->keys;
	out->host_seed = a->room_file != NULL ? a->host_seed : NULL;
}

/* The pin the gateway trusts, for its invite. */
static int invite_pin(const struct lp_peer_args *a, const uint8_t *relay_pin, uint8_t pin[32])
{
	char *der;
	size_t len = 0;
	int rc;

	if (a->have_pin) {
		memcpy(pin, a->pin, LP_ROOM_PIN_LEN);
		return 0;
	}
	if (a->ca_cert != NULL) {
		der = malloc(CERT_FILE_MAX);
		if (der == NULL)
			return LP_ERR_NOMEM;
		rc = read_small(a->ca_cert, der, CERT_FILE_MAX, &len);
		if (rc == 0)
			rc = lp_quic_cert_pin((const uint8_t *)der, len, pin);
		free(der);
		return rc;
	}
	if (relay_pin != NULL) {
		memcpy(pin, relay_pin, LP_ROOM_PIN_LEN);
		return 0;
	}
	return LP_ERR_STATE;
}

int lp_peer_cli_print_invite(const struct lp_peer_args *a, const uint8_t *relay_pin, FILE *out)
{
	struct lp_invite inv;
	char line[LP_INVITE_MAX];
	ssize_t n;
	int rc;

	if (!a->private_room || a->room_file == NULL)
		return LP_ERR_STATE;
	memset(&inv, 0, sizeof(inv));
	rc = invite_pin(a, relay_pin, inv.pin);
	if (rc < 0)
		return rc;
	if (lp_strlcpy_checked(inv.host, sizeof(inv.host), a->relay.host) < 0)
		return LP_ERR_INVAL;
	inv.port = a->relay.port;
	memcpy(inv.room_id, a->keys.room_id, sizeof(inv.room_id));
	memcpy(inv.host_pub, a->keys.host_pub, sizeof(inv.host_pub));
	memcpy(inv.secret, a->secret, sizeof(inv.secret));
	n = lp_invite_format(&inv, line, sizeof(line));
	lp_invite_wipe(&inv);
	if (n < 0)
		return (int)n;
	fprintf(out, "%s\n", line);
	fflush(out);
	lp_room_wipe(line, sizeof(line));
	return 0;
}

const char *lp_peer_cli_room_name(const struct lp_peer_args *a, char *buf, size_t cap)
{
	char id[LP_ROOM_B64_ID_LEN + 1];

	if (!a->private_room ||
	    lp_room_b64url_encode(a->keys.room_id, sizeof(a->keys.room_id), id, sizeof(id)) < 0)
		snprintf(buf, cap, "%s", a->room != NULL ? a->room : "");
	else
		snprintf(buf, cap, "~%.8s", id);
	return buf;
}

void lp_peer_cli_free(struct lp_peer_args *a)
{
	lp_room_keys_wipe(&a->keys);
	lp_room_wipe(a->secret, sizeof(a->secret));
	lp_room_wipe(a->host_seed, sizeof(a->host_seed));
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
