/*
 * tamper.h - lanparty-relay --test-tamper: the relay attacking its own rooms,
 * as whoever holds a relay could, so tests can show that private rooms'
 * peers drop what a hostile relay alters or replays.
 */
#ifndef RELAY_TAMPER_H
#define RELAY_TAMPER_H

#include <stddef.h>
#include <stdint.h>

#include "lp_obs.h"
#include "lp_proto.h"
#include "lp_quic.h"

struct relay_tamper {
	uint64_t sent;     /* datagrams sent, for the caller's one-in-N pick */
	uint64_t tampered; /* attacks made */
	uint8_t buf[LP_PROTO_OVERLAY_HDR_LEN + LP_PROTO_PAYLOAD_MAX];
};

/*
 * Sends the overlay datagram (data, len) on qc four times: with the last
 * bit before a private room's seal trailer flipped (the payload), with a bit
 * of the clear Ethernet header flipped (the source MAC's last bit), as it
 * is, and as it is again (a replay). The altered copies go first, while
 * their counter is still fresh, so only authentication can stop them. A
 * private room's receivers drop and count three (auth, auth, replay); an
 * open room has no such defence. The first attack is logged as a warning
 * naming one_in. Returns what sending the unaltered datagram returned.
 */
int relay_tamper_send(struct relay_tamper *t, struct lp_quic_conn *qc, const uint8_t *data,
                      size_t len, uint32_t one_in, const struct lp_logger *log);

#endif
