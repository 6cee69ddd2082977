/* The session API over a transport's native streams (ABI 1.3, doc/NATIVE-STREAMS.md).
 *
 * The transport (QUIC) carries the streams, their flow control and the connection's
 * liveness; this file keeps what the core needs on top:
 *   - every stream we open starts with the same open header a SYN carries on the
 *     multiplexer; a peer's stream is handed to the owner once its header has arrived;
 *   - the dialer's first stream is the control stream: it starts with the framing preface
 *     ("PRXD" + version) in each direction instead of an open header, so either side tells
 *     it from a data stream by its first byte and a version mismatch fails early;
 *   - writes go to the transport as far as it takes them; the rest waits in the stream's
 *     output queue for host->stream_writable;
 *   - received bytes are copied into the stream's input; past NATIVE_IN_MAX unconsumed the
 *     transport is told to pause, and stream_consumed resumes it, so a slow reader stalls
 *     its own stream only (the transport's flow control does the rest).
 * The host functions at the end are what host_api.c hands plugins. */
#include "config.h"
#include "session_internal.h"
#include "native_host.h"
#include "endpoint.h"
#include "log.h"
#include "loop.h"
#include "plugins.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

static struct session *conn_session(proxyd_conn *c)
{
	return (struct session *)c;
}

static struct stream *stream_of(proxyd_stream *p)
{
	return (struct stream *)p;
}

static int alive(const struct session *s)
{
	return s->nconn != NULL && !s->closed;
}

static void dispatch_begin(struct session *s)
{
	s->dispatching++;
}

static void dispatch_end(struct session *s)
{
	if (--s->dispatching == 0)
		session_free_dead(s);
}

/* ---- streams ---- */

void native_maybe_free(struct stream *st)
{
	struct session *s = st->s;
	if (st->unlinked || !st->released)
		return;
	/* A graceful release waits until what was queued, and the FIN, went to the transport. */
	if (alive(s) && !st->reset && !st->fin_sent && st->nstate)
		return;
	st->unlinked = 1;
	if (alive(s) && st->nstate && !st->native_released) {
		st->native_released = 1;
		s->nops->stream_release(st->nstate);
	}
	session_stream_unlink(st);
	if (s->dispatching) {
		st->bucket_next = s->dead;
		s->dead = st;
	} else {
		session_stream_destroy(st);
	}
}

/* Hand queued bytes, then the FIN, to the transport. With notify, tell the owner when there
 * is room (on_writable); without (the owner is writing right now: calling it back would run
 * its write path inside itself, with its own state half updated), a wake-up is scheduled for
 * the next loop turn instead when one is due. */
void native_kick(struct stream *st, int notify)
{
	struct session *s = st->s;
	if (st->flushing || !alive(s) || st->reset || !st->nstate || st->native_released)
		return;
	st->flushing = 1;
	dispatch_begin(s);
	for (;;) {
		while (!st->write_blocked && evbuffer_get_length(st->out)) {
			struct evbuffer_iovec v;
			if (evbuffer_peek(st->out, -1, NULL, &v, 1) < 1)
				break;
			size_t n = s->nops->stream_write(st->nstate, v.iov_base, v.iov_len);
			if (n > v.iov_len)
				n = v.iov_len;
			evbuffer_drain(st->out, n);
			if (!st->is_control)
				s->stats.bytes_out += n;
			if (n < v.iov_len)
				st->write_blocked = 1;
		}
		if (!evbuffer_get_length(st->out) && st->fin_queued && !st->fin_sent) {
			s->nops->stream_shutdown(st->nstate);
			st->fin_sent = 1;
		}
		if (!st->want_writable || st->released || evbuffer_get_length(st->out) >= NATIVE_QUEUE)
			break;
		if (!notify) {
			native_wake_later(st);
			break;
		}
		st->want_writable = 0;
		if (st->cbs && st->cbs->on_writable)
			st->cbs->on_writable(st, st->arg);
		if (st->reset || !alive(s))
			break;
		int more = evbuffer_get_length(st->out) && !st->write_blocked;
		int fin = st->fin_queued && !st->fin_sent && !evbuffer_get_length(st->out);
		if (!more && !fin)
			break;
	}
	st->flushing = 0;
	native_maybe_free(st);
	dispatch_end(s);
}

