/* The server role: accepts agents on the configured transports, authenticates them, keeps
 * the registry of agents and their services, and opens streams to them for the edges. */
#ifndef PROXYD_CORE_SERVER_H
#define PROXYD_CORE_SERVER_H

#include "conf.h"
#include "frame.h"

struct evbuffer;
struct stream;

int server_start(struct conf *c);
void server_stop(void);
/* For reload: sessions stay; listeners are re-created from the new configuration. */
void server_set_conf(struct conf *c);
int server_start_listeners(struct conf *c);
void server_stop_listeners(void);
int server_running(void);

/* Has this agent a live, registered session here? */
int server_agent_online(const char *agent_id);

/* Open a stream to a registered agent's service (service "" = the agent's default). NULL
 * with *why set when the agent is offline or has no such service. */
struct stream *server_open_stream(const char *agent_id, const char *service, uint8_t kind,
				  const char *client, const char **why);

/* Open a stream of kind PEER/PEER_PING (the relay) to a registered agent, with oh's kind,
 * service and client as they are. NULL with *why when the agent is offline or takes no new
 * streams. */
struct stream *server_open_peer_stream(const char *agent_id, const struct open_header *oh,
				       const char **why);

/* The services agent `to` registered that server.relay.allow lets agent `from` reach, as
 * "a,b,c" (empty when none) in out. */
void server_allowed_services(const char *from, const char *to, char *out, size_t cap);

/* Send a control message to a registered agent (the rendezvous); -ENOENT when offline. */
struct ctl_msg;
int server_send_ctl(const char *agent_id, const struct ctl_msg *m);

/* The "sessions" and "listeners" parts of `proxyctl status`, as JSON array members. */
void server_status_sessions(struct evbuffer *out, int *first);
void server_status_listeners(struct evbuffer *out, int *first);

/* Drain: stop accepting, GOAWAY to every agent; busy while streams are open. */
void server_drain_begin(void);
int server_busy(void);

#endif
