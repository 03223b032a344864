/*
 * json.c - control messages <-> JSON bodies. The only file that touches
 * Jansson.
 *
 * Wire names (protocol version 1). Every body is one JSON object whose
 * "type" member names the message. Integers are JSON integers (never
 * reals, never booleans); strings are UTF-8; members not listed are
 * ignored, so later versions may add some. Encoding writes the members in
 * the order below, compactly (no spaces).
 *
 *   hello        {"type":"hello","version":1,"role":"client"|"gateway",
 *                 "room":"ROOM1","mac":"aa:bb:cc:dd:ee:ff",
 *                 "datagram_budget":1407,"software":"softlan-vpn 0.1 linux"}
 *                 software is optional (omitted when empty); room is
 *                 1..32 of [A-Za-z0-9_-]; mac is unicast and non-zero,
 *                 "aa:bb:.." or "aa-bb-..", any case; datagram_budget is
 *                 1..65535; software is at most 63 bytes.
 *   hello of a private room: "room" is absent and these take its place
 *                 (written after "role"):
 *                 "room_id":"<22>","verifier":"<43>","host":"<43>",
 *                 "proof":"<86>" and, for role gateway only,
 *                 "host_proof":"<86>": unpadded base64url of exactly 16,
 *                 32, 32, 64 and 64 bytes (lp_room_b64url_decode_exact).
 *                 A hello with both "room" and "room_id", a client with a
 *                 host_proof, a private field in an open hello: refused
 *                 (LP_ERR_FIELD_RANGE); a gateway without host_proof or a
 *                 private hello missing a field: LP_ERR_FIELD_MISSING.
 *   welcome      {"type":"welcome","version":1,"mode":"relay","peer_id":7,
 *                 "mtu":1380,"gateway_present":true}
 *                 peer_id is 1..2147483647; mtu is 1280..65521.
 *   reject       {"type":"reject","reason":"duplicate_mac","message":"text"}
 *                 reason is one of bad_hello, version, bad_room,
 *                 gateway_exists, duplicate_mac, room_full, too_many_rooms,
 *                 budget_too_small, shutting_down, not_admitted; message is at most 200
 *                 bytes (may be empty).
 *   peer_joined  {"type":"peer_joined","peer_id":7,"role":"gateway",
 *                 "mac":"aa:bb:cc:dd:ee:ff"}
 *   peer_left    {"type":"peer_left","peer_id":7,"role":"client",
 *                 "mac":"aa:bb:cc:dd:ee:ff","reason":"text"}
 *                 reason is at most 200 bytes (may be empty).
 *   stats        {"type":"stats","frames_rx":0,"frames_tx":0,
 *                 "datagrams_rx":0,"datagrams_tx":0,"bytes_rx":0,
 *                 "bytes_tx":0,"broadcast_rx":0,"drops":{"too_big":3}}
 *                 counters are 0..2^63-1; "drops" is required and holds
 *                 only the non-zero reasons, named as lp_obs_drop_name()
 *                 (too_big, malformed, truncated, queue_full, unknown_dest,
 *                 not_ready, io, loop, invalid_src, spoofed_src, jumbo,
 *                 switch_control, dhcp_server, ipv6_ra, rate_broadcast,
 *                 rate_unknown, rate_total). Unknown drop names, and "none",
 *                 are ignored whatever their value.
 *   disconnect   {"type":"disconnect","reason":"text"}
 *                 reason is at most 200 bytes (may be empty).
 *   peer_stats   {"type":"peer_stats","peers_total":2,"peers":[{...}]}
 *                 see peer_stats.c (the entries and their ranges).
 *
 * Parse errors, checked in this order per member:
 *   longer than LP_CTRL_FRAME_MAX, deeper than       LP_ERR_JSON_LIMIT
 *   LP_CTRL_JSON_DEPTH, more than LP_CTRL_JSON_ELEMENTS elements
 *   (counted on the bytes, before Jansson parses them)
 *   not JSON, or JSON whose top level is not an object  LP_ERR_JSON
 *   (duplicate keys and embedded NULs count as not JSON)
 *   "type" absent / not a string / unknown name    LP_ERR_FIELD_MISSING /
 *                                                  LP_ERR_FIELD_TYPE / LP_ERR_TYPE
 *   "version" (hello, welcome) checked first of all other members:
 *   absent / not an integer / not 1                LP_ERR_FIELD_MISSING /
 *                                                  LP_ERR_FIELD_TYPE / LP_ERR_VERSION
 *   any member absent                              LP_ERR_FIELD_MISSING
 *   any member of the wrong JSON type              LP_ERR_FIELD_TYPE
 *   integer out of range, string longer than its   LP_ERR_FIELD_RANGE
 *   field, unknown mode or reject reason
 *   role name                                      LP_ERR_ROLE
 *   MAC text / MAC not unicast or zero             LP_ERR_MAC_SYNTAX / LP_ERR_ROLE_MAC
 *   room                                           LP_ERR_ROOM_EMPTY / _LONG / _CHARS
 *   peer_id / mtu                                  LP_ERR_PEER_ID / LP_ERR_MTU_RANGE
 */
