/* The agent's side of agent-to-agent traffic (doc/DIRECT-PATHS.md): the paths to each
 * other agent (the relay through the server session, and a direct path when one was
 * proven), the direct attempts that make them (with the udp-punch transport, arranged by the
 * server), the streams other agents open here (access checked with agent.allow), and
 * proxyctl ping. */
#ifndef PROXYD_CORE_PEERS_H
#define PROXYD_CORE_PEERS_H

#include <stdint.h>
#include "conf.h"
#include "ctl.h"
#include "proxyd/plugin.h"

struct evbuffer;
struct stream;
struct session;
struct open_header;
struct admin_reply;

int peers_start(struct conf *c);
void peers_stop(void);
void peers_set_conf(struct conf *c);

/* The agent's server session registered, or went away. */
void peers_server_ready(void);
void peers_server_lost(void);
/* A direct-path control message from the server (DIRECT_OFFER, DIRECT_GO). */
void peers_on_control(const struct ctl_msg *m);

/* A stream of kind PEER or PEER_PING arrived from the server (the relay). Takes it. */
void peers_incoming(struct stream *st, const struct open_header *oh);

/* Open a leg towards `peer`: a stream of `kind` naming `service`, its preamble written. Over
 * the direct path when one is up and prefer_direct (or only then, when direct_only), else
 * the relay. NULL with *why when there is no path now. */
struct stream *peers_open_leg(const char *peer, const char *service, uint8_t kind,
			      int prefer_direct, int direct_only, int *via_direct, const char **why);
long long peers_resume_timeout_ms(void);

/* proxyctl ping AGENT: `count` PINGs over `via` ("best": the direct path when one is up,
 * else the relay; "relay"; "direct"); the answer goes to r. */
void peers_ping(const char *peer, int count, const char *via, struct admin_reply *r);
/* The "peers" part of proxyctl status (JSON array members) and the metrics lines. */
void peers_status(struct evbuffer *out, int *first);
void peers_metrics(struct evbuffer *out);

/* ABI 1.5 host calls (host_api.c puts them in the table). */
void peers_host_direct_gathered(proxyd_direct *d, const char *candidates, const char *detail);
proxyd_conn *peers_host_direct_connected(proxyd_direct *d, void *conn_state,
					 const struct proxyd_peer_info *info);
void peers_host_direct_failed(proxyd_direct *d, const char *step, const char *reason);

#endif
