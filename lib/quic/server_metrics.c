/* server_metrics.c - the QUIC server's counters as Prometheus text. */
#include <stdio.h>

#include "lp_quic.h"

ssize_t lp_quic_server_metrics_write(const struct lp_quic_server *s, char *buf, size_t cap)
{
	int m = snprintf(buf, cap,
	                 "# HELP lanparty_relay_quic_connections Live QUIC connections.\n"
	                 "# TYPE lanparty_relay_quic_connections gauge\n"
	                 "lanparty_relay_quic_connections %zu\n"
	                 "# HELP lanparty_relay_quic_handshaking QUIC connections still in their "
	                 "handshake.\n"
	                 "# TYPE lanparty_relay_quic_handshaking gauge\n"
	                 "lanparty_relay_quic_handshaking %zu\n"
	                 "# HELP lanparty_relay_quic_retries_total Retry packets sent (address "
	                 "validation under load).\n"
	                 "# TYPE lanparty_relay_quic_retries_total counter\n"
	                 "lanparty_relay_quic_retries_total %llu\n"
	                 "# HELP lanparty_relay_quic_bad_tokens_total Initials dropped for an "
	                 "invalid or expired token.\n"
	                 "# TYPE lanparty_relay_quic_bad_tokens_total counter\n"
	                 "lanparty_relay_quic_bad_tokens_total %llu\n"
	                 "# HELP lanparty_relay_quic_source_capped_total Initials dropped by the "
	                 "per-source caps.\n"
	                 "# TYPE lanparty_relay_quic_source_capped_total counter\n"
	                 "lanparty_relay_quic_source_capped_total %llu\n"
	                 "# HELP lanparty_relay_quic_dropped_packets_total UDP payloads dropped "
	                 "before reaching a connection.\n"
	                 "# TYPE lanparty_relay_quic_dropped_packets_total counter\n"
	                 "lanparty_relay_quic_dropped_packets_total %llu\n",
	                 lp_quic_server_conn_count(s), lp_quic_server_handshaking(s),
	                 (unsigned long long)lp_quic_server_retries(s),
	                 (unsigned long long)lp_quic_server_bad_tokens(s),
	                 (unsigned long long)lp_quic_server_source_capped(s),
	                 (unsigned long long)lp_quic_server_dropped(s));

	if (m < 0 || (size_t)m >= cap)
		return LP_ERR_NOBUF;
	return m;
}
