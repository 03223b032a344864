/*
 * libFuzzer target for lib/proto/gso.c. The first LP_GSO_VNET_HDR_LEN
 * bytes are the virtio-net header (host byte order, as a packet socket hands
 * it over), the rest is the frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lp_gso.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t frame[70000];
static uint8_t scratch[70000];

static int emit(void *user, const uint8_t *f, size_t len)
{
	size_t *total = user;

	/* A segment never outgrows the frame it came from. */
	if (len == 0 || len > sizeof(scratch))
		abort();
	*total += (size_t)f[0] + (size_t)f[len - 1];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lp_gso_meta m;
	size_t total = 0, len;
	int rc;

	if (lp_gso_meta_decode(data, size, &m) < 0)
		return 0;
	len = size - LP_GSO_VNET_HDR_LEN;
	if (len > sizeof(frame))
		return 0;
	memcpy(frame, data + LP_GSO_VNET_HDR_LEN, len);
	rc = lp_gso_segment(&m, frame, len, scratch, sizeof(scratch), emit, &total);
	if (rc == 0)
		abort(); /* success always emits at least one frame */
	return 0;
}
