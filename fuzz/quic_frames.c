/*
 * fuzz/quic_frames.c - libFuzzer target for lib/quic's frame walker
 * (frame_guard.h): any decrypted payload must be walked without reading out
 * of bounds or looping, and the verdict must not depend on bytes past a
 * frame that ends the walk. Refusal is checked against a second, simpler
 * scan: a payload can only be refused if it holds a 0x18 byte.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame_guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so ASan sees any read past the payload. */
	uint8_t *p = malloc(size ? size : 1);

	assert(p != NULL);
	memcpy(p, data, size);
	if (lp_quic_frames_refused(p, size))
		assert(memchr(p, 0x18, size) != NULL);
	free(p);
	return 0;
}