#include "lp_ctrl.h"

#include <jansson.h>
#include <string.h>

#include "lp_room.h"
#include "json_int.h"

_Static_assert(LP_CTRL_ROOM_ID_LEN == LP_ROOM_ID_LEN && LP_CTRL_KEY_LEN == LP_ROOM_PUB_LEN &&
                       LP_CTRL_SIG_LEN == LP_ROOM_SIG_LEN,
               "hello fields carry lib/room's values");

/* Members of a private hello, in wire order. */
static const char *const private_keys[] = { "room_id", "verifier", "host", "proof", "host_proof" };

int lp_ctrl_json_get(json_t *o, const char *key, json_t **out)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return LP_ERR_FIELD_MISSING;
	*out = v;
	return 0;
}

static int get_int(json_t *obj, const char *key, json_int_t *out)
{
	json_t *v;
	int rc = lp_ctrl_json_get(obj, key, &v);

	if (rc != 0)
		return rc;
	if (!json_is_integer(v))
		return LP_ERR_FIELD_TYPE;
	*out = json_integer_value(v);
	return 0;
}

int lp_ctrl_json_u64(json_t *o, const char *key, uint64_t max, uint64_t *out)
{
	json_int_t v;
	int rc = get_int(o, key, &v);

	if (rc != 0)
		return rc;
	if (v < 0 || (uint64_t)v > max)
		return LP_ERR_FIELD_RANGE;
	*out = (uint64_t)v;
	return 0;
}