/* The owner asked for room and there is some: wake it from the next loop turn. */
void native_wake_later(struct stream *st)
{
	session_ready_add(st);
	loop_timer_start(st->s->pump_timer, 0, 0);
}

void native_pump(struct session *s)
{
	dispatch_begin(s);
	while (s->ready_head && alive(s)) {
		struct stream *st = s->ready_head;
		session_ready_remove(st);
		native_kick(st, 1);
	}
	dispatch_end(s);
}

void native_consumed(struct stream *st)
{
	if (!st->read_paused || !alive(st->s) || st->reset || !st->nstate)
		return;
	if (evbuffer_get_length(st->in) >= NATIVE_IN_MAX / 2)
		return;
	st->read_paused = 0;
	st->s->nops->stream_resume_read(st->nstate);
}

void native_reset(struct stream *st, uint32_t code)
{
	if (alive(st->s) && st->nstate && !st->native_released)
		st->s->nops->stream_reset(st->nstate, code);
}

/* A stream of ours: open it in the transport and queue its first bytes (the open header,
 * or the preface on the control stream). */
static struct stream *open_local(struct session *s, const uint8_t *first, size_t first_len)
{
	struct stream *st = session_stream_alloc(s, s->next_local_id);
	if (!st)
		return NULL;
	int rc = s->nops->stream_open(s->nconn, (proxyd_stream *)st, &st->nstate);
	if (rc < 0) {
		log_msg(PROXYD_LOG_DEBUG, "session", s->conn_id, "cannot open a stream: %s",
			strerror(-rc));
		st->nstate = NULL;
		st->released = 1;
		native_maybe_free(st);
		return NULL;
	}
	s->next_local_id += 2;
	st->hdr_done = 1;
	evbuffer_add(st->out, first, first_len);
	return st;
}

struct stream *native_open_stream(struct session *s, const struct open_header *oh)
{
	uint8_t hdr[OPEN_HEADER_MAX_LEN];
	int n = open_header_encode(hdr, sizeof hdr, oh);
	if (n < 0 || !alive(s))
		return NULL;
	struct stream *st = open_local(s, hdr, (size_t)n);
	if (!st)
		return NULL;
	st->oh = *oh;
	/* The header goes now; the transport sends it with the first data when that follows
	 * in this loop turn. */
	native_kick(st, 0);
	return st;
}

int native_control_send(struct session *s, const void *data, size_t len)
{
	if (!alive(s))
		return -EPIPE;
	if (!s->control) {
		/* The accepting side answers on the dialer's control stream, which has not
		 * arrived yet: keep the bytes until it does. */
		evbuffer_add(s->control_pending, data, len);
		return 0;
	}
	evbuffer_add(s->control->out, data, len);
	native_kick(s->control, 0);
	return 0;
}

void native_stats(const struct session *s, struct session_stats *out)
{
	if (!alive(s) || !s->nops->conn_stats)
		return;
	struct proxyd_conn_stats cs;
	memset(&cs, 0, sizeof cs);
	cs.size = sizeof cs;
	if (s->nops->conn_stats(s->nconn, &cs) == 0)
		out->rtt_us = cs.rtt_us;
}

/* ---- the session ---- */

int native_session_start(struct session *s)
{
	s->control_pending = evbuffer_new();
	if (!s->control_pending)
		return -ENOMEM;
	s->next_local_id = s->is_dialer ? 1 : 2;
	s->next_peer_id = s->is_dialer ? 2 : 1;
	if (!s->is_dialer)
		return 0;
	struct stream *c = open_local(s, (const uint8_t *)FRAME_PREFACE, FRAME_PREFACE_LEN);
	if (!c)
		return -EIO;
	c->is_control = 1;
	c->hdr_done = 0; /* the server's direction starts with its preface */
	s->control = c;
	/* Not a stream for the owners: it is neither counted nor handed out. */
	s->stats.streams_open--;
	s->stats.streams_total--;
	native_kick(c, 0);
	return 0;
}

void native_close(struct session *s)
{
	if (s->nconn) {
		void *c = s->nconn;
		s->nconn = NULL;
		s->nops->conn_close(c, 0, s->close_reason);
	}
}

