/*
 * test_quic_client_wine.c - the Windows build's QUIC client stack
 * (lib/quic with wolfSSL + Winsock UDP), run under Wine or on Windows.
 *
 * Without arguments (meson test, suite wine): checks that need no peer:
 * the wolfSSL backend's configuration errors, and the Winsock UDP backend
 * (segmented sends, would-block, truncation, dual-stack "::").
 *
 * With arguments, also the interoperability proof against a real Linux
 * relay (scripts/windows.sh starts lanparty-relay and passes its address):
 *   test_quic_client_wine HOST PORT PIN.der SCRATCH_DIR [CA.pem CA_PORT]
 *  - a wrong pin fails the handshake with LP_ERR_CERT;
 *  - two clients with the right pin complete the handshake (ALPN checked
 *    by lib/quic before "established"), send a hello through lib/ctrl and
 *    get a welcome; the first sees the second join (peer_joined);
 *  - a broadcast Ethernet frame from A reaches B as a QUIC DATAGRAM and a
 *    unicast frame from B reaches A, both through the relay;
 *  - a private room through the Windows stack: pinned by the relay's key
 *    alone (no name, no certificate file), the TLS exporter wolfSSL
 *    computes signed with lib/room's wolfSSL Ed25519 (admission and host
 *    proofs) is what the Linux relay (GnuTLS, nettle) verifies: admitted as
 *    the gateway; the same hello on another connection gets not_admitted;
 *    a key pin one bit off fails the handshake;
 *  - with CA.pem / CA_PORT (a relay with a CA-signed certificate for
 *    "localhost"): the CA file plus name check admits "localhost" and
 *    refuses "wrong.example" with LP_ERR_CERT.
 *
 * Plain C with its own CHECK so it needs no cmocka for the Windows host.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lp_base.h"
#include "lp_ctrl.h"
#include "lp_proto.h"
#include "lp_quic.h"
#include "lp_room.h"
#include "tls.h" /* lp_tls_random: the backend under test */

