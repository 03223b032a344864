/* harness.c - see harness.h. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RX_BUF 65536

void h_fill(uint8_t *buf, size_t len, uint32_t seq)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq * 7 + i);
	if (len >= 4)
		lp_put_u32(buf, seq);
}

static bool h_check(const uint8_t *buf, size_t len)
{
	uint32_t seq;

	if (len < 4)
		return true;
	seq = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	for (size_t i = 4; i < len; i++)
		if (buf[i] != (uint8_t)(seq * 7 + i))
			return false;
	return true;
}

const char *h_tmpdir(void)
{
	static char dir[64];

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/lp_quic_test.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
	}
	return dir;
}

/* ---- connection callbacks (shared by both sides) -------------------------- */

static void cb_established(struct lp_quic_conn *c, void *user)
{
	struct h_peer *p = user;

	(void)c;
	p->established = true;
}

static void cb_stream(struct lp_quic_conn *c, const uint8_t *data, size_t len, bool fin, void *user)
{
	struct h_peer *p = user;

	(void)fin;
	if (p->stream_len + len <= H_STREAM_MAX) {
		memcpy(p->stream + p->stream_len, data, len);
		p->stream_len += len;
	}
	if (p->echo_stream && lp_quic_conn_stream_send(c, data, len) != 0)
		abort();
}

static void cb_datagram(struct lp_quic_conn *c, const uint8_t *data, size_t len, void *user)
{
	struct h_peer *p = user;

	(void)c;
	p->dgrams++;
	p->dgram_bytes += len;
	if (!h_check(data, len))
		p->dgram_bad++;
}

static void cb_closed(struct lp_quic_conn *c, int err, uint64_t code, const char *reason,
                      void *user)
{
	struct h_peer *p = user;

	(void)c;
	p->closed = true;
	p->closed_err = err;
	p->closed_code = code;
	snprintf(p->closed_reason, sizeof(p->closed_reason), "%s", reason ? reason : "");
}

static const struct lp_quic_conn_cbs peer_cbs = {
	.established = cb_established,
	.stream_data = cb_stream,
	.datagram = cb_datagram,
	.closed = cb_closed,
};

static int srv_accept(struct lp_quic_server *s, struct lp_quic_conn *c, void *user)
{
	struct h_env *e = user;
	struct h_peer *p;

	(void)s;
	if (e->s.refuse_all || e->s.npeers == H_MAX_CLIENTS)
		return -1;
	p = &e->s.peers[e->s.npeers++];
	p->c = c;
	lp_quic_conn_set_user(c, &peer_cbs, p);
	return 0;
}

static const struct lp_quic_server_cbs srv_cbs = { .accept = srv_accept };

/* ---- I/O -------------------------------------------------------------------- */

static void send_all(struct h_env *e, struct lp_udp *u, struct lp_quic_conn *c)
{
	for (;;) {
		struct lp_quic_path path;
		size_t gso = 0;
		ssize_t n = lp_quic_conn_write(c, e->txbuf, LP_QUIC_WRITE_BUF_MIN, &gso, &path,
		                               lp_now_ns());

		if (n <= 0)
			break;
		e->sent_pkts += gso ? ((size_t)n + gso - 1) / gso : 1;
		if (e->capture && u == e->cl[0].udp) {
			size_t k = e->ncap++ % 16, len = gso && gso < (size_t)n ? gso : (size_t)n;

			memcpy(e->cap_pkt[k], e->txbuf, len);
			e->cap_len[k] = len;
		}
		/* LP_ERR_AGAIN: dropped, QUIC recovers. */
		(void)!lp_udp_send(u, &path, e->txbuf, (size_t)n, gso);
	}
}

static void srv_write_one(struct lp_quic_conn *c, void *arg)
{
	struct h_env *e = arg;

	send_all(e, e->s.udp, c);
}

static size_t recv_batch(struct h_env *e, struct lp_udp *u, struct lp_udp_rx *rx)
{
	int n;

	for (size_t i = 0; i < LP_ARRAY_LEN(e->rxbuf); i++) {
		rx[i].data = e->rxbuf[i];
		rx[i].cap = RX_BUF;
	}
	n = lp_udp_recv(u, rx, LP_ARRAY_LEN(e->rxbuf));
	return n > 0 ? (size_t)n : 0;
}

