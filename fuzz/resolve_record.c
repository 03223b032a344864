/* fuzz/resolve_record.c - the record an unprivileged resolver child sends
 * its parent (src/common/resolve_child.h). The child may have been taken
 * over by a DNS reply, so every byte is hostile: the decoder must refuse or
 * return addresses that hold its promises (family, port, count), and what
 * it returns must encode and decode back to the same addresses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resolve_child.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage out[LP_RESOLVE_RECORD_ADDRS], back[LP_RESOLVE_RECORD_ADDRS];
	uint8_t rec[LP_RESOLVE_RECORD_LEN];
	uint16_t port;
	size_t max, n = 99, n2 = 99;
	int rc;

	if (size < 3)
		return 0;
	/* The first three bytes pick the port asked for and the caller's room. */
	port = (uint16_t)(data[0] << 8 | data[1]);
	max = (size_t)(data[2] % LP_RESOLVE_RECORD_ADDRS) + 1;
	data += 3;
	size -= 3;
	memset(out, 0xa5, sizeof(out));
	rc = lp_resolve_record_decode(data, size, port, out, max, &n);
	if (rc != 0) {
		if (rc > 0 || rc <= LP_ERR__MIN || n != 0)
			abort();
		return 0;
	}
	if (size != LP_RESOLVE_RECORD_LEN || n == 0 || n > max)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;

		if (out[i].ss_family == AF_INET) {
			memcpy(&sin, &out[i], sizeof(sin));
			if (ntohs(sin.sin_port) != port)
				abort();
		} else if (out[i].ss_family == AF_INET6) {
			memcpy(&sin6, &out[i], sizeof(sin6));
			if (ntohs(sin6.sin6_port) != port)
				abort();
		} else {
			abort();
		}
	}
	lp_resolve_record_encode(0, out, n, rec);
	rc = lp_resolve_record_decode(rec, sizeof(rec), port, back, LP_RESOLVE_RECORD_ADDRS, &n2);
	if (rc != 0 || n2 != n)
		abort();
	for (size_t i = 0; i < n; i++) {
		size_t len = (size_t)lp_net_addr_len((const struct sockaddr *)&out[i]);

		if (memcmp(&back[i], &out[i], len) != 0)
			abort();
	}
	return 0;
}
