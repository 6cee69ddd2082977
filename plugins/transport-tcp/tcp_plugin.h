/* What the parts of transport-tcp share: the plugin's state and the entry points of the
 * listening side (tcp_listen.c) and the dialing side (tcp_dial.c). tcp_plugin.c wires them
 * to the ABI's ops table. */
#ifndef PROXYD_TCP_PLUGIN_H
#define PROXYD_TCP_PLUGIN_H

#include "proxyd/plugin.h"
#include "tcp_config.h"
#include "tcp_ctx_cache.h"

struct event_base;
struct evdns_base;

/* Connect plus handshake (dial), or handshake alone (accept): past this the peer is too
 * slow or silent, and must not hold a slot. */
#define TCP_HANDSHAKE_TIMEOUT_MS 10000

struct tcp_plugin {
	const struct proxyd_host *host;
	proxyd_plugin *self;
	struct event_base *base;
	struct evdns_base *dns; /* made on the first dial to a name */
	struct tcp_ctx_cache ctx_cache;
};

#define TCP_LOG(p, level, conn_id, ...) (p)->host->log((p)->self, (level), (conn_id), __VA_ARGS__)

/* Bind ep's address and accept on it until tcp_listen_stop. Logs why on failure; 0 or
 * -errno. */
int tcp_listen_start(struct tcp_plugin *p, const struct tcp_endpoint *ep, proxyd_listener *l,
		     void **listener_state);
void tcp_listen_stop(void *listener_state);

/* Read entry and start dialing it; the outcome reaches the host from the loop, never from
 * inside this call. -ENOMEM only when nothing could be set up (then no callback follows). */
int tcp_dial_start(struct tcp_plugin *p, const proxyd_cfg *entry, proxyd_dial *d,
		   void **dial_state);
void tcp_dial_cancel(void *dial_state);

#endif
