/*
 * cam.c - CAM refresh table. A linear table: a room holds tens of clients,
 * and a scan of a few hundred 16-byte entries costs less than hashing.
 * The LAN side can hold thousands of hosts and is looked up for every LAN
 * frame, so it is hashed: a small set-associative table, O(1), bounded, no
 * allocation, where aging needs no sweep (a stale slot is just reusable).
 */
#include "cam.h"

#include <string.h>

_Static_assert((LP_CAM_LAN_SETS & (LP_CAM_LAN_SETS - 1)) == 0, "sets must be a power of two");

void lp_cam_init(struct lp_cam *c, const struct lp_mac *own, uint64_t interval_ns)
{
	memset(c, 0, sizeof(*c));
	c->own = *own;
	c->interval_ns = interval_ns ? interval_ns : LP_CAM_DEFAULT_INTERVAL_NS;
	c->lan_aging_ns = LP_CAM_LAN_AGING_NS;
}

void lp_cam_clear_remote(struct lp_cam *c)
{
	c->count = 0;
}

/* FNV-1a over the six bytes. LAN hosts are trusted not to pick colliding
 * MACs; a player cannot insert here at all. */
static size_t lan_set(const struct lp_mac *mac)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < LP_MAC_LEN; i++)
		h = (h ^ mac->b[i]) * 16777619u;
	return h & (LP_CAM_LAN_SETS - 1);
}

static bool lan_live(const struct lp_cam *c, const struct lp_cam_lan_entry *e, uint64_t now_ns)
{
	return !lp_proto_mac_is_zero(&e->mac) && now_ns - e->seen_ns < c->lan_aging_ns;
}

bool lp_cam_is_lan(const struct lp_cam *c, const struct lp_mac *mac, uint64_t now_ns)
{
	const struct lp_cam_lan_entry *set = c->lan[lan_set(mac)];

	for (size_t w = 0; w < LP_CAM_LAN_WAYS; w++)
		if (lp_proto_mac_equal(&set[w].mac, mac))
			return lan_live(c, &set[w], now_ns);
	return false;
}

static struct lp_cam_entry *find(struct lp_cam *c, const struct lp_mac *mac)
{
	size_t i;

	for (i = 0; i < c->count; i++)
		if (lp_proto_mac_equal(&c->e[i].mac, mac))
			return &c->e[i];
	return NULL;
}

static int insert(struct lp_cam *c, const struct lp_mac *mac, uint64_t now_ns, uint64_t due_ns)
{
	int rc = lp_proto_mac_validate_identity(mac);

	if (rc < 0)
		return rc;
	if (lp_proto_mac_equal(mac, &c->own) || lp_cam_is_lan(c, mac, now_ns))
		return LP_ERR_INVAL;
	if (c->count == LP_CAM_MAX_ENTRIES)
		return LP_ERR_NOBUF;
	c->e[c->count].mac = *mac;
	c->e[c->count].due_ns = due_ns;
	c->count++;
	return 1;
}

int lp_cam_add(struct lp_cam *c, const struct lp_mac *mac, uint64_t now_ns)
{
	if (find(c, mac) != NULL)
		return 0;
	return insert(c, mac, now_ns, now_ns);
}

int lp_cam_touch(struct lp_cam *c, const struct lp_mac *mac, uint64_t now_ns)
{
	struct lp_cam_entry *e = find(c, mac);

	if (e != NULL) {
		e->due_ns = now_ns + c->interval_ns;
		return 0;
	}
	return insert(c, mac, now_ns, now_ns + c->interval_ns);
}

int lp_cam_lan_seen(struct lp_cam *c, const struct lp_mac *mac, uint64_t now_ns)
{
	struct lp_cam_lan_entry *set, *slot = NULL;
	struct lp_cam_entry *e;

	if (lp_proto_mac_is_group(mac) || lp_proto_mac_is_zero(mac))
		return 0;
	set = c->lan[lan_set(mac)];
	for (size_t w = 0; w < LP_CAM_LAN_WAYS && slot == NULL; w++)
		if (lp_proto_mac_equal(&set[w].mac, mac))
			slot = &set[w];
	/* The hot case, a host seen again: insert() refuses a live LAN MAC,
	 * so the client table cannot hold it and needs no scan. */
	if (slot != NULL && lan_live(c, slot, now_ns)) {
		slot->seen_ns = now_ns;
		return 0;
	}
	/* New host: a free or aged slot, else the one seen longest ago. */
	for (size_t w = 0; w < LP_CAM_LAN_WAYS && slot == NULL; w++)
		if (!lan_live(c, &set[w], now_ns))
			slot = &set[w];
	if (slot == NULL) {
		slot = &set[0];
		for (size_t w = 1; w < LP_CAM_LAN_WAYS; w++)
			if (set[w].seen_ns < slot->seen_ns)
				slot = &set[w];
		c->lan_evicted++;
	}
	slot->mac = *mac;
	slot->seen_ns = now_ns;
	e = find(c, mac);
	if (e == NULL)
		return 0;
	*e = c->e[--c->count];
	return 1;
}

enum lp_drop_reason lp_cam_from_room(struct lp_cam *c, const uint8_t *frame, size_t len,
                                     uint64_t now_ns, bool *added)
{
	struct lp_mac src;

	*added = false;
	if (len < LP_ETH_HDR_LEN)
		return LP_DROP_MALFORMED;
	memcpy(src.b, frame + LP_MAC_LEN, LP_MAC_LEN);
	if (lp_cam_is_lan(c, &src, now_ns))
		return LP_DROP_LAN_MAC;
	*added = lp_cam_touch(c, &src, now_ns) == 1;
	return LP_DROP_NONE;
}

int lp_cam_remove(struct lp_cam *c, const struct lp_mac *mac)
{
	struct lp_cam_entry *e = find(c, mac);

	if (e == NULL)
		return LP_ERR_NOT_FOUND;
	*e = c->e[--c->count];
	return 0;
}

uint64_t lp_cam_next_deadline(const struct lp_cam *c)
{
	uint64_t best = UINT64_MAX;
	size_t i;

	for (i = 0; i < c->count; i++)
		if (c->e[i].due_ns < best)
			best = c->e[i].due_ns;
	return best;
}

void lp_cam_frame_build(const struct lp_mac *src, const struct lp_mac *dst,
                        uint8_t out[LP_CAM_FRAME_LEN])
{
	static const char payload[] = LP_CAM_PAYLOAD;

	_Static_assert(LP_ETH_HDR_LEN + sizeof(payload) - 1 <= LP_CAM_FRAME_LEN,
	               "CAM payload must fit a minimum frame");
	memset(out, 0, LP_CAM_FRAME_LEN);
	memcpy(out, dst->b, LP_MAC_LEN);
	memcpy(out + LP_MAC_LEN, src->b, LP_MAC_LEN);
	lp_put_u16(out + 2 * LP_MAC_LEN, LP_CAM_ETHERTYPE);
	memcpy(out + LP_ETH_HDR_LEN, payload, sizeof(payload) - 1);
}

size_t lp_cam_collect(struct lp_cam *c, uint64_t now_ns, uint8_t (*out)[LP_CAM_FRAME_LEN],
                      size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < c->count && n < max; i++) {
		if (c->e[i].due_ns > now_ns)
			continue;
		lp_cam_frame_build(&c->e[i].mac, &c->own, out[n++]);
		/* From now, not from the old deadline: after a stall one refresh
		 * per entry is enough, no catch-up burst. */
		c->e[i].due_ns = now_ns + c->interval_ns;
	}
	return n;
}
