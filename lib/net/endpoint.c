/* endpoint.c - parsing and formatting what users type for --relay and --listen. */
#include "lp_net.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define DNS_LABEL_MAX 63

/* host[:port] split of the user's text; nothing is validated yet. */
struct hostport {
	const char *host;
	size_t host_len;
	const char *port; /* NULL when no ':' introduced a port */
	size_t port_len;
	bool bracketed;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ASCII only: the C library's isalnum() follows the locale. */
static bool is_ldh(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

static int split_hostport(const char *s, struct hostport *hp)
{
	const char *close, *colon;

	memset(hp, 0, sizeof(*hp));
	if (s[0] == '[') {
		close = strchr(s, ']');
		if (close == NULL)
			return LP_ERR_BRACKET;
		hp->host = s + 1;
		hp->host_len = (size_t)(close - hp->host);
		hp->bracketed = true;
		if (memchr(hp->host, '[', hp->host_len) != NULL || strpbrk(close + 1, "[]") != NULL)
			return LP_ERR_BRACKET;
		if (close[1] == '\0')
			return 0;
		if (close[1] != ':')
			return LP_ERR_BRACKET;
		hp->port = close + 2;
		hp->port_len = strlen(hp->port);
		return 0;
	}
	if (strpbrk(s, "[]") != NULL)
		return LP_ERR_BRACKET;
	hp->host = s;
	colon = strchr(s, ':');
	/* Two or more colons without brackets can only be an IPv6 literal, which then has no
	 * port: "2001:db8::7:443" is an address, not an address and a port. */
	if (colon == NULL || strchr(colon + 1, ':') != NULL) {
		hp->host_len = strlen(s);
		return 0;
	}
	hp->host_len = (size_t)(colon - s);
	hp->port = colon + 1;
	hp->port_len = strlen(hp->port);
	return 0;
}

static int parse_port(const char *p, size_t len, uint16_t *out)
{
	unsigned long v = 0;
	size_t i;

	/* Five digits bound the value before it can overflow. */
	if (len == 0 || len > 5)
		return LP_ERR_PORT;
	for (i = 0; i < len; i++) {
		if (!is_digit(p[i]))
			return LP_ERR_PORT;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return LP_ERR_PORT;
	*out = (uint16_t)v;
	return 0;
}

static bool is_dns_name(const char *h, size_t len)
{
	size_t i, label = 0;
	bool numeric = true;

	if (len > 0 && h[len - 1] == '.')
		len--;
	if (len == 0 || len > LP_NET_HOST_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = h[i];

		if (c == '.') {
			if (label == 0 || h[i - 1] == '-')
				return false;
			label = 0;
			numeric = true;
			continue;
		}
		if (!is_ldh(c) || (c == '-' && label == 0))
			return false;
		if (++label > DNS_LABEL_MAX)
			return false;
		if (!is_digit(c))
			numeric = false;
	}
	if (label == 0 || h[len - 1] == '-')
		return false;
	/* No top-level domain is all digits (RFC 3696 2): such a "name" is a broken IPv4
	 * literal, which getaddrinfo would otherwise read the inet_aton way ("1.2.3"). */
	return !numeric;
}

/* Classifies and copies the host of hp into out->host / out->kind. */
static int parse_host(const struct hostport *hp, bool allow_name, struct lp_net_endpoint *out)
{
	char tmp[sizeof(out->host)];
	struct in6_addr a6;
	struct in_addr a4;
	bool has_colon;

	if (hp->host_len == 0)
		return LP_ERR_HOST_EMPTY;
	if (hp->host_len >= sizeof(tmp))
		return LP_ERR_HOST_SYNTAX;
	memcpy(tmp, hp->host, hp->host_len);
	tmp[hp->host_len] = '\0';
	has_colon = memchr(tmp, ':', hp->host_len) != NULL;

	if (has_colon) {
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			return LP_ERR_HOST_SYNTAX;
		out->kind = LP_NET_HOST_IPV6;
	} else if (hp->bracketed) {
		return LP_ERR_BRACKET;
	} else if (inet_pton(AF_INET, tmp, &a4) == 1) {
		out->kind = LP_NET_HOST_IPV4;
	} else if (allow_name && is_dns_name(tmp, hp->host_len)) {
		out->kind = LP_NET_HOST_NAME;
	} else {
		return LP_ERR_HOST_SYNTAX;
	}
	memcpy(out->host, tmp, hp->host_len + 1);
	return 0;
}

int lp_net_parse_relay(const char *s, struct lp_net_endpoint *out)
{
	struct lp_net_endpoint ep;
	struct hostport hp;
	int rc;

	if (s == NULL || out == NULL)
		return LP_ERR_INVAL;
	memset(&ep, 0, sizeof(ep));
	rc = split_hostport(s, &hp);
	if (rc < 0)
		return rc;
	rc = parse_host(&hp, true, &ep);
	if (rc < 0)
		return rc;
	ep.port = LP_NET_DEFAULT_PORT;
	if (hp.port != NULL) {
		rc = parse_port(hp.port, hp.port_len, &ep.port);
		if (rc < 0)
			return rc;
	}
	*out = ep;
	return 0;
}

/* "udp", any case. */
static bool is_udp(const char *s)
{
	static const char udp[] = "udp";
	size_t i;

	for (i = 0; i < sizeof(udp); i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != udp[i])
			return false;
	}
	return true;
}

int lp_net_parse_listen(const char *s, struct lp_net_endpoint *out)
{
	struct lp_net_endpoint ep;
	struct hostport hp;
	const char *slash;
	int rc;

	if (s == NULL || out == NULL)
		return LP_ERR_INVAL;
	memset(&ep, 0, sizeof(ep));
	slash = strchr(s, '/');
	if (slash != NULL) {
		if (!is_udp(slash + 1))
			return LP_ERR_PORT;
		rc = parse_port(s, (size_t)(slash - s), &ep.port);
		if (rc < 0)
			return rc;
		ep.kind = LP_NET_HOST_ANY;
		*out = ep;
		return 0;
	}
	rc = split_hostport(s, &hp);
	if (rc < 0)
		return rc;
	rc = parse_host(&hp, false, &ep);
	if (rc < 0)
		return rc;
	if (hp.port == NULL)
		return LP_ERR_PORT;
	rc = parse_port(hp.port, hp.port_len, &ep.port);
	if (rc < 0)
		return rc;
	*out = ep;
	return 0;
}

int lp_net_endpoint_format(const struct lp_net_endpoint *ep, char *out, size_t cap)
{
	int n;

	if (ep == NULL || out == NULL)
		return LP_ERR_INVAL;
	if (cap == 0)
		return LP_ERR_NOBUF;
	switch (ep->kind) {
	case LP_NET_HOST_NAME:
	case LP_NET_HOST_IPV4:
		n = snprintf(out, cap, "%s:%u", ep->host, (unsigned)ep->port);
		break;
	case LP_NET_HOST_IPV6:
		n = snprintf(out, cap, "[%s]:%u", ep->host, (unsigned)ep->port);
		break;
	case LP_NET_HOST_ANY:
		n = snprintf(out, cap, "%u/udp", (unsigned)ep->port);
		break;
	default:
		return LP_ERR_INVAL;
	}
	if (n < 0)
		return LP_ERR_INVAL;
	if ((size_t)n >= cap)
		return LP_ERR_NOBUF;
	return 0;
}
