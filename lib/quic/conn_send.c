/*
 * conn_send.c - what a connection sends: the control stream's queue, the
 * DATAGRAM FIFO, and lp_quic_conn_write's GSO batches (the close packet
 * itself comes from conn_close.c).
 */
#include <stdlib.h>
#include <string.h>

#include "quic_internal.h"

int lp_quic_conn_stream_send(struct lp_quic_conn *c, const uint8_t *data, size_t len)
{
	struct stream_chunk *k;

	if (c->state != LP_QUIC_ESTABLISHED || c->sid_dead)
		return LP_ERR_STATE;
	if (len == 0)
		return 0;
	if (!c->server && c->sid < 0) {
		int64_t sid;

		if (ngtcp2_conn_open_bidi_stream(c->q, &sid, NULL) != 0)
			return LP_ERR_STATE;
		c->sid = sid;
	}
	k = malloc(sizeof(*k) + len);
	if (k == NULL)
		return LP_ERR_NOMEM;
	k->next = NULL;
	k->len = len;
	memcpy(k->data, data, len);
	if (c->sq_tail != NULL)
		c->sq_tail->next = k;
	else
		c->sq_head = k;
	c->sq_tail = k;
	c->sq_total += len;
	lp_quic_conn_touch(c);
	return 0;
}

int lp_quic_conn_datagram_send(struct lp_quic_conn *c, const uint8_t *data, size_t len)
{
	bool was_empty = c->dgq.count == 0;
	int rc;

	if (c->state != LP_QUIC_ESTABLISHED)
		return LP_ERR_STATE;
	if (len > c->budget)
		return c->budget == 0 ? LP_ERR_NO_DATAGRAM : LP_ERR_TOO_BIG;
	if (len == 0)
		return LP_ERR_INVAL;
	rc = lp_dgq_push(&c->dgq, data, len, c->now);
	if (rc == 0 && was_empty)
		lp_quic_conn_touch(c);
	return rc;
}

size_t lp_quic_conn_datagram_room(const struct lp_quic_conn *c)
{
	if (c->state != LP_QUIC_ESTABLISHED)
		return 0;
	return c->dgq.count < c->dgq.cap ? c->dgq.cap - c->dgq.count : 0;
}

/* Up to n iovecs of control-stream bytes not yet handed to ngtcp2. */
static size_t stream_iov(struct lp_quic_conn *c, ngtcp2_vec *v, size_t n)
{
	uint64_t off = c->sq_head_off;
	size_t cnt = 0;

	for (struct stream_chunk *k = c->sq_head; k != NULL && cnt < n; k = k->next) {
		uint64_t end = off + k->len;

		if (end > c->sq_sent) {
			size_t skip = (size_t)(c->sq_sent > off ? c->sq_sent - off : 0);

			v[cnt].base = k->data + skip;
			v[cnt].len = k->len - skip;
			cnt++;
		}
		off = end;
	}
	return cnt;
}

/*
 * Writes one packet into dest (LP_QUIC_MAX_UDP_PAYLOAD bytes): control
 * stream bytes first, then as many queued datagrams as fit. Returns its
 * length, 0 when nothing can be sent now, or a negative ngtcp2 error.
 */
static ngtcp2_ssize write_pkt(struct lp_quic_conn *c, ngtcp2_path_storage *ps, uint8_t *dest,
                              bool *stream_blocked, uint64_t now)
{
	const size_t destlen = LP_QUIC_MAX_UDP_PAYLOAD;

	for (;;) {
		ngtcp2_ssize n;

		if (!*stream_blocked && c->sid >= 0 && !c->sid_dead && c->sq_sent < c->sq_total) {
			ngtcp2_vec v[8];
			ngtcp2_ssize acc = -1;
			size_t cnt = stream_iov(c, v, LP_ARRAY_LEN(v));

			n = ngtcp2_conn_writev_stream(c->q, &ps->path, NULL, dest, destlen, &acc,
			                              NGTCP2_WRITE_STREAM_FLAG_MORE, c->sid, v, cnt,
			                              now);
			if (acc > 0)
				c->sq_sent += (uint64_t)acc;
			if (n == NGTCP2_ERR_WRITE_MORE)
				continue;
			if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED) {
				*stream_blocked = true;
				continue;
			}
			if (n == NGTCP2_ERR_STREAM_SHUT_WR || n == NGTCP2_ERR_STREAM_NOT_FOUND) {
				c->sid_dead = true;
				continue;
			}
			if (n != 0 || acc > 0)
				return n;
			*stream_blocked = true; /* nothing accepted: congestion */
			return 0;
		}
		if (c->dgq.count > 0 && c->state == LP_QUIC_ESTABLISHED) {
			ngtcp2_vec v;
			int accepted = 0;
			size_t len = 0;

			v.base = lp_dgq_peek(&c->dgq, &len, now);
			if (v.base == NULL) /* CoDel dropped what was left */
				return ngtcp2_conn_write_pkt(c->q, &ps->path, NULL, dest, destlen,
				                             now);
			v.len = len;
			/* ngtcp2 keeps a datagram that does not fit a packet
			 * queued forever: drop one the path shrank under. */
			if (v.len > c->budget) {
				lp_dgq_pop(&c->dgq, LP_DGQ_DROP_UNSENDABLE, now);
				continue;
			}
			n = ngtcp2_conn_writev_datagram(c->q, &ps->path, NULL, dest, destlen,
			                                &accepted, NGTCP2_WRITE_DATAGRAM_FLAG_MORE,
			                                c->dg_id, &v, 1, now);
			if (accepted) {
				lp_dgq_pop(&c->dgq, LP_DGQ_SENT, now);
				c->dg_id++;
			}
			if (n == NGTCP2_ERR_WRITE_MORE)
				continue;
			if (n == NGTCP2_ERR_INVALID_ARGUMENT || n == NGTCP2_ERR_INVALID_STATE) {
				/* Too big for the peer, or no DATAGRAM: never sendable. */
				lp_dgq_pop(&c->dgq, LP_DGQ_DROP_UNSENDABLE, now);
				continue;
			}
			return n;
		}
		return ngtcp2_conn_write_pkt(c->q, &ps->path, NULL, dest, destlen, now);
	}
}