void native_free(struct session *s)
{
	if (s->nconn) {
		void *c = s->nconn;
		s->nconn = NULL;
		s->nops->conn_close(c, 0, "session closed");
	}
	if (s->control) {
		/* Not counted as a stream; uncount it again before the table is torn down. */
		s->stats.streams_open++;
		s->control->released = 1;
		s->control = NULL;
	}
	if (s->control_pending) {
		evbuffer_free(s->control_pending);
		s->control_pending = NULL;
	}
}

/* ---- host functions (ABI 1.3) ---- */

/* The loader let this plugin in with all native ops or none; none means it may not hand
 * over native connections. */
static int native_capable(const struct proxyd_plugin *p)
{
	if (p->ops.transport.stream_open)
		return 1;
	log_msg(PROXYD_LOG_ERROR, p->label, 0,
		"handed over a native-stream connection without native-stream ops: refused");
	return 0;
}

proxyd_conn *native_host_accepted(proxyd_listener *l, void *conn_state,
				  const struct proxyd_peer_info *info)
{
	if (!native_capable(l->transport))
		return NULL;
	struct session_link link = {.nops = &l->transport->ops.transport, .nconn = conn_state};
	return (proxyd_conn *)l->on_accept(l->owner, &link, info);
}

proxyd_conn *native_host_connected(proxyd_dial *d, void *conn_state,
				   const struct proxyd_peer_info *info)
{
	d->finished = 1;
	d->transport_state = NULL;
	if (!native_capable(d->transport)) {
		d->on_failed(d->owner, -EPROTO, "the transport has no native-stream ops");
		return NULL;
	}
	struct session_link link = {.nops = &d->transport->ops.transport, .nconn = conn_state};
	return (proxyd_conn *)d->on_connected(d->owner, &link, info);
}

proxyd_stream *native_host_stream_arrived(proxyd_conn *c, void *stream_state)
{
	struct session *s = conn_session(c);
	if (!alive(s) || s->closing)
		return NULL;
	struct stream *st = session_stream_alloc(s, s->next_peer_id);
	if (!st)
		return NULL;
	s->next_peer_id += 2;
	st->nstate = stream_state;
	st->peer_opened = 1;
	return (proxyd_stream *)st;
}

/* The first bytes of a peer's stream: the preface (its control stream) or an open header. */
static void take_header(struct stream *st)
{
	struct session *s = st->s;
	size_t have = evbuffer_get_length(st->in);
	uint8_t *p = evbuffer_pullup(st->in, (ev_ssize_t)(have < OPEN_HEADER_MAX_LEN ? have : OPEN_HEADER_MAX_LEN));
	if (!p || !have)
		return;
	if (p[0] == FRAME_PREFACE[0]) {
		int ok = frame_check_preface(p, have < FRAME_PREFACE_LEN ? have : FRAME_PREFACE_LEN);
		if (ok == 0)
			return;
		if (ok < 0) {
			session_fail(s, "protocol error: the peer is not speaking proxyd");
			return;
		}
		if (st->peer_opened && (s->is_dialer || s->control)) {
			session_fail(s, "protocol error: a second control stream");
			return;
		}
		evbuffer_drain(st->in, FRAME_PREFACE_LEN);
		st->hdr_done = 1;
		if (st->peer_opened) {
			/* The dialer's control stream: ours goes back on it, preface first. */
			st->is_control = 1;
			s->control = st;
			s->stats.streams_open--;
			s->stats.streams_total--;
			evbuffer_add(st->out, FRAME_PREFACE, FRAME_PREFACE_LEN);
			evbuffer_add_buffer(st->out, s->control_pending);
			native_kick(st, 0);
		}
		return;
	}
	if (!st->peer_opened) {
		session_fail(s, "protocol error: the peer is not speaking proxyd");
		return;
	}
	struct open_header oh;
	const char *err = "truncated";
	int used = open_header_decode(p, have < OPEN_HEADER_MAX_LEN ? have : OPEN_HEADER_MAX_LEN, &oh, &err);
	if (used == -EAGAIN)
		return;
	if (used < 0) {
		/* Only this stream is bad; the others carry on. */
		log_msg(PROXYD_LOG_WARN, "session", s->conn_id, "stream %u refused: open header: %s",
			st->id, err);
		stream_reset(st, RST_PROTOCOL, err);
		stream_release(st);
		return;
	}
	evbuffer_drain(st->in, (size_t)used);
	st->hdr_done = 1;
	st->oh = oh;
	if (s->local_goaway) {
		stream_reset(st, RST_REFUSED, "going away");
		stream_release(st);
		return;
	}
	s->cbs->on_stream(s, s->owner, st, &oh);
	if (!st->cbs && !st->released) {
		stream_reset(st, RST_NO_SERVICE, "no handler");
		stream_release(st);
	}
}

