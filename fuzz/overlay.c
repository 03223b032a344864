/* fuzz/overlay.c - overlay datagram decode; whatever decodes must re-encode to the same bytes,
 * and the send-side budget check must agree with the decoded length. */
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
	if (ov.version != LP_PROTO_VERSION || ov.type != LP_PROTO_TYPE_ETHERNET || ov.flags != 0)
		abort();
	if (ov.payload_len + LP_PROTO_OVERLAY_HDR_LEN != size || ov.payload != data + 4)
		abort();
	n = lp_proto_overlay_encode(out, sizeof(out), ov.type, ov.payload, ov.payload_len);
	if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
		abort();
	if (lp_proto_check_budget(ov.payload_len, size) != 0)
		abort();
	if (lp_proto_check_budget(ov.payload_len, size - 1) != LP_ERR_TOO_BIG)
		abort();
	return 0;
}
