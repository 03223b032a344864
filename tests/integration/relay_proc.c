/* relay_proc.c - see relay_proc.h. */
#include "relay_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS LP_NS_PER_MS
#define RX_BATCH 16
#define RX_BUF 65536
#define START_TIMEOUT_NS (15 * LP_NS_PER_SEC)
#define STOP_TIMEOUT_NS (5 * LP_NS_PER_SEC)
#define ARGS_MAX 48
#define METRICS_MAX (1u << 20)
#define POLL_MAX_WAIT_NS (20 * MS)

/* ---- small helpers ----------------------------------------------------------- */

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / LP_NS_PER_SEC),
		               .tv_nsec = (long)(ns % LP_NS_PER_SEC) };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static char *read_file(const char *path, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, len = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2 + 8192);

			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = cap * 2 + 8192;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	if (len_out != NULL)
		*len_out = len;
	return buf;
}

/* A port the kernel considers free right now (bind to port 0, read, close). */
static uint16_t free_port(int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, type, 0);
	uint16_t port = 0;

	if (fd < 0)
		return 0;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* ---- the relay process ---------------------------------------------------------- */

static bool metrics_up(const struct rp_relay *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool up;

	if (fd < 0)
		return false;
	a.sin_port = htons(r->metrics_port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	up = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return up;
}

static pid_t spawn(const struct rp_relay *r, const char *bin, const char *const *extra)
{
	char listen[32], metrics[32];
	const char *argv[ARGS_MAX];
	size_t n = 0;
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)r->port);
	snprintf(metrics, sizeof(metrics), "127.0.0.1:%u", (unsigned)r->metrics_port);
	argv[n++] = bin;
	argv[n++] = "--listen";
	argv[n++] = listen;
	argv[n++] = "--dev-cert-der-out";
	argv[n++] = r->der_path;
	argv[n++] = "--dev-cert-names";
	argv[n++] = "localhost,127.0.0.1";
	argv[n++] = "--metrics-listen";
	argv[n++] = metrics;
	argv[n++] = "--status-interval";
	argv[n++] = "0";
	argv[n++] = "--state-dir";
	argv[n++] = r->state_dir;
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n + 1 < ARGS_MAX; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	pid = fork();
	if (pid != 0)
		return pid;
	/* Child: stderr (and stdout) to the log file; die with the test. */
	{
		int fd = open(r->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0)
			_exit(126);
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(125);
		execv(bin, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
}

int rp_relay_start(struct rp_relay *r, const char *const *extra_args)
{
	const char *bin = getenv("LP_RELAY_BIN");
	struct sockaddr_in *a = (struct sockaddr_in *)&r->addr;

	memset(r, 0, sizeof(*r));
	r->pid = -1;
	if (bin == NULL || bin[0] == '\0') {
		fprintf(stderr, "relay_proc: LP_RELAY_BIN is not set\n");
		return -1;
	}
	snprintf(r->dir, sizeof(r->dir), "/tmp/lp_relay_e2e.XXXXXX");
	if (mkdtemp(r->dir) == NULL) {
		fprintf(stderr, "relay_proc: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	snprintf(r->der_path, sizeof(r->der_path), "%s/relay.der", r->dir);
	snprintf(r->log_path, sizeof(r->log_path), "%s/relay.log", r->dir);
	snprintf(r->state_dir, sizeof(r->state_dir), "%s/state", r->dir);

	for (int attempt = 0; attempt < 5; attempt++) {
		uint64_t deadline = lp_now_ns() + START_TIMEOUT_NS;
		int status;

		r->port = free_port(SOCK_DGRAM);
		r->metrics_port = free_port(SOCK_STREAM);
		if (r->port == 0 || r->metrics_port == 0)
			continue;
		(void)unlink(r->der_path);
		r->pid = spawn(r, bin, extra_args);
		if (r->pid < 0) {
			fprintf(stderr, "relay_proc: fork: %s\n", strerror(errno));
			return -1;
		}
		while (lp_now_ns() < deadline) {
			struct stat st;

			if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
				r->pid = -1;
				break;
			}
			/* The metrics socket is bound after the UDP one: once it
			 * answers, the relay is listening (at any log level). */
			if (stat(r->der_path, &st) == 0 && st.st_size > 0 && metrics_up(r)) {
				memset(&r->addr, 0, sizeof(r->addr));
				a->sin_family = AF_INET;
				a->sin_port = htons(r->port);
				a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
				return 0;
			}
			sleep_ns(10 * MS);
		}
		if (r->pid > 0) {
			fprintf(stderr, "relay_proc: the relay did not come up in time\n");
			(void)rp_relay_stop(r);
			return -1;
		}
		/* It exited: most likely a port taken between our probe and its bind. */
		{
			char *log = read_file(r->log_path, NULL);

			fprintf(stderr, "relay_proc: relay exited at start (attempt %d): %s\n",
			        attempt + 1, log != NULL ? log : "(no log)");
			free(log);
		}
	}
	return -1;
}

int rp_relay_stop(struct rp_relay *r)
{
	uint64_t deadline = lp_now_ns() + STOP_TIMEOUT_NS;
	int status = 0, rv = -1;

	if (r->pid > 0) {
		(void)kill(r->pid, SIGTERM);
		for (;;) {
			pid_t w = waitpid(r->pid, &status, WNOHANG);

			if (w == r->pid)
				break;
			if (w < 0 && errno != EINTR) {
				status = -1;
				break;
			}
			if (lp_now_ns() >= deadline) {
				(void)kill(r->pid, SIGKILL);
				(void)waitpid(r->pid, &status, 0);
				break;
			}
			sleep_ns(5 * MS);
		}
		if (status == -1)
			rv = -1;
		else if (WIFEXITED(status))
			rv = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			rv = 128 + WTERMSIG(status);
		r->pid = -1;
	}
	if (getenv("RP_KEEP_LOGS") == NULL && r->dir[0] != '\0') {
		char key[192];

		snprintf(key, sizeof(key), "%s/%s", r->state_dir, LP_QUIC_DEV_KEY_FILE);
		(void)unlink(key);
		(void)rmdir(r->state_dir);
		(void)unlink(r->der_path);
		(void)unlink(r->log_path);
		(void)rmdir(r->dir);
		r->dir[0] = '\0';
	} else if (r->dir[0] != '\0') {
		fprintf(stderr, "relay_proc: relay log kept in %s\n", r->log_path);
	}
	return rv;
}

size_t rp_relay_log_count(const struct rp_relay *r, const char *needle)
{
	char *text = read_file(r->log_path, NULL);
	size_t n = 0;

	if (text == NULL)
		return 0;
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	free(text);
	return n;
}

int rp_relay_metrics(const struct rp_relay *r, char *buf, size_t cap)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 5 };
	char *body;
	size_t len = 0;
	int fd, rv = -1;

	if (cap == 0)
		return -1;
	buf[0] = '\0';
	a.sin_port = htons(r->metrics_port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto out;
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(req) - 1))
		goto out;
	while (len + 1 < cap) {
		ssize_t n = recv(fd, buf + len, cap - len - 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (strncmp(buf, "HTTP/1.0 200", 12) != 0 && strncmp(buf, "HTTP/1.1 200", 12) != 0)
		goto out;
	body = strstr(buf, "\r\n\r\n");
	if (body == NULL)
		goto out;
	body += 4;
	memmove(buf, body, strlen(body) + 1);
	rv = 0;
out:
	close(fd);
	return rv;
}

uint64_t rp_metric_parse(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *nl = strchr(line, '\n');

		if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			char *end;
			unsigned long long v = strtoull(line + klen + 1, &end, 10);

			if (end != line + klen + 1)
				return (uint64_t)v;
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	return UINT64_MAX;
}

uint64_t rp_relay_metric(const struct rp_relay *r, const char *key)
{
	char *buf = malloc(METRICS_MAX);
	uint64_t v = UINT64_MAX;

	if (buf == NULL)
		return UINT64_MAX;
	if (rp_relay_metrics(r, buf, METRICS_MAX) == 0)
		v = rp_metric_parse(buf, key);
	free(buf);
	return v;
}

uint64_t rp_proc_cpu_ns(pid_t pid)
{
	char path[64], *text, *p;
	unsigned long long utime, stime;
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t ns = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	text = read_file(path, NULL);
	if (text == NULL || hz <= 0)
		goto out;
	/* The command name may hold spaces: fields are counted after its ')'. */
	p = strrchr(text, ')');
	if (p == NULL)
		goto out;
	/* After ")": state(3) ... utime is field 14, stime field 15. */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
	           &stime) != 2)
		goto out;
	ns = (uint64_t)(utime + stime) * (LP_NS_PER_SEC / (uint64_t)hz);
