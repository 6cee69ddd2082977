/* The multiplexer: frames in and out of one bufferevent, stream table, per-stream flow
 * control with window autotuning, fair round-robin sending, PING, GOAWAY. The wire format
 * lives in frame.c; this file is the state machine around it. */
#include "config.h"
#include "session.h"
#include "session_internal.h"
#include "log.h"
#include "loop.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

static void pump(struct session *s);
void session_fail(struct session *s, const char *fmt, ...) PROXYD_PRINTF(2, 3);

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- stream table ---- */

struct stream *session_find_stream(struct session *s, uint32_t id)
{
	for (struct stream *st = s->buckets[id % STREAM_BUCKETS]; st; st = st->bucket_next)
		if (st->id == id)
			return st;
	return NULL;
}

void session_ready_add(struct stream *st)
{
	struct session *s = st->s;
	if (st->in_ready)
		return;
	st->in_ready = 1;
	st->ready_next = NULL;
	st->ready_prev = s->ready_tail;
	if (s->ready_tail)
		s->ready_tail->ready_next = st;
	else
		s->ready_head = st;
	s->ready_tail = st;
}

void session_ready_remove(struct stream *st)
{
	struct session *s = st->s;
	if (!st->in_ready)
		return;
	if (st->ready_prev)
		st->ready_prev->ready_next = st->ready_next;
	else
		s->ready_head = st->ready_next;
	if (st->ready_next)
		st->ready_next->ready_prev = st->ready_prev;
	else
		s->ready_tail = st->ready_prev;
	st->in_ready = 0;
	st->ready_next = st->ready_prev = NULL;
}

struct stream *session_stream_alloc(struct session *s, uint32_t id)
{
	struct stream *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->in = evbuffer_new();
	st->out = evbuffer_new();
	if (!st->in || !st->out) {
		if (st->in)
			evbuffer_free(st->in);
		if (st->out)
			evbuffer_free(st->out);
		free(st);
		return NULL;
	}
	st->s = s;
	st->id = id;
	st->send_window = s->lim.initial_window;
	st->recv_window = s->lim.initial_window;
	st->epoch_us = loop_now_us();
	st->recv_avail = s->lim.initial_window;
	st->last_update_ms = loop_now_ms();
	struct stream **b = &s->buckets[id % STREAM_BUCKETS];
	st->bucket_next = *b;
	*b = st;
	s->stats.streams_open++;
	s->stats.streams_total++;
	return st;
}

void session_stream_unlink(struct stream *st)
{
	struct session *s = st->s;
	for (struct stream **p = &s->buckets[st->id % STREAM_BUCKETS]; *p; p = &(*p)->bucket_next)
		if (*p == st) {
			*p = st->bucket_next;
			break;
		}
	session_ready_remove(st);
	s->stats.streams_open--;
	if (s->cbs->on_stream_gone)
		s->cbs->on_stream_gone(s, s->owner);
}

void session_stream_destroy(struct stream *st)
{
	evbuffer_free(st->in);
	evbuffer_free(st->out);
	free(st);
}

/* A stream is closed for the protocol once both FINs passed or it was reset. */
static void note_protocol_close(struct stream *st)
{
	if (st->counted_closed)
		return;
	if (!(st->reset || (st->fin_sent && st->fin_recv)))
		return;
	st->counted_closed = 1;
	if (st->peer_opened && st->s->peer_open > 0)
		st->s->peer_open--;
}

static void maybe_free(struct stream *st)
{
	if (st->s->nops) {
		native_maybe_free(st);
		return;
	}
	note_protocol_close(st);
	/* Callers may reach here twice for one stream (the owner released it inside a
	 * callback, then the dispatcher checks again): only the first unlinks. */
	if (!st->released || !st->counted_closed || st->unlinked)
		return;
	st->unlinked = 1;
	session_stream_unlink(st);
	if (st->s->dispatching) {
		st->bucket_next = st->s->dead;
		st->s->dead = st;
	} else {
		session_stream_destroy(st);
	}
}

void session_free_dead(struct session *s)
{
	while (s->dead) {
		struct stream *st = s->dead;
		s->dead = st->bucket_next;
		session_stream_destroy(st);
	}
}

/* ---- output ---- */

