/* quic_native.c: the ABI 1.3 native-stream glue. Each proxyd_stream is one bidirectional
 * QUIC stream; the core's ops become engine calls, and the engine's callbacks become host
 * calls. Listening and dialing (quic_listen.c, quic_dial.c) only make the connections.
 *
 * The rules of plugin.h shape it:
 *  - Host functions are never called from inside an op. Engine callbacks arrive from the
 *    loop (the engine promises never to call back from inside its own functions), so host
 *    calls are made from those callbacks, and from one event of our own: a stream the core
 *    un-paused with stream_resume_read is read from there, not from inside that op.
 *  - The core may call ops from inside our host calls (write the partner stream, reset or
 *    release this one, close the connection). So a stream is never freed while one of our
 *    host calls for it is on the stack (busy), and every loop re-checks the stream after a
 *    host call.
 *  - After stream_release, or after conn_close / conn_closed, no host call concerns that
 *    stream or connection again: such a stream is "quiet". Its incoming bytes are still read
 *    and dropped, so the peer can finish and QUIC can close the stream, which is when its
 *    state goes (the engine's stream_closed may come before or after the release).
 *  - Reading only what the core takes (host->stream_data's return) is the flow control: the
 *    engine gives the peer credit for bytes read, so a slow consumer stalls only its stream. */
#include "config.h"
#include "quic_plugin.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RST codes (doc/PROTOCOL.md 10.1) and session codes (10.2) used by the transport itself. */
#define RST_CANCEL 1
#define RST_NO_SERVICE 3
#define RST_INTERNAL 6
#define RST_GOING_AWAY 7
#define SESSION_PROTOCOL 1
#define SESSION_TIMEOUT 7
#define SESSION_INTERNAL 9

struct qt_stream {
	struct qt_conn *conn;
	struct quic_stream *qs; /* NULL once the engine has closed the stream */
	proxyd_stream *core;    /* the core's handle, once it has the stream */
	size_t want;            /* bytes the core takes now; 0: paused until stream_resume_read */
	unsigned released : 1,  /* stream_release: nothing more for the core */
		reset_by_core : 1, fin_asked : 1, fin_delivered : 1, reset_delivered : 1,
		want_writable : 1, queued : 1;
	int busy; /* host calls for it on the stack: it is freed after they return */
	TAILQ_ENTRY(qt_stream) resume_link;
	LIST_ENTRY(qt_stream) link;
};

static void on_resume(evutil_socket_t fd, short what, void *arg);

/* ---- connections ---- */

struct qt_conn *qt_conn_new(struct qt_plugin *p, struct quic_conn *qc, uint64_t conn_id,
			    int server)
{
	struct qt_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->resume_ev = event_new(p->base, -1, 0, on_resume, c);
	if (!c->resume_ev) {
		free(c);
		return NULL;
	}
	c->kind = QT_KIND_CONN;
	c->p = p;
	c->qc = qc;
	c->conn_id = conn_id;
	c->server = server;
	TAILQ_INIT(&c->resumeq);
	LIST_INIT(&c->streams);
	struct sockaddr_storage ss;
	socklen_t len;
	if (quic_conn_peer_addr(qc, &ss, &len) == 0)
		qt_sockaddr_format((struct sockaddr *)&ss, c->peer, sizeof c->peer);
	LIST_INSERT_HEAD(&p->conns, c, link);
	quic_conn_set_user(qc, c);
	return c;
}

static void stream_free(struct qt_stream *s)
{
	struct qt_conn *c = s->conn;
	if (s->queued)
		TAILQ_REMOVE(&c->resumeq, s, resume_link);
	LIST_REMOVE(s, link);
	if (s->qs)
		quic_stream_set_user(s->qs, NULL);
	free(s);
}

void qt_conn_free(struct qt_conn *c)
{
	while (!LIST_EMPTY(&c->streams))
		stream_free(LIST_FIRST(&c->streams));
	event_free(c->resume_ev);
	if (c->qc)
		quic_conn_set_user(c->qc, NULL);
	LIST_REMOVE(c, link);
	free(c);
}

void qt_conn_peer_info(const struct qt_conn *c, struct proxyd_peer_info *info)
{
	const char *identity = quic_conn_peer_identity(c->qc);
	memset(info, 0, sizeof *info);
	info->size = sizeof *info;
	info->address = c->peer;
	info->identity = identity;
	info->security = quic_conn_security(c->qc);
	/* A server's identity exists only for a verified client certificate; a client always
	 * verified the server's chain and name, CN or not. */
	info->verified = c->server ? identity != NULL : 1;
}

void qt_conn_refuse(struct qt_conn *c, uint32_t code, const char *reason)
{
	quic_conn_close(c->qc, code, reason);
	qt_conn_free(c);
}