int lp_ctrl_json_u32(json_t *o, const char *key, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int rc = lp_ctrl_json_u64(o, key, max, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

static int get_version(json_t *obj, uint32_t *out)
{
	json_int_t v;
	int rc = get_int(obj, "version", &v);

	if (rc != 0)
		return rc;
	if (v != LP_CTRL_VERSION)
		return LP_ERR_VERSION;
	*out = LP_CTRL_VERSION;
	return 0;
}

int lp_ctrl_json_str(json_t *o, const char *key, const char **out)
{
	json_t *v;
	int rc = lp_ctrl_json_get(o, key, &v);

	if (rc != 0)
		return rc;
	if (!json_is_string(v))
		return LP_ERR_FIELD_TYPE;
	*out = json_string_value(v);
	return 0;
}

/* The loaders refuse embedded NULs, so strlen is the string's length. */
int lp_ctrl_json_text(json_t *o, const char *key, char *dst, size_t cap)
{
	const char *s;
	int rc = lp_ctrl_json_str(o, key, &s);

	if (rc == 0 && strlen(s) >= cap)
		rc = LP_ERR_FIELD_RANGE;
	if (rc == 0)
		memcpy(dst, s, strlen(s) + 1);
	return rc;
}

static int get_role(json_t *obj, enum lp_role *out)
{
	const char *s;
	int rc = lp_ctrl_json_str(obj, "role", &s);

	if (rc != 0)
		return rc;
	return lp_ctrl_role_parse(s, out);
}

static int get_mac(json_t *obj, struct lp_mac *out)
{
	const char *s;
	int rc = lp_ctrl_json_str(obj, "mac", &s);

	if (rc != 0)
		return rc;
	return lp_proto_mac_parse(s, out);
}

static int get_room(json_t *obj, char *dst, size_t cap)
{
	const char *s;
	int rc = lp_ctrl_json_str(obj, "room", &s);

	if (rc != 0)
		return rc;
	/* The room rule is stricter than the buffer, so a long room reports
	 * LP_ERR_ROOM_LONG rather than the generic LP_ERR_FIELD_RANGE. */
	rc = lp_ctrl_room_validate(s);
	if (rc != 0)
		return rc;
	return lp_strlcpy_checked(dst, cap, s);
}

/* A binary member: unpadded base64url of exactly n bytes. */
static int get_b64(json_t *obj, const char *key, uint8_t *out, size_t n)
{
	const char *s;
	int rc = lp_ctrl_json_str(obj, key, &s);

	if (rc != 0)
		return rc;
	return lp_room_b64url_decode_exact(s, out, n) == 0 ? 0 : LP_ERR_FIELD_RANGE;
}

static int parse_private(json_t *o, struct lp_ctrl_hello *h)
{
	struct lp_ctrl_room_proof *p = &h->priv;
	int rc;

	if (json_object_get(o, "room") != NULL)
		return LP_ERR_FIELD_RANGE;
	h->private_room = true;
	rc = get_b64(o, "room_id", p->room_id, sizeof(p->room_id));
	if (rc == 0)
		rc = get_b64(o, "verifier", p->verifier, sizeof(p->verifier));
	if (rc == 0)
		rc = get_b64(o, "host", p->host, sizeof(p->host));
	if (rc == 0)
		rc = get_b64(o, "proof", p->proof, sizeof(p->proof));
	if (rc == 0 && json_object_get(o, "host_proof") != NULL) {
		p->has_host_proof = true;
		rc = get_b64(o, "host_proof", p->host_proof, sizeof(p->host_proof));
	}
	return rc;
}

/* An open hello: the room code, and none of the private members. */
static int parse_open(json_t *o, struct lp_ctrl_hello *h)
{
	for (size_t i = 0; i < LP_ARRAY_LEN(private_keys); i++)
		if (json_object_get(o, private_keys[i]) != NULL)
			return LP_ERR_FIELD_RANGE;
	return get_room(o, h->room, sizeof(h->room));
}

static int parse_hello(json_t *o, struct lp_ctrl_hello *h)
{
	json_t *sw;
	int rc;

	rc = get_version(o, &h->version);
	if (rc == 0)
		rc = get_role(o, &h->role);
	if (rc == 0)
		rc = json_object_get(o, "room_id") != NULL ? parse_private(o, h) : parse_open(o, h);
	if (rc == 0)
		rc = get_mac(o, &h->mac);
	if (rc == 0)
		rc = lp_ctrl_json_u32(o, "datagram_budget", UINT32_MAX, &h->datagram_budget);
	if (rc == 0 && (h->datagram_budget < 1 || h->datagram_budget > LP_CTRL_BUDGET_MAX))
		rc = LP_ERR_FIELD_RANGE;
	sw = json_object_get(o, "software");
	if (rc == 0 && sw != NULL)
		rc = lp_ctrl_json_text(o, "software", h->software, sizeof(h->software));
	return rc;
}

static int parse_welcome(json_t *o, struct lp_ctrl_welcome *w)
{
	json_int_t id = 0, mtu = 0;
	const char *mode = NULL;
	json_t *gw = NULL;
	int rc;

	rc = get_version(o, &w->version);
	if (rc == 0)
		rc = lp_ctrl_json_str(o, "mode", &mode);
	if (rc == 0 && strcmp(mode, "relay") != 0)
		rc = LP_ERR_FIELD_RANGE;
	if (rc == 0)
		rc = get_int(o, "peer_id", &id);
	if (rc == 0 && (id < 0 || lp_ctrl_peer_id_validate((uint64_t)id) != 0))
		rc = LP_ERR_PEER_ID;
	if (rc == 0)
		rc = get_int(o, "mtu", &mtu);
	if (rc == 0 && (mtu < 0 || lp_ctrl_mtu_validate((uint64_t)mtu) != 0))
		rc = LP_ERR_MTU_RANGE;
	if (rc == 0)
		rc = lp_ctrl_json_get(o, "gateway_present", &gw);
	if (rc == 0 && !json_is_boolean(gw))
		rc = LP_ERR_FIELD_TYPE;
	if (rc != 0)
		return rc;
	w->mode = LP_CTRL_MODE_RELAY;
	w->peer_id = (uint32_t)id;
	w->mtu = (uint32_t)mtu;
	w->gateway_present = json_is_true(gw);
	return 0;
}

static int parse_reject(json_t *o, struct lp_ctrl_reject *r)
{
	const char *reason;
	int rc = lp_ctrl_json_str(o, "reason", &reason);

	if (rc == 0)
		rc = lp_ctrl_reject_parse(reason, &r->reason);
	if (rc == 0)
		rc = lp_ctrl_json_text(o, "message", r->message, sizeof(r->message));
	return rc;
}

static int parse_peer(json_t *o, bool left, struct lp_ctrl_peer *p)
{
	json_int_t id = 0;
	int rc = get_int(o, "peer_id", &id);

	if (rc == 0 && (id < 0 || lp_ctrl_peer_id_validate((uint64_t)id) != 0))
		rc = LP_ERR_PEER_ID;
	if (rc == 0)
		rc = get_role(o, &p->role);
	if (rc == 0)
		rc = get_mac(o, &p->mac);
	if (rc == 0 && left)
		rc = lp_ctrl_json_text(o, "reason", p->reason, sizeof(p->reason));
	p->peer_id = (uint32_t)id;
	return rc;
}

static int parse_stats(json_t *o, struct lp_counters *c)
{
	const char *name;
	json_t *drops = NULL, *v;
	int rc;

	rc = lp_ctrl_json_u64(o, "frames_rx", UINT64_MAX, &c->frames_rx);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "frames_tx", UINT64_MAX, &c->frames_tx);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "datagrams_rx", UINT64_MAX, &c->datagrams_rx);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "datagrams_tx", UINT64_MAX, &c->datagrams_tx);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "bytes_rx", UINT64_MAX, &c->bytes_rx);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "bytes_tx", UINT64_MAX, &c->bytes_tx);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "broadcast_rx", UINT64_MAX, &c->broadcast_rx);
	if (rc == 0)
		rc = lp_ctrl_json_get(o, "drops", &drops);
	if (rc == 0 && !json_is_object(drops))
		rc = LP_ERR_FIELD_TYPE;
	if (rc != 0)
		return rc;
	json_object_foreach(drops, name, v)
	{
		enum lp_drop_reason r;

		/* A newer peer may count reasons we do not know yet. */
		if (lp_obs_drop_from_name(name, &r) != 0 || r == LP_DROP_NONE)
			continue;
		if (!json_is_integer(v))
			return LP_ERR_FIELD_TYPE;
		if (json_integer_value(v) < 0)
			return LP_ERR_FIELD_RANGE;
		c->drops[r] = (uint64_t)json_integer_value(v);
	}
	return 0;
}