static void write_frame(struct session *s, uint8_t type, uint8_t flags, uint32_t id,
			const void *payload, size_t len)
{
	struct frame_header h = {.length = (uint32_t)len, .type = type, .flags = flags, .stream_id = id};
	uint8_t hdr[FRAME_HEADER_LEN];
	frame_encode_header(hdr, &h);
	struct evbuffer *out = bufferevent_get_output(s->bev);
	evbuffer_add(out, hdr, sizeof hdr);
	if (len)
		evbuffer_add(out, payload, len);
}

static void send_rst(struct session *s, uint32_t id, uint32_t code, const char *reason)
{
	uint8_t p[4 + 256];
	size_t n = frame_encode_rst(p, code, reason ? reason : "");
	write_frame(s, FRAME_RST, 0, id, p, n);
}

static void send_window_update(struct stream *st, int force)
{
	struct session *s = st->s;
	if (s->nops)
		return; /* the transport does flow control */
	if (st->reset || st->fin_recv || st->consumed_unsent == 0)
		return;
	/* Announce in batches: a quarter of the window is enough to keep data flowing
	 * without a WINDOW frame per read. */
	if (!force && st->consumed_unsent < st->recv_window / 4)
		return;
	uint32_t increment = st->consumed_unsent;
	uint64_t now = loop_now_ms();
	/* Autotuning: when a whole window's worth was consumed within two round trips, the
	 * window and not the reader limits this stream; double it (up to the cap). So it
	 * settles near twice the bandwidth-delay product, and a receiver never holds more than
	 * the path needs. Measured over a window's worth, not per update (updates go out every
	 * quarter window), and in microseconds: on a LAN or loopback a round trip is well under
	 * a millisecond, and a millisecond-grained test would grow every window to the cap. */
	uint64_t now_us = loop_now_us();
	uint64_t rtt_us = s->stats.rtt_us ? s->stats.rtt_us : 1000;
	st->epoch_bytes += st->consumed_unsent;
	if (st->epoch_bytes >= st->recv_window) {
		if (st->recv_window < s->lim.max_window && now_us - st->epoch_us < 2 * rtt_us + 250) {
			uint32_t extra = st->recv_window;
			if (st->recv_window + extra > s->lim.max_window)
				extra = s->lim.max_window - st->recv_window;
			st->recv_window += extra;
			increment += extra;
		}
		st->epoch_us = now_us;
		st->epoch_bytes = 0;
	}
	st->last_update_ms = now;
	uint8_t p[4] = {(uint8_t)(increment >> 24), (uint8_t)(increment >> 16),
			(uint8_t)(increment >> 8), (uint8_t)increment};
	write_frame(s, FRAME_WINDOW, 0, st->id, p, sizeof p);
	st->recv_avail += increment;
	st->consumed_unsent = 0;
}

/* Send one frame's worth for st. Returns 1 if st still has sendable data. */
static int send_some(struct stream *st)
{
	struct session *s = st->s;
	struct evbuffer *out = bufferevent_get_output(s->bev);
	size_t queued = evbuffer_get_length(st->out);
	size_t n = queued;
	if (n > SEND_CHUNK)
		n = SEND_CHUNK;
	if (n > st->send_window)
		n = st->send_window;
	uint8_t prefix[FRAME_HEADER_LEN + 3 + 64 + 64];
	int oh_len = 0;
	uint8_t flags = 0;
	if (st->syn_pending) {
		oh_len = open_header_encode(prefix + FRAME_HEADER_LEN, sizeof prefix - FRAME_HEADER_LEN,
					    &st->oh);
		if (oh_len < 0)
			oh_len = 0;
		flags |= FRAME_FLAG_SYN;
	}
	int fin = st->fin_queued && n == queued;
	if (fin)
		flags |= FRAME_FLAG_FIN;
	if (n == 0 && !fin && !st->syn_pending)
		return 0;
	struct frame_header h = {.length = (uint32_t)(n + (size_t)oh_len), .type = FRAME_DATA,
				 .flags = flags, .stream_id = st->id};
	frame_encode_header(prefix, &h);
	/* Header and payload go into one contiguous piece of the output: the TLS layer makes
	 * one record (and one write) per piece, and a 9-byte piece per frame would double the
	 * records and syscalls. One copy of the payload is much cheaper than that. */
	size_t plen = FRAME_HEADER_LEN + (size_t)oh_len;
	struct evbuffer_iovec v;
	if (evbuffer_reserve_space(out, (ev_ssize_t)(plen + n), &v, 1) == 1) {
		memcpy(v.iov_base, prefix, plen);
		if (n)
			evbuffer_remove(st->out, (char *)v.iov_base + plen, n);
		v.iov_len = plen + n;
		evbuffer_commit_space(out, &v, 1);
	} else {
		evbuffer_add(out, prefix, plen);
		if (n)
			evbuffer_remove_buffer(st->out, out, n);
	}
	st->send_window -= (uint32_t)n;
	s->stats.bytes_out += n;
	st->syn_pending = 0;
	if (fin) {
		st->fin_sent = 1;
		note_protocol_close(st);
	}
	if (st->want_writable && evbuffer_get_length(st->out) < STREAM_QUEUE_SLACK) {
		st->want_writable = 0;
		if (st->cbs && st->cbs->on_writable)
			st->cbs->on_writable(st, st->arg);
	}
	if (fin)
		maybe_free(st);
	else
		return evbuffer_get_length(st->out) > 0 && st->send_window > 0;
	return 0;
}

