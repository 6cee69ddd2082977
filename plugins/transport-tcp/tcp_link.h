/* The TLS link handed to the core: the bufferevent stack that carries one agent connection
 * (a filter bufferevent running TLS over a socket bufferevent), and why it is built the way
 * it is (see tcp_link.c). */
#ifndef PROXYD_TCP_LINK_H
#define PROXYD_TCP_LINK_H

#include <event2/util.h>
#include <openssl/ssl.h>

struct bufferevent;
struct event_base;
struct tcp_link;

/* A TLS bufferevent on the connected socket fd that starts the handshake as a server
 * (accepting != 0) or a client, with reading enabled. It reports like libevent's OpenSSL
 * bufferevent did: BEV_EVENT_CONNECTED when the handshake is done; BEV_EVENT_EOF only after
 * the peer's close_notify; a peer that closes without one, a TLS failure or a socket error
 * is BEV_EVENT_ERROR. Application data that arrives with the handshake is already in the
 * input when BEV_EVENT_CONNECTED is seen. Freeing the bufferevent frees ssl and closes fd.
 * *linkp is the TLS state, valid as long as the bufferevent (for tcp_link_ssl and
 * tcp_link_error). On failure (no memory) returns NULL with ssl freed and fd closed. */
struct bufferevent *tcp_link_new(struct event_base *base, evutil_socket_t fd, SSL *ssl,
				 int accepting, struct tcp_link **linkp);

SSL *tcp_link_ssl(const struct tcp_link *link);

/* The OpenSSL error that failed the link (the first useful one, taken off the thread's queue
 * when it happened, so that other connections cannot clear it), or 0. */
unsigned long tcp_link_error(const struct tcp_link *link);

#endif
