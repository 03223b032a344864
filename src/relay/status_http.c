/*
 * status_http.c - GET /metrics over HTTP/1.0, one request per connection.
 *
 * Written by hand rather than with a library: Debian's small HTTP server
 * libraries (libmicrohttpd) bring their own threads or poll loop, and this
 * endpoint needs forty lines on our epoll loop.
 */
#include "status_http.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQ_MAX 4096
#define CLIENTS_MAX 8
/* From accept to the end of the request, and from accept to the last byte
 * of the answer. A scraper on loopback or an operator network takes
 * milliseconds; a reader slower than this loses its answer, the rooms do
 * not wait for it. */
#define REQUEST_TIMEOUT_NS (1 * LP_NS_PER_SEC)
#define ANSWER_DEADLINE_NS (5 * LP_NS_PER_SEC)
#define BODY_MAX (64u << 20)
#define HEAD_MAX 256

struct http_client {
	struct status_http *h;
	int fd;
	size_t have;
	bool writing;
	char *out; /* the whole answer (head + body) once the request is complete */
	size_t out_len;
	size_t out_sent;
	uint64_t accepted;
	struct lp_loop_timer timer;
	char req[REQ_MAX];
};

struct status_http {
	struct lp_loop *loop;
	const struct lp_logger *log;
	status_http_render_fn render;
	void *user;
	int fd;
	struct http_client *clients[CLIENTS_MAX];
	struct lp_log_ratelimit slow_rl;
};

static void client_del(struct http_client *c)
{
	struct status_http *h = c->h;

	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (h->clients[i] == c)
			h->clients[i] = NULL;
	lp_loop_timer_cancel(h->loop, &c->timer);
	lp_loop_unwatch(h->loop, c->fd);
	close(c->fd);
	free(c->out);
	free(c);
}

/* Writes as much of the answer as the socket takes now, never waiting.
 * Returns true when the client is finished with (answer sent or the
 * connection failed) and must be deleted. */
static bool flush_out(struct http_client *c)
{
	while (c->out_sent < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (w <= 0)
			return true;
		c->out_sent += (size_t)w;
	}
	return true;
}

/* Builds the answer in c->out (head + body), then writes it as the socket
 * allows: the loop watches the socket for writing until it is all sent or
 * the answer deadline passes. Returns true when the client is done. */
static bool respond(struct http_client *c, const char *status, const char *type, char *body,
                    size_t len, size_t body_off)
{
	char head[HEAD_MAX];
	int n;

	n = snprintf(head, sizeof(head),
	             "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	             "Connection: close\r\n\r\n",
	             status, type, len);
	if (n < 0 || (size_t)n >= sizeof(head) || (size_t)n > body_off) {
		free(body);
		return true;
	}
	/* The body was rendered HEAD_MAX bytes into the buffer: the head goes
	 * right in front of it, and the answer is one contiguous write. */
	memcpy(body + body_off - (size_t)n, head, (size_t)n);
	c->out = body;
	c->out_sent = body_off - (size_t)n;
	c->out_len = body_off + len;
	if (flush_out(c))
		return true;
	c->writing = true;
	if (lp_loop_watch_mod(c->h->loop, c->fd, LP_LOOP_WRITE) != 0)
		return true;
	return false;
}

static bool respond_text(struct http_client *c, const char *status, const char *text)
{
	size_t len = strlen(text);
	char *buf = malloc(HEAD_MAX + len);

	if (buf == NULL)
		return true;
	memcpy(buf + HEAD_MAX, text, len);
	return respond(c, status, "text/plain", buf, len, HEAD_MAX);
}

static bool serve(struct http_client *c)
{
	struct status_http *h = c->h;
	size_t cap = 64 * 1024;
	char *buf = NULL;
	ssize_t n = LP_ERR_NOBUF;

	if (strncmp(c->req, "GET /metrics ", 13) != 0 && strncmp(c->req, "GET /metrics\r", 13) != 0)
		return respond_text(c, "404 Not Found", "not found: try GET /metrics\n");
	while (n == LP_ERR_NOBUF && cap <= BODY_MAX) {
		char *nb = realloc(buf, HEAD_MAX + cap);

		if (nb == NULL)
			break;
		buf = nb;
		n = h->render(h->user, buf + HEAD_MAX, cap);
		cap *= 2;
	}
	if (n < 0) {
		free(buf);
		return respond_text(c, "500 Internal Server Error", "");
	}
	return respond(c, "200 OK", "text/plain; version=0.0.4", buf, (size_t)n, HEAD_MAX);
}