static void pump(struct session *s)
{
	if (s->closed || s->closing)
		return;
	struct evbuffer *out = bufferevent_get_output(s->bev);
	s->dispatching++;
	while (s->ready_head && evbuffer_get_length(out) < OUT_HIGH) {
		struct stream *st = s->ready_head;
		session_ready_remove(st);
		if (st->reset)
			continue;
		if (send_some(st) && !st->reset && session_find_stream(s, st->id) == st)
			session_ready_add(st); /* to the back: round robin */
	}
	s->dispatching--;
	if (!s->dispatching)
		session_free_dead(s);
}

static void stream_kick(struct stream *st)
{
	if (st->s->nops) {
		native_kick(st, 0);
		return;
	}
	if (st->reset || st->fin_sent)
		return;
	size_t queued = evbuffer_get_length(st->out);
	if ((queued && st->send_window) || (st->fin_queued && !queued) || st->syn_pending) {
		session_ready_add(st);
		pump(st->s);
	}
}

/* ---- closing ---- */

static void reset_all_streams(struct session *s, const char *reason)
{
	s->dispatching++;
	for (int b = 0; b < STREAM_BUCKETS; b++) {
		struct stream *st = s->buckets[b];
		while (st) {
			struct stream *next = st->bucket_next;
			if (!st->reset && !(st->fin_sent && st->fin_recv)) {
				st->reset = 1;
				session_ready_remove(st);
				if (st->cbs && st->cbs->on_reset)
					st->cbs->on_reset(st, st->arg, RST_GOING_AWAY, reason);
			}
			maybe_free(st);
			st = next;
		}
	}
	s->dispatching--;
	if (!s->dispatching)
		session_free_dead(s);
}

static void finish_close(struct session *s)
{
	if (s->closed)
		return;
	s->closed = 1;
	if (s->ping_timer)
		loop_timer_stop(s->ping_timer);
	if (s->close_timer)
		loop_timer_stop(s->close_timer);
	loop_timer_stop(s->pump_timer);
	if (s->bev)
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	reset_all_streams(s, s->close_reason);
	/* Tell the owner from a fresh loop turn, so it may free the session in on_closed
	 * while none of our frames are on the stack. */
	loop_timer_start(s->close_timer, 0, 0);
}

static void close_timer_fired(void *arg)
{
	struct session *s = arg;
	if (!s->closed) {
		finish_close(s);
		return;
	}
	if (!s->notified) {
		s->notified = 1;
		if (s->cbs->on_closed)
			s->cbs->on_closed(s, s->owner, s->close_reason);
	}
}

static void pump_timer_fired(void *arg)
{
	struct session *s = arg;
	if (s->nops)
		native_pump(s);
	else
		pump(s);
}

void session_fail(struct session *s, const char *fmt, ...)
{
	if (s->closed)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->close_reason, sizeof s->close_reason, fmt, ap);
	va_end(ap);
	log_msg(PROXYD_LOG_WARN, "session", s->conn_id, "closing: %s", s->close_reason);
	finish_close(s);
}

