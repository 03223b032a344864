/*
 * relayd.h - the running relay: one UDP socket, one QUIC server, the room
 * engine, on one lib/evloop loop. main.c parses flags and fills the config;
 * everything after that lives here.
 */
#ifndef LP_RELAYD_H
#define LP_RELAYD_H

#include <stdbool.h>
#include <stdint.h>

#include "lp_base.h"
#include "lp_loop.h"
#include "lp_net.h"
#include "lp_quic.h"
#include "room.h"

struct relayd_cfg {
	struct sockaddr_storage listen;
	struct lp_quic_server_cfg quic;
	struct lp_relay_cfg engine;
	bool metrics_enabled;
	struct sockaddr_storage metrics_listen;
	uint64_t status_interval_ns; /* 0: no periodic status line */
	uint64_t pmtud_wait_ns;      /* how long a hello may wait for our PMTUD */
	uint32_t rooms_per_source;   /* rooms one address (/32, /64) may open; 0: 16 */
	uint64_t hello_timeout_ns;   /* hello due this long after the handshake; 0: 3 s */
	const char *pcap_path;       /* --pcap: capture forwarded frames here; NULL: none */
	uint64_t pcap_max_bytes;     /* the capture file's size limit */
	uint32_t test_tamper; /* --test-tamper N: every Nth datagram sent is attacked; 0: off */
};

struct relayd;

/* Binds the sockets and creates the QUIC context (generating or loading the
 * certificate). Errors are logged; returns LP_ERR_*. */
int relayd_new(const struct relayd_cfg *cfg, struct lp_loop *loop, const struct lp_logger *log,
               struct relayd **out) LP_WUR;
/* SIGHUP: reload the PEM certificate and key; rooms stay. */
void relayd_reload(struct relayd *d);
/* The pin of the relay's current certificate (SHA-256 of its key). */
int relayd_cert_pin(const struct relayd *d, uint8_t pin[LP_QUIC_PIN_LEN]) LP_WUR;
/* SIGUSR1: the room snapshot into the log. */
void relayd_log_snapshot(struct relayd *d);
/* Graceful stop: close every connection, flush, then stop the loop (bounded). */
void relayd_shutdown(struct relayd *d);
void relayd_del(struct relayd *d);

#endif /* LP_RELAYD_H */
