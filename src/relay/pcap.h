/*
 * pcap.h - lanparty-relay --pcap: every datagram the relay forwards, as the
 * relay received it, appended to a classic pcap file (an operator's
 * debugging aid; see lanparty-relay(8)).
 *
 * Records are Ethernet (LINKTYPE_ETHERNET): the overlay payload without the
 * 4-byte overlay header. In an open room that is the frame in plaintext; in
 * a private room it is what the relay can see of a sealed frame: the clear
 * Ethernet header, then ciphertext, epoch, counter and tag. Writes go
 * through stdio's buffer (flushed by relay_pcap_flush, on the relay's
 * housekeeping tick, and at close), so the loop blocks on the local file
 * only when a buffer's worth is written out. The file stops growing at
 * max_bytes: capture then ends, logged once.
 */
#ifndef LP_RELAY_PCAP_H
#define LP_RELAY_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"

struct relay_pcap;

/* Creates (or truncates) PATH with mode 0600, writes the file header.
 * max_bytes >= 24 + one record. Errors are logged; returns LP_ERR_IO or
 * LP_ERR_NOMEM. */
int relay_pcap_open(const char *path, uint64_t max_bytes, const struct lp_logger *log,
                    struct relay_pcap **out) LP_WUR;
/* Appends one forwarded datagram (overlay header included, skipped here).
 * pc may be NULL (no capture): a no-op. Never fails the caller: a write
 * error ends the capture, logged once. */
void relay_pcap_datagram(struct relay_pcap *pc, const uint8_t *data, size_t len);
void relay_pcap_flush(struct relay_pcap *pc);
/* Flushes and closes; NULL is fine. */
void relay_pcap_close(struct relay_pcap *pc);

#endif /* LP_RELAY_PCAP_H */
