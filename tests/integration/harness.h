/*
 * harness.h - QUIC test harness: a server and clients on real UDP sockets
 * of 127.0.0.1, driven by lib/evloop in one process.
 */
#ifndef LP_TEST_HARNESS_H
#define LP_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lp_loop.h"
#include "lp_quic.h"

#define H_MAX_CLIENTS 64
#define H_STREAM_MAX (256 * 1024)

/* What one side of a connection saw. */
struct h_peer {
	struct lp_quic_conn *c;
	bool established;
	bool closed;
	int closed_err;
	uint64_t closed_code;
	char closed_reason[128];
	uint64_t dgrams;
	uint64_t dgram_bytes;
	size_t dgram_bad; /* content check failures */
	uint8_t *stream;  /* H_STREAM_MAX bytes */
	size_t stream_len;
	bool echo_stream;
};

struct h_server {
	struct lp_quic_ctx *ctx;
	struct lp_quic_server *srv;
	struct lp_udp *udp;
	struct sockaddr_storage addr;
	struct h_peer peers[H_MAX_CLIENTS];
	size_t npeers;
	bool paused;     /* stop reading the socket (simulates a dead server) */
	bool refuse_all; /* accept callback refuses */
};

struct h_env;

struct h_client {
	struct h_env *env;
	struct lp_quic_ctx *ctx;
	struct lp_udp *udp;
	struct h_peer p;
	bool used;
};

struct h_env {
	struct lp_loop *loop;
	struct lp_loop_timer timer;
	struct h_server s;
	struct h_client cl[H_MAX_CLIENTS];
	uint8_t *rxbuf[32];
	uint8_t *txbuf;
	uint64_t sent_pkts;
	/* Copies of the first packet of each of client 0's sends (garbage test). */
	bool capture;
	uint8_t cap_pkt[16][1500];
	size_t cap_len[16];
	size_t ncap;
};

void h_env_init(struct h_env *e);
void h_env_free(struct h_env *e);
/* Server on 127.0.0.1:0 with cfg. Returns 0 or the lp error. */
int h_server_start(struct h_env *e, const struct lp_quic_server_cfg *cfg);
/* Client i connecting to the server. Returns 0 or the lp error. */
int h_client_start(struct h_env *e, int i, const struct lp_quic_client_cfg *cfg);
void h_client_stop(struct h_env *e, int i);
/* Runs the loop until cond(arg) or timeout; returns cond's last value. */
bool h_pump(struct h_env *e, uint64_t timeout_ns, bool (*cond)(struct h_env *e, void *arg),
            void *arg);
/* Writes and sends everything pending on every connection now. */
void h_flush(struct h_env *e);
/* Fill/check a datagram's content from its sequence number. */
void h_fill(uint8_t *buf, size_t len, uint32_t seq);
/* A per-process temporary directory (created once). */
const char *h_tmpdir(void);

#endif
