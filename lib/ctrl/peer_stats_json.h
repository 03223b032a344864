/*
 * peer_stats_json.h - the peer_stats message <-> JSON, for json.c (the
 * message is large enough to live in its own file). Internal to lib/ctrl.
 */
#ifndef LP_CTRL_PEER_STATS_JSON_H
#define LP_CTRL_PEER_STATS_JSON_H

#include <jansson.h>

#include "lp_ctrl.h"

/* Reads the members of a peer_stats object into ps (zeroed by the caller).
 * Errors: LP_ERR_FIELD_MISSING / _TYPE / _RANGE, the role, MAC and peer id
 * errors. Cross-entry rules are lp_ctrl_msg_validate's. */
int lp_ctrl_peer_stats_from_json(json_t *o, struct lp_ctrl_peer_stats *ps) LP_WUR;
/* A new object for a validated ps, or NULL when out of memory. */
json_t *lp_ctrl_peer_stats_to_json(const struct lp_ctrl_peer_stats *ps);

#endif