out:
	free(text);
	return ns;
}

/* ---- frames ---------------------------------------------------------------------- */

void rp_frame_build(uint8_t *buf, size_t len, const char *dst, const char *src, uint16_t ethertype,
                    uint32_t tag)
{
	struct lp_mac d, s;

	if (len < LP_ETH_HDR_LEN + 4)
		abort();
	if (lp_proto_mac_parse(dst, &d) != 0 || lp_proto_mac_parse(src, &s) != 0)
		abort();
	memcpy(buf, d.b, LP_MAC_LEN);
	memcpy(buf + LP_MAC_LEN, s.b, LP_MAC_LEN);
	lp_put_u16(buf + 12, ethertype);
	for (size_t i = LP_ETH_HDR_LEN; i < len - 4; i++)
		buf[i] = (uint8_t)(i * 13 + tag);
	lp_put_u32(buf + len - 4, tag);
}

uint32_t rp_frame_tag(const uint8_t *frame, size_t len)
{
	if (len < LP_ETH_HDR_LEN + 4)
		return RP_TAG_NONE;
	return (uint32_t)frame[len - 4] << 24 | (uint32_t)frame[len - 3] << 16 |
	       (uint32_t)frame[len - 2] << 8 | frame[len - 1];
}

static void record_frame(struct rp_peer *p, const uint8_t *frame, size_t len)
{
	p->frames++;
	p->frame_bytes += len;
	if (p->record_tags && p->ntags < RP_TAGS_MAX)
		p->tags[p->ntags++] = rp_frame_tag(frame, len);
}

