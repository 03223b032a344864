/*
 * frame_guard.h - refuses, after decryption and before ngtcp2 reads them,
 * the QUIC frames that reach an abort in ngtcp2 0.12.1 (docs/NGTCP2-ASSERTS.md).
 *
 * One rule today: a NEW_CONNECTION_ID with retire_prior_to > 0. ngtcp2 0.12.1
 * aborts (ngtcp2_unreachable in ngtcp2_conn_track_retired_dcid_seq) when a
 * peer raises retire_prior_to and then sends the same lower sequence number
 * twice; without a raised retire_prior_to that branch never runs. ngtcp2's
 * own endpoints never send retire_prior_to > 0 (0.12.1 has no API for it),
 * so our clients are not affected.
 */
#ifndef LP_QUIC_FRAME_GUARD_H
#define LP_QUIC_FRAME_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ngtcp2/ngtcp2.h>

/*
 * Walks the frames of one decrypted packet payload (RFC 9000 section 19,
 * RFC 9221 DATAGRAM). True when a refused frame is found. An unknown frame
 * type or a truncated frame ends the walk with false: ngtcp2 refuses those
 * itself (FRAME_ENCODING_ERROR) before acting on any frame after them.
 */
bool lp_quic_frames_refused(const uint8_t *payload, size_t len);

/*
 * ngtcp2's decrypt callback with the guard: ngtcp2_crypto_decrypt_cb, then
 * NGTCP2_ERR_DECRYPT (the packet is dropped as if corrupted) when the
 * plaintext holds a refused frame.
 */
int lp_quic_guard_decrypt_cb(uint8_t *dest, const ngtcp2_crypto_aead *aead,
                             const ngtcp2_crypto_aead_ctx *aead_ctx, const uint8_t *ciphertext,
                             size_t ciphertextlen, const uint8_t *nonce, size_t noncelen,
                             const uint8_t *aad, size_t aadlen);

#endif /* LP_QUIC_FRAME_GUARD_H */