/*
 * Bounds the cost of json_loadb before calling it. Jansson recurses per
 * nesting level (up to 2048 by default) and allocates per element, so a
 * 16 KiB body of "[[[[..." or "[0,0,0,..." would cost far more than any
 * message we know. The scan only needs to be right about what is outside
 * strings: a '{' or '[' opens a level, '}' or ']' closes one, and every
 * ',' and ':' there separates elements, so 1 + their count bounds the
 * values. Malformed input gets through only as far as Jansson, which
 * refuses it.
 */
static int prescan(const uint8_t *p, size_t len)
{
	size_t depth = 0, elements = 1;
	bool in_str = false;

	if (len > LP_CTRL_FRAME_MAX)
		return LP_ERR_JSON_LIMIT;
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = p[i];

		if (in_str) {
			if (ch == '\\')
				i++; /* the escaped byte cannot end the string */
			else if (ch == '"')
				in_str = false;
			continue;
		}
		switch (ch) {
		case '"':
			in_str = true;
			break;
		case '{':
		case '[':
			if (++depth > LP_CTRL_JSON_DEPTH)
				return LP_ERR_JSON_LIMIT;
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			break;
		case ',':
		case ':':
			if (++elements > LP_CTRL_JSON_ELEMENTS)
				return LP_ERR_JSON_LIMIT;
			break;
		default:
			break;
		}
	}
	return 0;
}

static int parse_type(json_t *o, enum lp_ctrl_type *out)
{
	const char *s;
	unsigned t;
	int rc = lp_ctrl_json_str(o, "type", &s);

	if (rc != 0)
		return rc;
	for (t = LP_CTRL_HELLO; t <= LP_CTRL_PEER_STATS; t++) {
		if (strcmp(s, lp_ctrl_type_name((enum lp_ctrl_type)t)) == 0) {
			*out = (enum lp_ctrl_type)t;
			return 0;
		}
	}
	return LP_ERR_TYPE;
}