bool rp_has_tag(const struct rp_peer *p, uint32_t tag)
{
	for (size_t i = 0; i < p->ntags; i++)
		if (p->tags[i] == tag)
			return true;
	return false;
}

/* ---- peers: callbacks -------------------------------------------------------------- */

static void sess_frame(struct lp_client *s, const uint8_t *frame, size_t len, void *user)
{
	struct rp_peer *p = user;

	if (lp_client_frame_from_gateway(s))
		p->from_gateway++;
	record_frame(p, frame, len);
}

static void sess_datagram(struct lp_client *s, const uint8_t *dg, size_t len, void *user)
{
	struct rp_peer *p = user;

	(void)s;
	if (len <= sizeof(p->last_dg)) {
		memcpy(p->last_dg, dg, len);
		p->last_dg_len = len;
	}
}

static void sess_event(struct lp_client *s, const struct lp_client_event *ev, void *user)
{
	struct rp_peer *p = user;
	struct rp_event *e;

	(void)s;
	if (getenv("RP_DEBUG") != NULL)
		fprintf(stderr, "[%s] event %d: %s\n", p->name, (int)ev->type, ev->text);
	if (ev->type == LP_CLIENT_EV_CLOSED)
		p->done = true;
	if (p->nev == RP_EVENTS_MAX)
		return;
	e = &p->ev[p->nev++];
	memset(e, 0, sizeof(*e));
	e->type = ev->type;
	e->err = ev->err;
	e->gateway_present = ev->gateway_present;
	e->peer_known = ev->peer_known;
	e->peer = ev->peer;
	if (ev->peer_reason != NULL)
		snprintf(e->peer_reason, sizeof(e->peer_reason), "%s", ev->peer_reason);
	if (ev->welcome != NULL)
		e->welcome = *ev->welcome;
	if (ev->reject != NULL)
		e->reject = *ev->reject;
	snprintf(e->text, sizeof(e->text), "%s", ev->text);
}

