/* One client connection on the public HTTP edge: reads request heads, routes each request
 * on its own (two requests on one connection may go to two agents), streams bodies both ways
 * with backpressure, frames responses by parsing them, switches to a raw splice after a 101,
 * and answers with the edge's own short errors (400, 404, 408, 431, 502, 503, 504). */
#ifndef PROXYD_CORE_HTTP_CONN_H
#define PROXYD_CORE_HTTP_CONN_H

#include <stdint.h>

struct bufferevent;
struct evbuffer;

/* Take over an accepted client connection (a socket bufferevent, or a TLS one when tls is
 * set). client is "ip:port"; sni may be NULL. */
void http_conn_start(struct bufferevent *bev, uint64_t conn_id, const char *client, int tls,
		     const char *sni);

/* Drain: idle keep-alive connections close now; a request arriving later gets 503. */
void http_conn_drain_all(void);
/* Shut down: every connection is closed at once. */
void http_conn_close_all(void);
unsigned http_conn_count(void);
/* Is any connection in the middle of a request (routing, exchanging or tunnelling)? For the
 * drain: direct targets have no stream that would keep the daemon busy. */
int http_conn_busy(void);

#endif
