/*
 * lp_net.h - relay endpoints: parsing what users type (--relay, --listen)
 * and resolving it to socket addresses, as two separate steps so a binary
 * can resolve the relay before it touches any interface.
 */
#ifndef LP_NET_H
#define LP_NET_H

#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"
#include "lp_net_sys.h" /* struct sockaddr_storage, socklen_t per platform */

#define LP_NET_DEFAULT_PORT 443
#define LP_NET_HOST_MAX 253 /* longest DNS name */

enum lp_net_host_kind {
	LP_NET_HOST_NAME = 0, /* DNS name, needs resolving */
	LP_NET_HOST_IPV4,     /* IPv4 literal */
	LP_NET_HOST_IPV6,     /* IPv6 literal (brackets stripped) */
	LP_NET_HOST_ANY       /* --listen wildcard ("443/udp") */
};

struct lp_net_endpoint {
	/* Without brackets; "" for LP_NET_HOST_ANY. A name keeps its optional trailing dot,
	 * hence room for LP_NET_HOST_MAX characters + '.' + NUL. */
	char host[LP_NET_HOST_MAX + 2];
	uint16_t port;
	enum lp_net_host_kind kind;
};

/*
 * --relay: "relay.example.org", "relay.example.org:4433", "192.0.2.7",
 * "192.0.2.7:4433", "2001:db8::7", "[2001:db8::7]", "[2001:db8::7]:4433".
 * A bare host gets UDP port 443. Errors: LP_ERR_HOST_EMPTY, LP_ERR_PORT
 * (missing after ':', not decimal, 0 or > 65535), LP_ERR_BRACKET (stray or
 * unbalanced brackets, brackets around a non-IPv6 host), LP_ERR_HOST_SYNTAX
 * (characters a DNS name cannot have, labels too long, bad literal).
 * A DNS name is labels of 1..63 characters [A-Za-z0-9-], not starting or
 * ending with '-', at most LP_NET_HOST_MAX characters without the optional
 * trailing dot; an all-numeric last label is refused (LP_ERR_HOST_SYNTAX) so
 * a mistyped IPv4 literal ("192.0.2.300", "1.2.3") never reaches DNS. An
 * unbracketed host with more than one ':' is an IPv6 literal without port.
 * IPv6 zone ids ("fe80::1%eth0") are not accepted. LP_ERR_INVAL for NULL.
 */
int lp_net_parse_relay(const char *s, struct lp_net_endpoint *out) LP_WUR;

/*
 * --listen: a socket address ("0.0.0.0:443", "[::]:443", "127.0.0.1:4433")
 * or the UDP port shorthand "443/udp" (wildcard, dual-stack). Names are not
 * accepted here (LP_ERR_HOST_SYNTAX). Errors as lp_net_parse_relay,
 * LP_ERR_PORT also for a missing port and for a shorthand other than
 * "<port>/udp" ("443/tcp": QUIC runs over UDP only). "0.0.0.0:443" stays an
 * LP_NET_HOST_IPV4 endpoint; only the shorthand gives LP_NET_HOST_ANY.
 */
int lp_net_parse_listen(const char *s, struct lp_net_endpoint *out) LP_WUR;

/*
 * Resolves ep to at most max addresses (UDP). Literals never touch DNS; a
 * LP_NET_HOST_ANY endpoint yields the IPv6 wildcard. Errors:
 * LP_ERR_RESOLVE_PERM (no such name, no address of a usable family),
 * LP_ERR_RESOLVE_AGAIN (temporary failure: retry later), LP_ERR_INVAL
 * (NULL, max 0, bad kind), LP_ERR_NOMEM, LP_ERR_IO (other resolver
 * failure). On success *n is 1..max; each address carries ep->port.
 * Blocks while DNS answers (names only). On Windows the binary must have
 * called WSAStartup first.
 */
int lp_net_resolve(const struct lp_net_endpoint *ep, struct sockaddr_storage *out, size_t max,
                   size_t *n) LP_WUR;

/* "192.0.2.7:443" / "[2001:db8::7]:443"; LP_ERR_NOBUF, LP_ERR_INVAL. */
int lp_net_addr_format(const struct sockaddr *sa, char *out, size_t cap) LP_WUR;
/* Endpoint back to text in the --relay form ("host:port", "[v6]:port"); an
 * LP_NET_HOST_ANY endpoint as "<port>/udp". LP_ERR_NOBUF, LP_ERR_INVAL. */
int lp_net_endpoint_format(const struct lp_net_endpoint *ep, char *out, size_t cap) LP_WUR;
/* Length of a sockaddr by family (0 for unknown families). */
socklen_t lp_net_addr_len(const struct sockaddr *sa);

#endif /* LP_NET_H */