/* What the core is told when the engine ends a connection: a session code (doc/PROTOCOL.md
 * 10.2) and a sentence that starts with what happened. */
static uint32_t describe_close(const struct quic_close_info *in, char *buf, size_t len)
{
	switch (in->kind) {
	case QUIC_CLOSE_APPLICATION:
		if (in->reason[0])
			snprintf(buf, len, "%s: %s", in->by_peer ? "peer closed" : "closed",
				 in->reason);
		else
			snprintf(buf, len, "%s with code %llu", in->by_peer ? "peer closed" : "closed",
				 (unsigned long long)in->code);
		return in->code > UINT32_MAX ? SESSION_INTERNAL : (uint32_t)in->code;
	case QUIC_CLOSE_IDLE:
	case QUIC_CLOSE_HANDSHAKE_TIMEOUT:
		snprintf(buf, len, "%s", in->reason); /* "idle timeout: ..." */
		return SESSION_TIMEOUT;
	case QUIC_CLOSE_UNREACHABLE:
		snprintf(buf, len, "peer lost: %s", in->reason);
		return SESSION_TIMEOUT;
	case QUIC_CLOSE_TRANSPORT:
	case QUIC_CLOSE_HANDSHAKE:
		snprintf(buf, len, "QUIC transport error: %s", in->reason);
		return SESSION_PROTOCOL;
	case QUIC_CLOSE_INTERNAL:
	default:
		snprintf(buf, len, "local failure: %s", in->reason);
		return SESSION_INTERNAL;
	}
}

void qt_conn_engine_closed(struct qt_conn *c, const struct quic_close_info *info)
{
	struct qt_plugin *p = c->p;
	char reason[320];
	uint32_t code = describe_close(info, reason, sizeof reason);
	c->qc = NULL; /* gone when this callback returns */
	QT_LOG(p, PROXYD_LOG_DEBUG, c->conn_id, "connection with %s closed: %s", c->peer, reason);
	if (c->core && !c->core_closed)
		p->host->conn_closed(c->core, code, reason);
	/* The core calls nothing about this connection or its streams any more: what it has
	 * not released goes too. */
	qt_conn_free(c);
}

void qt_on_path_changed(struct quic_conn *qc, int ok, void *arg)
{
	struct qt_conn *c = quic_conn_user(qc);
	if (!c || c->kind != QT_KIND_CONN)
		return;
	char now[QT_ADDR_TEXT_MAX] = "?";
	struct sockaddr_storage ss;
	socklen_t len;
	if (c->server) {
		/* the agent moved (migration, or its NAT gave it another port): streams go on */
		if (!ok || quic_conn_peer_addr(qc, &ss, &len) != 0)
			return;
		qt_sockaddr_format((struct sockaddr *)&ss, now, sizeof now);
		QT_LOG(c->p, PROXYD_LOG_INFO, c->conn_id, "peer %s moved to %s", c->peer, now);
		snprintf(c->peer, sizeof c->peer, "%s", now);
		return;
	}
	if (quic_conn_local_addr(qc, &ss, &len) == 0)
		qt_sockaddr_format((struct sockaddr *)&ss, now, sizeof now);
	QT_LOG(c->p, ok ? PROXYD_LOG_INFO : PROXYD_LOG_WARN, c->conn_id,
	       "connection to %s %s local address %s", c->peer, ok ? "moved to" : "could not move to",
	       now);
}

/* ---- streams: from the engine to the core ---- */

/* No host call may concern s any more. */
static int stream_quiet(const struct qt_stream *s)
{
	return s->released || s->reset_by_core || !s->core || s->conn->core_closed;
}

static void stream_maybe_free(struct qt_stream *s)
{
	if (!s->busy && !s->qs && s->released)
		stream_free(s);
}

/* Hands the core what it wants of the stream's bytes, then the FIN; drops them for a quiet
 * stream. */
static void stream_pump(struct qt_stream *s)
{
	struct qt_plugin *p = s->conn->p;
	s->busy++;
	while (s->qs) {
		if (stream_quiet(s) || s->reset_delivered) {
			/* nobody wants the bytes; reading them gives the peer credit to finish */
			while (quic_stream_read(s->qs, p->rbuf, QT_READ_CHUNK) > 0)
				;
			break;
		}
		if (quic_stream_readable_bytes(s->qs) == 0) {
			if (quic_stream_eof(s->qs) && !s->fin_delivered) {
				s->fin_delivered = 1;
				p->host->stream_fin(s->core);
			}
			break;
		}
		if (s->want == 0)
			break; /* until stream_resume_read */
		size_t n = s->want < QT_READ_CHUNK ? s->want : QT_READ_CHUNK;
		ssize_t got = quic_stream_read(s->qs, p->rbuf, n);
		if (got <= 0)
			break;
		s->want = p->host->stream_data(s->core, p->rbuf, (size_t)got);
	}
	s->busy--;
	stream_maybe_free(s);
}

