/*
 * peers.c - the session's table of known room peers (id -> role, MAC), fed
 * by peer_joined so peer_left events can name who left, and the relay's
 * latest peer_stats table (RTT, loss and traffic of every peer).
 */
#include <stdlib.h>
#include <string.h>

#include "client_int.h"

static struct lp_client_peer *find(const struct lp_client *s, uint32_t peer_id)
{
	size_t i;

	for (i = 0; i < s->npeers; i++) {
		if (s->peers[i].peer_id == peer_id)
			return &s->peers[i];
	}
	return NULL;
}

int lp_client_peers_put(struct lp_client *s, const struct lp_client_peer *p)
{
	struct lp_client_peer *slot = find(s, p->peer_id);

	if (slot != NULL) {
		*slot = *p;
		return 0;
	}
	if (s->npeers == s->peers_cap) {
		size_t cap = s->peers_cap ? s->peers_cap * 2 : 16;
		struct lp_client_peer *n;

		if (s->npeers >= LP_CLIENT_PEERS_MAX)
			return LP_ERR_NOMEM;
		if (cap > LP_CLIENT_PEERS_MAX)
			cap = LP_CLIENT_PEERS_MAX;
		n = realloc(s->peers, cap * sizeof(*n));
		if (n == NULL)
			return LP_ERR_NOMEM;
		s->peers = n;
		s->peers_cap = cap;
	}
	s->peers[s->npeers++] = *p;
	return 0;
}

int lp_client_peers_take(struct lp_client *s, uint32_t peer_id, struct lp_client_peer *out)
{
	struct lp_client_peer *slot = find(s, peer_id);

	if (slot == NULL)
		return LP_ERR_NOT_FOUND;
	*out = *slot;
	/* Order does not matter: move the last entry into the hole. */
	*slot = s->peers[--s->npeers];
	return 0;
}

int lp_client_peer_lookup(const struct lp_client *s, uint32_t peer_id, struct lp_client_peer *out)
{
	const struct lp_client_peer *slot = find(s, peer_id);

	if (slot == NULL)
		return LP_ERR_NOT_FOUND;
	*out = *slot;
	return 0;
}

size_t lp_client_peer_count(const struct lp_client *s)
{
	return s->npeers;
}

int lp_client_peers_set_stats(struct lp_client *s, const struct lp_ctrl_peer_stats *ps)
{
	if (s->peer_stats == NULL) {
		s->peer_stats = malloc(sizeof(*s->peer_stats));
		if (s->peer_stats == NULL)
			return LP_ERR_NOMEM;
	}
	*s->peer_stats = *ps;
	s->peer_stats_at = s->now;
	return 0;
}

const struct lp_ctrl_peer_stats *lp_client_peer_stats(const struct lp_client *s, uint64_t *at)
{
	if (at != NULL)
		*at = s->peer_stats_at;
	return s->peer_stats;
}
