/*
 * status_http.h - a tiny HTTP/1.0 endpoint for operators: GET /metrics
 * answers the relay's state in the Prometheus text exposition format.
 *
 * It serves one short request per connection and closes; a client that
 * sends no complete request within a second or more than 4 KiB of request
 * is dropped. The answer is rendered once, then written without blocking
 * as the socket takes it; a reader that has not taken all of it 5 s after
 * connecting is cut off (logged, rate-limited). At most 8 clients at once;
 * more are refused at accept. Nothing here ever waits on a socket, so a
 * slow or stalled reader cannot delay the loop (and the rooms on it).
 * Meant for loopback or an operator network: it has no authentication.
 */
#ifndef LP_STATUS_HTTP_H
#define LP_STATUS_HTTP_H

#include <sys/types.h>

#include "lp_base.h"
#include "lp_loop.h"
#include "lp_net.h"

/* Renders the body into buf; returns its length or LP_ERR_NOBUF (called
 * again with a bigger buffer). */
typedef ssize_t (*status_http_render_fn)(void *user, char *buf, size_t cap);

struct status_http;

int status_http_new(struct lp_loop *loop, const struct sockaddr *addr, status_http_render_fn fn,
                    void *user, const struct lp_logger *log, struct status_http **out) LP_WUR;
void status_http_del(struct status_http *h);

#endif /* LP_STATUS_HTTP_H */
