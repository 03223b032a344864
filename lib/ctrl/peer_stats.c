/*
 * peer_stats.c - the relay's per-room peer table (peer_stats) as JSON:
 *
 *   {"type":"peer_stats","peers_total":2,"peers":[
 *     {"peer_id":1,"role":"gateway","mac":"52:54:00:12:34:56","rtt_us":840,
 *      "rtt_min_us":610,"dg_sent":5120,"dg_lost":3,"tx_frames":5210,
 *      "tx_bytes":4100321,"rx_frames":5101,"rx_bytes":612004}, ...]}
 *
 * "peers" holds 0..LP_CTRL_PEER_STATS_MAX objects, every member required;
 * integers only (never reals or booleans). A longer array is
 * LP_ERR_FIELD_RANGE before any entry is read, so the cost of parsing is
 * bounded by the cap, not by the frame.
 */
#include "json_int.h"

#include <string.h>

static int entry_from_json(json_t *o, struct lp_ctrl_peer_stat *e)
{
	const uint64_t top = (uint64_t)INT64_MAX;
	const char *s = NULL;
	uint64_t id = 0;
	int rc;

	if (!json_is_object(o))
		return LP_ERR_FIELD_TYPE;
	rc = lp_ctrl_json_u64(o, "peer_id", LP_CTRL_PEER_ID_MAX, &id);
	if (rc == LP_ERR_FIELD_RANGE || (rc == 0 && id == 0))
		rc = LP_ERR_PEER_ID;
	e->peer_id = (uint32_t)id;
	if (rc == 0)
		rc = lp_ctrl_json_str(o, "role", &s);
	if (rc == 0)
		rc = lp_ctrl_role_parse(s, &e->role);
	if (rc == 0)
		rc = lp_ctrl_json_str(o, "mac", &s);
	if (rc == 0)
		rc = lp_proto_mac_parse(s, &e->mac);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "rtt_us", LP_CTRL_RTT_US_MAX, &e->rtt_us);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "rtt_min_us", LP_CTRL_RTT_US_MAX, &e->rtt_min_us);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "dg_sent", top, &e->dg_sent);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "dg_lost", top, &e->dg_lost);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "tx_frames", top, &e->tx_frames);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "tx_bytes", top, &e->tx_bytes);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "rx_frames", top, &e->rx_frames);
	if (rc == 0)
		rc = lp_ctrl_json_u64(o, "rx_bytes", top, &e->rx_bytes);
	return rc;
}

int lp_ctrl_peer_stats_from_json(json_t *o, struct lp_ctrl_peer_stats *ps)
{
	json_t *arr = json_object_get(o, "peers");
	uint64_t total = 0;
	size_t i;
	int rc;

	rc = lp_ctrl_json_u64(o, "peers_total", LP_CTRL_PEERS_TOTAL_MAX, &total);
	if (rc != 0)
		return rc;
	if (arr == NULL)
		return LP_ERR_FIELD_MISSING;
	if (!json_is_array(arr))
		return LP_ERR_FIELD_TYPE;
	if (json_array_size(arr) > LP_CTRL_PEER_STATS_MAX)
		return LP_ERR_FIELD_RANGE;
	ps->peers_total = (uint32_t)total;
	ps->count = (uint32_t)json_array_size(arr);
	for (i = 0; i < ps->count; i++) {
		rc = entry_from_json(json_array_get(arr, i), &ps->peers[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static json_t *entry_to_json(const struct lp_ctrl_peer_stat *e)
{
	char mac[LP_MAC_STR_LEN];

	lp_proto_mac_format(&e->mac, mac);
	return json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "peer_id",
	                 (json_int_t)e->peer_id, "role", lp_ctrl_role_name(e->role), "mac", mac,
	                 "rtt_us", (json_int_t)e->rtt_us, "rtt_min_us", (json_int_t)e->rtt_min_us,
	                 "dg_sent", (json_int_t)e->dg_sent, "dg_lost", (json_int_t)e->dg_lost,
	                 "tx_frames", (json_int_t)e->tx_frames, "tx_bytes", (json_int_t)e->tx_bytes,
	                 "rx_frames", (json_int_t)e->rx_frames, "rx_bytes",
	                 (json_int_t)e->rx_bytes);
}

json_t *lp_ctrl_peer_stats_to_json(const struct lp_ctrl_peer_stats *ps)
{
	json_t *o = NULL, *arr = json_array();
	size_t i;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < ps->count; i++) {
		/* append_new takes the reference even when it fails. */
		if (json_array_append_new(arr, entry_to_json(&ps->peers[i])) != 0)
			goto fail;
	}
	o = json_pack("{s:s, s:I, s:o}", "type", "peer_stats", "peers_total",
	              (json_int_t)ps->peers_total, "peers", arr);
	/* "o" steals arr even on failure. */
	return o;
fail:
	json_decref(arr);
	return NULL;
}
