/* One user connection between two agents (doc/DIRECT-PATHS.md): the consumer agent's local
 * socket and the provider agent's connection to its service, joined by a "leg", a stream over
 * the relay or over a direct path. Bytes are numbered end to end and kept by the sender until
 * the other agent acknowledges them, so the connection can move to another leg (relay ->
 * direct when a direct path is proven, direct -> relay when it dies) without losing or
 * repeating a byte: the new leg starts with each side saying how much it has, and each
 * sends again from there. Wire format: peer_wire.h. */
#ifndef PROXYD_CORE_PEER_CONN_H
#define PROXYD_CORE_PEER_CONN_H

#include <stdint.h>

struct bufferevent;
struct evbuffer;
struct stream;
struct open_header;

/* Consumer: a user connected to agent.connect's listener; take bev and reach `service` on
 * `peer`. use_direct 0: always over the relay (the entry's direct = false). */
void peer_conn_consumer_new(const char *peer, const char *service, int use_direct,
			    struct bufferevent *bev, const char *client);

/* Provider: a PEER stream arrived from `from` (its preamble read, access allowed); its first
 * frame says which connection it is a leg of. via_direct: it came over a direct path. */
void peer_conn_leg_arrived(const char *from, struct stream *st, const struct open_header *oh,
			   int via_direct);

/* A direct path to peer came up: the consumer's connections to it move there. */
void peer_conn_path_up(const char *peer);

struct peer_conn_stats {
	uint64_t opened, active, completed, aborted;
	uint64_t moved_to_direct, moved_to_relay; /* legs changed without losing the connection */
	uint64_t active_direct, active_relay;     /* connections on each path now */
};
void peer_conn_get_stats(struct peer_conn_stats *out);

/* At exit: every connection aborted (no callbacks). */
void peer_conn_free_all(void);

#endif
