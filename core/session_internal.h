/* What the two session backends share: the session and stream structures and the stream
 * table. session.c is the multiplexer over one byte stream (frames, windows, PING) and the
 * public API; session_native.c runs the same API over a transport's own streams (QUIC),
 * calling the transport's ABI 1.3 ops. Nothing outside these two files includes this. */
#ifndef PROXYD_CORE_SESSION_INTERNAL_H
#define PROXYD_CORE_SESSION_INTERNAL_H

#include "session.h"
#include "proxyd/plugin.h"

#define STREAM_BUCKETS 1024
/* A DATA frame carries at most this much, so one busy stream cannot hog the connection for
 * long: the round-robin moves on after each frame. */
#define SEND_CHUNK (32 * 1024)
/* Keep about this much queued in the connection's output; more only adds latency. */
#define OUT_HIGH (512 * 1024)
#define OUT_LOW (128 * 1024)
/* A stream's owner may queue this much beyond its window before being told to wait. */
#define STREAM_QUEUE_SLACK (64 * 1024)
/* Native streams: how much a stream's owner may queue in the core beyond what the transport
 * took, and how much received data the core holds before it asks the transport to pause. */
#define NATIVE_QUEUE (256 * 1024)
#define NATIVE_IN_MAX (1024 * 1024)
#define PING_INTERVAL_MS 15000
#define CLOSE_FLUSH_MS 2000
#define CONTROL_IN_MAX (256 * 1024)
#define IO_MAX_SINGLE (256 * 1024)
#define READ_HIGH (FRAME_HEADER_LEN + FRAME_MAX_PAYLOAD + IO_MAX_SINGLE)

struct stream {
	struct session *s;
	uint32_t id;
	struct stream *bucket_next;
	struct stream *ready_next, *ready_prev;
	int in_ready;
	struct evbuffer *in, *out;
	uint32_t send_window;     /* bytes the peer still lets us send */
	uint32_t recv_window;     /* our window size (grows by autotuning) */
	uint32_t recv_avail;      /* bytes the peer may still send before our next update */
	uint32_t consumed_unsent; /* consumed by the owner, not yet announced */
	uint64_t last_update_ms;
	uint64_t epoch_us;        /* autotuning: when the current window's worth began */
	uint32_t epoch_bytes;     /* ... and how much was consumed since */
	struct open_header oh;
	unsigned syn_pending : 1, fin_queued : 1, fin_sent : 1, fin_recv : 1, reset : 1,
		released : 1, peer_opened : 1, counted_closed : 1, want_writable : 1, unlinked : 1;
	const struct stream_cbs *cbs;
	void *arg;
	/* Native streams (session_native.c): the transport's state for the stream. */
	void *nstate;
	unsigned hdr_done : 1, is_control : 1, write_blocked : 1, read_paused : 1, flushing : 1,
		native_released : 1;
};

struct session {
	struct bufferevent *bev;
	int is_dialer;
	uint64_t conn_id;
	struct session_limits lim;
	const struct session_cbs *cbs;
	void *owner;
	struct stream *buckets[STREAM_BUCKETS];
	struct stream *ready_head, *ready_tail;
	uint32_t next_local_id;
	uint32_t highest_peer_id;
	uint32_t peer_open; /* peer-opened streams not yet closed, for the limit */
	struct evbuffer *control_in;
	struct session_stats stats;
	uint64_t ping_sent_us;
	uint8_t ping_token[8];
	proxyd_timer *ping_timer;
	proxyd_timer *close_timer;
	proxyd_timer *pump_timer;
	int got_preface, closed, closing, notified, peer_goaway, local_goaway, dispatching;
	char close_reason[256];
	struct stream *dead; /* released streams freed after the current dispatch */
	/* Native sessions: the transport's ops and connection state (NULL once the connection
	 * is closed: no more calls into the transport), the control stream, and control bytes
	 * queued before the peer's control stream arrived (the accepting side). */
	const struct proxyd_transport_ops *nops;
	void *nconn;
	struct stream *control;
	struct evbuffer *control_pending;
	uint32_t next_peer_id;
};


/* The stream table and life cycle, shared by both backends (session.c). */
struct stream *session_find_stream(struct session *s, uint32_t id);
struct stream *session_stream_alloc(struct session *s, uint32_t id);
void session_stream_unlink(struct stream *st);
void session_stream_destroy(struct stream *st);
void session_free_dead(struct session *s);
void session_fail(struct session *s, const char *fmt, ...) PROXYD_PRINTF(2, 3);
void session_notify_owner(struct stream *st, size_t len);
/* The ready list: streams with something to send (multiplexer) or an owner to wake
 * (native); the session's pump timer works through it. */
void session_ready_add(struct stream *st);
void session_ready_remove(struct stream *st);

/* The native backend (session_native.c); session.c's public functions hand over to these
 * when s->nops is set. */
int native_session_start(struct session *s);
void native_maybe_free(struct stream *st);
void native_close(struct session *s);
void native_free(struct session *s);
int native_control_send(struct session *s, const void *data, size_t len);
struct stream *native_open_stream(struct session *s, const struct open_header *oh);
void native_consumed(struct stream *st);
void native_kick(struct stream *st, int notify);
void native_wake_later(struct stream *st);
void native_pump(struct session *s);
void native_reset(struct stream *st, uint32_t code);
void native_stats(const struct session *s, struct session_stats *out);

#endif
