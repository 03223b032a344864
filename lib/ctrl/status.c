/*
 * status.c - the local status document of a running peer (lp_ctrl.h):
 *
 *   {"version":1,"program":"lanparty-client","state":"admitted","room":"LAN1",
 *    "role":"client","mac":"02:5e:10:aa:bb:cc","peer_id":3,"mtu":1380,
 *    "lan_ip":"10.77.0.101","rtt_us":900,"rtt_min_us":700,"dg_sent":10,
 *    "dg_lost":0,"tx_frames":12,"tx_bytes":3400,"rx_frames":15,"rx_bytes":5000,
 *    "table_age_ms":1200,"peers_total":3,
 *    "peers":[{"peer_id":1,"role":"gateway","mac":"52:54:00:12:34:56",
 *              "lan_ip":null,"rtt_us":800,...,"est_rtt_us":1700}, ...],
 *    "lan_hosts":[{"mac":"52:54:00:aa:bb:01","lan_ip":"10.77.0.1"}]}
 *
 * "room" is the open room's code, or a private room's label "~" + the
 * first 8 base64url characters of its id (the relay's name for it).
 * "lan_ip" is a dotted IPv4 string or null (not seen); "table_age_ms" is
 * null before the relay's first peer_stats. Our own numbers are our
 * session's (RTT from our QUIC estimator, loss of what we sent); a peer's
 * are the relay's. "peers" excludes ourselves; at most
 * LP_CTRL_PEER_STATS_MAX entries, "lan_hosts" at most
 * LP_CTRL_STATUS_HOSTS_MAX.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "json_int.h"

/* An open room's code, or a private room's label as the relay logs it:
 * "~" and the first 8 base64url characters of its id. */
static int room_label_validate(const char *room)
{
	size_t i;

	if (room[0] != '~')
		return lp_ctrl_room_validate(room);
	for (i = 1; room[i] != '\0'; i++) {
		char c = room[i];

		if (i > LP_CTRL_STATUS_PRIVATE_LABEL ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return LP_ERR_ROOM_CHARS;
	}
	return i == LP_CTRL_STATUS_PRIVATE_LABEL + 1 ? 0 : LP_ERR_ROOM_CHARS;
}

static int get_role_mac(json_t *o, enum lp_role *role, struct lp_mac *mac)
{
	char s[32];
	int rc = lp_ctrl_json_text(o, "role", s, sizeof(s));

	if (rc == 0)
		rc = lp_ctrl_role_parse(s, role);
	if (rc == 0)
		rc = lp_ctrl_json_text(o, "mac", s, sizeof(s));
	if (rc == 0)
		rc = lp_proto_mac_parse(s, mac);
	return rc;
}

/* Four decimal octets 0..255, nothing else. */
static int ip_parse(const char *s, uint8_t ip[4])
{
	for (int i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return LP_ERR_FIELD_RANGE;
		ip[i] = (uint8_t)v;
		if (i < 3 && *s++ != '.')
			return LP_ERR_FIELD_RANGE;
	}
	return *s == '\0' ? 0 : LP_ERR_FIELD_RANGE;
}

static int get_ip(json_t *o, bool nullable, bool *has, uint8_t ip[4])
{
	char s[20];
	json_t *v;
	int rc = lp_ctrl_json_get(o, "lan_ip", &v);

	if (rc != 0)
		return rc;
	*has = false;
	if (nullable && json_is_null(v))
		return 0;
	rc = lp_ctrl_json_text(o, "lan_ip", s, sizeof(s));
	if (rc == 0)
		rc = ip_parse(s, ip);
	*has = rc == 0;
	return rc;
}

static int get_link(json_t *o, struct lp_ctrl_status_link *l)
{
	const uint64_t top = (uint64_t)INT64_MAX;
	int rc = lp_ctrl_json_u64(o, "rtt_us", LP_CTRL_RTT_US_MAX, &l->rtt_us);

	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "rtt_min_us", LP_CTRL_RTT_US_MAX, &l->rtt_min_us);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "dg_sent", top, &l->dg_sent);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "dg_lost", top, &l->dg_lost);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "tx_frames", top, &l->tx_frames);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "tx_bytes", top, &l->tx_bytes);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "rx_frames", top, &l->rx_frames);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "rx_bytes", top, &l->rx_bytes);
	return rc;
}

static int get_array(json_t *o, const char *key, size_t max, json_t **arr)
{
	int rc = lp_ctrl_json_get(o, key, arr);

	if (rc != 0)
		return rc;
	if (!json_is_array(*arr))
		return LP_ERR_FIELD_TYPE;
	return json_array_size(*arr) > max ? LP_ERR_FIELD_RANGE : 0;
}

static int parse_peer(json_t *o, struct lp_ctrl_status_peer *p)
{
	int rc;

	if (!json_is_object(o))
		return LP_ERR_FIELD_TYPE;
	rc = lp_ctrl_json_u32(o, "peer_id", LP_CTRL_PEER_ID_MAX, &p->peer_id);
	if (rc == 0 && p->peer_id == 0)
		rc = LP_ERR_PEER_ID;
	if (rc == 0)
		rc = get_role_mac(o, &p->role, &p->mac);
	if (rc == 0)
		rc = get_ip(o, true, &p->has_ip, p->ip);
	if (rc == 0)
		rc = get_link(o, &p->link);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "est_rtt_us", 2 * LP_CTRL_RTT_US_MAX, &p->est_rtt_us);
	return rc;
}

