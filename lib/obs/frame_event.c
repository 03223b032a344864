/* frame_event.c - one-line frame log events for the relay, gateway and clients. */
#include "lp_obs.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *lp_obs_action_name(enum lp_obs_action a)
{
	switch (a) {
	case LP_OBS_FORWARDED:
		return "forwarded";
	case LP_OBS_DROPPED:
		return "dropped";
	case LP_OBS_FILTERED:
		return "filtered";
	case LP_OBS_RATE_LIMITED:
		return "rate_limited";
	}
	return "unknown";
}

const char *lp_obs_dir_name(enum lp_obs_dir d)
{
	switch (d) {
	case LP_OBS_DIR_FROM_RELAY:
		return "from_relay";
	case LP_OBS_DIR_TO_RELAY:
		return "to_relay";
	case LP_OBS_DIR_RELAY_INGRESS:
		return "relay_ingress";
	}
	return "unknown";
}

/* Room codes are validated before they reach a room, but a log line must
 * stay one line and one token whatever the caller passes: anything outside
 * printable ASCII, and spaces, become '?'. */
static int append_room(char *out, size_t cap, size_t *pos, const char *room)
{
	static const char key[] = " room=";
	size_t klen = sizeof(key) - 1;
	size_t rlen = strlen(room);
	size_t i;

	if (*pos + klen + rlen >= cap)
		return LP_ERR_NOBUF;
	memcpy(out + *pos, key, klen);
	*pos += klen;
	for (i = 0; i < rlen; i++) {
		unsigned char c = (unsigned char)room[i];

		out[(*pos)++] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[*pos] = '\0';
	return 0;
}

LP_PRINTF(4, 5)
static int append(char *out, size_t cap, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= cap)
		return LP_ERR_NOBUF;
	va_start(ap, fmt);
	n = vsnprintf(out + *pos, cap - *pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *pos)
		return LP_ERR_NOBUF;
	*pos += (size_t)n;
	return 0;
}

int lp_obs_frame_event_format(const struct lp_obs_frame_event *ev, char *out, size_t cap)
{
	char src[LP_MAC_STR_LEN], dst[LP_MAC_STR_LEN];
	size_t pos = 0;
	int rc;

	if (cap == 0)
		return LP_ERR_NOBUF;
	out[0] = '\0';
	lp_proto_mac_format(&ev->src, src);
	lp_proto_mac_format(&ev->dst, dst);

	rc = append(out, cap, &pos, "frame dir=%s", lp_obs_dir_name(ev->dir));
	if (rc == 0 && ev->room != NULL)
		rc = append_room(out, cap, &pos, ev->room);
	if (rc == 0 && ev->peer_id >= 0)
		rc = append(out, cap, &pos, " peer=%" PRId64, ev->peer_id);
	if (rc == 0)
		rc = append(out, cap, &pos, " src=%s dst=%s type=0x%04x len=%" PRIu64 " action=%s",
		            src, dst, (unsigned)ev->ethertype, (uint64_t)ev->frame_len,
		            lp_obs_action_name(ev->action));
	if (rc == 0 && ev->reason != LP_DROP_NONE)
		rc = append(out, cap, &pos, " reason=%s", lp_obs_drop_name(ev->reason));
	if (rc == 0)
		rc = append(out, cap, &pos, " targets=%u", ev->targets);
	if (rc != 0) {
		out[0] = '\0';
		return rc;
	}
	return (int)pos;
}

void lp_obs_frame_event_from_frame(struct lp_obs_frame_event *ev, const uint8_t *frame, size_t len)
{
	struct lp_eth eth;

	memset(&ev->src, 0, sizeof(ev->src));
	memset(&ev->dst, 0, sizeof(ev->dst));
	ev->ethertype = 0;
	ev->frame_len = len;
	if (len < LP_ETH_HDR_LEN)
		return;
	/* A frame whose VLAN tags are cut short or too many still has readable
	 * addresses and an outer type: log those rather than nothing. */
	memcpy(ev->dst.b, frame, LP_MAC_LEN);
	memcpy(ev->src.b, frame + LP_MAC_LEN, LP_MAC_LEN);
	ev->ethertype = lp_get_u16(frame + 2 * LP_MAC_LEN);
	if (lp_proto_eth_parse(frame, len, &eth) == 0)
		ev->ethertype = eth.inner_ethertype;
}
