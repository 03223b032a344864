/*
 * fuzz/quic_server.c - arbitrary UDP payloads at a QUIC server.
 *
 * Input: a sequence of packets, each a 2-byte big-endian length and its
 * bytes. Every packet goes through lp_quic_server_read from one of two
 * client addresses, then the server writes whatever it wants to send and
 * runs its timers with a clock advanced by a few milliseconds. Debian
 * builds ngtcp2 with assertions on: any abort here is a remote crash of
 * the relay. With more than two handshakes in progress, Initials are
 * answered with Retry packets (drained and dropped here).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lp_quic.h"

static struct lp_quic_ctx *ctx;
static struct lp_quic_server *srv;
static uint8_t *wbuf;

static void write_all(struct lp_quic_conn *c, void *arg)
{
	uint64_t now = *(uint64_t *)arg;

	for (int i = 0; i < 64; i++) {
		struct lp_quic_path p;
		size_t gso;

		if (lp_quic_conn_write(c, wbuf, LP_QUIC_WRITE_BUF_MIN, &gso, &p, now) <= 0)
			break;
	}
}

static int setup(void)
{
	struct lp_quic_server_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.max_connections = 64;
	/* Past two handshakes in progress Initials get a Retry: the fuzzer
	 * reaches the Retry writer and the token check (tokens it makes up
	 * fail verification). */
	cfg.retry_pending = 2;
	if (lp_quic_ctx_new_server(&cfg, NULL, &ctx) != 0)
		return -1;
	wbuf = malloc(LP_QUIC_WRITE_BUF_MIN);
	return wbuf != NULL ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t now = 1000000000;
	struct lp_quic_path path;
	struct lp_buf b;

	if (ctx == NULL && setup() != 0)
		abort();
	if (lp_quic_server_new(ctx, NULL, NULL, &srv) != 0)
		abort();
	memset(&path, 0, sizeof(path));
	{
		struct sockaddr_in *l = (struct sockaddr_in *)&path.local;
		struct sockaddr_in *r = (struct sockaddr_in *)&path.remote;

		l->sin_family = r->sin_family = AF_INET;
		l->sin_addr.s_addr = htonl(0x7f000001);
		r->sin_addr.s_addr = htonl(0x7f000002);
		l->sin_port = htons(4433);
		r->sin_port = htons(50000);
	}
	lp_buf_init(&b, data, size);
	while (lp_buf_left(&b) >= 2) {
		size_t len = lp_buf_u16(&b);
		const uint8_t *pkt;

		if (len > lp_buf_left(&b))
			len = lp_buf_left(&b);
		lp_buf_bytes(&b, &pkt, len);
		if (pkt == NULL)
			break;
		/* Odd lengths come from a second source port: packets from
		 * another address exercise path handling. */
		((struct sockaddr_in *)&path.remote)->sin_port = htons(len & 1 ? 50001 : 50000);
		if (lp_quic_server_read(srv, &path, pkt, len, now, NULL) != 0)
			break;
		{
			struct lp_quic_path out;

			while (lp_quic_server_stateless_pop(srv, wbuf, LP_QUIC_WRITE_BUF_MIN,
			                                    &out) > 0)
				;
		}
		lp_quic_server_foreach_pending(srv, write_all, &now);
		now += 3 * LP_NS_PER_MS;
		lp_quic_server_handle_expiry(srv, now);
	}
	/* Run the clock far ahead: idle and handshake timers fire. */
	now += 60 * LP_NS_PER_SEC;
	lp_quic_server_handle_expiry(srv, now);
	lp_quic_server_foreach_pending(srv, write_all, &now);
	lp_quic_server_del(srv);
	srv = NULL;
	return 0;
}