static int parse_host(json_t *o, struct lp_ctrl_status_host *h)
{
	struct lp_mac mac = { { 0 } };
	char s[32];
	bool has = false;
	int rc;

	if (!json_is_object(o))
		return LP_ERR_FIELD_TYPE;
	rc = lp_ctrl_json_text(o, "mac", s, sizeof(s));
	if (rc == 0)
		rc = lp_proto_mac_parse(s, &mac);
	if (rc == 0)
		rc = get_ip(o, false, &has, h->ip);
	h->mac = mac;
	return rc;
}

static int parse_doc(json_t *o, struct lp_ctrl_status *st)
{
	json_t *v = NULL, *peers = NULL, *hosts = NULL;
	uint64_t version = 0;
	size_t i;
	int rc = lp_ctrl_json_u64(o, "version", UINT32_MAX, &version);

	if (rc == 0 && version != LP_CTRL_STATUS_VERSION)
		rc = LP_ERR_VERSION;
	if (rc == 0)
		rc = lp_ctrl_json_text(o, "program", st->program, sizeof(st->program));
	if (rc == 0)
		rc = lp_ctrl_json_text(o, "state", st->state, sizeof(st->state));
	if (rc == 0)
		rc = lp_ctrl_json_text(o, "room", st->room, sizeof(st->room));
	if (rc == 0)
		rc = room_label_validate(st->room);
	if (rc == 0)
		rc = get_role_mac(o, &st->role, &st->mac);
	if (rc == 0)
		rc = lp_ctrl_json_u32(o, "peer_id", LP_CTRL_PEER_ID_MAX, &st->peer_id);
	if (rc == 0)
		rc = lp_ctrl_json_u32(o, "mtu", LP_MTU_MAX, &st->mtu);
	if (rc == 0)
		rc = get_ip(o, true, &st->has_ip, st->ip);
	if (rc == 0)
		rc = get_link(o, &st->link);
	if (rc == 0)
		rc = lp_ctrl_json_get(o, "table_age_ms", &v);
	if (rc == 0 && !json_is_null(v)) {
		rc = lp_ctrl_json_u64(o, "table_age_ms", (uint64_t)INT64_MAX, &st->table_age_ms);
		st->has_table = rc == 0;
	}
	if (rc == 0)
		rc = lp_ctrl_json_u32(o, "peers_total", LP_CTRL_PEERS_TOTAL_MAX, &st->peers_total);
	if (rc == 0)
		rc = get_array(o, "peers", LP_CTRL_PEER_STATS_MAX, &peers);
	if (rc == 0)
		rc = get_array(o, "lan_hosts", LP_CTRL_STATUS_HOSTS_MAX, &hosts);
	if (rc != 0)
		return rc;
	st->count = (uint32_t)json_array_size(peers);
	for (i = 0; i < st->count && rc == 0; i++)
		rc = parse_peer(json_array_get(peers, i), &st->peers[i]);
	st->nhosts = (uint32_t)json_array_size(hosts);
	for (i = 0; i < st->nhosts && rc == 0; i++)
		rc = parse_host(json_array_get(hosts, i), &st->hosts[i]);
	return rc;
}

int lp_ctrl_status_parse(const uint8_t *json, size_t len, struct lp_ctrl_status *out)
{
	json_error_t jerr;
	json_t *root = NULL;
	int rc = LP_ERR_JSON;

	memset(out, 0, sizeof(*out));
	if (json == NULL || len == 0 || len > LP_CTRL_STATUS_MAX)
		return LP_ERR_JSON;
	root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root != NULL && json_is_object(root))
		rc = parse_doc(root, out);
	json_decref(root);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* ---- Encoding ------------------------------------------------------------ */