static void stream_queue(struct qt_stream *s)
{
	if (!s->queued) {
		TAILQ_INSERT_TAIL(&s->conn->resumeq, s, resume_link);
		s->queued = 1;
	}
	event_active(s->conn->resume_ev, EV_TIMEOUT, 0);
}

/* The streams queued when it fired, and no more: a core that pauses and resumes a stream
 * from inside stream_data must not keep this loop going. Later ones run at the next turn. */
static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct qt_conn *c = arg;
	size_t n = 0;
	struct qt_stream *s;
	TAILQ_FOREACH(s, &c->resumeq, resume_link)
		n++;
	while (n-- > 0 && (s = TAILQ_FIRST(&c->resumeq))) {
		TAILQ_REMOVE(&c->resumeq, s, resume_link);
		s->queued = 0;
		stream_pump(s);
	}
}

static struct qt_stream *stream_new(struct qt_conn *c, struct quic_stream *qs)
{
	struct qt_stream *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->conn = c;
	s->qs = qs;
	s->want = SIZE_MAX; /* until the core says how much */
	LIST_INSERT_HEAD(&c->streams, s, link);
	return s;
}

static struct qt_conn *conn_of(struct quic_stream *qs)
{
	struct qt_conn *c = quic_conn_user(quic_stream_conn(qs));
	return c && c->kind == QT_KIND_CONN ? c : NULL;
}

void qt_on_stream_opened(struct quic_stream *qs, void *arg)
{
	struct qt_conn *c = conn_of(qs);
	if (!c || !c->core || c->core_closed) {
		quic_stream_reset(qs, RST_GOING_AWAY);
		return;
	}
	struct qt_stream *s = stream_new(c, qs);
	if (!s) {
		QT_LOG(c->p, PROXYD_LOG_ERROR, c->conn_id, "out of memory for a stream from %s",
		       c->peer);
		quic_stream_reset(qs, RST_INTERNAL);
		return;
	}
	quic_stream_set_user(qs, s);
	s->busy++;
	proxyd_stream *st = c->p->host->stream_arrived(c->core, s);
	s->busy--;
	if (!st) {
		if (!s->reset_by_core && s->qs)
			quic_stream_reset(qs, RST_NO_SERVICE);
		stream_free(s);
		return;
	}
	s->core = st;
	/* bytes that came with the opening are offered by the readable callback that follows */
}

void qt_on_stream_readable(struct quic_stream *qs, void *arg)
{
	struct qt_stream *s = quic_stream_user(qs);
	if (s)
		stream_pump(s);
}

void qt_on_stream_writable(struct quic_stream *qs, void *arg)
{
	struct qt_stream *s = quic_stream_user(qs);
	if (!s || !s->want_writable || stream_quiet(s))
		return;
	s->want_writable = 0;
	s->busy++;
	s->conn->p->host->stream_writable(s->core);
	s->busy--;
	stream_maybe_free(s);
}

static uint32_t rst_code(uint64_t code)
{
	/* wider than the ABI's codes: unknown, which the protocol reads as CANCEL */
	return code > UINT32_MAX ? RST_CANCEL : (uint32_t)code;
}

void qt_on_stream_reset(struct quic_stream *qs, enum quic_dir dir, uint64_t code, void *arg)
{
	struct qt_stream *s = quic_stream_user(qs);
	if (!s || stream_quiet(s) || s->reset_delivered)
		return;
	/* RESET_STREAM or STOP_SENDING: either way the peer aborted the stream, once */
	s->reset_delivered = 1;
	s->want_writable = 0;
	s->busy++;
	s->conn->p->host->stream_reset_in(s->core, rst_code(code));
	s->busy--;
	stream_pump(s); /* drops what is still buffered; may free s */
}

void qt_on_stream_closed(struct quic_stream *qs, uint64_t code, void *arg)
{
	struct qt_stream *s = quic_stream_user(qs);
	if (!s)
		return;
	if (code == QUIC_STREAM_CONN_CLOSED) {
		/* the connection's conn_closed follows and tells the core */
	} else if (code == 0) {
		/* both ways finished: the FIN, if the core has not had it yet */
		if (!stream_quiet(s) && !s->reset_delivered)
			stream_pump(s);
	} else if (!stream_quiet(s) && !s->reset_delivered) {
		/* ended with a code the core has not heard of: it must not wait forever */
		s->reset_delivered = 1;
		s->busy++;
		s->conn->p->host->stream_reset_in(s->core, rst_code(code));
		s->busy--;
	}
	/* the handle is gone when this returns */
	s->qs = NULL;
	s->want_writable = 0;
	if (s->queued) {
		TAILQ_REMOVE(&s->conn->resumeq, s, resume_link);
		s->queued = 0;
	}
	stream_maybe_free(s);
}

