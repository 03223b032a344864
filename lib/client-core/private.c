/*
 * private.c - the private-room half of the session (PRIVATE ROOMS in
 * lp_client.h): proofs in the hello, the sealer and the opener.
 */
#include <stdio.h>
#include <string.h>

#include "client_int.h"

int lp_client_private_init(struct lp_client *s, const struct lp_client_cfg *cfg)
{
	char id[LP_ROOM_B64_ID_LEN + 1];
	int rc;

	if (cfg->role == LP_ROLE_GATEWAY && cfg->host_seed == NULL)
		return LP_ERR_INVAL;
	s->private_room = true;
	s->keys = *cfg->room_keys;
	if (cfg->host_seed != NULL)
		memcpy(s->host_seed, cfg->host_seed, sizeof(s->host_seed));
	if (lp_room_b64url_encode(s->keys.room_id, sizeof(s->keys.room_id), id, sizeof(id)) < 0)
		return LP_ERR_INVAL;
	snprintf(s->room, sizeof(s->room), "~%.8s", id);
	/* A new sealer per session: a new random epoch, so no nonce repeats
	 * across reconnects with the same MAC. */
	rc = lp_room_sealer_new(&s->keys, &s->sealer);
	if (rc < 0)
		return rc;
	if (cfg->opener != NULL) {
		s->opener = cfg->opener;
		return 0;
	}
	s->own_opener = true;
	return lp_room_opener_new(&s->keys, 0, &s->opener);
}

void lp_client_private_free(struct lp_client *s)
{
	lp_room_sealer_del(s->sealer);
	if (s->own_opener)
		lp_room_opener_del(s->opener);
	s->sealer = NULL;
	s->opener = NULL;
	lp_room_keys_wipe(&s->keys);
	lp_room_wipe(s->host_seed, sizeof(s->host_seed));
}

int lp_client_private_hello(struct lp_client *s, struct lp_ctrl_hello *h)
{
	uint8_t e[LP_ROOM_EXPORTER_LEN];
	int rc;

	rc = lp_quic_conn_exporter(s->conn, LP_ROOM_EXPORTER_LABEL, e, sizeof(e));
	if (rc < 0)
		return rc;
	h->private_room = true;
	h->room[0] = '\0';
	memcpy(h->priv.room_id, s->keys.room_id, sizeof(h->priv.room_id));
	memcpy(h->priv.verifier, s->keys.verifier, sizeof(h->priv.verifier));
	memcpy(h->priv.host, s->keys.host_pub, sizeof(h->priv.host));
	rc = lp_room_sign_admission(&s->keys, e, lp_ctrl_role_name(h->role), h->priv.proof);
	if (rc == 0 && h->role == LP_ROLE_GATEWAY) {
		h->priv.has_host_proof = true;
		rc = lp_room_sign_host(s->host_seed, e, h->priv.host_proof);
	}
	lp_room_wipe(e, sizeof(e));
	return rc;
}

static enum lp_drop_reason drop_of(enum lp_room_drop d)
{
	switch (d) {
	case LP_ROOM_DROP_UNSEALED:
		return LP_DROP_UNSEALED;
	case LP_ROOM_DROP_AUTH:
		return LP_DROP_AUTH;
	case LP_ROOM_DROP_REPLAY:
		return LP_DROP_REPLAY;
	case LP_ROOM_DROP_TOO_OLD:
		return LP_DROP_TOO_OLD;
	case LP_ROOM_DROP_RETIRED_EPOCH:
		return LP_DROP_RETIRED_EPOCH;
	default:
		return LP_DROP_MALFORMED;
	}
}

ssize_t lp_client_private_open(struct lp_client *s, const uint8_t *data, size_t len)
{
	enum lp_room_drop why = LP_ROOM_DROP_NONE;
	uint64_t skipped = 0;
	ssize_t n;

	if (len > sizeof(s->rx_scratch)) {
		lp_obs_count_drop(&s->ctr, LP_DROP_MALFORMED);
		return LP_ERR_TOO_BIG;
	}
	memcpy(s->rx_scratch, data, len);
	n = lp_room_open(s->opener, s->rx_scratch, len, &why);
	if (n >= 0)
		return n;
	lp_obs_count_drop(&s->ctr, drop_of(why));
	if (lp_log_ratelimit_ok(&s->rl, s->now, &skipped))
		lp_log(s->log, LP_LOG_WARN,
		       "client: dropped a datagram of room %s (%zu bytes): %s (%llu similar "
		       "skipped)",
		       s->room, len,
		       why != LP_ROOM_DROP_NONE ? lp_room_drop_name(why) : "local error",
		       (unsigned long long)skipped);
	return n;
}
