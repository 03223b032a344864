/* eth.c - Ethernet header and VLAN tag parsing. */
#include "lp_proto.h"

#include <string.h>

/* The pre-standard S-tag TPID some switches still emit for Q-in-Q. */
#define LP_ETHERTYPE_QINQ_9100 0x9100

static bool is_vlan_tpid(uint16_t t)
{
	return t == LP_ETHERTYPE_VLAN || t == LP_ETHERTYPE_QINQ || t == LP_ETHERTYPE_QINQ_9100;
}

int lp_proto_eth_parse(const uint8_t *frame, size_t len, struct lp_eth *out)
{
	struct lp_buf b;
	const uint8_t *dst, *src;
	uint16_t type;
	unsigned n = 0;

	memset(out, 0, sizeof(*out));
	if (frame == NULL)
		return len == 0 ? LP_ERR_RUNT : LP_ERR_INVAL;
	lp_buf_init(&b, frame, len);
	lp_buf_bytes(&b, &dst, LP_MAC_LEN);
	lp_buf_bytes(&b, &src, LP_MAC_LEN);
	type = lp_buf_u16(&b);
	if (b.err != 0)
		return LP_ERR_RUNT;
	memcpy(out->dst.b, dst, LP_MAC_LEN);
	memcpy(out->src.b, src, LP_MAC_LEN);
	out->ethertype = type;

	while (is_vlan_tpid(type)) {
		uint16_t tci;

		if (n == LP_ETH_MAX_TAGS)
			return LP_ERR_INVAL;
		tci = lp_buf_u16(&b);
		out->vlan_tpid[n] = type;
		out->vlan_id[n] = (uint16_t)(tci & 0x0fff);
		type = lp_buf_u16(&b);
		if (b.err != 0)
			return LP_ERR_RUNT;
		n++;
	}

	out->vlan_count = n;
	out->inner_ethertype = type;
	out->header_len = LP_ETH_HDR_LEN + (size_t)n * LP_ETH_VLAN_TAG_LEN;
	out->frame_len = len;
	out->l3 = b.p;
	out->l3_len = lp_buf_left(&b);
	return 0;
}
