/* The public HTTP(S) edge: the listeners of http.listen, plain or ending TLS (certificate by
 * SNI) or passing TLS through by SNI; each connection is handed to http_conn. */
#ifndef PROXYD_CORE_HTTP_EDGE_H
#define PROXYD_CORE_HTTP_EDGE_H

#include "conf.h"

struct evbuffer;

int http_edge_start(struct conf *c);
void http_edge_stop(void);
/* Reload: listeners are re-created from the new configuration; connections carry on and
 * pick up its routes and limits with their next request. */
int http_edge_apply(struct conf *c);
/* Drain: idle connections close, every new request gets 503 (listeners stay open). */
void http_edge_drain_begin(void);
int http_edge_draining(void);
/* Started (with a server, or alone as the VM-host proxy)? */
int http_edge_running(void);
/* The configuration in force (routes, limits). */
const struct conf_http *http_edge_conf(void);
void http_edge_status_listeners(struct evbuffer *out, int *first);

/* Counters for status: every response the edge sent (its own and the services'), by class. */
void http_edge_count_response(int status);

#endif
