/* fuzz/relay_addr.c - --relay and --listen parsing; what parses must format and parse back to
 * the same endpoint. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lp_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int (*parse)(const char *, struct lp_net_endpoint *), const char *s)
{
	struct lp_net_endpoint ep, back;
	char text[LP_NET_HOST_MAX + 32];
	size_t hl;
	int rc;

	memset(&ep, 0, sizeof(ep));
	rc = parse(s, &ep);
	if (rc != 0) {
		if (rc > 0 || rc <= LP_ERR__MIN)
			abort();
		return;
	}
	hl = strnlen(ep.host, sizeof(ep.host));
	if (hl == sizeof(ep.host) || ep.port == 0)
		abort();
	if ((ep.kind == LP_NET_HOST_ANY) != (hl == 0))
		abort();
	if (lp_net_endpoint_format(&ep, text, sizeof(text)) != 0)
		abort();
	memset(&back, 0, sizeof(back));
	if (parse(text, &back) != 0)
		abort();
	if (strcmp(back.host, ep.host) != 0 || back.port != ep.port || back.kind != ep.kind)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check(lp_net_parse_relay, s);
	check(lp_net_parse_listen, s);
	free(s);
	return 0;
}
