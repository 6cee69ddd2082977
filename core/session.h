/* Sessions and streams: the multiplexer that turns one byte-stream connection (TCP, TLS)
 * into many full-duplex streams with per-stream flow control (doc/PROTOCOL.md), or the same
 * interface over a transport's native streams (QUIC; doc/NATIVE-STREAMS.md).
 *
 * A stream's owner (the splice engine, the control protocol) sees:
 *   - received bytes in stream_input(); after taking some, it calls stream_consumed(), which
 *     is what lets the peer send more (so a slow reader only ever stalls its own stream);
 *   - stream_write() queues bytes; stream_send_space() says how much more is sensible to
 *     queue before on_writable; the session sends queued bytes as the window allows;
 *   - stream_shutdown() sends FIN after everything queued; stream_reset() aborts both ways.
 * Callbacks run on the loop thread. on_writable may run from inside stream_write(),
 * stream_write_buffer() or stream_shutdown() (they send at once when the window allows), so an
 * owner must tolerate re-entry there (splice.c holds a busy count); the other callbacks only
 * come from the session's own I/O events. */
#ifndef PROXYD_CORE_SESSION_H
#define PROXYD_CORE_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include "proxyd/plugin.h"
#include "frame.h"

struct bufferevent;
struct evbuffer;
struct session;
struct stream;

struct stream_cbs {
	void (*on_data)(struct stream *st, void *arg);     /* stream_input() has new bytes */
	void (*on_fin)(struct stream *st, void *arg);      /* peer finished sending */
	void (*on_reset)(struct stream *st, void *arg, uint32_t code, const char *reason);
	void (*on_writable)(struct stream *st, void *arg); /* send space opened up again */
};

struct session_cbs {
	/* The peer opened a stream; the owner calls stream_set_cbs (or stream_reset). */
	void (*on_stream)(struct session *s, void *owner, struct stream *st,
			  const struct open_header *oh);
	/* Bytes arrived on the control stream (stream 0). */
	void (*on_control)(struct session *s, void *owner, struct evbuffer *in);
	/* A stream is gone for good (both sides done, or reset, and released): what a
	 * draining daemon waits for. Optional. */
	void (*on_stream_gone)(struct session *s, void *owner);
	/* An RTT sample from PING (microseconds). */
	void (*on_rtt)(struct session *s, void *owner, uint64_t rtt_us);
	/* The session is gone (peer closed, protocol error, session_close). Every stream got
	 * on_reset before this. The owner must not touch s after returning, except
	 * session_free. */
	void (*on_closed)(struct session *s, void *owner, const char *reason);
};

struct session_stats {
	uint64_t bytes_in, bytes_out; /* payload bytes of streams (not control) */
	uint32_t streams_open;
	uint64_t streams_total;
	uint64_t rtt_us;              /* latest PING RTT, 0 before the first */
};

struct session_limits {
	uint32_t max_streams;       /* concurrent streams the peer may open (default 1024) */
	uint32_t initial_window;    /* default 256 KiB */
	uint32_t max_window;        /* autotuning cap, default 16 MiB */
};

/* A finished connection from a transport: one byte stream the session multiplexes (bev), or
 * a connection with native streams (ABI 1.3: nops and nconn). */
struct session_link {
	struct bufferevent *bev;
	const struct proxyd_transport_ops *nops;
	void *nconn;
};

/* Takes ownership of the link's connection (on success). is_dialer: we opened the connection
 * (agent side); it decides the parity of stream ids we allocate and, on a native link, which
 * side opens the control stream. */
struct session *session_new(const struct session_link *link, int is_dialer, uint64_t conn_id,
			    const struct session_limits *limits, const struct session_cbs *cbs,
			    void *owner);
/* Refuse a link no session was made for: frees the bufferevent (a native connection is
 * closed by its transport when the host call that handed it over returns NULL). */
void session_link_discard(const struct session_link *link);
/* Close now: every open stream is reset with RST_GOING_AWAY semantics locally, the
 * connection is closed after queued output is flushed (bounded), on_closed runs later. */
void session_close(struct session *s, const char *reason);
/* Free after on_closed (or instead of session_close when no callbacks are wanted). */
void session_free(struct session *s);
/* Send GOAWAY: the peer must open no new streams; ours keep working. */
void session_goaway(struct session *s, uint32_t code, const char *reason);
/* The peer said (in the control protocol) that it goes away: open no new streams to it. The
 * multiplexer learns it from the GOAWAY frame too; a native transport has no such frame. */
void session_peer_goaway(struct session *s);
/* Queue control-stream bytes. */
int session_control_send(struct session *s, const void *data, size_t len);
/* Measure RTT now (PING); the result comes through on_rtt. */
void session_ping(struct session *s);
uint64_t session_conn_id(const struct session *s);
void session_stats(const struct session *s, struct session_stats *out);
int session_is_closed(const struct session *s);

/* Open a stream towards the peer. The open header leaves at the end of this loop turn,
 * together with whatever was written by then, so opening costs no round trip. */
struct stream *session_open_stream(struct session *s, const struct open_header *oh);

void stream_set_cbs(struct stream *st, const struct stream_cbs *cbs, void *arg);
struct evbuffer *stream_input(struct stream *st);
/* The owner took n bytes out of stream_input(); opens the peer's window by that much. */
void stream_consumed(struct stream *st, size_t n);
/* Queue bytes: copied from data, or up to n bytes moved (not copied) out of buf. */
int stream_write(struct stream *st, const void *data, size_t len);
int stream_write_buffer(struct stream *st, struct evbuffer *buf, size_t n);
/* How many bytes can be queued before the queue exceeds what the window lets out soon.
 * Asking also arranges for on_writable once the queue has drained. */
size_t stream_send_space(struct stream *st);
void stream_shutdown(struct stream *st);
void stream_reset(struct stream *st, uint32_t code, const char *reason);
/* The owner is done with the stream (after FIN both ways or a reset, or to abandon it:
 * an open stream is reset). The stream must not be used afterwards. */
void stream_release(struct stream *st);
/* Has the peer's FIN arrived (possibly before the current owner took the stream)? */
int stream_peer_finished(const struct stream *st);
uint32_t stream_id(const struct stream *st);
struct session *stream_session(const struct stream *st);

#endif
