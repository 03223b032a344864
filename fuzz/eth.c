/* fuzz/eth.c - Ethernet header parse; checks the parse result's invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lp_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_tag(uint16_t t)
{
	return t == LP_ETHERTYPE_VLAN || t == LP_ETHERTYPE_QINQ || t == 0x9100;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lp_eth e;
	unsigned i;
	int rc;

	rc = lp_proto_eth_parse(data, size, &e);
	if (rc != 0) {
		if (rc != LP_ERR_RUNT && rc != LP_ERR_INVAL)
			abort();
		if (rc == LP_ERR_RUNT &&
		    size >= LP_ETH_HDR_LEN + LP_ETH_MAX_TAGS * LP_ETH_VLAN_TAG_LEN)
			abort();
		return 0;
	}
	if (e.vlan_count > LP_ETH_MAX_TAGS)
		abort();
	if (e.header_len != LP_ETH_HDR_LEN + e.vlan_count * LP_ETH_VLAN_TAG_LEN)
		abort();
	if (e.frame_len != size || e.header_len > e.frame_len)
		abort();
	if (e.l3 != data + e.header_len || e.l3_len != e.frame_len - e.header_len)
		abort();
	if (memcmp(e.dst.b, data, LP_MAC_LEN) != 0 || memcmp(e.src.b, data + 6, LP_MAC_LEN) != 0)
		abort();
	if (e.ethertype != lp_get_u16(data + 12))
		abort();
	if (e.inner_ethertype != lp_get_u16(data + e.header_len - 2) || is_tag(e.inner_ethertype))
		abort();
	if (e.vlan_count == 0 && e.inner_ethertype != e.ethertype)
		abort();
	for (i = 0; i < e.vlan_count; i++) {
		if (e.vlan_id[i] > 0x0fff || !is_tag(e.vlan_tpid[i]))
			abort();
		if (e.vlan_tpid[i] != lp_get_u16(data + 12 + 4 * i))
			abort();
	}
	return 0;
}
