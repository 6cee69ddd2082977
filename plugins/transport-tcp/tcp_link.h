/* The TLS link handed to the core: the bufferevent stack that carries one agent connection,
 * and why it is built the way it is (see tcp_link.c). */
#ifndef PROXYD_TCP_LINK_H
#define PROXYD_TCP_LINK_H

#include <event2/util.h>
#include <openssl/ssl.h>

struct bufferevent;
struct event_base;

/* A TLS bufferevent on the connected socket fd that starts the handshake as a server
 * (accepting != 0) or a client. Handshake outcome, data and errors are reported like any
 * libevent OpenSSL bufferevent (BEV_EVENT_CONNECTED; a peer that closes without close_notify
 * is BEV_EVENT_ERROR, not EOF). Freeing it frees ssl and closes fd. On failure (no memory)
 * returns NULL with ssl freed and fd closed. */
struct bufferevent *tcp_link_new(struct event_base *base, evutil_socket_t fd, SSL *ssl,
				 int accepting);

/* Call once the handshake on link is done (BEV_EVENT_CONNECTED), before the core gets it:
 * libevent installs its data-phase callbacks on the socket then, and this puts the large
 * reads of tcp_link.c under them. */
void tcp_link_opened(struct bufferevent *link);

#endif