int lp_ctrl_parse_json(const uint8_t *json, size_t len, struct lp_ctrl_msg *out)
{
	json_error_t jerr;
	json_t *root = NULL;
	enum lp_ctrl_type type = LP_CTRL_NONE;
	int rc;

	/* Zeroed first: unused bytes (string tails, padding) are then
	 * deterministic, so decoded messages compare with memcmp. */
	memset(out, 0, sizeof(*out));
	if (json == NULL || len == 0)
		return LP_ERR_JSON;
	rc = prescan(json, len);
	if (rc != 0)
		return rc;
	root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		rc = LP_ERR_JSON;
		goto out;
	}
	rc = parse_type(root, &type);
	if (rc != 0)
		goto out;
	/* Stats are the one message a peer sends periodically; a small ceiling
	 * keeps a flood of them cheap to refuse. */
	if (type == LP_CTRL_STATS && len > LP_CTRL_STATS_MAX) {
		rc = LP_ERR_JSON_LIMIT;
		goto out;
	}
	switch (type) {
	case LP_CTRL_HELLO:
		rc = parse_hello(root, &out->u.hello);
		break;
	case LP_CTRL_WELCOME:
		rc = parse_welcome(root, &out->u.welcome);
		break;
	case LP_CTRL_REJECT:
		rc = parse_reject(root, &out->u.reject);
		break;
	case LP_CTRL_PEER_JOINED:
	case LP_CTRL_PEER_LEFT:
		rc = parse_peer(root, type == LP_CTRL_PEER_LEFT, &out->u.peer);
		break;
	case LP_CTRL_STATS:
		rc = parse_stats(root, &out->u.stats.counters);
		break;
	case LP_CTRL_DISCONNECT:
		rc = lp_ctrl_json_text(root, "reason", out->u.disconnect.reason,
		                       sizeof(out->u.disconnect.reason));
		break;
	case LP_CTRL_PEER_STATS:
		rc = lp_ctrl_peer_stats_from_json(root, &out->u.peer_stats);
		break;
	case LP_CTRL_NONE:
		rc = LP_ERR_TYPE;
		break;
	}
	if (rc != 0)
		goto out;
	out->type = type;
	/* Cross-field rules (role vs MAC) and anything the member readers
	 * leave to the shared validator. */
	rc = lp_ctrl_msg_validate(out);
out:
	json_decref(root);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* ---- Encoding ------------------------------------------------------------ */