static void raw_established(struct lp_quic_conn *c, void *user)
{
	struct rp_peer *p = user;

	(void)c;
	p->established = true;
}

static void raw_stream(struct lp_quic_conn *c, const uint8_t *data, size_t len, bool fin,
                       void *user)
{
	struct rp_peer *p = user;
	struct lp_ctrl_msg m;

	(void)c;
	(void)fin;
	while (len > 0 && p->ctrl_err == 0) {
		ssize_t n = lp_ctrl_decoder_feed(p->dec, data, len, &m);

		if (n < 0) {
			p->ctrl_err = (int)n;
			return;
		}
		data += n;
		len -= (size_t)n;
		if (m.type != LP_CTRL_NONE && p->nmsgs < RP_MSGS_MAX)
			p->msgs[p->nmsgs++] = m;
	}
}

static void raw_datagram(struct lp_quic_conn *c, const uint8_t *data, size_t len, void *user)
{
	struct rp_peer *p = user;
	struct lp_proto_overlay ov;

	(void)c;
	if (lp_proto_overlay_decode(data, len, &ov) != 0) {
		p->bad_datagrams++;
		return;
	}
	record_frame(p, ov.payload, ov.payload_len);
}

static void raw_closed(struct lp_quic_conn *c, int err, uint64_t app_code, const char *reason,
                       void *user)
{
	struct rp_peer *p = user;

	(void)c;
	p->closed = true;
	p->done = true;
	p->close_err = err;
	p->close_app = app_code;
	snprintf(p->close_reason, sizeof(p->close_reason), "%s", reason != NULL ? reason : "");
}

static const struct lp_quic_conn_cbs raw_cbs = {
	.established = raw_established,
	.stream_data = raw_stream,
	.datagram = raw_datagram,
	.closed = raw_closed,
};

/* ---- world ---------------------------------------------------------------------------- */

