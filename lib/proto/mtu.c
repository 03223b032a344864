/* mtu.c - QUIC datagram budget <-> Ethernet frame size <-> interface MTU. */
#include "lp_proto.h"

#include <assert.h>

/* The overlay header and the Ethernet header every tunnelled frame carries. */
#define LP_MTU_OVERHEAD ((size_t)LP_PROTO_OVERLAY_HDR_LEN + LP_ETH_HDR_LEN)

int lp_proto_frame_max_from_budget(size_t budget, size_t *frame_max)
{
	size_t f;

	assert(frame_max != NULL);
	if (budget < LP_MTU_OVERHEAD)
		return LP_ERR_BUDGET_SMALL;
	f = budget - LP_PROTO_OVERLAY_HDR_LEN;
	/* The header's length field cannot describe more, whatever QUIC offers. */
	if (f > LP_PROTO_PAYLOAD_MAX)
		f = LP_PROTO_PAYLOAD_MAX;
	*frame_max = f;
	return 0;
}

int lp_proto_mtu_from_budget(size_t budget, size_t *mtu)
{
	size_t f, m;
	int rc;

	assert(mtu != NULL);
	rc = lp_proto_frame_max_from_budget(budget, &f);
	if (rc < 0)
		return rc;
	m = f - LP_ETH_HDR_LEN;
	if (m < LP_MTU_MIN)
		return LP_ERR_BUDGET_SMALL;
	if (m > LP_MTU_MAX)
		m = LP_MTU_MAX;
	*mtu = m;
	return 0;
}

int lp_proto_budget_for_mtu(size_t mtu, size_t *budget)
{
	assert(budget != NULL);
	if (mtu < LP_MTU_MIN || mtu > LP_MTU_MAX)
		return LP_ERR_MTU_RANGE;
	*budget = mtu + LP_MTU_OVERHEAD;
	return 0;
}
