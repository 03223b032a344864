/*
 * conn_budget.c - the largest DATAGRAM payload a connection can send now
 * (its budget, which every overlay datagram is checked against) and when
 * its path MTU discovery counts as settled.
 */
#include "quic_internal.h"

#define AEAD_TAG_LEN 16 /* AES-GCM, the only ciphers we offer */

/*
 * PMTUD: ngtcp2 0.12 keeps its probing state private. It probes 1406, then
 * (on success) 1444 bytes with our 1452 cap, each up to three times with
 * growing timeouts. We call PMTUD settled when the path reached the largest
 * probe that fits our cap, or when PMTUD_GIVEUP_PTO probe timeouts (at least
 * PMTUD_GIVEUP_MIN_NS) passed since the handshake: by then every probe has
 * either succeeded or been given up.
 */
#define PMTUD_TOP 1444
#define PMTUD_GIVEUP_PTO 40
#define PMTUD_GIVEUP_MIN_NS (2 * LP_NS_PER_SEC)
#define PMTUD_GIVEUP_MAX_NS (15 * LP_NS_PER_SEC)

static size_t varint_len(uint64_t v)
{
	return v < 64 ? 1 : v < 16384 ? 2 : v < 1073741824 ? 4 : 8;
}

/* Largest DATAGRAM payload L with 1 + varint_len(L) + L <= room. */
static size_t fit_payload(size_t room)
{
	size_t l;

	if (room < 2)
		return 0;
	l = room - 1 - varint_len(room);
	while (l > 0 && 1 + varint_len(l) + l > room)
		l--;
	return l;
}

size_t lp_quic_budget(const struct lp_quic_conn *c)
{
	const ngtcp2_transport_params *rp = ngtcp2_conn_get_remote_transport_params(c->q);
	ngtcp2_cid_token toks[8];
	size_t pmax, dcidlen = NGTCP2_MAX_CIDLEN, ovh, l, n;

	if (rp == NULL || rp->max_datagram_frame_size == 0)
		return 0;
	n = ngtcp2_conn_get_num_active_dcid(c->q);
	if (n > 0 && n <= LP_ARRAY_LEN(toks)) {
		n = ngtcp2_conn_get_active_dcid(c->q, toks);
		dcidlen = 0;
		for (size_t i = 0; i < n; i++)
			if (toks[i].cid.datalen > dcidlen)
				dcidlen = toks[i].cid.datalen;
	}
	pmax = ngtcp2_conn_get_path_max_tx_udp_payload_size(c->q);
	ovh = 1 + dcidlen + 4 + AEAD_TAG_LEN;
	if (pmax <= ovh)
		return 0;
	l = fit_payload(pmax - ovh);
	if (rp->max_datagram_frame_size < LP_QUIC_DGRAM_FRAME_MAX + 1) {
		size_t lim = fit_payload((size_t)rp->max_datagram_frame_size);

		if (lim < l)
			l = lim;
	}
	return l > LP_QUIC_MAX_UDP_PAYLOAD ? LP_QUIC_MAX_UDP_PAYLOAD : l;
}

void lp_quic_pmtud_update(struct lp_quic_conn *c, uint64_t now)
{
	uint64_t giveup;

	if (c->pmtud_done || !c->hs_done)
		return;
	giveup = PMTUD_GIVEUP_PTO * ngtcp2_conn_get_pto(c->q);
	if (giveup < PMTUD_GIVEUP_MIN_NS)
		giveup = PMTUD_GIVEUP_MIN_NS;
	if (giveup > PMTUD_GIVEUP_MAX_NS)
		giveup = PMTUD_GIVEUP_MAX_NS;
	/* A caller may pass a now read before the one the handshake completed
	 * at (a loop's timers after its reads). */
	if (ngtcp2_conn_get_path_max_tx_udp_payload_size(c->q) >= PMTUD_TOP ||
	    lp_ns_since(now, c->hs_done_ts) >= giveup)
		c->pmtud_done = true;
}

uint64_t lp_quic_pmtud_deadline(const struct lp_quic_conn *c)
{
	return c->hs_done && !c->pmtud_done ? c->hs_done_ts + PMTUD_GIVEUP_MIN_NS : UINT64_MAX;
}