void session_close(struct session *s, const char *reason)
{
	if (s->closed || s->closing)
		return;
	s->closing = 1;
	snprintf(s->close_reason, sizeof s->close_reason, "%s", reason);
	if (s->nops) {
		native_close(s);
		loop_timer_start(s->close_timer, 0, 0);
		return;
	}
	uint8_t p[8 + 256];
	size_t n = frame_encode_goaway(p, s->highest_peer_id, 0, reason);
	write_frame(s, FRAME_GOAWAY, 0, 0, p, n);
	bufferevent_disable(s->bev, EV_READ);
	/* Let the GOAWAY and queued data leave, but never wait long for a stuck peer. */
	loop_timer_start(s->close_timer, evbuffer_get_length(bufferevent_get_output(s->bev)) ? CLOSE_FLUSH_MS : 0, 0);
}

void session_free(struct session *s)
{
	if (!s)
		return;
	if (s->nops)
		native_free(s); /* the connection first: no transport calls for its streams */
	if (!s->closed) {
		s->closed = 1;
		reset_all_streams(s, "session freed");
	}
	for (int b = 0; b < STREAM_BUCKETS; b++)
		while (s->buckets[b]) {
			struct stream *st = s->buckets[b];
			s->buckets[b] = st->bucket_next;
			session_stream_destroy(st);
		}
	session_free_dead(s);
	loop_timer_free(s->ping_timer);
	loop_timer_free(s->close_timer);
	loop_timer_free(s->pump_timer);
	if (s->bev)
		bufferevent_free(s->bev);
	evbuffer_free(s->control_in);
	free(s);
}

void session_goaway(struct session *s, uint32_t code, const char *reason)
{
	if (s->closed || s->closing)
		return;
	s->local_goaway = 1;
	if (s->nops)
		return; /* the control protocol's GOAWAY tells the peer; new streams are refused */
	uint8_t p[8 + 256];
	size_t n = frame_encode_goaway(p, s->highest_peer_id, code, reason);
	write_frame(s, FRAME_GOAWAY, 0, 0, p, n);
}

void session_peer_goaway(struct session *s)
{
	s->peer_goaway = 1;
}

/* ---- input ---- */

static void on_ping(struct session *s, const struct frame_header *h, const uint8_t *p)
{
	if (!(h->flags & FRAME_FLAG_ACK)) {
		write_frame(s, FRAME_PING, FRAME_FLAG_ACK, 0, p, 8);
		return;
	}
	if (s->ping_sent_us && memcmp(p, s->ping_token, 8) == 0) {
		s->stats.rtt_us = now_us() - s->ping_sent_us;
		s->ping_sent_us = 0;
		if (s->cbs->on_rtt)
			s->cbs->on_rtt(s, s->owner, s->stats.rtt_us);
	}
}

/* Move a DATA payload (already checked against the window) into the stream. */
static void take_payload(struct stream *st, const struct frame_header *h, struct evbuffer *in,
			 size_t len)
{
	evbuffer_remove_buffer(in, st->in, len);
	st->recv_avail -= (uint32_t)len;
	st->s->stats.bytes_in += len;
	if (h->flags & FRAME_FLAG_FIN)
		st->fin_recv = 1;
}

/* Tell the owner about new bytes and the FIN; it may release the stream in either. */
void session_notify_owner(struct stream *st, size_t len)
{
	if (len && st->cbs && st->cbs->on_data)
		st->cbs->on_data(st, st->arg);
	if (st->fin_recv && !st->reset && !st->released && st->cbs && st->cbs->on_fin)
		st->cbs->on_fin(st, st->arg);
}

