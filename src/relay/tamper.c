/* tamper.c - lanparty-relay --test-tamper (see tamper.h). */
#include "tamper.h"

#include <string.h>

#include "lp_room.h"

int relay_tamper_send(struct relay_tamper *t, struct lp_quic_conn *qc, const uint8_t *data,
                      size_t len, uint32_t one_in, const struct lp_logger *log)
{
	const size_t src_last = LP_PROTO_OVERLAY_HDR_LEN + 6 + 5;
	const size_t trailer = (data[1] & LP_PROTO_FLAG_SEALED) != 0 ? LP_ROOM_SEAL_OVERHEAD : 0;
	uint8_t *b = t->buf;
	int rv;

	if (len > sizeof(t->buf) || len <= src_last + 1 + trailer)
		return lp_quic_conn_datagram_send(qc, data, len);
	memcpy(b, data, len);
	b[len - trailer - 1] ^= 0x01;
	rv = lp_quic_conn_datagram_send(qc, b, len);
	b[len - trailer - 1] ^= 0x01;
	b[src_last] ^= 0x01;
	if (rv == 0)
		rv = lp_quic_conn_datagram_send(qc, b, len);
	/* A full queue ends the attack; the datagram itself is still tried. */
	rv = lp_quic_conn_datagram_send(qc, data, len);
	if (rv == 0 && lp_quic_conn_datagram_send(qc, data, len) == 0 && t->tampered++ == 0)
		lp_log(log, LP_LOG_WARN,
		       "test-tamper: one datagram in %u goes out with a payload bit flipped, with "
		       "a "
		       "header bit flipped, as it is, and again",
		       (unsigned)one_in);
	return rv;
}
