/* Raw TCP public ports: each accepted connection becomes a stream to an agent's service. */
#ifndef PROXYD_CORE_TCP_EDGE_H
#define PROXYD_CORE_TCP_EDGE_H

#include "conf.h"

struct evbuffer;

int tcp_edge_start(struct conf *c);
void tcp_edge_stop(void);
void tcp_edge_status_listeners(struct evbuffer *out, int *first);

#endif