static void on_server_fd(struct lp_loop *l, intptr_t fd, unsigned ev, void *arg)
{
	struct h_env *e = arg;
	struct lp_udp_rx rx[32];
	size_t n;

	(void)l;
	(void)fd;
	(void)ev;
	if (e->s.paused) {
		/* Drain and discard: the server is "dead". */
		recv_batch(e, e->s.udp, rx);
		return;
	}
	while ((n = recv_batch(e, e->s.udp, rx)) > 0) {
		for (size_t i = 0; i < n; i++) {
			size_t seg = rx[i].segment_size ? rx[i].segment_size : rx[i].len;

			for (size_t off = 0; off < rx[i].len; off += seg) {
				size_t len = rx[i].len - off < seg ? rx[i].len - off : seg;

				if (lp_quic_server_read(e->s.srv, &rx[i].path, rx[i].data + off,
				                        len, lp_now_ns(), NULL) != 0)
					abort();
			}
		}
	}
}

static void on_client_fd(struct lp_loop *l, intptr_t fd, unsigned ev, void *arg)
{
	struct h_client *cl = arg;
	struct h_env *e = cl->env;
	struct lp_udp_rx rx[32];
	size_t n;

	(void)l;
	(void)fd;
	(void)ev;
	while ((n = recv_batch(e, cl->udp, rx)) > 0) {
		for (size_t i = 0; i < n; i++) {
			size_t seg = rx[i].segment_size ? rx[i].segment_size : rx[i].len;

			for (size_t off = 0; off < rx[i].len; off += seg) {
				size_t len = rx[i].len - off < seg ? rx[i].len - off : seg;

				if (cl->p.c != NULL)
					(void)!lp_quic_conn_read(cl->p.c, &rx[i].path,
					                         rx[i].data + off, len,
					                         lp_now_ns());
			}
		}
	}
}

static void on_timer(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	(void)l;
	(void)t;
	(void)arg;
	/* Timers are handled in h_pump after every iteration. */
}

void h_flush(struct h_env *e)
{
	uint64_t now = lp_now_ns();

	if (e->s.srv != NULL) {
		if (lp_quic_server_expiry(e->s.srv) <= now)
			lp_quic_server_handle_expiry(e->s.srv, now);
		lp_quic_server_foreach_pending(e->s.srv, srv_write_one, e);
	}
	for (int i = 0; i < H_MAX_CLIENTS; i++) {
		struct h_client *cl = &e->cl[i];

		if (!cl->used || cl->p.c == NULL)
			continue;
		if (lp_quic_conn_expiry(cl->p.c) <= now)
			(void)!lp_quic_conn_handle_expiry(cl->p.c, now);
		send_all(e, cl->udp, cl->p.c);
	}
}

static uint64_t next_deadline(struct h_env *e)
{
	uint64_t d = UINT64_MAX;

	if (e->s.srv != NULL)
		d = lp_quic_server_expiry(e->s.srv);
	for (int i = 0; i < H_MAX_CLIENTS; i++) {
		struct h_client *cl = &e->cl[i];

		if (cl->used && cl->p.c != NULL) {
			uint64_t x = lp_quic_conn_expiry(cl->p.c);

			if (x < d)
				d = x;
		}
	}
	return d;
}

bool h_pump(struct h_env *e, uint64_t timeout_ns, bool (*cond)(struct h_env *e, void *arg),
            void *arg)
{
	uint64_t end = lp_now_ns() + timeout_ns;

	for (;;) {
		uint64_t now, d;

		h_flush(e);
		if (cond != NULL && cond(e, arg))
			return true;
		now = lp_now_ns();
		if (now >= end)
			return cond == NULL;
		d = next_deadline(e);
		if (d > end)
			d = end;
		if (lp_loop_timer_arm(e->loop, &e->timer, d) != 0)
			abort();
		if (lp_loop_run_once(e->loop, UINT64_MAX) < 0)
			abort();
	}
}

/* ---- setup ------------------------------------------------------------------ */

