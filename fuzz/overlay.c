/* fuzz/overlay.c - overlay datagram decode; whatever decodes must re-encode to the same bytes,
 * apart from the flags byte (encode writes 0; senders set flags afterwards), and the send-side
 * budget check must agree with the decoded length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lp_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[LP_PROTO_OVERLAY_HDR_LEN + LP_PROTO_PAYLOAD_MAX];
	struct lp_proto_overlay ov;
	ssize_t n;

	if (lp_proto_overlay_decode(data, size, &ov) != 0)
		return 0;
	if (ov.version != LP_PROTO_VERSION || ov.type != LP_PROTO_TYPE_ETHERNET ||
	    (ov.flags & ~LP_PROTO_FLAGS_KNOWN) != 0 || ov.flags != data[1])
		abort();
	if (ov.payload_len + LP_PROTO_OVERLAY_HDR_LEN != size || ov.payload != data + 4)
		abort();
	n = lp_proto_overlay_encode(out, sizeof(out), ov.type, ov.payload, ov.payload_len);
	if (n < 0 || (size_t)n != size || out[0] != data[0] || out[1] != 0 ||
	    memcmp(out + 2, data + 2, size - 2) != 0)
		abort();
	if (lp_proto_check_budget(ov.payload_len, size) != 0)
		abort();
	if (lp_proto_check_budget(ov.payload_len, size - 1) != LP_ERR_TOO_BIG)
		abort();
	return 0;
}
