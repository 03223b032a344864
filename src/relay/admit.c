/*
 * admit.c - private-room proofs and the per-address failure table (see
 * admit.h). The relay verifies signatures only: it never holds a secret.
 */
#include "admit.h"

#include <stdlib.h>
#include <string.h>

#include "lp_net_sys.h"
#include "lp_room.h"

#define WAYS 4

size_t lp_relay_src_key(const struct sockaddr *sa, uint8_t key[LP_RELAY_SRC_KEY_MAX])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const struct sockaddr_in *in4;
	const struct sockaddr_in6 *in6;

	if (sa->sa_family == AF_INET) {
		in4 = (const struct sockaddr_in *)(const void *)sa;
		memcpy(key, &in4->sin_addr, 4);
		return 4;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	in6 = (const struct sockaddr_in6 *)(const void *)sa;
	if (memcmp(in6->sin6_addr.s6_addr, mapped, sizeof(mapped)) == 0) {
		memcpy(key, in6->sin6_addr.s6_addr + 12, 4);
		return 4;
	}
	memcpy(key, in6->sin6_addr.s6_addr, 8);
	return 8;
}

int lp_relay_failtab_init(struct lp_relay_failtab *t, size_t nslots, uint32_t limit,
                          uint64_t window_ns)
{
	memset(t, 0, sizeof(*t));
	if (nslots == 0 || limit == 0 || window_ns == 0)
		return LP_ERR_INVAL;
	nslots = (nslots + WAYS - 1) / WAYS * WAYS;
	t->slots = calloc(nslots, sizeof(*t->slots));
	if (t->slots == NULL)
		return LP_ERR_NOMEM;
	t->nslots = nslots;
	t->limit = limit;
	t->window_ns = window_ns;
	return 0;
}

void lp_relay_failtab_free(struct lp_relay_failtab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->nslots = 0;
}

/* FNV-1a: the table only spreads load; an attacker choosing colliding
 * addresses only evicts its own entries among 4 ways. */
static struct lp_relay_fail_slot *bucket(const struct lp_relay_failtab *t, const uint8_t *key,
                                         size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 0x100000001b3u;
	return &t->slots[(size_t)(h % (t->nslots / WAYS)) * WAYS];
}

static struct lp_relay_fail_slot *find(const struct lp_relay_failtab *t, const uint8_t *key,
                                       size_t len, uint64_t now_ns)
{
	struct lp_relay_fail_slot *b = bucket(t, key, len);

	for (size_t i = 0; i < WAYS; i++) {
		if (b[i].key_len != len || memcmp(b[i].key, key, len) != 0)
			continue;
		if (now_ns - b[i].since_ns >= t->window_ns) {
			b[i].count = 0;
			b[i].since_ns = now_ns;
		}
		return &b[i];
	}
	return NULL;
}

bool lp_relay_failtab_over(struct lp_relay_failtab *t, const uint8_t *key, size_t key_len,
                           uint64_t now_ns)
{
	const struct lp_relay_fail_slot *s;

	if (key_len == 0 || key_len > LP_RELAY_SRC_KEY_MAX || t->slots == NULL)
		return false;
	s = find(t, key, key_len, now_ns);
	if (s == NULL || s->count < t->limit)
		return false;
	t->limited++;
	return true;
}

void lp_relay_failtab_record(struct lp_relay_failtab *t, const uint8_t *key, size_t key_len,
                             uint64_t now_ns)
{
	struct lp_relay_fail_slot *s, *b;

	if (key_len == 0 || key_len > LP_RELAY_SRC_KEY_MAX || t->slots == NULL)
		return;
	s = find(t, key, key_len, now_ns);
	if (s == NULL) {
		b = bucket(t, key, key_len);
		s = &b[0];
		for (size_t i = 0; i < WAYS; i++) {
			if (b[i].key_len == 0) {
				s = &b[i];
				break;
			}
			if (b[i].since_ns < s->since_ns)
				s = &b[i];
		}
		memset(s, 0, sizeof(*s));
		memcpy(s->key, key, key_len);
		s->key_len = (uint8_t)key_len;
		s->since_ns = now_ns;
	}
	if (s->count < UINT32_MAX)
		s->count++;
}

int lp_relay_private_verify(const struct lp_ctrl_hello *h, const uint8_t *e)
{
	const struct lp_ctrl_room_proof *p = &h->priv;
	int bad = 0;

	if (!h->private_room)
		return LP_ERR_INVAL;
	if (e == NULL)
		return LP_ERR_AUTH;
	/* Every check runs even after one failed: the time taken says nothing
	 * about which part of a hello was wrong. */
	bad |= lp_room_id_check(p->room_id, p->verifier, p->host) != 0;
	bad |= lp_room_verify_admission(p->verifier, e, lp_ctrl_role_name(h->role), p->proof) != 0;
	if (h->role == LP_ROLE_GATEWAY)
		bad |= !p->has_host_proof || lp_room_verify_host(p->host, e, p->host_proof) != 0;
	return bad ? LP_ERR_AUTH : 0;
}

void lp_relay_private_name(const uint8_t id[LP_CTRL_ROOM_ID_LEN], char *out)
{
	char b64[LP_ROOM_B64_ID_LEN + 1];

	out[0] = '~';
	if (lp_room_b64url_encode(id, LP_CTRL_ROOM_ID_LEN, b64, sizeof(b64)) < 0)
		memset(b64, '?', 8);
	memcpy(out + 1, b64, 8);
	out[9] = '\0';
}
