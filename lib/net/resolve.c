/* resolve.c - endpoint to socket addresses through getaddrinfo, and back to text. */
#include "lp_net.h"

#include <stdio.h>
#include <string.h>

/* getaddrinfo's codes differ per platform (Winsock WSA* values on Windows) and some are
 * optional, so this is an if-chain on the symbolic names, not a switch. */
static int map_gai_error(int e)
{
	if (e == EAI_AGAIN)
		return LP_ERR_RESOLVE_AGAIN;
	if (e == EAI_NONAME || e == EAI_FAMILY || e == EAI_FAIL)
		return LP_ERR_RESOLVE_PERM;
#ifdef EAI_NODATA
	if (e == EAI_NODATA)
		return LP_ERR_RESOLVE_PERM;
#endif
#ifdef EAI_ADDRFAMILY
	if (e == EAI_ADDRFAMILY)
		return LP_ERR_RESOLVE_PERM;
#endif
#ifdef _WIN32
	/* Wine (8.0) hands the host's glibc EAI_ADDRFAMILY (-9) through untranslated. */
	if (e == -9)
		return LP_ERR_RESOLVE_PERM;
#endif
	if (e == EAI_MEMORY)
		return LP_ERR_NOMEM;
	return LP_ERR_IO;
}

int lp_net_resolve(const struct lp_net_endpoint *ep, struct sockaddr_storage *out, size_t max,
                   size_t *n)
{
	struct addrinfo hints, *res = NULL, *ai;
	const char *node = ep != NULL ? ep->host : NULL;
	char port[8];
	size_t k = 0;
	int rc;

	if (ep == NULL || out == NULL || n == NULL || max == 0 || ep->port == 0)
		return LP_ERR_INVAL;
	*n = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	/* The port is always numeric: never consult the services database. */
	hints.ai_flags = AI_NUMERICSERV;
	switch (ep->kind) {
	case LP_NET_HOST_NAME:
		hints.ai_family = AF_UNSPEC;
		break;
	case LP_NET_HOST_IPV4:
		hints.ai_family = AF_INET;
		hints.ai_flags |= AI_NUMERICHOST;
		break;
	case LP_NET_HOST_IPV6:
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_NUMERICHOST;
		break;
	case LP_NET_HOST_ANY:
		/* The IPv6 wildcard; the socket owner clears IPV6_V6ONLY for dual-stack. */
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_PASSIVE;
		node = NULL;
		break;
	default:
		return LP_ERR_INVAL;
	}
	if (node != NULL && node[0] == '\0')
		return LP_ERR_INVAL;
	snprintf(port, sizeof(port), "%u", (unsigned)ep->port);

	rc = getaddrinfo(node, port, &hints, &res);
	if (rc != 0)
		return map_gai_error(rc);
	for (ai = res; ai != NULL && k < max; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (ai->ai_addr == NULL || (size_t)ai->ai_addrlen > sizeof(out[k]))
			continue;
		memset(&out[k], 0, sizeof(out[k]));
		memcpy(&out[k], ai->ai_addr, (size_t)ai->ai_addrlen);
		k++;
	}
	freeaddrinfo(res);
	if (k == 0)
		return LP_ERR_RESOLVE_PERM;
	*n = k;
	return 0;
}

int lp_net_addr_format(const struct sockaddr *sa, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	int len;

	if (sa == NULL || out == NULL)
		return LP_ERR_INVAL;
	if (cap == 0)
		return LP_ERR_NOBUF;
	/* memcpy into locals: the caller's pointer need not be aligned for the family struct. */
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		if (inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip)) == NULL)
			return LP_ERR_INVAL;
		len = snprintf(out, cap, "%s:%u", ip, (unsigned)ntohs(sin.sin_port));
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		if (inet_ntop(AF_INET6, &sin6.sin6_addr, ip, sizeof(ip)) == NULL)
			return LP_ERR_INVAL;
		if (sin6.sin6_scope_id != 0)
			len = snprintf(out, cap, "[%s%%%lu]:%u", ip,
			               (unsigned long)sin6.sin6_scope_id,
			               (unsigned)ntohs(sin6.sin6_port));
		else
			len = snprintf(out, cap, "[%s]:%u", ip, (unsigned)ntohs(sin6.sin6_port));
	} else {
		return LP_ERR_INVAL;
	}
	if (len < 0)
		return LP_ERR_INVAL;
	if ((size_t)len >= cap)
		return LP_ERR_NOBUF;
	return 0;
}

socklen_t lp_net_addr_len(const struct sockaddr *sa)
{
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET)
		return (socklen_t)sizeof(struct sockaddr_in);
	if (sa->sa_family == AF_INET6)
		return (socklen_t)sizeof(struct sockaddr_in6);
	return 0;
}