static json_t *build_peer(const struct lp_ctrl_msg *m)
{
	const struct lp_ctrl_peer *p = &m->u.peer;
	char mac[LP_MAC_STR_LEN];
	json_t *o;

	lp_proto_mac_format(&p->mac, mac);
	o = json_pack("{s:s, s:I, s:s, s:s}", "type", lp_ctrl_type_name(m->type), "peer_id",
	              (json_int_t)p->peer_id, "role", lp_ctrl_role_name(p->role), "mac", mac);
	if (o != NULL && m->type == LP_CTRL_PEER_LEFT &&
	    json_object_set_new(o, "reason", json_string(p->reason)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Adds one binary member; set_new takes the reference even on failure. */
static int put_b64(json_t *o, const char *key, const uint8_t *data, size_t n)
{
	char text[LP_ROOM_B64_SIG_LEN + 1];

	if (lp_room_b64url_encode(data, n, text, sizeof(text)) < 0)
		return -1;
	return json_object_set_new(o, key, json_string(text));
}

static int put_private(json_t *o, const struct lp_ctrl_room_proof *p)
{
	if (put_b64(o, "room_id", p->room_id, sizeof(p->room_id)) != 0 ||
	    put_b64(o, "verifier", p->verifier, sizeof(p->verifier)) != 0 ||
	    put_b64(o, "host", p->host, sizeof(p->host)) != 0 ||
	    put_b64(o, "proof", p->proof, sizeof(p->proof)) != 0)
		return -1;
	if (p->has_host_proof &&
	    put_b64(o, "host_proof", p->host_proof, sizeof(p->host_proof)) != 0)
		return -1;
	return 0;
}

static json_t *build_hello(const struct lp_ctrl_hello *h)
{
	char mac[LP_MAC_STR_LEN];
	json_t *o;

	lp_proto_mac_format(&h->mac, mac);
	o = json_pack("{s:s, s:I, s:s}", "type", "hello", "version", (json_int_t)h->version, "role",
	              lp_ctrl_role_name(h->role));
	if (o != NULL &&
	    (h->private_room ? put_private(o, &h->priv)
	                     : json_object_set_new(o, "room", json_string(h->room))) != 0) {
		json_decref(o);
		return NULL;
	}
	if (o != NULL && (json_object_set_new(o, "mac", json_string(mac)) != 0 ||
	                  json_object_set_new(o, "datagram_budget",
	                                      json_integer((json_int_t)h->datagram_budget)) != 0)) {
		json_decref(o);
		return NULL;
	}
	if (o != NULL && h->software[0] != '\0' &&
	    json_object_set_new(o, "software", json_string(h->software)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *build_stats(const struct lp_counters *c)
{
	json_t *o, *drops;
	size_t i;

	o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "type", "stats", "frames_rx",
	              (json_int_t)c->frames_rx, "frames_tx", (json_int_t)c->frames_tx,
	              "datagrams_rx", (json_int_t)c->datagrams_rx, "datagrams_tx",
	              (json_int_t)c->datagrams_tx, "bytes_rx", (json_int_t)c->bytes_rx, "bytes_tx",
	              (json_int_t)c->bytes_tx, "broadcast_rx", (json_int_t)c->broadcast_rx);
	drops = json_object();
	if (o == NULL || drops == NULL)
		goto fail;
	for (i = 1; i < LP_DROP__COUNT; i++) {
		if (c->drops[i] == 0)
			continue;
		if (json_object_set_new(drops, lp_obs_drop_name((enum lp_drop_reason)i),
		                        json_integer((json_int_t)c->drops[i])) != 0)
			goto fail;
	}
	/* set_new takes the reference even when it fails. */
	if (json_object_set_new(o, "drops", drops) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
fail:
	json_decref(drops);
	json_decref(o);
	return NULL;
}

static json_t *build(const struct lp_ctrl_msg *m)
{
	switch (m->type) {
	case LP_CTRL_HELLO:
		return build_hello(&m->u.hello);
	case LP_CTRL_WELCOME:
		return json_pack("{s:s, s:I, s:s, s:I, s:I, s:b}", "type", "welcome", "version",
		                 (json_int_t)m->u.welcome.version, "mode", "relay", "peer_id",
		                 (json_int_t)m->u.welcome.peer_id, "mtu",
		                 (json_int_t)m->u.welcome.mtu, "gateway_present",
		                 m->u.welcome.gateway_present ? 1 : 0);
	case LP_CTRL_REJECT:
		return json_pack("{s:s, s:s, s:s}", "type", "reject", "reason",
		                 lp_ctrl_reject_name(m->u.reject.reason), "message",
		                 m->u.reject.message);
	case LP_CTRL_PEER_JOINED:
	case LP_CTRL_PEER_LEFT:
		return build_peer(m);
	case LP_CTRL_STATS:
		return build_stats(&m->u.stats.counters);
	case LP_CTRL_DISCONNECT:
		return json_pack("{s:s, s:s}", "type", "disconnect", "reason",
		                 m->u.disconnect.reason);
	case LP_CTRL_PEER_STATS:
		return lp_ctrl_peer_stats_to_json(&m->u.peer_stats);
	case LP_CTRL_NONE:
		break;
	}
	return NULL;
}

ssize_t lp_ctrl_encode(const struct lp_ctrl_msg *m, uint8_t *out, size_t cap)
{
	json_t *root = NULL;
	size_t n;
	ssize_t rc;

	rc = lp_ctrl_msg_validate(m);
	if (rc != 0)
		return rc;
	if (cap <= LP_CTRL_PREFIX_LEN)
		return LP_ERR_NOBUF;
	/* Validation guarantees well-formed UTF-8 and known names, so a NULL
	 * from Jansson can only mean allocation failure. */
	root = build(m);
	if (root == NULL) {
		rc = LP_ERR_NOMEM;
		goto out;
	}
	n = json_dumpb(root, (char *)out + LP_CTRL_PREFIX_LEN, cap - LP_CTRL_PREFIX_LEN,
	               JSON_COMPACT);
	if (n == 0) {
		rc = LP_ERR_NOMEM;
		goto out;
	}
	/* Field limits keep every message far below the frame ceiling; the
	 * check keeps the encoder from ever emitting a frame peers refuse. */
	if (n > LP_CTRL_FRAME_MAX) {
		rc = LP_ERR_FRAME_LEN;
		goto out;
	}
	if (n > cap - LP_CTRL_PREFIX_LEN) {
		rc = LP_ERR_NOBUF;
		goto out;
	}
	lp_put_u32(out, (uint32_t)n);
	rc = (ssize_t)(n + LP_CTRL_PREFIX_LEN);
out:
	json_decref(root);
	return rc;
}