static void control_bytes(struct stream *st)
{
	struct session *s = st->s;
	if (evbuffer_get_length(s->control_in) + evbuffer_get_length(st->in) > CONTROL_IN_MAX) {
		session_fail(s, "protocol error: more than %d bytes of unread control messages",
			     CONTROL_IN_MAX);
		return;
	}
	evbuffer_add_buffer(s->control_in, st->in);
	if (s->cbs->on_control)
		s->cbs->on_control(s, s->owner, s->control_in);
}

size_t native_host_stream_data(proxyd_stream *p, const void *data, size_t len)
{
	struct stream *st = stream_of(p);
	struct session *s = st->s;
	if (st->released || st->reset || s->closed)
		return NATIVE_IN_MAX; /* nobody reads: the transport may drop freely */
	dispatch_begin(s);
	evbuffer_add(st->in, data, len);
	if (!st->hdr_done) {
		take_header(st);
		if (!st->hdr_done || st->released || s->closed) {
			size_t held = evbuffer_get_length(st->in);
			dispatch_end(s);
			return held >= NATIVE_IN_MAX ? 1 : NATIVE_IN_MAX - held;
		}
	}
	size_t room = 0;
	if (st->is_control) {
		control_bytes(st);
		room = CONTROL_IN_MAX;
	} else {
		size_t held = evbuffer_get_length(st->in);
		s->stats.bytes_in += len;
		if (held && st->cbs)
			session_notify_owner(st, held);
		held = evbuffer_get_length(st->in);
		room = held >= NATIVE_IN_MAX ? 0 : NATIVE_IN_MAX - held;
		if (!room)
			st->read_paused = 1;
	}
	dispatch_end(s);
	return room;
}

void native_host_stream_fin(proxyd_stream *p)
{
	struct stream *st = stream_of(p);
	struct session *s = st->s;
	if (st->fin_recv || st->reset || st->released)
		return;
	dispatch_begin(s);
	st->fin_recv = 1;
	if (!st->hdr_done || st->is_control) {
		/* A stream that ended before saying what it is, or the control stream closed:
		 * the latter means the peer is gone. */
		if (st->is_control)
			session_fail(s, "the peer closed its control stream");
		else {
			stream_reset(st, RST_PROTOCOL, "ended before its open header");
			stream_release(st);
		}
	} else if (st->cbs && st->cbs->on_fin) {
		st->cbs->on_fin(st, st->arg);
	}
	dispatch_end(s);
}

void native_host_stream_reset_in(proxyd_stream *p, uint32_t code)
{
	struct stream *st = stream_of(p);
	struct session *s = st->s;
	if (st->reset)
		return;
	dispatch_begin(s);
	st->reset = 1;
	evbuffer_drain(st->out, evbuffer_get_length(st->out));
	if (st->is_control)
		session_fail(s, "the peer reset its control stream");
	else if (!st->hdr_done)
		st->released = 1;
	else if (!st->released && st->cbs && st->cbs->on_reset)
		st->cbs->on_reset(st, st->arg, code, frame_rst_name(code));
	native_maybe_free(st);
	dispatch_end(s);
}

void native_host_stream_writable(proxyd_stream *p)
{
	struct stream *st = stream_of(p);
	st->write_blocked = 0;
	native_kick(st, 1);
}

void native_host_conn_closed(proxyd_conn *c, uint32_t code, const char *reason)
{
	struct session *s = conn_session(c);
	s->nconn = NULL; /* the transport has forgotten it: call nothing more */
	if (s->closed || s->closing)
		return;
	if (code)
		session_fail(s, "%s (code %u)", reason ? reason : "connection closed", code);
	else
		session_fail(s, "%s", reason ? reason : "connection closed");
}