void h_env_init(struct h_env *e)
{
	memset(e, 0, sizeof(*e));
	if (lp_loop_new(&e->loop) != 0)
		abort();
	lp_loop_timer_init(&e->timer, on_timer, e);
	for (size_t i = 0; i < LP_ARRAY_LEN(e->rxbuf); i++)
		e->rxbuf[i] = malloc(RX_BUF);
	e->txbuf = malloc(LP_QUIC_WRITE_BUF_MIN);
	for (int i = 0; i < H_MAX_CLIENTS; i++) {
		e->cl[i].env = e;
		e->s.peers[i].stream = calloc(1, H_STREAM_MAX);
	}
}

static void peer_reset(struct h_peer *p)
{
	uint8_t *keep = p->stream;

	memset(p, 0, sizeof(*p));
	p->stream = keep;
}

int h_server_start(struct h_env *e, const struct lp_quic_server_cfg *cfg)
{
	struct sockaddr_in a;
	int rv;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rv = lp_quic_ctx_new_server(cfg, NULL, &e->s.ctx);
	if (rv != 0)
		return rv;
	rv = lp_quic_server_new(e->s.ctx, &srv_cbs, e, &e->s.srv);
	if (rv == 0)
		rv = lp_udp_open((struct sockaddr *)&a, &e->s.udp);
	if (rv == 0)
		rv = lp_udp_local(e->s.udp, &e->s.addr);
	if (rv == 0)
		rv = lp_loop_watch(e->loop, (int)lp_udp_fd(e->s.udp), LP_LOOP_READ, on_server_fd,
		                   e);
	for (int i = 0; i < H_MAX_CLIENTS; i++)
		peer_reset(&e->s.peers[i]);
	e->s.npeers = 0;
	return rv;
}

int h_client_start(struct h_env *e, int i, const struct lp_quic_client_cfg *cfg)
{
	struct h_client *cl = &e->cl[i];
	struct lp_quic_path path;
	struct sockaddr_in a;
	int rv;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (cl->p.stream == NULL)
		cl->p.stream = calloc(1, H_STREAM_MAX);
	peer_reset(&cl->p);
	rv = lp_quic_ctx_new_client(cfg, NULL, &cl->ctx);
	if (rv != 0)
		return rv;
	rv = lp_udp_open((struct sockaddr *)&a, &cl->udp);
	if (rv != 0)
		return rv;
	memset(&path, 0, sizeof(path));
	if (lp_udp_local(cl->udp, &path.local) != 0)
		return LP_ERR_IO;
	path.remote = e->s.addr;
	rv = lp_quic_conn_connect(cl->ctx, &path, &peer_cbs, &cl->p, lp_now_ns(), &cl->p.c);
	if (rv != 0)
		return rv;
	cl->used = true;
	return lp_loop_watch(e->loop, (int)lp_udp_fd(cl->udp), LP_LOOP_READ, on_client_fd, cl);
}

void h_client_stop(struct h_env *e, int i)
{
	struct h_client *cl = &e->cl[i];

	if (cl->udp != NULL) {
		lp_loop_unwatch(e->loop, (int)lp_udp_fd(cl->udp));
		lp_udp_close(cl->udp);
	}
	lp_quic_conn_del(cl->p.c);
	lp_quic_ctx_del(cl->ctx);
	cl->udp = NULL;
	cl->p.c = NULL;
	cl->ctx = NULL;
	cl->used = false;
}

void h_env_free(struct h_env *e)
{
	for (int i = 0; i < H_MAX_CLIENTS; i++) {
		h_client_stop(e, i);
		free(e->cl[i].p.stream);
		free(e->s.peers[i].stream);
	}
	if (e->s.udp != NULL) {
		lp_loop_unwatch(e->loop, (int)lp_udp_fd(e->s.udp));
		lp_udp_close(e->s.udp);
	}
	lp_quic_server_del(e->s.srv);
	lp_quic_ctx_del(e->s.ctx);
	for (size_t i = 0; i < LP_ARRAY_LEN(e->rxbuf); i++)
		free(e->rxbuf[i]);
	free(e->txbuf);
	lp_loop_timer_cancel(e->loop, &e->timer);
	lp_loop_del(e->loop);
}