/* ---- the ops: from the core to the engine (no host calls from here) ---- */

int qt_stream_open(void *conn_state, proxyd_stream *st, void **stream_state)
{
	struct qt_conn *c = conn_state;
	if (!c->qc || c->core_closed)
		return -ENOTCONN;
	struct qt_stream *s = stream_new(c, NULL);
	if (!s)
		return -ENOMEM;
	int rv = quic_stream_open(c->qc, s, &s->qs);
	if (rv < 0) {
		s->qs = NULL;
		stream_free(s);
		return rv; /* -EAGAIN: the peer's stream limit; the core tries later */
	}
	s->core = st;
	*stream_state = s;
	return 0;
}

size_t qt_stream_write(void *stream_state, const void *data, size_t len)
{
	struct qt_stream *s = stream_state;
	if (!s->qs || s->reset_by_core || s->fin_asked || s->released || len == 0)
		return 0;
	ssize_t n = quic_stream_write(s->qs, data, len);
	if (n < 0)
		return 0; /* -EPIPE: the sending side is gone (peer's STOP_SENDING) */
	if ((size_t)n < len)
		s->want_writable = 1; /* the engine's stream_writable follows */
	return (size_t)n;
}

void qt_stream_shutdown(void *stream_state)
{
	struct qt_stream *s = stream_state;
	if (!s->qs || s->fin_asked || s->reset_by_core)
		return;
	s->fin_asked = 1;
	quic_stream_shutdown(s->qs);
}

void qt_stream_reset(void *stream_state, uint32_t code)
{
	struct qt_stream *s = stream_state;
	if (s->reset_by_core)
		return;
	s->reset_by_core = 1;
	s->want_writable = 0;
	/* stream_closed follows from the loop, and with it the end of the state */
	if (s->qs)
		quic_stream_reset(s->qs, code);
}

void qt_stream_resume_read(void *stream_state)
{
	struct qt_stream *s = stream_state;
	if (!s->qs || stream_quiet(s))
		return;
	s->want = SIZE_MAX; /* until stream_data says how much */
	stream_queue(s);
}

void qt_stream_release(void *stream_state)
{
	struct qt_stream *s = stream_state;
	s->released = 1;
	s->want_writable = 0;
	if (s->qs) {
		if (!s->fin_asked && !s->reset_by_core) {
			/* let go with the sending side still open: nobody will ever end it */
			s->reset_by_core = 1;
			quic_stream_reset(s->qs, RST_CANCEL);
		} else {
			stream_queue(s); /* drop what is buffered, so the peer can finish */
		}
	}
	stream_maybe_free(s);
}

void qt_conn_close(void *conn_state, uint32_t code, const char *reason)
{
	struct qt_conn *c = conn_state;
	if (c->core_closed)
		return;
	c->core_closed = 1;
	QT_LOG(c->p, PROXYD_LOG_DEBUG, c->conn_id, "closing the connection with %s: %s (code %u)",
	       c->peer, reason ? reason : "", code);
	/* the engine's conn_closed frees the state later, without a host call */
	if (c->qc)
		quic_conn_close(c->qc, code, reason);
}

int qt_conn_stats(void *conn_state, struct proxyd_conn_stats *out)
{
	struct qt_conn *c = conn_state;
	if (!c->qc)
		return -ENOTCONN;
	struct quic_conn_stats st;
	quic_conn_get_stats(c->qc, &st);
	char local[QT_ADDR_TEXT_MAX] = "?", remote[QT_ADDR_TEXT_MAX] = "?";
	struct sockaddr_storage ss;
	socklen_t len;
	if (quic_conn_local_addr(c->qc, &ss, &len) == 0)
		qt_sockaddr_format((struct sockaddr *)&ss, local, sizeof local);
	if (quic_conn_peer_addr(c->qc, &ss, &len) == 0)
		qt_sockaddr_format((struct sockaddr *)&ss, remote, sizeof remote);
	/* only what the core's struct has room for (out->size is its size) */
#define FITS(field) (out->size >= offsetof(struct proxyd_conn_stats, field) + sizeof out->field)
	if (FITS(rtt_us))
		out->rtt_us = st.rtt_us;
	if (FITS(bytes_sent))
		out->bytes_sent = st.bytes_sent;
	if (FITS(bytes_received))
		out->bytes_received = st.bytes_recv;
	if (FITS(packets_lost))
		out->packets_lost = st.pkts_lost;
	if (FITS(path))
		/* the arrow points from the side that dialed; a direct path between agents was
		 * opened by both */
		snprintf(out->path, sizeof out->path, "%sudp %s %s %s", c->direct ? "direct " : "",
			 local, c->direct ? "<->" : c->server ? "<-" : "->", remote);
#undef FITS
	return 0;
}