static void on_data(struct session *s, const struct frame_header *h, struct evbuffer *in)
{
	size_t len = h->length;
	if (h->stream_id == 0) {
		/* Control messages are small; a peer that piles up more than a few of them
		 * unread is misbehaving. */
		if (evbuffer_get_length(s->control_in) + len > CONTROL_IN_MAX) {
			session_fail(s, "protocol error: more than %d bytes of unread control messages",
				     CONTROL_IN_MAX);
			return;
		}
		evbuffer_remove_buffer(in, s->control_in, len);
		if (s->cbs->on_control)
			s->cbs->on_control(s, s->owner, s->control_in);
		return;
	}
	struct stream *st;
	if (h->flags & FRAME_FLAG_SYN) {
		int ours = (h->stream_id & 1) == (s->is_dialer ? 1u : 0u);
		if (ours || h->stream_id <= s->highest_peer_id) {
			session_fail(s, "protocol error: SYN for stream %u, which the peer may not open",
				     h->stream_id);
			return;
		}
		s->highest_peer_id = h->stream_id;
		struct open_header oh;
		const char *err = "truncated";
		size_t take = len < sizeof(uint8_t) * 131 ? len : 131;
		uint8_t *p = evbuffer_pullup(in, (ssize_t)take);
		int used = p ? open_header_decode(p, take, &oh, &err) : -EPROTO;
		if (used < 0) {
			session_fail(s, "protocol error: stream %u open header: %s", h->stream_id, err);
			return;
		}
		evbuffer_drain(in, (size_t)used);
		len -= (size_t)used;
		if (s->peer_open >= s->lim.max_streams || s->closing || s->local_goaway) {
			evbuffer_drain(in, len);
			send_rst(s, h->stream_id, RST_REFUSED,
				 s->peer_open >= s->lim.max_streams ? "too many streams" : "going away");
			return;
		}
		st = session_stream_alloc(s, h->stream_id);
		if (!st) {
			evbuffer_drain(in, len);
			send_rst(s, h->stream_id, RST_INTERNAL, "out of memory");
			return;
		}
		st->peer_opened = 1;
		s->peer_open++;
		if (len > st->recv_avail) {
			session_fail(s, "protocol error: stream %u sent %zu bytes over its window",
				     h->stream_id, len);
			return;
		}
		take_payload(st, h, in, len);
		s->cbs->on_stream(s, s->owner, st, &oh);
		if (!st->cbs && !st->released) {
			/* The owner neither took nor refused it. */
			stream_reset(st, RST_NO_SERVICE, "no handler");
			stream_release(st);
			return;
		}
		if (!st->released)
			session_notify_owner(st, evbuffer_get_length(st->in));
		return;
	}
	st = session_find_stream(s, h->stream_id);
	if (!st) {
		int ours = (h->stream_id & 1) == (s->is_dialer ? 1u : 0u);
		if ((ours && h->stream_id >= s->next_local_id) ||
		    (!ours && h->stream_id > s->highest_peer_id)) {
			session_fail(s, "protocol error: DATA for stream %u that was never opened",
				     h->stream_id);
			return;
		}
		evbuffer_drain(in, len); /* a stream we already closed: data in flight */
		return;
	}
	if (st->fin_recv || st->reset) {
		evbuffer_drain(in, len);
		return;
	}
	if (len > st->recv_avail) {
		evbuffer_drain(in, len);
		send_rst(s, st->id, RST_FLOW, "window exceeded");
		st->reset = 1;
		session_ready_remove(st);
		if (st->cbs && st->cbs->on_reset)
			st->cbs->on_reset(st, st->arg, RST_FLOW, "peer exceeded the window");
		maybe_free(st);
		return;
	}
	take_payload(st, h, in, len);
	if (st->released) {
		/* Nobody reads any more: drop what arrives, but keep the window open so the
		 * peer can reach its FIN. */
		evbuffer_drain(st->in, evbuffer_get_length(st->in));
		st->consumed_unsent += (uint32_t)len;
		send_window_update(st, 0);
		maybe_free(st);
		return;
	}
	session_notify_owner(st, len);
	if (st->fin_recv)
		maybe_free(st);
}

