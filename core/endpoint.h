/* The core's side of transport endpoints: a listener the core asked a transport to open and
 * a dial the core asked it to make. Whoever created one decides what a finished connection
 * means (the server role, the agent role, a test) through the callbacks. */
#ifndef PROXYD_CORE_ENDPOINT_H
#define PROXYD_CORE_ENDPOINT_H

#include "proxyd/plugin.h"

struct session;
struct session_link;

struct proxyd_listener {
	struct proxyd_plugin *transport;
	void *transport_state; /* from ops.listen */
	/* A finished connection; returns the session made for it, or NULL after discarding
	 * the link (session_link_discard). */
	struct session *(*on_accept)(void *owner, const struct session_link *link,
				     const struct proxyd_peer_info *info);
	void *owner;
};

struct proxyd_dial {
	struct proxyd_plugin *transport;
	void *transport_state; /* from ops.dial; NULL once finished */
	int finished;
	struct session *(*on_connected)(void *owner, const struct session_link *link,
					const struct proxyd_peer_info *info);
	void (*on_failed)(void *owner, int err, const char *reason);
	void *owner;
};

#endif
