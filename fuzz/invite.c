/*
 * fuzz/invite.c - the invite parser (and the relay pin parser, which it
 * embeds). Properties: a refusal always says why and leaves the output
 * wiped; whatever parses formats back to a canonical line that parses to
 * the same invite and formats to itself; a pin that parses formats back to
 * exactly its input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lp_room.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lp_invite zero;
	struct lp_invite inv, back;
	char s[2048], out[LP_INVITE_MAX], again[LP_INVITE_MAX], err[256],
	        pin_s[LP_ROOM_PIN_STR_SIZE];
	uint8_t pin[LP_ROOM_PIN_LEN];
	ssize_t n;
	int rc;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (lp_room_pin_parse(s, pin) == 0) {
		if (lp_room_pin_format(pin, pin_s) != 0 || strcmp(pin_s, s) != 0)
			abort();
	}

	rc = lp_invite_parse(s, &inv, err, sizeof(err));
	if (rc != 0) {
		if (rc > 0 || err[0] == '\0' || memcmp(&inv, &zero, sizeof(inv)) != 0)
			abort();
		return 0;
	}
	if (err[0] != '\0' || inv.port == 0 || inv.host[0] == '\0')
		abort();
	n = lp_invite_format(&inv, out, sizeof(out));
	if (n <= 0 || (size_t)n != strlen(out))
		abort();
	if (lp_invite_parse(out, &back, err, sizeof(err)) != 0 ||
	    memcmp(&inv, &back, sizeof(inv)) != 0)
		abort();
	if (lp_invite_format(&back, again, sizeof(again)) != n || strcmp(out, again) != 0)
		abort();
	lp_invite_wipe(&inv);
	lp_invite_wipe(&back);
	return 0;
}
