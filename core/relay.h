/* The relay (server side): an agent opened a stream of kind PEER or PEER_PING naming another
 * agent in its preamble. If server.relay.allow lets the one reach the other's service, the
 * server opens a stream of the same kind to that agent, names the agent it comes from in the
 * preamble, and joins the two; otherwise the stream is reset with the reason. The leg frames
 * inside are end to end between the agents: the server does not read them. */
#ifndef PROXYD_CORE_RELAY_H
#define PROXYD_CORE_RELAY_H

#include <stdint.h>

struct stream;
struct open_header;

/* from: the agent the stream came from (authenticated by its session). Takes the stream. */
void relay_stream(const char *from, uint64_t conn_id, struct stream *st,
		  const struct open_header *oh);

/* Counters for metrics and status. */
struct relay_stats {
	uint64_t relayed, refused_acl, refused_offline;
};
void relay_get_stats(struct relay_stats *out);

#endif
