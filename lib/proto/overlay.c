/* overlay.c - the 4-byte overlay datagram header and the datagram budget check. */
#include "lp_proto.h"

#include <string.h>

#define LP_PROTO_TYPE_MAX 15u

int lp_proto_overlay_hdr_encode(uint8_t *out, size_t cap, uint8_t type, size_t payload_len)
{
	if (type == 0 || type > LP_PROTO_TYPE_MAX)
		return LP_ERR_TYPE;
	if (payload_len > LP_PROTO_PAYLOAD_MAX)
		return LP_ERR_PAYLOAD_MAX;
	if (out == NULL || cap < LP_PROTO_OVERLAY_HDR_LEN)
		return LP_ERR_NOBUF;
	out[0] = (uint8_t)(LP_PROTO_VERSION << 4 | type);
	out[1] = 0;
	lp_put_u16(out + 2, (uint16_t)payload_len);
	return 0;
}

ssize_t lp_proto_overlay_encode(uint8_t *out, size_t cap, uint8_t type, const uint8_t *payload,
                                size_t payload_len)
{
	int rc;

	rc = lp_proto_overlay_hdr_encode(out, cap, type, payload_len);
	if (rc < 0)
		return rc;
	if (payload_len > cap - LP_PROTO_OVERLAY_HDR_LEN)
		return LP_ERR_NOBUF;
	if (payload_len > 0) {
		if (payload == NULL)
			return LP_ERR_INVAL;
		/* memmove: callers may build the payload in place right after the header. */
		memmove(out + LP_PROTO_OVERLAY_HDR_LEN, payload, payload_len);
	}
	return (ssize_t)(LP_PROTO_OVERLAY_HDR_LEN + payload_len);
}

int lp_proto_overlay_decode(const uint8_t *data, size_t len, struct lp_proto_overlay *ov)
{
	struct lp_buf b;
	uint8_t vt, flags;
	uint16_t plen;
	const uint8_t *payload;

	if (data == NULL)
		return len == 0 ? LP_ERR_TRUNCATED : LP_ERR_INVAL;
	lp_buf_init(&b, data, len);
	vt = lp_buf_u8(&b);
	flags = lp_buf_u8(&b);
	plen = lp_buf_u16(&b);
	if (b.err != 0)
		return b.err;
	if (vt >> 4 != LP_PROTO_VERSION)
		return LP_ERR_VERSION;
	if ((vt & 0x0f) != LP_PROTO_TYPE_ETHERNET)
		return LP_ERR_TYPE;
	if ((flags & ~LP_PROTO_FLAGS_KNOWN) != 0)
		return LP_ERR_INVAL;
	lp_buf_bytes(&b, &payload, plen);
	if (b.err != 0)
		return b.err;
	if (lp_buf_left(&b) != 0)
		return LP_ERR_TRAILING;
	ov->version = (uint8_t)(vt >> 4);
	ov->type = (uint8_t)(vt & 0x0f);
	ov->flags = flags;
	ov->payload = payload;
	ov->payload_len = plen;
	return 0;
}

int lp_proto_check_budget(size_t payload_len, size_t budget)
{
	if (payload_len > LP_PROTO_PAYLOAD_MAX)
		return LP_ERR_PAYLOAD_MAX;
	if (budget < LP_PROTO_OVERLAY_HDR_LEN || payload_len > budget - LP_PROTO_OVERLAY_HDR_LEN)
		return LP_ERR_TOO_BIG;
	return 0;
}
