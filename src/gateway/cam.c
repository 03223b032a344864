/*
 * cam.c - CAM refresh table. A linear table: a room holds tens of clients,
 * and a scan of a few hundred 16-byte entries costs less than hashing.
 */
#include "cam.h"

#include <string.h>

void lp_cam_init(struct lp_cam *c, const struct lp_mac *own, uint64_t interval_ns)
{
	memset(c, 0, sizeof(*c));
	c->own = *own;
	c->interval_ns = interval_ns ? interval_ns : LP_CAM_DEFAULT_INTERVAL_NS;
}

static struct lp_cam_entry *find(struct lp_cam *c, const struct lp_mac *mac)
{
	size_t i;

	for (i = 0; i < c->count; i++)
		if (lp_proto_mac_equal(&c->e[i].mac, mac))
			return &c->e[i];
	return NULL;
}

static int insert(struct lp_cam *c, const struct lp_mac *mac, uint64_t due_ns)
{
	int rc = lp_proto_mac_validate_identity(mac);

	if (rc < 0)
		return rc;
	if (lp_proto_mac_equal(mac, &c->own))
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
	return insert(c, mac, now_ns);
}

int lp_cam_touch(struct lp_cam *c, const struct lp_mac *mac, uint64_t now_ns)
{
	struct lp_cam_entry *e = find(c, mac);

	if (e != NULL) {
		e->due_ns = now_ns + c->interval_ns;
		return 0;
	}
	return insert(c, mac, now_ns + c->interval_ns);
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