static void on_client(struct lp_loop *l, intptr_t fd, unsigned events, void *arg)
{
	struct http_client *c = arg;
	bool done;
	ssize_t n;

	if (c->writing) {
		if ((events & LP_LOOP_ERROR) != 0 || flush_out(c))
			client_del(c);
		return;
	}
	n = recv(fd, c->req + c->have, sizeof(c->req) - 1 - c->have, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_del(c);
		return;
	}
	c->have += (size_t)n;
	c->req[c->have] = '\0';
	if (strstr(c->req, "\r\n\r\n") == NULL && strstr(c->req, "\n\n") == NULL) {
		if (c->have < sizeof(c->req) - 1)
			return;
		done = respond_text(c, "431 Request Header Fields Too Large", "");
	} else {
		done = serve(c);
	}
	/* The request is complete: from now on only the answer deadline. */
	if (!done && lp_loop_timer_arm(l, &c->timer, c->accepted + ANSWER_DEADLINE_NS) == 0)
		return;
	client_del(c);
}

static void on_client_timeout(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	struct http_client *c = arg;
	uint64_t skipped = 0;

	(void)t;
	if (c->writing && lp_log_ratelimit_ok(&c->h->slow_rl, lp_loop_now(l), &skipped))
		lp_log(c->h->log, LP_LOG_WARN,
		       "metrics: cut off a reader that took %zu of %zu bytes in %llu s (%llu "
		       "similar skipped)",
		       c->out_sent, c->out_len,
		       (unsigned long long)(ANSWER_DEADLINE_NS / LP_NS_PER_SEC),
		       (unsigned long long)skipped);
	if (c->writing) {
		/* Reset rather than close: a plain close would leave the kernel
		 * sending the buffered rest to the stalled reader. */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	client_del(c);
}

static void on_accept(struct lp_loop *l, intptr_t fd, unsigned events, void *arg)
{
	struct status_http *h = arg;
	struct http_client *c;
	size_t slot = CLIENTS_MAX;
	int cfd;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (h->clients[i] == NULL)
			slot = i;
	c = slot < CLIENTS_MAX ? calloc(1, sizeof(*c)) : NULL;
	if (c == NULL) {
		close(cfd); /* busy: the scraper retries */
		return;
	}
	c->h = h;
	c->fd = cfd;
	c->accepted = lp_loop_now(l);
	lp_loop_timer_init(&c->timer, on_client_timeout, c);
	if (lp_loop_watch(l, cfd, LP_LOOP_READ, on_client, c) != 0 ||
	    lp_loop_timer_arm(l, &c->timer, c->accepted + REQUEST_TIMEOUT_NS) != 0) {
		lp_loop_unwatch(l, cfd);
		close(cfd);
		free(c);
		return;
	}
	h->clients[slot] = c;
}

int status_http_new(struct lp_loop *loop, const struct sockaddr *addr, status_http_render_fn fn,
                    void *user, const struct lp_logger *log, struct status_http **out)
{
	struct status_http *h;
	char text[80];
	int on = 1;
	int rv = LP_ERR_IO;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return LP_ERR_NOMEM;
	h->loop = loop;
	h->log = log;
	h->render = fn;
	h->user = user;
	lp_log_ratelimit_init(&h->slow_rl, 5, 60 * LP_NS_PER_SEC);
	h->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lp_net_addr_format(addr, text, sizeof(text)) != 0)
		snprintf(text, sizeof(text), "?");
	if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(h->fd, addr, lp_net_addr_len(addr)) < 0 || listen(h->fd, 16) < 0) {
		lp_log(log, LP_LOG_ERROR, "metrics endpoint: cannot listen on %s/tcp: %s", text,
		       strerror(errno));
		goto fail;
	}
	rv = lp_loop_watch(loop, h->fd, LP_LOOP_READ, on_accept, h);
	if (rv != 0)
		goto fail;
	lp_log(log, LP_LOG_INFO, "metrics: http://%s/metrics", text);
	*out = h;
	return 0;
fail:
	if (h->fd >= 0)
		close(h->fd);
	free(h);
	return rv;
}

void status_http_del(struct status_http *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (h->clients[i] != NULL)
			client_del(h->clients[i]);
	lp_loop_unwatch(h->loop, h->fd);
	close(h->fd);
	free(h);
}