static json_t *ip_json(bool has, const uint8_t ip[4])
{
	char s[16];

	if (!has)
		return json_null();
	snprintf(s, sizeof(s), "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
	return json_string(s);
}

/* Adds the link members to o; false when out of memory. */
static bool put_link(json_t *o, const struct lp_ctrl_status_link *l)
{
	const struct {
		const char *key;
		uint64_t v;
	} m[] = {
		{ "rtt_us", l->rtt_us },       { "rtt_min_us", l->rtt_min_us },
		{ "dg_sent", l->dg_sent },     { "dg_lost", l->dg_lost },
		{ "tx_frames", l->tx_frames }, { "tx_bytes", l->tx_bytes },
		{ "rx_frames", l->rx_frames }, { "rx_bytes", l->rx_bytes },
	};

	for (size_t i = 0; i < LP_ARRAY_LEN(m); i++) {
		if (json_object_set_new(o, m[i].key, json_integer((json_int_t)m[i].v)) != 0)
			return false;
	}
	return true;
}

static bool link_valid(const struct lp_ctrl_status_link *l)
{
	const uint64_t top = (uint64_t)INT64_MAX;

	return l->rtt_us <= LP_CTRL_RTT_US_MAX && l->rtt_min_us <= LP_CTRL_RTT_US_MAX &&
	       l->dg_sent <= top && l->dg_lost <= top && l->tx_frames <= top &&
	       l->tx_bytes <= top && l->rx_frames <= top && l->rx_bytes <= top;
}

static int validate(const struct lp_ctrl_status *st)
{
	size_t i;

	if (memchr(st->program, '\0', sizeof(st->program)) == NULL ||
	    memchr(st->state, '\0', sizeof(st->state)) == NULL ||
	    memchr(st->room, '\0', sizeof(st->room)) == NULL ||
	    !lp_utf8_valid(st->program, strlen(st->program)) ||
	    !lp_utf8_valid(st->state, strlen(st->state)) || room_label_validate(st->room) != 0 ||
	    lp_ctrl_role_mac_validate(st->role, &st->mac) != 0 ||
	    st->peer_id > LP_CTRL_PEER_ID_MAX || st->count > LP_CTRL_PEER_STATS_MAX ||
	    st->nhosts > LP_CTRL_STATUS_HOSTS_MAX || st->peers_total > LP_CTRL_PEERS_TOTAL_MAX ||
	    st->table_age_ms > (uint64_t)INT64_MAX || st->mtu > LP_MTU_MAX ||
	    !link_valid(&st->link))
		return LP_ERR_FIELD_RANGE;
	for (i = 0; i < st->count; i++) {
		const struct lp_ctrl_status_peer *p = &st->peers[i];

		if (lp_ctrl_peer_id_validate(p->peer_id) != 0 ||
		    lp_ctrl_role_mac_validate(p->role, &p->mac) != 0 || !link_valid(&p->link) ||
		    p->est_rtt_us > 2 * LP_CTRL_RTT_US_MAX)
			return LP_ERR_FIELD_RANGE;
	}
	return 0;
}

static json_t *build_peer(const struct lp_ctrl_status_peer *p)
{
	char mac[LP_MAC_STR_LEN];
	json_t *o;

	lp_proto_mac_format(&p->mac, mac);
	o = json_pack("{s:I, s:s, s:s, s:o}", "peer_id", (json_int_t)p->peer_id, "role",
	              lp_ctrl_role_name(p->role), "mac", mac, "lan_ip", ip_json(p->has_ip, p->ip));
	if (o != NULL &&
	    (!put_link(o, &p->link) ||
	     json_object_set_new(o, "est_rtt_us", json_integer((json_int_t)p->est_rtt_us)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *build(const struct lp_ctrl_status *st)
{
	char mac[LP_MAC_STR_LEN];
	json_t *o, *peers = json_array(), *hosts = json_array();
	size_t i;

	lp_proto_mac_format(&st->mac, mac);
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "version",
	              LP_CTRL_STATUS_VERSION, "program", st->program, "state", st->state, "room",
	              st->room, "role", lp_ctrl_role_name(st->role), "mac", mac, "peer_id",
	              (json_int_t)st->peer_id, "mtu", (json_int_t)st->mtu, "lan_ip",
	              ip_json(st->has_ip, st->ip));
	if (o == NULL || peers == NULL || hosts == NULL || !put_link(o, &st->link))
		goto fail;
	for (i = 0; i < st->count; i++) {
		if (json_array_append_new(peers, build_peer(&st->peers[i])) != 0)
			goto fail;
	}
	for (i = 0; i < st->nhosts; i++) {
		lp_proto_mac_format(&st->hosts[i].mac, mac);
		if (json_array_append_new(hosts, json_pack("{s:s, s:o}", "mac", mac, "lan_ip",
		                                           ip_json(true, st->hosts[i].ip))) != 0)
			goto fail;
	}
	if (json_object_set_new(o, "table_age_ms",
	                        st->has_table ? json_integer((json_int_t)st->table_age_ms)
	                                      : json_null()) != 0 ||
	    json_object_set_new(o, "peers_total", json_integer((json_int_t)st->peers_total)) != 0)
		goto fail;
	/* set_new takes the references whether or not it succeeds. */
	if (json_object_set_new(o, "peers", peers) != 0) {
		peers = NULL;
		goto fail;
	}
	if (json_object_set_new(o, "lan_hosts", hosts) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
fail:
	json_decref(peers);
	json_decref(hosts);
	json_decref(o);
	return NULL;
}

ssize_t lp_ctrl_status_encode(const struct lp_ctrl_status *st, char *out, size_t cap)
{
	json_t *root;
	size_t n;
	int rc = validate(st);

	if (rc != 0)
		return rc;
	root = build(st);
	if (root == NULL)
		return LP_ERR_NOMEM;
	n = json_dumpb(root, out, cap, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (n == 0)
		return LP_ERR_NOMEM;
	if (n + 2 > cap || n + 1 > LP_CTRL_STATUS_MAX)
		return LP_ERR_NOBUF;
	out[n] = '\n';
	out[n + 1] = '\0';
	return (ssize_t)(n + 1);
}
