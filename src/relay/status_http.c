/*
 * status_http.c - GET /metrics over HTTP/1.0, one request per connection.
 *
 * Written by hand rather than with a library: Debian's small HTTP server
 * libraries (libmicrohttpd) bring their own threads or poll loop, and this
 * endpoint needs forty lines on our epoll loop.
 */
#include "status_http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQ_MAX 4096
#define CLIENTS_MAX 8
#define CLIENT_TIMEOUT_NS (1 * LP_NS_PER_SEC)
#define BODY_MAX (64u << 20)

struct http_client {
	struct status_http *h;
	int fd;
	size_t have;
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
	free(c);
}

/* The response is written with a bounded blocking send: metrics bodies are
 * small and the endpoint is for operators, not for the public. */
static void respond(struct http_client *c, const char *status, const char *type, const char *body,
                    size_t len)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	char head[256];
	int n;

	n = snprintf(head, sizeof(head),
	             "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	             "Connection: close\r\n\r\n",
	             status, type, len);
	if (n < 0 || (size_t)n >= sizeof(head))
		return;
	(void)fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (send(c->fd, head, (size_t)n, MSG_NOSIGNAL) != n)
		return;
	while (len > 0) {
		ssize_t w = send(c->fd, body, len, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		body += w;
		len -= (size_t)w;
	}
}

static void serve(struct http_client *c)
{
	struct status_http *h = c->h;
	size_t cap = 64 * 1024;
	char *buf = NULL;
	ssize_t n = LP_ERR_NOBUF;

	if (strncmp(c->req, "GET /metrics ", 13) != 0 &&
	    strncmp(c->req, "GET /metrics\r", 13) != 0) {
		static const char msg[] = "not found: try GET /metrics\n";

		respond(c, "404 Not Found", "text/plain", msg, sizeof(msg) - 1);
		return;
	}
	while (n == LP_ERR_NOBUF && cap <= BODY_MAX) {
		char *nb = realloc(buf, cap);

		if (nb == NULL)
			break;
		buf = nb;
		n = h->render(h->user, buf, cap);
		cap *= 2;
	}
	if (n >= 0)
		respond(c, "200 OK", "text/plain; version=0.0.4", buf, (size_t)n);
	else
		respond(c, "500 Internal Server Error", "text/plain", "", 0);
	free(buf);
}

static void on_client(struct lp_loop *l, intptr_t fd, unsigned events, void *arg)
{
	struct http_client *c = arg;
	ssize_t n;

	(void)l;
	(void)events;
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
		respond(c, "431 Request Header Fields Too Large", "text/plain", "", 0);
	} else {
		serve(c);
	}
	client_del(c);
}

static void on_client_timeout(struct lp_loop *l, struct lp_loop_timer *t, void *arg)
{
	(void)l;
	(void)t;
	client_del(arg);
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
	lp_loop_timer_init(&c->timer, on_client_timeout, c);
	if (lp_loop_watch(l, cfd, LP_LOOP_READ, on_client, c) != 0 ||
	    lp_loop_timer_arm(l, &c->timer, lp_loop_now(l) + CLIENT_TIMEOUT_NS) != 0) {
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
