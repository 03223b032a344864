/*
 * json_int.h - what the JSON files of lib/ctrl share (json.c, status.c,
 * peer_stats.c): the member getters, and the peer_stats message, large
 * enough to live in its own file. Internal to lib/ctrl.
 */
#ifndef LP_CTRL_JSON_INT_H
#define LP_CTRL_JSON_INT_H

#include <jansson.h>

#include "lp_ctrl.h"

/*
 * Members of the object o, each checked: absent LP_ERR_FIELD_MISSING, of
 * another JSON type LP_ERR_FIELD_TYPE, out of range (a negative integer,
 * one above max, a string of cap bytes or more) LP_ERR_FIELD_RANGE. *out
 * is written only on success; strings are borrowed from o.
 */
int lp_ctrl_json_get(json_t *o, const char *key, json_t **out) LP_WUR;
int lp_ctrl_json_u64(json_t *o, const char *key, uint64_t max, uint64_t *out) LP_WUR;
int lp_ctrl_json_u32(json_t *o, const char *key, uint32_t max, uint32_t *out) LP_WUR;
int lp_ctrl_json_str(json_t *o, const char *key, const char **out) LP_WUR;
int lp_ctrl_json_text(json_t *o, const char *key, char *dst, size_t cap) LP_WUR;

/* Reads the members of a peer_stats object into ps (zeroed by the caller).
 * Errors: LP_ERR_FIELD_MISSING / _TYPE / _RANGE, the role, MAC and peer id
 * errors. Cross-entry rules are lp_ctrl_msg_validate's. */
int lp_ctrl_peer_stats_from_json(json_t *o, struct lp_ctrl_peer_stats *ps) LP_WUR;
/* A new object for a validated ps, or NULL when out of memory. */
json_t *lp_ctrl_peer_stats_to_json(const struct lp_ctrl_peer_stats *ps);

#endif