ssize_t lp_quic_conn_write(struct lp_quic_conn *c, uint8_t *buf, size_t cap, size_t *gso_size,
                           struct lp_quic_path *path_out, uint64_t now)
{
	ngtcp2_path_storage ps, first;
	size_t off = 0, gso = 0, max_pkts, quantum, pmax;
	bool stream_blocked = false;
	ssize_t ret;

	*gso_size = 0;
	if (c->state == LP_QUIC_CLOSED)
		return LP_ERR_CLOSED;
	if (cap < LP_QUIC_MAX_UDP_PAYLOAD)
		return LP_ERR_NOBUF;
	c->now = now;
	if (lp_quic_close_write(c, buf, gso_size, path_out, now, &ret))
		return ret;

	pmax = ngtcp2_conn_get_path_max_tx_udp_payload_size(c->q);
	quantum = ngtcp2_conn_get_send_quantum(c->q);
	max_pkts = quantum / (pmax ? pmax : 1);
	if (max_pkts < 1)
		max_pkts = 1;
	if (max_pkts > LP_QUIC_MAX_GSO_SEGMENTS)
		max_pkts = LP_QUIC_MAX_GSO_SEGMENTS;
	if (max_pkts > cap / LP_QUIC_MAX_UDP_PAYLOAD)
		max_pkts = cap / LP_QUIC_MAX_UDP_PAYLOAD;

	ngtcp2_path_storage_zero(&first);
	if (c->carry_len > 0) {
		memcpy(buf, c->carry, c->carry_len);
		off = gso = c->carry_len;
		first = c->carry_ps;
		first.path.local.addr = (ngtcp2_sockaddr *)&first.local_addrbuf;
		first.path.remote.addr = (ngtcp2_sockaddr *)&first.remote_addrbuf;
		c->carry_len = 0;
		/* Carries are rare (a PMTUD probe, a path change): an idle
		 * connection keeps no 1452-byte buffer for them. */
		free(c->carry);
		c->carry = NULL;
	}
	for (size_t npkts = off > 0 ? 1 : 0; npkts < max_pkts;) {
		ngtcp2_ssize n;

		ngtcp2_path_storage_zero(&ps);
		n = write_pkt(c, &ps, buf + off, &stream_blocked, now);
		if (n < 0) {
			if (off > 0)
				break; /* send what we have; the error repeats next time */
			(void)lp_quic_close_fatal(c, (int)n, now, true);
			ret = lp_quic_close_write_now(c, buf, path_out, now);
			*gso_size = (size_t)ret;
			lp_quic_conn_reschedule(c);
			return ret;
		}
		if (n == 0)
			break;
		if (gso == 0) {
			gso = (size_t)n;
			first = ps;
			first.path.local.addr = (ngtcp2_sockaddr *)&first.local_addrbuf;
			first.path.remote.addr = (ngtcp2_sockaddr *)&first.remote_addrbuf;
			off = (size_t)n;
			npkts = 1;
			continue;
		}
		if ((size_t)n > gso || !ngtcp2_path_eq(&ps.path, &first.path)) {
			/* Cannot join this GSO batch: it leads the next one
			 * (without memory it is lost, and recovered as such). */
			c->carry = malloc(LP_QUIC_MAX_UDP_PAYLOAD);
			if (c->carry != NULL) {
				memcpy(c->carry, buf + off, (size_t)n);
				c->carry_len = (size_t)n;
				c->carry_ps = ps;
			}
			break;
		}
		off += (size_t)n;
		npkts++;
		if ((size_t)n < gso)
			break; /* a shorter packet must be the batch's last */
	}
	if (c->dgq.count == 0)
		lp_dgq_trim(&c->dgq, now); /* an idle connection holds no queue */
	if (off > 0) {
		ngtcp2_conn_update_pkt_tx_time(c->q, now);
		lp_quic_path_from_ngtcp2(path_out, &first.path);
		*gso_size = gso;
	}
	lp_quic_conn_reschedule(c);
	return (ssize_t)off;
}
