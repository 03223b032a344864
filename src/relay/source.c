/* source.c - per-source-address buckets (see source.h). */
#include "source.h"

#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

int relay_src_init(struct relay_src *s)
{
	memset(s, 0, sizeof(*s));
	if (lp_os_random(&s->k0, sizeof(s->k0)) != 0 || lp_os_random(&s->k1, sizeof(s->k1)) != 0)
		return LP_ERR_IO;
	return 0;
}

size_t relay_src_bucket(const struct relay_src *s, const struct lp_quic_conn *qc)
{
	struct sockaddr_storage ss;
	uint8_t key[9];
	size_t n;

	if (lp_quic_conn_remote(qc, &ss) != 0)
		return 0;
	if (ss.ss_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, &((const struct sockaddr_in6 *)&ss)->sin6_addr, 8);
		n = 9;
	} else {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)&ss)->sin_addr, 4);
		n = 5;
	}
	return (size_t)lp_siphash24(s->k0, s->k1, key, n) % RELAY_SRC_BUCKETS;
}