/* Handle one complete frame whose header was decoded; its payload is at the front of in. */
static void dispatch(struct session *s, const struct frame_header *h, struct evbuffer *in)
{
	uint8_t small[8 + 256 + 8];
	switch (h->type) {
	case FRAME_DATA:
		on_data(s, h, in);
		return;
	case FRAME_WINDOW: {
		evbuffer_remove(in, small, h->length);
		uint32_t inc;
		if (frame_decode_window(small, h->length, &inc) < 0) {
			session_fail(s, "protocol error: bad WINDOW frame");
			return;
		}
		struct stream *st = session_find_stream(s, h->stream_id);
		if (!st)
			return;
		if ((uint64_t)st->send_window + inc > 0x7fffffffu) {
			session_fail(s, "protocol error: window of stream %u overflows", st->id);
			return;
		}
		st->send_window += inc;
		stream_kick(st);
		if (st->want_writable && evbuffer_get_length(st->out) < STREAM_QUEUE_SLACK) {
			st->want_writable = 0;
			if (st->cbs && st->cbs->on_writable)
				st->cbs->on_writable(st, st->arg);
		}
		return;
	}
	case FRAME_RST: {
		evbuffer_remove(in, small, h->length);
		uint32_t code;
		const char *reason;
		size_t rlen;
		if (frame_decode_rst(small, h->length, &code, &reason, &rlen) < 0) {
			session_fail(s, "protocol error: bad RST frame");
			return;
		}
		struct stream *st = session_find_stream(s, h->stream_id);
		if (!st || st->reset)
			return;
		char text[257];
		memcpy(text, reason, rlen);
		text[rlen] = '\0';
		st->reset = 1;
		session_ready_remove(st);
		evbuffer_drain(st->out, evbuffer_get_length(st->out));
		if (!st->released && st->cbs && st->cbs->on_reset)
			st->cbs->on_reset(st, st->arg, code, text);
		maybe_free(st);
		return;
	}
	case FRAME_PING:
		evbuffer_remove(in, small, h->length);
		on_ping(s, h, small);
		return;
	case FRAME_GOAWAY: {
		evbuffer_remove(in, small, h->length);
		uint32_t last, code;
		const char *reason;
		size_t rlen;
		if (frame_decode_goaway(small, h->length, &last, &code, &reason, &rlen) < 0) {
			session_fail(s, "protocol error: bad GOAWAY frame");
			return;
		}
		s->peer_goaway = 1;
		log_msg(PROXYD_LOG_INFO, "session", s->conn_id, "peer sent GOAWAY: %.*s", (int)rlen,
			reason);
		return;
	}
	default:
		/* Unknown frame types are skipped: newer peers may send them. */
		evbuffer_drain(in, h->length);
		return;
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	s->dispatching++;
	if (!s->got_preface) {
		uint8_t *p = evbuffer_pullup(in, FRAME_PREFACE_LEN);
		if (!p) {
			size_t have = evbuffer_get_length(in);
			p = evbuffer_pullup(in, (ssize_t)have);
			if (have && frame_check_preface(p, have) < 0)
				session_fail(s, "protocol error: the peer is not speaking proxyd");
			goto out;
		}
		if (frame_check_preface(p, FRAME_PREFACE_LEN) != 1) {
			session_fail(s, "protocol error: the peer is not speaking proxyd");
			goto out;
		}
		evbuffer_drain(in, FRAME_PREFACE_LEN);
		s->got_preface = 1;
	}
	while (!s->closed) {
		uint8_t *p = evbuffer_pullup(in, FRAME_HEADER_LEN);
		if (!p)
			break;
		struct frame_header h;
		const char *err = NULL;
		int rc = frame_decode_header(p, FRAME_HEADER_LEN, &h, &err);
		if (rc < 0) {
			session_fail(s, "protocol error: %s", err ? err : "bad frame header");
			break;
		}
		if (evbuffer_get_length(in) < FRAME_HEADER_LEN + (size_t)h.length)
			break;
		evbuffer_drain(in, FRAME_HEADER_LEN);
		dispatch(s, &h, in);
	}
	pump(s);
out:
	s->dispatching--;
	if (!s->dispatching)
		session_free_dead(s);
	if (s->closed)
		return;
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	if (s->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		finish_close(s);
		return;
	}
	pump(s);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	if (s->closing) {
		finish_close(s);
		return;
	}
	if (what & BEV_EVENT_EOF)
		session_fail(s, "connection closed by peer");
	else if (what & BEV_EVENT_ERROR) {
		int err = EVUTIL_SOCKET_ERROR();
		if (err)
			session_fail(s, "connection error: %s", evutil_socket_error_to_string(err));
		else
			session_fail(s, "connection lost (TLS error or reset)");
	}
	else if (what & BEV_EVENT_TIMEOUT)
		session_fail(s, "connection timed out");
}

static void ping_timer_fired(void *arg)
{
	session_ping(arg);
}

void session_ping(struct session *s)
{
	if (s->closed || s->closing || s->nops)
		return; /* a native transport measures RTT itself (session_stats) */
	uint64_t t = now_us();
	for (int i = 0; i < 8; i++)
		s->ping_token[i] = (uint8_t)(t >> (8 * i));
	s->ping_sent_us = t;
	write_frame(s, FRAME_PING, 0, 0, s->ping_token, 8);
}

static struct session *session_alloc(int is_dialer, uint64_t conn_id,
				     const struct session_limits *limits,
				     const struct session_cbs *cbs, void *owner)
{
	struct session *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->is_dialer = is_dialer;
	s->conn_id = conn_id;
	s->cbs = cbs;
	s->owner = owner;
	s->lim.max_streams = limits && limits->max_streams ? limits->max_streams : 1024;
	s->lim.initial_window = limits && limits->initial_window ? limits->initial_window : 256 * 1024;
	s->lim.max_window = limits && limits->max_window ? limits->max_window : 16 * 1024 * 1024;
	s->next_local_id = is_dialer ? 1 : 2;
	s->control_in = evbuffer_new();
	s->ping_timer = loop_timer_new(ping_timer_fired, s);
	s->close_timer = loop_timer_new(close_timer_fired, s);
	s->pump_timer = loop_timer_new(pump_timer_fired, s);
	if (!s->control_in || !s->ping_timer || !s->close_timer || !s->pump_timer) {
		if (s->control_in)
			evbuffer_free(s->control_in);
		loop_timer_free(s->ping_timer);
		loop_timer_free(s->close_timer);
		loop_timer_free(s->pump_timer);
		free(s);
		return NULL;
	}
	return s;
}

static struct session *session_new_mux(struct bufferevent *bev, int is_dialer, uint64_t conn_id,
				       const struct session_limits *limits,
				       const struct session_cbs *cbs, void *owner)
{
	struct session *s = session_alloc(is_dialer, conn_id, limits, cbs, owner);
	if (!s)
		return NULL;
	s->bev = bev;
	bufferevent_setcb(bev, on_read, on_write, on_event, s);
	bufferevent_setwatermark(bev, EV_WRITE, OUT_LOW, 0);
	/* libevent moves at most 16 KiB per read or write call by default (the TLS
	 * bufferevent reads 4 KiB); bulk transfers then spend their time in syscalls. */
	bufferevent_set_max_single_read(bev, IO_MAX_SINGLE);
	bufferevent_set_max_single_write(bev, IO_MAX_SINGLE);
	/* The TLS bufferevent asks SSL_read for only 4 KiB at a time unless a read
	 * high-watermark says how much may be buffered. Every complete frame is taken out at
	 * once in on_read, so the input never holds more than one partial frame. */
	bufferevent_setwatermark(bev, EV_READ, 0, READ_HIGH);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	evbuffer_add(bufferevent_get_output(bev), FRAME_PREFACE, FRAME_PREFACE_LEN);
	session_ping(s);
	loop_timer_start(s->ping_timer, PING_INTERVAL_MS, 1);
	/* Data may already be waiting (it arrived with the TLS handshake). */
	if (evbuffer_get_length(bufferevent_get_input(bev)))
		bufferevent_trigger(bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
	return s;
}

static struct session *session_new_native(const struct session_link *link, int is_dialer,
					  uint64_t conn_id, const struct session_limits *limits,
					  const struct session_cbs *cbs, void *owner)
{
	struct session *s = session_alloc(is_dialer, conn_id, limits, cbs, owner);
	if (!s)
		return NULL;
	s->nops = link->nops;
	s->nconn = link->nconn;
	if (native_session_start(s) < 0) {
		s->nconn = NULL; /* the caller still owns the connection */
		session_free(s);
		return NULL;
	}
	return s;
}

struct session *session_new(const struct session_link *link, int is_dialer, uint64_t conn_id,
			    const struct session_limits *limits, const struct session_cbs *cbs,
			    void *owner)
{
	if (link->nops)
		return session_new_native(link, is_dialer, conn_id, limits, cbs, owner);
	return session_new_mux(link->bev, is_dialer, conn_id, limits, cbs, owner);
}

void session_link_discard(const struct session_link *link)
{
	/* A native connection is the transport's to close: it does when the host function
	 * that handed it over returns NULL. */
	if (!link->nops)
		bufferevent_free(link->bev);
}

int session_control_send(struct session *s, const void *data, size_t len)
{
	if (s->closed || s->closing)
		return -EPIPE;
	if (s->nops)
		return native_control_send(s, data, len);
	const uint8_t *p = data;
	while (len) {
		size_t n = len > 16384 ? 16384 : len;
		write_frame(s, FRAME_DATA, 0, 0, p, n);
		p += n;
		len -= n;
	}
	return 0;
}

uint64_t session_conn_id(const struct session *s)
{
	return s->conn_id;
}

void session_stats(const struct session *s, struct session_stats *out)
{
	*out = s->stats;
	if (s->nops)
		native_stats(s, out);
}

int session_is_closed(const struct session *s)
{
	return s->closed || s->closing;
}

struct stream *session_open_stream(struct session *s, const struct open_header *oh)
{
	uint8_t probe[OPEN_HEADER_MAX_LEN];
	if (s->closed || s->closing || s->peer_goaway || s->next_local_id > 0x7ffffffdu)
		return NULL;
	/* A header that would not encode must fail here, not as a SYN the peer rejects. */
	if (open_header_encode(probe, sizeof probe, oh) < 0)
		return NULL;
	if (s->nops)
		return native_open_stream(s, oh);
	struct stream *st = session_stream_alloc(s, s->next_local_id);
	if (!st)
		return NULL;
	s->next_local_id += 2;
	st->oh = *oh;
	st->syn_pending = 1;
	/* The SYN leaves at the end of this loop turn: data written before then rides in the
	 * same frame, and a protocol where the service speaks first (SSH) still gets its
	 * stream opened without waiting for the client. */
	session_ready_add(st);
	loop_timer_start(s->pump_timer, 0, 0);
	return st;
}

/* ---- streams ---- */

void stream_set_cbs(struct stream *st, const struct stream_cbs *cbs, void *arg)
{
	st->cbs = cbs;
	st->arg = arg;
}

struct evbuffer *stream_input(struct stream *st)
{
	return st->in;
}

void stream_consumed(struct stream *st, size_t n)
{
	if (st->s->nops) {
		native_consumed(st);
		return;
	}
	st->consumed_unsent += (uint32_t)n;
	if (!st->s->closed && !st->s->closing) {
		send_window_update(st, 0);
	}
}

static int stream_writable(const struct stream *st)
{
	return !st->reset && !st->fin_queued && !st->released && !st->s->closed && !st->s->closing;
}

int stream_write(struct stream *st, const void *data, size_t len)
{
	if (!stream_writable(st))
		return -EPIPE;
	evbuffer_add(st->out, data, len);
	stream_kick(st);
	return 0;
}

int stream_write_buffer(struct stream *st, struct evbuffer *buf, size_t n)
{
	if (!stream_writable(st))
		return -EPIPE;
	evbuffer_remove_buffer(buf, st->out, n);
	stream_kick(st);
	return 0;
}

size_t stream_send_space(struct stream *st)
{
	size_t queued = evbuffer_get_length(st->out);
	/* A native transport buffers what it takes; the core keeps only a little more. */
	size_t limit = st->s->nops ? NATIVE_QUEUE : (size_t)st->send_window + STREAM_QUEUE_SLACK;
	/* Whoever asks may fill the space and then wait: always arrange the wake-up. */
	st->want_writable = 1;
	return queued >= limit ? 0 : limit - queued;
}

void stream_shutdown(struct stream *st)
{
	if (st->fin_queued || st->reset)
		return;
	st->fin_queued = 1;
	if (st->s->nops) {
		native_kick(st, 0);
		return;
	}
	if (!st->s->closed && !st->s->closing) {
		session_ready_add(st);
		pump(st->s);
	}
}

void stream_reset(struct stream *st, uint32_t code, const char *reason)
{
	if (st->reset)
		return;
	st->reset = 1;
	session_ready_remove(st);
	evbuffer_drain(st->out, evbuffer_get_length(st->out));
	if (st->s->nops)
		native_reset(st, code);
	/* A stream the peer never heard of (SYN not sent yet) needs no RST. */
	else if (!st->syn_pending && !st->s->closed && !st->s->closing)
		send_rst(st->s, st->id, code, reason);
	maybe_free(st);
}

void stream_release(struct stream *st)
{
	if (st->released)
		return;
	st->released = 1;
	st->cbs = NULL;
	if (!st->reset && !(st->fin_sent && st->fin_recv)) {
		if (st->fin_queued && !st->s->closed && !st->s->closing) {
			/* A graceful close: queued data and the FIN still leave as the window
			 * allows; whatever still arrives is dropped (with the window kept open so
			 * the peer can reach its own FIN). */
			if (!st->fin_recv) {
				size_t n = evbuffer_get_length(st->in);
				evbuffer_drain(st->in, n);
				st->consumed_unsent += (uint32_t)n;
				send_window_update(st, 1);
			}
			maybe_free(st);
			return;
		}
		stream_reset(st, RST_CANCEL, "closed");
		return;
	}
	maybe_free(st);
}

int stream_peer_finished(const struct stream *st)
{
	return st->fin_recv;
}

uint32_t stream_id(const struct stream *st)
{
	return st->id;
}

struct session *stream_session(const struct stream *st)
{
	return st->s;
}