LP_PRINTF(3, 0)
static void dbg_log_fn(void *user, enum lp_log_level level, const char *fmt, va_list ap)
{
	(void)user;
	fprintf(stderr, "LOG%d ", (int)level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static struct lp_logger dbg_logger = { .fn = dbg_log_fn, .level = LP_LOG_DEBUG };

int rp_world_init(struct rp_world *w, const struct rp_relay *relay)
{
	struct lp_quic_client_cfg cfg = {
		.server_name = "localhost",
		.pin_der_file = relay->der_path,
		.keepalive_ns = 500 * MS,
		.handshake_timeout_ns = 10 * LP_NS_PER_SEC,
	};
	int rv;

	memset(w, 0, sizeof(*w));
	w->relay = relay;
	w->log = getenv("RP_DEBUG") != NULL ? &dbg_logger : NULL;
	w->tx = malloc(LP_QUIC_WRITE_BUF_MIN);
	w->rxmem = malloc((size_t)RX_BATCH * RX_BUF);
	if (w->tx == NULL || w->rxmem == NULL) {
		rp_world_free(w);
		return LP_ERR_NOMEM;
	}
	rv = lp_quic_ctx_new_client(&cfg, w->log, &w->ctx);
	if (rv != 0) {
		fprintf(stderr, "relay_proc: client context: %s\n", lp_strerror(rv));
		rp_world_free(w);
		return rv;
	}
	return 0;
}

void rp_world_free(struct rp_world *w)
{
	while (w->npeers > 0)
		rp_peer_del(w->peers[w->npeers - 1]);
	lp_quic_ctx_del(w->ctx);
	free(w->tx);
	free(w->rxmem);
	memset(w, 0, sizeof(*w));
}

static struct rp_peer *peer_alloc(struct rp_world *w, const char *name, enum rp_kind kind)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct rp_peer *p;
	int rv;

	if (w->npeers == RP_PEERS_MAX)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->w = w;
	p->kind = kind;
	p->record_tags = true;
	snprintf(p->name, sizeof(p->name), "%s", name);
	a.sin_addr.s_addr = htonl(w->bind_ip != 0 ? w->bind_ip : INADDR_LOOPBACK);
	rv = lp_udp_open((const struct sockaddr *)&a, &p->udp);
	if (rv == 0)
		rv = lp_udp_local(p->udp, &p->path.local);
	if (rv != 0) {
		fprintf(stderr, "relay_proc: udp socket: %s\n", lp_strerror(rv));
		lp_udp_close(p->udp);
		free(p);
		return NULL;
	}
	p->path.remote = w->relay->addr;
	w->peers[w->npeers++] = p;
	return p;
}

struct rp_peer *rp_session_new(struct rp_world *w, const char *name, enum lp_role role,
                               const char *room, const char *mac, struct lp_quic_ctx *ctx)
{
	static const struct lp_client_cbs cbs = { .frame = sess_frame,
		                                  .event = sess_event,
		                                  .datagram_rx = sess_datagram };
	struct lp_client_cfg cfg = {
		.role = role,
		.room = room,
		.software = "softlan-vpn e2e test",
		.stats_interval_ns = UINT64_MAX,
		.pmtud_wait_ns = w->pmtud_wait_ns,
	};
	struct rp_peer *p;
	int rv;

	if (lp_proto_mac_parse(mac, &cfg.mac) != 0)
		return NULL;
	p = peer_alloc(w, name, RP_SESSION);
	if (p == NULL)
		return NULL;
	rv = lp_client_new(ctx != NULL ? ctx : w->ctx, &cfg, &p->path, &cbs, p, w->log, lp_now_ns(),
	                   &p->s);
	if (rv != 0) {
		fprintf(stderr, "relay_proc: lp_client_new(%s): %s\n", name, lp_strerror(rv));
		rp_peer_del(p);
		return NULL;
	}
	return p;
}

struct rp_peer *rp_session_new_private(struct rp_world *w, const char *name, enum lp_role role,
                                       const struct lp_room_keys *keys, const uint8_t *host_seed,
                                       const char *mac, struct lp_quic_ctx *ctx)
{
	static const struct lp_client_cbs cbs = { .frame = sess_frame,
		                                  .event = sess_event,
		                                  .datagram_rx = sess_datagram };
	struct lp_client_cfg cfg = {
		.role = role,
		.room_keys = keys,
		.host_seed = host_seed,
		.software = "softlan-vpn e2e test",
		.stats_interval_ns = UINT64_MAX,
	};
	struct rp_peer *p;
	int rv;

	if (lp_proto_mac_parse(mac, &cfg.mac) != 0)
		return NULL;
	p = peer_alloc(w, name, RP_SESSION);
	if (p == NULL)
		return NULL;
	rv = lp_client_new(ctx != NULL ? ctx : w->ctx, &cfg, &p->path, &cbs, p, w->log, lp_now_ns(),
	                   &p->s);
	if (rv != 0) {
		fprintf(stderr, "relay_proc: lp_client_new(%s): %s\n", name, lp_strerror(rv));
		rp_peer_del(p);
		return NULL;
	}
	return p;
}

struct rp_peer *rp_raw_new(struct rp_world *w, const char *name)
{
	struct rp_peer *p = peer_alloc(w, name, RP_RAW);
	int rv;

	if (p == NULL)
		return NULL;
	p->dec = malloc(sizeof(*p->dec));
	if (p->dec == NULL) {
		rp_peer_del(p);
		return NULL;
	}
	lp_ctrl_decoder_init(p->dec);
	rv = lp_quic_conn_connect(w->ctx, &p->path, &raw_cbs, p, lp_now_ns(), &p->qc);
	if (rv != 0) {
		fprintf(stderr, "relay_proc: lp_quic_conn_connect(%s): %s\n", name,
		        lp_strerror(rv));
		rp_peer_del(p);
		return NULL;
	}
	return p;
}

void rp_peer_del(struct rp_peer *p)
{
	struct rp_world *w;

	if (p == NULL)
		return;
	w = p->w;
	for (size_t i = 0; i < w->npeers; i++) {
		if (w->peers[i] != p)
			continue;
		memmove(&w->peers[i], &w->peers[i + 1], (w->npeers - i - 1) * sizeof(*w->peers));
		w->npeers--;
		break;
	}
	lp_client_del(p->s);
	lp_quic_conn_del(p->qc);
	lp_udp_close(p->udp);
	free(p->dec);
	free(p);
}

/* ---- raw peer operations ----------------------------------------------------------------- */

int rp_raw_hello(struct rp_peer *p, enum lp_role role, const char *room, const char *mac,
                 uint32_t budget)
{
	struct lp_ctrl_msg m = { .type = LP_CTRL_HELLO };
	uint8_t buf[LP_CTRL_PREFIX_LEN + 1024];
	ssize_t n;

	m.u.hello.version = LP_CTRL_VERSION;
	m.u.hello.role = role;
	if (lp_strlcpy_checked(m.u.hello.room, sizeof(m.u.hello.room), room) != 0)
		return LP_ERR_INVAL;
	if (lp_proto_mac_parse(mac, &m.u.hello.mac) != 0)
		return LP_ERR_INVAL;
	m.u.hello.datagram_budget = budget;
	snprintf(m.u.hello.software, sizeof(m.u.hello.software), "raw test peer");
	n = lp_ctrl_encode(&m, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return lp_quic_conn_stream_send(p->qc, buf, (size_t)n);
}

int rp_raw_ctrl_json(struct rp_peer *p, const char *json)
{
	size_t len = strlen(json);
	uint8_t buf[LP_CTRL_PREFIX_LEN + 4096];

	if (len > sizeof(buf) - LP_CTRL_PREFIX_LEN)
		return LP_ERR_INVAL;
	lp_put_u32(buf, (uint32_t)len);
	memcpy(buf + LP_CTRL_PREFIX_LEN, json, len);
	return lp_quic_conn_stream_send(p->qc, buf, LP_CTRL_PREFIX_LEN + len);
}

int rp_raw_ctrl_msg(struct rp_peer *p, const struct lp_ctrl_msg *m)
{
	uint8_t buf[LP_CTRL_PREFIX_LEN + 4096];
	ssize_t n = lp_ctrl_encode(m, buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	return lp_quic_conn_stream_send(p->qc, buf, (size_t)n);
}

int rp_raw_datagram(struct rp_peer *p, const uint8_t *data, size_t len)
{
	return lp_quic_conn_datagram_send(p->qc, data, len);
}

const struct lp_ctrl_msg *rp_raw_msg(const struct rp_peer *p, enum lp_ctrl_type type)
{
	for (size_t i = 0; i < p->nmsgs; i++)
		if (p->msgs[i].type == type)
			return &p->msgs[i];
	return NULL;
}

int rp_send_frame(struct rp_peer *p, const uint8_t *frame, size_t len)
{
	uint8_t dg[LP_PROTO_OVERLAY_HDR_LEN + 9100];
	ssize_t n;

	if (p->kind == RP_SESSION)
		return lp_client_send_frame(p->s, frame, len);
	n = lp_proto_overlay_encode(dg, sizeof(dg), LP_PROTO_TYPE_ETHERNET, frame, len);
	if (n < 0)
		return (int)n;
	return lp_quic_conn_datagram_send(p->qc, dg, (size_t)n);
}

struct send_wait {
	struct rp_peer *p;
	const uint8_t *frame;
	size_t len;
	int rv;
};

static bool send_cond(void *arg)
{
	struct send_wait *sw = arg;
	size_t room = sw->p->kind == RP_SESSION ? lp_client_datagram_room(sw->p->s)
	                                        : lp_quic_conn_datagram_room(sw->p->qc);

	/* A full flow queue makes room by dropping another flow's oldest:
	 * a sender that must lose nothing waits for room first. */
	if (room == 0) {
		sw->rv = LP_ERR_AGAIN;
		return false;
	}
	sw->rv = rp_send_frame(sw->p, sw->frame, sw->len);
	return sw->rv != LP_ERR_AGAIN;
}

int rp_send_frame_wait(struct rp_peer *p, const uint8_t *frame, size_t len, uint64_t timeout_ns)
{
	struct send_wait sw = { p, frame, len, LP_ERR_AGAIN };

	if (send_cond(&sw))
		return sw.rv;
	(void)rp_pump(p->w, timeout_ns, send_cond, &sw);
	return sw.rv;
}

const struct rp_event *rp_event_find(const struct rp_peer *p, enum lp_client_event_type type,
                                     size_t nth)
{
	for (size_t i = 0; i < p->nev; i++)
		if (p->ev[i].type == type && nth-- == 0)
			return &p->ev[i];
	return NULL;
}

size_t rp_event_count(const struct rp_peer *p, enum lp_client_event_type type)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nev; i++)
		n += p->ev[i].type == type;
	return n;
}

bool rp_admitted(const struct rp_peer *p)
{
	if (p->kind == RP_SESSION)
		return lp_client_state(p->s) == LP_CLIENT_ADMITTED;
	return !p->closed && rp_raw_msg(p, LP_CTRL_WELCOME) != NULL;
}

/* ---- the pump ------------------------------------------------------------------------------ */

static void peer_read(struct rp_world *w, struct rp_peer *p)
{
	struct lp_udp_rx rx[RX_BATCH];
	int n;

	do {
		for (size_t i = 0; i < RX_BATCH; i++) {
			rx[i].data = w->rxmem + i * RX_BUF;
			rx[i].cap = RX_BUF;
		}
		n = lp_udp_recv(p->udp, rx, RX_BATCH);
		for (int i = 0; i < n; i++) {
			size_t seg = rx[i].segment_size ? rx[i].segment_size : rx[i].len;
			uint64_t now = lp_now_ns();

			for (size_t off = 0; seg > 0 && off < rx[i].len && !p->done && !p->deaf;
			     off += seg) {
				size_t len = rx[i].len - off < seg ? rx[i].len - off : seg;

				if (p->kind == RP_SESSION)
					(void)!lp_client_read(p->s, &rx[i].path, rx[i].data + off,
					                      len, now);
				else
					(void)!lp_quic_conn_read(p->qc, &rx[i].path,
					                         rx[i].data + off, len, now);
			}
		}
	} while (n == RX_BATCH);
}

static uint64_t peer_expiry(const struct rp_peer *p)
{
	return p->kind == RP_SESSION ? lp_client_expiry(p->s) : lp_quic_conn_expiry(p->qc);
}

static void peer_timers(struct rp_peer *p, uint64_t now)
{
	if (now < peer_expiry(p))
		return;
	if (p->kind == RP_SESSION)
		(void)!lp_client_handle_expiry(p->s, now);
	else
		(void)!lp_quic_conn_handle_expiry(p->qc, now);
}

static void peer_write(struct rp_world *w, struct rp_peer *p)
{
	for (;;) {
		struct lp_quic_path path;
		size_t gso = 0;
		ssize_t n;

		if (p->kind == RP_SESSION)
			n = lp_client_write(p->s, w->tx, LP_QUIC_WRITE_BUF_MIN, &gso, &path,
			                    lp_now_ns());
		else
			n = lp_quic_conn_write(p->qc, w->tx, LP_QUIC_WRITE_BUF_MIN, &gso, &path,
			                       lp_now_ns());
		if (n <= 0)
			break;
		/* LP_ERR_AGAIN: the packets are lost, QUIC recovers. */
		(void)!lp_udp_send(p->udp, &path, w->tx, (size_t)n, gso);
	}
}

static bool peer_active(const struct rp_peer *p)
{
	if (p->frozen)
		return false;
	if (p->kind == RP_SESSION)
		return lp_client_state(p->s) != LP_CLIENT_CLOSED;
	return lp_quic_conn_state(p->qc) != LP_QUIC_CLOSED;
}

bool rp_pump(struct rp_world *w, uint64_t timeout_ns, bool (*cond)(void *arg), void *arg)
{
	uint64_t deadline = lp_now_ns() + timeout_ns;

	for (;;) {
		struct pollfd pfd[RP_PEERS_MAX];
		uint64_t now, next = deadline;
		size_t n = 0;
		int wait_ms;

		for (size_t i = 0; i < w->npeers; i++) {
			struct rp_peer *p = w->peers[i];

			if (!peer_active(p))
				continue;
			peer_read(w, p);
			/* Not a time from before the reads: lib/quic's clock
			 * must not run backwards (PMTUD was settled at 1200
			 * bytes by one that did). */
			peer_timers(p, lp_now_ns());
			peer_write(w, p);
		}
		if (cond != NULL && cond(arg))
			return true;
		now = lp_now_ns();
		if (now >= deadline)
			return cond == NULL;
		for (size_t i = 0; i < w->npeers; i++) {
			struct rp_peer *p = w->peers[i];
			uint64_t e;

			if (!peer_active(p))
				continue;
			e = peer_expiry(p);
			if (e < next)
				next = e;
			pfd[n].fd = (int)lp_udp_fd(p->udp);
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
		if (next > now + POLL_MAX_WAIT_NS)
			next = now + POLL_MAX_WAIT_NS;
		wait_ms = next <= now ? 0 : (int)((next - now + MS - 1) / MS);
		if (n == 0)
			sleep_ns((uint64_t)wait_ms * MS);
		else
			(void)poll(pfd, (nfds_t)n, wait_ms);
	}
}

struct admit_wait {
	struct rp_peer *const *peers;
	size_t n;
};

static bool peer_settled(const struct rp_peer *p)
{
	if (p->kind == RP_SESSION)
		return rp_admitted(p) || p->done || lp_client_state(p->s) == LP_CLIENT_REJECTED;
	return rp_admitted(p) || p->closed || rp_raw_msg(p, LP_CTRL_REJECT) != NULL;
}

static bool admit_cond(void *arg)
{
	const struct admit_wait *aw = arg;

	for (size_t i = 0; i < aw->n; i++)
		if (!peer_settled(aw->peers[i]))
			return false;
	return true;
}

bool rp_pump_admitted(struct rp_world *w, uint64_t timeout_ns, struct rp_peer *const *peers,
                      size_t n)
{
	struct admit_wait aw = { peers, n };

	(void)rp_pump(w, timeout_ns, admit_cond, &aw);
	for (size_t i = 0; i < n; i++)
		if (!rp_admitted(peers[i]))
			return false;
	return true;
}

static bool closed_cond(void *arg)
{
	const struct rp_peer *p = arg;

	return p->done;
}

bool rp_pump_closed(struct rp_world *w, struct rp_peer *p, uint64_t timeout_ns)
{
	return rp_pump(w, timeout_ns, closed_cond, p);
}