static int failures;
static int checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#define CHECK_RC(expr, want)                                                                       \
	do {                                                                                       \
		int rc_ = (int)(expr);                                                             \
		checks++;                                                                          \
		if (rc_ != (want)) {                                                               \
			fprintf(stderr, "%s:%d: %s = %d (%s), want %d (%s)\n", __FILE__, __LINE__, \
			        #expr, rc_, lp_strerror(rc_), (want), lp_strerror(want));          \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* ---- captured log ---------------------------------------------------------- */

static char logtext[16384];
static size_t loglen;

LP_PRINTF(3, 0)
static void log_capture(void *user, enum lp_log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	(void)user;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if (level <= LP_LOG_INFO)
		fprintf(stderr, "  [log] %s\n", line);
	n = snprintf(logtext + loglen, sizeof(logtext) - loglen, "%s\n", line);
	if (n > 0 && (size_t)n < sizeof(logtext) - loglen)
		loglen += (size_t)n;
}

static const struct lp_logger logger = { log_capture, NULL, LP_LOG_DEBUG };

static void log_reset(void)
{
	loglen = 0;
	logtext[0] = '\0';
}

static bool log_has(const char *s)
{
	return strstr(logtext, s) != NULL;
}

/* ---- no peer needed ------------------------------------------------------- */

static void test_config_errors(void)
{
	struct lp_quic_client_cfg cc;
	struct lp_quic_server_cfg sc;
	struct lp_quic_ctx *ctx = (struct lp_quic_ctx *)&cc; /* must be reset to NULL */
	uint8_t rnd[64];

	memset(&cc, 0, sizeof(cc));
	cc.server_name = "relay.example.org";
	log_reset();
	CHECK_RC(lp_quic_ctx_new_client(&cc, &logger, &ctx), LP_ERR_UNSUPPORTED);
	CHECK(ctx == NULL);
	CHECK(log_has("--relay-ca-cert") && log_has("--ca-file"));

	cc.server_name = NULL; /* neither a name nor a pin */
	CHECK_RC(lp_quic_ctx_new_client(&cc, &logger, &ctx), LP_ERR_INVAL);

	cc.server_name = "relay.example.org";
	cc.pin_der_file = "no-such-dir\\relay-cert.der";
	log_reset();
	CHECK_RC(lp_quic_ctx_new_client(&cc, &logger, &ctx), LP_ERR_IO);
	CHECK(log_has("no-such-dir\\relay-cert.der"));

	cc.pin_der_file = NULL;
	cc.ca_file = "no-such-dir\\ca.pem";
	CHECK_RC(lp_quic_ctx_new_client(&cc, &logger, &ctx), LP_ERR_IO);

	memset(&sc, 0, sizeof(sc));
	log_reset();
	CHECK_RC(lp_quic_ctx_new_server(&sc, &logger, &ctx), LP_ERR_UNSUPPORTED);
	CHECK(ctx == NULL);
	CHECK(log_has("client-only"));

	/* Two draws of the CID source must differ (wolfSSL's RNG is seeded
	 * from the OS, not a constant). */
	memset(rnd, 0, sizeof(rnd));
	CHECK_RC(lp_tls_random(rnd, 32), 0);
	CHECK_RC(lp_tls_random(rnd + 32, 32), 0);
	CHECK(memcmp(rnd, rnd + 32, 32) != 0);
}

static void loopback(struct sockaddr_storage *ss, int family, uint16_t port_be)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_loopback;
		a6->sin6_port = port_be;
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a4->sin_port = port_be;
	}
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
	                                 : ((const struct sockaddr_in *)ss)->sin_port;
}

/* Receives until n datagrams arrived or 2 s passed. */
static int recv_n(struct lp_udp *u, struct lp_udp_rx *rx, size_t n)
{
	uint64_t end = lp_now_ns() + 2 * LP_NS_PER_SEC;
	size_t got = 0;

	while (got < n && lp_now_ns() < end) {
		int r = lp_udp_recv(u, rx + got, n - got);

		if (r < 0)
			return r;
		got += (size_t)r;
		if (r == 0)
			Sleep(5);
	}
	return (int)got;
}

static void test_udp(void)
{
	struct sockaddr_storage any4, any6, l_a, l_b, l_c;
	struct lp_udp *a = NULL, *b = NULL, *c = NULL, *bad = NULL;
	struct lp_udp_rx rx[4];
	struct lp_quic_path path;
	static uint8_t bufs[4][2048];
	uint8_t msg[250];
	struct sockaddr fam;

	memset(&fam, 0, sizeof(fam));
	fam.sa_family = AF_UNIX;
	CHECK_RC(lp_udp_open(&fam, &bad), LP_ERR_INVAL);
	CHECK(bad == NULL);

	loopback(&any4, AF_INET, 0);
	CHECK_RC(lp_udp_open((struct sockaddr *)&any4, &a), 0);
	CHECK_RC(lp_udp_open((struct sockaddr *)&any4, &b), 0);
	memset(&any6, 0, sizeof(any6));
	any6.ss_family = AF_INET6; /* "::": dual-stack */
	CHECK_RC(lp_udp_open((struct sockaddr *)&any6, &c), 0);
	if (a == NULL || b == NULL || c == NULL)
		goto out;
	CHECK((SOCKET)lp_udp_fd(a) != INVALID_SOCKET);
	CHECK_RC(lp_udp_local(a, &l_a), 0);
	CHECK_RC(lp_udp_local(b, &l_b), 0);
	CHECK_RC(lp_udp_local(c, &l_c), 0);
	CHECK(port_of(&l_a) != 0 && port_of(&l_b) != 0 && port_of(&l_c) != 0);

	for (size_t i = 0; i < 4; i++) {
		memset(&rx[i], 0, sizeof(rx[i]));
		rx[i].data = bufs[i];
		rx[i].cap = sizeof(bufs[i]);
	}
	CHECK_RC(lp_udp_recv(b, rx, 4), 0); /* nothing yet: would block */

	/* 250 bytes with segments of 100: three datagrams 100/100/50. */
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	memset(&path, 0, sizeof(path));
	path.remote = l_b;
	CHECK_RC(lp_udp_send(a, &path, msg, sizeof(msg), 100), 0);
	CHECK_RC(recv_n(b, rx, 3), 3);
	CHECK(rx[0].len == 100 && rx[1].len == 100 && rx[2].len == 50);
	CHECK(memcmp(rx[0].data, msg, 100) == 0 && memcmp(rx[1].data, msg + 100, 100) == 0 &&
	      memcmp(rx[2].data, msg + 200, 50) == 0);
	CHECK(rx[0].segment_size == 0);
	CHECK(port_of(&rx[0].path.remote) == port_of(&l_a));
	CHECK(port_of(&rx[0].path.local) == port_of(&l_b));

	/* A datagram larger than the buffer is dropped and counted. */
	rx[0].cap = 50;
	CHECK_RC(lp_udp_send(a, &path, msg, 200, 0), 0);
	CHECK_RC(lp_udp_send(a, &path, msg, 20, 0), 0);
	CHECK_RC(recv_n(b, rx, 1), 1);
	CHECK(rx[0].len == 20);
	CHECK(lp_udp_truncated(b) == 1);
	rx[0].cap = sizeof(bufs[0]);

	/* IPv4 sender to the dual-stack socket, and the reply to the
	 * (v4-mapped) address it reported. */
	loopback(&path.remote, AF_INET, port_of(&l_c));
	CHECK_RC(lp_udp_send(a, &path, msg, 33, 0), 0);
	CHECK_RC(recv_n(c, rx, 1), 1);
	CHECK(rx[0].len == 33);
	path.remote = rx[0].path.remote;
	CHECK_RC(lp_udp_send(c, &path, msg, 44, 0), 0);
	CHECK_RC(recv_n(a, rx + 1, 1), 1);
	CHECK(rx[1].len == 44);
	/* A plain IPv4 destination on the dual-stack socket. */
	loopback(&path.remote, AF_INET, port_of(&l_b));
	CHECK_RC(lp_udp_send(c, &path, msg, 55, 0), 0);
	CHECK_RC(recv_n(b, rx, 1), 1);
	CHECK(rx[0].len == 55);
out:
	lp_udp_close(a);
	lp_udp_close(b);
	lp_udp_close(c);
	lp_udp_close(NULL);
}

/* ---- against the Linux relay --------------------------------------------- */

#define ROOM "wine"
#define MARK_A "from-a-broadcast"
#define MARK_B "from-b-unicast"
#define ETHERTYPE_TEST 0x88b5 /* IEEE local experimental */

struct peer {
	const char *name;
	struct lp_quic_ctx *ctx;
	struct lp_udp *udp;
	struct lp_quic_conn *conn;
	struct lp_mac mac;
	struct lp_ctrl_decoder dec;
	bool established, closed, hello_sent;
	int close_err;
	int ctrl_err;
	struct lp_ctrl_msg welcome;
	bool welcomed;
	enum lp_reject_reason reject_reason;
	uint32_t joined_id; /* last peer_joined */
	uint8_t dgram[2048];
	size_t dgram_len;
	unsigned dgrams;
};

static void on_established(struct lp_quic_conn *c, void *user)
{
	struct peer *p = user;

	(void)c;
	p->established = true;
}

static void on_stream(struct lp_quic_conn *c, const uint8_t *data, size_t len, bool fin, void *user)
{
	struct peer *p = user;

	(void)c;
	(void)fin;
	while (len > 0 && p->ctrl_err == 0) {
		struct lp_ctrl_msg m;
		ssize_t n = lp_ctrl_decoder_feed(&p->dec, data, len, &m);

		if (n < 0) {
			p->ctrl_err = (int)n;
			return;
		}
		data += n;
		len -= (size_t)n;
		if (m.type == LP_CTRL_WELCOME) {
			p->welcome = m;
			p->welcomed = true;
		} else if (m.type == LP_CTRL_PEER_JOINED) {
			p->joined_id = m.u.peer.peer_id;
		} else if (m.type == LP_CTRL_REJECT) {
			fprintf(stderr, "%s: rejected: %s %s\n", p->name,
			        lp_ctrl_reject_name(m.u.reject.reason), m.u.reject.message);
			p->ctrl_err = LP_ERR_REJECTED;
			p->reject_reason = m.u.reject.reason;
		}
	}
}

static void on_datagram(struct lp_quic_conn *c, const uint8_t *data, size_t len, void *user)
{
	struct peer *p = user;

	(void)c;
	if (len <= sizeof(p->dgram)) {
		memcpy(p->dgram, data, len);
		p->dgram_len = len;
		p->dgrams++;
	}
}

static void on_closed(struct lp_quic_conn *c, int err, uint64_t app_code, const char *reason,
                      void *user)
{
	struct peer *p = user;

	(void)c;
	(void)app_code;
	(void)reason;
	p->closed = true;
	p->close_err = err;
}

static const struct lp_quic_conn_cbs cbs = { on_established, on_stream, on_datagram, on_closed };

static int peer_start(struct peer *p, const char *name, const struct sockaddr_storage *relay,
                      const struct lp_quic_client_cfg *cfg)
{
	struct sockaddr_storage any;
	struct lp_quic_path path;
	int rv;

	memset(p, 0, sizeof(*p));
	p->name = name;
	lp_ctrl_decoder_init(&p->dec);
	rv = lp_proto_mac_random(&p->mac);
	if (rv == 0)
		rv = lp_quic_ctx_new_client(cfg, &logger, &p->ctx);
	memset(&any, 0, sizeof(any));
	any.ss_family = AF_INET;
	if (rv == 0)
		rv = lp_udp_open((struct sockaddr *)&any, &p->udp);
	memset(&path, 0, sizeof(path));
	if (rv == 0)
		rv = lp_udp_local(p->udp, &path.local);
	path.remote = *relay;
	if (rv == 0)
		rv = lp_quic_conn_connect(p->ctx, &path, &cbs, p, lp_now_ns(), &p->conn);
	return rv;
}

static void peer_free(struct peer *p)
{
	lp_quic_conn_del(p->conn);
	lp_udp_close(p->udp);
	lp_quic_ctx_del(p->ctx);
	memset(p, 0, sizeof(*p));
}

static void flush(struct peer *p, uint64_t now)
{
	static uint8_t buf[LP_QUIC_WRITE_BUF_MIN];

	for (;;) {
		struct lp_quic_path path;
		size_t gso = 0;
		ssize_t n;

		if (p->conn == NULL || p->closed)
			return;
		n = lp_quic_conn_write(p->conn, buf, sizeof(buf), &gso, &path, now);
		if (n <= 0)
			return;
		/* LP_ERR_AGAIN drops packets; QUIC recovers them. */
		if (lp_udp_send(p->udp, &path, buf, (size_t)n, gso) == LP_ERR_IO)
			fprintf(stderr, "%s: send failed: %d\n", p->name, WSAGetLastError());
	}
}

/* Runs the peers' I/O until done(arg) or timeout_ms. */
static bool pump(struct peer **ps, size_t n, bool (*done)(void *), void *arg, unsigned timeout_ms)
{
	static uint8_t bufs[8][2048];
	uint64_t end = lp_now_ns() + timeout_ms * LP_NS_PER_MS;

	for (;;) {
		uint64_t now = lp_now_ns(), next = end;
		fd_set rfds;
		struct timeval tv;

		for (size_t i = 0; i < n; i++) {
			if (ps[i]->conn != NULL && !ps[i]->closed &&
			    lp_quic_conn_expiry(ps[i]->conn) <= now)
				if (lp_quic_conn_handle_expiry(ps[i]->conn, now) != 0)
					continue; /* closed: the callback recorded it */
			flush(ps[i], now);
		}
		if (done(arg))
			return true;
		if (now >= end)
			return false;
		FD_ZERO(&rfds);
		for (size_t i = 0; i < n; i++) {
			uint64_t e = ps[i]->conn != NULL ? lp_quic_conn_expiry(ps[i]->conn) : next;

			if (e < next)
				next = e;
			FD_SET((SOCKET)lp_udp_fd(ps[i]->udp), &rfds);
		}
		next = next > now ? next - now : 0;
		tv.tv_sec = (long)(next / LP_NS_PER_SEC);
		tv.tv_usec = (long)(next % LP_NS_PER_SEC / 1000);
		(void)select(0, &rfds, NULL, NULL, &tv);
		now = lp_now_ns();
		for (size_t i = 0; i < n; i++) {
			struct lp_udp_rx rx[8];
			int got;

			for (size_t k = 0; k < 8; k++) {
				memset(&rx[k], 0, sizeof(rx[k]));
				rx[k].data = bufs[k];
				rx[k].cap = sizeof(bufs[k]);
			}
			got = lp_udp_recv(ps[i]->udp, rx, 8);
			for (int k = 0; k < got; k++)
				if (ps[i]->conn != NULL && !ps[i]->closed)
					if (lp_quic_conn_read(ps[i]->conn, &rx[k].path, rx[k].data,
					                      rx[k].len, now) != 0)
						break; /* closed: the callback recorded it */
		}
	}
}

static bool one_closed(void *arg)
{
	return ((struct peer *)arg)->closed;
}

static bool one_ready(void *arg)
{
	struct peer *p = arg;
	struct lp_quic_conn_info info;

	if (p->closed)
		return true;
	if (!p->established)
		return false;
	lp_quic_conn_info(p->conn, &info);
	return info.pmtud_done;
}

static bool one_welcomed(void *arg)
{
	struct peer *p = arg;

	return p->welcomed || p->closed || p->ctrl_err != 0;
}

struct two {
	struct peer *a, *b;
};

static bool b_got_dgram(void *arg)
{
	return ((struct two *)arg)->b->dgrams > 0;
}

static bool a_got_dgram_and_join(void *arg)
{
	struct two *t = arg;

	return t->a->dgrams > 0 && t->a->joined_id != 0;
}

/* Connects, waits for PMTUD like lib/client-core does, sends the hello
 * and waits for the welcome. */
static void join(struct peer *p, const char *name, const struct sockaddr_storage *relay,
                 const struct lp_quic_client_cfg *cfg)
{
	struct peer *ps[1] = { p };
	struct lp_ctrl_msg m;
	uint8_t frame[512];
	ssize_t n;
	size_t budget;

	CHECK_RC(peer_start(p, name, relay, cfg), 0);
	if (p->conn == NULL)
		return;
	CHECK(pump(ps, 1, one_ready, p, 8000));
	CHECK(p->established && !p->closed);
	if (!p->established || p->closed)
		return;
	budget = lp_quic_conn_datagram_budget(p->conn);
	CHECK(budget >= 1280);
	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_HELLO;
	m.u.hello.version = LP_CTRL_VERSION;
	m.u.hello.role = LP_ROLE_CLIENT;
	snprintf(m.u.hello.room, sizeof(m.u.hello.room), "%s", ROOM);
	m.u.hello.mac = p->mac;
	m.u.hello.datagram_budget = (uint32_t)budget;
	snprintf(m.u.hello.software, sizeof(m.u.hello.software), "softlan-vpn wine test");
	n = lp_ctrl_encode(&m, frame, sizeof(frame));
	CHECK(n > 0);
	if (n <= 0)
		return;
	CHECK_RC(lp_quic_conn_stream_send(p->conn, frame, (size_t)n), 0);
	CHECK(pump(ps, 1, one_welcomed, p, 5000));
	CHECK(p->welcomed);
	CHECK_RC(p->ctrl_err, 0);
	if (p->welcomed) {
		CHECK(p->welcome.u.welcome.peer_id >= 1);
		CHECK(p->welcome.u.welcome.mtu >= LP_MTU_MIN);
		CHECK(p->welcome.u.welcome.mode == LP_CTRL_MODE_RELAY);
	}
}

static size_t eth_frame(uint8_t *out, const struct lp_mac *dst, const struct lp_mac *src,
                        const char *mark)
{
	size_t len = LP_ETH_HDR_LEN + 46;

	memset(out, 0, len);
	memcpy(out, dst->b, LP_MAC_LEN);
	memcpy(out + 6, src->b, LP_MAC_LEN);
	lp_put_u16(out + 12, ETHERTYPE_TEST);
	memcpy(out + LP_ETH_HDR_LEN, mark, strlen(mark));
	return len;
}

static bool dgram_carries(const struct peer *p, const struct lp_mac *src, const char *mark)
{
	struct lp_proto_overlay ov;

	if (p->dgrams == 0 || lp_proto_overlay_decode(p->dgram, p->dgram_len, &ov) != 0)
		return false;
	return ov.type == LP_PROTO_TYPE_ETHERNET && ov.payload_len == LP_ETH_HDR_LEN + 46 &&
	       memcmp(ov.payload + 6, src->b, LP_MAC_LEN) == 0 &&
	       memcmp(ov.payload + LP_ETH_HDR_LEN, mark, strlen(mark)) == 0;
}

static void test_wrong_pin(const struct sockaddr_storage *relay, const char *pin_file,
                           const char *scratch)
{
	struct lp_quic_client_cfg cfg;
	struct peer p, *ps[1] = { &p };
	char bad[MAX_PATH];
	uint8_t der[8192];
	size_t len;
	FILE *f;

	/* The relay's own certificate with its last byte changed. */
	f = fopen(pin_file, "rb");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	len = fread(der, 1, sizeof(der), f);
	fclose(f);
	CHECK(len > 0 && len < sizeof(der));
	if (len == 0)
		return;
	der[len - 1] ^= 0x01;
	snprintf(bad, sizeof(bad), "%s\\wrong-pin.der", scratch);
	f = fopen(bad, "wb");
	CHECK(f != NULL && fwrite(der, 1, len, f) == len);
	if (f != NULL)
		fclose(f);

	memset(&cfg, 0, sizeof(cfg));
	cfg.server_name = "localhost";
	cfg.pin_der_file = bad;
	log_reset();
	CHECK_RC(peer_start(&p, "wrong-pin", relay, &cfg), 0);
	if (p.conn != NULL) {
		CHECK(pump(ps, 1, one_closed, &p, 8000));
		CHECK(!p.established);
		CHECK_RC(p.close_err, LP_ERR_CERT);
		CHECK(log_has("does not match the pinned"));
	}
	peer_free(&p);
}

static void test_relay(const struct sockaddr_storage *relay, const char *pin_file)
{
	struct lp_quic_client_cfg cfg;
	static struct peer a, b;
	struct peer *ps[2] = { &a, &b };
	struct two t = { &a, &b };
	uint8_t frame[128], dg[160];
	struct lp_mac bcast;
	size_t flen;
	ssize_t n;

	memset(&cfg, 0, sizeof(cfg));
	cfg.server_name = "localhost";
	cfg.pin_der_file = pin_file;
	join(&a, "a", relay, &cfg);
	join(&b, "b", relay, &cfg);
	if (!a.welcomed || !b.welcomed)
		goto out;
	CHECK(a.welcome.u.welcome.peer_id != b.welcome.u.welcome.peer_id);

	/* A: broadcast; the relay floods it to B. */
	memset(bcast.b, 0xff, LP_MAC_LEN);
	flen = eth_frame(frame, &bcast, &a.mac, MARK_A);
	n = lp_proto_overlay_encode(dg, sizeof(dg), LP_PROTO_TYPE_ETHERNET, frame, flen);
	CHECK(n > 0);
	if (n > 0)
		CHECK_RC(lp_quic_conn_datagram_send(a.conn, dg, (size_t)n), 0);
	CHECK(pump(ps, 2, b_got_dgram, &t, 5000));
	CHECK(dgram_carries(&b, &a.mac, MARK_A));

	/* B: unicast to A (the relay learned A's MAC from its frame). */
	flen = eth_frame(frame, &a.mac, &b.mac, MARK_B);
	n = lp_proto_overlay_encode(dg, sizeof(dg), LP_PROTO_TYPE_ETHERNET, frame, flen);
	CHECK(n > 0);
	if (n > 0)
		CHECK_RC(lp_quic_conn_datagram_send(b.conn, dg, (size_t)n), 0);
	CHECK(pump(ps, 2, a_got_dgram_and_join, &t, 5000));
	CHECK(dgram_carries(&a, &b.mac, MARK_B));
	CHECK(a.joined_id == b.welcome.u.welcome.peer_id);

	/* A clean application close is reported as LP_OK. */
	lp_quic_conn_close(a.conn, LP_QUIC_APP_NO_ERROR, "bye");
	CHECK(pump(ps, 2, one_closed, &a, 5000));
	CHECK_RC(a.close_err, LP_OK);
out:
	peer_free(&a);
	peer_free(&b);
}

static bool one_answered(void *arg)
{
	const struct peer *p = arg;

	return p->welcomed || p->ctrl_err != 0 || p->closed;
}

static void test_private(const struct sockaddr_storage *relay, const char *pin_file)
{
	static struct peer a, b, c;
	struct peer *pa[1] = { &a }, *pb[1] = { &b }, *pc[1] = { &c };
	struct lp_quic_client_cfg cfg;
	struct lp_room_keys k;
	struct lp_ctrl_msg m;
	uint8_t der[8192], secret[32], seed[32], pub[32], e[32], hello[1024];
	ssize_t n = 0;
	size_t len = 0;
	FILE *f = fopen(pin_file, "rb");

	CHECK(f != NULL);
	if (f == NULL)
		return;
	len = fread(der, 1, sizeof(der), f);
	fclose(f);
	memset(&cfg, 0, sizeof(cfg));
	cfg.spki_pin_set = true;
	CHECK_RC(lp_quic_cert_pin(der, len, cfg.spki_pin), 0);
	memset(secret, 0x21, sizeof(secret));
	memset(seed, 0x42, sizeof(seed));
	CHECK_RC(lp_room_host_pub_derive(seed, pub), 0);
	CHECK_RC(lp_room_keys_derive(secret, pub, &k), 0);

	CHECK_RC(peer_start(&a, "private-gateway", relay, &cfg), 0);
	if (a.conn == NULL)
		goto out;
	CHECK(pump(pa, 1, one_ready, &a, 8000));
	CHECK(a.established && !a.closed);
	if (!a.established || a.closed)
		goto out;
	CHECK_RC(lp_quic_conn_exporter(a.conn, LP_ROOM_EXPORTER_LABEL, e, sizeof(e)), 0);
	memset(&m, 0, sizeof(m));
	m.type = LP_CTRL_HELLO;
	m.u.hello.version = LP_CTRL_VERSION;
	m.u.hello.role = LP_ROLE_GATEWAY;
	m.u.hello.private_room = true;
	m.u.hello.mac = a.mac;
	m.u.hello.datagram_budget = (uint32_t)lp_quic_conn_datagram_budget(a.conn);
	memcpy(m.u.hello.priv.room_id, k.room_id, sizeof(k.room_id));
	memcpy(m.u.hello.priv.verifier, k.verifier, sizeof(k.verifier));
	memcpy(m.u.hello.priv.host, k.host_pub, sizeof(k.host_pub));
	CHECK_RC(lp_room_sign_admission(&k, e, "gateway", m.u.hello.priv.proof), 0);
	m.u.hello.priv.has_host_proof = true;
	CHECK_RC(lp_room_sign_host(seed, e, m.u.hello.priv.host_proof), 0);
	n = lp_ctrl_encode(&m, hello, sizeof(hello));
	CHECK(n > 0);
	if (n <= 0)
		goto out;
	CHECK_RC(lp_quic_conn_stream_send(a.conn, hello, (size_t)n), 0);
	CHECK(pump(pa, 1, one_answered, &a, 5000));
	CHECK(a.welcomed);

	/* The same hello, proofs and all, on another connection. */
	CHECK_RC(peer_start(&b, "private-replay", relay, &cfg), 0);
	if (b.conn != NULL) {
		CHECK(pump(pb, 1, one_ready, &b, 8000));
		CHECK_RC(lp_quic_conn_stream_send(b.conn, hello, (size_t)n), 0);
		CHECK(pump(pb, 1, one_answered, &b, 5000));
		CHECK(!b.welcomed);
		CHECK_RC(b.ctrl_err, LP_ERR_REJECTED);
		CHECK(b.reject_reason == LP_REJECT_NOT_ADMITTED);
	}

	/* The key pin one bit off. */
	cfg.spki_pin[0] ^= 0x01;
	log_reset();
	CHECK_RC(peer_start(&c, "private-wrong-pin", relay, &cfg), 0);
	if (c.conn != NULL) {
		CHECK(pump(pc, 1, one_closed, &c, 8000));
		CHECK(!c.established);
		CHECK_RC(c.close_err, LP_ERR_CERT);
		CHECK(log_has("does not match the pin"));
	}
out:
	lp_room_keys_wipe(&k);
	peer_free(&a);
	peer_free(&b);
	peer_free(&c);
}

static void test_ca(const struct sockaddr_storage *relay, const char *ca_file)
{
	struct lp_quic_client_cfg cfg;
	struct peer p, *ps[1] = { &p };

	memset(&cfg, 0, sizeof(cfg));
	cfg.server_name = "localhost";
	cfg.ca_file = ca_file;
	CHECK_RC(peer_start(&p, "ca-ok", relay, &cfg), 0);
	if (p.conn != NULL) {
		CHECK(pump(ps, 1, one_ready, &p, 8000));
		CHECK(p.established && !p.closed);
	}
	peer_free(&p);

	cfg.server_name = "wrong.example";
	log_reset();
	CHECK_RC(peer_start(&p, "ca-wrong-name", relay, &cfg), 0);
	if (p.conn != NULL) {
		CHECK(pump(ps, 1, one_closed, &p, 8000));
		CHECK(!p.established);
		CHECK_RC(p.close_err, LP_ERR_CERT);
		CHECK(log_has("not trusted for wrong.example"));
	}
	peer_free(&p);
}

static int relay_addr(const char *host, const char *port, struct sockaddr_storage *out)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)out;
	long p = strtol(port, NULL, 10);

	memset(out, 0, sizeof(*out));
	if (p <= 0 || p > 65535 || inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		return -1;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)p);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage relay;
	WSADATA wsa;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
		fprintf(stderr, "WSAStartup failed\n");
		return 1;
	}
	test_config_errors();
	test_udp();
	if (argc >= 5) {
		if (relay_addr(argv[1], argv[2], &relay) != 0) {
			fprintf(stderr, "bad relay address %s %s\n", argv[1], argv[2]);
			return 2;
		}
		test_wrong_pin(&relay, argv[3], argv[4]);
		test_relay(&relay, argv[3]);
		test_private(&relay, argv[3]);
		if (argc >= 7) {
			if (relay_addr(argv[1], argv[6], &relay) != 0)
				return 2;
			test_ca(&relay, argv[5]);
		}
	}
	WSACleanup();
	printf("test_quic_client_wine: %d checks, %d failed (%s)\n", checks, failures,
	       argc >= 5 ? (argc >= 7 ? "local + relay pin + relay CA" : "local + relay pin")
	                 : "local only");
	return failures == 0 ? 0 : 1;
}
