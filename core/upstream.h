/* Where the HTTP edge sends a request: a stream to an agent's service through its session,
 * or a TCP connection to a direct address (a VM on a local bridge). Both look the same to
 * the edge: bytes in with explicit consumption (so backpressure reaches the far end), bytes
 * out with a send budget, half-close, and an abort that the far end sees as an abort.
 *
 * Callbacks may run from inside upstream_write_buffer() or upstream_shutdown() (a stream
 * sends at once when its window allows), so the owner must tolerate re-entry. */
#ifndef PROXYD_CORE_UPSTREAM_H
#define PROXYD_CORE_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct evbuffer;
struct stream;
struct upstream;

struct upstream_cbs {
	void (*on_data)(void *arg);     /* upstream_input() has new bytes */
	void (*on_fin)(void *arg);      /* the far end finished sending */
	/* The far end aborted, or a direct connection failed to connect. */
	void (*on_reset)(void *arg, const char *reason);
	void (*on_writable)(void *arg); /* send space opened up again */
};

/* Takes the stream (already open towards the agent). */
struct upstream *upstream_from_stream(struct stream *st, const struct upstream_cbs *cbs, void *arg);
/* Starts a non-blocking connect; bytes written before it completes are sent after it. */
struct upstream *upstream_connect(const struct sockaddr *sa, socklen_t salen, uint64_t conn_id,
				  const struct upstream_cbs *cbs, void *arg);

struct evbuffer *upstream_input(struct upstream *u);
void upstream_consumed(struct upstream *u, size_t n);
/* Move up to n bytes out of buf. */
int upstream_write_buffer(struct upstream *u, struct evbuffer *buf, size_t n);
/* How much more is sensible to queue; asking arranges for on_writable once it drains. */
size_t upstream_send_space(struct upstream *u);
void upstream_shutdown(struct upstream *u);
/* Has it ever been connected (a stream always is; a direct connection once its connect
 * succeeded)? */
int upstream_connected(const struct upstream *u);
/* Done with it. abort: the far end sees a reset (a stream RST, a TCP RST) unless both
 * directions had already finished cleanly. No callback runs after this. */
void upstream_free(struct upstream *u, int abort);

#endif
